/* Tests for src/util/tz.c: TZif reading, offsets (listed transitions and POSIX footer rules),
 * transitions, and the names and files it refuses. Expected offsets were checked against Python's
 * zoneinfo on the same tzdata. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/timeutil.h"
#include "util/tz.h"

static int64_t iso_s(const char *iso)
{
    int64_t ms;
    if (time_parse_iso(iso, &ms) != 0)
        fail_msg("bad ISO time in test: %s", iso);
    return ms / 1000;
}

static const struct {
    const char *zone, *at;
    int32_t offset;
} offset_cases[] = {
    /* Europe/Berlin: CET/CEST, the 2026 changes to the second, history before and after */
    {"Europe/Berlin", "2026-01-15T12:00:00Z", 3600},
    {"Europe/Berlin", "2026-07-01T12:00:00Z", 7200},
    {"Europe/Berlin", "2026-03-29T00:59:59Z", 3600},
    {"Europe/Berlin", "2026-03-29T01:00:00Z", 7200},
    {"Europe/Berlin", "2026-10-25T00:59:59Z", 7200},
    {"Europe/Berlin", "2026-10-25T01:00:00Z", 3600},
    {"Europe/Berlin", "1945-06-01T00:00:00Z", 10800}, /* double summer time */
    {"Europe/Berlin", "1900-01-01T00:00:00Z", 3600},
    {"Europe/Berlin", "1850-01-01T00:00:00Z", 3208}, /* LMT: before the first transition, type 0 */
    /* America/New_York: EST/EDT */
    {"America/New_York", "2026-03-08T06:59:59Z", -18000},
    {"America/New_York", "2026-03-08T07:00:00Z", -14400},
    {"America/New_York", "2026-11-01T05:59:59Z", -14400},
    {"America/New_York", "2026-11-01T06:00:00Z", -18000},
    {"America/New_York", "1800-01-01T00:00:00Z", -17762},
    /* Asia/Kolkata: +5:30, and +6:30 in the war years */
    {"Asia/Kolkata", "2026-06-01T00:00:00Z", 19800},
    {"Asia/Kolkata", "1943-01-01T00:00:00Z", 23400},
    {"Asia/Kolkata", "1800-01-01T00:00:00Z", 21208},
    /* Australia/Lord_Howe: +10:30, with a 30-minute DST in the southern summer */
    {"Australia/Lord_Howe", "2026-01-01T00:00:00Z", 39600},
    {"Australia/Lord_Howe", "2026-04-04T14:59:59Z", 39600},
    {"Australia/Lord_Howe", "2026-04-04T15:00:00Z", 37800},
    {"Australia/Lord_Howe", "2026-10-03T15:29:59Z", 37800},
    {"Australia/Lord_Howe", "2026-10-03T15:30:00Z", 39600},
    /* far future: after the last listed transition, from the footer's rule */
    {"Europe/Berlin", "2200-01-01T00:00:00Z", 3600},
    {"Europe/Berlin", "2200-07-01T00:00:00Z", 7200},
    {"America/New_York", "2400-01-04T00:00:00Z", -18000},
    {"America/New_York", "2400-07-04T00:00:00Z", -14400},
    {"Australia/Lord_Howe", "2300-01-01T00:00:00Z", 39600},
    {"Australia/Lord_Howe", "2300-07-01T00:00:00Z", 37800},
    /* UTC, without a file and from one; POSIX-style Etc names have the sign inverted */
    {"UTC", "2026-07-01T00:00:00Z", 0},
    {"Etc/UTC", "2026-07-01T00:00:00Z", 0},
    {"Etc/GMT+5", "2026-01-01T00:00:00Z", -18000},
};

static void test_offsets(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(offset_cases) / sizeof(offset_cases[0]); i++) {
        char err[128] = "";
        tz_t *tz = tz_load(offset_cases[i].zone, err, sizeof(err));
        if (!tz)
            fail_msg("%s: %s", offset_cases[i].zone, err);
        assert_string_equal(tz_name(tz), offset_cases[i].zone);
        int32_t got = tz_offset_at(tz, iso_s(offset_cases[i].at));
        if (got != offset_cases[i].offset)
            fail_msg("%s at %s: offset %d, want %d", offset_cases[i].zone, offset_cases[i].at, (int)got,
                     (int)offset_cases[i].offset);
        tz_free(tz);
    }
}

