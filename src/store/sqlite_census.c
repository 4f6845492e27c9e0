/* Census's renderings of finished runs, kept beside the runs (migration 18): a finished run never
 * changes, so its Census JSON (model/census_run.h) is made once, by the writer, and a page of a
 * connection's sync runs reads ready bytes in run_count order (census_runs is keyed by
 * (connection_id, run_count), WITHOUT ROWID: a page is one range of one b-tree, with no row lookup
 * per run). The database's triggers queue each run that becomes finished (census_runs_todo) and
 * delete a rendering whose run changes or goes; OP_CENSUS_RENDER works through the queue. */
#include "model/census_run.h"
#include "store/sqlite_int.h"
#include "util/log.h"

/* A rendering larger than this is not kept (the page renders the run itself): far above any run's. */
enum { CENSUS_RUN_BODY_MAX = 1024 * 1024 };

static store_err_t census_fail(dbconn_t *c, store_write_t *w)
{
    log_error("sqlite census rendering failed err=\"%s\"", sqlite3_errmsg(c->db));
    w->err = STORE_ERROR;
    return STORE_ERROR;
}

/* An entry of the queue: where the run was when it was queued, and the run. */
typedef struct census_todo {
    int64_t connection_id, run_count, run_id;
} census_todo_t;

/* Renders the queued run (when it still exists, is finished and its connection is not deleted) at
 * its place now (renumbering may have moved it since) and keeps the rendering; then takes the entry
 * from the queue. */
static store_err_t census_render_one(dbconn_t *c, store_write_t *w, const census_todo_t *t, buf_t *b)
{
    sqlite3_stmt *st = db_stmt(c, ST_CENSUS_RUN);
    if (st == NULL)
        return census_fail(c, w);
    sqlite3_bind_int64(st, 1, t->run_id);
    run_t r;
    store_err_t e = db_one_row(c, st, &w->arena, db_row_run_v, &r);
    if (e != STORE_OK && e != STORE_NOT_FOUND)
        return census_fail(c, w);
    buf_reset(b);
    if (e == STORE_OK && r.state == RUN_FINISHED) {
        census_run_write(b, &r);
        if (!buf_failed(b)) {
            if ((st = db_stmt(c, ST_CENSUS_PUT)) == NULL)
                return census_fail(c, w);
            sqlite3_bind_int64(st, 1, r.connection_id);
            sqlite3_bind_int64(st, 2, r.run_count);
            sqlite3_bind_int64(st, 3, r.id);
            sqlite3_bind_int(st, 4, CENSUS_RUN_FORMAT);
            sqlite3_bind_blob(st, 5, b->data, (int)b->len, SQLITE_STATIC);
            int rc = sqlite3_step(st);
            sqlite3_reset(st);
            if (rc != SQLITE_DONE)
                return census_fail(c, w);
        }
    }
    if ((st = db_stmt(c, ST_CENSUS_TODO_DONE)) == NULL)
        return census_fail(c, w);
    sqlite3_bind_int64(st, 1, t->connection_id);
    sqlite3_bind_int64(st, 2, t->run_count);
    sqlite3_bind_int64(st, 3, t->run_id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? STORE_OK : census_fail(c, w);
}

store_err_t db_census_render(dbconn_t *c, store_write_t *w)
{
    census_todo_t todo[STORE_CENSUS_RENDER_BATCH];
    int n = 0, rc = SQLITE_DONE;
    w->affected = 0;
    sqlite3_stmt *st = db_stmt(c, ST_CENSUS_TODO);
    if (st == NULL)
        return census_fail(c, w);
    sqlite3_bind_int(st, 1, STORE_CENSUS_RENDER_BATCH);
    while (n < STORE_CENSUS_RENDER_BATCH && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        todo[n].connection_id = sqlite3_column_int64(st, 0);
        todo[n].run_count = sqlite3_column_int64(st, 1);
        todo[n++].run_id = sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return census_fail(c, w);
    buf_t b = BUF_INIT(CENSUS_RUN_BODY_MAX);
    store_err_t e = STORE_OK;
    for (int i = 0; i < n && e == STORE_OK; i++) {
        e = census_render_one(c, w, &todo[i], &b);
        arena_release(&w->arena);
    }
    buf_release(&b);
    if (e == STORE_OK)
        w->affected = n;
    return e;
}

store_err_t store_census_runs(store_reader_t *r, int64_t conn_id, int64_t lo, int64_t hi, int asc,
                              void (*fn)(void *ctx, int64_t run_count, const char *body, size_t len), void *ctx)
{
    if (lo > hi)
        return STORE_OK;
    if (hi - lo >= STORE_RUN_RANGE_MAX) {
        log_error("store: census range of %lld runs refused (at most %d)", (long long)(hi - lo + 1),
                  STORE_RUN_RANGE_MAX);
        return STORE_ERROR;
    }
    sqlite3_stmt *st = db_stmt(&r->c, asc ? ST_CENSUS_RUNS_ASC : ST_CENSUS_RUNS_DESC);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, conn_id);
    sqlite3_bind_int64(st, 2, lo);
    sqlite3_bind_int64(st, 3, hi);
    sqlite3_bind_int(st, 4, CENSUS_RUN_FORMAT);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *body = sqlite3_column_blob(st, 1);
        int len = sqlite3_column_bytes(st, 1);
        if (body != NULL && len > 0)
            fn(ctx, sqlite3_column_int64(st, 0), body, (size_t)len);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        log_error("sqlite read failed err=\"%s\"", sqlite3_errmsg(r->c.db));
        return STORE_ERROR;
    }
    return STORE_OK;
}
