/* Token-bucket rate limits per API key and dialect, shared by all loop threads. */
#ifndef SYNCRUN_HTTP_RATELIMIT_H
#define SYNCRUN_HTTP_RATELIMIT_H

#include <stdint.h>

typedef struct ratelimit_verdict {
    int allowed;
    int64_t limit;       /* bucket size: requests per window */
    int64_t remaining;   /* whole tokens left after this request */
    int64_t reset_at;    /* Unix seconds when the bucket is full again */
    int64_t retry_after; /* seconds until one token is back (when refused) */
} ratelimit_verdict_t;

/* Takes one token from the bucket of (key, class), a class being one configured limit of `requests`
 * per `seconds`. Buckets start full. Thread-safe. */
void ratelimit_take(int64_t key_id, int cls, int64_t requests, int64_t seconds, int64_t now_ms,
                    ratelimit_verdict_t *out);

#endif
