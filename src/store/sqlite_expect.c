/* Expectations inside the writer's transaction: each connection's deadline for its next run, kept
 * as runs arrive; lateness and overdue runs as the checker reports them; and what a finished run's
 * duration and watermark mean (model/expect.h has the rules). Alerts go through alert_raise, so
 * they exist exactly when the change that caused them is durable. */
#include <inttypes.h>
#include <jansson.h>

#include "model/expect.h"
#include "store/sqlite_int.h"
#include "util/log.h"
#include "util/timeutil.h"

/* cn's deadline for a run after one at anchor_ms; 0 when it expects nothing (or its zone cannot be
 * loaded: logged, and the connection is then never late rather than always). */
static int64_t deadline_of(const connection_t *cn, int64_t anchor_ms)
{
    cron_spec_t spec;
    expect_when_t e;
    char err[160];
    tz_t *tz = NULL;
    const char *zone = expect_zone(cn);
    if (zone != NULL && (tz = tz_load(zone, err, sizeof(err))) == NULL) {
        log_warn("expectations: connection %" PRId64 " has an unusable time zone: %s", cn->id, err);
        return 0;
    }
    int64_t by = expect_when_of(cn, &spec, tz, &e) == 0 ? expect_deadline(&e, anchor_ms) : 0;
    tz_free(tz);
    return by;
}

static int expects_runs(const connection_t *cn)
{
    return cn->expect_interval_s > 0 || cn->expect_schedule != NULL || cn->schedule != NULL;
}

/* Sets cn's deadline from anchor_ms and clears lateness; last_run_at too when it is not 0. */
static store_err_t expect_set(dbconn_t *c, const connection_t *cn, int64_t anchor_ms, int64_t last_run_at)
{
    sqlite3_stmt *st = db_stmt(c, ST_CONN_EXPECT_SET);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, cn->id);
    db_bind_time(st, 2, deadline_of(cn, anchor_ms));
    db_bind_time(st, 3, last_run_at);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}

store_err_t db_expect_reset(dbconn_t *c, const connection_t *cn, int64_t now)
{
    if (!expects_runs(cn) && cn->expected_by == 0 && cn->late_since == 0)
        return STORE_OK;
    return expect_set(c, cn, now, 0);
}

store_err_t db_expect_run_created(dbconn_t *c, const connection_t *cn, int64_t created)
{
    if (!expects_runs(cn) && cn->expected_by == 0 && cn->late_since == 0)
        return STORE_OK;
    if (created <= cn->last_run_at)
        return STORE_OK; /* history older than the newest run: it changes no expectation */
    return expect_set(c, cn, created, created);
}

store_err_t db_expect_run_started(dbconn_t *c, const connection_t *cn, int64_t run_id, int64_t started_at)
{
    if (cn->max_duration_s <= 0)
        return STORE_OK;
    sqlite3_stmt *st = db_stmt(c, ST_RUN_SET_MAX_BY);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_int64(st, 2, started_at + cn->max_duration_s * 1000);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}

store_err_t expect_init(wctx_t *x)
{
    store_write_t *w = x->w;
    connection_t cn;
    store_err_t e = db_connection_get(x->c, w->workspace_id, w->id, &w->arena, &cn);
    if (e != STORE_OK || cn.expected_by != 0 || cn.late_since != 0 || !expects_runs(&cn))
        return e == STORE_NOT_FOUND ? STORE_OK : e;
    return expect_set(x->c, &cn, cn.last_run_at > 0 ? cn.last_run_at : x->now, 0);
}

static store_err_t add_flags(wctx_t *x, int64_t run_id, unsigned flags)
{
    sqlite3_stmt *st = db_stmt(x->c, ST_RUN_ADD_FLAGS);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_int(st, 2, (int)flags);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}

store_err_t expect_mark_late(wctx_t *x)
{
    store_write_t *w = x->w;
    connection_t cn;
    w->affected = 0;
    store_err_t e = db_connection_get(x->c, w->workspace_id, w->id, &w->arena, &cn);
    if (e == STORE_NOT_FOUND)
        return STORE_OK; /* deleted since the checker read it */
    if (e != STORE_OK)
        return e;
    if (!expect_is_late(cn.expected_by, cn.late_since, x->now) || cn.expected_by != w->seen_at)
        return STORE_OK; /* a run came, or the expectation changed, since the checker read it */
    sqlite3_stmt *st = db_stmt(x->c, ST_CONN_MARK_LATE);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, cn.id);
    sqlite3_bind_int64(st, 2, cn.workspace_id);
    sqlite3_bind_int64(st, 3, w->seen_at);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return STORE_ERROR;
    if (sqlite3_changes(x->c->db) != 1)
        return STORE_OK;
    w->affected = 1;
    char by[TIME_ISO_LEN], last[TIME_ISO_LEN];
    time_format_iso(cn.expected_by, by);
    time_format_iso(cn.last_run_at, last);
    json_t *data = json_pack("{s:s, s:s, s:s, s:o}", "reason", "not_started", "summary",
                             "no run started within the expected time and its grace", "expected_by", by, "last_run_at",
                             cn.last_run_at > 0 ? json_string(last) : json_null());
    return alert_raise(x, cn.workspace_id, cn.id, 0, ALERT_RUN_LATE, data);
}

