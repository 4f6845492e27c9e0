/* The retention thread: pruning passes every interval, a batch per write. */
#include "exec/pruner.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "util/log.h"
#include "util/timeutil.h"

/* Connections read per page of a pass, and batches of one connection per pass at most (a pass ends
 * even while runs keep coming; the next one goes on). Between two batches the writer is left alone
 * as long as the last batch took (at least PRUNER_PAUSE_MS): pruning takes at most about half of
 * the writer's time, and writes that queued behind a batch commit without the next one. */
enum { PRUNER_PAGE = 500, PRUNER_BATCHES_MAX = 10000, PRUNER_PAUSE_MS = 10, PRUNER_PAUSE_MAX_MS = 1000 };

struct pruner {
    store_t *store;
    int64_t interval_ms;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_int stop;
};

static int stopping(const atomic_int *stop)
{
    return stop != NULL && atomic_load(stop);
}

/* Prunes one connection until a batch removes less than a full batch. */
static int64_t prune_connection(store_t *s, const retention_target_t *t, const atomic_int *stop)
{
    int64_t removed = 0, took_ms = 0;
    for (int i = 0; i < PRUNER_BATCHES_MAX && !stopping(stop); i++) {
        if (i > 0) {
            int64_t ms = took_ms < PRUNER_PAUSE_MS       ? PRUNER_PAUSE_MS
                         : took_ms > PRUNER_PAUSE_MAX_MS ? PRUNER_PAUSE_MAX_MS
                                                         : took_ms;
            struct timespec pause = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
            nanosleep(&pause, NULL);
        }
        const int64_t t0 = time_mono_ms();
        store_write_t w = {0};
        w.op = OP_RUNS_PRUNE;
        w.workspace_id = t->workspace_id;
        w.id = t->connection_id;
        store_err_t e = store_exec(s, &w);
        took_ms = time_mono_ms() - t0;
        int n = w.affected;
        store_write_release(&w);
        if (e == STORE_NOT_FOUND) /* deleted since it was listed */
            break;
        if (e != STORE_OK)
            return -1;
        if (n > 0)
            log_info("retention: pruned runs=%d connection=%lld workspace=%lld", n, (long long)t->connection_id,
                     (long long)t->workspace_id);
        removed += n;
        if (n < STORE_PRUNE_BATCH)
            break;
    }
    return removed;
}

int64_t pruner_pass(store_t *s, store_reader_t *r, const atomic_int *stop)
{
    int64_t after = 0, removed = 0;
    int more = 1;
    while (more && !stopping(stop)) {
        arena_t a = ARENA_INIT;
        retention_target_t *ts;
        int n;
        store_err_t e = store_retention_targets(r, after, PRUNER_PAGE, &a, &ts, &n, &more);
        if (e != STORE_OK) {
            arena_release(&a);
            return -1;
        }
        for (int i = 0; i < n && !stopping(stop); i++) {
            int64_t k = prune_connection(s, &ts[i], stop);
            if (k < 0) {
                arena_release(&a);
                return -1;
            }
            removed += k;
        }
        if (n > 0)
            after = ts[n - 1].connection_id;
        arena_release(&a);
        if (n == 0)
            break;
    }
    return removed;
}

/* Waits (p->mu held) until interval_ms passed or the pruner is stopped; returns 1 to go on. */
static int pruner_wait(pruner_t *p)
{
    struct timespec until;
    time_deadline_in(&until, p->interval_ms);
    while (!atomic_load(&p->stop) && pthread_cond_timedwait(&p->cv, &p->mu, &until) != ETIMEDOUT) {
    }
    return !atomic_load(&p->stop);
}

static void *pruner_main(void *arg)
{
    pruner_t *p = arg;
    pthread_mutex_lock(&p->mu);
    /* The first pass after one interval: a server that starts has other work to do first. A pass
     * opens its own reader and closes it: between passes (an hour by default) the pruner holds no
     * database connection. */
    while (pruner_wait(p)) {
        pthread_mutex_unlock(&p->mu);
        store_reader_t *r = store_reader_open(p->store);
        if (r == NULL || pruner_pass(p->store, r, &p->stop) < 0)
            log_error("retention: a pass failed; retrying at the next one");
        store_reader_close(r);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

pruner_t *pruner_start(store_t *s, int64_t interval_ms)
{
    pruner_t *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->store = s;
    p->interval_ms = interval_ms > 0 ? interval_ms : 1000;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (pthread_create(&p->thread, NULL, pruner_main, p) != 0) {
        log_error("retention: cannot start its thread; no pruning");
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv);
        free(p);
        return NULL;
    }
    log_info("retention: pruning every %lld s", (long long)(p->interval_ms / 1000));
    return p;
}

void pruner_stop(pruner_t *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stop, 1);
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}
