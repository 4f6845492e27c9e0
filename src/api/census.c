/* Census dialect: sync runs exactly as Census's API answers them (seeds 001 and 003).
 *   GET /api/v1/syncs/{sync_id}/sync_runs?page=&per_page=&order=
 *   GET /api/v1/sync_runs/{sync_run_id}
 * A Census "sync" is a connection; ids are the integer ids. */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/import.h"
#include "api/rcache.h"
#include "api/render.h"
#include "model/paging.h"
#include "util/ids.h"
#include "util/jsonw.h"

enum { CENSUS_PER_PAGE_DEFAULT = 25, CENSUS_PER_PAGE_MAX = 100 };

static void census_send_error(http_ctx_t *c, int status, const char *code, const char *message, const char *field)
{
    http_send_json(c, status, json_pack("{s:s, s:s}", "status", "error", "message", message));
}

const http_dialect_t census_dialect = {"census", census_send_error};

/* One run in Census's shape, keys in the seed's order, appended to b. */
static void census_write_run(buf_t *b, const run_t *r)
{
    JW_LIT(b, "{");
    JW_KEY(b, "id");
    jw_int(b, r->id);
    JW_LIT(b, ",");
    JW_KEY(b, "created_at");
    jw_time(b, r->created_at);
    JW_LIT(b, ",");
    JW_KEY(b, "updated_at");
    jw_time(b, r->updated_at);
    JW_LIT(b, ",");
    JW_KEY(b, "completed_at");
    jw_time(b, r->completed_at);
    JW_LIT(b, ",");
    JW_KEY(b, "error_code");
    jw_str(b, r->error_code);
    JW_LIT(b, ",");
    JW_KEY(b, "error_message");
    jw_str(b, r->error_message);
    JW_LIT(b, ",");
    JW_KEY(b, "error_detail");
    jw_str(b, r->error_detail);
    JW_LIT(b, ",");
    JW_KEY(b, "status");
    jw_str(b, census_status(r->state, r->result));
    JW_LIT(b, ",");
    JW_KEY(b, "sync_id");
    jw_int(b, r->connection_id);
    static const struct {
        const char *key;
        counter_t c;
    } counters[] = {
        {",\"source_record_count\":", CTR_SOURCE_RECORD_COUNT},
        {",\"records_failed\":", CTR_RECORDS_FAILED},
        {",\"source_record_updates\":", CTR_SOURCE_RECORD_UPDATES},
        {",\"source_record_deletes\":", CTR_SOURCE_RECORD_DELETES},
        {",\"source_record_invalids\":", CTR_SOURCE_RECORD_INVALIDS},
        {",\"records_invalid\":", CTR_RECORDS_INVALID},
        {",\"records_processed\":", CTR_RECORDS_PROCESSED},
        {",\"records_updated\":", CTR_RECORDS_UPDATED},
    };
    for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
        buf_adds(b, counters[i].key);
        jw_int(b, r->counters[counters[i].c]);
    }
    JW_LIT(b, ",");
    JW_KEY(b, "scheduled_execution_time");
    jw_time(b, r->scheduled_at);
    JW_LIT(b, ",");
    JW_KEY(b, "full_sync");
    jw_bool(b, r->full_sync);
    JW_LIT(b, ",");
    JW_KEY(b, "sync_trigger_reason");
    JW_LIT(b, "{");
    JW_KEY(b, "ui_tag");
    jw_str(b, r->trigger_tag);
    JW_LIT(b, ",");
    JW_KEY(b, "ui_detail");
    jw_str(b, r->trigger_detail);
    JW_LIT(b, "},");
    JW_KEY(b, "canceled");
    jw_bool(b, r->result == RESULT_CANCELED);
    JW_LIT(b, ",");
    JW_KEY(b, "current_step");
    jw_str(b, r->current_step);
    JW_LIT(b, "}");
}

