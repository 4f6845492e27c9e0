/* Tests for src/model/cron.c: parsing (accepted and refused schedules) and next-run times in UTC
 * and across DST changes, as Debian's cron runs them; checked against minute-by-minute scans. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "model/cron.h"
#include "util/timeutil.h"
#include "util/tz.h"

#define ALL_MIN    ((UINT64_C(1) << 60) - 1)
#define ALL_HOURS  0xFFFFFFu
#define ALL_MDAYS  0xFFFFFFFEu
#define ALL_MONTHS 0x1FFEu
#define ALL_WDAYS  0x7Fu
#define B(n)       (UINT64_C(1) << (n))

static int64_t iso_ms(const char *iso)
{
    int64_t ms;
    if (time_parse_iso(iso, &ms) != 0)
        fail_msg("bad ISO time in test: %s", iso);
    return ms;
}

/* ---- parsing ---- */

static const struct {
    const char *expr;
    cron_spec_t want;
} parse_ok[] = {
    {"* * * * *", {ALL_MIN, ALL_HOURS, ALL_MDAYS, ALL_MONTHS, ALL_WDAYS, 1, 1, 1, 1}},
    {"*/15 * * * *", {B(0) | B(15) | B(30) | B(45), ALL_HOURS, ALL_MDAYS, ALL_MONTHS, ALL_WDAYS, 1, 1, 1, 1}},
    {"0 0 1 1 *", {B(0), B(0), B(1), B(1), ALL_WDAYS, 0, 1, 0, 0}},
    {"5,10-12,50-59/5 * * * *",
     {B(5) | B(10) | B(11) | B(12) | B(50) | B(55), ALL_HOURS, ALL_MDAYS, ALL_MONTHS, ALL_WDAYS, 1, 1, 0, 1}},
    {"0 9-17/2 * * 1-5", {B(0), B(9) | B(11) | B(13) | B(15) | B(17), ALL_MDAYS, ALL_MONTHS, 0x3E, 1, 0, 0, 0}},
    {"30 2 * * *", {B(30), B(2), ALL_MDAYS, ALL_MONTHS, ALL_WDAYS, 1, 1, 0, 0}},
    {"0 */6 * * *", {B(0), B(0) | B(6) | B(12) | B(18), ALL_MDAYS, ALL_MONTHS, ALL_WDAYS, 1, 1, 0, 1}},
    /* Sunday is 0 and 7 */
    {"0 0 * * 7", {B(0), B(0), ALL_MDAYS, ALL_MONTHS, B(0), 1, 0, 0, 0}},
    {"0 0 * * 0,7", {B(0), B(0), ALL_MDAYS, ALL_MONTHS, B(0), 1, 0, 0, 0}},
    {"0 0 * * 5-7", {B(0), B(0), ALL_MDAYS, ALL_MONTHS, B(5) | B(6) | B(0), 1, 0, 0, 0}},
    {"0 0 * * 1-7", {B(0), B(0), ALL_MDAYS, ALL_MONTHS, ALL_WDAYS, 1, 0, 0, 0}},
    {"0 0 * * */2", {B(0), B(0), ALL_MDAYS, ALL_MONTHS, B(0) | B(2) | B(4) | B(6), 1, 1, 0, 0}},
    /* names, any case, alone, in lists and in ranges */
    {"0 0 1 JAN,jul,Dec *", {B(0), B(0), B(1), B(1) | B(7) | B(12), ALL_WDAYS, 0, 1, 0, 0}},
    {"0 0 * * Mon-FRI", {B(0), B(0), ALL_MDAYS, ALL_MONTHS, 0x3E, 1, 0, 0, 0}},
    {"0 0 * feb-apr/2 sun", {B(0), B(0), ALL_MDAYS, B(2) | B(4), B(0), 1, 0, 0, 0}},
    /* both day fields restricted: OR; "*" with a step still counts as "*" (Vixie's rule) */
    {"0 0 13 * 5", {B(0), B(0), B(13), ALL_MONTHS, B(5), 0, 0, 0, 0}},
    {"0 0 */10 * 1", {B(0), B(0), B(1) | B(11) | B(21) | B(31), ALL_MONTHS, B(1), 1, 0, 0, 0}},
    /* spacing and leading zeros */
    {" \t0   0\t* *  *  \n", {B(0), B(0), ALL_MDAYS, ALL_MONTHS, ALL_WDAYS, 1, 1, 0, 0}},
    {"00 05 01 01 *", {B(0), B(5), B(1), B(1), ALL_WDAYS, 0, 1, 0, 0}},
    {"59 23 31 12 6", {B(59), B(23), B(31), B(12), B(6), 0, 0, 0, 0}},
    /* macros: as their five-field forms */
    {"@yearly", {B(0), B(0), B(1), B(1), ALL_WDAYS, 0, 1, 0, 0}},
    {"@annually", {B(0), B(0), B(1), B(1), ALL_WDAYS, 0, 1, 0, 0}},
    {"@monthly", {B(0), B(0), B(1), ALL_MONTHS, ALL_WDAYS, 0, 1, 0, 0}},
    {"@weekly", {B(0), B(0), ALL_MDAYS, ALL_MONTHS, B(0), 1, 0, 0, 0}},
    {"@daily", {B(0), B(0), ALL_MDAYS, ALL_MONTHS, ALL_WDAYS, 1, 1, 0, 0}},
    {"@midnight", {B(0), B(0), ALL_MDAYS, ALL_MONTHS, ALL_WDAYS, 1, 1, 0, 0}},
    {"@hourly", {B(0), ALL_HOURS, ALL_MDAYS, ALL_MONTHS, ALL_WDAYS, 1, 1, 0, 1}},
    {"  @hourly  ", {B(0), ALL_HOURS, ALL_MDAYS, ALL_MONTHS, ALL_WDAYS, 1, 1, 0, 1}},
};

