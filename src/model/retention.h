/* Retention of run history (pure): which policy a connection follows, and whether a run must be
 * kept. The store prunes a connection's oldest runs, in run_count order, up to the first run this
 * says to keep, so that the runs kept stay a gapless run_count range (the dialects page by it). */
#ifndef SYNCRUN_MODEL_RETENTION_H
#define SYNCRUN_MODEL_RETENTION_H

#include <stdint.h>

#include "model/run.h"

/* A connection's field with this value follows the workspace's. */
#define RETENTION_INHERIT (-1)

typedef struct retention {
    int64_t days;         /* keep runs created less than this many days ago; 0 = no age limit */
    int64_t keep_last;    /* keep the newest this many runs; 0 = no count limit */
    int64_t failure_days; /* keep failed runs (error, config_error, timed_out) this long if longer than days */
} retention_t;

/* Limits accepted for each field (days: 100 years). */
enum { RETENTION_DAYS_MAX = 36500, RETENTION_KEEP_LAST_MAX = 1000000000 };

/* The policy a connection follows: each of conn's fields, or the workspace's where conn's is
 * RETENTION_INHERIT. */
retention_t retention_effective(const retention_t *ws, const retention_t *conn);

/* 1 when p removes anything: it has an age or a count limit. The default (all 0) keeps everything. */
int retention_active(const retention_t *p);

/* What retention_keeps needs to know of a run. */
typedef struct retention_run {
    run_state_t state;
    run_result_t result;
    int64_t created_at;
    int newest;         /* within the connection's newest keep_last runs, or its newest run */
    int last_success;   /* the connection's newest successful run */
    int last_watermark; /* the connection's newest run with a watermark (last_timestamp_synced) */
} retention_run_t;

/* 1 when p keeps run r at time now (ms): a run is kept while any rule keeps it — not finished,
 * among the newest keep_last (or the newest run), the last success, the last watermark, younger than
 * days, or a failure younger than max(days, failure_days). With neither an age nor a count limit,
 * every run is kept. */
int retention_keeps(const retention_t *p, int64_t now, const retention_run_t *r);

#endif
