/* A cache of rendered finished runs. A finished run never changes, so what a dialect renders for
 * it never changes either: reads reuse earlier renderings instead of rebuilding the same JSON.
 * One cache per event-loop thread (no locks), bounded in memory; entries of live runs are never
 * stored. Keys include the run's version, so a stale entry can never be served. */
#ifndef SYNCRUN_API_RCACHE_H
#define SYNCRUN_API_RCACHE_H

#include <stddef.h>
#include <stdint.h>

typedef enum rcache_kind {
    RCACHE_CENSUS,
    RCACHE_BLUECONIC, /* a run of a BlueConic page (blueconic.c: led by the connection's name) */
    RCACHE_ITWIN_MIN, /* an iTwin run, return=minimal */
    RCACHE_ITWIN_REP, /* an iTwin run with its jobs and tasks (itwin.c: led by their size) */
    RCACHE_KINDS
} rcache_kind_t;

/* Per thread, at most this many bytes of renderings (then the oldest make room). */
#define RCACHE_MAX_BYTES (32 * 1024 * 1024)

/* The rendering of (kind, run_id, version) on this thread, or NULL. Valid until the next put. */
const char *rcache_get(rcache_kind_t kind, int64_t run_id, int64_t version, size_t *len);
/* Stores a copy of data for (kind, run_id, version). */
void rcache_put(rcache_kind_t kind, int64_t run_id, int64_t version, const char *data, size_t len);

#endif
