/* Tests for src/exec/scheduler.c: scheduler_tick driven with a fake clock against a real
 * temporary store. Each test makes its own scheduler (it caches the scheduled connections for a
 * while of the clock it is given) and reads the runs and next_fire_at back from the store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <fcntl.h>
#include <unistd.h>

#include "exec/scheduler.h"
#include "store/store.h"
#include "util/timeutil.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define MIN_MS   INT64_C(60000)

typedef struct fx {
    char dir[256];
    char path[320];
    store_t *s;
    store_reader_t *r;
    int64_t ws;
    arena_t a;
} fx_t;

static int64_t iso_ms(const char *iso)
{
    int64_t ms;
    if (time_parse_iso(iso, &ms) != 0)
        fail_msg("bad ISO time in test: %s", iso);
    return ms;
}

static void wr_init(store_write_t *w, store_op_t op, int64_t ws, int64_t id)
{
    memset(w, 0, sizeof(*w));
    w->op = op;
    w->workspace_id = ws;
    w->id = id;
}

typedef struct conn_opts {
    const char *schedule, *timezone;
    catchup_policy_t catchup;
    int64_t deadline_s;
    overlap_policy_t overlap;
} conn_opts_t;

static int64_t mk_conn(fx_t *f, const char *name, conn_opts_t o)
{
    store_write_t w;
    wr_init(&w, OP_CONNECTION_CREATE, f->ws, 0);
    w.mask = CONN_F_SCHEDULE;
    w.conn.name = name;
    w.conn.overlap = o.overlap;
    w.conn.schedule = o.schedule;
    w.conn.timezone = o.timezone;
    w.conn.catchup = o.catchup;
    w.conn.starting_deadline_s = o.deadline_s;
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    int64_t id = w.conn.id;
    assert_true(id > 0);
    assert_string_equal(w.conn.schedule, o.schedule);
    assert_int_equal(w.conn.next_fire_at, 0);
    store_write_release(&w);
    return id;
}

static connection_t get_conn(fx_t *f, int64_t id)
{
    connection_t cn;
    assert_int_equal(store_connection_get(f->r, f->ws, id, &f->a, &cn), STORE_OK);
    return cn;
}

static void set_next_fire(fx_t *f, int64_t id, int64_t at)
{
    store_write_t w;
    wr_init(&w, OP_CONNECTION_UPDATE, f->ws, id);
    w.mask = CONN_F_NEXT_FIRE;
    w.conn.next_fire_at = at;
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    store_write_release(&w);
}

/* The runs of connection id, oldest first. */
static int list_runs(fx_t *f, int64_t id, run_t **out)
{
    run_filter_t flt;
    memset(&flt, 0, sizeof(flt));
    flt.state = -1;
    flt.result = -1;
    flt.asc = 1;
    flt.limit = 100;
    int n = -1;
    assert_int_equal(store_run_list(f->r, f->ws, id, &flt, &f->a, out, &n), STORE_OK);
    return n;
}

static int run_count(fx_t *f, int64_t id)
{
    run_t *runs;
    return list_runs(f, id, &runs);
}

static void assert_time(int64_t got, const char *want_iso)
{
    char g[TIME_ISO_LEN];
    time_format_iso(got, g);
    if (got != iso_ms(want_iso))
        fail_msg("time: got %s (%lld), want %s", g, (long long)got, want_iso);
}

