/* IANA time zones, read from the system's TZif files (/usr/share/zoneinfo, Debian's tzdata):
 * thread-safe conversions between UTC instants and local wall-clock time, without touching the
 * process-wide TZ. */
#ifndef SYNCRUN_UTIL_TZ_H
#define SYNCRUN_UTIL_TZ_H

#include <stddef.h>
#include <stdint.h>

typedef struct tz tz_t;

/* Loads zone `name` ("Europe/Berlin", "UTC"). NULL, with a message in err, for an unknown or
 * invalid name (names with ".." or a leading "/" are refused). Free with tz_free. */
tz_t *tz_load(const char *name, char *err, size_t errlen);
void tz_free(tz_t *tz);
const char *tz_name(const tz_t *tz);

/* The UTC offset in seconds (east positive) in effect at the UTC instant `t` (seconds). NULL = UTC. */
int32_t tz_offset_at(const tz_t *tz, int64_t t);

#endif
