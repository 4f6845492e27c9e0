/* Expected runs, duration bounds and watermark checks: the arithmetic, without I/O. */
#include "model/expect.h"

#include <stddef.h>

const char *expect_zone(const connection_t *cn)
{
    if (cn->expect_interval_s > 0)
        return NULL;
    if (cn->expect_schedule != NULL)
        return cn->expect_timezone;
    return cn->schedule != NULL ? cn->timezone : NULL;
}

int expect_when_of(const connection_t *cn, cron_spec_t *spec, const tz_t *tz, expect_when_t *out)
{
    *out = (expect_when_t){0};
    out->grace_s = cn->expect_grace_s;
    if (cn->expect_interval_s > 0) {
        out->interval_s = cn->expect_interval_s;
        return 0;
    }
    const char *sched = cn->expect_schedule;
    if (sched == NULL && cn->schedule != NULL) {
        sched = cn->schedule;
        if (out->grace_s == 0)
            out->grace_s = EXPECT_OWN_GRACE_S;
    }
    if (sched == NULL || cron_parse(sched, spec, NULL, 0) != 0)
        return -1;
    out->spec = spec;
    out->tz = tz;
    return 0;
}

int64_t expect_deadline(const expect_when_t *e, int64_t anchor_ms)
{
    int64_t next = 0;
    if (e->interval_s > 0)
        next = anchor_ms + e->interval_s * 1000;
    else if (e->spec == NULL || cron_next_after(e->spec, e->tz, anchor_ms, &next) != 0)
        return 0;
    return next + (e->grace_s > 0 ? e->grace_s * 1000 : 0);
}

int expect_is_late(int64_t expected_by, int64_t late_since, int64_t now_ms)
{
    return expected_by > 0 && late_since == 0 && now_ms >= expected_by;
}

int expect_duration_check(int64_t min_s, int64_t max_s, int64_t duration_ms, int64_t *bound_s)
{
    if (min_s > 0 && duration_ms < min_s * 1000) {
        *bound_s = min_s;
        return -1;
    }
    if (max_s > 0 && duration_ms > max_s * 1000) {
        *bound_s = max_s;
        return 1;
    }
    return 0;
}

int expect_duration_applies(const run_t *r)
{
    return r->state == RUN_FINISHED && r->started_at > 0 && r->completed_at >= r->started_at &&
           (r->result == RESULT_SUCCESS || r->result == RESULT_PARTIAL);
}

unsigned expect_watermark_check(expect_wm_state_t *st, int64_t wm, int64_t completed_ms, int64_t stall_runs,
                                int64_t max_age_s)
{
    unsigned found = 0;
    if (wm == 0)
        return 0;
    if (st->last != 0) {
        if (wm < st->last)
            found |= EXPECT_WM_BACKWARDS;
        if (wm > st->last) {
            st->flat_runs = 0;
        } else {
            st->flat_runs++;
            if (stall_runs > 0 && st->flat_runs == stall_runs)
                found |= EXPECT_WM_STALLED;
        }
    }
    st->last = wm;
    if (max_age_s > 0 && completed_ms - wm > max_age_s * 1000)
        found |= EXPECT_WM_TOO_OLD;
    return found;
}

const char *run_flag_name(int i)
{
    static const char *const names[RUN_FLAG_COUNT] = {"run.late", "run.duration", "watermark.backwards",
                                                      "watermark.stalled"};
    return i >= 0 && i < RUN_FLAG_COUNT ? names[i] : NULL;
}
