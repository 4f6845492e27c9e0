/* Native API: a workspace's retention policy (GET/PATCH /v1/workspace/retention, scope admin). The
 * pruning itself runs in the background (exec/pruner.c); connections override the policy with their
 * retention_* fields (connections.c). */
#include <stddef.h>
#include <stdint.h>

#include "api/api.h"
#include "api/render.h"

static json_t *limit_json(int64_t v)
{
    return v > 0 ? json_integer(v) : json_null();
}

static json_t *render_retention(const retention_t *p)
{
    return json_pack("{s:o, s:o, s:o}", "days", limit_json(p->days), "keep_last", limit_json(p->keep_last),
                     "failure_days", limit_json(p->failure_days));
}

int native_retention_get(http_ctx_t *c)
{
    workspace_t ws;
    store_err_t e = store_workspace_get(c->reader, c->key.workspace_id, &c->arena, &ws);
    if (e != STORE_OK)
        return api_store_error(c, e, NULL);
    return http_send_json(c, 200, render_retention(&ws.retention));
}

static void on_retention_written(http_ctx_t *c, store_write_t *w, void *data)
{
    (void)data;
    if (w->err != STORE_OK) {
        api_store_error(c, w->err, w->err_field);
        return;
    }
    http_send_json(c, 200, render_retention(&w->retention));
}

int native_retention_update(http_ctx_t *c)
{
    static const char *const fields[] = {"days", "keep_last", "failure_days", NULL};
    static const struct {
        const char *key;
        unsigned flag;
        int64_t max;
        size_t off;
    } limits[] = {
        {"days", CONN_F_RET_DAYS, RETENTION_DAYS_MAX, offsetof(retention_t, days)},
        {"keep_last", CONN_F_RET_KEEP_LAST, RETENTION_KEEP_LAST_MAX, offsetof(retention_t, keep_last)},
        {"failure_days", CONN_F_RET_FAILURE_DAYS, RETENTION_DAYS_MAX, offsetof(retention_t, failure_days)},
    };
    json_t *body = http_body_json(c, 0);
    if (body == NULL)
        return 0;
    input_t in;
    input_init(&in, body);
    store_write_t *w = http_write_new(c);
    w->op = OP_WORKSPACE_RETENTION;
    w->workspace_id = c->key.workspace_id;
    int bad = input_known(&in, fields) != 0;
    for (size_t i = 0; !bad && i < sizeof(limits) / sizeof(limits[0]); i++) {
        int64_t *dst = (int64_t *)(void *)((char *)&w->retention + limits[i].off);
        json_t *v = json_object_get(body, limits[i].key);
        if (v == NULL)
            continue;
        if (json_is_null(v))
            *dst = 0;
        else if (input_int(&in, limits[i].key, 1, limits[i].max, dst) < 0)
            bad = input_fail(&in, "invalid_field", limits[i].key,
                             "%s must be null (no limit) or an integer from 1 to %lld", limits[i].key,
                             (long long)limits[i].max) != 0;
        w->mask |= limits[i].flag;
    }
    if (bad) {
        api_input_error(c, &in);
        json_decref(body);
        return 0;
    }
    return http_write_submit(c, w, on_retention_written, NULL, body);
}
