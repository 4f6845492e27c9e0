/* Cron schedule -> Census sync schedule fields. */
#include "model/census_schedule.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "model/cron.h"

enum {
    ALL_HOURS = 0xFFFFFF, /* bits 0..23 */
    ALL_MONTHS = 0x1FFE,  /* bits 1..12 */
};

static const char *const census_days[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                           "Thursday", "Friday", "Saturday"};

/* The index of the only bit set in v, or -1 when none or several are. */
static int only_bit(uint64_t v)
{
    if (v == 0 || (v & (v - 1)) != 0)
        return -1;
    int i = 0;
    while ((v >> i) != 1)
        i++;
    return i;
}

static int is_utc(const char *tz)
{
    return tz == NULL || strcmp(tz, "UTC") == 0 || strcmp(tz, "Etc/UTC") == 0;
}

void census_schedule_of(const char *cron, const char *tz, census_schedule_t *out)
{
    *out = (census_schedule_t){"never", NULL, -1, -1, NULL};
    if (cron == NULL)
        return;
    *out = (census_schedule_t){"expression", NULL, -1, -1, cron};
    cron_spec_t s;
    if (!is_utc(tz) || cron_parse(cron, &s, NULL, 0) != 0 || s.months != ALL_MONTHS || !s.mday_star)
        return;
    const uint64_t quarters = (1ULL << 0) | (1ULL << 15) | (1ULL << 30) | (1ULL << 45);
    int minute = only_bit(s.minutes), hour = only_bit(s.hours), day = only_bit(s.wdays);
    if (s.hours == ALL_HOURS && s.wday_star && s.minutes == quarters) {
        *out = (census_schedule_t){"quarter_hourly", NULL, -1, -1, NULL};
    } else if (minute >= 0 && s.hours == ALL_HOURS && s.wday_star) {
        *out = (census_schedule_t){"hourly", NULL, -1, minute, NULL};
    } else if (minute >= 0 && hour >= 0 && s.wday_star) {
        *out = (census_schedule_t){"daily", NULL, hour, minute, NULL};
    } else if (minute >= 0 && hour >= 0 && day >= 0 && day < 7) {
        *out = (census_schedule_t){"weekly", census_days[day], hour, minute, NULL};
    }
}
