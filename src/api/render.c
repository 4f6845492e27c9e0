/* Native JSON rendering, cursors, and the lookups and error answers every native handler shares. */
#include "api/render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/expectations.h"
#include "api/runconfig.h"
#include "model/expect.h"
#include "util/ids.h"
#include "util/jsonw.h"
#include "util/timeutil.h"

json_t *render_time(int64_t ms)
{
    if (ms == 0)
        return json_null();
    char iso[TIME_ISO_LEN];
    time_format_iso(ms, iso);
    return json_string(iso);
}

json_t *render_str(const char *s)
{
    /* json_string refuses invalid UTF-8; input is checked on the way in, but never drop a field */
    json_t *j = s != NULL ? json_string(s) : NULL;
    return j != NULL ? j : json_null();
}

json_t *render_connection(const connection_t *cn)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(cn->id));
    json_object_set_new(o, "uuid", json_string(cn->uuid));
    json_object_set_new(o, "name", render_str(cn->name));
    json_object_set_new(o, "source", render_str(cn->source));
    json_object_set_new(o, "destination", render_str(cn->destination));
    json_object_set_new(o, "connector_type", render_str(cn->connector_type));
    json_object_set_new(o, "overlap", json_string(overlap_name(cn->overlap)));
    json_object_set_new(o, "run_count", json_integer(cn->run_count));
    json_object_set_new(o, "created_at", render_time(cn->created_at));
    json_object_set_new(o, "updated_at", render_time(cn->updated_at));
    runconfig_render(o, cn);
    const int64_t ret[3] = {cn->retention_days, cn->retention_keep_last, cn->retention_failure_days};
    static const char *const ret_keys[3] = {"retention_days", "retention_keep_last", "retention_failure_days"};
    for (int i = 0; i < 3; i++)
        json_object_set_new(o, ret_keys[i], ret[i] == RETENTION_INHERIT ? json_null() : json_integer(ret[i]));
    json_object_set_new(o, "runs_pruned", json_integer(cn->runs_pruned));
    expectations_render(o, cn);
    return o;
}

void render_run_buf(buf_t *b, const run_t *r)
{
    JW_LIT(b, "{\"id\":");
    jw_int(b, r->id);
    JW_LIT(b, ",\"uuid\":");
    jw_str(b, r->uuid);
    JW_LIT(b, ",\"connection_id\":");
    jw_int(b, r->connection_id);
    JW_LIT(b, ",\"connection_uuid\":");
    jw_str(b, r->connection_uuid);
    JW_LIT(b, ",\"run_count\":");
    jw_int(b, r->run_count);
    JW_LIT(b, ",\"state\":");
    jw_str(b, run_state_name(r->state));
    JW_LIT(b, ",\"result\":");
    jw_str(b, run_result_name(r->result));
    JW_LIT(b, ",\"attempt\":");
    jw_int(b, r->attempt);
    JW_LIT(b, ",\"created_at\":");
    jw_time(b, r->created_at);
    JW_LIT(b, ",\"updated_at\":");
    jw_time(b, r->updated_at);
    JW_LIT(b, ",\"scheduled_at\":");
    jw_time(b, r->scheduled_at);
    JW_LIT(b, ",\"started_at\":");
    jw_time(b, r->started_at);
    JW_LIT(b, ",\"completed_at\":");
    jw_time(b, r->completed_at);
    JW_LIT(b, ",\"trigger\":{\"tag\":");
    jw_str(b, r->trigger_tag);
    JW_LIT(b, ",\"detail\":");
    jw_str(b, r->trigger_detail);
    JW_LIT(b, "},\"full_sync\":");
    jw_bool(b, r->full_sync);
    JW_LIT(b, ",\"current_step\":");
    jw_str(b, r->current_step);
    JW_LIT(b, ",\"counters\":{");
    for (int i = 0; i < CTR_COUNT; i++) {
        if (i > 0)
            JW_LIT(b, ",");
        jw_str(b, counter_name((counter_t)i));
        JW_LIT(b, ":");
        jw_int(b, r->counters[i]);
    }
    JW_LIT(b, "},\"last_timestamp_synced\":");
    jw_time(b, r->watermark);
    JW_LIT(b, ",\"message\":");
    jw_str(b, r->message);
    JW_LIT(b, ",\"error\":");
    if (r->error_code != NULL || r->error_message != NULL || r->error_detail != NULL) {
        JW_LIT(b, "{\"code\":");
        jw_str(b, r->error_code);
        JW_LIT(b, ",\"message\":");
        jw_str(b, r->error_message);
        JW_LIT(b, ",\"detail\":");
        jw_str(b, r->error_detail);
        JW_LIT(b, "}");
    } else {
        JW_LIT(b, "null");
    }
    JW_LIT(b, ",\"version\":");
    jw_int(b, r->version);
    JW_LIT(b, ",\"flags\":[");
    for (int i = 0, n = 0; i < RUN_FLAG_COUNT; i++)
        if (r->flags & (1u << i)) {
            if (n++ > 0)
                JW_LIT(b, ",");
            jw_str(b, run_flag_name(i));
        }
    JW_LIT(b, "]}");
}

