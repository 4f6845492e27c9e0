/* Retention in the SQLite store: a workspace's policy, and the pruning of a connection's oldest runs
 * in small batches (OP_RUNS_PRUNE), inside the writer's transaction. The rules are model/retention.c's;
 * this file finds the runs they let go and removes them with everything that hangs off them. Run
 * statistics (run_stats, run_rollups) are kept: no trigger fires on a delete. */
#include "store/sqlite_int.h"
#include "util/log.h"

static store_err_t run_stmt(dbconn_t *c, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW)
        return STORE_OK;
    log_error("sqlite prune failed err=\"%s\"", sqlite3_errmsg(c->db));
    return STORE_ERROR;
}

store_err_t db_workspace_retention(dbconn_t *c, store_write_t *w)
{
    arena_t a = ARENA_INIT;
    workspace_t ws;
    store_err_t e = STORE_ERROR;
    sqlite3_stmt *st = db_stmt(c, ST_WORKSPACE_GET);
    if (st == NULL)
        goto out;
    sqlite3_bind_int64(st, 1, w->workspace_id);
    if ((e = db_one_row(c, st, &a, db_row_workspace_v, &ws)) != STORE_OK)
        goto out;
    if (w->mask & CONN_F_RET_DAYS)
        ws.retention.days = w->retention.days;
    if (w->mask & CONN_F_RET_KEEP_LAST)
        ws.retention.keep_last = w->retention.keep_last;
    if (w->mask & CONN_F_RET_FAILURE_DAYS)
        ws.retention.failure_days = w->retention.failure_days;
    e = STORE_ERROR;
    if ((st = db_stmt(c, ST_WORKSPACE_SET_RETENTION)) == NULL)
        goto out;
    sqlite3_bind_int64(st, 1, w->workspace_id);
    const int64_t v[3] = {ws.retention.days, ws.retention.keep_last, ws.retention.failure_days};
    for (int i = 0; i < 3; i++) {
        if (v[i] > 0)
            sqlite3_bind_int64(st, 2 + i, v[i]);
        else
            sqlite3_bind_null(st, 2 + i); /* none */
    }
    if ((e = run_stmt(c, st)) == STORE_OK)
        w->retention = ws.retention;
out:
    arena_release(&a);
    w->err = e;
    return e;
}

/* 1 when the connection has a run after run_count rc that stmt (a later success, a later watermark)
 * finds; -1 on error. */
static int has_later(dbconn_t *c, stmt_id_t id, int64_t conn_id, int64_t rc)
{
    sqlite3_stmt *st = db_stmt(c, id);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, conn_id);
    sqlite3_bind_int64(st, 2, rc);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step == SQLITE_ROW)
        return 1;
    return step == SQLITE_DONE ? 0 : -1;
}

/* Statements that remove what hangs off the runs ?2..?3 of connection ?1, then the runs, in an order
 * the foreign keys accept. */
static const stmt_id_t prune_steps[] = {
    ST_PRUNE_EVENTS, ST_PRUNE_LOG_CHUNKS, ST_PRUNE_LOGS,   ST_PRUNE_TASKS, ST_PRUNE_JOBS,
    ST_PRUNE_TOKENS, ST_PRUNE_KEYS,       ST_PRUNE_ALERTS, ST_PRUNE_RUNS,
};

