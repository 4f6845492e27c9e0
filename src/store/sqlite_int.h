/* Internals shared by the SQLite store's files (open/writer, writes, reads). Not for callers. */
#ifndef SYNCRUN_STORE_SQLITE_INT_H
#define SYNCRUN_STORE_SQLITE_INT_H

#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>

#include "store/store.h"

/* Every statement the store runs, prepared once per connection. */
typedef enum stmt_id {
    ST_WORKSPACE_INSERT,
    ST_WORKSPACE_COUNT,
    ST_WORKSPACE_GET,
    ST_KEY_INSERT,
    ST_KEY_LOOKUP,
    ST_KEY_LIST,
    ST_CONN_INSERT,
    ST_CONN_GET,
    ST_CONN_GET_UUID,
    ST_CONN_GET_PING_KEY,
    ST_CONN_SET_PING_KEY,
    ST_CONN_LIST,
    ST_CONN_COUNT,
    ST_TOKEN_KEY_USABLE,
    ST_TOKEN_PURGE,
    ST_TOKEN_TRIM,
    ST_TOKEN_INSERT,
    ST_TOKEN_LOOKUP,
    ST_CONN_UPDATE,
    ST_CONN_DELETE,
    ST_CONN_BUMP,
    ST_RUN_GET,
    ST_RUN_GET_UUID,
    ST_RUN_ACTIVE,
    ST_RUN_BY_IDEM,
    ST_RUN_INSERT,
    ST_RUN_SAVE,
    ST_RUN_SAVE_PROGRESS,
    ST_RUN_RANGE_ASC,
    ST_RUN_RANGE_DESC,
    ST_RUN_LIST_ASC,
    ST_RUN_LIST_DESC,
    ST_EVENT_INSERT,
    ST_EVENT_LIST,
    ST_JOB_INSERT,
    ST_JOB_GET,
    ST_JOB_SAVE,
    ST_TASK_INSERT,
    ST_TASK_GET,
    ST_TASK_SAVE,
    ST_UNITS_RANGE,
    ST_JOBS_FIRST,
    ST_JOB_COUNTS,
    ST_RUN_BY_EXTERNAL,
    ST_RUN_SET_EXTERNAL,
    ST_RUN_NEWEST_CREATED,
    ST_RUNS_SEQUENCE_CLEAR,
    ST_RUNS_SEQUENCE_BY_CREATION,
    ST_SETTING_GET,
    ST_RUN_GET_EXTERNAL,
    ST_KEY_REVOKE,
    ST_KEYS_REVOKE_ENDED_RUNS,
    ST_LOG_GET,
    ST_LOG_PUT,
    ST_LOG_CHUNK_LENS,
    ST_LOG_CHUNK_DATA,
    ST_LOG_CHUNK_INSERT,
    ST_LOG_CHUNK_LAST,
    ST_LOG_CHUNK_SET,
    ST_LOG_CHUNKS_DELETE,
    ST_LOG_CHUNKS_READ,
    ST_RUN_STATS,
    ST_ACTIVE_COUNTS,
    ST_LOG_CHUNK_FIRST,
    ST_LOG_CHUNKS_FROM,
    ST_RUNS_STARTABLE,
    ST_CONNS_SCHEDULED,
    ST_RUNS_ACTIVE_MANAGED,
    ST_READ_BEGIN,
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_SAVEPOINT,
    ST_RELEASE,
    ST_ROLLBACK_TO,
    ST_RUN_KEYS_ASC,
    ST_RUN_KEYS_DESC,
    /* dialect connection lists (census syncs, braze integrations) */
    ST_CONN_PAGE,
    ST_CONN_BEFORE,
    ST_RUNS_NEWEST,
    /* alerts */
    ST_ALERT_INSERT,
    ST_RUN_PREV_DECISIVE,
    ST_ALERT_LIST,
    /* statistics and the workspace overview */
    ST_RUN_ROLLUPS,
    ST_RUNS_RECENT,
    /* retention */
    ST_WORKSPACE_SET_RETENTION,
    ST_CONN_SET_RETENTION,
    ST_RETENTION_TARGETS,
    ST_PRUNE_CANDIDATES,
    ST_LATER_SUCCESS,
    ST_LATER_WATERMARK,
    ST_PRUNE_EVENTS,
    ST_PRUNE_LOG_CHUNKS,
    ST_PRUNE_LOGS,
    ST_PRUNE_TASKS,
    ST_PRUNE_JOBS,
    ST_PRUNE_TOKENS,
    ST_PRUNE_KEYS,
    ST_PRUNE_ALERTS,
    ST_PRUNE_RUNS,
    ST_CONN_SET_PRUNED,
    /* expectations (sqlite_expect.c) */
    ST_CONN_EXPECT_SET,
    ST_CONN_MARK_LATE,
    ST_CONN_WM_SET,
    ST_CONNS_DUE,
    ST_CONNS_EXPECT_UNSET,
    ST_CONN_LATE_COUNT,
    ST_RUN_SET_MAX_BY,
    ST_RUN_OVERDUE_CLAIM,
    ST_RUN_ADD_FLAGS,
    ST_RUNS_OVERDUE,
    /* webhooks (sqlite_webhook.c) */
    ST_WEBHOOK_INSERT,
    ST_WEBHOOK_GET,
    ST_WEBHOOK_LIST,
    ST_WEBHOOK_SAVE,
    ST_WEBHOOK_DELETE,
    ST_DELIVERIES_KILL,
    ST_DELIVERY_FANOUT,
    ST_DELIVERY_TEST,
    ST_DELIVERY_GET,
    ST_DELIVERY_GET_ID,
    ST_DELIVERY_LIST,
    ST_DELIVERY_REDELIVER,
    ST_DELIVERY_SAVE,
    ST_ATTEMPT_INSERT,
    ST_ATTEMPT_LIST,
    ST_DELIVERIES_DUE,
    ST_DELIVERY_NEXT_DUE,
    ST_DELIVERY_COUNTS,
    ST_ATTEMPTS_PRUNE,
    ST_DELIVERIES_PRUNE,
    /* Census's stored renderings (sqlite_census.c) */
    ST_CENSUS_RUNS_ASC,
    ST_CENSUS_RUNS_DESC,
    ST_CENSUS_TODO,
    ST_CENSUS_TODO_DONE,
    ST_CENSUS_RUN,
    ST_CENSUS_PUT,
    ST_COUNT
} stmt_id_t;