json_t *render_run(const run_t *r)
{
    /* One renderer: the tree is parsed from the bytes the API sends. */
    buf_t b = BUF_INIT(RENDER_RUN_MAX);
    render_run_buf(&b, r);
    json_t *o = buf_failed(&b) ? NULL : json_loadb(b.data, b.len, 0, NULL);
    buf_release(&b);
    return o;
}

static json_t *render_task(const task_t *t)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(t->uuid));
    json_object_set_new(o, "state", json_string(run_state_name(t->state)));
    json_object_set_new(o, "result", render_str(run_result_name(t->result)));
    json_object_set_new(o, "source_file_id", render_str(t->source_file_id));
    json_object_set_new(o, "retry_attempts", json_integer(t->retry_attempts));
    json_object_set_new(o, "started_at", render_time(t->started_at));
    json_object_set_new(o, "ended_at", render_time(t->ended_at));
    json_t *err = t->error_json ? json_loads(t->error_json, 0, NULL) : NULL;
    json_object_set_new(o, "error", err ? err : json_null());
    if (t->has_report)
        json_object_set_new(o, "report",
                            json_pack("{s:o, s:o, s:I, s:I, s:I}", "message", render_str(t->report_message),
                                      "suggested_action", render_str(t->report_suggested_action), "errors",
                                      (json_int_t)t->report_errors, "warnings", (json_int_t)t->report_warnings, "other",
                                      (json_int_t)t->report_other));
    else
        json_object_set_new(o, "report", json_null());
    return o;
}

json_t *render_job(const job_t *j)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(j->uuid));
    json_object_set_new(o, "name", render_str(j->name));
    json_object_set_new(o, "connector_type", render_str(j->connector_type));
    json_object_set_new(o, "phase", render_str(j->phase));
    json_object_set_new(o, "state", json_string(run_state_name(j->state)));
    json_object_set_new(o, "result", render_str(run_result_name(j->result)));
    json_object_set_new(o, "started_at", render_time(j->started_at));
    json_object_set_new(o, "ended_at", render_time(j->ended_at));
    json_t *tasks = json_array();
    for (int i = 0; i < j->ntasks; i++)
        json_array_append_new(tasks, render_task(&j->tasks[i]));
    json_object_set_new(o, "tasks", tasks);
    if (j->tasks_more)
        json_object_set_new(o, "tasks_more", json_true());
    return o;
}

json_t *render_event(const run_event_t *e)
{
    json_t *data = e->data ? json_loads(e->data, 0, NULL) : NULL;
    return json_pack("{s:I, s:o, s:s, s:o}", "id", (json_int_t)e->id, "at", render_time(e->at), "kind", e->kind, "data",
                     data ? data : json_object());
}

