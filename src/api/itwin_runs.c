/* Bentley iTwin Synchronization dialect: starting runs and reading connections, the routes the
 * iTwin clients call around the run history (itwin.c).
 *   POST /synchronization/imodels/manifestconnections/{connectionId}/runs
 *   POST /synchronization/imodels/storageconnections/{connectionId}/run
 *   GET  /synchronization/imodels/{manifest,storage,}connections[?imodelId=&$skip=&$top=]
 *   GET  /synchronization/imodels/{manifest,storage}connections/{connectionId}
 * Manifest and storage connections are the same syncrun connections; the workspace plays the
 * iModel (iModelId is its UUID). docs/API.md says what differs from Bentley's API. */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/itwin.h"
#include "api/render.h"
#include "util/ids.h"

enum { ITWIN_CONN_TOP_DEFAULT = 100, ITWIN_CONN_TOP_MAX = 1000, ITWIN_CONN_SKIP_MAX = 2147483647 };

#define ITWIN_CONN_422_CODE "InvalidManifestConnectionRunsRequest"

/* The absolute URL of run `run_uuid` of connection `conn_uuid`. */
static const char *itwin_run_href(http_ctx_t *c, const char *conn_uuid, const char *run_uuid)
{
    char path[128];
    snprintf(path, sizeof(path), "/%s/runs/%s", conn_uuid, run_uuid);
    return itwin_href(c, path);
}

/* ---- POST …/runs (…/run): start a run ---- */

/* 202 + Location of the new run; 303 + Location of the run already queued or working (Bentley
 * starts no second run of a connection). The writer decides, so two racing requests start one run
 * and the other is sent to it: Bentley's 409 ("a run request is already being processed") is
 * never needed. */
static void itwin_on_run_created(http_ctx_t *c, store_write_t *w, void *data)
{
    if (w->err == STORE_NOT_FOUND) { /* deleted since it was read */
        if (itwin_is_storage(c))
            http_error(c, 404, "StorageConnectionNotFound", "Requested StorageConnection is not available.", NULL);
        else
            http_error(c, 404, "ManifestConnectionNotFound", "Requested ManifestConnection is not available.", NULL);
        return;
    }
    if (w->err != STORE_OK) {
        api_store_error(c, w->err, w->err_field);
        return;
    }
    http_add_header(c, "location", itwin_run_href(c, w->run.connection_uuid, w->run.uuid));
    http_send_json(c, w->trigger_outcome == TRIGGER_ATTACHED ? 303 : 202, NULL);
}

int itwin_run_create(http_ctx_t *c)
{
    char uuid[IDS_UUID_LEN], bad[64] = "";
    if (itwin_connection_param(c, uuid, bad, sizeof(bad)) != 0)
        return http_error(c, 422, ITWIN_CONN_422_CODE, "Cannot perform operation.", bad);
    connection_t cn;
    if (itwin_load_connection(c, uuid, &cn) != 0)
        return 0;
    /* The body (manifest-run-create) names nothing syncrun's model has: it is not read, and an
     * Idempotency-Key is fingerprinted by the route alone. */
    static const char fingerprint[] = "itwin run";
    store_write_t *w = api_trigger_begin(c, &cn, fingerprint, sizeof(fingerprint) - 1);
    if (w == NULL)
        return 0;
    w->trigger.initial_state = RUN_QUEUED;
    w->trigger.attach_active = 1;
    api_trigger_defaults(c, &w->trigger);
    return http_write_submit(c, w, itwin_on_run_created, NULL, NULL);
}

/* ---- GET …connections[/{connectionId}] ---- */

/* A connection as Bentley's manifest-connection / storage-connection. syncrun keys are service
 * credentials: authenticationType is always "Service". */
static json_t *itwin_connection(http_ctx_t *c, const connection_t *cn, const char *imodel_id, const run_t *last)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "id", cn->uuid, "displayName", cn->name, "iModelId", imodel_id,
                          "authenticationType", "Service");
    if (last != NULL)
        json_object_set_new(o, "_links",
                            json_pack("{s:{s:s}}", "lastRun", "href", itwin_run_href(c, cn->uuid, last->uuid)));
    return o;
}

/* The workspace's UUID, which stands for the iModel. */
static int itwin_imodel_id(http_ctx_t *c, workspace_t *ws)
{
    store_err_t e = store_workspace_get(c->reader, c->key.workspace_id, &c->arena, ws);
    if (e != STORE_OK) {
        api_store_error(c, e, NULL);
        return -1;
    }
    return 0;
}

