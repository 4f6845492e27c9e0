/* Native API: webhooks (create, list, get, update, delete, test), their deliveries (list, get with
 * every attempt, redeliver), and the body a delivery sends (the dispatcher's renderer, here because it
 * is made of the native shapes of the connection and the run). */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/render.h"
#include "util/ids.h"
#include "util/netaddr.h"
#include "util/timeutil.h"

enum { WEBHOOK_LIST_DEFAULT = 25, WEBHOOK_LIST_MAX = 100, DELIVERY_LIST_DEFAULT = 25, DELIVERY_LIST_MAX = 100 };
enum { ATTEMPTS_SHOWN_MAX = 100 };

static int allow_private;

void api_webhooks_configure(int allow_private_targets)
{
    allow_private = allow_private_targets;
}

static const char *const webhook_fields[] = {"url", "events", "connection_id", "enabled", NULL};

/* ---- rendering ---- */

static json_t *render_events(const char *events)
{
    json_t *a = events != NULL ? json_loads(events, 0, NULL) : NULL;
    return a != NULL ? a : json_pack("[s]", "*");
}

json_t *render_webhook(const webhook_t *h)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(h->id));
    json_object_set_new(o, "url", render_str(h->url));
    json_object_set_new(o, "events", render_events(h->events));
    json_object_set_new(o, "connection_id", h->connection_id ? json_integer(h->connection_id) : json_null());
    json_object_set_new(o, "enabled", json_boolean(h->enabled));
    json_object_set_new(o, "disabled_reason", render_str(h->disabled_reason));
    json_object_set_new(o, "failing_since", render_time(h->failing_since));
    json_object_set_new(o, "created_at", render_time(h->created_at));
    json_object_set_new(o, "updated_at", render_time(h->updated_at));
    return o;
}

static json_t *id_or_null(int64_t id)
{
    return id != 0 ? json_integer(id) : json_null();
}

json_t *render_delivery(const webhook_delivery_t *d)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(d->id));
    json_object_set_new(o, "webhook_id", json_integer(d->webhook_id));
    json_object_set_new(o, "message_id", json_string(d->msg_id));
    json_object_set_new(o, "event", render_str(d->event));
    json_object_set_new(o, "status", json_string(delivery_status_name(d->status)));
    json_object_set_new(o, "attempts", json_integer(d->attempts));
    json_object_set_new(o, "alert_id", id_or_null(d->alert_id));
    json_object_set_new(o, "connection_id", id_or_null(d->connection_id));
    json_object_set_new(o, "run_id", id_or_null(d->run_id));
    json_object_set_new(o, "occurred_at", render_time(d->occurred_at));
    json_object_set_new(o, "next_attempt_at", render_time(d->next_attempt_at));
    json_object_set_new(o, "last_response_code", d->last_status_code ? json_integer(d->last_status_code) : json_null());
    json_object_set_new(o, "last_latency_ms", d->last_latency_ms >= 0 ? json_integer(d->last_latency_ms) : json_null());
    json_object_set_new(o, "last_error", render_str(d->last_error));
    json_object_set_new(o, "created_at", render_time(d->created_at));
    json_object_set_new(o, "updated_at", render_time(d->updated_at));
    json_object_set_new(o, "delivered_at", render_time(d->delivered_at));
    return o;
}

static json_t *render_attempt(const webhook_attempt_t *t)
{
    return json_pack("{s:o, s:o, s:I, s:o}", "at", render_time(t->at), "response_code",
                     t->status_code ? json_integer(t->status_code) : json_null(), "latency_ms",
                     (json_int_t)t->latency_ms, "error", render_str(t->error));
}

/* ---- input ---- */

/* "events": a non-empty array of known event names, or ["*"] (or absent on create) for every event.
 * Sets *events to the compact JSON text to store (arena), NULL for all. Returns 1 when given, 0 when
 * absent, -1 (in set) when invalid. */