json_t *render_alert(const alert_t *al)
{
    json_t *data = al->data ? json_loads(al->data, 0, NULL) : NULL;
    return json_pack("{s:I, s:s, s:I, s:o, s:o, s:o}", "id", (json_int_t)al->id, "event", al->event, "connection_id",
                     (json_int_t)al->connection_id, "run_id", al->run_id ? json_integer(al->run_id) : json_null(), "at",
                     render_time(al->at), "data", data ? data : json_object());
}

/* A cursor is base64url("p:" + decimal position): opaque to clients, checked strictly here. */
void render_cursor(char out[32], int64_t position)
{
    char raw[24];
    int n = snprintf(raw, sizeof(raw), "p:%lld", (long long)position);
    ids_b64url_encode(raw, (size_t)n, out);
}

int parse_cursor(const char *s, int64_t *position)
{
    char raw[24];
    size_t len = strlen(s);
    if (len == 0 || len > 30)
        return -1;
    long n = ids_b64url_decode(s, len, raw, sizeof(raw) - 1);
    if (n < 3 || raw[0] != 'p' || raw[1] != ':')
        return -1;
    return ids_parse_i64(raw + 2, (size_t)n - 2, 1, INT64_MAX, position);
}

int api_store_error(http_ctx_t *c, store_err_t e, const char *field)
{
    switch (e) {
    case STORE_NOT_FOUND:
        return http_error(c, 404, "not_found", field ? "no such object" : "not found", field);
    case STORE_FINISHED:
        return http_error(c, 409, "run_finished", "the run is finished; a finished run cannot change", NULL);
    case STORE_BAD_STATE:
        return http_error(c, 409, "invalid_transition", "the run's state machine does not allow this change", field);
    case STORE_IDEM_REUSED:
        return http_error(c, 422, "idempotency_key_reused",
                          "this Idempotency-Key was already used with a different request body", "Idempotency-Key");
    case STORE_EXISTS:
        return http_error(c, 409, "conflict", "a unique value is already taken", field);
    default:
        return http_error(c, 500, "internal", "the database failed; the change was not recorded, retry later", NULL);
    }
}

int api_input_error(http_ctx_t *c, const input_t *in)
{
    return http_error(c, 400, in->code ? in->code : "invalid_field", in->message, in->field);
}

int api_query_int(http_ctx_t *c, const char *name, int64_t min, int64_t max, int64_t def, int64_t *out)
{
    const char *v = http_query(c, name);
    if (v == NULL) {
        *out = def;
        return 0;
    }
    if (ids_parse_i64(v, strlen(v), min, max, out) != 0) {
        char msg[160];
        snprintf(msg, sizeof(msg), "%s must be an integer from %lld to %lld", name, (long long)min, (long long)max);
        http_error(c, 400, "invalid_query", msg, name);
        return -1;
    }
    return 0;
}

/* The last millisecond of year 9999: later times have no ISO 8601 form here. */
#define QUERY_TIME_MAX INT64_C(253402300799999)

int api_query_time(http_ctx_t *c, const char *name, int accept_ms, int64_t *out)
{
    const char *v = http_query(c, name);
    *out = 0;
    if (v == NULL)
        return 0;
    if (accept_ms && ids_parse_i64(v, strlen(v), 1, QUERY_TIME_MAX, out) == 0)
        return 0;
    if (time_parse_iso(v, out) != 0 || *out <= 0 || *out > QUERY_TIME_MAX) {
        char msg[200];
        snprintf(msg, sizeof(msg), "%s must be %san ISO 8601 time such as 2026-01-31T12:00:00Z (encode '+' as %%2B)",
                 name, accept_ms ? "milliseconds since the epoch or " : "");
        http_error(c, 400, "invalid_query", msg, name);
        *out = 0;
        return -1;
    }
    return 0;
}

