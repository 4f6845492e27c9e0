/* Reads, on a per-thread read-only connection. Every read is scoped by workspace. */
#include <stdint.h>
#include <string.h>

#include "store/sqlite_int.h"
#include "util/log.h"
#include "util/timeutil.h"

/* Steps st collecting at most cap rows into an arena array of elem_size via fn. When more is not
 * NULL, one row past cap is looked for and *more says whether it exists; without it, cap must be
 * what the statement's own LIMIT guarantees. */
static store_err_t collect(dbconn_t *c, sqlite3_stmt *st, arena_t *a, size_t elem_size, int cap,
                           void (*fn)(sqlite3_stmt *, arena_t *, void *), void **out, int *n, int *more)
{
    /* Start small and double: `cap` is a limit, not a guess of the size. */
    int room = cap < 64 ? (cap > 0 ? cap : 1) : 64;
    char *arr = arena_alloc(a, elem_size * (size_t)room);
    int count = 0, rc = SQLITE_DONE;
    while (count < cap && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == room) {
            int bigger_room = room * 2 < cap ? room * 2 : cap;
            char *bigger = arena_alloc(a, elem_size * (size_t)bigger_room);
            memcpy(bigger, arr, elem_size * (size_t)count);
            arr = bigger;
            room = bigger_room;
        }
        fn(st, a, arr + elem_size * (size_t)count++);
    }
    if (more != NULL)
        *more = 0;
    if (count == cap && rc == SQLITE_ROW) {
        rc = more != NULL ? sqlite3_step(st) : SQLITE_DONE;
        if (more != NULL && rc == SQLITE_ROW) {
            *more = 1;
            rc = SQLITE_DONE;
        }
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        log_error("sqlite read failed err=\"%s\"", sqlite3_errmsg(c->db));
        return STORE_ERROR;
    }
    *out = arr;
    *n = count;
    return STORE_OK;
}

store_err_t db_collect(dbconn_t *c, sqlite3_stmt *st, arena_t *a, size_t elem_size, int cap,
                       void (*fn)(sqlite3_stmt *, arena_t *, void *), void **out, int *n, int *more)
{
    return collect(c, st, a, elem_size, cap, fn, out, n, more);
}

static void row_run(sqlite3_stmt *st, arena_t *a, void *p)
{
    db_row_run(st, a, p);
}

static void row_connection(sqlite3_stmt *st, arena_t *a, void *p)
{
    db_row_connection(st, a, p);
}

static void row_event(sqlite3_stmt *st, arena_t *a, void *p)
{
    run_event_t *e = p;
    e->id = sqlite3_column_int64(st, 0);
    e->run_id = sqlite3_column_int64(st, 1);
    e->at = sqlite3_column_int64(st, 2);
    e->kind = db_col_text(st, 3, a);
    e->data = db_col_text(st, 4, a);
}

store_err_t store_workspace_get(store_reader_t *r, int64_t id, arena_t *a, workspace_t *out)
{
    sqlite3_stmt *st = db_stmt(&r->c, ST_WORKSPACE_GET);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    return db_one_row(&r->c, st, a, db_row_workspace_v, out);
}

store_err_t store_key_lookup(store_reader_t *r, const char *token, api_key_info_t *out)
{
    char hash[IDS_SHA256_HEX_LEN];
    ids_sha256_hex(token, strlen(token), hash);
    sqlite3_stmt *st = db_stmt(&r->c, ST_KEY_LOOKUP);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->key_id = sqlite3_column_int64(st, 0);
        out->workspace_id = sqlite3_column_int64(st, 1);
        out->scope = (scope_t)sqlite3_column_int(st, 2);
        out->run_id = sqlite3_column_int64(st, 3);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_ROW) {
        out->expires_at = 0;
        return STORE_OK;
    }
    if (rc != SQLITE_DONE)
        return STORE_ERROR;
    /* not a key: an access token issued for one (the key revoked kills it) */
    if ((st = db_stmt(&r->c, ST_TOKEN_LOOKUP)) == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, time_now_ms());
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->key_id = sqlite3_column_int64(st, 0);
        out->workspace_id = sqlite3_column_int64(st, 1);
        out->scope = (scope_t)sqlite3_column_int(st, 2);
        out->run_id = 0;
        out->expires_at = sqlite3_column_int64(st, 3);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? STORE_OK : rc == SQLITE_DONE ? STORE_NOT_FOUND : STORE_ERROR;
}

