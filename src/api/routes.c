/* Every route syncrun answers, with the dialect that shapes its errors and the scope it needs.
 * Adding a dialect: one file with its handlers and dialect, and its lines here. */
#include "api/api.h"
#include "api/render.h"

static void native_send_error(http_ctx_t *c, int status, const char *code, const char *message, const char *field)
{
    json_t *err = json_pack("{s:s, s:s}", "code", code ? code : "error", "message", message);
    if (field != NULL)
        json_object_set_new(err, "field", json_string(field));
    http_send_json(c, status, json_pack("{s:o}", "error", err));
}

const http_dialect_t native_dialect = {"native", native_send_error};

int api_healthz(http_ctx_t *c)
{
    return http_send_json(c, 200, json_pack("{s:s}", "status", "ok"));
}

/* Ready to serve writes: the database is writable and at this syncrun's schema. 503 with the reason
 * otherwise, so that a load balancer or orchestrator stops sending traffic. */
static int api_readyz(http_ctx_t *c)
{
    char why[256];
    if (store_ready(c->store, why, sizeof(why)) != 0)
        return http_send_json(c, 503, json_pack("{s:s, s:s}", "status", "not_ready", "reason", why));
    return http_send_json(c, 200, json_pack("{s:s}", "status", "ready"));
}

#define R(method, pattern, dialect, scope, handler)                                                                    \
    {                                                                                                                  \
        method, pattern, &(dialect), 1, scope, handler, 0                                                              \
    }

/* A route whose literal segments match in any letter case (iTwin's, as Bentley's paths do). */
#define RNOCASE(method, pattern, dialect, scope, handler)                                                              \
    {                                                                                                                  \
        method, pattern, &(dialect), 1, scope, handler, 1                                                              \
    }

