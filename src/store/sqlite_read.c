/* Reads, on a per-thread read-only connection. Every read is scoped by workspace. */
#include <stdint.h>
#include <string.h>

#include "store/sqlite_int.h"
#include "util/log.h"

/* Steps st collecting rows into an arena array of elem_size via fn. */
static store_err_t collect(dbconn_t *c, sqlite3_stmt *st, arena_t *a, size_t elem_size, int cap,
                           void (*fn)(sqlite3_stmt *, arena_t *, void *), void **out, int *n)
{
    /* Start small and double: `cap` is a limit, not a guess of the size. */
    int room = cap < 64 ? (cap > 0 ? cap : 1) : 64;
    char *arr = arena_alloc(a, elem_size * (size_t)room);
    int count = 0, rc = SQLITE_DONE;
    while (count < cap && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == room) {
            int more = room * 2 < cap ? room * 2 : cap;
            char *bigger = arena_alloc(a, elem_size * (size_t)more);
            memcpy(bigger, arr, elem_size * (size_t)count);
            arr = bigger;
            room = more;
        }
        fn(st, a, arr + elem_size * (size_t)count++);
    }
    if (count == cap)
        rc = SQLITE_DONE;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        log_error("sqlite read failed err=\"%s\"", sqlite3_errmsg(c->db));
        return STORE_ERROR;
    }
    *out = arr;
    *n = count;
    return STORE_OK;
}

static void row_run(sqlite3_stmt *st, arena_t *a, void *p)
{
    db_row_run(st, a, p);
}

static void row_connection(sqlite3_stmt *st, arena_t *a, void *p)
{
    db_row_connection(st, a, p);
}

static void row_job(sqlite3_stmt *st, arena_t *a, void *p)
{
    db_row_job(st, a, p);
}

static void row_task(sqlite3_stmt *st, arena_t *a, void *p)
{
    db_row_task(st, a, p);
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

static void row_workspace_v(sqlite3_stmt *st, arena_t *a, void *w)
{
    db_row_workspace(st, a, w);
}

store_err_t store_workspace_get(store_reader_t *r, int64_t id, arena_t *a, workspace_t *out)
{
    sqlite3_stmt *st = db_stmt(&r->c, ST_WORKSPACE_GET);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    return db_one_row(&r->c, st, a, row_workspace_v, out);
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

store_err_t store_key_list(store_reader_t *r, int64_t ws, arena_t *a, api_key_row_t **out, int *n)
{
    sqlite3_stmt *st = db_stmt(&r->c, ST_KEY_LIST);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, ws);
    return collect(&r->c, st, a, sizeof(api_key_row_t), 10000, row_api_key, (void **)out, n);
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

store_err_t store_connection_list(store_reader_t *r, int64_t ws, int64_t after_id, int limit, arena_t *a,
                                  connection_t **out, int *n)
{
    sqlite3_stmt *st = db_stmt(&r->c, ST_CONN_LIST);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, ws);
    sqlite3_bind_int64(st, 2, after_id);
    sqlite3_bind_int(st, 3, limit);
    return collect(&r->c, st, a, sizeof(connection_t), limit, row_connection, (void **)out, n);
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

store_err_t store_run_range(store_reader_t *r, int64_t ws, int64_t conn_id, int64_t lo, int64_t hi, int asc, arena_t *a,
                            run_t **out, int *n)
{
    if (lo > hi) {
        *out = NULL;
        *n = 0;
        return STORE_OK;
    }
    sqlite3_stmt *st = db_stmt(&r->c, asc ? ST_RUN_RANGE_ASC : ST_RUN_RANGE_DESC);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, conn_id);
    sqlite3_bind_int64(st, 2, ws);
    sqlite3_bind_int64(st, 3, lo);
    sqlite3_bind_int64(st, 4, hi);
    int64_t cap = hi - lo + 1;
    return collect(&r->c, st, a, sizeof(run_t), cap > 1000 ? 1000 : (int)cap, row_run, (void **)out, n);
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
    return collect(&r->c, st, a, sizeof(run_t), f->limit, row_run, (void **)out, n);
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
    return collect(&r->c, st, a, sizeof(run_event_t), limit, row_event, (void **)out, n);
}

/* A run has at most this many jobs, and a job this many tasks, in one answer. */
enum { JOBS_MAX = 1000, TASKS_MAX = 1000 };

store_err_t store_job_list(store_reader_t *r, int64_t ws, int64_t run_id, arena_t *a, job_t **out, int *n)
{
    run_t run;
    store_err_t e = db_run_get(&r->c, ws, run_id, a, &run);
    if (e != STORE_OK)
        return e;
    sqlite3_stmt *st = db_stmt(&r->c, ST_JOB_LIST);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, run_id);
    if ((e = collect(&r->c, st, a, sizeof(job_t), JOBS_MAX, row_job, (void **)out, n)) != STORE_OK)
        return e;
    for (int i = 0; i < *n; i++) {
        job_t *j = &(*out)[i];
        if ((st = db_stmt(&r->c, ST_TASK_LIST)) == NULL)
            return STORE_ERROR;
        sqlite3_bind_int64(st, 1, j->id);
        if ((e = collect(&r->c, st, a, sizeof(task_t), TASKS_MAX, row_task, (void **)&j->tasks, &j->ntasks)) !=
            STORE_OK)
            return e;
    }
    return STORE_OK;
}

