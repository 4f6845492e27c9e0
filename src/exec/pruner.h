/* Retention in the background: a thread that, every interval, walks the connections a retention
 * policy applies to and has the store's writer prune each one's oldest runs a batch
 * (STORE_PRUNE_BATCH) at a time, so that no request waits behind a long transaction. */
#ifndef SYNCRUN_EXEC_PRUNER_H
#define SYNCRUN_EXEC_PRUNER_H

#include <stdatomic.h>
#include <stdint.h>

#include "store/store.h"

typedef struct pruner pruner_t;

/* Starts the thread: a pass every interval_ms, the first one interval_ms from now. NULL when it
 * could not start (logged). */
pruner_t *pruner_start(store_t *s, int64_t interval_ms);
/* Stops the thread (a batch in flight finishes first) and frees p; NULL is a no-op. */
void pruner_stop(pruner_t *p);

/* One pass over every connection with a policy, all batches: the runs removed, or -1 on a store
 * error. Stops early when *stop (may be NULL) becomes nonzero. For the thread, and for tests. */
int64_t pruner_pass(store_t *s, store_reader_t *r, const atomic_int *stop);

#endif
