/* Per-thread open-addressing hash of renderings with FIFO eviction by bytes. The table is a
 * thread-specific value freed when the thread exits. */
#include "api/rcache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { SLOTS = 1 << 16 }; /* power of two; more than fit in RCACHE_MAX_BYTES at ~600 B each */

typedef struct entry {
    int64_t run_id, version; /* run_id 0 = empty */
    int kind;
    uint32_t len;
    char *data;
    uint64_t seq; /* insertion order, for eviction */
} entry_t;

typedef struct cache {
    entry_t slots[SLOTS];
    size_t bytes, count;
    uint64_t seq;
    uint32_t evict_hand;
} cache_t;

static pthread_key_t key;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void cache_free(void *p)
{
    cache_t *c = p;
    for (size_t i = 0; i < SLOTS; i++)
        free(c->slots[i].data);
    free(c);
}

static void make_key(void)
{
    pthread_key_create(&key, cache_free);
}

static cache_t *cache(void)
{
    pthread_once(&once, make_key);
    cache_t *c = pthread_getspecific(key);
    if (c == NULL && (c = calloc(1, sizeof(*c))) != NULL)
        pthread_setspecific(key, c);
    return c;
}

static uint32_t slot_of(int kind, int64_t run_id)
{
    uint64_t h = (uint64_t)run_id * 0x9e3779b97f4a7c15ULL ^ (uint64_t)kind * 0xc2b2ae3d27d4eb4fULL;
    return (uint32_t)(h >> 32) & (SLOTS - 1);
}

const char *rcache_get(rcache_kind_t kind, int64_t run_id, int64_t version, size_t *len)
{
    cache_t *c = cache();
    if (c == NULL)
        return NULL;
    for (uint32_t i = slot_of((int)kind, run_id), n = 0; n < SLOTS; i = (i + 1) & (SLOTS - 1), n++) {
        entry_t *e = &c->slots[i];
        if (e->run_id == 0)
            return NULL;
        if (e->run_id == run_id && e->kind == (int)kind) {
            if (e->version != version)
                return NULL;
            *len = e->len;
            return e->data;
        }
    }
    return NULL;
}

/* Removes the entry at slot i, re-placing the entries of its probe chain (linear probing). */
static void remove_at(cache_t *c, uint32_t i)
{
    c->bytes -= c->slots[i].len;
    c->count--;
    free(c->slots[i].data);
    memset(&c->slots[i], 0, sizeof(c->slots[i]));
    for (uint32_t j = (i + 1) & (SLOTS - 1); c->slots[j].run_id != 0; j = (j + 1) & (SLOTS - 1)) {
        entry_t e = c->slots[j];
        memset(&c->slots[j], 0, sizeof(c->slots[j]));
        uint32_t k = slot_of(e.kind, e.run_id);
        while (c->slots[k].run_id != 0)
            k = (k + 1) & (SLOTS - 1);
        c->slots[k] = e;
    }
}

/* Makes room by removing the oldest entry found in a short scan from the clock hand. */
static void evict_one(cache_t *c)
{
    uint32_t best = SLOTS;
    uint64_t best_seq = UINT64_MAX;
    for (uint32_t n = 0; n < 64 || best == SLOTS; n++) {
        uint32_t i = (c->evict_hand++) & (SLOTS - 1);
        if (c->slots[i].run_id != 0 && c->slots[i].seq < best_seq) {
            best = i;
            best_seq = c->slots[i].seq;
        }
    }
    remove_at(c, best);
}

void rcache_put(rcache_kind_t kind, int64_t run_id, int64_t version, const char *data, size_t len)
{
    cache_t *c = cache();
    if (c == NULL || run_id == 0 || len > RCACHE_MAX_BYTES / 64)
        return;
    while (c->count > 0 && (c->bytes + len > RCACHE_MAX_BYTES || c->count >= SLOTS / 2))
        evict_one(c);
    uint32_t i = slot_of((int)kind, run_id);
    while (c->slots[i].run_id != 0 && !(c->slots[i].run_id == run_id && c->slots[i].kind == (int)kind))
        i = (i + 1) & (SLOTS - 1);
    entry_t *e = &c->slots[i];
    char *copy = malloc(len);
    if (copy == NULL)
        return;
    memcpy(copy, data, len);
    if (e->run_id != 0) {
        c->bytes -= e->len;
        c->count--;
        free(e->data);
    }
    e->run_id = run_id;
    e->version = version;
    e->kind = (int)kind;
    e->len = (uint32_t)len;
    e->data = copy;
    e->seq = ++c->seq;
    c->bytes += len;
    c->count++;
}