static void test_utc_and_null(void **state)
{
    (void)state;
    int64_t at;
    int32_t ob, oa;
    assert_int_equal(tz_offset_at(NULL, 1234567890), 0);
    assert_string_equal(tz_name(NULL), "UTC");
    assert_int_equal(tz_next_transition(NULL, 0, &at, &ob, &oa), -1);
    tz_t *tz = tz_load(NULL, NULL, 0);
    assert_non_null(tz);
    assert_string_equal(tz_name(tz), "UTC");
    assert_int_equal(tz_offset_at(tz, iso_s("2026-07-01T00:00:00Z")), 0);
    assert_int_equal(tz_next_transition(tz, 0, &at, &ob, &oa), -1);
    tz_free(tz);
    tz_free(NULL);
}

static const struct {
    const char *zone, *after, *at;
    int32_t before, offset;
} transition_cases[] = {
    {"Europe/Berlin", "2026-01-01T00:00:00Z", "2026-03-29T01:00:00Z", 3600, 7200},
    {"Europe/Berlin", "2026-03-29T01:00:00Z", "2026-10-25T01:00:00Z", 7200, 3600}, /* strictly after */
    {"Europe/Berlin", "2026-03-29T00:59:59Z", "2026-03-29T01:00:00Z", 3600, 7200},
    {"America/New_York", "2026-03-09T00:00:00Z", "2026-11-01T06:00:00Z", -14400, -18000},
    {"Australia/Lord_Howe", "2026-01-01T00:00:00Z", "2026-04-04T15:00:00Z", 39600, 37800},
    /* footer rules, far beyond the listed transitions */
    {"Europe/Berlin", "2200-01-01T00:00:00Z", "2200-03-30T01:00:00Z", 3600, 7200},
    {"Europe/Berlin", "2200-10-26T01:00:00Z", "2201-03-29T01:00:00Z", 3600, 7200},
    {"America/New_York", "2400-06-01T00:00:00Z", "2400-11-05T06:00:00Z", -14400, -18000},
    {"Australia/Lord_Howe", "2300-05-01T00:00:00Z", "2300-10-06T15:30:00Z", 37800, 39600},
};

static void test_transitions(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(transition_cases) / sizeof(transition_cases[0]); i++) {
        tz_t *tz = tz_load(transition_cases[i].zone, NULL, 0);
        assert_non_null(tz);
        int64_t at = 0;
        int32_t ob = 0, oa = 0;
        assert_int_equal(tz_next_transition(tz, iso_s(transition_cases[i].after), &at, &ob, &oa), 0);
        if (at != iso_s(transition_cases[i].at) || ob != transition_cases[i].before || oa != transition_cases[i].offset)
            fail_msg("%s after %s: at %lld (%d -> %d), want %s (%d -> %d)", transition_cases[i].zone,
                     transition_cases[i].after, (long long)at, (int)ob, (int)oa, transition_cases[i].at,
                     (int)transition_cases[i].before, (int)transition_cases[i].offset);
        tz_free(tz);
    }
    /* zones without DST never change again */
    tz_t *tz = tz_load("Asia/Kolkata", NULL, 0);
    int64_t at;
    int32_t ob, oa;
    assert_int_equal(tz_next_transition(tz, iso_s("2026-01-01T00:00:00Z"), &at, &ob, &oa), -1);
    tz_free(tz);
}

static const char *const refused_names[] = {
    "../etc/passwd",
    "/etc/passwd",
    "Europe/../Europe/Berlin",
    "Europe/..",
    "..",
    "",
    "Europe/Berlin ",
    " Europe/Berlin",
    "Europe\\Berlin",
    "Europe/Berlin\n",
    "Europe/Berlin;rm",
    "Europe/Be%rlin",
    "Europe/Nowhere", /* well-formed but unknown */
    "Europe",         /* a directory */
    "Europe/Berlin/",
    "zone.tab", /* '.' is not in a zone name */
};

static void test_refused_names(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(refused_names) / sizeof(refused_names[0]); i++) {
        char err[128] = "";
        tz_t *tz = tz_load(refused_names[i], err, sizeof(err));
        if (tz)
            fail_msg("\"%s\" accepted", refused_names[i]);
        assert_true(err[0] != '\0');
    }
    char longname[400];
    memset(longname, 'A', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_null(tz_load(longname, NULL, 0));
}

