/* Native API: runs (trigger, read with long-poll, update, finish, cancel, list, events). */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/render.h"
#include "util/log.h"
#include "util/ids.h"
#include "util/jsonw.h"
#include "util/timeutil.h"

enum { RUN_LIST_DEFAULT = 25, RUN_LIST_MAX = 100, EVENT_LIST_DEFAULT = 100, EVENT_LIST_MAX = 100 };
enum { IDEMPOTENCY_KEY_MAX = 200, TRIGGER_DETAIL_MAX = 1000 };

static void send_run(http_ctx_t *c, int status, const run_t *r)
{
    char etag[32], loc[48];
    snprintf(etag, sizeof(etag), "\"%lld\"", (long long)r->version);
    http_add_header(c, "etag", etag);
    if (status == 201) {
        snprintf(loc, sizeof(loc), "/v1/runs/%lld", (long long)r->id);
        http_add_header(c, "location", loc);
    }
    buf_t b = BUF_INIT(RENDER_RUN_MAX);
    render_run_buf(&b, r);
    render_send_buf(c, status, &b);
}

/* ---- trigger ---- */

static void on_triggered(http_ctx_t *c, store_write_t *w, void *data)
{
    if (w->err != STORE_OK) {
        api_store_error(c, w->err, w->err_field);
        return;
    }
    switch (w->trigger_outcome) {
    case TRIGGER_ATTACHED:
        send_run(c, 200, &w->run);
        break;
    case TRIGGER_REPLAYED:
        http_add_header(c, "idempotent-replayed", "true");
        send_run(c, 201, &w->run);
        break;
    default:
        send_run(c, 201, &w->run);
        break;
    }
}

static int valid_idempotency_key(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > IDEMPOTENCY_KEY_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isprint((unsigned char)k[i]))
            return 0;
    return 1;
}

static int parse_trigger_state(const char *s)
{
    int st = run_state_parse(s);
    return st == RUN_QUEUED || st == RUN_WORKING ? st : -1;
}

store_write_t *api_trigger_begin(http_ctx_t *c, const connection_t *cn, const char *fingerprint, size_t len)
{
    const char *idem = http_header(c, "idempotency-key");
    if (idem != NULL && !valid_idempotency_key(idem)) {
        http_error(c, 400, "invalid_header", "Idempotency-Key must be 1 to 200 printable ASCII characters",
                   "Idempotency-Key");
        return NULL;
    }
    store_write_t *w = http_write_new(c);
    w->op = OP_RUN_TRIGGER;
    w->workspace_id = c->key.workspace_id;
    w->id = cn->id;
    if (idem != NULL) {
        char *hash = arena_alloc(&c->arena, IDS_SHA256_HEX_LEN);
        ids_sha256_hex(fingerprint, len, hash);
        w->trigger.idempotency_key = idem;
        w->trigger.idempotency_hash = hash;
    }
    return w;
}

void api_trigger_defaults(http_ctx_t *c, store_trigger_t *t)
{
    if (t->tag == NULL)
        t->tag = "API";
    if (t->detail == NULL) {
        char *d = arena_alloc(&c->arena, 64);
        snprintf(d, 64, "Triggered through the API with key #%lld", (long long)c->key.key_id);
        t->detail = d;
    }
}