static void test_parse_ok(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(parse_ok) / sizeof(parse_ok[0]); i++) {
        cron_spec_t got;
        char err[160] = "";
        if (cron_parse(parse_ok[i].expr, &got, err, sizeof(err)) != 0)
            fail_msg("\"%s\" refused: %s", parse_ok[i].expr, err);
        const cron_spec_t *w = &parse_ok[i].want;
        if (got.minutes != w->minutes || got.hours != w->hours || got.mdays != w->mdays || got.months != w->months ||
            got.wdays != w->wdays || got.mday_star != w->mday_star || got.wday_star != w->wday_star ||
            got.minute_star != w->minute_star || got.hour_star != w->hour_star)
            fail_msg("\"%s\": min %llx h %x dom %x mon %x dow %x stars %d%d%d%d", parse_ok[i].expr,
                     (unsigned long long)got.minutes, got.hours, got.mdays, got.months, got.wdays, got.mday_star,
                     got.wday_star, got.minute_star, got.hour_star);
    }
}

static const struct {
    const char *expr, *field; /* the message must name this */
} parse_bad[] = {
    {"", "minute"},
    {"   ", "minute"},
    {"* * * *", "day-of-week"},
    {"* * * * * extra", "day-of-week"},
    {"0 0 * * * /bin/true", "day-of-week"},
    {"60 * * * *", "minute"},
    {"* 24 * * *", "hour"},
    {"* * 0 * *", "day-of-month"},
    {"* * 32 * *", "day-of-month"},
    {"* * * 0 *", "month"},
    {"* * * 13 *", "month"},
    {"* * * * 8", "day-of-week"},
    {"99999999999999999999 * * * *", "minute"},
    {"-1 * * * *", "minute"},
    {"0 0 L * *", "day-of-month"},
    {"0 0 1W * *", "day-of-month"},
    {"0 0 ? * *", "day-of-month"},
    {"0 0 * * 5#3", "day-of-week"},
    {"0 0 * * 5L", "day-of-week"},
    {"1,,2 * * * *", "minute"},
    {"1, * * * *", "minute"},
    {",1 * * * *", "minute"},
    {"5-1 * * * *", "minute"},
    {"1- * * * *", "minute"},
    {"*/0 * * * *", "minute"},
    {"*/61 * * * *", "minute"},
    {"*/ * * * *", "minute"},
    {"5/10 * * * *", "minute"},
    {"*5 * * * *", "minute"},
    {"** * * * *", "minute"},
    {"1.5 * * * *", "minute"},
    {"a * * * *", "minute"},
    {"0 mon * * *", "hour"},
    {"0 0 jan * *", "day-of-month"},
    {"0 0 * january *", "month"},
    {"0 0 * ja *", "month"},
    {"0 0 * * monday", "day-of-week"},
    {"0 0 * jan-foo *", "month"},
    {"0 0 * * mon/2", "day-of-week"},
    {"0 0 * * sat-sun", "day-of-week"},
    {"0 0 * * */sun", "day-of-week"},
    {"@reboot", "@reboot"},
    {"@every 5m", "@every"},
    {"@Daily", "@Daily"},
    {"@daily extra", "@daily"},
    {"@", "schedule"},
};

