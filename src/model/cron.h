/* Cron schedules as Debian's cron reads them: five fields (minute hour day-of-month month
 * day-of-week) with lists, ranges, steps and names, or @hourly/@daily/@midnight/@weekly/@monthly/
 * @yearly/@annually; evaluated in UTC or an IANA time zone with cron's DST rules. Pure: the only
 * input besides arguments is the zone's rules (see util/tz.h). */
#ifndef SYNCRUN_MODEL_CRON_H
#define SYNCRUN_MODEL_CRON_H

#include <stddef.h>
#include <stdint.h>

#include "util/tz.h"

typedef struct cron_spec {
    uint64_t minutes; /* bit m for minute m (0-59) */
    uint32_t hours;   /* bit h (0-23) */
    uint32_t mdays;   /* bit d (1-31) */
    uint16_t months;  /* bit m (1-12) */
    uint8_t wdays;    /* bit w (0-6, Sunday = 0; 7 in the text means Sunday too) */
    /* As in Debian's cron, a field counts as "*" when its text starts with '*', so a step on "*"
     * counts too. The day flags choose AND or OR; minute_star or hour_star set make the job
     * follow real time across DST changes. */
    uint8_t mday_star;   /* day-of-month field was "*" (then only day-of-week restricts days) */
    uint8_t wday_star;   /* day-of-week field was "*" */
    uint8_t minute_star; /* minute field was "*" */
    uint8_t hour_star;   /* hour field was "*" */
} cron_spec_t;

/* Parses expr: five fields of "*", numbers, ranges "a-b", steps "* /n" and "a-b/n" (without the
 * space), comma lists, jan-dec and sun-sat in any case (0 and 7 are Sunday); or one of the macros
 * above. Returns 0 and fills *out, or -1 with a message naming the bad field in err (err may be
 * NULL) and *out untouched. @reboot, Quartz extensions (L, W, #, ?) and a sixth field are refused. */
int cron_parse(const char *expr, cron_spec_t *out, char *err, size_t errlen);

/* The first time (ms since the epoch, whole minutes) strictly after `after_ms` at which the job is
 * due in zone `tz` (NULL = UTC). Day-of-month and day-of-week are OR-ed when both are restricted,
 * as cron does. Across DST changes of under 3 hours (larger jumps are clock changes to cron): a job
 * with a fixed time (neither minute_star nor hour_star) whose local time does not exist (spring
 * forward) is due at the first minute after the jump; a fixed local time that happens twice (fall
 * back) is due only the first time; jobs with minute_star or hour_star follow the wall clock, with
 * no catch-up and no dedupe. Returns 0, or -1 when there is no such time within the next 5 years
 * (e.g. "0 0 30 2 *"). The zone is only read: calls may run in parallel. */
int cron_next_after(const cron_spec_t *spec, const tz_t *tz, int64_t after_ms, int64_t *next_ms);

#endif