int native_run_trigger(http_ctx_t *c)
{
    connection_t cn;
    if (api_load_connection(c, 0, &cn) != 0)
        return 0;
    size_t len;
    const char *raw = http_body(c, &len);
    store_write_t *w = api_trigger_begin(c, &cn, raw, len);
    if (w == NULL)
        return 0;
    json_t *body = http_body_json(c, 1);
    if (body == NULL)
        return 0;
    static const char *const fields[] = {"state", "trigger", "full_sync", "scheduled_at", NULL};
    static const char *const trigger_fields[] = {"tag", "detail", NULL};
    input_t in, tin;
    input_init(&in, body);
    store_trigger_t *t = &w->trigger;
    int state = RUN_QUEUED;
    json_t *trig = NULL;
    if (input_known(&in, fields) < 0 || input_enum(&in, "state", parse_trigger_state, "queued, working", &state) < 0 ||
        input_bool(&in, "full_sync", &t->full_sync) < 0 || input_time(&in, "scheduled_at", 1, &t->scheduled_at) < 0 ||
        input_object(&in, "trigger", &trig) < 0)
        goto bad;
    t->initial_state = (run_state_t)state;
    if (trig != NULL) {
        input_init(&tin, trig);
        if (input_known(&tin, trigger_fields) < 0 || input_string(&tin, "tag", IN_NAME_MAX, 0, 1, &t->tag) < 0 ||
            input_string(&tin, "detail", TRIGGER_DETAIL_MAX, 0, 1, &t->detail) < 0) {
            input_adopt(&in, &tin, "trigger");
            goto bad;
        }
    }
    api_trigger_defaults(c, t);
    return http_write_submit(c, w, on_triggered, NULL, body);
bad:
    api_input_error(c, &in);
    json_decref(body);
    return 0;
}

/* ---- read, with long-poll ---- */

typedef struct run_wait {
    int64_t run_id, base_version, deadline_ms;
    int has_inm;
} run_wait_t;

static int etag_matches(const char *inm, int64_t version)
{
    char etag[32];
    snprintf(etag, sizeof(etag), "\"%lld\"", (long long)version);
    return strcmp(inm, "*") == 0 || strstr(inm, etag) != NULL;
}

static void on_run_wake(http_ctx_t *c, int timed_out, void *data)
{
    run_wait_t *rw = data;
    run_t r;
    store_err_t e = store_run_get(c->reader, c->key.workspace_id, rw->run_id, &c->arena, &r);
    if (e != STORE_OK) {
        api_store_error(c, e, NULL);
        return;
    }
    if (r.version != rw->base_version) {
        send_run(c, 200, &r);
        return;
    }
    int64_t left = rw->deadline_ms - time_mono_ms();
    if (!timed_out && left >= 1000) {
        http_wait_run(c, rw->run_id, (int)(left / 1000), on_run_wake, rw);
        return;
    }
    if (rw->has_inm) {
        char etag[32];
        snprintf(etag, sizeof(etag), "\"%lld\"", (long long)r.version);
        http_add_header(c, "etag", etag);
        http_send_json(c, 304, NULL);
        return;
    }
    send_run(c, 200, &r);
}

int native_run_get(http_ctx_t *c)
{
    run_t r;
    int64_t wait;
    if (api_query_int(c, "wait", 1, 60, 0, &wait) != 0 || api_load_run(c, 0, &r) != 0)
        return 0;
    const char *inm = http_header(c, "if-none-match");
    int matches = inm != NULL && etag_matches(inm, r.version);
    if (wait > 0 && r.state != RUN_FINISHED && (inm == NULL || matches)) {
        run_wait_t *rw = arena_alloc(&c->arena, sizeof(*rw));
        rw->run_id = r.id;
        rw->base_version = r.version;
        rw->has_inm = inm != NULL;
        rw->deadline_ms = time_mono_ms() + wait * 1000;
        return http_wait_run(c, r.id, (int)wait, on_run_wake, rw);
    }
    if (matches) {
        char etag[32];
        snprintf(etag, sizeof(etag), "\"%lld\"", (long long)r.version);
        http_add_header(c, "etag", etag);
        return http_send_json(c, 304, NULL);
    }
    send_run(c, 200, &r);
    return 0;
}

/* ---- update, finish, cancel ---- */

static void on_run_written(http_ctx_t *c, store_write_t *w, void *data)
{
    if (w->err == STORE_NOT_FOUND) {
        http_error(c, 404, "not_found", "no such run", NULL);
        return;
    }
    if (w->err != STORE_OK) {
        api_store_error(c, w->err, w->err_field);
        return;
    }
    send_run(c, 200, &w->run);
}

