/* Tests for src/model/expect.c: the deadline of the next run (interval, cron in UTC and in a zone),
 * lateness, duration bounds and the watermark checks (backwards, stalled, too old). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "model/expect.h"
#include "util/timeutil.h"

static int64_t iso_ms(const char *iso)
{
    int64_t ms;
    if (time_parse_iso(iso, &ms) != 0)
        fail_msg("bad ISO time in test: %s", iso);
    return ms;
}

static void test_deadline_interval(void **state)
{
    (void)state;
    expect_when_t e = {.interval_s = 60, .grace_s = 15};
    int64_t t = iso_ms("2026-03-01T10:00:00Z");
    assert_int_equal(expect_deadline(&e, t), t + 75000);
    e.grace_s = 0;
    assert_int_equal(expect_deadline(&e, t), t + 60000);
    /* an interval wins over nothing; with neither, nothing is expected */
    expect_when_t none = {0};
    assert_int_equal(expect_deadline(&none, t), 0);
}

static void test_deadline_cron_utc(void **state)
{
    (void)state;
    cron_spec_t spec;
    assert_int_equal(cron_parse("0 2 * * *", &spec, NULL, 0), 0);
    expect_when_t e = {.spec = &spec, .grace_s = 600};
    /* a run at 02:00:05 expects the next at 02:00 tomorrow, late after 02:10 */
    assert_int_equal(expect_deadline(&e, iso_ms("2026-03-01T02:00:05Z")), iso_ms("2026-03-02T02:10:00Z"));
    /* a run a little early (01:59) counts for 02:00 today: the next is still today's */
    assert_int_equal(expect_deadline(&e, iso_ms("2026-03-01T01:59:00Z")), iso_ms("2026-03-01T02:10:00Z"));
    /* no time within the horizon: nothing expected */
    cron_spec_t never;
    assert_int_equal(cron_parse("0 0 30 2 *", &never, NULL, 0), 0);
    expect_when_t n = {.spec = &never};
    assert_int_equal(expect_deadline(&n, iso_ms("2026-03-01T00:00:00Z")), 0);
}

static void test_deadline_cron_zone(void **state)
{
    (void)state;
    char err[160];
    tz_t *tz = tz_load("Europe/Berlin", err, sizeof(err));
    if (tz == NULL)
        skip();
    cron_spec_t spec;
    assert_int_equal(cron_parse("30 6 * * 1-5", &spec, NULL, 0), 0);
    expect_when_t e = {.spec = &spec, .tz = tz, .grace_s = 60};
    /* Friday 2026-03-27 06:30 CET = 05:30Z; the next weekday run is Monday 2026-03-30, 06:30 CEST
     * (summer time began on the Sunday) = 04:30Z, plus a minute of grace */
    assert_int_equal(expect_deadline(&e, iso_ms("2026-03-27T05:30:10Z")), iso_ms("2026-03-30T04:31:00Z"));
    tz_free(tz);
}

static void test_when_of(void **state)
{
    (void)state;
    cron_spec_t spec;
    expect_when_t e;
    connection_t cn = {0};
    assert_int_equal(expect_when_of(&cn, &spec, NULL, &e), -1); /* nothing */
    /* its own schedule, with the default grace, in its own zone */
    cn.schedule = "*/5 * * * *";
    cn.timezone = "Europe/Berlin";
    assert_string_equal(expect_zone(&cn), "Europe/Berlin");
    assert_int_equal(expect_when_of(&cn, &spec, NULL, &e), 0);
    assert_ptr_equal(e.spec, &spec);
    assert_int_equal(e.grace_s, EXPECT_OWN_GRACE_S);
    cn.expect_grace_s = 5;
    assert_int_equal(expect_when_of(&cn, &spec, NULL, &e), 0);
    assert_int_equal(e.grace_s, 5);
    /* an expected schedule in its zone wins over the own one */
    cn.expect_schedule = "0 3 * * *";
    assert_null(expect_zone(&cn));
    cn.expect_timezone = "America/New_York";
    assert_string_equal(expect_zone(&cn), "America/New_York");
    assert_int_equal(expect_when_of(&cn, &spec, NULL, &e), 0);
    assert_true(spec.minutes == 1 && spec.hours == (1u << 3));
    /* an interval wins over both */
    cn.expect_interval_s = 30;
    assert_null(expect_zone(&cn));
    assert_int_equal(expect_when_of(&cn, &spec, NULL, &e), 0);
    assert_int_equal(e.interval_s, 30);
    assert_null(e.spec);
}

static void test_late(void **state)
{
    (void)state;
    assert_false(expect_is_late(0, 0, 1000));       /* nothing expected */
    assert_false(expect_is_late(2000, 0, 1999));    /* not yet */
    assert_true(expect_is_late(2000, 0, 2000));     /* the deadline passed without a run */
    assert_true(expect_is_late(2000, 0, 9000));     /* and stays passed */
    assert_false(expect_is_late(2000, 2000, 9000)); /* already late: not again */
}