/* Appends the rendering of r, from the cache when r is finished and was rendered before. */
static void census_append_run(buf_t *b, const run_t *r)
{
    size_t len;
    const char *hit = r->state == RUN_FINISHED ? rcache_get(RCACHE_CENSUS, r->id, r->version, &len) : NULL;
    if (hit != NULL) {
        buf_add(b, hit, len);
        return;
    }
    size_t start = b->len;
    census_write_run(b, r);
    if (r->state == RUN_FINISHED && !buf_failed(b) && b->len > start)
        rcache_put(RCACHE_CENSUS, r->id, r->version, b->data + start, b->len - start);
}

/* A page reads its uncached runs one by one up to this many, else with one range query. */
enum { CENSUS_SINGLE_READS = 4 };

/* Answers are at most this large (100 runs of long error texts stay far below). */
#define CENSUS_BODY_MAX (64 * 1024 * 1024)

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
    /* The page's keys first: a finished run rendered before comes from the cache, and only the
     * other runs of the page (live ones, or not rendered yet) are read and rendered. */
    run_key_t *keys = NULL;
    int nkeys = 0;
    if ((e = store_run_keys(c->reader, c->key.workspace_id, cn.id, win.lo, win.hi, asc, &c->arena, &keys, &nkeys)) !=
        STORE_OK)
        return api_store_error(c, e, NULL);
    buf_t b = BUF_INIT(CENSUS_BODY_MAX);
    JW_LIT(&b, "{\"status\":\"success\",\"pagination\":{");
    JW_KEY(&b, "total_records");
    jw_int(&b, cn.run_count);
    JW_LIT(&b, ",");
    JW_KEY(&b, "per_page");
    jw_int(&b, per_page);
    JW_LIT(&b, ",");
    JW_KEY(&b, "prev_page");
    if (win.prev_page)
        jw_int(&b, win.prev_page);
    else
        JW_LIT(&b, "null");
    JW_LIT(&b, ",");
    JW_KEY(&b, "page");
    jw_int(&b, win.page);
    JW_LIT(&b, ",");
    JW_KEY(&b, "next_page");
    if (win.next_page)
        jw_int(&b, win.next_page);
    else
        JW_LIT(&b, "null");
    JW_LIT(&b, ",");
    JW_KEY(&b, "last_page");
    jw_int(&b, win.last_page);
    /* Finished runs rendered before come from the cache; the others are read: one by one when they
     * are few (a live run or two), else with one range query. */
    int misses = 0;
    size_t len;
    for (int i = 0; i < nkeys; i++)
        misses += keys[i].state != RUN_FINISHED || rcache_get(RCACHE_CENSUS, keys[i].id, keys[i].version, &len) == NULL;
    run_t *rows = NULL;
    int nrows = 0;
    if (misses > CENSUS_SINGLE_READS && (e = store_run_range(c->reader, c->key.workspace_id, cn.id, win.lo, win.hi, asc,
                                                             &c->arena, &rows, &nrows)) != STORE_OK) {
        buf_release(&b);
        return api_store_error(c, e, NULL);
    }
    JW_LIT(&b, "},\"data\":[");
    for (int i = 0, k = 0; i < nkeys; i++) {
        if (i > 0)
            JW_LIT(&b, ",");
        /* looked up again here: rendering a run puts it in the cache, which may evict another */
        const char *hit =
            keys[i].state == RUN_FINISHED ? rcache_get(RCACHE_CENSUS, keys[i].id, keys[i].version, &len) : NULL;
        if (hit != NULL) {
            buf_add(&b, hit, len);
            continue;
        }
        run_t one, *r = NULL;
        while (rows != NULL && k < nrows && rows[k].id != keys[i].id)
            k++;
        if (rows != NULL && k < nrows) {
            r = &rows[k];
        } else if ((e = store_run_get(c->reader, c->key.workspace_id, keys[i].id, &c->arena, &one)) == STORE_OK) {
            r = &one;
        } else {
            buf_release(&b);
            return api_store_error(c, e, NULL);
        }
        census_append_run(&b, r);
    }
    JW_LIT(&b, "]}");
    return render_send_buf(c, 200, &b);
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
    buf_t b = BUF_INIT(CENSUS_BODY_MAX);
    JW_LIT(&b, "{\"status\":\"success\",\"data\":");
    census_append_run(&b, &r);
    JW_LIT(&b, "}");
    return render_send_buf(c, 200, &b);
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
