/* Tests for src/model/retention.c: which policy a connection follows and which runs it keeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "model/retention.h"

#define DAY INT64_C(86400000)
static const int64_t now = 1800000000000;

static retention_run_t old_run(run_result_t result, int64_t age_days)
{
    retention_run_t r = {RUN_FINISHED, result, now - age_days * DAY, 0, 0, 0};
    return r;
}

static void test_effective_policy(void **state)
{
    (void)state;
    const retention_t ws = {30, 100, 90};
    const retention_t inherit = {RETENTION_INHERIT, RETENTION_INHERIT, RETENTION_INHERIT};
    retention_t p = retention_effective(&ws, &inherit);
    assert_int_equal(p.days, 30);
    assert_int_equal(p.keep_last, 100);
    assert_int_equal(p.failure_days, 90);
    const retention_t own = {0, 5, RETENTION_INHERIT};
    p = retention_effective(&ws, &own);
    assert_int_equal(p.days, 0); /* the connection opts out of the age limit */
    assert_int_equal(p.keep_last, 5);
    assert_int_equal(p.failure_days, 90);
    assert_true(retention_active(&p));
    const retention_t none = {0, 0, 0};
    p = retention_effective(&none, &inherit);
    assert_false(retention_active(&p)); /* the default keeps everything */
    const retention_t only_failures = {0, 0, 7};
    assert_false(retention_active(&only_failures));
}

static void test_default_keeps_everything(void **state)
{
    (void)state;
    const retention_t none = {0, 0, 0};
    retention_run_t r = old_run(RESULT_SUCCESS, 10000);
    assert_true(retention_keeps(&none, now, &r));
}

static void test_age_and_the_runs_always_kept(void **state)
{
    (void)state;
    const retention_t p = {7, 0, 0};
    retention_run_t r = old_run(RESULT_SUCCESS, 8);
    assert_false(retention_keeps(&p, now, &r));
    r = old_run(RESULT_SUCCESS, 6);
    assert_true(retention_keeps(&p, now, &r));
    r = old_run(RESULT_SUCCESS, 8);
    r.last_success = 1;
    assert_true(retention_keeps(&p, now, &r));
    r = old_run(RESULT_ERROR, 8);
    r.last_watermark = 1;
    assert_true(retention_keeps(&p, now, &r));
    r = old_run(RESULT_ERROR, 8);
    r.newest = 1;
    assert_true(retention_keeps(&p, now, &r));
    r = old_run(RESULT_NONE, 8);
    r.state = RUN_WORKING; /* never a run in progress */
    assert_true(retention_keeps(&p, now, &r));
}

static void test_failures_kept_longer(void **state)
{
    (void)state;
    const retention_t p = {7, 0, 30};
    retention_run_t r = old_run(RESULT_TIMED_OUT, 20);
    assert_true(retention_keeps(&p, now, &r));
    r = old_run(RESULT_CONFIG_ERROR, 31);
    assert_false(retention_keeps(&p, now, &r));
    r = old_run(RESULT_PARTIAL, 20); /* not a failure */
    assert_false(retention_keeps(&p, now, &r));
    r = old_run(RESULT_CANCELED, 20);
    assert_false(retention_keeps(&p, now, &r));
    /* failure_days shorter than days changes nothing: failures are kept at least as long */
    const retention_t shorter = {30, 0, 7};
    r = old_run(RESULT_ERROR, 20);
    assert_true(retention_keeps(&shorter, now, &r));
    /* a count limit alone: only failure_days keeps by age */
    const retention_t count = {0, 10, 7};
    r = old_run(RESULT_ERROR, 3);
    assert_true(retention_keeps(&count, now, &r));
    r = old_run(RESULT_SUCCESS, 0);
    assert_false(retention_keeps(&count, now, &r)); /* beyond the last 10 (the caller's newest = 0) */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_effective_policy),
        cmocka_unit_test(test_default_keeps_everything),
        cmocka_unit_test(test_age_and_the_runs_always_kept),
        cmocka_unit_test(test_failures_kept_longer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