/* ---- tz_parse on hand-made and damaged data ---- */

typedef struct {
    unsigned char b[1024];
    size_t n;
} bytes_t;

static void put(bytes_t *o, const void *p, size_t n)
{
    assert_true(o->n + n <= sizeof(o->b));
    memcpy(o->b + o->n, p, n);
    o->n += n;
}

static void put32(bytes_t *o, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
                          (unsigned char)v};
    put(o, b, 4);
}

static void put_header(bytes_t *o, char version, uint32_t timecnt, uint32_t typecnt, uint32_t charcnt)
{
    unsigned char reserved[15] = {0};
    put(o, "TZif", 4);
    put(o, &version, 1);
    put(o, reserved, sizeof(reserved));
    put32(o, 0);       /* isutcnt */
    put32(o, 0);       /* isstdcnt */
    put32(o, 0);       /* leapcnt */
    put32(o, timecnt); /* timecnt */
    put32(o, typecnt);
    put32(o, charcnt);
}

/* A version 2 file with no transitions and one type (`off`): everything comes from `footer`. */
static bytes_t tzif_with_footer(int32_t off, const char *footer)
{
    bytes_t o = {.n = 0};
    for (int pass = 0; pass < 2; pass++) {
        put_header(&o, '2', 0, 1, 4);
        put32(&o, (uint32_t)off);
        put(&o, "\0\0", 2); /* isdst, desigidx */
        put(&o, "AAA", 4);
    }
    put(&o, "\n", 1);
    put(&o, footer, strlen(footer));
    put(&o, "\n", 1);
    return o;
}

static const struct {
    const char *footer, *at;
    int32_t offset;
} footer_cases[] = {
    {"CET-1CEST,M3.5.0,M10.5.0/3", "2026-03-29T00:59:59Z", 3600},
    {"CET-1CEST,M3.5.0,M10.5.0/3", "2026-03-29T01:00:00Z", 7200},
    {"CET-1CEST,M3.5.0,M10.5.0/3", "2026-10-25T01:00:00Z", 3600},
    /* Jn: February 29 is never counted, so J60 is March 1 even in leap years */
    {"AAA0BBB,J60,J300", "2024-03-01T01:59:59Z", 0},
    {"AAA0BBB,J60,J300", "2024-03-01T02:00:00Z", 3600},
    {"AAA0BBB,J60,J300", "2024-10-27T00:59:59Z", 3600},
    {"AAA0BBB,J60,J300", "2024-10-27T01:00:00Z", 0},
    /* n: zero-based, February 29 counted: day 59 is Feb 29 in 2024, March 1 in 2025 */
    {"AAA0BBB,59,299", "2024-02-29T01:59:59Z", 0},
    {"AAA0BBB,59,299", "2024-02-29T02:00:00Z", 3600},
    {"AAA0BBB,59,299", "2025-02-28T12:00:00Z", 0},
    {"AAA0BBB,59,299", "2025-03-01T02:00:00Z", 3600},
    {"AAA0BBB,59,299", "2024-10-26T01:00:00Z", 0},
    /* quoted names, minutes in offsets, southern hemisphere (DST across the new year) */
    {"<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", "2026-07-01T00:00:00Z", 37800},
    {"<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", "2027-01-01T00:00:00Z", 39600},
    /* v3 extensions: negative and over-24-hour rule times; DST all year */
    {"<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", "2026-03-29T00:59:59Z", -10800},
    {"<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", "2026-03-29T01:00:00Z", -7200},
    {"EST5EDT,0/0,J365/25", "2026-01-01T12:00:00Z", -14400},
    {"EST5EDT,0/0,J365/25", "2026-12-31T23:00:00Z", -14400},
    /* no DST part; a DST name with no rules takes the US rules */
    {"IST-5:30", "2026-01-01T00:00:00Z", 19800},
    {"EST5EDT", "2026-07-01T00:00:00Z", -14400},
    {"EST5EDT", "2026-01-01T00:00:00Z", -18000},
};

