/* The group-commit writer: batches of queued writes, one transaction each (through a backend,
 * writer.h), every write answered after its batch commits, then the change hooks. Backend-neutral:
 * no SQL here. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/writer.h"
#include "util/log.h"
#include "util/metrics.h"

/* At most this many writes share one transaction; more wait for the next commit. */
enum { WRITER_BATCH_MAX = 512 };

struct store_writer {
    const store_backend_t *ops;
    void *be;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* signals the writer: work or stop */
    pthread_cond_t done_cv; /* signals store_exec callers */
    store_write_t *head, *tail;
    int stopping;
    struct {
        store_change_cb cb;
        void *ctx;
    } hooks[STORE_HOOKS_MAX];
    pthread_mutex_t hooks_mu; /* held while hooks run, so removal waits for a running hook */
    void (*delivery_hook)(void *ctx);
    void *delivery_ctx;
    _Atomic uint64_t keys_generation;
    /* the writer's figures, for /metrics */
    metrics_hist_t batch_size, batch_seconds;
    _Atomic uint64_t writes_ok, writes_failed;
    _Atomic uint64_t runs_pruned; /* runs OP_RUNS_PRUNE removed (committed) */
    /* webhook delivery attempts recorded, by the status they left the delivery in, and their latency */
    _Atomic uint64_t deliveries[DELIVERY_STATUS_COUNT];
    metrics_hist_t delivery_seconds;
};

