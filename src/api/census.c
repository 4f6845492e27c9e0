/* Census dialect: sync runs exactly as Census's API answers them (seeds 001 and 003).
 *   GET /api/v1/syncs/{sync_id}/sync_runs?page=&per_page=&order=
 *   GET /api/v1/sync_runs/{sync_run_id}
 * A Census "sync" is a connection; ids are the integer ids. */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/import.h"
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

/* Census status (+ canceled, records_failed) → canonical state and result. */
static int census_state(const char *status, int canceled, int64_t failed, run_state_t *state, run_result_t *result)
{
    *result = RESULT_NONE;
    if (strcmp(status, "queued") == 0)
        *state = RUN_QUEUED;
    else if (strcmp(status, "working") == 0)
        *state = RUN_WORKING;
    else if (strcmp(status, "completed") == 0)
        *state = RUN_FINISHED, *result = failed > 0 ? RESULT_PARTIAL : RESULT_SUCCESS;
    else if (strcmp(status, "failed") == 0)
        *state = RUN_FINISHED, *result = canceled ? RESULT_CANCELED : RESULT_ERROR;
    else if (strcmp(status, "skipped") == 0)
        *state = RUN_FINISHED, *result = RESULT_SKIPPED;
    else
        return -1;
    return 0;
}

static const char *const census_counter_keys[CTR_COUNT] = {
    [CTR_SOURCE_RECORD_COUNT] = "source_record_count",
    [CTR_SOURCE_RECORD_UPDATES] = "source_record_updates",
    [CTR_SOURCE_RECORD_DELETES] = "source_record_deletes",
    [CTR_SOURCE_RECORD_INVALIDS] = "source_record_invalids",
    [CTR_RECORDS_PROCESSED] = "records_processed",
    [CTR_RECORDS_UPDATED] = "records_updated",
    [CTR_RECORDS_FAILED] = "records_failed",
    [CTR_RECORDS_INVALID] = "records_invalid",
};

int census_import_parse(json_t *doc, arena_t *a, store_import_t **out, int *n, input_t *err)
{
    /* A list response ({"data": [...]}) or a single-run response ({"data": {...}}). */
    json_t *data = json_object_get(doc, "data");
    json_t *one = json_is_object(data) ? json_pack("[O]", data) : NULL;
    json_t *list = one ? one : import_array(err, doc, "data", IMPORT_MAX_RUNS);
    if (list == NULL)
        return -1;
    int count = (int)json_array_size(list), rc = -1;
    store_import_t *runs = arena_alloc(a, sizeof(*runs) * (size_t)(count ? count : 1));
    for (int i = 0; i < count; i++) {
        json_t *item = json_array_get(list, (size_t)i);
        run_t *r = &runs[i].run;
        const char *status = NULL;
        int64_t id;
        int canceled = 0;
        if (!json_is_object(item)) {
            import_fail(err, "data", i, NULL, "must be an object");
            goto out;
        }
        if (import_int(err, item, "data", i, "id", 1, INT64_MAX, 1, &id) < 0 ||
            import_time(err, item, "data", i, "created_at", 1, &r->created_at) < 0 ||
            import_time(err, item, "data", i, "updated_at", 0, &r->updated_at) < 0 ||
            import_time(err, item, "data", i, "completed_at", 0, &r->completed_at) < 0 ||
            import_time(err, item, "data", i, "scheduled_execution_time", 0, &r->scheduled_at) < 0 ||
            import_string(err, item, "data", i, "status", 32, 1, &status) < 0 ||
            import_bool(err, item, "data", i, "canceled", 0, &canceled) < 0 ||
            import_bool(err, item, "data", i, "full_sync", 0, &r->full_sync) < 0 ||
            import_string(err, item, "data", i, "error_code", IN_NAME_MAX, 0, &r->error_code) < 0 ||
            import_string(err, item, "data", i, "error_message", IN_TEXT_MAX, 0, &r->error_message) < 0 ||
            import_string(err, item, "data", i, "error_detail", IN_DETAIL_MAX, 0, &r->error_detail) < 0 ||
            import_string(err, item, "data", i, "current_step", IN_NAME_MAX, 0, &r->current_step) < 0)
            goto out;
        for (int k = 0; k < CTR_COUNT; k++)
            if (import_int(err, item, "data", i, census_counter_keys[k], 0, INT64_MAX, 0, &r->counters[k]) < 0)
                goto out;
        json_t *reason = json_object_get(item, "sync_trigger_reason");
        if (reason != NULL && !json_is_null(reason)) {
            if (!json_is_object(reason)) {
                import_fail(err, "data", i, "sync_trigger_reason", "must be an object");
                goto out;
            }
            if (import_string(err, reason, "data", i, "ui_tag", IN_NAME_MAX, 0, &r->trigger_tag) < 0 ||
                import_string(err, reason, "data", i, "ui_detail", 1000, 0, &r->trigger_detail) < 0) {
                /* name the nested field by its full path */
                snprintf(err->field_buf, sizeof(err->field_buf), "data[%d].sync_trigger_reason", i);
                err->field = err->field_buf;
                goto out;
            }
        }
        if (census_state(status, canceled, r->counters[CTR_RECORDS_FAILED], &r->state, &r->result) != 0) {
            import_fail(err, "data", i, "status", "must be one of working, completed, failed, skipped, queued");
            goto out;
        }
        char ext[24];
        snprintf(ext, sizeof(ext), "%lld", (long long)id);
        r->external_id = arena_strdup(a, ext);
    }
    *out = runs;
    *n = count;
    rc = 0;
out:
    json_decref(one);
    return rc;
}
