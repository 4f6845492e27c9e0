/* GET /v1/whoami: the key the request came with (id, scope, the run it is limited to) and its
 * workspace, so that a client such as the dashboard can tell what the key may do (it shows write
 * buttons only to a key that may write) without trying. */
#include "api/api.h"
#include "api/render.h"

int native_whoami(http_ctx_t *c)
{
    workspace_t ws;
    store_err_t e = store_workspace_get(c->reader, c->key.workspace_id, &c->arena, &ws);
    if (e != STORE_OK)
        return api_store_error(c, e, NULL);
    json_t *body = json_pack("{s:I, s:s, s:b, s:o, s:{s:I, s:s, s:o}}", "key_id", (json_int_t)c->key.key_id, "scope",
                             scope_name(c->key.scope), "can_write", scope_allows(c->key.scope, SCOPE_RUNS_WRITE),
                             "run_id", c->key.run_id > 0 ? json_integer(c->key.run_id) : json_null(), "workspace", "id",
                             (json_int_t)ws.id, "uuid", ws.uuid, "name", render_str(ws.name));
    return http_send_json(c, 200, body);
}