static void test_parse_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(parse_bad) / sizeof(parse_bad[0]); i++) {
        cron_spec_t got;
        char err[160] = "";
        if (cron_parse(parse_bad[i].expr, &got, err, sizeof(err)) != -1)
            fail_msg("\"%s\" accepted", parse_bad[i].expr);
        if (!strstr(err, parse_bad[i].field))
            fail_msg("\"%s\": message \"%s\" does not name \"%s\"", parse_bad[i].expr, err, parse_bad[i].field);
    }
    cron_spec_t got;
    assert_int_equal(cron_parse(NULL, &got, NULL, 0), -1);
    assert_int_equal(cron_parse("60 * * * *", &got, NULL, 0), -1); /* no room for a message is fine */
    char tiny[8];
    assert_int_equal(cron_parse("60 * * * *", &got, tiny, sizeof(tiny)), -1);
    assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
}

/* ---- next runs ---- */

typedef struct next_case {
    const char *expr, *zone, *after, *want; /* want NULL: none within 5 years */
} next_case_t;

static const next_case_t next_utc[] = {
    /* every 5 minutes: strictly after, whole minutes */
    {"*/5 * * * *", "UTC", "2026-01-01T00:00:00.000Z", "2026-01-01T00:05:00.000Z"},
    {"*/5 * * * *", "UTC", "2026-01-01T00:02:30.500Z", "2026-01-01T00:05:00.000Z"},
    {"*/5 * * * *", "UTC", "2026-01-01T00:04:59.999Z", "2026-01-01T00:05:00.000Z"},
    {"*/5 * * * *", "UTC", "2026-01-01T23:58:00.000Z", "2026-01-02T00:00:00.000Z"},
    {"* * * * *", "UTC", "2026-01-01T00:00:00.001Z", "2026-01-01T00:01:00.000Z"},
    {"* * * * *", "UTC", "1969-12-31T23:59:30.000Z", "1970-01-01T00:00:00.000Z"},
    /* hourly */
    {"0 * * * *", "UTC", "2026-01-01T10:00:00.000Z", "2026-01-01T11:00:00.000Z"},
    {"@hourly", "UTC", "2026-01-01T10:59:59.000Z", "2026-01-01T11:00:00.000Z"},
    /* daily at 02:30 */
    {"30 2 * * *", "UTC", "2026-01-01T02:29:00.000Z", "2026-01-01T02:30:00.000Z"},
    {"30 2 * * *", "UTC", "2026-01-01T02:30:00.000Z", "2026-01-02T02:30:00.000Z"},
    {"@daily", "UTC", "2026-02-28T12:00:00.000Z", "2026-03-01T00:00:00.000Z"},
    /* the 31st skips shorter months */
    {"0 0 31 * *", "UTC", "2026-01-31T00:00:00.000Z", "2026-03-31T00:00:00.000Z"},
    {"0 0 31 * *", "UTC", "2026-03-31T00:00:00.000Z", "2026-05-31T00:00:00.000Z"},
    {"0 0 31 * *", "UTC", "2026-07-31T00:00:00.000Z", "2026-08-31T00:00:00.000Z"},
    {"0 0 31 * *", "UTC", "2026-08-31T00:00:00.000Z", "2026-10-31T00:00:00.000Z"},
    /* leap days */
    {"0 0 29 2 *", "UTC", "2026-01-01T00:00:00.000Z", "2028-02-29T00:00:00.000Z"},
    {"0 0 29 2 *", "UTC", "2028-02-29T00:00:00.000Z", "2032-02-29T00:00:00.000Z"},
    {"0 0 29 2 *", "UTC", "2096-03-01T00:00:00.000Z", NULL}, /* 2100 is not a leap year: 2104 is too far */
    {"0 0 29 2 *", "UTC", "1999-03-01T00:00:00.000Z", "2000-02-29T00:00:00.000Z"},
    /* never */
    {"0 0 30 2 *", "UTC", "2026-01-01T00:00:00.000Z", NULL},
    {"0 0 31 4,6,9,11 *", "UTC", "2026-01-01T00:00:00.000Z", NULL},
    /* both day fields restricted: the 13th OR Fridays */
    {"0 0 13 * 5", "UTC", "2026-02-01T00:00:00.000Z", "2026-02-06T00:00:00.000Z"},
    {"0 0 13 * 5", "UTC", "2026-02-06T00:00:00.000Z", "2026-02-13T00:00:00.000Z"},
    {"0 0 13 * 5", "UTC", "2026-04-10T00:00:00.000Z", "2026-04-13T00:00:00.000Z"}, /* a Monday */
    {"0 0 13 * 5", "UTC", "2026-04-13T00:00:00.000Z", "2026-04-17T00:00:00.000Z"},
    /* one day field restricted: only it counts */
    {"0 9 * * 1", "UTC", "2026-04-14T00:00:00.000Z", "2026-04-20T09:00:00.000Z"},
    {"0 9 * * mon-fri", "UTC", "2026-04-17T09:00:00.000Z", "2026-04-20T09:00:00.000Z"},
    {"0 0 * * 7", "UTC", "2026-04-14T00:00:00.000Z", "2026-04-19T00:00:00.000Z"},
    {"@weekly", "UTC", "2026-04-14T00:00:00.000Z", "2026-04-19T00:00:00.000Z"},
    {"0 0 1,15 * *", "UTC", "2026-04-02T00:00:00.000Z", "2026-04-15T00:00:00.000Z"},
    {"@monthly", "UTC", "2026-04-02T00:00:00.000Z", "2026-05-01T00:00:00.000Z"},
    /* "*" with a step counts as "*": odd days AND Mondays, not OR (Vixie's rule, kept by Debian) */
    {"0 0 */2 * 1", "UTC", "2026-04-01T00:00:00.000Z", "2026-04-13T00:00:00.000Z"},
    /* ranges with steps */
    {"10-50/20 * * * *", "UTC", "2026-04-01T10:30:00.000Z", "2026-04-01T10:50:00.000Z"},
    {"10-50/20 * * * *", "UTC", "2026-04-01T10:50:00.000Z", "2026-04-01T11:10:00.000Z"},
    {"0 8-18/5 * * *", "UTC", "2026-04-01T13:00:00.000Z", "2026-04-01T18:00:00.000Z"},
    {"0 8-18/5 * * *", "UTC", "2026-04-01T18:00:00.000Z", "2026-04-02T08:00:00.000Z"},
    {"0 0 1 jan,JUL *", "UTC", "2026-02-01T00:00:00.000Z", "2026-07-01T00:00:00.000Z"},
    /* year wrap */
    {"0 0 1 1 *", "UTC", "2026-12-31T23:59:00.000Z", "2027-01-01T00:00:00.000Z"},
    {"@yearly", "UTC", "2026-06-01T00:00:00.000Z", "2027-01-01T00:00:00.000Z"},
    {"59 23 31 12 *", "UTC", "2026-12-31T23:59:00.000Z", "2027-12-31T23:59:00.000Z"},
    {"*/5 * * * *", "UTC", "2026-12-31T23:57:00.000Z", "2027-01-01T00:00:00.000Z"},
    /* a zone without DST just shifts: 00:00 in Kolkata is 18:30Z */
    {"0 0 * * *", "Asia/Kolkata", "2026-07-01T00:00:00.000Z", "2026-07-01T18:30:00.000Z"},
    {"0 0 * * *", "America/New_York", "2026-07-01T00:00:00.000Z", "2026-07-01T04:00:00.000Z"},
};