store_err_t store_log_get(store_reader_t *r, int64_t ws, int64_t run_id, arena_t *a, const char **data, size_t *len,
                          int64_t *total)
{
    run_t run;
    store_err_t e = db_run_get(&r->c, ws, run_id, a, &run); /* the workspace check */
    if (e != STORE_OK)
        return e;
    sqlite3_stmt *st = db_stmt(&r->c, ST_LOG_GET);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_int64(st, 2, ws);
    *data = "";
    *len = 0;
    *total = 0;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *len = (size_t)sqlite3_column_bytes(st, 0);
        *data = arena_strndup(a, sqlite3_column_blob(st, 0), *len);
        *total = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}

store_err_t store_runs_startable(store_reader_t *r, int limit, arena_t *a, run_t **out, int *n)
{
    sqlite3_stmt *st = db_stmt(&r->c, ST_RUNS_STARTABLE);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int(st, 1, limit);
    return collect(&r->c, st, a, sizeof(run_t), limit, row_run, (void **)out, n);
}

/* At most this many scheduled connections are served; more are an error in the log. */
enum { SCHEDULED_MAX = 100000 };

store_err_t store_connections_scheduled(store_reader_t *r, arena_t *a, connection_t **out, int *n)
{
    sqlite3_stmt *st = db_stmt(&r->c, ST_CONNS_SCHEDULED);
    if (st == NULL)
        return STORE_ERROR;
    return collect(&r->c, st, a, sizeof(connection_t), SCHEDULED_MAX, row_connection, (void **)out, n);
}

store_err_t store_runs_active_managed(store_reader_t *r, arena_t *a, run_t **out, int *n)
{
    sqlite3_stmt *st = db_stmt(&r->c, ST_RUNS_ACTIVE_MANAGED);
    if (st == NULL)
        return STORE_ERROR;
    return collect(&r->c, st, a, sizeof(run_t), 100000, row_run, (void **)out, n);
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
    sqlite3_stmt *st = db_stmt(&r->c, asc ? ST_RUN_KEYS_ASC : ST_RUN_KEYS_DESC);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, conn_id);
    sqlite3_bind_int64(st, 2, ws);
    sqlite3_bind_int64(st, 3, lo);
    sqlite3_bind_int64(st, 4, hi);
    int64_t cap = hi - lo + 1;
    return collect(&r->c, st, a, sizeof(run_key_t), cap > 1000 ? 1000 : (int)cap, row_key, (void **)out, n);
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
