/* The rendering thread (exec/renderer.h): batches while runs are queued; when the queue is empty it
 * sleeps until a commit changes runs (a store change hook), then lets that activity settle for
 * RENDERER_SETTLE_MS and looks again, so an idle server does no rendering writes at all. A look every
 * RENDERER_IDLE_MAX_MS anyway finds runs finished by another process writing the same database (an
 * import from the command line); a page renders such runs itself meanwhile. Between two batches the
 * writer is left alone as long as the last batch took (at least RENDERER_PAUSE_MS): rendering takes
 * at most about half of the writer's time, and writes that queued behind a batch commit without the
 * next one. */
#include "exec/renderer.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "util/log.h"
#include "util/timeutil.h"

enum { RENDERER_PAUSE_MS = 2, RENDERER_PAUSE_MAX_MS = 1000, RENDERER_SETTLE_MS = 250, RENDERER_IDLE_MAX_MS = 60000 };

struct renderer {
    store_t *store;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_int stop;
    int changed; /* under mu: a commit changed runs since the renderer last went to sleep on it */
};

/* Runs on the writer thread after a commit that changed runs: wakes a renderer that sleeps on it. */
static void on_runs_changed(void *ctx, const int64_t *run_ids, size_t n)
{
    renderer_t *p = ctx;
    (void)run_ids;
    if (n == 0)
        return;
    pthread_mutex_lock(&p->mu);
    p->changed = 1;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* Waits (p->mu held) ms milliseconds, or until stopped, or (until_change) until a commit changed runs;
 * returns 1 to go on. */
static int renderer_wait(renderer_t *p, int64_t ms, int until_change)
{
    struct timespec until;
    time_deadline_in(&until, ms);
    while (!atomic_load(&p->stop) && !(until_change && p->changed) &&
           pthread_cond_timedwait(&p->cv, &p->mu, &until) != ETIMEDOUT) {
    }
    return !atomic_load(&p->stop);
}

static void *renderer_main(void *arg)
{
    renderer_t *p = arg;
    int64_t wait_ms = 0, total = 0;
    int idle = 0; /* the queue was empty: sleep until runs change */
    pthread_mutex_lock(&p->mu);
    while (renderer_wait(p, wait_ms, idle)) {
        if (idle) { /* runs changed (or a long while passed): let the activity settle, then look */
            idle = 0;
            wait_ms = RENDERER_SETTLE_MS;
            continue;
        }
        p->changed = 0; /* the look below covers every change made so far */
        pthread_mutex_unlock(&p->mu);
        const int64_t t0 = time_mono_ms();
        store_write_t w = {0};
        w.op = OP_CENSUS_RENDER;
        store_err_t e = store_exec(p->store, &w);
        const int64_t took_ms = time_mono_ms() - t0;
        const int n = w.affected;
        store_write_release(&w);
        if (e != STORE_OK) {
            log_error("census rendering: a batch failed; retrying in %d ms", RENDERER_SETTLE_MS);
            wait_ms = RENDERER_SETTLE_MS;
        } else if (n == STORE_CENSUS_RENDER_BATCH) {
            total += n;
            wait_ms = took_ms < RENDERER_PAUSE_MS       ? RENDERER_PAUSE_MS
                      : took_ms > RENDERER_PAUSE_MAX_MS ? RENDERER_PAUSE_MAX_MS
                                                        : took_ms;
        } else {
            total += n;
            if (total >= 10000)
                log_info("census rendering: %lld runs rendered, the queue is empty", (long long)total);
            total = 0;
            idle = 1;
            wait_ms = RENDERER_IDLE_MAX_MS;
        }
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

renderer_t *renderer_start(store_t *s)
{
    renderer_t *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->store = s;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (store_add_change_hook(s, on_runs_changed, p) != 0) {
        log_error("census rendering: no change hook left; pages render every run");
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv);
        free(p);
        return NULL;
    }
    if (pthread_create(&p->thread, NULL, renderer_main, p) != 0) {
        store_remove_change_hook(s, on_runs_changed, p);
        log_error("census rendering: cannot start its thread; pages render every run");
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv);
        free(p);
        return NULL;
    }
    return p;
}

void renderer_stop(renderer_t *p)
{
    if (p == NULL)
        return;
    store_remove_change_hook(p->store, on_runs_changed, p);
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stop, 1);
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}