/* Europe/Berlin changes on 2026-03-29 at 01:00Z (02:00 CET -> 03:00 CEST) and on 2026-10-25 at
 * 01:00Z (03:00 CEST -> 02:00 CET); America/New_York on 2026-03-08 at 07:00Z (02:00 EST -> 03:00
 * EDT) and 2026-11-01 at 06:00Z (02:00 EDT -> 01:00 EST); Australia/Lord_Howe by 30 minutes, on
 * 2026-04-04 at 15:00Z (02:00 -> 01:30) and 2026-10-03 at 15:30Z (02:00 -> 02:30). */
static const next_case_t next_dst[] = {
    /* spring forward: a fixed time in the skipped hour runs right after the jump, once */
    {"30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00.000Z", "2026-03-29T01:00:00.000Z"},
    {"30 2 * * *", "Europe/Berlin", "2026-03-29T01:00:00.000Z", "2026-03-30T00:30:00.000Z"},
    {"0 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00.000Z", "2026-03-29T01:00:00.000Z"},
    {"0,30 2 * * *", "Europe/Berlin", "2026-03-29T00:00:00.000Z", "2026-03-29T01:00:00.000Z"},
    {"0,30 2 * * *", "Europe/Berlin", "2026-03-29T01:00:00.000Z", "2026-03-30T00:00:00.000Z"},
    {"59 1 * * *", "Europe/Berlin", "2026-03-28T12:00:00.000Z", "2026-03-29T00:59:00.000Z"},
    {"0 3 * * *", "Europe/Berlin", "2026-03-28T12:00:00.000Z", "2026-03-29T01:00:00.000Z"},
    {"30 2 * * 0", "Europe/Berlin", "2026-03-22T12:00:00.000Z", "2026-03-29T01:00:00.000Z"},
    {"30 2 * * 1", "Europe/Berlin", "2026-03-28T12:00:00.000Z", "2026-03-30T00:30:00.000Z"},
    /* ... while "*" in minute or hour follows the clock: nothing at the skipped times */
    {"*/15 * * * *", "Europe/Berlin", "2026-03-29T00:45:00.000Z", "2026-03-29T01:00:00.000Z"},
    {"*/15 * * * *", "Europe/Berlin", "2026-03-29T00:50:00.000Z", "2026-03-29T01:00:00.000Z"},
    {"*/15 * * * *", "Europe/Berlin", "2026-03-29T01:00:00.000Z", "2026-03-29T01:15:00.000Z"},
    {"30 * * * *", "Europe/Berlin", "2026-03-29T00:30:00.000Z", "2026-03-29T01:30:00.000Z"},
    {"*/30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00.000Z", "2026-03-30T00:00:00.000Z"},
    /* fall back: a fixed time in the repeated hour runs the first time only */
    {"30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00.000Z", "2026-10-25T00:30:00.000Z"},
    {"30 2 * * *", "Europe/Berlin", "2026-10-25T00:30:00.000Z", "2026-10-26T01:30:00.000Z"},
    {"30 2 * * *", "Europe/Berlin", "2026-10-25T01:10:00.000Z", "2026-10-26T01:30:00.000Z"},
    {"0 2 * * *", "Europe/Berlin", "2026-10-25T00:00:00.000Z", "2026-10-26T01:00:00.000Z"},
    {"0 1-3 * * *", "Europe/Berlin", "2026-10-25T00:00:00.000Z", "2026-10-25T02:00:00.000Z"},
    /* ... while "*" in minute or hour runs in both passes */
    {"*/15 * * * *", "Europe/Berlin", "2026-10-25T00:45:00.000Z", "2026-10-25T01:00:00.000Z"},
    {"*/15 * * * *", "Europe/Berlin", "2026-10-25T01:00:00.000Z", "2026-10-25T01:15:00.000Z"},
    {"30 * * * *", "Europe/Berlin", "2026-10-25T00:30:00.000Z", "2026-10-25T01:30:00.000Z"},
    {"*/30 2 * * *", "Europe/Berlin", "2026-10-25T00:30:00.000Z", "2026-10-25T01:00:00.000Z"},
    {"*/30 2 * * *", "Europe/Berlin", "2026-10-25T01:00:00.000Z", "2026-10-25T01:30:00.000Z"},
    {"*/30 2 * * *", "Europe/Berlin", "2026-10-25T01:30:00.000Z", "2026-10-26T01:00:00.000Z"},
    /* America/New_York */
    {"30 2 * * *", "America/New_York", "2026-03-08T00:00:00.000Z", "2026-03-08T07:00:00.000Z"},
    {"30 2 * * *", "America/New_York", "2026-03-08T07:00:00.000Z", "2026-03-09T06:30:00.000Z"},
    {"30 1 * * *", "America/New_York", "2026-11-01T00:00:00.000Z", "2026-11-01T05:30:00.000Z"},
    {"30 1 * * *", "America/New_York", "2026-11-01T05:30:00.000Z", "2026-11-02T06:30:00.000Z"},
    {"0 * * * *", "America/New_York", "2026-11-01T05:00:00.000Z", "2026-11-01T06:00:00.000Z"},
    {"0 * * * *", "America/New_York", "2026-11-01T06:00:00.000Z", "2026-11-01T07:00:00.000Z"},
    /* Australia/Lord_Howe: half-hour changes */
    {"15 2 * * *", "Australia/Lord_Howe", "2026-10-03T12:00:00.000Z", "2026-10-03T15:30:00.000Z"},
    {"45 1 * * *", "Australia/Lord_Howe", "2026-04-04T12:00:00.000Z", "2026-04-04T14:45:00.000Z"},
    {"45 1 * * *", "Australia/Lord_Howe", "2026-04-04T14:45:00.000Z", "2026-04-05T15:15:00.000Z"},
    /* far future: footer rules */
    {"30 2 * * *", "Europe/Berlin", "2200-03-29T12:00:00.000Z", "2200-03-30T01:00:00.000Z"},
};