static void test_parse_footer(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(footer_cases) / sizeof(footer_cases[0]); i++) {
        bytes_t f = tzif_with_footer(0, footer_cases[i].footer);
        char err[128] = "";
        tz_t *tz = tz_parse("test", f.b, f.n, err, sizeof(err));
        if (!tz)
            fail_msg("%s: %s", footer_cases[i].footer, err);
        int32_t got = tz_offset_at(tz, iso_s(footer_cases[i].at));
        if (got != footer_cases[i].offset)
            fail_msg("%s at %s: %d, want %d", footer_cases[i].footer, footer_cases[i].at, (int)got,
                     (int)footer_cases[i].offset);
        tz_free(tz);
    }
}

static const char *const bad_footers[] = {
    "CE-1",                         /* name too short */
    "CET",                          /* no offset */
    "CET-1CEST,M3.5.0",             /* one rule */
    "CET-1CEST,M13.5.0,M10.5.0",    /* month 13 */
    "CET-1CEST,M3.6.0,M10.5.0",     /* week 6 */
    "CET-1CEST,M3.5.7,M10.5.0",     /* day 7 */
    "CET-1CEST,J0,J300",            /* J counts from 1 */
    "CET-1CEST,366,300",            /* plain days end at 365 */
    "CET-25",                       /* offset over 24 hours */
    "CET-1CEST,M3.5.0/168,M10.5.0", /* rule time over 167 hours */
    "<CET-1",                       /* unterminated quoted name */
    "CET-1CEST,M3.5.0,M10.5.0x",    /* trailing garbage */
};

static void test_parse_refused(void **state)
{
    (void)state;
    char err[128];
    for (size_t i = 0; i < sizeof(bad_footers) / sizeof(bad_footers[0]); i++) {
        bytes_t f = tzif_with_footer(0, bad_footers[i]);
        tz_t *tz = tz_parse("test", f.b, f.n, err, sizeof(err));
        if (tz)
            fail_msg("footer \"%s\" accepted", bad_footers[i]);
    }

    /* the real Berlin file, then damaged copies of it */
    FILE *fp = fopen("/usr/share/zoneinfo/Europe/Berlin", "rb");
    assert_non_null(fp);
    static unsigned char buf[TZ_MAX_FILE + 2];
    size_t n = fread(buf, 1, sizeof(buf), fp);
    fclose(fp);
    assert_true(n > 100 && n < TZ_MAX_FILE);
    tz_t *tz = tz_parse("Europe/Berlin", buf, n, err, sizeof(err));
    assert_non_null(tz);
    tz_free(tz);
    for (size_t cut = 0; cut < n; cut += (cut < 64 ? 1 : 37)) /* every truncation is refused */
        if ((tz = tz_parse("x", buf, cut, err, sizeof(err))) != NULL)
            fail_msg("accepted a file cut at %zu of %zu bytes", cut, n);

    unsigned char copy[4096];
    assert_true(n <= sizeof(copy));
    memcpy(copy, buf, n);
    copy[0] = 'X'; /* magic */
    assert_null(tz_parse("x", copy, n, err, sizeof(err)));
    assert_string_equal(err, "not a TZif file, or its counts do not fit its size");
    memcpy(copy, buf, n);
    copy[32] = 0x7f; /* timecnt far beyond the file */
    assert_null(tz_parse("x", copy, n, err, sizeof(err)));
    memcpy(copy, buf, n);
    copy[36] = 0xff; /* typecnt beyond 256 */
    assert_null(tz_parse("x", copy, n, err, sizeof(err)));
    assert_null(tz_parse("x", NULL, 0, err, sizeof(err)));

    /* too large, whatever is in it */
    memset(buf, 0, sizeof(buf));
    memcpy(buf, copy, 44);
    assert_null(tz_parse("x", buf, TZ_MAX_FILE + 1, err, sizeof(err)));
    assert_string_equal(err, "TZif file too large");

    /* a transition naming a type that does not exist; transitions out of order */
    bytes_t o = {.n = 0};
    put_header(&o, '\0', 2, 1, 4);
    put32(&o, 100);
    put32(&o, 200);
    put(&o, "\0\1", 2);
    put32(&o, 3600);
    put(&o, "\0\0AAA", 6);
    assert_null(tz_parse("x", o.b, o.n, err, sizeof(err)));
    assert_string_equal(err, "TZif transition names a missing type");
    o.b[44 + 8 + 1] = 0;
    o.b[44 + 7] = 50; /* second transition at 50, before the first at 100 */
    assert_null(tz_parse("x", o.b, o.n, err, sizeof(err)));
    assert_string_equal(err, "TZif transitions out of order");
}

