/* The APIs syncrun serves: the native /v1 API and the vendor dialects, as route tables
 * over the HTTP layer. Each dialect is one file; routes.c lists every route. */
#ifndef SYNCRUN_API_API_H
#define SYNCRUN_API_API_H

#include "http/http.h"

extern const http_route_t api_routes[];
extern const size_t api_route_count;
extern const http_dialect_t native_dialect;
extern const http_dialect_t census_dialect;
extern const http_dialect_t itwin_dialect;
extern const http_dialect_t braze_dialect;
extern const http_dialect_t blueconic_dialect;
extern const http_dialect_t blueconic_oauth_dialect;
extern const http_dialect_t ping_dialect;

/* metrics.c: GET /metrics (Prometheus) */
int api_metrics(http_ctx_t *c);

/* ping.c: healthchecks.io-style pings, and the ping key of a connection */
int ping_receive(http_ctx_t *c);
int native_connection_ping_key(http_ctx_t *c);

/* native: connections.c */
int native_connection_create(http_ctx_t *c);
int native_connection_list(http_ctx_t *c);
int native_connection_get(http_ctx_t *c);
int native_connection_update(http_ctx_t *c);
int native_connection_delete(http_ctx_t *c);
/* native: stats.c (statistics from the hourly rollups, and the workspace overview) */
int native_connection_stats(http_ctx_t *c);
int native_overview(http_ctx_t *c);
/* native: retention.c (the workspace's retention policy) */
int native_retention_get(http_ctx_t *c);
int native_retention_update(http_ctx_t *c);
/* native: runs.c */
int native_run_trigger(http_ctx_t *c);
int native_run_list(http_ctx_t *c);
int native_run_get(http_ctx_t *c);
int native_run_update(http_ctx_t *c);
int native_run_finish(http_ctx_t *c);
int native_run_cancel(http_ctx_t *c);
int native_run_events(http_ctx_t *c);
int native_alert_list(http_ctx_t *c);
int native_connection_alerts(http_ctx_t *c);
int native_run_log_get(http_ctx_t *c);
int native_run_log_append(http_ctx_t *c);
/* Shared by the trigger routes (native, Census, Braze), defined in runs.c. api_trigger_begin
 * checks the Idempotency-Key header (answers 400 and returns NULL when it is malformed) and returns
 * a write of OP_RUN_TRIGGER for connection cn, with the key and the SHA-256 of `fingerprint` (the
 * request as the route sees it, to detect a key reused for another request). api_trigger_defaults
 * fills the trigger's tag ("API") and detail (which key) when the route set none. */
store_write_t *api_trigger_begin(http_ctx_t *c, const connection_t *cn, const char *fingerprint, size_t len);
void api_trigger_defaults(http_ctx_t *c, store_trigger_t *t);
/* native: whoami.c */
int native_whoami(http_ctx_t *c);
/* web.c: the dashboard's files */
int web_index(http_ctx_t *c);
int web_file(http_ctx_t *c);
/* native: import.c */
int native_run_import(http_ctx_t *c);
/* native: jobs.c */
int native_job_list(http_ctx_t *c);
int native_job_create(http_ctx_t *c);
int native_job_update(http_ctx_t *c);
int native_task_create(http_ctx_t *c);
int native_task_update(http_ctx_t *c);
/* native: webhooks.c */
int native_webhook_create(http_ctx_t *c);
int native_webhook_list(http_ctx_t *c);
int native_webhook_get(http_ctx_t *c);
int native_webhook_update(http_ctx_t *c);
int native_webhook_delete(http_ctx_t *c);
int native_webhook_test(http_ctx_t *c);
int native_delivery_list(http_ctx_t *c);
int native_delivery_get(http_ctx_t *c);
int native_delivery_redeliver(http_ctx_t *c);
/* Whether webhook URLs may point to private, loopback, link-local... addresses (serve
 * --webhooks-allow-private); set once before serving. */
void api_webhooks_configure(int allow_private_targets);
/* The dispatcher's renderer (exec/webhook.h webhook_render_fn): the body of delivery d, in the native
 * shapes: {"type", "timestamp", "data": {"workspace_id", "connection", "run", "alert", "summary"}}. */
int api_webhook_render(void *ctx, store_reader_t *r, const webhook_delivery_t *d, buf_t *out);
/* census.c */
int census_sync_runs(http_ctx_t *c);
int census_sync_run(http_ctx_t *c);
int census_sync_trigger(http_ctx_t *c);
int census_sync_list(http_ctx_t *c);
int census_sync_get(http_ctx_t *c);
int census_source_get(http_ctx_t *c);
int census_destination_get(http_ctx_t *c);
/* itwin.c */
int itwin_runs_list(http_ctx_t *c);
int itwin_run_get(http_ctx_t *c);
/* itwin_runs.c */
int itwin_run_create(http_ctx_t *c);
int itwin_connection_list(http_ctx_t *c);
int itwin_connection_get(http_ctx_t *c);
/* braze.c */
int braze_job_sync_status(http_ctx_t *c);
int braze_integration_sync(http_ctx_t *c);
int braze_integration_list(http_ctx_t *c);
/* blueconic.c */
int blueconic_connection_runs(http_ctx_t *c);
int blueconic_connection_list(http_ctx_t *c);
int blueconic_connection_get(http_ctx_t *c);
/* blueconic_oauth.c */
int blueconic_oauth_token(http_ctx_t *c);
/* health */
int api_healthz(http_ctx_t *c);
/* openapi.c: GET /openapi.yaml, the document embedded at build time */
int api_openapi(http_ctx_t *c);
/* openapi.c: GET /rest/v2/openapi.json, what syncrun serves of BlueConic's API (docs/blueconic-openapi.json) */
int api_blueconic_openapi(http_ctx_t *c);

#endif
