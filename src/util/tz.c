/* Time zones from TZif files (RFC 8536): transitions and local time types, plus the POSIX TZ
 * string of the footer for instants after the last transition. No global state: a loaded zone is
 * immutable and every function is safe to call from any thread. */
#include "util/tz.h"

#include "util/timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TZ_DIR "/usr/share/zoneinfo/"

enum {
    TZ_NAME_MAX = 255,    /* longest accepted zone name */
    TZ_FOOTER_MAX = 255,  /* longest accepted POSIX TZ string */
    TZ_HEADER_LEN = 44,   /* "TZif", version, 15 reserved bytes, six 32-bit counts */
    TZ_RULE_HOURS = 167,  /* v3 allows rule times of -167..167 hours */
    TZ_OFFSET_HOURS = 24, /* POSIX offsets are at most 24 hours */
};

/* When a DST rule applies within a year: Jn (1-365, February 29 never counted), n (0-365, counted)
 * or Mm.w.d (day d of week w of month m, week 5 = the last), at `secs` local time. */
typedef struct tz_rule_date {
    char kind; /* 'J', 'D' (plain day number) or 'M' */
    int n, m, w, d;
    int32_t secs;
} tz_rule_date_t;

typedef struct tz_posix {
    int32_t std_off; /* east positive, unlike the POSIX text */
    int32_t dst_off;
    int has_dst;
    tz_rule_date_t start, end; /* DST starts (in standard time) and ends (in DST) */
} tz_posix_t;

struct tz {
    char name[TZ_NAME_MAX + 1];
    size_t ntrans;
    int64_t *trans;      /* ascending */
    uint8_t *trans_type; /* index into type_off */
    size_t ntypes;
    int32_t *type_off;
    int has_footer;
    tz_posix_t footer;
};

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

