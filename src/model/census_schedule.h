/* A connection's cron schedule as Census's sync schedule fields (schedule_frequency, schedule_day,
 * schedule_hour, schedule_minute, cron_expression). Pure: no I/O. */
#ifndef SYNCRUN_MODEL_CENSUS_SCHEDULE_H
#define SYNCRUN_MODEL_CENSUS_SCHEDULE_H

typedef struct census_schedule {
    const char *frequency; /* "never", "quarter_hourly", "hourly", "daily", "weekly" or "expression" */
    const char *day;       /* "Sunday".."Saturday" for weekly, else NULL */
    int hour, minute;      /* -1 when Census shows null */
    const char *cron;      /* the expression for "expression", else NULL (points into `cron`) */
} census_schedule_t;

/* Census's fields for schedule `cron` (NULL: no schedule, "never") in zone `tz` (NULL = UTC).
 * Census runs these frequencies in UTC, so only a schedule in UTC is named by one: "M * * * *" is
 * hourly at M, "0,15,30,45 * * * *" (or a step of 15) quarter_hourly, "M H * * *" daily at H:M,
 * "M H * * D" weekly on D at H:M (cron's macros count as their expansion). Anything else, an
 * unreadable schedule, or a zone other than UTC, is "expression" with the text as written. */
void census_schedule_of(const char *cron, const char *tz, census_schedule_t *out);

#endif
