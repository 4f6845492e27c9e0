/* Fuzzes cron_parse (a connection's "schedule") and, for what parses, cron_next_after in UTC and
 * Europe/Berlin from a few instants. Properties: the spec's bits lie in their fields' ranges; a
 * next time is a whole minute strictly after the instant and within the 5-year search; in UTC it
 * matches the spec and no earlier minute does (checked over the first day). */
#include <time.h>

#include "fuzz.h"
#include "model/cron.h"

static tz_t *berlin;

/* The zone is loaded once (it is immutable); a missing tzdata makes the Berlin half UTC. */
static const tz_t *zone_berlin(void)
{
    static int loaded;
    if (!loaded) {
        char err[128];
        berlin = tz_load("Europe/Berlin", err, sizeof(err));
        if (berlin == NULL)
            fprintf(stderr, "fuzz_cron: Europe/Berlin: %s (checking UTC only)\n", err);
        loaded = 1;
    }
    return berlin;
}

static int matches_utc(const cron_spec_t *s, int64_t sec)
{
    time_t t = (time_t)sec;
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL)
        return 0;
    int dom = (s->mdays >> tm.tm_mday) & 1, dow = (s->wdays >> tm.tm_wday) & 1;
    int day = (s->mday_star || s->wday_star) ? dom && dow : dom || dow;
    return ((s->minutes >> tm.tm_min) & 1) && ((s->hours >> tm.tm_hour) & 1) && ((s->months >> (tm.tm_mon + 1)) & 1) &&
           day;
}

static void check_next(const cron_spec_t *spec, const tz_t *tz, int64_t after)
{
    int64_t next = 0;
    if (cron_next_after(spec, tz, after, &next) != 0)
        return;
    FUZZ_CHECK(next > after);
    FUZZ_CHECK(next % 60000 == 0);
    FUZZ_CHECK(next - after <= INT64_C(5) * 366 * 86400000 + INT64_C(3) * 86400000);
    if (tz == NULL) {
        FUZZ_CHECK(matches_utc(spec, next / 1000));
        int64_t first = (after >= 0 ? after / 60000 : (after - 59999) / 60000) + 1; /* minutes */
        for (int64_t m = first; m < next / 60000 && m < first + 1440; m++)
            FUZZ_CHECK(!matches_utc(spec, m * 60));
    }
    /* and from there on: strictly later again */
    int64_t again = 0;
    if (cron_next_after(spec, tz, next, &again) == 0)
        FUZZ_CHECK(again > next);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *expr = fuzz_strndup(data, size);
    char err[256];
    cron_spec_t spec;
    memset(&spec, 0xa5, sizeof(spec));
    cron_spec_t before = spec;
    err[0] = '\0';
    if (cron_parse(expr, &spec, err, sizeof(err)) != 0) {
        FUZZ_CHECK(memcmp(&spec, &before, sizeof(spec)) == 0); /* untouched on error */
        FUZZ_CHECK(err[0] != '\0');
        FUZZ_CHECK(cron_parse(expr, &spec, NULL, 0) != 0); /* err may be NULL */
        free(expr);
        return 0;
    }
    free(expr);
    FUZZ_CHECK(spec.minutes != 0 && spec.minutes >> 60 == 0);
    FUZZ_CHECK(spec.hours != 0 && spec.hours >> 24 == 0);
    FUZZ_CHECK(spec.mdays != 0 && (spec.mdays & 1) == 0);
    FUZZ_CHECK(spec.months != 0 && (spec.months & 0xE001) == 0);
    FUZZ_CHECK(spec.wdays != 0 && spec.wdays >> 7 == 0);

    static const int64_t instants[] = {
        INT64_C(1711846800000), /* 2024-03-31T01:00:00Z, Berlin springs forward */
        INT64_C(1729990800000), /* 2024-10-27T01:00:00Z, Berlin falls back */
        INT64_C(1735689599999), /* 2024-12-31T23:59:59.999Z */
        INT64_C(0),
        INT64_C(-1),
    };
    for (size_t i = 0; i < sizeof(instants) / sizeof(instants[0]); i++) {
        check_next(&spec, NULL, instants[i]);
        check_next(&spec, zone_berlin(), instants[i]);
    }
    /* one instant picked by the input, from 1900 to 2100 */
    uint64_t seed = fuzz_hash(data, size);
    int64_t t = INT64_C(-2208988800000) + (int64_t)(fuzz_rand(&seed) % UINT64_C(6311433600000));
    check_next(&spec, NULL, t);
    check_next(&spec, zone_berlin(), t);
    return 0;
}
