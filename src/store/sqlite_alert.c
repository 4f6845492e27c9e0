/* Alerts: what a change means for the people who watch a connection (sqlite_int.h). Each is raised
 * inside the writer's transaction of the change that caused it, so it exists exactly when that
 * change is durable, and whatever delivers alerts (webhooks) reads them from the database. */
#include <string.h>

#include "store/policy.h"
#include "store/sqlite_int.h"
#include "util/log.h"

store_err_t alert_raise(wctx_t *x, int64_t ws, int64_t conn_id, int64_t run_id, const char *event, json_t *data)
{
    char *text = data != NULL ? json_dumps(data, JSON_COMPACT) : NULL;
    sqlite3_stmt *st = text != NULL ? db_stmt(x->c, ST_ALERT_INSERT) : NULL;
    store_err_t e = STORE_ERROR;
    if (st == NULL)
        goto out;
    sqlite3_bind_int64(st, 1, ws);
    sqlite3_bind_int64(st, 2, conn_id);
    if (run_id != 0)
        sqlite3_bind_int64(st, 3, run_id);
    else
        sqlite3_bind_null(st, 3);
    sqlite3_bind_text(st, 4, event, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, x->now);
    sqlite3_bind_text(st, 6, text, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        log_error("alert insert failed event=%s err=\"%s\"", event, sqlite3_errmsg(x->c->db));
        goto out;
    }
    /* the webhooks that want it get their delivery in this same transaction */
    int64_t alert_id = sqlite3_last_insert_rowid(x->c->db);
    e = db_webhook_fanout(x->c, ws, alert_id, event, conn_id, run_id, x->now, text, NULL);
    if (e == STORE_OK && run_id != 0) {
        json_object_set_new(data, "alert_id", json_integer(alert_id));
        e = wctx_event_add(x, run_id, event, json_incref(data));
    }
out:
    free(text);
    json_decref(data);
    return e;
}

/* The newest finished run before r whose result tells how the connection is doing; *id 0 when none. */
static store_err_t previous_decisive(wctx_t *x, const run_t *r, int64_t *id, run_result_t *result)
{
    sqlite3_stmt *st = db_stmt(x->c, ST_RUN_PREV_DECISIVE);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, r->connection_id);
    sqlite3_bind_int64(st, 2, r->run_count);
    int rc = sqlite3_step(st);
    *id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    *result = rc == SQLITE_ROW ? (run_result_t)sqlite3_column_int(st, 1) : RESULT_NONE;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}

static json_t *str_or_null(const char *s)
{
    json_t *j = s != NULL ? json_string(s) : NULL;
    return j != NULL ? j : json_null();
}

store_err_t alerts_on_finish(wctx_t *x, const run_t *r)
{
    if (policy_result_failed(r->result))
        return alert_raise(x, r->workspace_id, r->connection_id, r->id, ALERT_RUN_FAILED,
                           json_pack("{s:s, s:o, s:o}", "result", run_result_name(r->result), "error_code",
                                     str_or_null(r->error_code), "error_message", str_or_null(r->error_message)));
    if (r->result != RESULT_SUCCESS)
        return STORE_OK;
    int64_t prev_id;
    run_result_t prev;
    store_err_t e = previous_decisive(x, r, &prev_id, &prev);
    if (e != STORE_OK || !policy_recovered(r->result, prev))
        return e;
    return alert_raise(
        x, r->workspace_id, r->connection_id, r->id, ALERT_RUN_RECOVERED,
        json_pack("{s:I, s:s}", "previous_run_id", (json_int_t)prev_id, "previous_result", run_result_name(prev)));
}
