/* The scheduler: triggers runs of connections with a cron schedule at their scheduled times
 * (trigger "Scheduled"), and after downtime catches up at most once per connection. Driven by the
 * runner's thread through scheduler_tick. */
#ifndef SYNCRUN_EXEC_SCHEDULER_H
#define SYNCRUN_EXEC_SCHEDULER_H

#include <stdint.h>

#include "store/store.h"
#include "util/buf.h"

typedef struct scheduler scheduler_t;

scheduler_t *scheduler_new(store_t *s, store_reader_t *r);
void scheduler_free(scheduler_t *sc);
/* Fires what is due at now_ms (wall clock); returns the milliseconds until it wants to run again. */
int64_t scheduler_tick(scheduler_t *sc, int64_t now_ms);
/* Appends the scheduler's series (syncrun_scheduler_lag_seconds) in Prometheus text. */
void scheduler_metrics_write(buf_t *b);

#endif