static int64_t year_of_days(int64_t days)
{
    int64_t y;
    int m, d;
    time_civil_from_days(days, &y, &m, &d);
    return y;
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
    static const int len[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return len[m - 1] + (m == 2 && is_leap(y));
}

/* ---- POSIX TZ strings ("CET-1CEST,M3.5.0,M10.5.0/3") ---- */

static int posix_name(const char **sp)
{
    const char *s = *sp;
    size_t n = 0;
    if (*s == '<') {
        for (s++; *s && *s != '>'; s++, n++)
            if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '+' ||
                  *s == '-'))
                return -1;
        if (*s != '>')
            return -1;
        s++;
    } else {
        for (; (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z'); s++)
            n++;
    }
    if (n < 3)
        return -1;
    *sp = s;
    return 0;
}

static int posix_num(const char **sp, int max, int *out)
{
    const char *s = *sp;
    int v = 0;
    if (*s < '0' || *s > '9')
        return -1;
    for (; *s >= '0' && *s <= '9'; s++) {
        v = v * 10 + (*s - '0');
        if (v > max)
            return -1;
    }
    *sp = s;
    *out = v;
    return 0;
}

/* [+-]hh[:mm[:ss]] in seconds. */
static int posix_time(const char **sp, int max_hours, int32_t *out)
{
    const char *s = *sp;
    int sign = 1, h, m = 0, sec = 0;
    if (*s == '+' || *s == '-')
        sign = *s++ == '-' ? -1 : 1;
    if (posix_num(&s, max_hours, &h))
        return -1;
    if (*s == ':') {
        s++;
        if (posix_num(&s, 59, &m))
            return -1;
        if (*s == ':') {
            s++;
            if (posix_num(&s, 59, &sec))
                return -1;
        }
    }
    *sp = s;
    *out = sign * (h * 3600 + m * 60 + sec);
    return 0;
}

static int posix_rule(const char **sp, tz_rule_date_t *r)
{
    const char *s = *sp;
    memset(r, 0, sizeof(*r));
    if (*s == 'M') {
        s++;
        r->kind = 'M';
        if (posix_num(&s, 12, &r->m) || r->m < 1 || *s++ != '.' || posix_num(&s, 5, &r->w) || r->w < 1 || *s++ != '.' ||
            posix_num(&s, 6, &r->d))
            return -1;
    } else if (*s == 'J') {
        s++;
        r->kind = 'J';
        if (posix_num(&s, 365, &r->n) || r->n < 1)
            return -1;
    } else {
        r->kind = 'D';
        if (posix_num(&s, 365, &r->n))
            return -1;
    }
    r->secs = 7200;
    if (*s == '/') {
        s++;
        if (posix_time(&s, TZ_RULE_HOURS, &r->secs))
            return -1;
    }
    *sp = s;
    return 0;
}

/* Parses a NUL-terminated POSIX TZ string; 0 or -1. */
static int posix_parse(const char *s, tz_posix_t *p)
{
    int32_t v;
    memset(p, 0, sizeof(*p));
    if (posix_name(&s) || posix_time(&s, TZ_OFFSET_HOURS, &v))
        return -1;
    p->std_off = -v;
    if (*s == '\0')
        return 0;
    if (posix_name(&s))
        return -1;
    p->has_dst = 1;
    p->dst_off = p->std_off + 3600;
    if (*s != ',' && *s != '\0') {
        if (posix_time(&s, TZ_OFFSET_HOURS, &v))
            return -1;
        p->dst_off = -v;
    }
    if (*s == '\0') { /* no rules: POSIX leaves them to the implementation; use the US ones, as glibc */
        p->start = (tz_rule_date_t){.kind = 'M', .m = 3, .w = 2, .d = 0, .secs = 7200};
        p->end = (tz_rule_date_t){.kind = 'M', .m = 11, .w = 1, .d = 0, .secs = 7200};
        return 0;
    }
    if (*s++ != ',' || posix_rule(&s, &p->start) || *s++ != ',' || posix_rule(&s, &p->end) || *s != '\0')
        return -1;
    return 0;
}

/* The day (days since the epoch) on which rule r falls in year y. */
static int64_t rule_day(const tz_rule_date_t *r, int64_t y)
{
    int64_t jan1 = time_days_from_civil(y, 1, 1);
    switch (r->kind) {
    case 'J':
        return jan1 + r->n - 1 + (is_leap(y) && r->n >= 60);
    case 'D':
        return jan1 + r->n;
    default: {
        int64_t first = time_days_from_civil(y, r->m, 1);
        int wday_first = (int)((first % 7 + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
        int64_t day = (r->d - wday_first + 7) % 7 + (int64_t)(r->w - 1) * 7;
        while (day >= month_days(y, r->m))
            day -= 7;
        return first + day;
    }
    }
}

/* The UTC instants at which DST starts and ends in year y. */
static void posix_year(const tz_posix_t *p, int64_t y, int64_t *start, int64_t *end)
{
    *start = rule_day(&p->start, y) * 86400 + p->start.secs - p->std_off;
    *end = rule_day(&p->end, y) * 86400 + p->end.secs - p->dst_off;
}

static int32_t posix_offset_at(const tz_posix_t *p, int64_t t)
{
    if (!p->has_dst)
        return p->std_off;
    const int64_t far = INT64_C(1) << 53; /* some 285 million years: keeps the calendar math in range */
    t = t < -far ? -far : t > far ? far : t;
    int64_t start, end;
    posix_year(p, year_of_days(time_floor_div(t + p->std_off, 86400)), &start, &end);
    int dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
    return dst ? p->dst_off : p->std_off;
}

/* ---- TZif ---- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

typedef struct tzif_counts {
    uint32_t isut, isstd, leap, time, type, chars;
} tzif_counts_t;

/* Reads the header at data[0..len) and returns the size of the data block that follows it (with
 * 4- or 8-byte times), or 0 when the header is bad or the block does not fit in len. */
static uint64_t tzif_header(const unsigned char *data, size_t len, int timesize, tzif_counts_t *c)
{
    if (len < TZ_HEADER_LEN || memcmp(data, "TZif", 4) != 0)
        return 0;
    c->isut = be32(data + 20);
    c->isstd = be32(data + 24);
    c->leap = be32(data + 28);
    c->time = be32(data + 32);
    c->type = be32(data + 36);
    c->chars = be32(data + 40);
    if (c->type == 0 || c->type > 256 || (c->isut && c->isut != c->type) || (c->isstd && c->isstd != c->type))
        return 0;
    uint64_t need = (uint64_t)c->time * (uint64_t)(timesize + 1) + (uint64_t)c->type * 6 + c->chars +
                    (uint64_t)c->leap * (uint64_t)(timesize + 4) + c->isstd + c->isut;
    if (need > len - TZ_HEADER_LEN)
        return 0;
    return need;
}

void tz_free(tz_t *tz)
{
    if (!tz)
        return;
    free(tz->trans);
    free(tz->trans_type);
    free(tz->type_off);
    free(tz);
}

static tz_t *tz_new(const char *name)
{
    tz_t *tz = calloc(1, sizeof(*tz));
    if (tz)
        snprintf(tz->name, sizeof(tz->name), "%s", name ? name : "UTC");
    return tz;
}

tz_t *tz_parse(const char *name, const unsigned char *data, size_t len, char *err, size_t errlen)
{
    tz_t *tz = NULL;
    const char *why = "not a TZif file, or its counts do not fit its size";
    tzif_counts_t c;
    int timesize = 4;

    if (!data || len > TZ_MAX_FILE) {
        why = "TZif file too large";
        goto out;
    }
    uint64_t block = tzif_header(data, len, 4, &c);
    if (!block)
        goto out;
    if (data[4] >= '2') { /* skip the 32-bit data: versions 2+ repeat it with 64-bit times */
        data += TZ_HEADER_LEN + block;
        len -= TZ_HEADER_LEN + block;
        timesize = 8;
        block = tzif_header(data, len, 8, &c);
        if (!block)
            goto out;
    } else if (data[4] != '\0') {
        goto out;
    }

    tz = tz_new(name);
    if (!tz) {
        why = "out of memory";
        goto out;
    }
    tz->ntrans = c.time;
    tz->ntypes = c.type;
    tz->trans = calloc(c.time ? c.time : 1, sizeof(*tz->trans));
    tz->trans_type = calloc(c.time ? c.time : 1, 1);
    tz->type_off = calloc(c.type, sizeof(*tz->type_off));
    if (!tz->trans || !tz->trans_type || !tz->type_off) {
        why = "out of memory";
        goto fail;
    }
    const unsigned char *p = data + TZ_HEADER_LEN;
    for (size_t i = 0; i < c.time; i++, p += timesize) {
        tz->trans[i] = timesize == 8 ? be64(p) : (int64_t)(int32_t)be32(p);
        if (i && tz->trans[i] <= tz->trans[i - 1]) {
            why = "TZif transitions out of order";
            goto fail;
        }
    }
    for (size_t i = 0; i < c.time; i++, p++) {
        if (*p >= c.type) {
            why = "TZif transition names a missing type";
            goto fail;
        }
        tz->trans_type[i] = *p;
    }
    for (size_t i = 0; i < c.type; i++, p += 6) {
        int32_t off = (int32_t)be32(p);
        if (off < -25 * 3600 || off > 26 * 3600) {
            why = "TZif type has an offset out of range";
            goto fail;
        }
        tz->type_off[i] = off;
    }

    if (timesize == 8) { /* the footer: "\n" POSIX-TZ-string "\n" right after the data block */
        const unsigned char *f = data + TZ_HEADER_LEN + block, *end = data + len;
        const unsigned char *nl = f < end && *f == '\n' ? memchr(f + 1, '\n', (size_t)(end - f - 1)) : NULL;
        char footer[TZ_FOOTER_MAX + 1];
        if (!nl || (size_t)(nl - f - 1) > TZ_FOOTER_MAX) {
            why = "TZif footer missing or too long";
            goto fail;
        }
        memcpy(footer, f + 1, (size_t)(nl - f - 1));
        footer[nl - f - 1] = '\0';
        if (footer[0]) {
            if (posix_parse(footer, &tz->footer)) {
                why = "TZif footer is not a POSIX TZ string";
                goto fail;
            }
            tz->has_footer = 1;
        }
    }
    return tz;

fail:
    tz_free(tz);
    tz = NULL;
out:
    set_err(err, errlen, why);
    return tz;
}

static int name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > TZ_NAME_MAX || name[0] == '/' || strstr(name, ".."))
        return 0;
    for (const char *s = name; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '/' ||
              *s == '_' || *s == '+' || *s == '-'))
            return 0;
    return 1;
}