const http_route_t api_routes[] = {
    {"GET", "/healthz", &native_dialect, 0, SCOPE_RUNS_READ, api_healthz, 0},
    {"GET", "/readyz", &native_dialect, 0, SCOPE_RUNS_READ, api_readyz, 0},
    {"GET", "/metrics", &native_dialect, HTTP_AUTH_METRICS, SCOPE_METRICS_READ, api_metrics, 0},
    {"GET", "/openapi.yaml", &native_dialect, 0, SCOPE_RUNS_READ, api_openapi, 0},
    R("GET", "/v1/whoami", native_dialect, SCOPE_RUNS_READ, native_whoami),

    R("GET", "/v1/connections", native_dialect, SCOPE_RUNS_READ, native_connection_list),
    R("POST", "/v1/connections", native_dialect, SCOPE_ADMIN, native_connection_create),
    R("GET", "/v1/connections/:id", native_dialect, SCOPE_RUNS_READ, native_connection_get),
    R("PATCH", "/v1/connections/:id", native_dialect, SCOPE_ADMIN, native_connection_update),
    R("DELETE", "/v1/connections/:id", native_dialect, SCOPE_ADMIN, native_connection_delete),
    R("POST", "/v1/connections/:id/ping-key", native_dialect, SCOPE_ADMIN, native_connection_ping_key),
    R("GET", "/v1/connections/:id/alerts", native_dialect, SCOPE_RUNS_READ, native_connection_alerts),
    R("GET", "/v1/alerts", native_dialect, SCOPE_RUNS_READ, native_alert_list),
    R("GET", "/v1/connections/:id/runs", native_dialect, SCOPE_RUNS_READ, native_run_list),
    R("GET", "/v1/connections/:id/stats", native_dialect, SCOPE_RUNS_READ, native_connection_stats),
    R("GET", "/v1/overview", native_dialect, SCOPE_RUNS_READ, native_overview),
    R("GET", "/v1/workspace/retention", native_dialect, SCOPE_ADMIN, native_retention_get),
    R("PATCH", "/v1/workspace/retention", native_dialect, SCOPE_ADMIN, native_retention_update),
    R("POST", "/v1/connections/:id/runs", native_dialect, SCOPE_RUNS_WRITE, native_run_trigger),
    R("POST", "/v1/connections/:id/runs:import", native_dialect, SCOPE_RUNS_WRITE, native_run_import),
    R("GET", "/v1/runs/:id", native_dialect, SCOPE_RUNS_READ, native_run_get),
    R("PATCH", "/v1/runs/:id", native_dialect, SCOPE_RUNS_WRITE, native_run_update),
    R("POST", "/v1/runs/:id/finish", native_dialect, SCOPE_RUNS_WRITE, native_run_finish),
    R("POST", "/v1/runs/:id/cancel", native_dialect, SCOPE_RUNS_WRITE, native_run_cancel),
    R("GET", "/v1/runs/:id/events", native_dialect, SCOPE_RUNS_READ, native_run_events),
    R("GET", "/v1/runs/:id/log", native_dialect, SCOPE_RUNS_READ, native_run_log_get),
    R("POST", "/v1/runs/:id/log", native_dialect, SCOPE_RUNS_WRITE, native_run_log_append),
    R("GET", "/v1/runs/:id/jobs", native_dialect, SCOPE_RUNS_READ, native_job_list),
    R("POST", "/v1/runs/:id/jobs", native_dialect, SCOPE_RUNS_WRITE, native_job_create),
    R("PATCH", "/v1/runs/:id/jobs/:job", native_dialect, SCOPE_RUNS_WRITE, native_job_update),
    R("POST", "/v1/runs/:id/jobs/:job/tasks", native_dialect, SCOPE_RUNS_WRITE, native_task_create),
    R("PATCH", "/v1/runs/:id/jobs/:job/tasks/:task", native_dialect, SCOPE_RUNS_WRITE, native_task_update),
    R("GET", "/v1/webhooks", native_dialect, SCOPE_ADMIN, native_webhook_list),
    R("POST", "/v1/webhooks", native_dialect, SCOPE_ADMIN, native_webhook_create),
    R("GET", "/v1/webhooks/:id", native_dialect, SCOPE_ADMIN, native_webhook_get),
    R("PATCH", "/v1/webhooks/:id", native_dialect, SCOPE_ADMIN, native_webhook_update),
    R("DELETE", "/v1/webhooks/:id", native_dialect, SCOPE_ADMIN, native_webhook_delete),
    R("POST", "/v1/webhooks/:id/test", native_dialect, SCOPE_ADMIN, native_webhook_test),
    R("GET", "/v1/webhooks/:id/deliveries", native_dialect, SCOPE_ADMIN, native_delivery_list),
    R("GET", "/v1/webhooks/:id/deliveries/:delivery", native_dialect, SCOPE_ADMIN, native_delivery_get),
    R("POST", "/v1/webhooks/:id/deliveries/:delivery/redeliver", native_dialect, SCOPE_ADMIN,
      native_delivery_redeliver),

    R("GET", "/api/v1/syncs/:sync_id/sync_runs", census_dialect, SCOPE_RUNS_READ, census_sync_runs),
    R("GET", "/api/v1/sync_runs/:id", census_dialect, SCOPE_RUNS_READ, census_sync_run),
    R("POST", "/api/v1/syncs/:sync_id/trigger", census_dialect, SCOPE_RUNS_WRITE, census_sync_trigger),
    R("GET", "/api/v1/syncs", census_dialect, SCOPE_RUNS_READ, census_sync_list),
    R("GET", "/api/v1/syncs/:sync_id", census_dialect, SCOPE_RUNS_READ, census_sync_get),
    R("GET", "/api/v1/sources/:id", census_dialect, SCOPE_RUNS_READ, census_source_get),
    R("GET", "/api/v1/destinations/:id", census_dialect, SCOPE_RUNS_READ, census_destination_get),

    R("GET", "/connections/:connection/runs", blueconic_dialect, SCOPE_RUNS_READ, blueconic_connection_runs),
    R("GET", "/connections", blueconic_dialect, SCOPE_RUNS_READ, blueconic_connection_list),
    R("GET", "/connections/:connection", blueconic_dialect, SCOPE_RUNS_READ, blueconic_connection_get),
    R("GET", "/rest/v2/connections/:connection/runs", blueconic_dialect, SCOPE_RUNS_READ, blueconic_connection_runs),
    R("GET", "/rest/v2/connections", blueconic_dialect, SCOPE_RUNS_READ, blueconic_connection_list),
    R("GET", "/rest/v2/connections/:connection", blueconic_dialect, SCOPE_RUNS_READ, blueconic_connection_get),
    {"POST", "/rest/v2/oauth/token", &blueconic_oauth_dialect, 0, SCOPE_RUNS_READ, blueconic_oauth_token, 0},
    {"GET", "/rest/v2/openapi.json", &blueconic_dialect, 0, SCOPE_RUNS_READ, api_blueconic_openapi, 0},

    RNOCASE("GET", "/synchronization/imodels/manifestconnections/:connectionId/runs", itwin_dialect, SCOPE_RUNS_READ,
            itwin_runs_list),
    RNOCASE("GET", "/synchronization/imodels/manifestconnections/:connectionId/runs/:runId", itwin_dialect,
            SCOPE_RUNS_READ, itwin_run_get),
    RNOCASE("POST", "/synchronization/imodels/manifestconnections/:connectionId/runs", itwin_dialect, SCOPE_RUNS_WRITE,
            itwin_run_create),
    RNOCASE("GET", "/synchronization/imodels/manifestconnections", itwin_dialect, SCOPE_RUNS_READ,
            itwin_connection_list),
    RNOCASE("GET", "/synchronization/imodels/manifestconnections/:connectionId", itwin_dialect, SCOPE_RUNS_READ,
            itwin_connection_get),
    RNOCASE("GET", "/synchronization/imodels/storageconnections/:connectionId/runs", itwin_dialect, SCOPE_RUNS_READ,
            itwin_runs_list),
    RNOCASE("GET", "/synchronization/imodels/storageconnections/:connectionId/runs/:runId", itwin_dialect,
            SCOPE_RUNS_READ, itwin_run_get),
    RNOCASE("POST", "/synchronization/imodels/storageconnections/:connectionId/run", itwin_dialect, SCOPE_RUNS_WRITE,
            itwin_run_create),
    RNOCASE("GET", "/synchronization/imodels/storageconnections", itwin_dialect, SCOPE_RUNS_READ,
            itwin_connection_list),
    RNOCASE("GET", "/synchronization/imodels/storageconnections/:connectionId", itwin_dialect, SCOPE_RUNS_READ,
            itwin_connection_get),
    RNOCASE("GET", "/synchronization/imodels/connections", itwin_dialect, SCOPE_RUNS_READ, itwin_connection_list),

    R("GET", "/cdi/integrations/:integration_id/job_sync_status", braze_dialect, SCOPE_RUNS_READ,
      braze_job_sync_status),
    R("POST", "/cdi/integrations/:integration_id/sync", braze_dialect, SCOPE_RUNS_WRITE, braze_integration_sync),
    R("GET", "/cdi/integrations", braze_dialect, SCOPE_RUNS_READ, braze_integration_list),

    /* pings: the ping key in the path is the credential */
    {"GET", "/ping/:key", &ping_dialect, 0, SCOPE_RUNS_WRITE, ping_receive, 0},
    {"POST", "/ping/:key", &ping_dialect, 0, SCOPE_RUNS_WRITE, ping_receive, 0},
    {"GET", "/ping/:key/:action", &ping_dialect, 0, SCOPE_RUNS_WRITE, ping_receive, 0},
    {"POST", "/ping/:key/:action", &ping_dialect, 0, SCOPE_RUNS_WRITE, ping_receive, 0},

    /* The dashboard: public files; the page sends the user's key to the API itself. Last: an
     * unknown path answers in the dialect of the first route sharing its first segment, and "/"
     * shares every path's. */
    {"GET", "/ui", &native_dialect, 0, SCOPE_RUNS_READ, web_index, 0},
    {"GET", "/ui/:file", &native_dialect, 0, SCOPE_RUNS_READ, web_file, 0},
    {"GET", "/", &native_dialect, 0, SCOPE_RUNS_READ, web_index, 0},
};

const size_t api_route_count = sizeof(api_routes) / sizeof(api_routes[0]);