typedef struct dbconn {
    sqlite3 *db;
    sqlite3_stmt *stmts[ST_COUNT];
    /* Set by the writer while its batch transaction should be open. SQLite rolls a transaction
     * back by itself on some errors (SQLITE_IOERR, SQLITE_FULL without a statement journal,
     * SQLITE_NOMEM); db_stmt then refuses every statement, so nothing after that runs in
     * autocommit and commits on its own. */
    int in_batch;
    uint64_t statements; /* statements handed out by db_stmt (store_reader_statements) */
    int deliveries_due;  /* the writer's batch made webhook deliveries due (store_set_delivery_hook) */
} dbconn_t;

struct store_reader {
    dbconn_t c;
};

/* Returns the prepared (and reset) statement, or NULL after logging the error (also when the
 * writer's batch transaction was rolled back under it: see in_batch). */
sqlite3_stmt *db_stmt(dbconn_t *c, stmt_id_t id);
/* The SQL of statement id (for tests that check its query plan). */
const char *db_stmt_sql(stmt_id_t id);
void db_close(dbconn_t *c);

/* Binding helpers: text NULL and int 0 times bind SQL NULL where the column allows it. */
void db_bind_text(sqlite3_stmt *st, int i, const char *s);
void db_bind_time(sqlite3_stmt *st, int i, int64_t ms);
const char *db_col_text(sqlite3_stmt *st, int i, arena_t *a);

/* Row readers for the column lists below; strings go to the arena. */
void db_row_workspace(sqlite3_stmt *st, arena_t *a, workspace_t *w);
void db_row_run(sqlite3_stmt *st, arena_t *a, run_t *r);
void db_row_connection(sqlite3_stmt *st, arena_t *a, connection_t *c);
void db_row_job(sqlite3_stmt *st, arena_t *a, job_t *j);
void db_row_task(sqlite3_stmt *st, arena_t *a, task_t *t);
/* The same, reading the columns from index b on (a job's or task's columns inside a wider row). */
void db_row_job_at(sqlite3_stmt *st, int b, arena_t *a, job_t *j);
void db_row_task_at(sqlite3_stmt *st, int b, arena_t *a, task_t *t);

/* Steps the bound statement st once: fills out with fn on a row (STORE_OK), STORE_NOT_FOUND when
 * there is none; resets st. */
store_err_t db_one_row(dbconn_t *c, sqlite3_stmt *st, arena_t *a, void (*fn)(sqlite3_stmt *, arena_t *, void *),
                       void *out);
void db_row_run_v(sqlite3_stmt *st, arena_t *a, void *r);
void db_row_connection_v(sqlite3_stmt *st, arena_t *a, void *c);
void db_row_workspace_v(sqlite3_stmt *st, arena_t *a, void *w);

/* Steps st collecting at most cap rows into an arena array of elem_size via fn; *more (when not NULL)
 * says whether a row past cap exists. */
store_err_t db_collect(dbconn_t *c, sqlite3_stmt *st, arena_t *a, size_t elem_size, int cap,
                       void (*fn)(sqlite3_stmt *, arena_t *, void *), void **out, int *n, int *more);

/* Single-row lookups shared by the writer and the readers. */
store_err_t db_connection_get(dbconn_t *c, int64_t ws, int64_t id, arena_t *a, connection_t *out);
store_err_t db_run_get(dbconn_t *c, int64_t ws, int64_t id, arena_t *a, run_t *out);

/* Retention (sqlite_prune.c), inside the writer's transaction: OP_WORKSPACE_RETENTION and
 * OP_RUNS_PRUNE. Each returns w->err. */
store_err_t db_workspace_retention(dbconn_t *c, store_write_t *w);
store_err_t db_runs_prune(dbconn_t *c, store_write_t *w, int64_t now);

