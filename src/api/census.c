/* Census dialect: sync runs exactly as Census's API answers them (seeds 001 and 003), and the sync
 * routes Census clients call around them (Census's API docs, basics/api/syncs.md):
 *   GET  /api/v1/syncs/{sync_id}/sync_runs?page=&per_page=&order=
 *   GET  /api/v1/sync_runs/{sync_run_id}
 *   POST /api/v1/syncs/{sync_id}/trigger[?force_full_sync=true]
 *   GET  /api/v1/syncs?page=&per_page=&order=      GET /api/v1/syncs/{sync_id}
 *   GET  /api/v1/sources/{id}                      GET /api/v1/destinations/{id}
 * A Census "sync" is a connection; ids are the integer ids. syncrun has no source or destination
 * objects, only a connection's labels: source N and destination N are those of connection N. */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/import.h"
#include "api/rcache.h"
#include "api/render.h"
#include "model/census_schedule.h"
#include "model/census_run.h"
#include "model/census_step.h"
#include "model/paging.h"
#include "util/ids.h"
#include "util/jsonw.h"

enum { CENSUS_PER_PAGE_DEFAULT = 25, CENSUS_PER_PAGE_MAX = 100 };

static void census_send_error(http_ctx_t *c, int status, const char *code, const char *message, const char *field)
{
    http_send_json(c, status, json_pack("{s:s, s:s}", "status", "error", "message", message));
}

const http_dialect_t census_dialect = {"census", census_send_error};

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
    census_run_write(b, r);
    if (r->state == RUN_FINISHED && !buf_failed(b) && b->len > start)
        rcache_put(RCACHE_CENSUS, r->id, r->version, b->data + start, b->len - start);
}

/* About the size of a run's rendering (the benchmark's average is 650 bytes). */
enum { CENSUS_RUN_TYPICAL = 720 };

/* Answers are at most this large (100 runs of long error texts stay far below). */
#define CENSUS_BODY_MAX (64 * 1024 * 1024)

/* Census ids are positive integers; anything else names no sync or run. */
static int census_id(http_ctx_t *c, int i, int64_t *id)
{
    const char *p = c->params[i];
    return ids_parse_i64(p, strlen(p), 1, INT64_MAX, id);
}

/* Reads Census's page, per_page and order (by creation time; newest first unless order=asc). On a
 * bad value answers 400 and returns -1. */
static int census_page_query(http_ctx_t *c, int64_t *page, int64_t *per_page, int *asc)
{
    if (api_query_int(c, "page", 0, INT32_MAX, 1, page) != 0 ||
        api_query_int(c, "per_page", 1, CENSUS_PER_PAGE_MAX, CENSUS_PER_PAGE_DEFAULT, per_page) != 0)
        return -1;
    const char *order = http_query(c, "order");
    *asc = 0;
    if (order != NULL) {
        if (strcmp(order, "asc") != 0 && strcmp(order, "desc") != 0) {
            http_error(c, 400, "invalid_query", "order must be asc or desc", "order");
            return -1;
        }
        *asc = strcmp(order, "asc") == 0;
    }
    return 0;
}

/* Writes `{"status":"success","pagination":{...}` (the object left open after last_page). */
static void census_write_pagination(buf_t *b, int64_t total, int64_t per_page, const page_window_t *win)
{
    JW_LIT(b, "{\"status\":\"success\",\"pagination\":{");
    JW_KEY(b, "total_records");
    jw_int(b, total);
    JW_LIT(b, ",");
    JW_KEY(b, "per_page");
    jw_int(b, per_page);
    JW_LIT(b, ",");
    JW_KEY(b, "prev_page");
    if (win->prev_page)
        jw_int(b, win->prev_page);
    else
        JW_LIT(b, "null");
    JW_LIT(b, ",");
    JW_KEY(b, "page");
    jw_int(b, win->page);
    JW_LIT(b, ",");
    JW_KEY(b, "next_page");
    if (win->next_page)
        jw_int(b, win->next_page);
    else
        JW_LIT(b, "null");
    JW_LIT(b, ",");
    JW_KEY(b, "last_page");
    jw_int(b, win->last_page);
}

/* A page being written: the stored renderings arrive in page order (store_census_runs), each
 * appended to b as it comes; off/len say where each position's went, have[i] whether it came. */