/* Runs one tick with stderr captured into buf (what the scheduler logs). */
static int64_t tick_logged(scheduler_t *sc, int64_t now, char *buf, size_t cap)
{
    char path[] = "/tmp/syncrun-test-sched-log.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    dup2(fd, STDERR_FILENO);
    int64_t wait = scheduler_tick(sc, now);
    dup2(saved, STDERR_FILENO);
    close(saved);
    ssize_t n = pread(fd, buf, cap - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    close(fd);
    return wait;
}

/* ---- fixture ---- */

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof(f->dir), "%s/syncrun-test-sched.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/test.db", f->dir);
    char err[256] = "";
    if (store_open(f->path, &f->s, err, sizeof(err)) != 0)
        fail_msg("store_open(%s): %s", f->path, err);
    f->r = store_reader_open(f->s);
    assert_non_null(f->r);
    store_write_t w;
    wr_init(&w, OP_WORKSPACE_CREATE, 0, 0);
    w.name = "sched";
    w.key_scope = SCOPE_ADMIN;
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    f->ws = w.workspace_id;
    store_write_release(&w);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    store_reader_close(f->r);
    store_close(f->s);
    arena_release(&f->a);
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < COUNT(suffixes); i++) {
        char p[400];
        snprintf(p, sizeof(p), "%s%s", f->path, suffixes[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

/* ---- tests ---- */

static void test_first_tick_computes_next_without_firing(void **state)
{
    fx_t *f = *state;
    int64_t c = mk_conn(f, "every5", (conn_opts_t){.schedule = "*/5 * * * *"});
    scheduler_t *sc = scheduler_new(f->s, f->r);
    assert_non_null(sc);
    int64_t wait = scheduler_tick(sc, iso_ms("2026-03-10T10:00:30.000Z"));
    assert_true(wait > 0 && wait <= 60000);
    assert_time(get_conn(f, c).next_fire_at, "2026-03-10T10:05:00.000Z");
    assert_int_equal(run_count(f, c), 0);
    /* a later tick before the due time does not move it nor fire */
    scheduler_tick(sc, iso_ms("2026-03-10T10:03:00.000Z"));
    assert_time(get_conn(f, c).next_fire_at, "2026-03-10T10:05:00.000Z");
    assert_int_equal(run_count(f, c), 0);
    scheduler_free(sc);
}

static void test_due_fires_exactly_one(void **state)
{
    fx_t *f = *state;
    int64_t c = mk_conn(f, "every5", (conn_opts_t){.schedule = "*/5 * * * *"});
    scheduler_t *sc = scheduler_new(f->s, f->r);
    scheduler_tick(sc, iso_ms("2026-03-10T10:00:30.000Z"));
    int64_t due = iso_ms("2026-03-10T10:05:00.000Z");
    assert_int_equal(get_conn(f, c).next_fire_at, due);

    /* ticks before the due time fire nothing; the wait says how long until it is due */
    for (int64_t t = due - 10 * 1000; t < due; t += 1000) {
        int64_t wait = scheduler_tick(sc, t);
        assert_true(wait > 0);
        assert_true(wait <= due - t);
    }
    scheduler_tick(sc, due - 1);
    assert_int_equal(run_count(f, c), 0);

    scheduler_tick(sc, due);
    run_t *runs;
    assert_int_equal(list_runs(f, c, &runs), 1);
    assert_string_equal(runs[0].trigger_tag, "Scheduled");
    assert_int_equal(runs[0].scheduled_at, due);
    assert_int_equal(runs[0].state, RUN_QUEUED);
    assert_non_null(strstr(runs[0].trigger_detail, "*/5 * * * *"));
    assert_null(strstr(runs[0].trigger_detail, "Catch-up"));
    assert_time(get_conn(f, c).next_fire_at, "2026-03-10T10:10:00.000Z");

    /* more ticks in the same minute, and up to the next due time, fire nothing more */
    scheduler_tick(sc, due + 1);
    scheduler_tick(sc, due + 2500);
    scheduler_tick(sc, due + 5 * 60000 - 1);
    assert_int_equal(run_count(f, c), 1);

    /* the next due time, a little late (the runner ticks at most every second) */
    scheduler_tick(sc, due + 5 * 60000 + 700);
    assert_int_equal(list_runs(f, c, &runs), 2);
    assert_time(runs[1].scheduled_at, "2026-03-10T10:10:00.000Z");
    assert_null(strstr(runs[1].trigger_detail, "Catch-up"));
    assert_time(get_conn(f, c).next_fire_at, "2026-03-10T10:15:00.000Z");
    scheduler_free(sc);
}

static void test_late_tick_fires_one_catch_up(void **state)
{
    fx_t *f = *state;
    int64_t c = mk_conn(f, "every5", (conn_opts_t){.schedule = "*/5 * * * *"});
    scheduler_t *sc = scheduler_new(f->s, f->r);
    scheduler_tick(sc, iso_ms("2026-03-10T10:00:30.000Z"));
    /* due 10:05; down until 10:52: 10:05, 10:10, ... 10:50 were missed (10 times) */
    scheduler_tick(sc, iso_ms("2026-03-10T10:52:00.000Z"));
    run_t *runs;
    assert_int_equal(list_runs(f, c, &runs), 1);
    assert_string_equal(runs[0].trigger_tag, "Scheduled");
    assert_time(runs[0].scheduled_at, "2026-03-10T10:50:00.000Z");
    assert_non_null(strstr(runs[0].trigger_detail, "Catch-up"));
    if (strstr(runs[0].trigger_detail, " 10 scheduled time(s) were missed") == NULL)
        fail_msg("the detail says how many were missed: %s", runs[0].trigger_detail);
    assert_time(get_conn(f, c).next_fire_at, "2026-03-10T10:55:00.000Z");
    /* no burst: later ticks before 10:55 fire nothing */
    scheduler_tick(sc, iso_ms("2026-03-10T10:52:01.000Z"));
    scheduler_tick(sc, iso_ms("2026-03-10T10:54:59.000Z"));
    assert_int_equal(run_count(f, c), 1);
    scheduler_free(sc);
}

static void test_missed_by_more_than_a_minute_is_a_catch_up(void **state)
{
    fx_t *f = *state;
    int64_t c = mk_conn(f, "hourly", (conn_opts_t){.schedule = "0 * * * *"});
    set_next_fire(f, c, iso_ms("2026-03-10T10:00:00.000Z"));
    scheduler_t *sc = scheduler_new(f->s, f->r);
    /* one scheduled time, handled 5 minutes late (syncrun was down): a catch-up for 1 time */
    scheduler_tick(sc, iso_ms("2026-03-10T10:05:00.000Z"));
    run_t *runs;
    assert_int_equal(list_runs(f, c, &runs), 1);
    assert_time(runs[0].scheduled_at, "2026-03-10T10:00:00.000Z");
    assert_non_null(strstr(runs[0].trigger_detail, " 1 scheduled time(s) were missed"));
    assert_time(get_conn(f, c).next_fire_at, "2026-03-10T11:00:00.000Z");
    scheduler_free(sc);
}

static void test_catchup_none(void **state)
{
    fx_t *f = *state;
    int64_t c = mk_conn(f, "none", (conn_opts_t){.schedule = "*/5 * * * *", .catchup = CATCHUP_NONE});
    scheduler_t *sc = scheduler_new(f->s, f->r);
    scheduler_tick(sc, iso_ms("2026-03-10T10:00:30.000Z"));
    assert_time(get_conn(f, c).next_fire_at, "2026-03-10T10:05:00.000Z");
    int64_t now = iso_ms("2026-03-10T10:52:00.000Z");
    scheduler_tick(sc, now);
    assert_int_equal(run_count(f, c), 0);
    int64_t next = get_conn(f, c).next_fire_at;
    assert_true(next > now);
    assert_time(next, "2026-03-10T10:55:00.000Z");
    scheduler_tick(sc, now + 1000);
    scheduler_tick(sc, now + 3000);
    assert_int_equal(run_count(f, c), 0);
    /* on time again: fires normally */
    scheduler_tick(sc, next);
    assert_int_equal(run_count(f, c), 1);
    scheduler_free(sc);
}

static void test_starting_deadline(void **state)
{
    fx_t *f = *state;
    int64_t c = mk_conn(f, "deadline", (conn_opts_t){.schedule = "*/5 * * * *", .deadline_s = 120});
    scheduler_t *sc = scheduler_new(f->s, f->r);
    set_next_fire(f, c, iso_ms("2026-03-10T10:05:00.000Z"));
    /* latest missed 10:50, now 10:53: 3 minutes > 120 s: not caught up */
    int64_t now = iso_ms("2026-03-10T10:53:00.000Z");
    scheduler_tick(sc, now);
    assert_int_equal(run_count(f, c), 0);
    assert_time(get_conn(f, c).next_fire_at, "2026-03-10T10:55:00.000Z");

    /* within the deadline: latest missed 11:20, now 11:21:30 (90 s) → caught up */
    set_next_fire(f, c, iso_ms("2026-03-10T11:00:00.000Z"));
    scheduler_tick(sc, iso_ms("2026-03-10T11:21:30.000Z"));
    run_t *runs;
    assert_int_equal(list_runs(f, c, &runs), 1);
    assert_time(runs[0].scheduled_at, "2026-03-10T11:20:00.000Z");
    assert_non_null(strstr(runs[0].trigger_detail, " 5 scheduled time(s) were missed"));
    assert_time(get_conn(f, c).next_fire_at, "2026-03-10T11:25:00.000Z");
    scheduler_free(sc);
}

static void test_overlap_skip_records_a_skipped_run(void **state)
{
    fx_t *f = *state;
    int64_t c = mk_conn(f, "skip", (conn_opts_t){.schedule = "*/5 * * * *", .overlap = OVERLAP_SKIP});
    scheduler_t *sc = scheduler_new(f->s, f->r);
    scheduler_tick(sc, iso_ms("2026-03-10T10:00:30.000Z"));
    /* a run in progress */
    store_write_t w;
    wr_init(&w, OP_RUN_TRIGGER, f->ws, c);
    w.trigger.tag = "API";
    w.trigger.initial_state = RUN_WORKING;
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    int64_t active = w.run.id;
    store_write_release(&w);

    scheduler_tick(sc, iso_ms("2026-03-10T10:05:00.000Z"));
    run_t *runs;
    assert_int_equal(list_runs(f, c, &runs), 2);
    assert_int_equal(runs[0].id, active);
    assert_int_equal(runs[0].state, RUN_WORKING);
    assert_string_equal(runs[1].trigger_tag, "Scheduled");
    assert_int_equal(runs[1].state, RUN_FINISHED);
    assert_int_equal(runs[1].result, RESULT_SKIPPED);
    assert_time(runs[1].scheduled_at, "2026-03-10T10:05:00.000Z");
    /* the schedule moves on all the same */
    assert_time(get_conn(f, c).next_fire_at, "2026-03-10T10:10:00.000Z");
    scheduler_tick(sc, iso_ms("2026-03-10T10:05:01.000Z"));
    assert_int_equal(run_count(f, c), 2);
    scheduler_free(sc);
}

static void test_berlin_across_dst(void **state)
{
    fx_t *f = *state;
    int64_t c = mk_conn(f, "berlin-9", (conn_opts_t){.schedule = "0 9 * * *", .timezone = "Europe/Berlin"});
    int64_t odd = mk_conn(f, "berlin-230", (conn_opts_t){.schedule = "30 2 * * *", .timezone = "Europe/Berlin"});
    scheduler_t *sc = scheduler_new(f->s, f->r);
    /* Saturday 28 March 2026, CET (UTC+1); Sunday 29 March clocks go 02:00 → 03:00 (CEST, UTC+2) */
    scheduler_tick(sc, iso_ms("2026-03-28T08:30:00.000Z"));
    assert_time(get_conn(f, c).next_fire_at, "2026-03-29T07:00:00.000Z"); /* 09:00 CEST */
    /* 02:30 does not exist on the 29th: cron runs it at the first minute after the jump, 03:00 CEST */
    assert_time(get_conn(f, odd).next_fire_at, "2026-03-29T01:00:00.000Z");

    scheduler_tick(sc, iso_ms("2026-03-29T01:00:00.000Z"));
    run_t *runs;
    assert_int_equal(list_runs(f, odd, &runs), 1);
    assert_time(runs[0].scheduled_at, "2026-03-29T01:00:00.000Z");
    assert_non_null(strstr(runs[0].trigger_detail, "Europe/Berlin"));
    assert_time(get_conn(f, odd).next_fire_at, "2026-03-30T00:30:00.000Z"); /* 02:30 CEST */
    assert_int_equal(run_count(f, c), 0);

    /* 08:00Z would be 09:00 in winter time: not due any more */
    scheduler_tick(sc, iso_ms("2026-03-29T06:59:59.000Z"));
    assert_int_equal(run_count(f, c), 0);
    scheduler_tick(sc, iso_ms("2026-03-29T07:00:00.000Z"));
    assert_int_equal(list_runs(f, c, &runs), 1);
    assert_time(runs[0].scheduled_at, "2026-03-29T07:00:00.000Z");
    assert_time(get_conn(f, c).next_fire_at, "2026-03-30T07:00:00.000Z");

    /* autumn: Sunday 25 October 2026, 03:00 CEST → 02:00 CET */
    set_next_fire(f, c, 0);
    scheduler_tick(sc, iso_ms("2026-10-24T12:00:00.000Z"));
    assert_time(get_conn(f, c).next_fire_at, "2026-10-25T08:00:00.000Z"); /* 09:00 CET */
    scheduler_tick(sc, iso_ms("2026-10-25T07:00:00.000Z"));               /* 09:00 in summer time: not due */
    assert_int_equal(run_count(f, c), 1);
    scheduler_tick(sc, iso_ms("2026-10-25T08:00:00.000Z"));
    assert_int_equal(list_runs(f, c, &runs), 2);
    assert_time(runs[1].scheduled_at, "2026-10-25T08:00:00.000Z");
    scheduler_free(sc);
}

static void test_invalid_schedule_is_logged_and_ignored(void **state)
{
    fx_t *f = *state;
    /* the API refuses these; the store does not check: a database edited by hand, an old version */
    int64_t bad = mk_conn(f, "bad", (conn_opts_t){.schedule = "every day at noon"});
    int64_t badtz = mk_conn(f, "bad-tz", (conn_opts_t){.schedule = "* * * * *", .timezone = "Mars/Olympus_Mons"});
    int64_t good = mk_conn(f, "good", (conn_opts_t){.schedule = "*/5 * * * *"});
    scheduler_t *sc = scheduler_new(f->s, f->r);
    char log[8192];
    int64_t t = iso_ms("2026-03-10T10:00:30.000Z");
    tick_logged(sc, t, log, sizeof(log));
    if (strstr(log, "invalid schedule") == NULL || strstr(log, "unknown time zone") == NULL)
        fail_msg("the bad schedule and zone are logged; the log was:\n%s", log);
    assert_int_equal(get_conn(f, bad).next_fire_at, 0);
    assert_int_equal(get_conn(f, badtz).next_fire_at, 0);
    assert_time(get_conn(f, good).next_fire_at, "2026-03-10T10:05:00.000Z"); /* the others still work */
    for (int i = 1; i <= 10; i++)
        tick_logged(sc, t + i * MIN_MS, log, sizeof(log));
    assert_int_equal(run_count(f, bad), 0);
    assert_int_equal(run_count(f, badtz), 0);
    assert_int_equal(run_count(f, good), 2); /* 10:05 and 10:10 */
    scheduler_free(sc);
}

static void test_invalid_schedule_with_a_due_time_never_fires(void **state)
{
    fx_t *f = *state;
    /* a next time recorded while the schedule was valid, then the text (or zone) went bad */
    int64_t bad = mk_conn(f, "bad", (conn_opts_t){.schedule = "every day at noon"});
    int64_t badtz = mk_conn(f, "bad-tz", (conn_opts_t){.schedule = "* * * * *", .timezone = "Mars/Olympus_Mons"});
    int64_t due = iso_ms("2026-03-10T10:05:00.000Z");
    set_next_fire(f, bad, due);
    set_next_fire(f, badtz, due);
    scheduler_t *sc = scheduler_new(f->s, f->r);
    char log[8192];
    for (int i = 0; i < 20; i++)
        tick_logged(sc, due + i * 1000, log, sizeof(log));
    tick_logged(sc, due + 10 * MIN_MS, log, sizeof(log));
    tick_logged(sc, due + 10 * MIN_MS + 1000, log, sizeof(log));
    int nbad = run_count(f, bad), nbadtz = run_count(f, badtz);
    if (nbad != 0 || nbadtz != 0)
        fail_msg("a connection whose schedule cannot be evaluated fired %d and %d runs in 22 ticks", nbad, nbadtz);
    scheduler_free(sc);
}

/* More scheduled connections than the scheduler reads in one page (256): each one is computed and
 * fired, the last page's too (the store's read used to stop at its cap without saying so). */
static void test_more_than_a_page_of_scheduled_connections(void **state)
{
    fx_t *f = *state;
    enum { N = 300 };
    int64_t *ids = calloc(N, sizeof(*ids));
    assert_non_null(ids);
    for (int i = 0; i < N; i++) {
        char name[16];
        snprintf(name, sizeof(name), "c%d", i);
        ids[i] = mk_conn(f, name, (conn_opts_t){.schedule = "*/5 * * * *"});
    }
    scheduler_t *sc = scheduler_new(f->s, f->r);
    assert_non_null(sc);
    scheduler_tick(sc, iso_ms("2026-03-10T10:00:30.000Z"));
    for (int i = 0; i < N; i += N - 1) {
        assert_time(get_conn(f, ids[i]).next_fire_at, "2026-03-10T10:05:00.000Z");
        assert_int_equal(run_count(f, ids[i]), 0);
    }
    scheduler_tick(sc, iso_ms("2026-03-10T10:05:00.500Z"));
    for (int i = 0; i < N; i++)
        if (run_count(f, ids[i]) != 1)
            fail_msg("connection %d of %d (id %lld) did not fire", i + 1, N, (long long)ids[i]);
    scheduler_free(sc);
    free(ids);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_first_tick_computes_next_without_firing),
        T(test_due_fires_exactly_one),
        T(test_late_tick_fires_one_catch_up),
        T(test_missed_by_more_than_a_minute_is_a_catch_up),
        T(test_catchup_none),
        T(test_starting_deadline),
        T(test_overlap_skip_records_a_skipped_run),
        T(test_berlin_across_dst),
        T(test_invalid_schedule_is_logged_and_ignored),
        T(test_invalid_schedule_with_a_due_time_never_fires),
        T(test_more_than_a_page_of_scheduled_connections),
    };
    return cmocka_run_group_tests_name("scheduler", tests, NULL, NULL);
}