static void row_api_key(sqlite3_stmt *st, arena_t *a, void *p)
{
    api_key_row_t *k = p;
    k->id = sqlite3_column_int64(st, 0);
    k->name = db_col_text(st, 1, a);
    k->scope = (scope_t)sqlite3_column_int(st, 2);
    k->prefix = db_col_text(st, 3, a);
    k->created_at = sqlite3_column_int64(st, 4);
}

store_err_t store_key_list(store_reader_t *r, int64_t ws, int64_t after_id, int limit, arena_t *a, api_key_row_t **out,
                           int *n, int *more)
{
    sqlite3_stmt *st = db_stmt(&r->c, ST_KEY_LIST);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, ws);
    sqlite3_bind_int64(st, 2, after_id);
    sqlite3_bind_int64(st, 3, (int64_t)limit + 1);
    return collect(&r->c, st, a, sizeof(api_key_row_t), limit, row_api_key, (void **)out, n, more);
}

store_err_t store_connection_get(store_reader_t *r, int64_t ws, int64_t id, arena_t *a, connection_t *out)
{
    return db_connection_get(&r->c, ws, id, a, out);
}

store_err_t store_connection_get_uuid(store_reader_t *r, int64_t ws, const char *uuid, arena_t *a, connection_t *out)
{
    sqlite3_stmt *st = db_stmt(&r->c, ST_CONN_GET_UUID);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, ws);
    return db_one_row(&r->c, st, a, db_row_connection_v, out);
}

store_err_t store_connection_get_ping_key(store_reader_t *r, const char *key, arena_t *a, connection_t *out)
{
    char hash[IDS_SHA256_HEX_LEN];
    ids_sha256_hex(key, strlen(key), hash);
    sqlite3_stmt *st = db_stmt(&r->c, ST_CONN_GET_PING_KEY);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT);
    return db_one_row(&r->c, st, a, db_row_connection_v, out);
}

store_err_t store_connection_list(store_reader_t *r, int64_t ws, int64_t after_id, int limit, arena_t *a,
                                  connection_t **out, int *n)
{
    sqlite3_stmt *st = db_stmt(&r->c, ST_CONN_LIST);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, ws);
    sqlite3_bind_int64(st, 2, after_id);
    sqlite3_bind_int(st, 3, limit);
    return collect(&r->c, st, a, sizeof(connection_t), limit, row_connection, (void **)out, n, NULL);
}

store_err_t store_connection_count(store_reader_t *r, int64_t ws, int64_t *n)
{
    sqlite3_stmt *st = db_stmt(&r->c, ST_CONN_COUNT);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, ws);
    int rc = sqlite3_step(st);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? STORE_OK : STORE_ERROR;
}

store_err_t store_run_get(store_reader_t *r, int64_t ws, int64_t id, arena_t *a, run_t *out)
{
    return db_run_get(&r->c, ws, id, a, out);
}

store_err_t store_run_get_uuid(store_reader_t *r, int64_t ws, const char *uuid, arena_t *a, run_t *out)
{
    sqlite3_stmt *st = db_stmt(&r->c, ST_RUN_GET_UUID);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, ws);
    return db_one_row(&r->c, st, a, db_row_run_v, out);
}

store_err_t store_run_get_external(store_reader_t *r, int64_t ws, int64_t conn_id, const char *external_id, arena_t *a,
                                   run_t *out)
{
    sqlite3_stmt *st = db_stmt(&r->c, ST_RUN_GET_EXTERNAL);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, conn_id);
    sqlite3_bind_text(st, 2, external_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, ws);
    return db_one_row(&r->c, st, a, db_row_run_v, out);
}

/* A range wider than STORE_RUN_RANGE_MAX is a caller's bug: refused, never cut. */
static int range_refused(int64_t lo, int64_t hi)
{
    if (hi - lo < STORE_RUN_RANGE_MAX)
        return 0;
    log_error("store: run range of %lld runs refused (at most %d)", (long long)(hi - lo + 1), STORE_RUN_RANGE_MAX);
    return 1;
}

store_err_t store_run_range(store_reader_t *r, int64_t ws, int64_t conn_id, int64_t lo, int64_t hi, int asc, arena_t *a,
                            run_t **out, int *n)
{
    *out = NULL;
    *n = 0;
    if (lo > hi)
        return STORE_OK;
    if (range_refused(lo, hi))
        return STORE_ERROR;
    sqlite3_stmt *st = db_stmt(&r->c, asc ? ST_RUN_RANGE_ASC : ST_RUN_RANGE_DESC);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, conn_id);
    sqlite3_bind_int64(st, 2, ws);
    sqlite3_bind_int64(st, 3, lo);
    sqlite3_bind_int64(st, 4, hi);
    /* run_count is unique per connection: the range holds at most hi - lo + 1 runs */
    return collect(&r->c, st, a, sizeof(run_t), (int)(hi - lo + 1), row_run, (void **)out, n, NULL);
}