static int parse_update_state(const char *s)
{
    int st = run_state_parse(s);
    return st == RUN_QUEUED || st == RUN_WORKING || st == RUN_RETRYING ? st : -1;
}

/* Reads the fields shared by update and finish. */
static int read_progress(input_t *in, store_write_t *w)
{
    int rc;
    if (input_counters(in, "counters", w->run.counters, &w->mask) < 0)
        return -1;
    if ((rc = input_string(in, "message", IN_TEXT_MAX, 0, 1, &w->run.message)) < 0)
        return -1;
    if (rc == 1 || json_is_null(json_object_get(in->obj, "message")))
        w->mask |= RUN_F_MESSAGE;
    return 0;
}

int native_run_update(http_ctx_t *c)
{
    int64_t run_id;
    if (api_run_id(c, 0, &run_id) != 0)
        return 0;
    json_t *body = http_body_json(c, 0);
    if (body == NULL)
        return 0;
    static const char *const fields[] = {"state", "current_step", "counters", "last_timestamp_synced", "message", NULL};
    input_t in;
    input_init(&in, body);
    store_write_t *w = http_write_new(c);
    w->op = OP_RUN_UPDATE;
    w->workspace_id = c->key.workspace_id;
    w->id = run_id;
    int state, rc;
    if (input_known(&in, fields) < 0)
        goto bad;
    json_t *sv = json_object_get(body, "state");
    if (json_is_string(sv) && strcmp(json_string_value(sv), "finished") == 0) {
        input_fail(&in, "invalid_field", "state", "to finish a run, POST /v1/runs/%lld/finish with its result",
                   (long long)run_id);
        goto bad;
    }
    if ((rc = input_enum(&in, "state", parse_update_state, "queued, working, retrying", &state)) < 0)
        goto bad;
    if (rc == 1) {
        w->run.state = (run_state_t)state;
        w->mask |= RUN_F_STATE;
    }
    if ((rc = input_string(&in, "current_step", IN_NAME_MAX, 0, 1, &w->run.current_step)) < 0)
        goto bad;
    if (rc == 1 || json_is_null(json_object_get(body, "current_step")))
        w->mask |= RUN_F_STEP;
    if ((rc = input_time(&in, "last_timestamp_synced", 1, &w->run.watermark)) < 0)
        goto bad;
    if (rc == 1)
        w->mask |= RUN_F_WATERMARK;
    if (read_progress(&in, w) < 0)
        goto bad;
    return http_write_submit(c, w, on_run_written, NULL, body);
bad:
    api_input_error(c, &in);
    json_decref(body);
    return 0;
}

static int parse_finish_result(const char *s)
{
    int r = run_result_parse(s);
    return r > RESULT_NONE && r != RESULT_SKIPPED ? r : -1;
}

int native_run_finish(http_ctx_t *c)
{
    int64_t run_id;
    if (api_run_id(c, 0, &run_id) != 0)
        return 0;
    json_t *body = http_body_json(c, 0);
    if (body == NULL)
        return 0;
    static const char *const fields[] = {"result", "counters", "message", "error", NULL};
    static const char *const error_fields[] = {"code", "message", "detail", NULL};
    input_t in, ein;
    input_init(&in, body);
    store_write_t *w = http_write_new(c);
    w->op = OP_RUN_FINISH;
    w->workspace_id = c->key.workspace_id;
    w->id = run_id;
    int result;
    json_t *err = NULL;
    if (input_known(&in, fields) < 0)
        goto bad;
    if (json_object_get(body, "result") == NULL) {
        input_fail(&in, "missing_field", "result", "result is required");
        goto bad;
    }
    if (input_enum(&in, "result", parse_finish_result, "success, partial, error, config_error, timed_out, canceled",
                   &result) < 0 ||
        read_progress(&in, w) < 0 || input_object(&in, "error", &err) < 0)
        goto bad;
    w->run.result = (run_result_t)result;
    if (err != NULL) {
        input_init(&ein, err);
        if (input_known(&ein, error_fields) < 0 ||
            input_string(&ein, "code", IN_NAME_MAX, 0, 1, &w->run.error_code) < 0 ||
            input_string(&ein, "message", IN_TEXT_MAX, 0, 1, &w->run.error_message) < 0 ||
            input_string(&ein, "detail", IN_DETAIL_MAX, 0, 1, &w->run.error_detail) < 0) {
            input_adopt(&in, &ein, "error");
            goto bad;
        }
        w->mask |= RUN_F_ERROR;
    }
    return http_write_submit(c, w, on_run_written, NULL, body);
bad:
    api_input_error(c, &in);
    json_decref(body);
    return 0;
}