/* OP_CENSUS_RENDER (sqlite_census.c), inside the writer's transaction; returns w->err. */
store_err_t db_census_render(dbconn_t *c, store_write_t *w);

/* Applies one write inside the writer's open transaction; returns w->err. Changed run ids are
 * appended through note_run. */
store_err_t db_apply_write(dbconn_t *c, store_write_t *w, void (*note_run)(void *ctx, int64_t run_id), void *ctx);

/* One write being applied inside the writer's transaction (sqlite_write.c): the connection, the
 * write, the time it is applied at (every row it changes gets this time), and where changed runs
 * are reported. */
typedef struct wctx {
    dbconn_t *c;
    store_write_t *w;
    int64_t now;
    void (*note_run)(void *ctx, int64_t run_id);
    void *note_ctx;
} wctx_t;

/* Appends an event of this kind with data (a JSON object; ownership taken) to run_id's trail. */
store_err_t wctx_event_add(wctx_t *x, int64_t run_id, const char *kind, json_t *data);

/* Alerts (sqlite_alert.c): what a change means for the people who watch a connection. Raised inside
 * the writer's transaction, so an alert exists exactly when the change that caused it is durable.
 *
 * alert_raise records `event` (an ALERT_* name, store.h) about connection conn_id of workspace ws,
 * and run_id (0 for an alert about the connection, e.g. a run that did not come), with data (a JSON
 * object of what was found; ownership taken). A run-scoped alert is also an event of that kind on
 * the run's trail, with the alert's id added to its data. */
store_err_t alert_raise(wctx_t *x, int64_t ws, int64_t conn_id, int64_t run_id, const char *event, json_t *data);
/* Raises what a live run's finish means (r: the run as just saved, finished). Called by every write
 * that finishes a run as it happens (finish, cancel, ping, interruption), not by recorded history
 * (OP_RUN_RECORD, OP_RUN_IMPORT). */
store_err_t alerts_on_finish(wctx_t *x, const run_t *r);
/* Webhooks (sqlite_webhook.c). db_webhook_write applies the OP_WEBHOOK_* and OP_DELIVERY_* writes
 * inside the writer's transaction (now: its clock). */
store_err_t db_webhook_write(dbconn_t *c, store_write_t *w, int64_t now);
/* Makes one delivery of an alert for each enabled webhook of workspace ws that wants `event` and
 * watches connection conn_id (0: a workspace-wide alert, only for webhooks without a connection
 * filter), inside the caller's transaction, so a delivery exists exactly when its alert does. run_id 0
 * = none; data: the alert's data (a JSON object's text). *n (when not NULL): the deliveries made. */
store_err_t db_webhook_fanout(dbconn_t *c, int64_t ws, int64_t alert_id, const char *event, int64_t conn_id,
                              int64_t run_id, int64_t at, const char *data, int *n);

/* Expectations (sqlite_expect.c), inside the writer's transaction. */
/* cn's expectation starts over at now (it was created or changed): a new deadline, not late. */
store_err_t db_expect_reset(dbconn_t *c, const connection_t *cn, int64_t now);
/* A run of cn was created at `created` (triggered, pinged, reported or recorded): the next is
 * expected after it, and cn is no longer late. History older than cn's newest run changes nothing. */
store_err_t db_expect_run_created(dbconn_t *c, const connection_t *cn, int64_t created);
/* Run run_id of cn started at started_at: it must finish within cn's maximum duration. */
store_err_t db_expect_run_started(dbconn_t *c, const connection_t *cn, int64_t run_id, int64_t started_at);
/* The checker's ops: OP_CONNECTION_LATE, OP_RUN_OVERDUE, OP_CONNECTION_EXPECT. */
store_err_t expect_mark_late(wctx_t *x);
store_err_t expect_run_overdue(wctx_t *x);
store_err_t expect_init(wctx_t *x);
/* What a live run's finish means for its connection's duration bounds and watermark checks: raises
 * run.duration, watermark.backwards and watermark.stalled, and sets r->flags (saved too). */
store_err_t expect_on_finish(wctx_t *x, run_t *r);

/* Run logs (sqlite_log.c). db_log_append appends n bytes to the log of run_id inside the writer's
 * transaction, keeping its last cap bytes (after a cut, from the first newline within 4 KiB);
 * replace drops the log first. Its cost grows with n, not with the log. */
store_err_t db_log_append(dbconn_t *c, int64_t run_id, size_t cap, const char *data, size_t n, int replace);
/* The kept log of run_id (an arena copy, NUL-terminated; "" when none) and the bytes written in
 * all. Reads one snapshot. No workspace check: the caller has made it. */
store_err_t db_log_read(dbconn_t *c, int64_t run_id, arena_t *a, const char **data, size_t *len, int64_t *total);
/* The log as a cursor (store_log_open / store_log_next, without their workspace check). */
store_err_t db_log_open(dbconn_t *c, int64_t run_id, store_log_cursor_t *cur);
store_err_t db_log_next(dbconn_t *c, store_log_cursor_t *cur, char *buf, size_t cap, size_t *n);
/* The data step of the migration that introduced chunks (run inside its transaction). */
int db_log_migrate_chunks(sqlite3 *db);

#endif