int api_load_connection(http_ctx_t *c, int i, connection_t *out)
{
    const char *p = c->params[i];
    char uuid[IDS_UUID_LEN];
    int64_t id;
    store_err_t e;
    if (ids_uuid_normalize(p, uuid) == 0)
        e = store_connection_get_uuid(c->reader, c->key.workspace_id, uuid, &c->arena, out);
    else if (ids_parse_i64(p, strlen(p), 1, INT64_MAX, &id) == 0)
        e = store_connection_get(c->reader, c->key.workspace_id, id, &c->arena, out);
    else
        e = STORE_NOT_FOUND;
    if (e == STORE_OK)
        return 0;
    if (e == STORE_NOT_FOUND)
        http_error(c, 404, "not_found", "no such connection", NULL);
    else
        api_store_error(c, e, NULL);
    return -1;
}

int api_load_run(http_ctx_t *c, int i, run_t *out)
{
    const char *p = c->params[i];
    char uuid[IDS_UUID_LEN];
    int64_t id;
    store_err_t e;
    if (ids_uuid_normalize(p, uuid) == 0)
        e = store_run_get_uuid(c->reader, c->key.workspace_id, uuid, &c->arena, out);
    else if (ids_parse_i64(p, strlen(p), 1, INT64_MAX, &id) == 0)
        e = store_run_get(c->reader, c->key.workspace_id, id, &c->arena, out);
    else
        e = STORE_NOT_FOUND;
    if (e == STORE_OK && c->key.run_id != 0 && out->id != c->key.run_id)
        e = STORE_NOT_FOUND; /* a run's own token sees no other run */
    if (e == STORE_OK)
        return 0;
    if (e == STORE_NOT_FOUND)
        http_error(c, 404, "not_found", "no such run", NULL);
    else
        api_store_error(c, e, NULL);
    return -1;
}

int render_json_text(buf_t *b, const char *text, int object_only)
{
    int kind = jw_canonical(text);
    if (kind != 0) {
        if (object_only && kind != '{')
            return 0;
        buf_adds(b, text);
        return 1;
    }
    json_t *v = text != NULL ? json_loads(text, 0, NULL) : NULL;
    int ok = v != NULL && (!object_only || json_is_object(v));
    if (ok) {
        size_t n = json_dumpb(v, NULL, 0, JSON_COMPACT);
        char *p = malloc(n ? n : 1);
        ok = p != NULL && json_dumpb(v, p, n, JSON_COMPACT) == n;
        if (ok)
            buf_add(b, p, n);
        free(p);
    }
    json_decref(v);
    return ok;
}

void render_hit_keep(arena_t *a, render_hit_t *h, const char *data, size_t len)
{
    h->data = NULL;
    h->len = 0;
    if (data == NULL)
        return;
    char *copy = arena_alloc(a, len ? len : 1);
    memcpy(copy, data, len);
    h->data = copy;
    h->len = len;
}

int render_send_buf(http_ctx_t *c, int status, buf_t *b)
{
    buf_add(b, "\n", 1);
    if (buf_failed(b)) { /* never send a cut document */
        buf_release(b);
        return http_error(c, 500, "response_too_large", "the answer grew past its size limit; ask for fewer items",
                          NULL);
    }
    /* the answer takes the buffer's memory over: no copy */
    char *body = b->data;
    size_t len = b->len;
    b->data = NULL;
    b->len = b->alloc = 0;
    http_send_owned(c, status, "application/json", body, len);
    return 0;
}

int api_run_id(http_ctx_t *c, int i, int64_t *id)
{
    const char *p = c->params[i];
    if (ids_parse_i64(p, strlen(p), 1, INT64_MAX, id) == 0) {
        if (c->key.run_id == 0 || *id == c->key.run_id)
            return 0;
        http_error(c, 404, "not_found", "no such run", NULL); /* a run's own token sees no other run */
        return -1;
    }
    run_t r;
    if (api_load_run(c, i, &r) != 0)
        return -1;
    *id = r.id;
    return 0;
}

json_t *render_page(json_t *data, int more, int64_t last)
{
    json_t *next = json_null();
    if (more) {
        char cur[32];
        render_cursor(cur, last);
        json_decref(next);
        next = json_string(cur);
    }
    return json_pack("{s:o, s:o}", "data", data, "next_cursor", next);
}