int native_run_cancel(http_ctx_t *c)
{
    int64_t run_id;
    if (api_run_id(c, 0, &run_id) != 0)
        return 0;
    json_t *body = http_body_json(c, 1);
    if (body == NULL)
        return 0;
    static const char *const fields[] = {"message", NULL};
    input_t in;
    input_init(&in, body);
    store_write_t *w = http_write_new(c);
    w->op = OP_RUN_CANCEL;
    w->workspace_id = c->key.workspace_id;
    w->id = run_id;
    if (input_known(&in, fields) < 0 || read_progress(&in, w) < 0) {
        api_input_error(c, &in);
        json_decref(body);
        return 0;
    }
    return http_write_submit(c, w, on_run_written, NULL, body);
}

/* ---- list and events ---- */

static int query_enum(http_ctx_t *c, const char *name, int (*parse)(const char *), const char *expected, int *out)
{
    const char *v = http_query(c, name);
    *out = -1;
    if (v == NULL)
        return 0;
    if ((*out = parse(v)) < 0) {
        char msg[160];
        snprintf(msg, sizeof(msg), "%s must be one of %s", name, expected);
        http_error(c, 400, "invalid_query", msg, name);
        return -1;
    }
    return 0;
}

static int parse_order(const char *s)
{
    return strcmp(s, "asc") == 0 ? 1 : strcmp(s, "desc") == 0 ? 0 : -1;
}

static int parse_list_result(const char *s)
{
    int r = run_result_parse(s);
    return r > RESULT_NONE ? r : -1;
}

int native_run_list(http_ctx_t *c)
{
    connection_t cn;
    run_filter_t f = {0};
    int64_t limit;
    int asc;
    if (api_load_connection(c, 0, &cn) != 0 ||
        query_enum(c, "state", run_state_parse, "queued, working, retrying, finished", &f.state) != 0 ||
        query_enum(c, "result", parse_list_result,
                   "success, partial, error, config_error, timed_out, canceled, skipped", &f.result) != 0 ||
        query_enum(c, "order", parse_order, "asc, desc", &asc) != 0 || api_query_time(c, "since", 0, &f.since) != 0 ||
        api_query_time(c, "until", 0, &f.until) != 0 ||
        api_query_int(c, "limit", 1, RUN_LIST_MAX, RUN_LIST_DEFAULT, &limit) != 0)
        return 0;
    f.asc = asc == 1;
    f.limit = (int)limit + 1;
    f.trigger = http_query(c, "trigger");
    if (f.trigger != NULL && (*f.trigger == '\0' || strlen(f.trigger) > IN_NAME_MAX))
        return http_error(c, 400, "invalid_query", "trigger must be a trigger tag of 1 to 200 bytes", "trigger");
    const char *cursor = http_query(c, "cursor");
    if (cursor != NULL && parse_cursor(cursor, &f.after) != 0)
        return http_error(c, 400, "invalid_query", "cursor is not a cursor this server returned", "cursor");
    run_t *runs;
    int n;
    store_err_t e = store_run_list(c->reader, c->key.workspace_id, cn.id, &f, &c->arena, &runs, &n);
    if (e != STORE_OK)
        return api_store_error(c, e, NULL);
    buf_t b = BUF_INIT((size_t)RENDER_RUN_MAX * RUN_LIST_MAX);
    JW_LIT(&b, "{\"data\":[");
    for (int i = 0; i < n && i < limit; i++) {
        if (i > 0)
            JW_LIT(&b, ",");
        render_run_buf(&b, &runs[i]);
    }
    JW_LIT(&b, "],\"next_cursor\":");
    if (n > limit) {
        char cur[32];
        render_cursor(cur, runs[limit - 1].run_count);
        jw_str(&b, cur);
    } else {
        JW_LIT(&b, "null");
    }
    JW_LIT(&b, "}");
    return render_send_buf(c, 200, &b);
}