static const double batch_size_le[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
static const double batch_seconds_le[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
static const double delivery_seconds_le[] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
#define NELEMS(a) ((int)(sizeof(a) / sizeof((a)[0])))

void store_metrics_write(store_t *s, buf_t *b)
{
    store_writer_t *wr = store_writer_of(s);
    metrics_head(b, "syncrun_store_writes_total", "counter", "Writes the store's writer applied, by outcome.");
    metrics_sample(b, "syncrun_store_writes_total", "outcome=\"ok\"", (double)atomic_load(&wr->writes_ok));
    metrics_sample(b, "syncrun_store_writes_total", "outcome=\"error\"", (double)atomic_load(&wr->writes_failed));
    metrics_head(b, "syncrun_store_write_batch_size", "histogram",
                 "Writes per group-commit transaction (one fsync each).");
    metrics_hist_write(b, "syncrun_store_write_batch_size", "", &wr->batch_size, batch_size_le, NELEMS(batch_size_le),
                       1);
    metrics_head(b, "syncrun_store_write_batch_duration_seconds", "histogram",
                 "Time to apply and commit one group-commit transaction, fsync included.");
    metrics_hist_write(b, "syncrun_store_write_batch_duration_seconds", "", &wr->batch_seconds, batch_seconds_le,
                       NELEMS(batch_seconds_le), 1e6);
    metrics_head(b, "syncrun_runs_pruned_total", "counter",
                 "Runs removed by retention (with their events, logs, jobs and tasks; statistics stay).");
    metrics_sample(b, "syncrun_runs_pruned_total", "", (double)atomic_load(&wr->runs_pruned));
    metrics_head(b, "syncrun_webhook_deliveries_total", "counter",
                 "Webhook delivery attempts, by outcome: delivered (answered 2xx), failed (to be retried), dead "
                 "(given up).");
    static const delivery_status_t outcomes[] = {DELIVERY_DELIVERED, DELIVERY_FAILED, DELIVERY_DEAD};
    for (int i = 0; i < NELEMS(outcomes); i++) {
        char label[48];
        snprintf(label, sizeof(label), "outcome=\"%s\"", delivery_status_name(outcomes[i]));
        metrics_sample(b, "syncrun_webhook_deliveries_total", label, (double)atomic_load(&wr->deliveries[outcomes[i]]));
    }
    metrics_head(b, "syncrun_webhook_delivery_duration_seconds", "histogram",
                 "Time from sending a webhook delivery attempt to its answer (or failure).");
    metrics_hist_write(b, "syncrun_webhook_delivery_duration_seconds", "", &wr->delivery_seconds, delivery_seconds_le,
                       NELEMS(delivery_seconds_le), 1e3);
}

typedef struct changed {
    int64_t *ids;
    size_t n, cap;
} changed_t;

static void note_run(void *ctx, int64_t run_id)
{
    changed_t *ch = ctx;
    for (size_t i = 0; i < ch->n; i++)
        if (ch->ids[i] == run_id)
            return;
    if (ch->n == ch->cap) {
        size_t cap = ch->cap ? ch->cap * 2 : 64;
        int64_t *p = realloc(ch->ids, cap * sizeof(*p));
        if (p == NULL)
            return; /* a missed notification only delays a long-poll to its deadline */
        ch->ids = p;
        ch->cap = cap;
    }
    ch->ids[ch->n++] = run_id;
}

/* Applies a batch in one transaction. Each write is applied between write_begin and write_end, so
 * a write that fails changes nothing while the others in the batch still commit. When the
 * transaction itself is lost (the database rolls it back on I/O errors, a full disk or no memory; or
 * a savepoint, release or commit fails) every write of the batch fails and nothing of it is
 * committed: no write is answered an error while committed, nor success while not. Returns whether
 * the batch made webhook deliveries due. */
static int writer_apply_batch(store_writer_t *wr, store_write_t *batch, changed_t *ch)
{
    const store_backend_t *ops = wr->ops;
    ch->n = 0;
    int ok = ops->batch_begin(wr->be) == 0;
    for (store_write_t *w = batch; w != NULL && ok; w = w->next_) {
        size_t mark = ch->n;
        if (ops->write_begin(wr->be) != 0) {
            ok = 0;
            break;
        }
        int failed = ops->write_apply(wr->be, w, note_run, ch) != STORE_OK;
        if (failed)
            ch->n = mark;
        /* a write that succeeded may have swallowed an error that cost the transaction */
        if (ops->write_end(wr->be, failed) != 0)
            ok = 0;
    }
    if (ok && ops->batch_commit(wr->be) != 0)
        ok = 0;
    if (!ok) {
        ops->batch_rollback(wr->be);
        log_error("store batch failed: none of its writes is recorded");
        for (store_write_t *w = batch; w != NULL; w = w->next_) {
            w->err = STORE_ERROR;
            w->err_field = NULL;
        }
        ch->n = 0;
        return 0;
    }
    return ops->batch_deliveries_due(wr->be);
}

/* The writer's figures of a committed (or failed) batch, and what its writes mean for the key cache. */
static void writer_count_batch(store_writer_t *wr, store_write_t *batch, double seconds)
{
    int nbatch = 0, nfailed = 0;
    for (store_write_t *w = batch; w != NULL; w = w->next_, nbatch++)
        nfailed += w->err != STORE_OK;
    atomic_fetch_add_explicit(&wr->writes_ok, (uint64_t)(nbatch - nfailed), memory_order_relaxed);
    atomic_fetch_add_explicit(&wr->writes_failed, (uint64_t)nfailed, memory_order_relaxed);
    metrics_hist_observe(&wr->batch_size, batch_size_le, NELEMS(batch_size_le), 1, nbatch);
    metrics_hist_observe(&wr->batch_seconds, batch_seconds_le, NELEMS(batch_seconds_le), 1e6, seconds);
    for (store_write_t *w = batch; w != NULL; w = w->next_)
        if (w->op == OP_RUNS_PRUNE && w->err == STORE_OK)
            atomic_fetch_add_explicit(&wr->runs_pruned, (uint64_t)w->affected, memory_order_relaxed);
    int revoked = 0;
    for (store_write_t *w = batch; w != NULL; w = w->next_) {
        if (w->op == OP_KEY_REVOKE && w->err == STORE_OK && !revoked) {
            atomic_fetch_add(&wr->keys_generation, 1);
            revoked = 1;
        }
        if (w->op == OP_DELIVERY_ATTEMPT && w->err == STORE_OK &&
            (unsigned)w->delivery.status < DELIVERY_STATUS_COUNT) {
            atomic_fetch_add_explicit(&wr->deliveries[w->delivery.status], 1, memory_order_relaxed);
            metrics_hist_observe(&wr->delivery_seconds, delivery_seconds_le, NELEMS(delivery_seconds_le), 1e3,
                                 (double)w->attempt.latency_ms / 1000);
        }
    }
}

static void *writer_main(void *arg)
{
    store_writer_t *wr = arg;
    changed_t ch = {NULL, 0, 0};
    for (;;) {
        pthread_mutex_lock(&wr->mu);
        while (wr->head == NULL && !wr->stopping)
            pthread_cond_wait(&wr->cv, &wr->mu);
        if (wr->head == NULL) {
            pthread_mutex_unlock(&wr->mu);
            break;
        }
        store_write_t *batch = wr->head, *last = batch;
        for (int n = 1; n < WRITER_BATCH_MAX && last->next_ != NULL; n++)
            last = last->next_;
        wr->head = last->next_;
        if (wr->head == NULL)
            wr->tail = NULL;
        last->next_ = NULL;
        pthread_mutex_unlock(&wr->mu);

        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int deliveries_due = writer_apply_batch(wr, batch, &ch);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        writer_count_batch(wr, batch, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
        if (deliveries_due) {
            pthread_mutex_lock(&wr->hooks_mu);
            if (wr->delivery_hook != NULL)
                wr->delivery_hook(wr->delivery_ctx);
            pthread_mutex_unlock(&wr->hooks_mu);
        }
        if (ch.n > 0) {
            pthread_mutex_lock(&wr->hooks_mu);
            for (int i = 0; i < STORE_HOOKS_MAX; i++)
                if (wr->hooks[i].cb != NULL)
                    wr->hooks[i].cb(wr->hooks[i].ctx, ch.ids, ch.n);
            pthread_mutex_unlock(&wr->hooks_mu);
        }
        for (store_write_t *w = batch, *next; w != NULL; w = next) {
            next = w->next_; /* done() may free w */
            w->next_ = NULL;
            if (w->done != NULL)
                w->done(w);
        }
    }
    free(ch.ids);
    return NULL;
}

int store_writer_start(const store_backend_t *ops, void *be, store_writer_t **out)
{
    store_writer_t *wr = calloc(1, sizeof(*wr));
    if (wr == NULL)
        return -1;
    wr->ops = ops;
    wr->be = be;
    pthread_mutex_init(&wr->mu, NULL);
    pthread_mutex_init(&wr->hooks_mu, NULL);
    pthread_cond_init(&wr->cv, NULL);
    pthread_cond_init(&wr->done_cv, NULL);
    if (pthread_create(&wr->thread, NULL, writer_main, wr) != 0) {
        pthread_mutex_destroy(&wr->mu);
        pthread_mutex_destroy(&wr->hooks_mu);
        pthread_cond_destroy(&wr->cv);
        pthread_cond_destroy(&wr->done_cv);
        free(wr);
        return -1;
    }
    *out = wr;
    return 0;
}

void store_writer_stop(store_writer_t *wr)
{
    if (wr == NULL)
        return;
    pthread_mutex_lock(&wr->mu);
    wr->stopping = 1;
    pthread_cond_signal(&wr->cv);
    pthread_mutex_unlock(&wr->mu);
    pthread_join(wr->thread, NULL);
    pthread_mutex_destroy(&wr->mu);
    pthread_mutex_destroy(&wr->hooks_mu);
    pthread_cond_destroy(&wr->cv);
    pthread_cond_destroy(&wr->done_cv);
    free(wr);
}

uint64_t store_keys_generation(store_t *s)
{
    return atomic_load(&store_writer_of(s)->keys_generation);
}

int store_add_change_hook(store_t *s, store_change_cb cb, void *ctx)
{
    store_writer_t *wr = store_writer_of(s);
    int rc = -1;
    pthread_mutex_lock(&wr->hooks_mu);
    for (int i = 0; i < STORE_HOOKS_MAX && rc != 0; i++) {
        if (wr->hooks[i].cb == NULL) {
            wr->hooks[i].cb = cb;
            wr->hooks[i].ctx = ctx;
            rc = 0;
        }
    }
    pthread_mutex_unlock(&wr->hooks_mu);
    return rc;
}

void store_set_delivery_hook(store_t *s, void (*cb)(void *ctx), void *ctx)
{
    store_writer_t *wr = store_writer_of(s);
    pthread_mutex_lock(&wr->hooks_mu);
    wr->delivery_hook = cb;
    wr->delivery_ctx = ctx;
    pthread_mutex_unlock(&wr->hooks_mu);
}

void store_remove_change_hook(store_t *s, store_change_cb cb, void *ctx)
{
    store_writer_t *wr = store_writer_of(s);
    pthread_mutex_lock(&wr->hooks_mu);
    for (int i = 0; i < STORE_HOOKS_MAX; i++)
        if (wr->hooks[i].cb == cb && wr->hooks[i].ctx == ctx)
            wr->hooks[i].cb = NULL;
    pthread_mutex_unlock(&wr->hooks_mu);
}

void store_submit(store_t *s, store_write_t *w)
{
    store_writer_t *wr = store_writer_of(s);
    w->next_ = NULL;
    w->err = STORE_OK;
    w->err_field = NULL;
    pthread_mutex_lock(&wr->mu);
    if (wr->tail != NULL)
        wr->tail->next_ = w;
    else
        wr->head = w;
    wr->tail = w;
    pthread_cond_signal(&wr->cv);
    pthread_mutex_unlock(&wr->mu);
}

typedef struct exec_wait {
    store_writer_t *wr;
    int done;
} exec_wait_t;

static void exec_done(store_write_t *w)
{
    exec_wait_t *ew = w->ctx;
    pthread_mutex_lock(&ew->wr->mu);
    ew->done = 1;
    pthread_cond_broadcast(&ew->wr->done_cv);
    pthread_mutex_unlock(&ew->wr->mu);
}

store_err_t store_exec(store_t *s, store_write_t *w)
{
    store_writer_t *wr = store_writer_of(s);
    exec_wait_t ew = {wr, 0};
    w->done = exec_done;
    /* cppcheck-suppress autoVariables ; only exec_done reads w->ctx, and it runs before this returns */
    w->ctx = &ew;
    store_submit(s, w);
    pthread_mutex_lock(&wr->mu);
    while (!ew.done)
        pthread_cond_wait(&wr->done_cv, &wr->mu);
    pthread_mutex_unlock(&wr->mu);
    return w->err;
}

void store_write_release(store_write_t *w)
{
    arena_release(&w->arena);
}