store_err_t store_run_list(store_reader_t *r, int64_t ws, int64_t conn_id, const run_filter_t *f, arena_t *a,
                           run_t **out, int *n)
{
    sqlite3_stmt *st = db_stmt(&r->c, f->asc ? ST_RUN_LIST_ASC : ST_RUN_LIST_DESC);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, conn_id);
    sqlite3_bind_int64(st, 2, ws);
    sqlite3_bind_int64(st, 3, f->after > 0 ? f->after : (f->asc ? 0 : INT64_MAX));
    sqlite3_bind_int(st, 4, f->state);
    sqlite3_bind_int(st, 5, f->result);
    db_bind_text(st, 6, f->trigger);
    sqlite3_bind_int64(st, 7, f->since);
    sqlite3_bind_int64(st, 8, f->until);
    sqlite3_bind_int(st, 9, f->limit);
    sqlite3_bind_int(st, 10, f->not_result);
    return collect(&r->c, st, a, sizeof(run_t), f->limit, row_run, (void **)out, n, NULL);
}

store_err_t store_event_list(store_reader_t *r, int64_t ws, int64_t run_id, int64_t after_id, int limit, arena_t *a,
                             run_event_t **out, int *n)
{
    run_t run;
    store_err_t e = db_run_get(&r->c, ws, run_id, a, &run); /* the workspace check */
    if (e != STORE_OK)
        return e;
    sqlite3_stmt *st = db_stmt(&r->c, ST_EVENT_LIST);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_int64(st, 2, after_id);
    sqlite3_bind_int(st, 3, limit);
    return collect(&r->c, st, a, sizeof(run_event_t), limit, row_event, (void **)out, n, NULL);
}

static void row_alert(sqlite3_stmt *st, arena_t *a, void *p)
{
    alert_t *al = p;
    al->id = sqlite3_column_int64(st, 0);
    al->workspace_id = sqlite3_column_int64(st, 1);
    al->connection_id = sqlite3_column_int64(st, 2);
    al->run_id = sqlite3_column_int64(st, 3); /* NULL reads as 0 */
    al->at = sqlite3_column_int64(st, 4);
    al->event = db_col_text(st, 5, a);
    al->data = db_col_text(st, 6, a);
}

store_err_t store_alert_list(store_reader_t *r, int64_t ws, int64_t conn_id, int64_t after_id, int limit, arena_t *a,
                             alert_t **out, int *n)
{
    sqlite3_stmt *st = db_stmt(&r->c, ST_ALERT_LIST);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, ws);
    sqlite3_bind_int64(st, 2, after_id);
    sqlite3_bind_int64(st, 3, conn_id);
    sqlite3_bind_int(st, 4, limit);
    return collect(&r->c, st, a, sizeof(alert_t), limit, row_alert, (void **)out, n, NULL);
}

store_err_t store_log_get(store_reader_t *r, int64_t ws, int64_t run_id, arena_t *a, const char **data, size_t *len,
                          int64_t *total)
{
    run_t run;
    store_err_t e = db_run_get(&r->c, ws, run_id, a, &run); /* the workspace check */
    return e == STORE_OK ? db_log_read(&r->c, run_id, a, data, len, total) : e;
}

static void row_run_stat(sqlite3_stmt *st, arena_t *a, void *p)
{
    (void)a;
    run_stat_t *s = p;
    s->connection_id = sqlite3_column_int64(st, 0);
    s->result = (run_result_t)sqlite3_column_int(st, 1);
    s->duration_le = sqlite3_column_int64(st, 2);
    s->records_le = sqlite3_column_int64(st, 3);
    s->n = sqlite3_column_int64(st, 4);
    s->duration_ms_sum = sqlite3_column_int64(st, 5);
    s->records_sum = sqlite3_column_int64(st, 6);
    s->last_completed_at = sqlite3_column_int64(st, 7);
}

/* collect for a read that must be whole: at most cap rows (the statement asks for cap + 1), and
 * more than that is refused (STORE_ERROR, logged naming `what` and the connections), never cut. */
