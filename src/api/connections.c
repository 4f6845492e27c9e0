/* Native API: connections (create, list, get, update, delete). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/expectations.h"
#include "api/render.h"
#include "api/runconfig.h"

enum { CONN_LIST_DEFAULT = 25, CONN_LIST_MAX = 100 };

static const char *const connection_fields[] = {"name",
                                                "source",
                                                "destination",
                                                "connector_type",
                                                "overlap",
                                                "retention_days",
                                                "retention_keep_last",
                                                "retention_failure_days",
                                                "expect",
                                                NULL};

/* The retention overrides: null = the workspace's policy, 0 = no limit, else the limit. */
static int read_retention(input_t *in, store_write_t *w)
{
    static const struct {
        const char *key;
        unsigned flag;
        int64_t max;
        size_t off;
    } fields[] = {
        {"retention_days", CONN_F_RET_DAYS, RETENTION_DAYS_MAX, offsetof(connection_t, retention_days)},
        {"retention_keep_last", CONN_F_RET_KEEP_LAST, RETENTION_KEEP_LAST_MAX,
         offsetof(connection_t, retention_keep_last)},
        {"retention_failure_days", CONN_F_RET_FAILURE_DAYS, RETENTION_DAYS_MAX,
         offsetof(connection_t, retention_failure_days)},
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        int64_t *dst = (int64_t *)(void *)((char *)&w->conn + fields[i].off);
        json_t *v = json_object_get(in->obj, fields[i].key);
        if (v == NULL)
            continue;
        if (json_is_null(v)) {
            *dst = RETENTION_INHERIT;
        } else if (input_int(in, fields[i].key, 0, fields[i].max, dst) < 0) {
            return input_fail(in, "invalid_field", fields[i].key,
                              "%s must be null (the workspace's), 0 (no limit) or an integer up to %lld", fields[i].key,
                              (long long)fields[i].max);
        }
        w->mask |= fields[i].flag;
    }
    return 0;
}

/* Reads the connection fields of body into w->conn, with a bit in w->mask for each field sent (an
 * update changes only those, merged into the row by the writer). cur: the connection an update
 * changes; NULL to create one. Returns 0, or -1 with in set. */
static int read_connection(input_t *in, store_write_t *w, const connection_t *cur, arena_t *a)
{
    const char *s;
    int rc, overlap, create = cur == NULL;
    if (input_known2(in, connection_fields, runconfig_fields) != 0)
        return -1;
    if ((rc = input_string(in, "name", IN_NAME_MAX, create, 0, &s)) < 0)
        return -1;
    if (rc == 1) {
        if (*s == '\0')
            return input_fail(in, "invalid_field", "name", "name must not be empty");
        w->conn.name = s;
        w->mask |= CONN_F_NAME;
    }
    static const struct {
        const char *key;
        unsigned flag;
        size_t off;
    } optional[] = {
        {"source", CONN_F_SOURCE, offsetof(connection_t, source)},
        {"destination", CONN_F_DESTINATION, offsetof(connection_t, destination)},
        {"connector_type", CONN_F_CONNECTOR_TYPE, offsetof(connection_t, connector_type)},
    };
    for (size_t i = 0; i < sizeof(optional) / sizeof(optional[0]); i++) {
        const char *v = NULL;
        if ((rc = input_string(in, optional[i].key, IN_NAME_MAX, 0, 1, &v)) < 0)
            return -1;
        if (rc == 1 || json_is_null(json_object_get(in->obj, optional[i].key))) {
            *(const char **)((char *)&w->conn + optional[i].off) = rc == 1 ? v : NULL;
            w->mask |= optional[i].flag;
        }
    }
    if ((rc = input_enum(in, "overlap", overlap_parse, "skip, queue, attach, replace", &overlap)) < 0)
        return -1;
    w->conn.overlap = rc == 1 ? (overlap_policy_t)overlap : OVERLAP_SKIP;
    if (rc == 1)
        w->mask |= CONN_F_OVERLAP;
    if (read_retention(in, w) != 0 || expectations_read(in, &w->conn, &w->mask, cur) != 0)
        return -1;
    return runconfig_read(in, create, &w->conn, &w->mask, a);
}

