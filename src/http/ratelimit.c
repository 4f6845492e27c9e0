/* Token buckets in a fixed-size hash table under one mutex: a take is a few hundred nanoseconds,
 * far below a request's cost. When the table fills (more than RL_SLOTS/2 distinct key x class
 * pairs since start) it is cleared, which only ever grants requests, never refuses them. */
#include "http/ratelimit.h"

#include <pthread.h>
#include <string.h>

enum { RL_SLOTS = 8192 };

typedef struct bucket {
    int64_t key_id; /* 0 = free slot */
    int cls;
    double tokens;
    int64_t updated_ms;
} bucket_t;

static bucket_t table[RL_SLOTS];
static int used;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static bucket_t *find(int64_t key_id, int cls, int64_t requests, int64_t now_ms)
{
    uint64_t h = ((uint64_t)key_id * 0x9e3779b97f4a7c15ULL) ^ ((uint64_t)cls * 0xc2b2ae3d27d4eb4fULL);
    for (;;) {
        for (size_t i = 0; i < RL_SLOTS; i++) {
            bucket_t *b = &table[(h + i) % RL_SLOTS];
            if (b->key_id == key_id && b->cls == cls)
                return b;
            if (b->key_id == 0) {
                if (used >= RL_SLOTS / 2)
                    break;
                used++;
                b->key_id = key_id;
                b->cls = cls;
                b->tokens = (double)requests;
                b->updated_ms = now_ms;
                return b;
            }
        }
        memset(table, 0, sizeof(table));
        used = 0;
    }
}

void ratelimit_take(int64_t key_id, int cls, int64_t requests, int64_t seconds, int64_t now_ms,
                    ratelimit_verdict_t *out)
{
    double rate = (double)requests / ((double)seconds * 1000.0); /* tokens per ms */
    pthread_mutex_lock(&mu);
    bucket_t *b = find(key_id, cls, requests, now_ms);
    if (now_ms > b->updated_ms) {
        b->tokens += (double)(now_ms - b->updated_ms) * rate;
        if (b->tokens > (double)requests)
            b->tokens = (double)requests;
        b->updated_ms = now_ms;
    }
    out->allowed = b->tokens >= 1.0;
    if (out->allowed)
        b->tokens -= 1.0;
    double tokens = b->tokens;
    pthread_mutex_unlock(&mu);

    out->limit = requests;
    out->remaining = (int64_t)tokens;
    out->reset_at = (now_ms + (int64_t)(((double)requests - tokens) / rate) + 999) / 1000;
    out->retry_after = out->allowed ? 0 : ((int64_t)((1.0 - tokens) / rate) + 999) / 1000;
    if (!out->allowed && out->retry_after < 1)
        out->retry_after = 1;
}
