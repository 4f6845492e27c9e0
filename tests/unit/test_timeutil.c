/* Tests for src/util/timeutil.c: ISO 8601 formatting and strict parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/timeutil.h"

static const struct {
    int64_t ms;
    const char *iso;
} format_cases[] = {
    {0, "1970-01-01T00:00:00.000Z"},
    {1, "1970-01-01T00:00:00.001Z"},
    {999, "1970-01-01T00:00:00.999Z"},
    {1000, "1970-01-01T00:00:01.000Z"},
    {1634698267546, "2021-10-20T02:51:07.546Z"},
    {951782400000, "2000-02-29T00:00:00.000Z"},
    {1582977600000, "2020-02-29T12:00:00.000Z"},
    {2147483648000, "2038-01-19T03:14:08.000Z"},
    {13574563200000, "2400-02-29T00:00:00.000Z"},
    {253402300799999, "9999-12-31T23:59:59.999Z"},
    /* before the epoch: milliseconds are still counted forwards within the second */
    {-1, "1969-12-31T23:59:59.999Z"},
    {-999, "1969-12-31T23:59:59.001Z"},
    {-1000, "1969-12-31T23:59:59.000Z"},
    {-1001, "1969-12-31T23:59:58.999Z"},
    {-86400000, "1969-12-31T00:00:00.000Z"},
    {-14182940000, "1969-07-20T20:17:40.000Z"},
    {-2203891200000, "1900-03-01T00:00:00.000Z"},
    {-11670998400000, "1600-02-29T00:00:00.000Z"},
    {-62167219200000, "0000-01-01T00:00:00.000Z"},
};

static void test_format_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(format_cases) / sizeof(format_cases[0]); i++) {
        char out[TIME_ISO_LEN];
        memset(out, 'x', sizeof(out));
        time_format_iso(format_cases[i].ms, out);
        assert_int_equal(strlen(out), TIME_ISO_LEN - 1);
        assert_string_equal(out, format_cases[i].iso);
    }
}

/* Years outside 0..9999 cannot be written in this form; the source promises to clamp. A clamped
 * time saturates at the first or last representable millisecond (clamping only the year field
 * would turn 10000-01-01 into 9999-01-01, earlier than 9999-12-31). Whatever the input, the text
 * keeps its fixed 24-character shape and nothing overflows (the SAN=1 build checks the latter). */
