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
/* Writes the ISO 8601 form of ms into out (TIME_ISO_LEN bytes). */
void time_format_iso(int64_t ms, char out[TIME_ISO_LEN]);
/* Parses "YYYY-MM-DDTHH:MM:SS[.fff...](Z|±HH:MM)"; returns 0 and sets *ms, or -1. */
int time_parse_iso(const char *s, int64_t *ms);

#endif