tz_t *tz_load(const char *name, char *err, size_t errlen)
{
    tz_t *tz = NULL;
    unsigned char *buf = NULL;
    int fd = -1;
    char path[sizeof(TZ_DIR) + TZ_NAME_MAX + 1];
    struct stat st;

    if (!name || strcmp(name, "UTC") == 0) {
        tz = tz_new("UTC");
        if (!tz)
            set_err(err, errlen, "out of memory");
        return tz;
    }
    if (!name_ok(name)) {
        set_err(err, errlen, "invalid time zone name");
        return NULL;
    }
    snprintf(path, sizeof(path), "%s%s", TZ_DIR, name);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (err && errlen)
            snprintf(err, errlen, "unknown time zone \"%s\"", name);
        goto out;
    }
    if (st.st_size > TZ_MAX_FILE) {
        set_err(err, errlen, "TZif file too large");
        goto out;
    }
    size_t size = (size_t)st.st_size, got = 0;
    buf = malloc(size ? size : 1);
    if (!buf) {
        set_err(err, errlen, "out of memory");
        goto out;
    }
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    tz = tz_parse(name, buf, got, err, errlen);
out:
    if (fd >= 0)
        close(fd);
    free(buf);
    return tz;
}

const char *tz_name(const tz_t *tz)
{
    return tz ? tz->name : "UTC";
}