/* A version 1 file: 32-bit transitions, no footer, the last type holds forever. */
static void test_parse_v1(void **state)
{
    (void)state;
    bytes_t o = {.n = 0};
    put_header(&o, '\0', 2, 2, 8);
    put32(&o, 1000000000);
    put32(&o, 2000000000);
    put(&o, "\1\0", 2);
    put32(&o, 3600);
    put(&o, "\0\0", 2);
    put32(&o, (uint32_t)-7200);
    put(&o, "\1\4", 2);
    put(&o, "AAA\0BBB", 8);
    char err[128] = "";
    tz_t *tz = tz_parse("v1", o.b, o.n, err, sizeof(err));
    if (!tz)
        fail_msg("%s", err);
    assert_string_equal(tz_name(tz), "v1");
    assert_int_equal(tz_offset_at(tz, 0), 3600); /* type 0 before the first */
    assert_int_equal(tz_offset_at(tz, 1000000000), -7200);
    assert_int_equal(tz_offset_at(tz, 1999999999), -7200);
    assert_int_equal(tz_offset_at(tz, 2000000000), 3600);
    assert_int_equal(tz_offset_at(tz, INT64_MAX / 2), 3600);
    int64_t at;
    int32_t ob, oa;
    assert_int_equal(tz_next_transition(tz, 1000000000, &at, &ob, &oa), 0);
    assert_int_equal(at, 2000000000);
    assert_int_equal(ob, -7200);
    assert_int_equal(oa, 3600);
    assert_int_equal(tz_next_transition(tz, 2000000000, &at, &ob, &oa), -1);
    tz_free(tz);
}

/* Instants far outside the data stay well-defined (UBSan watches the arithmetic). */
static void test_extremes(void **state)
{
    (void)state;
    tz_t *tz = tz_load("Europe/Berlin", NULL, 0);
    assert_non_null(tz);
    static const int64_t ts[] = {INT64_MIN,        INT64_MIN + 1, -(INT64_C(1) << 60),
                                 INT64_C(1) << 60, INT64_MAX - 1, INT64_MAX};
    for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
        int32_t off = tz_offset_at(tz, ts[i]);
        assert_true(off == 3600 || off == 7200 || off == 3208);
        int64_t at;
        int32_t ob, oa;
        if (tz_next_transition(tz, ts[i], &at, &ob, &oa) == 0)
            assert_true(at > ts[i]);
    }
    tz_free(tz);
}

/* Damaged copies of a real file: refused or accepted, never a crash or an overread (under ASan). */
static void test_parse_mutations(void **state)
{
    (void)state;
    FILE *fp = fopen("/usr/share/zoneinfo/America/New_York", "rb");
    assert_non_null(fp);
    static unsigned char orig[8192], buf[8192];
    size_t n = fread(orig, 1, sizeof(orig), fp);
    fclose(fp);
    assert_true(n > 100 && n < sizeof(orig));
    uint32_t seed = 12345;
    for (int round = 0; round < 3000; round++) {
        memcpy(buf, orig, n);
        for (int k = 0; k < 1 + round % 4; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t pos = (seed >> 8) % n;
            if (round % 3 == 0)
                pos = (seed >> 8) % 64; /* the headers and counts */
            buf[pos] = (unsigned char)(seed >> 24);
        }
        unsigned char *copy = malloc(n); /* exact size, so ASan sees any read past the end */
        assert_non_null(copy);
        memcpy(copy, buf, n);
        tz_t *tz = tz_parse("x", copy, n, NULL, 0);
        if (tz) {
            (void)tz_offset_at(tz, 0);
            (void)tz_offset_at(tz, INT64_C(4102444800));
            int64_t at;
            int32_t ob, oa;
            (void)tz_next_transition(tz, 0, &at, &ob, &oa);
            tz_free(tz);
        }
        free(copy);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offsets),         cmocka_unit_test(test_utc_and_null),
        cmocka_unit_test(test_transitions),     cmocka_unit_test(test_refused_names),
        cmocka_unit_test(test_parse_footer),    cmocka_unit_test(test_parse_refused),
        cmocka_unit_test(test_parse_v1),        cmocka_unit_test(test_extremes),
        cmocka_unit_test(test_parse_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
