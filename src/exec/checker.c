/* Lateness: connections past their deadline and runs past their maximum duration, reported to the
 * store's writer, which decides (in its transaction, against the row as it is then) and raises
 * run.late. A report of something that changed since it was read does nothing, so a restart or a
 * repeated report never raises twice. */
#include "exec/checker.h"

#include <inttypes.h>
#include <stdlib.h>

#include "util/arena.h"
#include "util/log.h"

enum { DUE_BATCH = 100 }; /* rows handled per tick and kind; a full batch asks for another tick soon */

struct checker {
    store_t *store;
    store_reader_t *reader;
    int64_t last_ms;
    int initialised; /* connections made before expectations existed have a deadline */
};

checker_t *checker_new(store_t *s, store_reader_t *r)
{
    checker_t *ck = calloc(1, sizeof(*ck));
    if (ck != NULL) {
        ck->store = s;
        ck->reader = r;
    }
    return ck;
}

void checker_free(checker_t *ck)
{
    free(ck);
}

/* Submits op about id and waits for it; 1 when it changed something. */
static int report(checker_t *ck, store_op_t op, const store_due_t *d)
{
    store_write_t w = {0};
    w.op = op;
    w.workspace_id = d->workspace_id;
    w.id = d->id;
    w.seen_at = d->at;
    store_err_t e = store_exec(ck->store, &w);
    if (e != STORE_OK)
        log_error("checker: could not record what is late (op %d, id %" PRId64 "): %s", (int)op, d->id,
                  store_strerror(e));
    int changed = e == STORE_OK && w.affected > 0;
    store_write_release(&w);
    return changed;
}

/* Gives every connection that expects runs and has no deadline one (once per start). */
static void initialise(checker_t *ck)
{
    arena_t a = ARENA_INIT;
    int64_t after = 0;
    for (;;) {
        store_due_t *rows;
        int n;
        if (store_connections_expect_unset(ck->reader, after, DUE_BATCH, &a, &rows, &n) != STORE_OK)
            break;
        for (int i = 0; i < n; i++)
            report(ck, OP_CONNECTION_EXPECT, &rows[i]);
        if (n < DUE_BATCH)
            break;
        after = rows[n - 1].id;
        arena_release(&a);
    }
    arena_release(&a);
    ck->initialised = 1;
}

int64_t checker_tick(checker_t *ck, int64_t now_ms)
{
    if (ck->last_ms != 0 && now_ms >= ck->last_ms && now_ms - ck->last_ms < CHECKER_PERIOD_MS)
        return CHECKER_PERIOD_MS - (now_ms - ck->last_ms);
    ck->last_ms = now_ms;
    if (!ck->initialised)
        initialise(ck);
    arena_t a = ARENA_INIT;
    store_due_t *rows;
    int n = 0, full = 0;
    if (store_connections_due(ck->reader, now_ms, DUE_BATCH, &a, &rows, &n) == STORE_OK) {
        for (int i = 0; i < n; i++)
            report(ck, OP_CONNECTION_LATE, &rows[i]);
        full |= n == DUE_BATCH;
    }
    if (store_runs_overdue(ck->reader, now_ms, DUE_BATCH, &a, &rows, &n) == STORE_OK) {
        for (int i = 0; i < n; i++)
            report(ck, OP_RUN_OVERDUE, &rows[i]);
        full |= n == DUE_BATCH;
    }
    arena_release(&a);
    if (full)
        ck->last_ms = 0; /* more is due: look again on the next turn */
    return full ? 0 : CHECKER_PERIOD_MS;
}
