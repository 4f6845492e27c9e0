/* What a connection expects of its runs (when they come, how long they take, how the watermark
 * moves) and the checks against it. Pure: the store keeps the state these functions compute. */
#ifndef SYNCRUN_MODEL_EXPECT_H
#define SYNCRUN_MODEL_EXPECT_H

#include <stdint.h>

#include "model/cron.h"
#include "model/run.h"
#include "util/tz.h"

/* Limits of the expectation fields (seconds, runs). */
enum {
    EXPECT_INTERVAL_MAX_S = 366 * 86400,
    EXPECT_GRACE_MAX_S = 366 * 86400,
    EXPECT_DURATION_MAX_S = 366 * 86400,
    EXPECT_STALL_RUNS_MAX = 10000,
    EXPECT_AGE_MAX_S = 10 * 366 * 86400,
};

/* When runs are expected: every interval_s seconds, or at the times of a cron schedule in a zone
 * (spec and tz), or never (both unset). */
typedef struct expect_when {
    int64_t interval_s;      /* 0 = not by interval */
    const cron_spec_t *spec; /* NULL = not by schedule */
    const tz_t *tz;          /* the schedule's zone; NULL = UTC */
    int64_t grace_s;
} expect_when_t;

/* Grace of a connection that expects its own schedule and sets none: the scheduler fires a due
 * time within this (a time handled later counts as missed, exec/scheduler.c). */
enum { EXPECT_OWN_GRACE_S = 60 };

/* The zone name cn's expectation is evaluated in (NULL = UTC): the expected schedule's zone, or,
 * when it expects its own schedule, that schedule's. */
const char *expect_zone(const connection_t *cn);
/* What cn expects, into out (spec receives the parsed schedule; tz is the zone expect_zone named,
 * loaded by the caller, or NULL): an expected interval, else an expected schedule, else the
 * connection's own schedule (grace EXPECT_OWN_GRACE_S unless it sets one). 0 when it expects
 * something, -1 when nothing (or an unparsable schedule). */
int expect_when_of(const connection_t *cn, cron_spec_t *spec, const tz_t *tz, expect_when_t *out);

/* The time (ms) by which a run must have started, given the newest run (or, before the first, the
 * moment the expectation was set) at `anchor_ms`: the next expected time after the anchor (anchor
 * + interval, or the schedule's first time strictly after it) plus the grace. 0 when nothing is
 * expected (no interval and no schedule, or a schedule with no time in the next 5 years). */
int64_t expect_deadline(const expect_when_t *e, int64_t anchor_ms);

/* 1 when a connection whose deadline is expected_by (0 = none) and that is not late yet
 * (late_since 0) is late at now_ms: the deadline has passed and no run came. */
int expect_is_late(int64_t expected_by, int64_t late_since, int64_t now_ms);

/* Duration bounds (seconds; 0 = no bound). For a run that took duration_ms: -1 when it finished
 * faster than min_s, 1 when slower than max_s, 0 otherwise; *bound_s is set to the bound broken. */
int expect_duration_check(int64_t min_s, int64_t max_s, int64_t duration_ms, int64_t *bound_s);

/* Whether a run's duration is checked: it ran (started) and succeeded (success or partial). A
 * failure is reported as a failure; a run canceled or skipped says nothing about the sync's speed. */
int expect_duration_applies(const run_t *r);

/* The watermark of a connection's successful runs, as kept between them. */
typedef struct expect_wm_state {
    int64_t last;      /* the previous successful run's watermark (ms); 0 = none yet */
    int64_t flat_runs; /* successful runs in a row whose watermark did not advance past the one before */
} expect_wm_state_t;

enum {
    EXPECT_WM_BACKWARDS = 1 << 0, /* earlier than the previous successful run's */
    EXPECT_WM_STALLED = 1 << 1,   /* the stall_runs-th run in a row without advance */
    EXPECT_WM_TOO_OLD = 1 << 2,   /* older than max_age_s when the run completed */
};

/* Checks a successful run's watermark wm (ms; 0 = the run reported none, which checks nothing and
 * changes nothing) completed at completed_ms against st, and moves st on (last = wm; flat_runs
 * counts runs whose watermark is not later than the previous one, and restarts at an advance).
 * stall_runs 0 / max_age_s 0 turn those checks off. Stalled is reported once per streak: on the
 * run that makes it stall_runs long. Returns a mask of EXPECT_WM_*. */
unsigned expect_watermark_check(expect_wm_state_t *st, int64_t wm, int64_t completed_ms, int64_t stall_runs,
                                int64_t max_age_s);

/* Run flags (bits of run_t.flags): what the checks found about a run, named by the alert each one
 * raised. */
typedef enum run_flag {
    RUN_FLAG_LATE = 1 << 0,     /* run.late: started, not finished within the maximum duration */
    RUN_FLAG_DURATION = 1 << 1, /* run.duration */
    RUN_FLAG_WM_BACKWARDS = 1 << 2,
    RUN_FLAG_WM_STALLED = 1 << 3,
} run_flag_t;
enum { RUN_FLAG_COUNT = 4 };

/* The name of flag bit i (0..RUN_FLAG_COUNT-1): "run.late", "run.duration", "watermark.backwards",
 * "watermark.stalled". */
const char *run_flag_name(int i);

#endif