static void check_next(const next_case_t *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cron_spec_t spec;
        char err[160] = "";
        if (cron_parse(c[i].expr, &spec, err, sizeof(err)) != 0)
            fail_msg("\"%s\": %s", c[i].expr, err);
        tz_t *tz = tz_load(c[i].zone, err, sizeof(err));
        if (!tz)
            fail_msg("%s: %s", c[i].zone, err);
        int64_t next = 0;
        int rc = cron_next_after(&spec, tz, iso_ms(c[i].after), &next);
        char got[TIME_ISO_LEN] = "none";
        if (rc == 0)
            time_format_iso(next, got);
        if (c[i].want ? (rc != 0 || next != iso_ms(c[i].want)) : rc != -1)
            fail_msg("\"%s\" in %s after %s: %s, want %s", c[i].expr, c[i].zone, c[i].after, got,
                     c[i].want ? c[i].want : "none");
        tz_free(tz);
    }
}

static void test_next_utc(void **state)
{
    (void)state;
    check_next(next_utc, sizeof(next_utc) / sizeof(next_utc[0]));
    /* a NULL zone is UTC */
    cron_spec_t spec;
    int64_t next;
    assert_int_equal(cron_parse("30 2 * * *", &spec, NULL, 0), 0);
    assert_int_equal(cron_next_after(&spec, NULL, iso_ms("2026-01-01T00:00:00.000Z"), &next), 0);
    assert_int_equal(next, iso_ms("2026-01-01T02:30:00.000Z"));
}

