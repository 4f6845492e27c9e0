/* Cron schedules as Debian's cron (Vixie cron 3.0 with Debian's patches) reads and runs them:
 * parsing the five fields into bitsets, and finding the next time a schedule is due in a zone. */
#include "model/cron.h"

#include "util/timeutil.h"

#include <stdio.h>
#include <string.h>

enum {
    CRON_SEARCH_DAYS = 5 * 365 + 2, /* "within 5 years", leap days included */
    CRON_DST_MAX = 3 * 3600,        /* cron treats clock jumps under 3 hours as DST changes */
};

typedef struct cron_field {
    const char *name;
    int lo, hi;               /* accepted values; day-of-week accepts 7 for Sunday */
    const char *const *names; /* three-letter names for lo, lo+1, ... or NULL */
} cron_field_t;

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
                                          "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const day_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

static const cron_field_t fields[5] = {
    {"minute", 0, 59, NULL},          {"hour", 0, 23, NULL},
    {"day-of-month", 1, 31, NULL},    {"month", 1, 12, month_names},
    {"day-of-week", 0, 7, day_names},
};

static const struct {
    const char *name, *expr;
} macros[] = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"}, {"@weekly", "0 0 * * 0"},
    {"@daily", "0 0 * * *"},  {"@midnight", "0 0 * * *"}, {"@hourly", "0 * * * *"},
};

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char lower(char c)
{
    if (c >= 'A' && c <= 'Z')
        return (char)(c - 'A' + 'a');
    return c;
}

/* One value at *sp: a number, or a name where the field has names. 0, or -1 with a message. */
static int parse_value(const cron_field_t *f, const char **sp, const char *end, int *out, char *err, size_t errlen)
{
    const char *s = *sp;
    if (s < end && *s >= '0' && *s <= '9') {
        long v = 0;
        for (; s < end && *s >= '0' && *s <= '9'; s++)
            if (v <= 1000)
                v = v * 10 + (*s - '0');
        if (v < f->lo || v > f->hi) {
            snprintf(err, errlen, "%s field: %.*s is out of range %d-%d", f->name, (int)(s - *sp), *sp, f->lo, f->hi);
            return -1;
        }
        *out = (int)v;
        *sp = s;
        return 0;
    }
    const char *w = s;
    while (w < end && is_alpha(*w))
        w++;
    if (f->names && w - s == 3) {
        for (int i = 0; f->names[i]; i++)
            if (lower(s[0]) == f->names[i][0] && lower(s[1]) == f->names[i][1] && lower(s[2]) == f->names[i][2]) {
                *out = f->lo + i;
                *sp = w;
                return 0;
            }
    }
    if (w == s)
        w = s < end ? s + 1 : s;
    if (w == s)
        snprintf(err, errlen, "%s field: a value is missing", f->name);
    else
        snprintf(err, errlen, "%s field: \"%.*s\" is not a %s", f->name, (int)(w - s), s,
                 f->names ? "number or a three-letter name" : "number");
    return -1;
}

/* A whole field [s, end): comma-separated items "*", "a", "a-b", each but "a" with "/step". */
static int parse_field(const cron_field_t *f, const char *s, const char *end, uint64_t *bits, char *err, size_t errlen)
{
    const char *start = s;
    *bits = 0;
    for (;;) {
        int a, b, step = 1, ranged = 1;
        if (s == end || *s == ',') {
            snprintf(err, errlen, "%s field: empty item in \"%.*s\"", f->name, (int)(end - start), start);
            return -1;
        }
        if (*s == '*') {
            a = f->lo;
            b = f->hi;
            s++;
        } else {
            if (parse_value(f, &s, end, &a, err, errlen))
                return -1;
            b = a;
            ranged = 0;
            if (s < end && *s == '-') {
                s++;
                if (parse_value(f, &s, end, &b, err, errlen))
                    return -1;
                if (b < a) {
                    snprintf(err, errlen, "%s field: range %d-%d goes backwards", f->name, a, b);
                    return -1;
                }
                ranged = 1;
            }
        }
        if (s < end && *s == '/') {
            const char *st = ++s;
            long v = 0;
            for (; s < end && *s >= '0' && *s <= '9'; s++)
                if (v <= 1000)
                    v = v * 10 + (*s - '0');
            if (!ranged) {
                snprintf(err, errlen, "%s field: a step needs a range or \"*\" before it", f->name);
                return -1;
            }
            if (s == st) {
                snprintf(err, errlen, "%s field: \"/\" needs a step number after it", f->name);
                return -1;
            }
            if (v < 1 || v > f->hi - f->lo + 1) {
                snprintf(err, errlen, "%s field: step %.*s is out of range 1-%d", f->name, (int)(s - st), st,
                         f->hi - f->lo + 1);
                return -1;
            }
            step = (int)v;
        }
        for (int v = a; v <= b; v += step)
            *bits |= (uint64_t)1 << v;
        if (s == end)
            return 0;
        if (*s != ',') {
            snprintf(err, errlen, "%s field: unexpected \"%c\" in \"%.*s\"", f->name, *s, (int)(end - start), start);
            return -1;
        }
        s++;
    }
}