int native_run_events(http_ctx_t *c)
{
    run_t r;
    int64_t limit, after = 0;
    if (api_query_int(c, "limit", 1, EVENT_LIST_MAX, EVENT_LIST_DEFAULT, &limit) != 0 || api_load_run(c, 0, &r) != 0)
        return 0;
    const char *cursor = http_query(c, "cursor");
    if (cursor != NULL && parse_cursor(cursor, &after) != 0)
        return http_error(c, 400, "invalid_query", "cursor is not a cursor this server returned", "cursor");
    run_event_t *ev;
    int n;
    store_err_t e = store_event_list(c->reader, c->key.workspace_id, r.id, after, (int)limit + 1, &c->arena, &ev, &n);
    if (e != STORE_OK)
        return api_store_error(c, e, NULL);
    json_t *data = json_array();
    for (int i = 0; i < n && i < limit; i++)
        json_array_append_new(data, render_event(&ev[i]));
    return http_send_json(c, 200, render_page(data, n > limit, n > limit ? ev[limit - 1].id : 0));
}

/* ---- log ---- */

/* A run log being sent: read from the store a piece at a time, as the client takes them. */
typedef struct log_send {
    store_reader_t *reader;
    store_log_cursor_t cur;
} log_send_t;

static int log_fill(void *data, char *buf, size_t cap, size_t *n)
{
    log_send_t *ls = data;
    store_err_t e = store_log_next(ls->reader, &ls->cur, buf, cap, n);
    if (e == STORE_BAD_STATE)
        log_warn("run log cut short while sent: it grew past its cap faster than the client read it run=%lld",
                 (long long)ls->cur.run_id);
    return e == STORE_OK ? 0 : -1;
}

int native_run_log_get(http_ctx_t *c)
{
    run_t r;
    if (api_load_run(c, 0, &r) != 0)
        return 0;
    log_send_t *ls = arena_alloc(&c->arena, sizeof(*ls));
    ls->reader = c->reader;
    store_err_t e = store_log_open(c->reader, c->key.workspace_id, r.id, &ls->cur);
    if (e != STORE_OK)
        return api_store_error(c, e, NULL);
    char num[24];
    snprintf(num, sizeof(num), "%lld", (long long)ls->cur.total);
    http_add_header(c, "x-log-bytes-total", num);
    snprintf(num, sizeof(num), "%lld", (long long)(ls->cur.total - ls->cur.kept));
    http_add_header(c, "x-log-bytes-dropped", num);
    return http_send_stream(c, 200, "text/plain; charset=utf-8", (size_t)ls->cur.kept, log_fill, ls);
}

static void on_log_written(http_ctx_t *c, store_write_t *w, void *data)
{
    if (w->err != STORE_OK) {
        api_store_error(c, w->err, w->err_field);
        return;
    }
    http_send_json(c, 204, NULL);
}

int native_run_log_append(http_ctx_t *c)
{
    run_t r;
    if (api_load_run(c, 0, &r) != 0)
        return 0;
    store_write_t *w = http_write_new(c);
    w->op = OP_LOG_APPEND;
    w->workspace_id = c->key.workspace_id;
    w->id = r.id;
    /* the body lives in the request's memory until the answer is sent */
    w->log_data = http_body(c, &w->log_len);
    if (w->log_len == 0)
        return http_send_json(c, 204, NULL);
    return http_write_submit(c, w, on_log_written, NULL, NULL);
}