static store_err_t collect_whole(dbconn_t *c, sqlite3_stmt *st, arena_t *a, size_t elem_size, int cap,
                                 void (*fn)(sqlite3_stmt *, arena_t *, void *), void **out, int *n, const char *what,
                                 int64_t first_id, int64_t last_id)
{
    int more = 0;
    store_err_t e = collect(c, st, a, elem_size, cap, fn, out, n, &more);
    if (e == STORE_OK && more) {
        log_error("%s of connections %lld..%lld exceed %d rows; refused", what, (long long)first_id, (long long)last_id,
                  cap);
        return STORE_ERROR;
    }
    return e;
}

store_err_t store_run_stats(store_reader_t *r, int64_t ws, int64_t first_id, int64_t last_id, arena_t *a,
                            run_stat_t **out, int *n)
{
    sqlite3_stmt *st = db_stmt(&r->c, ST_RUN_STATS);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, ws);
    sqlite3_bind_int64(st, 2, first_id);
    sqlite3_bind_int64(st, 3, last_id);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)STORE_RUN_STATS_MAX + 1);
    return collect_whole(&r->c, st, a, sizeof(run_stat_t), STORE_RUN_STATS_MAX, row_run_stat, (void **)out, n,
                         "run statistics", first_id, last_id);
}

static void row_active_count(sqlite3_stmt *st, arena_t *a, void *p)
{
    (void)a;
    run_active_count_t *c = p;
    c->connection_id = sqlite3_column_int64(st, 0);
    c->queued = sqlite3_column_int64(st, 1);
    c->working = sqlite3_column_int64(st, 2);
}

store_err_t store_active_counts(store_reader_t *r, int64_t ws, arena_t *a, run_active_count_t **out, int *n)
{
    sqlite3_stmt *st = db_stmt(&r->c, ST_ACTIVE_COUNTS);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, ws);
    int more = 0;
    store_err_t e =
        collect(&r->c, st, a, sizeof(run_active_count_t), 1000000, row_active_count, (void **)out, n, &more);
    return e == STORE_OK && more ? STORE_ERROR : e;
}

store_err_t store_log_open(store_reader_t *r, int64_t ws, int64_t run_id, store_log_cursor_t *cur)
{
    arena_t a = ARENA_INIT;
    run_t run;
    store_err_t e = db_run_get(&r->c, ws, run_id, &a, &run); /* the workspace check */
    arena_release(&a);
    return e == STORE_OK ? db_log_open(&r->c, run_id, cur) : e;
}

store_err_t store_log_next(store_reader_t *r, store_log_cursor_t *cur, char *buf, size_t cap, size_t *n)
{
    return db_log_next(&r->c, cur, buf, cap, n);
}

store_err_t store_runs_startable(store_reader_t *r, int limit, arena_t *a, run_t **out, int *n)
{
    sqlite3_stmt *st = db_stmt(&r->c, ST_RUNS_STARTABLE);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int(st, 1, limit);
    return collect(&r->c, st, a, sizeof(run_t), limit, row_run, (void **)out, n, NULL);
}

store_err_t store_connections_scheduled(store_reader_t *r, int64_t after_id, int limit, arena_t *a, connection_t **out,
                                        int *n, int *more)
{
    sqlite3_stmt *st = db_stmt(&r->c, ST_CONNS_SCHEDULED);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, after_id);
    sqlite3_bind_int64(st, 2, (int64_t)limit + 1);
    return collect(&r->c, st, a, sizeof(connection_t), limit, row_connection, (void **)out, n, more);
}

static void row_key(sqlite3_stmt *st, arena_t *a, void *p)
{
    run_key_t *k = p;
    k->id = sqlite3_column_int64(st, 0);
    k->version = sqlite3_column_int64(st, 1);
    k->state = (run_state_t)sqlite3_column_int(st, 2);
}

store_err_t store_run_keys(store_reader_t *r, int64_t ws, int64_t conn_id, int64_t lo, int64_t hi, int asc, arena_t *a,
                           run_key_t **out, int *n)
{
    *out = NULL;
    *n = 0;
    if (lo > hi)
        return STORE_OK;
    if (range_refused(lo, hi))
        return STORE_ERROR;
    sqlite3_stmt *st = db_stmt(&r->c, asc ? ST_RUN_KEYS_ASC : ST_RUN_KEYS_DESC);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, conn_id);
    sqlite3_bind_int64(st, 2, ws);
    sqlite3_bind_int64(st, 3, lo);
    sqlite3_bind_int64(st, 4, hi);
    return collect(&r->c, st, a, sizeof(run_key_t), (int)(hi - lo + 1), row_key, (void **)out, n, NULL);
}

