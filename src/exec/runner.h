/* The runner: runs the commands of connections that have one. It starts queued runs (one at a
 * time per connection, in order), feeds progress lines and output into the run, enforces the
 * timeout, retries with backoff, stops a process whose run was canceled, and finishes the run
 * from the exit status. It also drives the scheduler. One thread; children are polled. */
#ifndef SYNCRUN_EXEC_RUNNER_H
#define SYNCRUN_EXEC_RUNNER_H

#include <stdint.h>

#include "store/store.h"

typedef struct runner_config {
    store_t *store;
    const char *base_url;  /* given to commands as SYNCRUN_URL, e.g. http://127.0.0.1:8080 */
    int64_t kill_grace_ms; /* SIGTERM → SIGKILL; default 10 s */
    int max_processes;     /* runs at once; default 16 */
} runner_config_t;

typedef struct runner runner_t;

/* Finishes the runs an earlier server left working (error "interrupted by restart"): no process of
 * it runs any more. Call before serving requests, so no request sees such a run as working.
 * Returns 0, or -1 when the store failed (logged). */
int runner_recover(store_t *s);
/* Starts the thread. NULL on failure (logged). */
runner_t *runner_start(const runner_config_t *cfg);
/* Stops the thread: running commands get SIGTERM (SIGKILL after the grace) and their runs finish as
 * interrupted. */
void runner_stop(runner_t *r);

#endif
