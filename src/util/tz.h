/* IANA time zones, read from the system's TZif files (/usr/share/zoneinfo, Debian's tzdata):
 * thread-safe conversions between UTC instants and local wall-clock time, without touching the
 * process-wide TZ. */
#ifndef SYNCRUN_UTIL_TZ_H
#define SYNCRUN_UTIL_TZ_H

#include <stddef.h>
#include <stdint.h>

typedef struct tz tz_t;

enum { TZ_MAX_FILE = 256 * 1024 }; /* TZif files larger than this are refused */

/* Loads zone `name` ("Europe/Berlin", "UTC") from /usr/share/zoneinfo/<name>. NULL, with a message
 * in err, for an unknown or invalid name: names must be made of [A-Za-z0-9/_+-], must not start
 * with "/" nor contain "..". "UTC" and a NULL name give UTC without reading a file. The zone is
 * immutable: share it between threads freely. Free with tz_free. */
tz_t *tz_load(const char *name, char *err, size_t errlen);
/* Parses the TZif data (RFC 8536: version 1, or the 64-bit data and footer of versions 2+) of
 * `len` bytes, at most TZ_MAX_FILE; the caller keeps `data`. `name` is what tz_name will return.
 * NULL, with a message in err, for data that is not a well-formed TZif file. For tests and fuzzing;
 * tz_load is this on the file's content. */
tz_t *tz_parse(const char *name, const unsigned char *data, size_t len, char *err, size_t errlen);
void tz_free(tz_t *tz);
/* The name given to tz_load ("UTC" for a NULL zone). */
const char *tz_name(const tz_t *tz);

/* The UTC offset in seconds (east positive) in effect at the UTC instant `t` (seconds). NULL = UTC. */
int32_t tz_offset_at(const tz_t *tz, int64_t t);

/* The first instant strictly after `t` (seconds) at which the UTC offset changes: 0 with *at, and
 * the offsets just before and from then on in *off_before and *off_after; -1 when the offset never
 * changes again (NULL = UTC never changes). Changes of abbreviation or DST flag alone are skipped. */
int tz_next_transition(const tz_t *tz, int64_t t, int64_t *at, int32_t *off_before, int32_t *off_after);

#endif