typedef struct census_page {
    buf_t *b;
    int64_t lo, hi;
    int asc, n, got;
    size_t *off, *len;
    unsigned char *have;
} census_page_t;

/* The position of run_count in the page (0 = first written), or -1 outside it. */
static int census_page_pos(const census_page_t *pg, int64_t run_count)
{
    if (run_count < pg->lo || run_count > pg->hi)
        return -1;
    return (int)(pg->asc ? run_count - pg->lo : pg->hi - run_count);
}

static void census_page_add(void *ctx, int64_t run_count, const char *body, size_t len)
{
    census_page_t *pg = ctx;
    int i = census_page_pos(pg, run_count);
    if (i < 0 || pg->have[i])
        return;
    if (pg->got++ > 0)
        JW_LIT(pg->b, ",");
    pg->off[i] = pg->b->len;
    pg->len[i] = len;
    pg->have[i] = 1;
    buf_add(pg->b, body, len);
}

/* The page's runs without a stored rendering (live ones, or finished and not rendered yet) are read
 * (one range, from the lowest to the highest of them) and rendered; the page is written again into
 * out, from data_start on: stored renderings copied from pg->b, the others rendered in their place. */
static store_err_t census_page_fill(http_ctx_t *c, int64_t conn_id, census_page_t *pg, size_t data_start, buf_t *out)
{
    int64_t mlo = INT64_MAX, mhi = INT64_MIN;
    for (int i = 0; i < pg->n; i++) {
        if (pg->have[i])
            continue;
        int64_t rc = pg->asc ? pg->lo + i : pg->hi - i;
        mlo = rc < mlo ? rc : mlo;
        mhi = rc > mhi ? rc : mhi;
    }
    run_t *rows = NULL;
    int nrows = 0;
    store_err_t e =
        store_run_range(c->reader, c->key.workspace_id, conn_id, mlo, mhi, pg->asc, &c->arena, &rows, &nrows);
    if (e != STORE_OK)
        return e;
    buf_add(out, pg->b->data, data_start);
    int first = 1, k = 0;
    for (int i = 0; i < pg->n; i++) {
        int64_t rc = pg->asc ? pg->lo + i : pg->hi - i;
        const run_t *r = NULL;
        if (!pg->have[i]) {
            /* rows are in page order too; a run missing from them was pruned meanwhile */
            while (k < nrows && (pg->asc ? rows[k].run_count < rc : rows[k].run_count > rc))
                k++;
            if (k >= nrows || rows[k].run_count != rc)
                continue;
            r = &rows[k];
        }
        if (!first)
            JW_LIT(out, ",");
        first = 0;
        if (r != NULL)
            census_append_run(out, r);
        else
            buf_add(out, pg->b->data + pg->off[i], pg->len[i]);
    }
    return STORE_OK;
}

