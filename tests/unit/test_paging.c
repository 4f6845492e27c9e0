/* Tests for src/model/paging.c: page number -> run_count range. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "model/paging.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
    int64_t total, page, per_page;
    int asc;
    page_window_t want; /* page, last_page, prev_page, next_page, lo, hi */
} cases[] = {
    /* 53 runs, 25 a page: pages of 25, 25, 3 */
    {53, 1, 25, 1, {1, 3, 0, 2, 1, 25}},
    {53, 2, 25, 1, {2, 3, 1, 3, 26, 50}},
    {53, 3, 25, 1, {3, 3, 2, 0, 51, 53}},
    {53, 1, 25, 0, {1, 3, 0, 2, 29, 53}},
    {53, 2, 25, 0, {2, 3, 1, 3, 4, 28}},
    {53, 3, 25, 0, {3, 3, 2, 0, 1, 3}},
    /* page 0 (and below) means page 1 */
    {53, 0, 25, 1, {1, 3, 0, 2, 1, 25}},
    {53, 0, 25, 0, {1, 3, 0, 2, 29, 53}},
    {53, -5, 25, 0, {1, 3, 0, 2, 29, 53}},
    /* past the end: empty, with a way back to the last page */
    {53, 4, 25, 1, {4, 3, 3, 0, 1, 0}},
    {53, 4, 25, 0, {4, 3, 3, 0, 1, 0}},
    {53, 1000, 25, 0, {1000, 3, 3, 0, 1, 0}},
    {53, INT64_MAX, 25, 1, {INT64_MAX, 3, 3, 0, 1, 0}},
    {53, INT64_MAX, 25, 0, {INT64_MAX, 3, 3, 0, 1, 0}},
    /* no runs: one empty page */
    {0, 1, 25, 1, {1, 1, 0, 0, 1, 0}},
    {0, 1, 25, 0, {1, 1, 0, 0, 1, 0}},
    {0, 0, 25, 0, {1, 1, 0, 0, 1, 0}},
    {0, 2, 25, 0, {2, 1, 1, 0, 1, 0}},
    /* exact multiples: no extra empty page */
    {50, 1, 25, 1, {1, 2, 0, 2, 1, 25}},
    {50, 2, 25, 1, {2, 2, 1, 0, 26, 50}},
    {50, 1, 25, 0, {1, 2, 0, 2, 26, 50}},
    {50, 2, 25, 0, {2, 2, 1, 0, 1, 25}},
    {50, 3, 25, 0, {3, 2, 2, 0, 1, 0}},
    {25, 1, 25, 0, {1, 1, 0, 0, 1, 25}},
    /* fewer runs than a page */
    {5, 1, 100, 1, {1, 1, 0, 0, 1, 5}},
    {5, 1, 100, 0, {1, 1, 0, 0, 1, 5}},
    {1, 1, 1, 0, {1, 1, 0, 0, 1, 1}},
    {1, 1, 25, 1, {1, 1, 0, 0, 1, 1}},
    /* one run a page */
    {3, 1, 1, 1, {1, 3, 0, 2, 1, 1}},
    {3, 2, 1, 1, {2, 3, 1, 3, 2, 2}},
    {3, 2, 1, 0, {2, 3, 1, 3, 2, 2}},
    {3, 3, 1, 0, {3, 3, 2, 0, 1, 1}},
    {3, 1, 1, 0, {1, 3, 0, 2, 3, 3}},
    /* large histories: page N is computed, not scanned */
    {10000000, 400000, 25, 0, {400000, 400000, 399999, 0, 1, 25}},
    {10000000, 1, 25, 0, {1, 400000, 0, 2, 9999976, 10000000}},
    {10000001, 400001, 25, 1, {400001, 400001, 400000, 0, 10000001, 10000001}},
    /* a page size larger than any history is still one page holding everything */
    {53, 1, INT64_MAX, 1, {1, 1, 0, 0, 1, 53}},
    {53, 1, INT64_MAX, 0, {1, 1, 0, 0, 1, 53}},
    {INT64_MAX, 1, INT64_MAX, 0, {1, 1, 0, 0, 1, INT64_MAX}},
};

static void test_window_table(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < COUNT(cases); i++) {
        page_window_t w;
        memset(&w, 0x55, sizeof(w));
        paging_window(cases[i].total, cases[i].page, cases[i].per_page, cases[i].asc, &w);
        const page_window_t *e = &cases[i].want;
        if (w.page != e->page || w.last_page != e->last_page || w.prev_page != e->prev_page ||
            w.next_page != e->next_page || w.lo != e->lo || w.hi != e->hi) {
            print_error("paging_window(total %lld, page %lld, per_page %lld, %s): page %lld last %lld prev %lld "
                        "next %lld lo %lld hi %lld; want page %lld last %lld prev %lld next %lld lo %lld hi %lld\n",
                        (long long)cases[i].total, (long long)cases[i].page, (long long)cases[i].per_page,
                        cases[i].asc ? "asc" : "desc", (long long)w.page, (long long)w.last_page,
                        (long long)w.prev_page, (long long)w.next_page, (long long)w.lo, (long long)w.hi,
                        (long long)e->page, (long long)e->last_page, (long long)e->prev_page, (long long)e->next_page,
                        (long long)e->lo, (long long)e->hi);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

/* For many (total, per_page): the pages partition 1..total exactly, in order, every page but the
 * last is full, descending pages mirror ascending ones, and prev/next link the pages together. */
static void test_window_partition(void **state)
{
    (void)state;
    for (int64_t total = 0; total <= 70; total++) {
        for (int64_t per_page = 1; per_page <= 13; per_page++) {
            for (int asc = 0; asc <= 1; asc++) {
                page_window_t w;
                paging_window(total, 1, per_page, asc, &w);
                int64_t last = w.last_page;
                assert_int_equal(last, total == 0 ? 1 : (total + per_page - 1) / per_page);
                int64_t seen = 0;
                int64_t expect_edge = asc ? 1 : total; /* the next run_count we must see */
                for (int64_t p = 1; p <= last; p++) {
                    paging_window(total, p, per_page, asc, &w);
                    assert_int_equal(w.page, p);
                    assert_int_equal(w.last_page, last);
                    assert_int_equal(w.prev_page, p > 1 ? p - 1 : 0);
                    assert_int_equal(w.next_page, p < last ? p + 1 : 0);
                    int64_t n = w.hi >= w.lo ? w.hi - w.lo + 1 : 0;
                    if (p < last)
                        assert_int_equal(n, per_page);
                    else
                        assert_int_equal(n, total - (last - 1) * per_page);
                    if (n > 0) {
                        assert_int_equal(asc ? w.lo : w.hi, expect_edge);
                        expect_edge = asc ? w.hi + 1 : w.lo - 1;
                        assert_true(w.lo >= 1);
                        assert_true(w.hi <= total);
                    }
                    seen += n;
                    /* descending page p holds what ascending page p holds, counted from the end */
                    page_window_t m;
                    paging_window(total, p, per_page, !asc, &m);
                    if (n > 0 && p < last) {
                        assert_int_equal(m.lo, total + 1 - w.hi);
                        assert_int_equal(m.hi, total + 1 - w.lo);
                    }
                }
                assert_int_equal(seen, total);
                paging_window(total, last + 1, per_page, asc, &w);
                assert_true(w.lo > w.hi);
                assert_int_equal(w.prev_page, last);
                assert_int_equal(w.next_page, 0);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_table),
        cmocka_unit_test(test_window_partition),
    };
    return cmocka_run_group_tests_name("paging", tests, NULL, NULL);
}