static int read_events(input_t *in, arena_t *a, const char **events)
{
    json_t *v = json_object_get(in->obj, "events");
    if (v == NULL)
        return 0;
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > 32)
        return input_fail(in, "invalid_field", "events", "events must be a non-empty array of event names, or [\"*\"]");
    json_t *out = json_array();
    size_t i;
    json_t *e;
    int all = 0;
    json_array_foreach(v, i, e)
    {
        const char *name = json_string_value(e);
        if (name != NULL && strcmp(name, "*") == 0) {
            all = 1;
            continue;
        }
        if (name == NULL || !webhook_event_known(name)) {
            json_decref(out);
            char known[256] = "";
            for (int k = 0; webhook_event_names[k] != NULL; k++)
                snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s", k ? ", " : "",
                         webhook_event_names[k]);
            return input_fail(in, "invalid_field", "events", "unknown event %s%.64s%s; known: %s, or \"*\" for all",
                              name ? "'" : "", name ? name : "(not a string)", name ? "'" : "", known);
        }
        int dup = 0;
        for (size_t k = 0; k < json_array_size(out); k++)
            dup |= strcmp(json_string_value(json_array_get(out, k)), name) == 0;
        if (!dup)
            json_array_append_new(out, json_string(name));
    }
    if (all) {
        json_decref(out);
        *events = NULL;
        return 1;
    }
    char *text = json_dumps(out, JSON_COMPACT);
    json_decref(out);
    *events = text != NULL ? arena_strdup(a, text) : NULL;
    free(text);
    return 1;
}

/* "connection_id": an id or UUID of a connection of the workspace, or null for every connection.
 * Returns 1 when given (*id 0 for null), 0 when absent, -1 (answered or in set) on error. */
static int read_connection_filter(http_ctx_t *c, input_t *in, int64_t *id)
{
    json_t *v = json_object_get(in->obj, "connection_id");
    if (v == NULL)
        return 0;
    *id = 0;
    if (json_is_null(v))
        return 1;
    connection_t cn;
    store_err_t e = STORE_NOT_FOUND;
    char uuid[IDS_UUID_LEN];
    if (json_is_integer(v) && json_integer_value(v) > 0)
        e = store_connection_get(c->reader, c->key.workspace_id, json_integer_value(v), &c->arena, &cn);
    else if (json_is_string(v) && ids_uuid_normalize(json_string_value(v), uuid) == 0)
        e = store_connection_get_uuid(c->reader, c->key.workspace_id, uuid, &c->arena, &cn);
    else
        return input_fail(in, "invalid_field", "connection_id",
                          "connection_id must be a connection's id or UUID, "
                          "or null for every connection");
    if (e == STORE_NOT_FOUND)
        return input_fail(in, "invalid_field", "connection_id", "connection_id names no connection of this workspace");
    if (e != STORE_OK)
        return input_fail(in, "internal", NULL, "the database failed");
    *id = cn.id;
    return 1;
}

/* Reads a create or update body into w (its strings in the request's arena, not the body). When the
 * URL's host is a name whose addresses are still to be judged, *host is set to it (arena). Returns 0,
 * or -1 with in set. */
static int read_webhook(http_ctx_t *c, input_t *in, store_write_t *w, int create, const char **host)
{
    const char *url = NULL;
    int rc, enabled;
    *host = NULL;
    if (input_known(in, webhook_fields) != 0)
        return -1;
    if ((rc = input_string(in, "url", WEBHOOK_URL_MAX, create, 0, &url)) < 0)
        return -1;
    if (rc == 1) {
        char why[300], name[NETADDR_HOST_MAX];
        int form = netaddr_check_url_form(url, WEBHOOK_URL_MAX, allow_private, name, sizeof(name), why, sizeof(why));
        if (form < 0)
            return input_fail(in, "invalid_field", "url", "url %s", why);
        if (form == 1)
            *host = arena_strdup(&c->arena, name);
        w->webhook.url = arena_strdup(&c->arena, url);
        w->mask |= WEBHOOK_F_URL;
    }
    if ((rc = read_events(in, &c->arena, &w->webhook.events)) < 0)
        return -1;
    if (rc == 1)
        w->mask |= WEBHOOK_F_EVENTS;
    if ((rc = read_connection_filter(c, in, &w->webhook.connection_id)) < 0)
        return -1;
    if (rc == 1)
        w->mask |= WEBHOOK_F_CONNECTION;
    if ((rc = input_bool(in, "enabled", &enabled)) < 0)
        return -1;
    if (rc == 1) {
        if (create && !enabled)
            return input_fail(in, "invalid_field", "enabled", "a webhook is created enabled");
        w->webhook.enabled = enabled;
        w->mask |= WEBHOOK_F_ENABLED;
    }
    return 0;
}

/* The webhook id of path parameter 0; answers 404 and returns -1 when it is not one. */
static int path_id(http_ctx_t *c, int i, int64_t *id)
{
    const char *p = c->params[i];
    if (ids_parse_i64(p, strlen(p), 1, INT64_MAX, id) != 0) {
        http_error(c, 404, "not_found", i == 0 ? "no such webhook" : "no such delivery", NULL);
        return -1;
    }
    return 0;
}

