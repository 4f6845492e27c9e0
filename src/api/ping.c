/* Pings, healthchecks.io's protocol, for scripts that can use neither `syncrun exec` nor the API:
 *   GET|POST /ping/{ping-key}             success (ends the run a start began, or records one)
 *   GET|POST /ping/{ping-key}/start       a run starts
 *   GET|POST /ping/{ping-key}/fail        failure
 *   GET|POST /ping/{ping-key}/{0-255}     exit status: 0 success, else failure
 *   GET|POST /ping/{ping-key}/log         the body goes to the log of the run in progress
 * `?rid=<uuid>` pairs a start with its end. The ping key is the credential (no Authorization);
 * answers are plain text, as healthchecks.io's are. The ping key itself is made and rotated with
 * POST /v1/connections/{id}/ping-key. */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/render.h"
#include "util/ids.h"

/* Bodies past this are cut (healthchecks.io's default limit, announced in Ping-Body-Limit). */
enum { PING_BODY_MAX = 100000 };
#define PING_BODY_MAX_STR "100000"

static void ping_send_error(http_ctx_t *c, int status, const char *code, const char *message, const char *field)
{
    (void)code;
    (void)field;
    size_t n = strlen(message);
    char *body = arena_alloc(&c->arena, n + 2);
    memcpy(body, message, n); /* NOLINT(bugprone-not-null-terminated-result): a body of n + 1 bytes, not a string */
    body[n] = '\n';
    http_send_raw(c, status, "text/plain; charset=utf-8", body, n + 1);
}

const http_dialect_t ping_dialect = {"ping", ping_send_error};

static void on_pinged(http_ctx_t *c, store_write_t *w, void *data)
{
    (void)data;
    if (w->err == STORE_NOT_FOUND && w->err_field != NULL && strcmp(w->err_field, "run") == 0) {
        http_error(c, 404, "not_found", "no run in progress to log to: send /start first (with the same ?rid=)", NULL);
        return;
    }
    if (w->err == STORE_NOT_FOUND) {
        http_error(c, 404, "not_found", "not found", NULL);
        return;
    }
    if (w->err != STORE_OK) {
        api_store_error(c, w->err, w->err_field);
        return;
    }
    char id[24];
    snprintf(id, sizeof(id), "%lld", (long long)w->run.id);
    http_add_header(c, "syncrun-run-id", id);
    http_send_raw(c, 200, "text/plain; charset=utf-8", "OK", 2);
}

/* The action of the path's second segment; -1 when it names none. */
static int ping_action(const char *s, store_ping_t *p)
{
    static const struct {
        const char *name;
        ping_kind_t kind;
    } names[] = {{"start", PING_START}, {"fail", PING_FAIL}, {"log", PING_LOG}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(s, names[i].name) == 0) {
            p->kind = names[i].kind;
            return 0;
        }
    }
    int64_t code;
    if (s[0] != '\0' && strlen(s) <= 3 && ids_parse_i64(s, strlen(s), 0, 255, &code) == 0) {
        p->kind = PING_EXIT;
        p->exit_status = (int)code;
        return 0;
    }
    return -1;
}

int ping_receive(http_ctx_t *c)
{
    http_add_header(c, "ping-body-limit", PING_BODY_MAX_STR);
    store_ping_t p = {PING_SUCCESS, 0, NULL, NULL};
    if (c->nparams > 1 && ping_action(c->params[1], &p) != 0)
        return http_error(c, 400, "invalid_request",
                          "invalid url format: /ping/{key}, /ping/{key}/start, /fail, /log or /{exit status 0-255}",
                          NULL);
    const char *rid = http_query(c, "rid");
    if (rid != NULL) {
        char *norm = arena_alloc(&c->arena, IDS_UUID_LEN);
        if (ids_uuid_normalize(rid, norm) != 0)
            return http_error(c, 400, "invalid_query", "rid must be a UUID", "rid");
        p.rid = norm;
    }
    connection_t cn;
    store_err_t e = store_connection_get_ping_key(c->reader, c->params[0], &c->arena, &cn);
    if (e == STORE_NOT_FOUND)
        return http_error(c, 404, "not_found", "not found", NULL);
    if (e != STORE_OK)
        return api_store_error(c, e, NULL);
    char *what = arena_alloc(&c->arena, 64);
    snprintf(what, 64, "%s ping%s%s", http_method(c), c->nparams > 1 ? " /" : "", c->nparams > 1 ? c->params[1] : "");
    p.what = what;
    store_write_t *w = http_write_new(c);
    w->op = OP_PING;
    w->workspace_id = cn.workspace_id;
    w->id = cn.id;
    w->ping = p;
    w->log_data = http_body(c, &w->log_len);
    if (w->log_len > PING_BODY_MAX) /* the first bytes are kept, as healthchecks.io keeps them */
        w->log_len = PING_BODY_MAX;
    return http_write_submit(c, w, on_pinged, NULL, NULL);
}

static void on_ping_key(http_ctx_t *c, store_write_t *w, void *data)
{
    (void)data;
    if (w->err == STORE_NOT_FOUND) {
        http_error(c, 404, "not_found", "no such connection", NULL);
        return;
    }
    if (w->err != STORE_OK) {
        api_store_error(c, w->err, w->err_field);
        return;
    }
    char url[512];
    snprintf(url, sizeof(url), "%s://%s/ping/%s", http_scheme(c), http_host(c), w->token);
    http_send_json(c, 201, json_pack("{s:s, s:s}", "ping_key", w->token, "ping_url", url));
}

int native_connection_ping_key(http_ctx_t *c)
{
    connection_t cn;
    if (api_load_connection(c, 0, &cn) != 0)
        return 0;
    store_write_t *w = http_write_new(c);
    w->op = OP_PING_KEY_ROTATE;
    w->workspace_id = c->key.workspace_id;
    w->id = cn.id;
    return http_write_submit(c, w, on_ping_key, NULL, NULL);
}