/* ---- jobs and tasks of a page of runs ---- */

/* An arena array that doubles: earlier copies stay in the arena until it is released. */
typedef struct grow {
    char *p;
    int n, room;
    size_t size;
} grow_t;

static void *grow_push(arena_t *a, grow_t *g)
{
    if (g->n == g->room) {
        int room = g->room > 0 ? g->room * 2 : 16;
        char *bigger = arena_alloc(a, g->size * (size_t)room);
        if (g->n > 0)
            memcpy(bigger, g->p, g->size * (size_t)g->n);
        g->p = bigger;
        g->room = room;
    }
    return g->p + g->size * (size_t)g->n++;
}

/* Points each run at its jobs and each job at its tasks: both arrays hold them contiguously, in
 * order (pointers are set once the arrays stop moving). */
static void link_units(grow_t *runs, grow_t *jobs, grow_t *tasks)
{
    int j = 0, t = 0;
    for (int i = 0; i < runs->n; i++) {
        store_run_jobs_t *rj = (store_run_jobs_t *)runs->p + i;
        if (rj->njobs == 0) {
            rj->jobs = NULL; /* an empty array has no memory (p NULL): NULL + 0 is undefined in C */
            continue;
        }
        rj->jobs = (job_t *)jobs->p + j;
        for (int k = 0; k < rj->njobs; k++) {
            /* NOLINTNEXTLINE(clang-analyzer-core.NullDereference): njobs > 0 jobs are in the jobs array */
            rj->jobs[k].tasks = tasks != NULL && rj->jobs[k].ntasks > 0 ? (task_t *)tasks->p + t : NULL;
            t += rj->jobs[k].ntasks;
        }
        j += rj->njobs;
    }
}

/* The text columns of a job and of a task (offsets into their column lists), and the bytes a row
 * holds in them from column b on: what rendering them costs, about. */
static const int job_text_cols[] = {1, 3, 4, 5};
static const int task_text_cols[] = {1, 5, 9, 11, 12};

static int64_t text_bytes(sqlite3_stmt *st, int b, const int *cols, size_t n)
{
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        if (sqlite3_column_type(st, b + cols[i]) == SQLITE_TEXT)
            sum += sqlite3_column_bytes(st, b + cols[i]);
    return sum;
}

static void bind_page(sqlite3_stmt *st, int64_t ws, int64_t conn_id, int64_t lo, int64_t hi)
{
    sqlite3_bind_int64(st, 1, conn_id);
    sqlite3_bind_int64(st, 2, ws);
    sqlite3_bind_int64(st, 3, lo);
    sqlite3_bind_int64(st, 4, hi);
}

store_err_t store_jobs_read(store_reader_t *r, int64_t ws, const store_jobs_query_t *q, arena_t *a,
                            store_run_jobs_t **out, int *n, int *more)
{
    grow_t runs = {.size = sizeof(store_run_jobs_t)}, jobs = {.size = sizeof(job_t)}, tasks = {.size = sizeof(task_t)};
    *out = NULL;
    *n = 0;
    *more = 0;
    if (q->lo > q->hi || q->max_jobs <= 0 || q->max_units <= 0)
        return STORE_OK;
    if (range_refused(q->lo, q->hi))
        return STORE_ERROR;
    sqlite3_stmt *st = db_stmt(&r->c, ST_UNITS_RANGE);
    if (st == NULL)
        return STORE_ERROR;
    bind_page(st, ws, q->conn_id, q->lo, q->hi);
    sqlite3_bind_int64(st, 5, q->after_job);
    sqlite3_bind_int64(st, 6, (int64_t)q->max_units + 1); /* one row more tells whether the read was cut */
    int rc, rows = 0;
    int64_t bytes = 0;
    store_run_jobs_t *run = NULL;
    job_t *job = NULL;
    enum { COL_JOB = 1, COL_TASK = 11 };
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t run_id = sqlite3_column_int64(st, 0), job_id = sqlite3_column_int64(st, COL_JOB);
        int new_job = job == NULL || job->id != job_id;
        int64_t row_bytes = text_bytes(st, COL_TASK, task_text_cols, sizeof(task_text_cols) / sizeof(int));
        if (new_job)
            row_bytes += text_bytes(st, COL_JOB, job_text_cols, sizeof(job_text_cols) / sizeof(int));
        if (rows == q->max_units || (new_job && jobs.n == q->max_jobs) ||
            (q->max_bytes > 0 && rows > 0 && bytes + row_bytes > q->max_bytes)) {
            *more = 1;
            if (!new_job)
                job->tasks_more = 1;
            if (run != NULL && run->run_id == run_id)
                run->more = 1;
            break;
        }
        rows++;
        bytes += row_bytes;
        if (run == NULL || run->run_id != run_id) {
            run = grow_push(a, &runs);
            run->run_id = run_id;
        }
        if (new_job) {
            job = grow_push(a, &jobs);
            db_row_job_at(st, COL_JOB, a, job);
            run->njobs++;
        }
        if (sqlite3_column_type(st, COL_TASK) != SQLITE_NULL) {
            db_row_task_at(st, COL_TASK, a, grow_push(a, &tasks));
            job->ntasks++;
        }
        /* pointers into runs/jobs move when the arrays grow: keep the last ones current */
        run = (store_run_jobs_t *)runs.p + runs.n - 1;
        job = (job_t *)jobs.p + jobs.n - 1;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        log_error("sqlite read failed err=\"%s\"", sqlite3_errmsg(r->c.db));
        return STORE_ERROR;
    }
    link_units(&runs, &jobs, &tasks);
    *out = (store_run_jobs_t *)runs.p;
    *n = runs.n;
    return STORE_OK;
}

