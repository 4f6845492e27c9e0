/* The native API's JSON shapes of the model, and helpers shared by the handlers. */
#ifndef SYNCRUN_API_RENDER_H
#define SYNCRUN_API_RENDER_H

#include <jansson.h>

#include "api/input.h"
#include "util/buf.h"
#include "http/http.h"
#include "model/run.h"
#include "store/store.h"

/* New references; the caller owns them. */
json_t *render_time(int64_t ms);   /* ISO 8601 string, or null for 0 */
json_t *render_str(const char *s); /* string, or null */
json_t *render_connection(const connection_t *cn);
/* render_run: NULL only when out of memory (a run at its limits renders well under RENDER_RUN_MAX). */
json_t *render_run(const run_t *r);
/* The same JSON as render_run, appended to b (the fast path the API answers with). */
void render_run_buf(buf_t *b, const run_t *r);
/* Appends the stored JSON text `text` (a task's error, kept as jansson wrote it) as an answer's
 * value: copied when it is in jansson's compact form (jw_canonical), else parsed and dumped as
 * jansson writes it. Returns 1 when written, 0 when nothing was (NULL text, not JSON, or with
 * object_only not an object). */
int render_json_text(buf_t *b, const char *text, int object_only);
/* A rendering found in the render cache (api/rcache.h), kept for the rest of a request: a copy in
 * its arena, since a later rcache_put may evict the cache's own. */
typedef struct render_hit {
    const char *data; /* NULL: not in the cache */
    size_t len;
} render_hit_t;
/* Keeps data[0..len) (NULL: none) in h, copied into a. */
void render_hit_keep(arena_t *a, render_hit_t *h, const char *data, size_t len);
/* Answers status with b (a JSON document), then releases b. Returns 0. */
int render_send_buf(http_ctx_t *c, int status, buf_t *b);
/* A run's JSON is at most this long (its texts are bounded). */
#define RENDER_RUN_MAX (1024 * 1024)
/* A job with its tasks; "tasks_more": true when j lists only its first tasks. */
json_t *render_job(const job_t *j);
/* An answer embeds at most this many tasks (a job without tasks counting as one) and about this
 * many bytes of their texts (native job pages, iTwin representations): building one takes a few
 * tens of milliseconds of an event loop, not seconds. */
enum { RENDER_JOBS_UNITS = 2000, RENDER_JOBS_TEXT_BYTES = 1024 * 1024 };
json_t *render_event(const run_event_t *e);
/* A webhook (never its secret) and a delivery, as the native API shows them (webhooks.c). */
json_t *render_webhook(const webhook_t *h);
json_t *render_delivery(const webhook_delivery_t *d);
json_t *render_alert(const alert_t *al);

/* A keyset page: {"data": data, "next_cursor": the cursor of `last` when there is more, else
 * null}. Takes data. */
json_t *render_page(json_t *data, int more, int64_t last);

/* Opaque keyset cursors: encode a position, decode one (0 on success, -1 if malformed). */
void render_cursor(char out[32], int64_t position);
int parse_cursor(const char *s, int64_t *position);

/* Resolves the connection named by path parameter i (integer id or UUID) in the caller's
 * workspace. On failure answers 404 (or 500) and returns -1. */
int api_load_connection(http_ctx_t *c, int i, connection_t *out);
/* Same for a run. */
int api_load_run(http_ctx_t *c, int i, run_t *out);
/* The connections of the caller's workspace from position skip (0-based, in id order), at most
 * limit, for the dialects that page by offset (BlueConic startIndex, iTwin $skip). Costs a read of
 * the skipped connections (a workspace has few), never of runs. *n may be below limit at the end.
 * On failure answers the store error and returns -1. */
int api_connection_slice(http_ctx_t *c, int64_t skip, int limit, connection_t **out, int *n);
/* The integer id of the run named by path parameter i, without reading it when the parameter is
 * the integer id (a write checks the run anyway: it answers 404 itself); a UUID is looked up. On
 * failure answers 404 and returns -1. */
int api_run_id(http_ctx_t *c, int i, int64_t *id);
/* Answers the error a failed store write (or read) means, in the route's dialect. */
int api_store_error(http_ctx_t *c, store_err_t e, const char *field);
/* Answers the 400 an input error describes. */
int api_input_error(http_ctx_t *c, const input_t *in);
/* Parses query parameter `name` as an integer in [min, max]; absent → def. On a bad value answers
 * 400 naming the parameter and returns -1. */
int api_query_int(http_ctx_t *c, const char *name, int64_t min, int64_t max, int64_t def, int64_t *out);
/* Parses query parameter `name` as a time: an ISO 8601 / RFC 3339 time, or with accept_ms also
 * integer milliseconds since the epoch. Absent → *out = 0. On a bad value answers 400 naming the
 * parameter and returns -1. */
int api_query_time(http_ctx_t *c, const char *name, int accept_ms, int64_t *out);

#endif
