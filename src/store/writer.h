/* The group-commit writer (store layer, backend-neutral): one thread takes the queued writes in
 * batches, applies each batch in one transaction through a backend (store_backend_t), and answers
 * every write of the batch after its commit. It knows nothing of SQL; a backend (sqlite.c, later
 * pg.c) binds and steps. Not for callers outside src/store/. */
#ifndef SYNCRUN_STORE_WRITER_H
#define SYNCRUN_STORE_WRITER_H

#include "store/store.h"

typedef struct store_writer store_writer_t;

/* Reports a run a write changed (the writer tells the change hooks after the commit). */
typedef void (*store_note_run_fn)(void *ctx, int64_t run_id);

/* What a backend gives the writer. Every function runs on the writer thread only, and gets the
 * backend's own pointer `be`. Ints are 0 on success. A batch is:
 *     batch_begin, then for each write: write_begin, write_apply, write_end; then batch_commit;
 * and batch_rollback (instead of what is left) as soon as one of them fails. */
typedef struct store_backend {
    /* Opens the batch's transaction. */
    int (*batch_begin)(void *be);
    /* Marks where the next write starts (a savepoint), so that its failure undoes only it. */
    int (*write_begin)(void *be);
    /* Applies one write inside the transaction: the domain rules and the statements. Returns and sets
     * w->err (and w->err_field); reports each run it changed through note(ctx, id). */
    store_err_t (*write_apply)(void *be, store_write_t *w, store_note_run_fn note, void *ctx);
    /* Ends the write begun by write_begin: failed = 1 undoes it (back to the savepoint). Nonzero when
     * the batch's transaction is lost (the database rolled it back, or the savepoint could not be
     * released or rolled back to): then nothing of the batch is committed. */
    int (*write_end)(void *be, int failed);
    /* Commits the batch (durably: answered writes survive a crash). */
    int (*batch_commit)(void *be);
    /* Gives the batch up; also called when the transaction is already gone. */
    void (*batch_rollback)(void *be);
    /* Whether the batch just committed made webhook deliveries due (read once after each commit). */
    int (*batch_deliveries_due)(void *be);
} store_backend_t;

/* Starts the writer thread over backend ops/be (both must outlive the writer). Returns 0, or -1. */
int store_writer_start(const store_backend_t *ops, void *be, store_writer_t **out);
/* Finishes every submitted write, stops the thread and frees the writer. NULL is a no-op. */
void store_writer_stop(store_writer_t *wr);

/* The writer of s: each backend keeps one in its store_t (the public store_submit, store_exec, hooks
 * and writer metrics of store.h are the writer's, whatever the backend). */
store_writer_t *store_writer_of(store_t *s);

#endif
