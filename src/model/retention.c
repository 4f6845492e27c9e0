/* Retention rules of run history. */
#include "model/retention.h"

#define DAY_MS INT64_C(86400000)

retention_t retention_effective(const retention_t *ws, const retention_t *conn)
{
    retention_t p;
    p.days = conn->days != RETENTION_INHERIT ? conn->days : ws->days;
    p.keep_last = conn->keep_last != RETENTION_INHERIT ? conn->keep_last : ws->keep_last;
    p.failure_days = conn->failure_days != RETENTION_INHERIT ? conn->failure_days : ws->failure_days;
    if (p.days < 0)
        p.days = 0;
    if (p.keep_last < 0)
        p.keep_last = 0;
    if (p.failure_days < 0)
        p.failure_days = 0;
    return p;
}

int retention_active(const retention_t *p)
{
    return p->days > 0 || p->keep_last > 0;
}

static int is_failure(run_result_t r)
{
    return r == RESULT_ERROR || r == RESULT_CONFIG_ERROR || r == RESULT_TIMED_OUT;
}

int retention_keeps(const retention_t *p, int64_t now, const retention_run_t *r)
{
    if (!retention_active(p) || r->state != RUN_FINISHED || r->newest || r->last_success || r->last_watermark)
        return 1;
    int64_t days = p->days;
    if (is_failure(r->result) && p->failure_days > days)
        days = p->failure_days;
    return days > 0 && r->created_at > now - days * DAY_MS;
}