store_err_t store_jobs_first(store_reader_t *r, int64_t ws, int64_t conn_id, int64_t lo, int64_t hi, unsigned results,
                             int per_run, arena_t *a, store_run_jobs_t **out, int *n)
{
    grow_t runs = {.size = sizeof(store_run_jobs_t)}, jobs = {.size = sizeof(job_t)};
    *out = NULL;
    *n = 0;
    if (lo > hi || per_run <= 0 || results == 0)
        return STORE_OK;
    if (range_refused(lo, hi))
        return STORE_ERROR;
    sqlite3_stmt *st = db_stmt(&r->c, ST_JOBS_FIRST);
    if (st == NULL)
        return STORE_ERROR;
    bind_page(st, ws, conn_id, lo, hi);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)results);
    sqlite3_bind_int64(st, 6, (int64_t)per_run + 1); /* one more per run tells whether it has more */
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t run_id = sqlite3_column_int64(st, 0);
        store_run_jobs_t *run = runs.n > 0 ? (store_run_jobs_t *)runs.p + runs.n - 1 : NULL;
        if (run == NULL || run->run_id != run_id) {
            run = grow_push(a, &runs);
            run->run_id = run_id;
        }
        if (run->njobs == per_run) {
            run->more = 1;
            continue;
        }
        db_row_job_at(st, 1, a, grow_push(a, &jobs));
        run->njobs++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        log_error("sqlite read failed err=\"%s\"", sqlite3_errmsg(r->c.db));
        return STORE_ERROR;
    }
    link_units(&runs, &jobs, NULL);
    *out = (store_run_jobs_t *)runs.p;
    *n = runs.n;
    return STORE_OK;
}

store_err_t store_job_counts(store_reader_t *r, int64_t ws, int64_t conn_id, int64_t lo, int64_t hi, arena_t *a,
                             store_job_counts_t **out, int *n)
{
    grow_t runs = {.size = sizeof(store_job_counts_t)};
    *out = NULL;
    *n = 0;
    if (lo > hi)
        return STORE_OK;
    if (range_refused(lo, hi))
        return STORE_ERROR;
    sqlite3_stmt *st = db_stmt(&r->c, ST_JOB_COUNTS);
    if (st == NULL)
        return STORE_ERROR;
    bind_page(st, ws, conn_id, lo, hi);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t run_id = sqlite3_column_int64(st, 0);
        int result = sqlite3_column_int(st, 1);
        store_job_counts_t *run = runs.n > 0 ? (store_job_counts_t *)runs.p + runs.n - 1 : NULL;
        if (run == NULL || run->run_id != run_id) {
            run = grow_push(a, &runs);
            run->run_id = run_id;
        }
        if (result >= 0 && result < RUN_RESULT_COUNT)
            run->by_result[result] += sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        log_error("sqlite read failed err=\"%s\"", sqlite3_errmsg(r->c.db));
        return STORE_ERROR;
    }
    *out = (store_job_counts_t *)runs.p;
    *n = runs.n;
    return STORE_OK;
}

