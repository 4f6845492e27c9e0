/* Webhook events, delivery states and the retry schedule. */
#include "model/webhook.h"

#include <string.h>

const char *const webhook_event_names[] = {
    "run.failed", "run.recovered", "run.late", "run.duration", "watermark.stalled", "watermark.backwards", NULL,
};

int webhook_event_known(const char *name)
{
    for (int i = 0; webhook_event_names[i] != NULL; i++)
        if (strcmp(webhook_event_names[i], name) == 0)
            return 1;
    return 0;
}

static const char *const status_names[DELIVERY_STATUS_COUNT] = {"pending", "delivered", "failed", "dead"};

const char *delivery_status_name(delivery_status_t s)
{
    return (unsigned)s < DELIVERY_STATUS_COUNT ? status_names[s] : "unknown";
}

int delivery_status_parse(const char *s)
{
    for (int i = 0; i < DELIVERY_STATUS_COUNT; i++)
        if (strcmp(status_names[i], s) == 0)
            return i;
    return -1;
}

int64_t webhook_retry_next(const webhook_retry_t *p, int failed, int64_t created_at, int64_t now, double rnd)
{
    if (failed >= p->max_attempts)
        return 0;
    int64_t cap = p->base_ms > 0 ? p->base_ms : 1;
    for (int i = 1; i < failed && cap < p->cap_ms; i++)
        cap *= 2;
    if (cap > p->cap_ms)
        cap = p->cap_ms;
    if (rnd < 0 || rnd >= 1)
        rnd = 0;
    int64_t delay = (int64_t)(rnd * (double)(cap + 1));
    if (delay < 1)
        delay = 1;
    int64_t next = now + delay;
    if (p->window_ms > 0 && next - created_at > p->window_ms)
        return 0;
    return next;
}