/* The offset in force at t; whether the footer rule governs t. */
int32_t tz_offset_at(const tz_t *tz, int64_t t)
{
    if (!tz)
        return 0;
    if (tz->ntrans == 0)
        return tz->has_footer ? posix_offset_at(&tz->footer, t) : (tz->ntypes ? tz->type_off[0] : 0);
    if (t < tz->trans[0])
        return tz->type_off[0]; /* RFC 8536: type 0 before the first transition */
    if (t >= tz->trans[tz->ntrans - 1] && tz->has_footer)
        return posix_offset_at(&tz->footer, t);
    size_t lo = 0, hi = tz->ntrans; /* the last transition <= t is in [lo, hi) */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->trans[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return tz->type_off[tz->trans_type[lo]];
}

/* The first footer transition after t (and after the last listed one), or -1. */
static int footer_next(const tz_t *tz, int64_t t, int64_t *at)
{
    if (!tz->has_footer || !tz->footer.has_dst)
        return -1;
    const int64_t far = INT64_C(1) << 53;
    if (t < -far || t > far)
        return -1;
    int64_t floor_t = tz->ntrans && tz->trans[tz->ntrans - 1] > t ? tz->trans[tz->ntrans - 1] : t;
    int64_t y = year_of_days(time_floor_div(floor_t, 86400));
    int64_t best = INT64_MAX;
    for (int64_t yy = y - 1; yy <= y + 1; yy++) {
        int64_t s, e;
        posix_year(&tz->footer, yy, &s, &e);
        if (s > floor_t && s < best)
            best = s;
        if (e > floor_t && e < best)
            best = e;
    }
    if (best == INT64_MAX)
        return -1;
    *at = best;
    return 0;
}

int tz_next_transition(const tz_t *tz, int64_t t, int64_t *at, int32_t *off_before, int32_t *off_after)
{
    if (!tz)
        return -1;
    /* Candidates in order: listed transitions after t, then the footer's. Some do not change the
     * offset (only the abbreviation or DST flag, or a footer rule that keeps DST all year): skip
     * them. Bounded: a footer that changes nothing within a few candidates never will. */
    size_t lo = 0, hi = tz->ntrans; /* first listed transition > t */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->trans[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    int footer_tries = 0;
    for (;;) {
        int64_t cand;
        if (lo < tz->ntrans) {
            cand = tz->trans[lo++];
        } else {
            if (footer_tries++ >= 8 || footer_next(tz, t, &cand))
                return -1;
        }
        int32_t before = tz_offset_at(tz, cand - 1), after = tz_offset_at(tz, cand);
        if (before != after) {
            *at = cand;
            *off_before = before;
            *off_after = after;
            return 0;
        }
        t = cand;
    }
}
