/* Census dialect: sync runs exactly as Census's API answers them (seeds 001 and 003).
 *   GET /api/v1/syncs/{sync_id}/sync_runs?page=&per_page=&order=
 *   GET /api/v1/sync_runs/{sync_run_id}
 * A Census "sync" is a connection; ids are the integer ids. */
#include <string.h>

#include "api/api.h"
#include "api/render.h"
#include "model/paging.h"
#include "util/ids.h"

enum { CENSUS_PER_PAGE_DEFAULT = 25, CENSUS_PER_PAGE_MAX = 100 };

static void census_send_error(http_ctx_t *c, int status, const char *code, const char *message, const char *field)
{
    http_send_json(c, status, json_pack("{s:s, s:s}", "status", "error", "message", message));
}

const http_dialect_t census_dialect = {"census", census_send_error};

/* One run in Census's shape, keys in the seed's order. */
static json_t *census_run(const run_t *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(r->id));
    json_object_set_new(o, "created_at", render_time(r->created_at));
    json_object_set_new(o, "updated_at", render_time(r->updated_at));
    json_object_set_new(o, "completed_at", render_time(r->completed_at));
    json_object_set_new(o, "error_code", render_str(r->error_code));
    json_object_set_new(o, "error_message", render_str(r->error_message));
    json_object_set_new(o, "error_detail", render_str(r->error_detail));
    json_object_set_new(o, "status", json_string(census_status(r->state, r->result)));
    json_object_set_new(o, "sync_id", json_integer(r->connection_id));
    json_object_set_new(o, "source_record_count", json_integer(r->counters[CTR_SOURCE_RECORD_COUNT]));
    json_object_set_new(o, "records_failed", json_integer(r->counters[CTR_RECORDS_FAILED]));
    json_object_set_new(o, "source_record_updates", json_integer(r->counters[CTR_SOURCE_RECORD_UPDATES]));
    json_object_set_new(o, "source_record_deletes", json_integer(r->counters[CTR_SOURCE_RECORD_DELETES]));
    json_object_set_new(o, "source_record_invalids", json_integer(r->counters[CTR_SOURCE_RECORD_INVALIDS]));
    json_object_set_new(o, "records_invalid", json_integer(r->counters[CTR_RECORDS_INVALID]));
    json_object_set_new(o, "records_processed", json_integer(r->counters[CTR_RECORDS_PROCESSED]));
    json_object_set_new(o, "records_updated", json_integer(r->counters[CTR_RECORDS_UPDATED]));
    json_object_set_new(o, "scheduled_execution_time", render_time(r->scheduled_at));
    json_object_set_new(o, "full_sync", json_boolean(r->full_sync));
    json_object_set_new(
        o, "sync_trigger_reason",
        json_pack("{s:o, s:o}", "ui_tag", render_str(r->trigger_tag), "ui_detail", render_str(r->trigger_detail)));
    json_object_set_new(o, "canceled", json_boolean(r->result == RESULT_CANCELED));
    json_object_set_new(o, "current_step", render_str(r->current_step));
    return o;
}

/* Census ids are positive integers; anything else names no sync or run. */
static int census_id(http_ctx_t *c, int i, int64_t *id)
{
    const char *p = c->params[i];
    return ids_parse_i64(p, strlen(p), 1, INT64_MAX, id);
}

int census_sync_runs(http_ctx_t *c)
{
    int64_t sync_id, page, per_page;
    if (api_query_int(c, "page", 0, INT32_MAX, 1, &page) != 0 ||
        api_query_int(c, "per_page", 1, CENSUS_PER_PAGE_MAX, CENSUS_PER_PAGE_DEFAULT, &per_page) != 0)
        return 0;
    const char *order = http_query(c, "order");
    int asc = 0;
    if (order != NULL) {
        if (strcmp(order, "asc") != 0 && strcmp(order, "desc") != 0)
            return http_error(c, 400, "invalid_query", "order must be asc or desc", "order");
        asc = strcmp(order, "asc") == 0;
    }
    connection_t cn;
    store_err_t e = census_id(c, 0, &sync_id) == 0
                        ? store_connection_get(c->reader, c->key.workspace_id, sync_id, &c->arena, &cn)
                        : STORE_NOT_FOUND;
    if (e == STORE_NOT_FOUND)
        return http_error(c, 404, "not_found", "Sync not found", NULL);
    if (e != STORE_OK)
        return api_store_error(c, e, NULL);

    page_window_t win;
    paging_window(cn.run_count, page, per_page, asc, &win);
    run_t *runs = NULL;
    int n = 0;
    if ((e = store_run_range(c->reader, c->key.workspace_id, cn.id, win.lo, win.hi, asc, &c->arena, &runs, &n)) !=
        STORE_OK)
        return api_store_error(c, e, NULL);
    json_t *data = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(data, census_run(&runs[i]));
    json_t *pagination = json_object();
    json_object_set_new(pagination, "total_records", json_integer(cn.run_count));
    json_object_set_new(pagination, "per_page", json_integer(per_page));
    json_object_set_new(pagination, "prev_page", win.prev_page ? json_integer(win.prev_page) : json_null());
    json_object_set_new(pagination, "page", json_integer(win.page));
    json_object_set_new(pagination, "next_page", win.next_page ? json_integer(win.next_page) : json_null());
    json_object_set_new(pagination, "last_page", json_integer(win.last_page));
    return http_send_json(c, 200,
                          json_pack("{s:s, s:o, s:o}", "status", "success", "pagination", pagination, "data", data));
}

int census_sync_run(http_ctx_t *c)
{
    int64_t id;
    run_t r;
    store_err_t e =
        census_id(c, 0, &id) == 0 ? store_run_get(c->reader, c->key.workspace_id, id, &c->arena, &r) : STORE_NOT_FOUND;
    if (e == STORE_NOT_FOUND)
        return http_error(c, 404, "not_found", "Sync run not found", NULL);
    if (e != STORE_OK)
        return api_store_error(c, e, NULL);
    return http_send_json(c, 200, json_pack("{s:s, s:o}", "status", "success", "data", census_run(&r)));
}