static int load_webhook(http_ctx_t *c, webhook_t *h)
{
    int64_t id;
    if (path_id(c, 0, &id) != 0)
        return -1;
    store_err_t e = store_webhook_get(c->reader, c->key.workspace_id, id, &c->arena, h);
    if (e == STORE_OK)
        return 0;
    if (e == STORE_NOT_FOUND)
        http_error(c, 404, "not_found", "no such webhook", NULL);
    else
        api_store_error(c, e, NULL);
    return -1;
}

/* ---- handlers ---- */

static void on_webhook_written(http_ctx_t *c, store_write_t *w, void *data)
{
    int status = (int)(intptr_t)data;
    if (w->err == STORE_BAD_STATE) {
        http_error(c, 409, "webhook_disabled", "the webhook is disabled; enable it first (PATCH enabled: true)",
                   "enabled");
        return;
    }
    if (w->err != STORE_OK) {
        api_store_error(c, w->err, w->err_field);
        return;
    }
    switch (w->op) {
    case OP_WEBHOOK_DELETE:
        http_send_json(c, 204, NULL);
        return;
    case OP_WEBHOOK_TEST:
    case OP_DELIVERY_REDELIVER:
        http_send_json(c, 202, render_delivery(&w->delivery));
        return;
    default:
        break;
    }
    json_t *o = render_webhook(&w->webhook);
    if (status == 201) {
        char loc[64];
        snprintf(loc, sizeof(loc), "/v1/webhooks/%" PRId64, w->webhook.id);
        http_add_header(c, "location", loc);
        /* shown this once: the receiver needs it to verify signatures */
        json_object_set_new(o, "secret", json_string(w->webhook.secret));
    }
    http_send_json(c, status, o);
}

/* A create or update whose URL names a host, waiting for its addresses. */
typedef struct url_check {
    store_write_t *w;
    const char *host;
} url_check_t;

static int webhook_status(const store_write_t *w)
{
    return w->op == OP_WEBHOOK_CREATE ? 201 : 200;
}

static void on_url_resolved(http_ctx_t *c, const struct addrinfo *res, const char *err, void *data)
{
    url_check_t *u = data;
    char why[300], msg[320];
    if (netaddr_check_resolved(u->host, res, err, why, sizeof(why)) != 0) {
        snprintf(msg, sizeof(msg), "url %s", why);
        http_error(c, 400, "invalid_field", msg, "url");
        return;
    }
    http_write_submit(c, u->w, on_webhook_written, (void *)(intptr_t)webhook_status(u->w), NULL);
}

/* Writes a read create or update: at once, or once its URL's host name is resolved (off the event
 * loop) and every address it has is found acceptable. */
static int submit_webhook(http_ctx_t *c, store_write_t *w, const char *host)
{
    if (host == NULL)
        return http_write_submit(c, w, on_webhook_written, (void *)(intptr_t)webhook_status(w), NULL);
    url_check_t *u = arena_alloc(&c->arena, sizeof(*u));
    u->w = w;
    u->host = host;
    http_resolve(c, host, on_url_resolved, u);
    return 0;
}

int native_webhook_create(http_ctx_t *c)
{
    json_t *body = http_body_json(c, 0);
    if (body == NULL)
        return 0;
    input_t in;
    input_init(&in, body);
    const char *host;
    store_write_t *w = http_write_new(c);
    w->op = OP_WEBHOOK_CREATE;
    w->workspace_id = c->key.workspace_id;
    int rc = read_webhook(c, &in, w, 1, &host);
    if (rc != 0)
        api_input_error(c, &in);
    json_decref(body);
    if (rc != 0)
        return 0;
    char *secret = arena_alloc(&c->arena, IDS_WHSEC_LEN);
    ids_webhook_secret(secret);
    w->webhook.secret = secret;
    return submit_webhook(c, w, host);
}

int native_webhook_list(http_ctx_t *c)
{
    int64_t limit, after = 0;
    if (api_query_int(c, "limit", 1, WEBHOOK_LIST_MAX, WEBHOOK_LIST_DEFAULT, &limit) != 0)
        return 0;
    const char *cursor = http_query(c, "cursor");
    if (cursor != NULL && parse_cursor(cursor, &after) != 0)
        return http_error(c, 400, "invalid_query", "cursor is not a cursor this server returned", "cursor");
    webhook_t *rows;
    int n;
    store_err_t e = store_webhook_list(c->reader, c->key.workspace_id, after, (int)limit + 1, &c->arena, &rows, &n);
    if (e != STORE_OK)
        return api_store_error(c, e, NULL);
    json_t *data = json_array();
    for (int i = 0; i < n && i < limit; i++)
        json_array_append_new(data, render_webhook(&rows[i]));
    return http_send_json(c, 200, render_page(data, n > limit, n > limit ? rows[limit - 1].id : 0));
}