store_err_t db_runs_prune(dbconn_t *c, store_write_t *w, int64_t now)
{
    arena_t a = ARENA_INIT;
    connection_t cn;
    workspace_t ws;
    store_err_t e;
    w->affected = 0;
    if ((e = db_connection_get(c, w->workspace_id, w->id, &a, &cn)) != STORE_OK)
        goto out;
    e = STORE_ERROR;
    sqlite3_stmt *st = db_stmt(c, ST_WORKSPACE_GET);
    if (st == NULL)
        goto out;
    sqlite3_bind_int64(st, 1, w->workspace_id);
    if ((e = db_one_row(c, st, &a, db_row_workspace_v, &ws)) != STORE_OK)
        goto out;
    const retention_t own = {cn.retention_days, cn.retention_keep_last, cn.retention_failure_days};
    const retention_t p = retention_effective(&ws.retention, &own);
    if (!retention_active(&p) || cn.run_count <= 1)
        goto out; /* e == STORE_OK: nothing to do */

    /* runs at or above floor are among the newest keep_last (and the newest is always kept) */
    int64_t floor = p.keep_last > 0 ? cn.run_count - p.keep_last + 1 : cn.run_count;
    e = STORE_ERROR;
    if ((st = db_stmt(c, ST_PRUNE_CANDIDATES)) == NULL)
        goto out;
    sqlite3_bind_int64(st, 1, cn.id);
    sqlite3_bind_int64(st, 2, cn.runs_pruned);
    sqlite3_bind_int64(st, 3, floor);
    sqlite3_bind_int(st, 4, STORE_PRUNE_BATCH);
    /* The runs go as a prefix: the walk stops at the first run a rule keeps. */
    int64_t first = 0, last = 0, expect = cn.runs_pruned + 1;
    int rc, n = 0, checks_ok = 1;
    struct cand {
        int64_t run_count;
        retention_run_t r;
        int has_watermark;
    } cands[STORE_PRUNE_BATCH];
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < STORE_PRUNE_BATCH) {
        struct cand *k = &cands[n++];
        k->run_count = sqlite3_column_int64(st, 1);
        k->r.state = (run_state_t)sqlite3_column_int(st, 2);
        k->r.result = (run_result_t)sqlite3_column_int(st, 3);
        k->r.created_at = sqlite3_column_int64(st, 4);
        k->has_watermark = sqlite3_column_int(st, 5);
        k->r.newest = k->r.last_success = k->r.last_watermark = 0;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        log_error("sqlite prune read failed err=\"%s\"", sqlite3_errmsg(c->db));
        goto out;
    }
    for (int i = 0; i < n && checks_ok; i++) {
        struct cand *k = &cands[i];
        if (k->run_count != expect)
            break; /* a gap (the table's newest id was left out): keep the rest a prefix */
        if (k->r.state == RUN_FINISHED && k->r.result == RESULT_SUCCESS) {
            int later = has_later(c, ST_LATER_SUCCESS, cn.id, k->run_count);
            checks_ok = later >= 0;
            k->r.last_success = later == 0;
        }
        if (checks_ok && k->has_watermark) {
            int later = has_later(c, ST_LATER_WATERMARK, cn.id, k->run_count);
            checks_ok = later >= 0;
            k->r.last_watermark = later == 0;
        }
        if (!checks_ok || retention_keeps(&p, now, &k->r))
            break;
        if (first == 0)
            first = k->run_count;
        last = k->run_count;
        expect++;
    }
    if (!checks_ok)
        goto out; /* e == STORE_ERROR */
    e = STORE_OK;
    if (first == 0)
        goto out;
    for (size_t i = 0; i < sizeof(prune_steps) / sizeof(prune_steps[0]) && e == STORE_OK; i++) {
        if ((st = db_stmt(c, prune_steps[i])) == NULL) {
            e = STORE_ERROR;
            break;
        }
        sqlite3_bind_int64(st, 1, cn.id);
        sqlite3_bind_int64(st, 2, first);
        sqlite3_bind_int64(st, 3, last);
        e = run_stmt(c, st);
    }
    if (e == STORE_OK && (st = db_stmt(c, ST_CONN_SET_PRUNED)) == NULL)
        e = STORE_ERROR;
    if (e == STORE_OK) {
        sqlite3_bind_int64(st, 1, cn.id);
        sqlite3_bind_int64(st, 2, last);
        e = run_stmt(c, st);
    }
    if (e == STORE_OK)
        w->affected = (int)(last - first + 1);
out:
    arena_release(&a);
    w->err = e;
    return e;
}