static void test_next_dst(void **state)
{
    (void)state;
    check_next(next_dst, sizeof(next_dst) / sizeof(next_dst[0]));
}

static void test_unknown_zone(void **state)
{
    (void)state;
    char err[128] = "";
    assert_null(tz_load("Mars/Olympus_Mons", err, sizeof(err)));
    assert_non_null(strstr(err, "Mars/Olympus_Mons"));
}

/* ---- cross-checks against minute-by-minute scans ---- */

static int matches(const cron_spec_t *s, int64_t wall)
{
    time_t tt = (time_t)wall;
    struct tm tm;
    gmtime_r(&tt, &tm); /* wall time written as UTC: libc's calendar, not cron.c's */
    int dom = (s->mdays >> tm.tm_mday) & 1, dow = (s->wdays >> tm.tm_wday) & 1;
    int day = (s->mday_star || s->wday_star) ? dom && dow : dom || dow;
    return ((s->minutes >> tm.tm_min) & 1) && ((s->hours >> tm.tm_hour) & 1) && ((s->months >> (tm.tm_mon + 1)) & 1) &&
           day;
}

/* Whether the job is due at the whole minute t, by Debian's rules stated directly. */
static int due_at(const cron_spec_t *s, const tz_t *tz, int64_t t)
{
    int64_t wall = t + tz_offset_at(tz, t);
    if (s->minute_star || s->hour_star)
        return matches(s, wall);
    if (matches(s, wall)) { /* unless that wall minute came already, before a fall back */
        for (int64_t k = 1; k <= 180; k++)
            if (t - 60 * k + tz_offset_at(tz, t - 60 * k) == wall)
                return 0;
        return 1;
    }
    int32_t ob = tz_offset_at(tz, t - 60), oa = tz_offset_at(tz, t); /* a jump forward just before t */
    if (oa > ob && oa - ob < 3 * 3600)
        for (int64_t w = t - 60 + ob + 60; w < wall; w += 60)
            if (matches(s, w))
                return 1;
    return 0;
}