static void test_format_extremes(void **state)
{
    (void)state;
    static const struct {
        int64_t ms;
        const char *iso;
    } cases[] = {
        {253402300799999, "9999-12-31T23:59:59.999Z"}, /* last representable */
        {253402300800000, "9999-12-31T23:59:59.999Z"}, /* 10000-01-01 */
        {253402300800000 + 86400000 * 200LL, "9999-12-31T23:59:59.999Z"},
        {INT64_MAX - 1, "9999-12-31T23:59:59.999Z"},
        {INT64_MAX, "9999-12-31T23:59:59.999Z"},
        {-62167219200000, "0000-01-01T00:00:00.000Z"}, /* first representable */
        {-62167219200001, "0000-01-01T00:00:00.000Z"}, /* -0001-12-31T23:59:59.999 */
        {-62167219200000 - 86400000 * 200LL, "0000-01-01T00:00:00.000Z"},
        {INT64_MIN + 1000, "0000-01-01T00:00:00.000Z"},
        {INT64_MIN + 1, "0000-01-01T00:00:00.000Z"},
        {INT64_MIN, "0000-01-01T00:00:00.000Z"},
    };
    int failures = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[TIME_ISO_LEN];
        time_format_iso(cases[i].ms, out);
        if (strcmp(out, cases[i].iso) != 0) {
            print_error("time_format_iso(%lld) = \"%s\", want \"%s\"\n", (long long)cases[i].ms, out, cases[i].iso);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

static void test_format_parse_round_trip(void **state)
{
    (void)state;
    /* Walk from year 0 to 9999 in uneven steps so every field takes many values. */
    for (int64_t ms = -62167219200000; ms <= 253402300799999; ms += 12345678901) {
        char out[TIME_ISO_LEN];
        int64_t back = 42;
        time_format_iso(ms, out);
        assert_int_equal(time_parse_iso(out, &back), 0);
        assert_int_equal(back, ms);
    }
    for (size_t i = 0; i < sizeof(format_cases) / sizeof(format_cases[0]); i++) {
        int64_t back = 42;
        assert_int_equal(time_parse_iso(format_cases[i].iso, &back), 0);
        assert_int_equal(back, format_cases[i].ms);
    }
}

static const struct {
    const char *iso;
    int64_t ms;
} parse_ok_cases[] = {
    {"2021-10-20T02:51:07.546Z", 1634698267546},
    {"2021-10-20T02:51:07Z", 1634698267000},
    {"1970-01-01T00:00:00Z", 0},
    {"1970-01-01T00:00:00.000Z", 0},
    /* fractions of 1 to 9 digits; past milliseconds they are truncated, not rounded */
    {"2021-10-20T02:51:07.5Z", 1634698267500},
    {"2021-10-20T02:51:07.54Z", 1634698267540},
    {"2021-10-20T02:51:07.546Z", 1634698267546},
    {"2021-10-20T02:51:07.5469Z", 1634698267546},
    {"2021-10-20T02:51:07.54699Z", 1634698267546},
    {"2021-10-20T02:51:07.546999Z", 1634698267546},
    {"2021-10-20T02:51:07.5469999Z", 1634698267546},
    {"2021-10-20T02:51:07.54699999Z", 1634698267546},
    {"2021-10-20T02:51:07.546999999Z", 1634698267546},
    {"2021-10-20T02:51:07.000000001Z", 1634698267000},
    {"2021-10-20T02:51:07.999Z", 1634698267999},
    /* offsets: local time minus offset is UTC */
    {"2021-10-20T02:51:07+00:00", 1634698267000},
    {"2021-10-20T02:51:07-00:00", 1634698267000},
    {"2021-10-20T04:51:07+02:00", 1634698267000},
    {"2021-10-19T21:21:07-05:30", 1634698267000},
    {"2021-10-20T02:51:07.546+02:00", 1634691067546},
    {"2021-10-20T02:51:07-05:30", 1634718067000},
    {"2021-10-21T02:50:07+23:59", 1634698267000},
    {"1970-01-01T00:00:00+01:00", -3600000},
    {"1970-01-01T00:00:00-01:00", 3600000},
    /* lower-case designators and a space separator (RFC 3339 allows them) */
    {"2021-10-20t02:51:07.546z", 1634698267546},
    {"2021-10-20 02:51:07.546Z", 1634698267546},
    /* leap years */
    {"2000-02-29T00:00:00Z", 951782400000},
    {"2020-02-29T12:00:00Z", 1582977600000},
    {"2400-02-29T00:00:00Z", 13574563200000},
    {"1600-02-29T00:00:00Z", -11670998400000},
    /* extremes of the 4-digit year */
    {"0000-01-01T00:00:00Z", -62167219200000},
    {"9999-12-31T23:59:59.999Z", 253402300799999},
    {"1969-12-31T23:59:59.999Z", -1},
    /* last day of every month */
    {"2021-01-31T00:00:00Z", 1612051200000},
    {"2021-04-30T00:00:00Z", 1619740800000},
    {"2021-12-31T23:59:59Z", 1640995199000},
};

static void test_parse_ok_table(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof(parse_ok_cases) / sizeof(parse_ok_cases[0]); i++) {
        int64_t ms = 42;
        int rc = time_parse_iso(parse_ok_cases[i].iso, &ms);
        if (rc != 0 || ms != parse_ok_cases[i].ms) {
            print_error("time_parse_iso(\"%s\") = %d, %lld; want 0, %lld\n", parse_ok_cases[i].iso, rc, (long long)ms,
                        (long long)parse_ok_cases[i].ms);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

static const char *const parse_bad_cases[] = {
    "",
    "2021",
    "2021-10-20",
    "2021-10-20T02:51",
    /* missing zone */
    "2021-10-20T02:51:07",
    "2021-10-20T02:51:07.546",
    "2021-10-20T02:51:07.5",
    /* invalid dates */
    "2021-02-29T00:00:00Z", /* not a leap year */
    "1900-02-29T00:00:00Z", /* divisible by 100, not by 400 */
    "2100-02-29T00:00:00Z",
    "2020-02-30T00:00:00Z",
    "2021-13-01T00:00:00Z",
    "2021-00-01T00:00:00Z",
    "2021-01-00T00:00:00Z",
    "2021-01-32T00:00:00Z",
    "2021-04-31T00:00:00Z",
    "2021-06-31T00:00:00Z",
    "2021-09-31T00:00:00Z",
    "2021-11-31T00:00:00Z",
    "2021-10-20T24:00:00Z",
    "2021-10-20T23:60:00Z",
    "2021-10-20T23:59:61Z",
    "2021-10-20T99:99:99Z",
    /* trailing garbage */
    "2021-10-20T02:51:07Z ",
    "2021-10-20T02:51:07Zx",
    "2021-10-20T02:51:07ZZ",
    "2021-10-20T02:51:07.546Z0",
    "2021-10-20T02:51:07+02:00x",
    "2021-10-20T02:51:07+02:00:00",
    "2021-10-20T02:51:07+02:00Z",
    /* leading garbage */
    " 2021-10-20T02:51:07Z",
    "+2021-10-20T02:51:07Z",
    /* bad fractions */
    "2021-10-20T02:51:07.Z",
    "2021-10-20T02:51:07.5460000000Z", /* 10 digits */
    "2021-10-20T02:51:07,546Z",
    "2021-10-20T02:51:07.-5Z",
    /* bad offsets */
    "2021-10-20T02:51:07+2:00",
    "2021-10-20T02:51:07+0200",
    "2021-10-20T02:51:07+02",
    "2021-10-20T02:51:07+24:00",
    "2021-10-20T02:51:07+02:60",
    "2021-10-20T02:51:07+02-00",
    "2021-10-20T02:51:07+ab:cd",
    "2021-10-20T02:51:07 +02:00",
    /* bad separators and digits */
    "2021/10/20T02:51:07Z",
    "2021-10-20X02:51:07Z",
    "2021-10-20T02.51.07Z",
    "20211020T025107Z",
    "2021-1a-20T02:51:07Z",
    "2021-10-2bT02:51:07Z",
    "2021-10-20T0x:51:07Z",
    "2021-+1-20T02:51:07Z",
    "202a-10-20T02:51:07Z",
    "21-10-20T02:51:07Z",
    "12021-10-20T02:51:07Z",
    "-2021-10-20T02:51:07Z",
};

static void test_parse_bad_table(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof(parse_bad_cases) / sizeof(parse_bad_cases[0]); i++) {
        int64_t ms = 42;
        if (time_parse_iso(parse_bad_cases[i], &ms) != -1) {
            print_error("time_parse_iso(\"%s\") accepted it as %lld\n", parse_bad_cases[i], (long long)ms);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

static void test_clocks(void **state)
{
    (void)state;
    int64_t now = time_now_ms();
    /* after 2020-01-01 and before 2100-01-01: a sane wall clock in milliseconds, not seconds */
    assert_true(now > 1577836800000);
    assert_true(now < 4102444800000);
    int64_t m1 = time_mono_ms();
    int64_t m2 = time_mono_ms();
    assert_true(m1 >= 0);
    assert_true(m2 >= m1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_table),
        cmocka_unit_test(test_format_extremes),
        cmocka_unit_test(test_format_parse_round_trip),
        cmocka_unit_test(test_parse_ok_table),
        cmocka_unit_test(test_parse_bad_table),
        cmocka_unit_test(test_clocks),
    };
    return cmocka_run_group_tests_name("timeutil", tests, NULL, NULL);
}