store_err_t store_job_list(store_reader_t *r, int64_t ws, int64_t run_id, arena_t *a, job_t **out, int *n)
{
    run_t run;
    store_err_t e = db_run_get(&r->c, ws, run_id, a, &run); /* the workspace check */
    if (e != STORE_OK)
        return e;
    store_jobs_query_t q = {.conn_id = run.connection_id,
                            .lo = run.run_count,
                            .hi = run.run_count,
                            .max_jobs = STORE_JOB_LIST_UNITS,
                            .max_units = STORE_JOB_LIST_UNITS};
    store_run_jobs_t *rj;
    int nr, more;
    if ((e = store_jobs_read(r, ws, &q, a, &rj, &nr, &more)) != STORE_OK)
        return e;
    if (more) {
        log_error("store: run %lld has more than %d jobs and tasks; page them", (long long)run_id,
                  STORE_JOB_LIST_UNITS);
        return STORE_ERROR;
    }
    *out = nr > 0 ? rj[0].jobs : NULL;
    *n = nr > 0 ? rj[0].njobs : 0;
    return STORE_OK;
}

uint64_t store_reader_statements(store_reader_t *r)
{
    return r->c.statements;
}

void store_reader_begin(store_reader_t *r)
{
    sqlite3_stmt *st = db_stmt(&r->c, ST_READ_BEGIN);
    if (st != NULL) {
        sqlite3_step(st);
        sqlite3_reset(st);
    }
}

void store_reader_end(store_reader_t *r)
{
    if (sqlite3_get_autocommit(r->c.db))
        return;
    sqlite3_stmt *st = db_stmt(&r->c, ST_COMMIT);
    if (st != NULL) {
        sqlite3_step(st);
        sqlite3_reset(st);
    }
}

/* ---- dialect connection lists (Census syncs, Braze integrations) ---- */

store_err_t store_connection_page(store_reader_t *r, int64_t ws, int64_t offset, int limit, arena_t *a,
                                  connection_t **out, int *n)
{
    sqlite3_stmt *st = db_stmt(&r->c, ST_CONN_PAGE);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, ws);
    sqlite3_bind_int(st, 2, limit);
    sqlite3_bind_int64(st, 3, offset);
    /* the statement's LIMIT is the cap: nothing is cut silently */
    return collect(&r->c, st, a, sizeof(connection_t), limit, row_connection, (void **)out, n, NULL);
}

store_err_t store_connection_list_before(store_reader_t *r, int64_t ws, int64_t before_id, int limit, arena_t *a,
                                         connection_t **out, int *n)
{
    sqlite3_stmt *st = db_stmt(&r->c, ST_CONN_BEFORE);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, ws);
    sqlite3_bind_int64(st, 2, before_id);
    sqlite3_bind_int(st, 3, limit);
    return collect(&r->c, st, a, sizeof(connection_t), limit, row_connection, (void **)out, n, NULL);
}

store_err_t store_runs_newest(store_reader_t *r, int64_t ws, int64_t lo_id, int64_t hi_id, int limit, arena_t *a,
                              run_t **out, int *n)
{
    *out = NULL;
    *n = 0;
    if (lo_id > hi_id || limit <= 0)
        return STORE_OK;
    sqlite3_stmt *st = db_stmt(&r->c, ST_RUNS_NEWEST);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, ws);
    sqlite3_bind_int64(st, 2, lo_id);
    sqlite3_bind_int64(st, 3, hi_id);
    /* at most one run per connection of the range: limit (the page's connections) cuts nothing */
    return collect(&r->c, st, a, sizeof(run_t), limit, row_run, (void **)out, n, NULL);
}

static void row_run_rollup(sqlite3_stmt *st, arena_t *a, void *p)
{
    (void)a;
    run_rollup_t *u = p;
    u->connection_id = sqlite3_column_int64(st, 0);
    u->result = (run_result_t)sqlite3_column_int(st, 1);
    u->duration_le = sqlite3_column_int64(st, 2);
    u->n = sqlite3_column_int64(st, 3);
    u->duration_ms_sum = sqlite3_column_int64(st, 4);
    u->records_sum = sqlite3_column_int64(st, 5);
}

store_err_t store_run_rollups(store_reader_t *r, int64_t ws, int64_t first_id, int64_t last_id, int64_t since,
                              int64_t until, arena_t *a, run_rollup_t **out, int *n)
{
    *out = NULL;
    *n = 0;
    if (first_id > last_id || since >= until)
        return STORE_OK;
    sqlite3_stmt *st = db_stmt(&r->c, ST_RUN_ROLLUPS);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, ws);
    sqlite3_bind_int64(st, 2, first_id);
    sqlite3_bind_int64(st, 3, last_id);
    sqlite3_bind_int64(st, 4, since);
    sqlite3_bind_int64(st, 5, until);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)STORE_RUN_STATS_MAX + 1);
    return collect_whole(&r->c, st, a, sizeof(run_rollup_t), STORE_RUN_STATS_MAX, row_run_rollup, (void **)out, n,
                         "run rollups", first_id, last_id);
}