static void test_next_against_scan(void **state)
{
    (void)state;
    static const char *const exprs[] = {
        "*/15 * * * *", "30 2 * * *", "0 2 * * *",  "0,30 1-3 * * *", "*/30 2 * * *",  "30 * * * *",  "45 1 * * *",
        "15 2 * * 0",   "0 0 13 * 5", "59 1 * * *", "0 3 * * *",      "*/7 1-3 * * *", "0 */2 * * *", "1-5 2 * * *",
    };
    static const struct {
        const char *zone, *from;
    } windows[] = {
        {"Europe/Berlin", "2026-03-28T12:00:00.000Z"},       {"Europe/Berlin", "2026-10-24T12:00:00.000Z"},
        {"America/New_York", "2026-03-07T12:00:00.000Z"},    {"America/New_York", "2026-10-31T12:00:00.000Z"},
        {"Australia/Lord_Howe", "2026-04-04T00:00:00.000Z"}, {"Australia/Lord_Howe", "2026-10-03T00:00:00.000Z"},
        {"Europe/Berlin", "2240-03-28T12:00:00.000Z"},       {"UTC", "2026-02-27T12:00:00.000Z"},
    };
    for (size_t z = 0; z < sizeof(windows) / sizeof(windows[0]); z++) {
        tz_t *tz = tz_load(windows[z].zone, NULL, 0);
        assert_non_null(tz);
        int64_t from = iso_ms(windows[z].from) / 1000;
        for (size_t e = 0; e < sizeof(exprs) / sizeof(exprs[0]); e++) {
            cron_spec_t spec;
            assert_int_equal(cron_parse(exprs[e], &spec, NULL, 0), 0);
            /* each due minute in two days, in order, and each next_after from 7 seconds past a
             * minute lands on the first due minute after it */
            int64_t want = -1;
            for (int64_t t = from + 2 * 86400; t >= from; t -= 60) {
                if (due_at(&spec, tz, t))
                    want = t;
                int64_t next;
                if (want < 0 || t - 60 + 7 < from)
                    continue;
                assert_int_equal(cron_next_after(&spec, tz, (t - 60 + 7) * 1000, &next), 0);
                if (next != want * 1000) {
                    char a[TIME_ISO_LEN], g[TIME_ISO_LEN], w[TIME_ISO_LEN];
                    time_format_iso((t - 60 + 7) * 1000, a);
                    time_format_iso(next, g);
                    time_format_iso(want * 1000, w);
                    fail_msg("\"%s\" in %s after %s: %s, want %s", exprs[e], windows[z].zone, a, g, w);
                }
            }
        }
        tz_free(tz);
    }
}

