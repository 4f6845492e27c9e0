/* Wall-clock time as milliseconds since the Unix epoch, and its ISO 8601 form
 * (always UTC with milliseconds, as the vendor APIs show: 2021-10-20T02:51:07.546Z). */
#ifndef SYNCRUN_UTIL_TIMEUTIL_H
#define SYNCRUN_UTIL_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

enum { TIME_ISO_LEN = 25 }; /* "YYYY-MM-DDTHH:MM:SS.mmmZ" + NUL */

int64_t time_now_ms(void);
/* Monotonic milliseconds, for deadlines. */
int64_t time_mono_ms(void);
struct timespec;
/* The wall-clock time ms milliseconds from now, as pthread_cond_timedwait takes its deadline. */
void time_deadline_in(struct timespec *out, int64_t ms);
/* Writes the ISO 8601 form of ms into out (TIME_ISO_LEN bytes). */
void time_format_iso(int64_t ms, char out[TIME_ISO_LEN]);
/* Calendar arithmetic (proleptic Gregorian, Howard Hinnant's algorithms), shared by the time
 * formats, the time zones and cron. Days count from 1970-01-01; months are 1-12. */
int64_t time_floor_div(int64_t a, int64_t b);
int64_t time_days_from_civil(int64_t y, int m, int d);
void time_civil_from_days(int64_t days, int64_t *y, int *m, int *d);

/* Parses "YYYY-MM-DDTHH:MM:SS[.fff...](Z|±HH:MM)"; returns 0 and sets *ms, or -1. */
int time_parse_iso(const char *s, int64_t *ms);

#endif