static void on_connection_written(http_ctx_t *c, store_write_t *w, void *data)
{
    int status = (int)(intptr_t)data;
    if (w->err != STORE_OK) {
        api_store_error(c, w->err, w->err_field);
        return;
    }
    if (w->op == OP_CONNECTION_DELETE) {
        http_send_json(c, 204, NULL);
        return;
    }
    if (status == 201) {
        char loc[64];
        snprintf(loc, sizeof(loc), "/v1/connections/%lld", (long long)w->conn.id);
        http_add_header(c, "location", loc);
    }
    http_send_json(c, status, render_connection(&w->conn));
}

int native_connection_create(http_ctx_t *c)
{
    json_t *body = http_body_json(c, 0);
    if (body == NULL)
        return 0;
    input_t in;
    input_init(&in, body);
    store_write_t *w = http_write_new(c);
    w->op = OP_CONNECTION_CREATE;
    w->workspace_id = c->key.workspace_id;
    if (read_connection(&in, w, NULL, &c->arena) != 0) {
        api_input_error(c, &in);
        json_decref(body);
        return 0;
    }
    return http_write_submit(c, w, on_connection_written, (void *)(intptr_t)201, body);
}

int native_connection_list(http_ctx_t *c)
{
    int64_t limit, after = 0;
    if (api_query_int(c, "limit", 1, CONN_LIST_MAX, CONN_LIST_DEFAULT, &limit) != 0)
        return 0;
    const char *cursor = http_query(c, "cursor");
    if (cursor != NULL && parse_cursor(cursor, &after) != 0)
        return http_error(c, 400, "invalid_query", "cursor is not a cursor this server returned", "cursor");
    connection_t *rows;
    int n;
    /* One more than asked tells whether there is a next page. */
    store_err_t e = store_connection_list(c->reader, c->key.workspace_id, after, (int)limit + 1, &c->arena, &rows, &n);
    if (e != STORE_OK)
        return api_store_error(c, e, NULL);
    json_t *data = json_array();
    for (int i = 0; i < n && i < limit; i++)
        json_array_append_new(data, render_connection(&rows[i]));
    return http_send_json(c, 200, render_page(data, n > limit, n > limit ? rows[limit - 1].id : 0));
}

int api_connection_slice(http_ctx_t *c, int64_t skip, int limit, connection_t **out, int *n)
{
    enum { CHUNK = 1000 };
    int64_t after = 0;
    store_err_t e = STORE_OK;
    *out = NULL;
    *n = 0;
    /* skip whole chunks by keyset, then read the page from where they end */
    while (skip > 0 && e == STORE_OK) {
        connection_t *rows;
        int k, want = skip < CHUNK ? (int)skip : CHUNK;
        if ((e = store_connection_list(c->reader, c->key.workspace_id, after, want, &c->arena, &rows, &k)) != STORE_OK)
            break;
        if (k < want)
            return 0; /* fewer connections than skipped: an empty page */
        after = rows[k - 1].id;
        skip -= k;
    }
    if (e == STORE_OK && limit > 0)
        e = store_connection_list(c->reader, c->key.workspace_id, after, limit, &c->arena, out, n);
    if (e != STORE_OK) {
        api_store_error(c, e, NULL);
        return -1;
    }
    return 0;
}

int native_connection_get(http_ctx_t *c)
{
    connection_t cn;
    if (api_load_connection(c, 0, &cn) != 0)
        return 0;
    return http_send_json(c, 200, render_connection(&cn));
}

int native_connection_update(http_ctx_t *c)
{
    connection_t cn;
    if (api_load_connection(c, 0, &cn) != 0)
        return 0;
    json_t *body = http_body_json(c, 0);
    if (body == NULL)
        return 0;
    input_t in;
    input_init(&in, body);
    store_write_t *w = http_write_new(c);
    w->op = OP_CONNECTION_UPDATE;
    w->workspace_id = c->key.workspace_id;
    w->id = cn.id;
    if (read_connection(&in, w, &cn, &c->arena) != 0) {
        api_input_error(c, &in);
        json_decref(body);
        return 0;
    }
    return http_write_submit(c, w, on_connection_written, (void *)(intptr_t)200, body);
}

int native_connection_delete(http_ctx_t *c)
{
    connection_t cn;
    if (api_load_connection(c, 0, &cn) != 0)
        return 0;
    store_write_t *w = http_write_new(c);
    w->op = OP_CONNECTION_DELETE;
    w->workspace_id = c->key.workspace_id;
    w->id = cn.id;
    return http_write_submit(c, w, on_connection_written, (void *)(intptr_t)204, NULL);
}