/* Years of never-matching schedules are searched by skipping days, not minutes. */
static void test_next_is_fast(void **state)
{
    (void)state;
    cron_spec_t spec;
    tz_t *tz = tz_load("Europe/Berlin", NULL, 0);
    assert_non_null(tz);
    assert_int_equal(cron_parse("0 0 30 2 *", &spec, NULL, 0), 0);
    clock_t start = clock();
    for (int i = 0; i < 200; i++) {
        int64_t next;
        assert_int_equal(cron_next_after(&spec, tz, iso_ms("2026-01-01T00:00:00.000Z") + i * 3600000LL, &next), -1);
    }
    double secs = (double)(clock() - start) / CLOCKS_PER_SEC;
    if (secs > 2.0)
        fail_msg("200 searches over 5 years took %.2f s", secs);
    tz_free(tz);
}

/* Answers that cannot be represented are "none", not overflow; random text never crashes. */
static void test_extremes_and_noise(void **state)
{
    (void)state;
    cron_spec_t spec;
    int64_t next;
    tz_t *tz = tz_load("Europe/Berlin", NULL, 0);
    assert_non_null(tz);
    assert_int_equal(cron_parse("* * * * *", &spec, NULL, 0), 0);
    assert_int_equal(cron_next_after(&spec, tz, INT64_MAX, &next), -1);
    assert_int_equal(cron_next_after(&spec, tz, INT64_MIN, &next), -1);
    assert_int_equal(cron_next_after(&spec, tz, -1, &next), 0);
    assert_int_equal(next, 0);
    tz_free(tz);

    static const char alphabet[] = "0123456789*/-, \tJANmonLW?#@";
    uint32_t seed = 42;
    char expr[32], err[160];
    for (int round = 0; round < 20000; round++) {
        size_t len = (size_t)(round % 31);
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            expr[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
        }
        expr[len] = '\0';
        if (cron_parse(expr, &spec, err, sizeof(err)) == 0) {
            assert_int_equal(spec.minutes >> 60, 0);
            assert_int_equal(spec.hours >> 24, 0);
            assert_int_equal(spec.mdays & 1, 0);
            assert_int_equal(spec.months & ~ALL_MONTHS, 0);
            assert_int_equal(spec.wdays & ~ALL_WDAYS, 0);
        } else {
            assert_true(err[0] != '\0');
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_ok),     cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_next_utc),     cmocka_unit_test(test_next_dst),
        cmocka_unit_test(test_unknown_zone), cmocka_unit_test(test_next_against_scan),
        cmocka_unit_test(test_next_is_fast), cmocka_unit_test(test_extremes_and_noise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