int cron_parse(const char *expr, cron_spec_t *out, char *err, size_t errlen)
{
    char dummy[1];
    cron_spec_t spec;
    memset(&spec, 0, sizeof(spec));
    if (!err || !errlen) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    if (!expr) {
        snprintf(err, errlen, "schedule: missing");
        return -1;
    }
    while (is_space(*expr))
        expr++;
    if (*expr == '@') {
        size_t n = 0;
        while (expr[n] && !is_space(expr[n]))
            n++;
        const char *rest = expr + n;
        while (is_space(*rest))
            rest++;
        for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]); i++)
            if (strlen(macros[i].name) == n && memcmp(macros[i].name, expr, n) == 0) {
                if (*rest) {
                    snprintf(err, errlen, "schedule: unexpected text after %s", macros[i].name);
                    return -1;
                }
                return cron_parse(macros[i].expr, out, err, errlen);
            }
        if (n == 7 && memcmp(expr, "@reboot", 7) == 0)
            snprintf(err, errlen, "schedule: @reboot is not supported (jobs run on schedules, not at start-up)");
        else
            snprintf(err, errlen, "schedule: unknown macro \"%.*s\"", (int)(n > 20 ? 20 : n), expr);
        return -1;
    }

    const char *s = expr;
    for (int i = 0; i < 5; i++) {
        const cron_field_t *f = &fields[i];
        while (is_space(*s))
            s++;
        if (!*s) {
            snprintf(err, errlen, "%s field: missing (a schedule has five fields)", f->name);
            return -1;
        }
        const char *end = s;
        while (*end && !is_space(*end))
            end++;
        uint64_t bits;
        if (parse_field(f, s, end, &bits, err, errlen))
            return -1;
        int star = *s == '*';
        switch (i) {
        case 0:
            spec.minutes = bits;
            spec.minute_star = (uint8_t)star;
            break;
        case 1:
            spec.hours = (uint32_t)bits;
            spec.hour_star = (uint8_t)star;
            break;
        case 2:
            spec.mdays = (uint32_t)bits;
            spec.mday_star = (uint8_t)star;
            break;
        case 3:
            spec.months = (uint16_t)bits;
            break;
        default:
            spec.wdays = (uint8_t)((bits | bits >> 7) & 0x7f); /* 7 is Sunday too */
            spec.wday_star = (uint8_t)star;
        }
        s = end;
    }
    while (is_space(*s))
        s++;
    if (*s) {
        snprintf(err, errlen, "day-of-week field: unexpected text after it: \"%.20s\"", s);
        return -1;
    }
    if (out)
        *out = spec;
    return 0;
}

/* ---- next run ---- */

static int day_matches(const cron_spec_t *spec, int mday, int wday)
{
    int dom = (int)((spec->mdays >> mday) & 1u), dow = (int)((spec->wdays >> wday) & 1u);
    return (spec->mday_star || spec->wday_star) ? dom && dow : dom || dow;
}

/* The first wall-clock minute (local time written as if it were UTC, seconds) in [w, wend) that
 * the schedule matches: 0 with *found, or -1. Skips whole months, days and hours that cannot
 * match, so a search over years takes a few thousand steps. */