int census_sync_runs(http_ctx_t *c)
{
    int64_t sync_id, page, per_page;
    int asc;
    if (census_page_query(c, &page, &per_page, &asc) != 0)
        return 0;
    connection_t cn;
    store_err_t e = census_id(c, 0, &sync_id) == 0
                        ? store_connection_get(c->reader, c->key.workspace_id, sync_id, &c->arena, &cn)
                        : STORE_NOT_FOUND;
    if (e == STORE_NOT_FOUND)
        return http_error(c, 404, "not_found", "Sync not found", NULL);
    if (e != STORE_OK)
        return api_store_error(c, e, NULL);

    /* The runs kept are the gapless run_count range after the pruned ones (model/retention.h): pages
     * count them, and map to key ranges past the pruned prefix. */
    const int64_t kept = cn.run_count - cn.runs_pruned;
    page_window_t win;
    paging_window(kept, page, per_page, asc, &win);
    win.lo += cn.runs_pruned;
    win.hi += cn.runs_pruned;
    buf_t b = BUF_INIT(CENSUS_BODY_MAX);
    /* room for a page of typical runs at once: the answer grows without being copied */
    buf_reserve(&b, 256 + CENSUS_RUN_TYPICAL * (size_t)(win.lo <= win.hi ? win.hi - win.lo + 1 : 0));
    census_write_pagination(&b, kept, per_page, &win);
    JW_LIT(&b, "},\"data\":[");
    /* Finished runs come as the store keeps them rendered (one range read of ready bytes); only a
     * page with other runs (live ones, or finished and not rendered yet) reads and renders those. */
    const size_t data_start = b.len;
    census_page_t pg = {&b, win.lo, win.hi, asc, win.lo <= win.hi ? (int)(win.hi - win.lo + 1) : 0,
                        0,  NULL,   NULL,   NULL};
    if (pg.n > 0) {
        pg.off = arena_alloc(&c->arena, sizeof(*pg.off) * (size_t)pg.n);
        pg.len = arena_alloc(&c->arena, sizeof(*pg.len) * (size_t)pg.n);
        pg.have = arena_alloc(&c->arena, (size_t)pg.n);
        memset(pg.have, 0, (size_t)pg.n);
    }
    if (pg.n > 0 && (e = store_census_runs(c->reader, cn.id, win.lo, win.hi, asc, census_page_add, &pg)) != STORE_OK) {
        buf_release(&b);
        return api_store_error(c, e, NULL);
    }
    if (pg.got < pg.n) {
        buf_t full = BUF_INIT(CENSUS_BODY_MAX);
        e = census_page_fill(c, cn.id, &pg, data_start, &full);
        buf_release(&b);
        if (e != STORE_OK) {
            buf_release(&full);
            return api_store_error(c, e, NULL);
        }
        b = full;
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

/* ---- trigger ---- */

static void census_on_triggered(http_ctx_t *c, store_write_t *w, void *data)
{
    (void)data;
    if (w->err == STORE_NOT_FOUND) {
        http_error(c, 404, "not_found", "Sync not found", NULL);
        return;
    }
    if (w->err != STORE_OK) {
        api_store_error(c, w->err, w->err_field);
        return;
    }
    if (w->trigger_outcome == TRIGGER_REPLAYED)
        http_add_header(c, "idempotent-replayed", "true");
    /* Every outcome names a sync run: a new one (queued, or recorded skipped under overlap skip, as
     * Census records skipped runs), or the one in progress (overlap attach), or the one an earlier
     * request with the same Idempotency-Key created. */
    http_send_json(c, 200,
                   json_pack("{s:s, s:{s:I}}", "status", "success", "data", "sync_run_id", (json_int_t)w->run.id));
}

/* force_full_sync as Census documents it (a URL argument), or in a JSON body (as dagster-census
 * sends it): true when either says true. */
int census_sync_trigger(http_ctx_t *c)
{
    int64_t sync_id;
    connection_t cn;
    store_err_t e = census_id(c, 0, &sync_id) == 0
                        ? store_connection_get(c->reader, c->key.workspace_id, sync_id, &c->arena, &cn)
                        : STORE_NOT_FOUND;
    if (e == STORE_NOT_FOUND)
        return http_error(c, 404, "not_found", "Sync not found", NULL);
    if (e != STORE_OK)
        return api_store_error(c, e, NULL);
    int full = 0, body_full = 0;
    const char *q = http_query(c, "force_full_sync");
    if (q != NULL) {
        if (strcmp(q, "true") == 0 || strcmp(q, "1") == 0)
            full = 1;
        else if (strcmp(q, "false") != 0 && strcmp(q, "0") != 0)
            return http_error(c, 400, "invalid_query", "force_full_sync must be true or false", "force_full_sync");
    }
    json_t *body = http_body_json(c, 1);
    if (body == NULL)
        return 0;
    static const char *const fields[] = {"force_full_sync", NULL};
    input_t in;
    input_init(&in, body);
    int rc = input_known(&in, fields) < 0 || input_bool(&in, "force_full_sync", &body_full) < 0;
    json_decref(body);
    if (rc)
        return api_input_error(c, &in);
    full = full || body_full;
    /* the request as this route reads it: the same key with another force_full_sync is a reuse */
    char fingerprint[48];
    int n = snprintf(fingerprint, sizeof(fingerprint), "census trigger force_full_sync=%d", full);
    store_write_t *w = api_trigger_begin(c, &cn, fingerprint, (size_t)n);
    if (w == NULL)
        return 0;
    w->trigger.full_sync = full;
    api_trigger_defaults(c, &w->trigger);
    return http_write_submit(c, w, census_on_triggered, NULL, NULL);
}

/* ---- syncs, sources, destinations ---- */

/* A sync in the shape Census documents (GET /syncs/{id}), filled from the connection and its newest
 * run (NULL when it has none). What syncrun does not know is null; see the README. */
static void census_write_sync(buf_t *b, const connection_t *cn, const run_t *last)
{
    const char *status = "Ready"; /* Census: no sync history */
    if (last != NULL)
        status = strcmp(census_status(last->state, last->result), "failed") == 0 ? "Failing" : "Up to Date";
    JW_LIT(b, "{");
    JW_KEY(b, "id");
    jw_int(b, cn->id);
    JW_LIT(b, ",");
    JW_KEY(b, "label");
    jw_str(b, cn->name);
    census_schedule_t sch;
    census_schedule_of(cn->schedule, cn->timezone, &sch);
    JW_LIT(b, ",");
    JW_KEY(b, "schedule_frequency");
    jw_str(b, sch.frequency);
    JW_LIT(b, ",");
    JW_KEY(b, "schedule_day");
    jw_str(b, sch.day);
    JW_LIT(b, ",");
    JW_KEY(b, "schedule_hour");
    if (sch.hour >= 0)
        jw_int(b, sch.hour);
    else
        JW_LIT(b, "null");
    JW_LIT(b, ",");
    JW_KEY(b, "schedule_minute");
    if (sch.minute >= 0)
        jw_int(b, sch.minute);
    else
        JW_LIT(b, "null");
    JW_LIT(b, ",");
    JW_KEY(b, "cron_expression");
    jw_str(b, sch.cron);
    JW_LIT(b, ",");
    JW_KEY(b, "created_at");
    jw_time(b, cn->created_at);
    JW_LIT(b, ",");
    JW_KEY(b, "updated_at");
    jw_time(b, cn->updated_at);
    JW_LIT(b, ",\"operation\":null,\"paused\":false,");
    JW_KEY(b, "status");
    jw_str(b, status);
    JW_LIT(b, ",\"lead_union_insert_to\":null,\"trigger_on_dbt_cloud_rebuild\":false,\"field_behavior\":null,"
              "\"field_normalization\":null,\"mirror_strategy\":null,\"failed_run_notifications_enabled\":null,"
              "\"failed_record_notifications_enabled\":null,"
              "\"failed_record_notifications_threshold_percent\":null,");
    JW_KEY(b, "source_attributes");
    JW_LIT(b, "{");
    JW_KEY(b, "connection_id");
    jw_int(b, cn->id);
    JW_LIT(b, ",\"object\":{\"type\":null,\"id\":null,");
    JW_KEY(b, "name");
    jw_str(b, cn->source);
    JW_LIT(b, "}},");
    JW_KEY(b, "destination_attributes");
    JW_LIT(b, "{");
    JW_KEY(b, "connection_id");
    jw_int(b, cn->id);
    JW_LIT(b, ",");
    JW_KEY(b, "object");
    jw_str(b, cn->destination);
    JW_LIT(b, "},\"mappings\":[]}");
}

/* The connection named by path parameter 0 (an integer id), or 404 `what` not found. */
static int census_load_connection(http_ctx_t *c, const char *what, connection_t *cn)
{
    int64_t id;
    store_err_t e = census_id(c, 0, &id) == 0 ? store_connection_get(c->reader, c->key.workspace_id, id, &c->arena, cn)
                                              : STORE_NOT_FOUND;
    if (e == STORE_OK)
        return 0;
    if (e == STORE_NOT_FOUND) {
        char msg[64];
        snprintf(msg, sizeof(msg), "%s not found", what);
        http_error(c, 404, "not_found", msg, NULL);
    } else {
        api_store_error(c, e, NULL);
    }
    return -1;
}

/* The newest run of cn into *out; 0 when it has one, 1 when none, -1 (answered) on a store error. */
static int census_newest_run(http_ctx_t *c, const connection_t *cn, run_t *out)
{
    run_t *runs;
    int n;
    store_err_t e = store_runs_newest(c->reader, c->key.workspace_id, cn->id, cn->id, 1, &c->arena, &runs, &n);
    if (e != STORE_OK) {
        api_store_error(c, e, NULL);
        return -1;
    }
    if (n == 0)
        return 1;
    *out = runs[0];
    return 0;
}

int census_sync_get(http_ctx_t *c)
{
    connection_t cn;
    run_t last;
    int has;
    if (census_load_connection(c, "Sync", &cn) != 0 || (has = census_newest_run(c, &cn, &last)) < 0)
        return 0;
    buf_t b = BUF_INIT(CENSUS_BODY_MAX);
    JW_LIT(&b, "{\"status\":\"success\",\"data\":");
    census_write_sync(&b, &cn, has == 0 ? &last : NULL);
    JW_LIT(&b, "}");
    return render_send_buf(c, 200, &b);
}

int census_sync_list(http_ctx_t *c)
{
    int64_t page, per_page, total;
    int asc;
    if (census_page_query(c, &page, &per_page, &asc) != 0)
        return 0;
    store_err_t e = store_connection_count(c->reader, c->key.workspace_id, &total);
    if (e != STORE_OK)
        return api_store_error(c, e, NULL);
    /* ranks 1..total in creation (id) order, as run_count is for runs */
    page_window_t win;
    paging_window(total, page, per_page, asc, &win);
    connection_t *conns = NULL;
    run_t *runs = NULL;
    int n = 0, nruns = 0;
    if (win.lo <= win.hi && (e = store_connection_page(c->reader, c->key.workspace_id, win.lo - 1,
                                                       (int)(win.hi - win.lo + 1), &c->arena, &conns, &n)) != STORE_OK)
        return api_store_error(c, e, NULL);
    if (n > 0 && (e = store_runs_newest(c->reader, c->key.workspace_id, conns[0].id, conns[n - 1].id, n, &c->arena,
                                        &runs, &nruns)) != STORE_OK)
        return api_store_error(c, e, NULL);
    buf_t b = BUF_INIT(CENSUS_BODY_MAX);
    census_write_pagination(&b, total, per_page, &win);
    JW_LIT(&b, "},\"data\":[");
    for (int k = 0; k < n; k++) {
        const connection_t *cn = &conns[asc ? k : n - 1 - k];
        const run_t *last = NULL;
        for (int j = 0; j < nruns && last == NULL; j++)
            if (runs[j].connection_id == cn->id)
                last = &runs[j];
        if (k > 0)
            JW_LIT(&b, ",");
        census_write_sync(&b, cn, last);
    }
    JW_LIT(&b, "]}");
    return render_send_buf(c, 200, &b);
}

/* Opens the answer of a source or destination: the envelope, then its id (the connection's) and
 * name (a label of the connection); the caller adds the other members and closes it. */
static void census_endpoint_begin(buf_t *b, const connection_t *cn, const char *name)
{
    JW_LIT(b, "{\"status\":\"success\",\"data\":{");
    JW_KEY(b, "id");
    jw_int(b, cn->id);
    JW_LIT(b, ",");
    JW_KEY(b, "name");
    jw_str(b, name);
}

/* GET /api/v1/sources/{id}: the source of connection id (its source label), in Census's shape. */
int census_source_get(http_ctx_t *c)
{
    connection_t cn;
    if (census_load_connection(c, "Source", &cn) != 0)
        return 0;
    buf_t b = BUF_INIT(CENSUS_BODY_MAX);
    census_endpoint_begin(&b, &cn, cn.source);
    JW_LIT(&b, ",\"label\":null,");
    JW_KEY(&b, "type");
    jw_str(&b, cn.connector_type);
    JW_LIT(&b, ",\"last_test_succeeded\":null,\"last_tested_at\":null,\"connection_details\":null,"
               "\"read_only_connection\":null}}");
    return render_send_buf(c, 200, &b);
}

/* GET /api/v1/destinations/{id}: the destination of connection id (its destination label). */
int census_destination_get(http_ctx_t *c)
{
    connection_t cn;
    if (census_load_connection(c, "Destination", &cn) != 0)
        return 0;
    buf_t b = BUF_INIT(CENSUS_BODY_MAX);
    census_endpoint_begin(&b, &cn, cn.destination);
    JW_LIT(&b, ",\"connection_details\":null,\"objects\":null}}");
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