int native_webhook_get(http_ctx_t *c)
{
    webhook_t h;
    if (load_webhook(c, &h) != 0)
        return 0;
    return http_send_json(c, 200, render_webhook(&h));
}

int native_webhook_update(http_ctx_t *c)
{
    webhook_t h;
    if (load_webhook(c, &h) != 0)
        return 0;
    json_t *body = http_body_json(c, 0);
    if (body == NULL)
        return 0;
    input_t in;
    input_init(&in, body);
    const char *host;
    store_write_t *w = http_write_new(c);
    w->op = OP_WEBHOOK_UPDATE;
    w->workspace_id = c->key.workspace_id;
    w->id = h.id;
    int rc = read_webhook(c, &in, w, 0, &host);
    if (rc != 0)
        api_input_error(c, &in);
    json_decref(body);
    return rc != 0 ? 0 : submit_webhook(c, w, host);
}

/* Submits op on the webhook of the path; answers status once it is durable. */
static int webhook_submit(http_ctx_t *c, store_op_t op, int status)
{
    webhook_t h;
    if (load_webhook(c, &h) != 0)
        return 0;
    store_write_t *w = http_write_new(c);
    w->op = op;
    w->workspace_id = c->key.workspace_id;
    w->id = h.id;
    return http_write_submit(c, w, on_webhook_written, (void *)(intptr_t)status, NULL);
}

int native_webhook_delete(http_ctx_t *c)
{
    return webhook_submit(c, OP_WEBHOOK_DELETE, 204);
}

int native_webhook_test(http_ctx_t *c)
{
    return webhook_submit(c, OP_WEBHOOK_TEST, 202);
}

int native_delivery_list(http_ctx_t *c)
{
    webhook_t h;
    if (load_webhook(c, &h) != 0)
        return 0;
    int64_t limit, before = 0;
    if (api_query_int(c, "limit", 1, DELIVERY_LIST_MAX, DELIVERY_LIST_DEFAULT, &limit) != 0)
        return 0;
    const char *cursor = http_query(c, "cursor"), *st = http_query(c, "status");
    if (cursor != NULL && parse_cursor(cursor, &before) != 0)
        return http_error(c, 400, "invalid_query", "cursor is not a cursor this server returned", "cursor");
    int status = st != NULL ? delivery_status_parse(st) : -1;
    if (st != NULL && status < 0)
        return http_error(c, 400, "invalid_query", "status must be one of pending, delivered, failed, dead", "status");
    webhook_delivery_t *rows;
    int n;
    store_err_t e =
        store_delivery_list(c->reader, c->key.workspace_id, h.id, before, status, (int)limit + 1, &c->arena, &rows, &n);
    if (e != STORE_OK)
        return api_store_error(c, e, NULL);
    json_t *data = json_array();
    for (int i = 0; i < n && i < limit; i++)
        json_array_append_new(data, render_delivery(&rows[i]));
    return http_send_json(c, 200, render_page(data, n > limit, n > limit ? rows[limit - 1].id : 0));
}

/* Loads the delivery of path parameter 1 (of the webhook of parameter 0). */
static int load_delivery(http_ctx_t *c, webhook_t *h, webhook_delivery_t *d)
{
    int64_t id;
    if (load_webhook(c, h) != 0 || path_id(c, 1, &id) != 0)
        return -1;
    store_err_t e = store_delivery_get(c->reader, c->key.workspace_id, h->id, id, &c->arena, d);
    if (e == STORE_OK)
        return 0;
    if (e == STORE_NOT_FOUND)
        http_error(c, 404, "not_found", "no such delivery", NULL);
    else
        api_store_error(c, e, NULL);
    return -1;
}

int native_delivery_get(http_ctx_t *c)
{
    webhook_t h;
    webhook_delivery_t d;
    if (load_delivery(c, &h, &d) != 0)
        return 0;
    webhook_attempt_t *at;
    int n;
    store_err_t e = store_attempt_list(c->reader, c->key.workspace_id, d.id, ATTEMPTS_SHOWN_MAX, &c->arena, &at, &n);
    if (e != STORE_OK)
        return api_store_error(c, e, NULL);
    json_t *o = render_delivery(&d), *list = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(list, render_attempt(&at[i]));
    json_object_set_new(o, "attempt_log", list); /* the newest ATTEMPTS_SHOWN_MAX, oldest first */
    json_object_set_new(o, "payload", d.payload != NULL ? json_loads(d.payload, 0, NULL) : json_null());
    return http_send_json(c, 200, o);
}