static void test_duration(void **state)
{
    (void)state;
    int64_t bound = 0;
    assert_int_equal(expect_duration_check(0, 0, 123456, &bound), 0);
    assert_int_equal(expect_duration_check(10, 60, 9999, &bound), -1);
    assert_int_equal(bound, 10);
    assert_int_equal(expect_duration_check(10, 60, 10000, &bound), 0);
    assert_int_equal(expect_duration_check(10, 60, 60000, &bound), 0);
    assert_int_equal(expect_duration_check(10, 60, 60001, &bound), 1);
    assert_int_equal(bound, 60);
    assert_int_equal(expect_duration_check(0, 60, 0, &bound), 0);      /* no minimum */
    assert_int_equal(expect_duration_check(5, 0, 1000000, &bound), 0); /* no maximum */

    run_t r = {.state = RUN_FINISHED, .result = RESULT_SUCCESS, .started_at = 1000, .completed_at = 5000};
    assert_true(expect_duration_applies(&r));
    r.result = RESULT_PARTIAL;
    assert_true(expect_duration_applies(&r));
    r.result = RESULT_ERROR;
    assert_false(expect_duration_applies(&r));
    r.result = RESULT_SUCCESS;
    r.started_at = 0; /* never started */
    assert_false(expect_duration_applies(&r));
    r.started_at = 1000;
    r.state = RUN_WORKING;
    assert_false(expect_duration_applies(&r));
}

static void test_watermark_backwards(void **state)
{
    (void)state;
    expect_wm_state_t st = {0};
    assert_int_equal(expect_watermark_check(&st, 1000, 5000, 0, 0), 0); /* the first: nothing to compare */
    assert_int_equal(expect_watermark_check(&st, 2000, 6000, 0, 0), 0);
    assert_int_equal(expect_watermark_check(&st, 1500, 7000, 0, 0), EXPECT_WM_BACKWARDS);
    assert_int_equal(st.last, 1500);
    /* compared with the previous run's, not the highest: 1800 advances past 1500 */
    assert_int_equal(expect_watermark_check(&st, 1800, 8000, 0, 0), 0);
    /* a run without a watermark checks nothing and keeps the state */
    assert_int_equal(expect_watermark_check(&st, 0, 9000, 0, 0), 0);
    assert_int_equal(st.last, 1800);
}

static void test_watermark_stalled(void **state)
{
    (void)state;
    expect_wm_state_t st = {0};
    assert_int_equal(expect_watermark_check(&st, 1000, 5000, 3, 0), 0);
    assert_int_equal(expect_watermark_check(&st, 1000, 6000, 3, 0), 0);                 /* 1 without advance */
    assert_int_equal(expect_watermark_check(&st, 1000, 7000, 3, 0), 0);                 /* 2 */
    assert_int_equal(expect_watermark_check(&st, 1000, 8000, 3, 0), EXPECT_WM_STALLED); /* 3 */
    assert_int_equal(expect_watermark_check(&st, 1000, 9000, 3, 0), 0);                 /* once per streak */
    assert_int_equal(expect_watermark_check(&st, 1001, 9500, 3, 0), 0); /* an advance restarts the count */
    assert_int_equal(st.flat_runs, 0);
    assert_int_equal(expect_watermark_check(&st, 1001, 9600, 3, 0), 0);
    assert_int_equal(expect_watermark_check(&st, 1001, 9700, 3, 0), 0);
    assert_int_equal(expect_watermark_check(&st, 900, 9800, 3, 0), EXPECT_WM_STALLED | EXPECT_WM_BACKWARDS);
    /* stall_runs 0: never stalled by count */
    expect_wm_state_t off = {0};
    for (int i = 0; i < 10; i++)
        assert_int_equal(expect_watermark_check(&off, 1000, 5000, 0, 0), 0);
}

static void test_watermark_too_old(void **state)
{
    (void)state;
    expect_wm_state_t st = {0};
    int64_t done = iso_ms("2026-03-02T00:00:00Z");
    assert_int_equal(expect_watermark_check(&st, done - 3600 * 1000, done, 0, 3600), 0); /* exactly the age */
    assert_int_equal(expect_watermark_check(&st, done - 3600 * 1000 + 1, done + 2, 0, 3600),
                     EXPECT_WM_TOO_OLD); /* advanced, but older than an hour when it completed */
    assert_int_equal(expect_watermark_check(&st, done, done, 0, 3600), 0);
}

static void test_flag_names(void **state)
{
    (void)state;
    assert_string_equal(run_flag_name(0), "run.late");
    assert_string_equal(run_flag_name(1), "run.duration");
    assert_string_equal(run_flag_name(2), "watermark.backwards");
    assert_string_equal(run_flag_name(3), "watermark.stalled");
    assert_null(run_flag_name(RUN_FLAG_COUNT));
    assert_int_equal(RUN_FLAG_WM_STALLED, 1 << 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deadline_interval),
        cmocka_unit_test(test_deadline_cron_utc),
        cmocka_unit_test(test_deadline_cron_zone),
        cmocka_unit_test(test_when_of),
        cmocka_unit_test(test_late),
        cmocka_unit_test(test_duration),
        cmocka_unit_test(test_watermark_backwards),
        cmocka_unit_test(test_watermark_stalled),
        cmocka_unit_test(test_watermark_too_old),
        cmocka_unit_test(test_flag_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
