/* Webhooks as a model: the events a webhook may ask for, the states of a delivery, and the retry
 * schedule (exponential backoff with full jitter). Pure: no I/O. */
#ifndef SYNCRUN_MODEL_WEBHOOK_H
#define SYNCRUN_MODEL_WEBHOOK_H

#include <stdint.h>

/* The alert events a webhook may subscribe to, and the one it may only be sent (a test). */
#define WEBHOOK_EVENT_TEST "webhook.test"
extern const char *const webhook_event_names[]; /* NULL-terminated */
/* 1 when name is one of webhook_event_names. */
int webhook_event_known(const char *name);

typedef enum delivery_status {
    DELIVERY_PENDING,   /* waiting for its first attempt */
    DELIVERY_DELIVERED, /* an attempt was answered 2xx */
    DELIVERY_FAILED,    /* the last attempt failed; another is due at next_attempt_at */
    DELIVERY_DEAD,      /* given up: out of attempts or time, or its webhook was disabled or deleted */
    DELIVERY_STATUS_COUNT
} delivery_status_t;

const char *delivery_status_name(delivery_status_t s);
/* The status named s, or -1. */
int delivery_status_parse(const char *s);

/* The retry policy: the delay before retry n (n = failed attempts so far, from 1) is drawn uniformly
 * from [0, min(base_ms * 2^(n-1), cap_ms)] (full jitter), at least 1 ms; a delivery is given up after
 * max_attempts attempts or when its next attempt would fall more than window_ms after it was made. */
typedef struct webhook_retry {
    int64_t base_ms, cap_ms, window_ms;
    int max_attempts;
} webhook_retry_t;

#define WEBHOOK_RETRY_DEFAULT                                                                                          \
    {                                                                                                                  \
        5000, 3600000, 3 * 86400000LL, 100                                                                             \
    }

/* The time of the next attempt after `failed` failed attempts of a delivery made at created_at, the
 * last one ending at now; rnd is a uniform random number in [0, 1). 0 when the delivery is given up. */
int64_t webhook_retry_next(const webhook_retry_t *p, int failed, int64_t created_at, int64_t now, double rnd);

#endif