int native_delivery_redeliver(http_ctx_t *c)
{
    webhook_t h;
    webhook_delivery_t d;
    if (load_delivery(c, &h, &d) != 0)
        return 0;
    store_write_t *w = http_write_new(c);
    w->op = OP_DELIVERY_REDELIVER;
    w->workspace_id = c->key.workspace_id;
    w->id = h.id;
    w->attempt.delivery_id = d.id;
    return http_write_submit(c, w, on_webhook_written, (void *)(intptr_t)202, NULL);
}

/* ---- the body of a delivery ---- */

/* "3m12s", "45s", "1h02m", "2d03h" */
static void format_duration(int64_t ms, char *out, size_t len)
{
    int64_t s = ms / 1000;
    if (s < 60)
        snprintf(out, len, "%" PRId64 "s", s);
    else if (s < 3600)
        snprintf(out, len, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
    else if (s < 86400)
        snprintf(out, len, "%" PRId64 "h%02" PRId64 "m", s / 3600, (s % 3600) / 60);
    else
        snprintf(out, len, "%" PRId64 "d%02" PRId64 "h", s / 86400, (s % 86400) / 3600);
}

/* One human line: "orders (Snowflake → Salesforce): run #42 failed (error: …) after 3m12s". */
static void summary(buf_t *b, const webhook_delivery_t *d, const connection_t *cn, const run_t *r, json_t *alert)
{
    const char *msg = json_string_value(json_object_get(alert, "message"));
    if (cn != NULL) {
        buf_adds(b, cn->name);
        if (cn->source != NULL && cn->destination != NULL)
            buf_addf(b, " (%s → %s)", cn->source, cn->destination);
        buf_adds(b, ": ");
    }
    char dur[32] = "";
    if (r != NULL && r->completed_at != 0)
        format_duration(r->completed_at - (r->started_at ? r->started_at : r->created_at), dur, sizeof(dur));
    if (strcmp(d->event, WEBHOOK_EVENT_TEST) == 0) {
        buf_adds(b, "a test event from syncrun");
    } else if (strcmp(d->event, "run.failed") == 0 && r != NULL) {
        const char *why = r->error_message ? r->error_message : r->message;
        buf_addf(b, "run #%" PRId64 " failed (%s%s%.200s)", r->run_count, run_result_name(r->result), why ? ": " : "",
                 why ? why : "");
        if (dur[0])
            buf_addf(b, " after %s", dur);
    } else if (strcmp(d->event, "run.recovered") == 0 && r != NULL) {
        buf_addf(b, "run #%" PRId64 " succeeded again after failures", r->run_count);
        if (dur[0])
            buf_addf(b, " (took %s)", dur);
    } else if (msg != NULL) {
        buf_addf(b, "%.300s", msg);
    } else if (r != NULL) {
        buf_addf(b, "run #%" PRId64 ": %s", r->run_count, d->event);
    } else {
        buf_adds(b, d->event);
    }
}

int api_webhook_render(void *ctx, store_reader_t *rd, const webhook_delivery_t *d, buf_t *out)
{
    (void)ctx;
    arena_t a = ARENA_INIT;
    connection_t cn;
    run_t run;
    int have_cn =
        d->connection_id != 0 && store_connection_get(rd, d->workspace_id, d->connection_id, &a, &cn) == STORE_OK;
    int have_run = d->run_id != 0 && store_run_get(rd, d->workspace_id, d->run_id, &a, &run) == STORE_OK;
    json_t *alert = d->data != NULL ? json_loads(d->data, 0, NULL) : NULL;
    if (alert == NULL)
        alert = json_object();
    buf_t line = BUF_INIT(4096);
    summary(&line, d, have_cn ? &cn : NULL, have_run ? &run : NULL, alert);
    json_t *data = json_object();
    json_object_set_new(data, "workspace_id", json_integer(d->workspace_id));
    json_object_set_new(data, "connection", have_cn ? render_connection(&cn) : json_null());
    json_object_set_new(data, "run", have_run ? render_run(&run) : json_null());
    if (d->alert_id != 0)
        json_object_set_new(alert, "alert_id", json_integer(d->alert_id));
    json_object_set_new(data, "alert", alert);
    json_object_set_new(data, "summary", render_str(buf_failed(&line) ? d->event : buf_str(&line)));
    buf_release(&line);
    json_t *doc =
        json_pack("{s:s, s:o, s:o}", "type", d->event, "timestamp", render_time(d->occurred_at), "data", data);
    char *text = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    arena_release(&a);
    if (text == NULL)
        return -1;
    buf_adds(out, text);
    free(text);
    return buf_failed(out) ? -1 : 0;
}