int itwin_connection_get(http_ctx_t *c)
{
    char uuid[IDS_UUID_LEN], bad[64] = "";
    if (itwin_connection_param(c, uuid, bad, sizeof(bad)) != 0)
        return http_error(c, 422, ITWIN_CONN_422_CODE, "Cannot perform operation.", bad);
    connection_t cn;
    workspace_t ws;
    if (itwin_load_connection(c, uuid, &cn) != 0 || itwin_imodel_id(c, &ws) != 0)
        return 0;
    run_t *last = NULL;
    int n = 0;
    store_err_t e = STORE_OK;
    if (cn.run_count > 0 && (e = store_run_range(c->reader, c->key.workspace_id, cn.id, cn.run_count, cn.run_count, 0,
                                                 &c->arena, &last, &n)) != STORE_OK)
        return api_store_error(c, e, NULL);
    return http_send_json(c, 200, json_pack("{s:o}", "connection", itwin_connection(c, &cn, ws.uuid, n ? last : NULL)));
}

/* Query parameter `name` as an integer in [min, max] (absent: def); adds name to bad when invalid. */
static void itwin_conn_query_int(http_ctx_t *c, const char *name, int64_t min, int64_t max, int64_t def, int64_t *out,
                                 char *bad, size_t badlen)
{
    const char *v = http_query(c, name);
    *out = def;
    if (v != NULL && ids_parse_i64(v, strlen(v), min, max, out) != 0) {
        size_t k = strlen(bad);
        snprintf(bad + k, badlen - k, "%s%s", k ? "," : "", name);
    }
}

/* A page link of the list the client asked for: GET /synchronization/imodels/connections (Bentley's
 * list of every kind of connection, the sample app's first call) links to itself, the manifest and
 * storage lists to theirs (itwin_href). */
static json_t *itwin_conn_link(http_ctx_t *c, const char *imodel_id, int64_t skip, int64_t top)
{
    char path[160];
    snprintf(path, sizeof(path), "?imodelId=%s&$skip=%lld&$top=%lld", imodel_id, (long long)skip, (long long)top);
    if (strstr(c->route->pattern, "/imodels/connections") == NULL)
        return json_pack("{s:s}", "href", itwin_href(c, path));
    static const char fmt[] = "%s://%s/synchronization/imodels/connections%s";
    const char *scheme = http_scheme(c), *host = http_host(c);
    int n = snprintf(NULL, 0, fmt, scheme, host, path);
    char *href = arena_alloc(&c->arena, (size_t)n + 1);
    snprintf(href, (size_t)n + 1, fmt, scheme, host, path);
    return json_pack("{s:s}", "href", href);
}

int itwin_connection_list(http_ctx_t *c)
{
    char bad[64] = "";
    int64_t skip, top;
    itwin_conn_query_int(c, "$skip", 0, ITWIN_CONN_SKIP_MAX, 0, &skip, bad, sizeof(bad));
    itwin_conn_query_int(c, "$top", 1, ITWIN_CONN_TOP_MAX, ITWIN_CONN_TOP_DEFAULT, &top, bad, sizeof(bad));
    if (bad[0] != '\0')
        return http_error(c, 422, ITWIN_CONN_422_CODE, "Cannot perform operation.", bad);
    workspace_t ws;
    if (itwin_imodel_id(c, &ws) != 0)
        return 0;
    /* Every connection belongs to the workspace's one "iModel": another iModel has none. */
    const char *imodel = http_query(c, "imodelId");
    char norm[IDS_UUID_LEN];
    int other = imodel != NULL && (ids_uuid_normalize(imodel, norm) != 0 || strcmp(norm, ws.uuid) != 0);
    connection_t *rows = NULL;
    int n = 0;
    int64_t total = 0;
    store_err_t e;
    if (!other) {
        if ((e = store_connection_count(c->reader, c->key.workspace_id, &total)) != STORE_OK)
            return api_store_error(c, e, NULL);
        if (skip < total && api_connection_slice(c, skip, (int)top, &rows, &n) != 0)
            return 0;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, itwin_connection(c, &rows[i], ws.uuid, NULL));
    json_t *links = json_object();
    json_object_set_new(links, "self", itwin_conn_link(c, ws.uuid, skip, top));
    if (skip > 0 && !other)
        json_object_set_new(links, "prev", itwin_conn_link(c, ws.uuid, skip > top ? skip - top : 0, top));
    if (skip + top < total)
        json_object_set_new(links, "next", itwin_conn_link(c, ws.uuid, skip + top, top));
    return http_send_json(c, 200, json_pack("{s:o, s:o}", "connections", arr, "_links", links));
}
