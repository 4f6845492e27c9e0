/* The native alert routes: what the writer raised about a workspace's connections, oldest first,
 * paged by keyset (an alert's id), the same list webhooks deliver from. */
#include "api/api.h"
#include "api/render.h"

enum { ALERT_LIST_DEFAULT = 100, ALERT_LIST_MAX = 1000 };

/* Answers a page of the alerts of connection conn_id (0: all) of the caller's workspace. */
static int alert_page(http_ctx_t *c, int64_t conn_id)
{
    int64_t limit, after = 0;
    if (api_query_int(c, "limit", 1, ALERT_LIST_MAX, ALERT_LIST_DEFAULT, &limit) != 0)
        return 0;
    const char *cursor = http_query(c, "cursor");
    if (cursor != NULL && parse_cursor(cursor, &after) != 0)
        return http_error(c, 400, "invalid_query", "cursor is not a cursor this server returned", "cursor");
    alert_t *al;
    int n;
    store_err_t e =
        store_alert_list(c->reader, c->key.workspace_id, conn_id, after, (int)limit + 1, &c->arena, &al, &n);
    if (e != STORE_OK)
        return api_store_error(c, e, NULL);
    json_t *data = json_array();
    for (int i = 0; i < n && i < limit; i++)
        json_array_append_new(data, render_alert(&al[i]));
    return http_send_json(c, 200, render_page(data, n > limit, n > limit ? al[limit - 1].id : 0));
}

int native_alert_list(http_ctx_t *c)
{
    return alert_page(c, 0);
}

int native_connection_alerts(http_ctx_t *c)
{
    connection_t cn;
    if (api_load_connection(c, 0, &cn) != 0)
        return 0;
    return alert_page(c, cn.id);
}