/* A row of ST_RUNS_RECENT: the fields of a strip entry, the rest zero (NULL strings). */
static void row_run_recent(sqlite3_stmt *st, arena_t *a, void *p)
{
    (void)a;
    run_t *r = p;
    memset(r, 0, sizeof(*r));
    r->id = sqlite3_column_int64(st, 0);
    r->connection_id = sqlite3_column_int64(st, 1);
    r->run_count = sqlite3_column_int64(st, 2);
    r->state = (run_state_t)sqlite3_column_int(st, 3);
    r->result = (run_result_t)sqlite3_column_int(st, 4);
    r->created_at = sqlite3_column_int64(st, 5);
    r->updated_at = sqlite3_column_int64(st, 6);
    r->started_at = sqlite3_column_int64(st, 7);
    r->completed_at = sqlite3_column_int64(st, 8);
    r->counters[CTR_RECORDS_PROCESSED] = sqlite3_column_int64(st, 9);
}

store_err_t store_runs_recent(store_reader_t *r, int64_t ws, int64_t first_id, int64_t last_id, int per_conn, int cap,
                              arena_t *a, run_t **out, int *n)
{
    *out = NULL;
    *n = 0;
    if (first_id > last_id || per_conn <= 0 || cap <= 0)
        return STORE_OK;
    sqlite3_stmt *st = db_stmt(&r->c, ST_RUNS_RECENT);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, ws);
    sqlite3_bind_int64(st, 2, first_id);
    sqlite3_bind_int64(st, 3, last_id);
    sqlite3_bind_int(st, 4, per_conn);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)cap + 1);
    return collect_whole(&r->c, st, a, sizeof(run_t), cap, row_run_recent, (void **)out, n, "recent runs", first_id,
                         last_id);
}

static void row_retention_target(sqlite3_stmt *st, arena_t *a, void *p)
{
    (void)a;
    retention_target_t *t = p;
    t->connection_id = sqlite3_column_int64(st, 0);
    t->workspace_id = sqlite3_column_int64(st, 1);
}

store_err_t store_retention_targets(store_reader_t *r, int64_t after_id, int limit, arena_t *a,
                                    retention_target_t **out, int *n, int *more)
{
    sqlite3_stmt *st = db_stmt(&r->c, ST_RETENTION_TARGETS);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, after_id);
    sqlite3_bind_int(st, 2, limit + 1);
    return collect(&r->c, st, a, sizeof(retention_target_t), limit, row_retention_target, (void **)out, n, more);
}

/* ---- expectations ---- */

static void row_due(sqlite3_stmt *st, arena_t *a, void *p)
{
    store_due_t *d = p;
    d->id = sqlite3_column_int64(st, 0);
    d->workspace_id = sqlite3_column_int64(st, 1);
    d->at = sqlite3_column_int64(st, 2);
}

static store_err_t due_read(store_reader_t *r, stmt_id_t id, int64_t key, int limit, arena_t *a, store_due_t **out,
                            int *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = db_stmt(&r->c, id);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, key);
    sqlite3_bind_int64(st, 2, limit);
    return collect(&r->c, st, a, sizeof(store_due_t), limit, row_due, (void **)out, n, NULL);
}

store_err_t store_connections_due(store_reader_t *r, int64_t now, int limit, arena_t *a, store_due_t **out, int *n)
{
    return due_read(r, ST_CONNS_DUE, now, limit, a, out, n);
}

store_err_t store_runs_overdue(store_reader_t *r, int64_t now, int limit, arena_t *a, store_due_t **out, int *n)
{
    return due_read(r, ST_RUNS_OVERDUE, now, limit, a, out, n);
}

store_err_t store_connections_expect_unset(store_reader_t *r, int64_t after_id, int limit, arena_t *a,
                                           store_due_t **out, int *n)
{
    return due_read(r, ST_CONNS_EXPECT_UNSET, after_id, limit, a, out, n);
}

store_err_t store_connections_late_count(store_reader_t *r, int64_t ws, int64_t *n)
{
    sqlite3_stmt *st = db_stmt(&r->c, ST_CONN_LATE_COUNT);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, ws);
    int rc = sqlite3_step(st);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? STORE_OK : STORE_ERROR;
}