static int wall_search(const cron_spec_t *spec, int64_t w, int64_t wend, int64_t *found)
{
    w = time_floor_div(w + 59, 60) * 60;
    while (w < wend) {
        int64_t days = time_floor_div(w, 86400), y;
        int64_t sod = w - days * 86400;
        int m, d, hour = (int)(sod / 3600), min = (int)(sod % 3600 / 60);
        time_civil_from_days(days, &y, &m, &d);
        if (!((spec->months >> m) & 1)) {
            w = (m == 12 ? time_days_from_civil(y + 1, 1, 1) : time_days_from_civil(y, m + 1, 1)) * 86400;
            continue;
        }
        if (!day_matches(spec, d, (int)(days + 4 - time_floor_div(days + 4, 7) * 7))) { /* 1970-01-01: Thursday */
            w = (days + 1) * 86400;
            continue;
        }
        while (hour < 24 && !((spec->hours >> hour) & 1)) {
            hour++;
            min = 0;
        }
        while (hour < 24 && min < 60 && !((spec->minutes >> min) & 1))
            min++;
        if (hour >= 24 || min >= 60) {
            w = hour >= 24 ? (days + 1) * 86400 : days * 86400 + (int64_t)(hour + 1) * 3600;
            continue;
        }
        w = days * 86400 + (int64_t)hour * 3600 + (int64_t)min * 60;
        if (w >= wend)
            return -1;
        *found = w;
        return 0;
    }
    return -1;
}

int cron_next_after(const cron_spec_t *spec, const tz_t *tz, int64_t after_ms, int64_t *next_ms)
{
    /* Real time is cut into spans of constant UTC offset; within one, wall time runs with real time
     * and wall_search finds the first match. At a change of under 3 hours, Debian's cron runs the
     * jobs with a fixed time (neither minute nor hour "*") that fall in skipped wall time right
     * after a jump forward, and does not run them again in wall time repeated after a jump back;
     * jobs with "*" there just follow the wall clock. */
    if (after_ms > INT64_MAX - INT64_C(2) * CRON_SEARCH_DAYS * 86400000 || after_ms < INT64_MIN / 2)
        return -1; /* no representable answer; keeps the arithmetic below in range */
    int fixed = !(spec->minute_star || spec->hour_star);
    int64_t t = time_floor_div(after_ms, 60000) * 60 + 60; /* first candidate minute, seconds */
    int64_t limit = t + (int64_t)CRON_SEARCH_DAYS * 86400;
    int64_t wall_min = INT64_MIN, at, w;
    int32_t ob, oa;

    /* Did a change shortly before t leave us in repeated wall time, or is t the minute of a jump? */
    for (int64_t probe = t - CRON_DST_MAX - 60; tz_next_transition(tz, probe, &at, &ob, &oa) == 0 && at <= t;
         probe = at) {
        if (!fixed || (oa > ob ? oa - ob : ob - oa) >= CRON_DST_MAX)
            continue;
        if (oa < ob)
            wall_min = at + ob;
        else if (time_floor_div(at + 59, 60) * 60 == t && wall_search(spec, at + ob, at + oa, &w) == 0)
            goto found;
    }
    for (;;) {
        int32_t off = tz_offset_at(tz, t);
        int more = tz_next_transition(tz, t, &at, &ob, &oa) == 0 && at < limit;
        int64_t span_end = more ? at : limit;
        int64_t from = t + off > wall_min ? t + off : wall_min;
        if (wall_search(spec, from, span_end + off, &w) == 0) {
            t = time_floor_div(w - off + 59, 60) * 60; /* whole minutes even where the offset is not */
            goto found;
        }
        if (!more)
            return -1;
        t = time_floor_div(at + 59, 60) * 60;
        wall_min = INT64_MIN;
        if (fixed && (oa > ob ? oa - ob : ob - oa) < CRON_DST_MAX) {
            if (oa < ob)
                wall_min = at + ob; /* fall back: this wall time already came before the change */
            else if (wall_search(spec, at + ob, at + oa, &w) == 0)
                goto found; /* spring forward: due at the first minute after the jump */
        }
    }
found:
    *next_ms = t * 1000;
    return 0;
}
