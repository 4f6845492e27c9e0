/* Tests for src/model/quantile.c: quantiles interpolated inside histogram buckets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "model/quantile.h"

static const int64_t le[] = {100, 1000, 5000};
#define NLE 3

static void test_empty_has_no_quantile(void **state)
{
    (void)state;
    const int64_t counts[NLE + 1] = {0, 0, 0, 0};
    assert_int_equal(quantile_estimate(le, NLE, counts, 0, 0.5), -1);
}

static void test_interpolates_inside_the_bucket(void **state)
{
    (void)state;
    /* 4 values in (100, 1000]: the median (rank 2 of 4) is halfway through the bucket */
    const int64_t one[NLE + 1] = {0, 4, 0, 0};
    assert_int_equal(quantile_estimate(le, NLE, one, 0, 0.5), 550);
    assert_int_equal(quantile_estimate(le, NLE, one, 0, 1.0), 1000);
    assert_int_equal(quantile_estimate(le, NLE, one, 0, 0.0), 100);
    /* 2 in [0, 100], 2 in (1000, 5000]: the median ends the first bucket; p95 (rank 3.8) is
     * 0.9 of the way through the third */
    const int64_t two[NLE + 1] = {2, 0, 2, 0};
    assert_int_equal(quantile_estimate(le, NLE, two, 0, 0.5), 100);
    assert_int_equal(quantile_estimate(le, NLE, two, 0, 0.95), 4600);
    /* the first bucket starts at 0 */
    const int64_t first[NLE + 1] = {10, 0, 0, 0};
    assert_int_equal(quantile_estimate(le, NLE, first, 0, 0.5), 50);
}

static void test_unbounded_bucket_is_its_mean(void **state)
{
    (void)state;
    const int64_t counts[NLE + 1] = {1, 0, 0, 3};
    /* 3 values above 5000 summing 36000: mean 12000 */
    assert_int_equal(quantile_estimate(le, NLE, counts, 36000, 0.5), 12000);
    assert_int_equal(quantile_estimate(le, NLE, counts, 36000, 0.95), 12000);
    assert_int_equal(quantile_estimate(le, NLE, counts, 0, 0.95), 5000); /* never below its bound */
    assert_int_equal(quantile_estimate(le, NLE, counts, 36000, 0.25), 100);
}

static void test_out_of_range_q_is_clamped(void **state)
{
    (void)state;
    const int64_t counts[NLE + 1] = {0, 4, 0, 0};
    assert_int_equal(quantile_estimate(le, NLE, counts, 0, -1), 100);
    assert_int_equal(quantile_estimate(le, NLE, counts, 0, 7), 1000);
    /* negative counts (never stored, but never trusted) count as none */
    const int64_t neg[NLE + 1] = {-5, 4, 0, 0};
    assert_int_equal(quantile_estimate(le, NLE, neg, 0, 0.5), 550);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_has_no_quantile),
        cmocka_unit_test(test_interpolates_inside_the_bucket),
        cmocka_unit_test(test_unbounded_bucket_is_its_mean),
        cmocka_unit_test(test_out_of_range_q_is_clamped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