store_err_t expect_run_overdue(wctx_t *x)
{
    store_write_t *w = x->w;
    run_t r;
    w->affected = 0;
    store_err_t e = db_run_get(x->c, w->workspace_id, w->id, &w->arena, &r);
    if (e != STORE_OK && e != STORE_NOT_FOUND)
        return e;
    /* Claimed before anything else: a run of a deleted connection (not found) is dropped from the
     * watch too, without an alert, so it is not reported again every second. */
    sqlite3_stmt *st = db_stmt(x->c, ST_RUN_OVERDUE_CLAIM);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, w->id);
    sqlite3_bind_int64(st, 2, w->seen_at);
    sqlite3_bind_int(st, 3, e == STORE_OK ? RUN_FLAG_LATE : 0);
    sqlite3_bind_int64(st, 4, x->now);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return STORE_ERROR;
    if (e == STORE_NOT_FOUND || sqlite3_changes(x->c->db) != 1)
        return STORE_OK; /* finished, or flagged already */
    x->note_run(x->note_ctx, r.id);
    w->affected = 1;
    char started[TIME_ISO_LEN];
    time_format_iso(r.started_at, started);
    int64_t bound = (w->seen_at - r.started_at) / 1000;
    json_t *data = json_pack("{s:s, s:s, s:s, s:I, s:I}", "reason", "not_finished", "summary",
                             "the run started but has not finished within the maximum duration", "started_at", started,
                             "max_duration_seconds", (json_int_t)bound, "running_seconds",
                             (json_int_t)((x->now - r.started_at) / 1000));
    return alert_raise(x, r.workspace_id, r.connection_id, r.id, ALERT_RUN_LATE, data);
}

/* run.duration for a run outside its connection's bounds. */
static store_err_t check_duration(wctx_t *x, const connection_t *cn, const run_t *r, unsigned *flags)
{
    int64_t bound = 0, took = r->completed_at - r->started_at;
    int which =
        expect_duration_applies(r) ? expect_duration_check(cn->min_duration_s, cn->max_duration_s, took, &bound) : 0;
    if (which == 0)
        return STORE_OK;
    *flags |= RUN_FLAG_DURATION;
    json_t *data = json_pack("{s:s, s:s, s:I, s:f}", "reason", which < 0 ? "too_fast" : "too_slow", "summary",
                             which < 0 ? "the run finished faster than the minimum duration"
                                       : "the run finished slower than the maximum duration",
                             which < 0 ? "min_duration_seconds" : "max_duration_seconds", (json_int_t)bound,
                             "duration_seconds", (double)took / 1000);
    return alert_raise(x, r->workspace_id, r->connection_id, r->id, ALERT_RUN_DURATION, data);
}

/* watermark.backwards / watermark.stalled for a successful run, and the connection's watermark state
 * moved on. */
static store_err_t check_watermark(wctx_t *x, const connection_t *cn, const run_t *r, unsigned *flags)
{
    if (r->result != RESULT_SUCCESS || r->watermark == 0)
        return STORE_OK;
    expect_wm_state_t wm = {cn->wm_last, cn->wm_flat_runs};
    const int64_t previous = cn->wm_last;
    unsigned found = expect_watermark_check(&wm, r->watermark, r->completed_at, cn->wm_stall_runs, cn->wm_max_age_s);
    sqlite3_stmt *st = db_stmt(x->c, ST_CONN_WM_SET);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, cn->id);
    sqlite3_bind_int64(st, 2, wm.last);
    sqlite3_bind_int64(st, 3, wm.flat_runs);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return STORE_ERROR;
    char now_wm[TIME_ISO_LEN], prev_wm[TIME_ISO_LEN];
    time_format_iso(r->watermark, now_wm);
    time_format_iso(previous, prev_wm);
    store_err_t e = STORE_OK;
    if (found & EXPECT_WM_BACKWARDS) {
        *flags |= RUN_FLAG_WM_BACKWARDS;
        e = alert_raise(x, r->workspace_id, r->connection_id, r->id, ALERT_WATERMARK_BACKWARDS,
                        json_pack("{s:s, s:s, s:s}", "summary",
                                  "the watermark is earlier than the previous successful run's",
                                  "last_timestamp_synced", now_wm, "previous_last_timestamp_synced", prev_wm));
    }
    if (e == STORE_OK && (found & EXPECT_WM_STALLED)) {
        *flags |= RUN_FLAG_WM_STALLED;
        e = alert_raise(x, r->workspace_id, r->connection_id, r->id, ALERT_WATERMARK_STALLED,
                        json_pack("{s:s, s:s, s:s, s:I}", "reason", "not_advancing", "summary",
                                  "successful runs in a row did not advance the watermark", "last_timestamp_synced",
                                  now_wm, "runs_without_advance", (json_int_t)cn->wm_stall_runs));
    }
    if (e == STORE_OK && (found & EXPECT_WM_TOO_OLD)) {
        *flags |= RUN_FLAG_WM_STALLED;
        e = alert_raise(x, r->workspace_id, r->connection_id, r->id, ALERT_WATERMARK_STALLED,
                        json_pack("{s:s, s:s, s:s, s:I, s:I}", "reason", "too_old", "summary",
                                  "the watermark is older than the maximum age", "last_timestamp_synced", now_wm,
                                  "age_seconds", (json_int_t)((r->completed_at - r->watermark) / 1000),
                                  "watermark_max_age_seconds", (json_int_t)cn->wm_max_age_s));
    }
    return e;
}

store_err_t expect_on_finish(wctx_t *x, run_t *r)
{
    connection_t cn;
    if (r->result != RESULT_SUCCESS && r->result != RESULT_PARTIAL)
        return STORE_OK; /* neither check looks at other results: spare the finish a read */
    store_err_t e = db_connection_get(x->c, r->workspace_id, r->connection_id, &x->w->arena, &cn);
    if (e != STORE_OK)
        return e == STORE_NOT_FOUND ? STORE_OK : e;
    unsigned flags = 0;
    if ((e = check_duration(x, &cn, r, &flags)) == STORE_OK)
        e = check_watermark(x, &cn, r, &flags);
    if (e == STORE_OK && flags != 0) {
        e = add_flags(x, r->id, flags);
        r->flags |= flags;
    }
    return e;
}
