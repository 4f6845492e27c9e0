/* Fault injection in the store: a SQLite VFS shim, registered as the default VFS around the real
 * one, fails the k-th read, write (EIO or ENOSPC) or fsync of the database and its WAL while a
 * group-commit batch of writes runs, for every k the workload reaches. Afterwards: a failed
 * write is answered STORE_ERROR (5xx), every acknowledged write is there, no failed write is
 * there (so a retry applies it once, never twice) and PRAGMA integrity_check is ok. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <unistd.h>

#include "fault_vfs.h"
#include "store/store.h"

/* ---- the faults ---- */

typedef struct fault_kind {
    const char *name;
    fault_op_t op;
    int rc; /* what the failing call returns */
} fault_kind_t;

static const fault_kind_t kinds[] = {
    {"read EIO", FOP_READ, SQLITE_IOERR_READ},
    {"write EIO", FOP_WRITE, SQLITE_IOERR_WRITE},
    {"write ENOSPC", FOP_WRITE, SQLITE_FULL},
    {"fsync EIO", FOP_SYNC, SQLITE_IOERR_FSYNC},
};

/* ---- the workload ---- */

enum { NTRIGGERS = 4, NAPPENDS = 4, NWRITES = NTRIGGERS + NAPPENDS, LOG_CAP = 2048 };

typedef struct fx {
    char dir[256];
    char template_path[320], path[320];
    int64_t ws, conn, log_run;
} fx_t;

typedef struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int entered, released, done;
} gate_t;

/* done() of the first write: holds the writer thread until the test has queued the workload, so
 * the workload is one batch. */
static void blocker_done(store_write_t *w)
{
    gate_t *g = w->ctx;
    pthread_mutex_lock(&g->mu);
    g->entered = 1;
    pthread_cond_broadcast(&g->cv);
    while (!g->released)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

static void count_done(store_write_t *w)
{
    gate_t *g = w->ctx;
    pthread_mutex_lock(&g->mu);
    g->done++;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

static void copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(in >= 0 && out >= 0);
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof(buf))) > 0)
        assert_int_equal(write(out, buf, (size_t)n), n);
    assert_int_equal(n, 0);
    close(in);
    close(out);
}

static void remove_db(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        char p[400];
        snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
        unlink(p);
    }
}

static store_t *open_store(const char *path)
{
    store_t *s = NULL;
    char err[256];
    if (store_open(path, &s, err, sizeof(err)) != 0)
        fail_msg("store_open: %s", err);
    return s;
}

static void wr_init(store_write_t *w, store_op_t op, int64_t ws, int64_t id)
{
    memset(w, 0, sizeof(*w));
    w->op = op;
    w->workspace_id = ws;
    w->id = id;
}

static void workload_write(fx_t *f, store_write_t *w, int i, char *line, size_t linelen)
{
    if (i % 2 == 0) {
        wr_init(w, OP_RUN_TRIGGER, f->ws, f->conn);
        w->trigger.tag = "API";
        w->trigger.initial_state = RUN_QUEUED;
        snprintf(line, linelen, "key-%d", i);
        w->trigger.idempotency_key = line;
        w->trigger.idempotency_hash = "same";
    } else {
        wr_init(w, OP_LOG_APPEND, f->ws, f->log_run);
        snprintf(line, linelen, "line %d of the workload\n", i);
        w->log_data = line;
        w->log_len = strlen(line);
    }
}

static size_t count_in(const char *hay, size_t len, const char *needle)
{
    size_t n = 0, nl = strlen(needle);
    for (size_t i = 0; i + nl <= len; i++)
        if (memcmp(hay + i, needle, nl) == 0)
            n++;
    return n;
}

/* Runs the workload as one batch with the fault armed (k = 0: none) and checks the promises.
 * Returns how many calls of op the workload made. */
static long run_once(fx_t *f, const fault_kind_t *kind, long k)
{
    remove_db(f->path);
    copy_file(f->template_path, f->path);
    store_t *s = open_store(f->path);

    gate_t g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0};
    store_write_t blocker;
    wr_init(&blocker, OP_RUN_EVENT, f->ws, f->log_run);
    blocker.event_kind = "note";
    blocker.event_json = "{}";
    blocker.done = blocker_done;
    blocker.ctx = &g;
    store_submit(s, &blocker);
    pthread_mutex_lock(&g.mu);
    while (!g.entered)
        pthread_cond_wait(&g.cv, &g.mu);
    pthread_mutex_unlock(&g.mu);

    static store_write_t ws[NWRITES];
    static char lines[NWRITES][64];
    fault_arm(kind->op, k, kind->rc);
    for (int i = 0; i < NWRITES; i++) {
        workload_write(f, &ws[i], i, lines[i], sizeof(lines[i]));
        ws[i].done = count_done;
        ws[i].ctx = &g;
        store_submit(s, &ws[i]);
    }
    pthread_mutex_lock(&g.mu);
    g.released = 1;
    pthread_cond_broadcast(&g.cv);
    while (g.done < NWRITES)
        pthread_cond_wait(&g.cv, &g.mu);
    pthread_mutex_unlock(&g.mu);
    fault_disarm();
    long calls = fault_calls(kind->op);
    assert_int_equal(blocker.err, STORE_OK);
    store_write_release(&blocker);

    int failed = 0;
    for (int i = 0; i < NWRITES; i++) {
        if (ws[i].err != STORE_OK && ws[i].err != STORE_ERROR)
            fail_msg("%s k=%ld: write %d answered %s", kind->name, k, i, store_strerror(ws[i].err));
        failed += ws[i].err == STORE_ERROR;
    }
    if (fault_fired() && failed == 0)
        fail_msg("%s k=%ld: the fault fired and every write was answered success", kind->name, k);
    if (!fault_fired() && failed != 0)
        fail_msg("%s k=%ld: %d writes failed without a fault", kind->name, k, failed);

    /* The log holds the lines of the acknowledged appends, once, and none of the failed ones. */
    store_reader_t *r = store_reader_open(s);
    assert_non_null(r);
    arena_t a = ARENA_INIT;
    const char *data;
    size_t len;
    int64_t total;
    assert_int_equal(store_log_get(r, f->ws, f->log_run, &a, &data, &len, &total), STORE_OK);
    for (int i = 1; i < NWRITES; i += 2) {
        size_t want = ws[i].err == STORE_OK ? 1 : 0;
        if (count_in(data, len, lines[i]) != want)
            fail_msg("%s k=%ld: append %d answered %s but its line is in the log %zu times", kind->name, k, i,
                     store_strerror(ws[i].err), count_in(data, len, lines[i]));
    }
    /* Retrying each write: an acknowledged trigger is replayed (it is there), a failed one creates
     * its run now (it was not there); a failed append is applied now. */
    int64_t acked_runs[NWRITES] = {0};
    for (int i = 0; i < NWRITES; i++) {
        int was_ok = ws[i].err == STORE_OK;
        if (i % 2 == 0)
            acked_runs[i] = was_ok ? ws[i].run.id : 0;
        if (i % 2 == 1 && was_ok) {
            store_write_release(&ws[i]);
            continue;
        }
        store_write_release(&ws[i]);
        workload_write(f, &ws[i], i, lines[i], sizeof(lines[i]));
        assert_int_equal(store_exec(s, &ws[i]), STORE_OK);
        if (i % 2 == 0) {
            trigger_outcome_t want = was_ok ? TRIGGER_REPLAYED : TRIGGER_CREATED;
            if (ws[i].trigger_outcome != want)
                fail_msg("%s k=%ld: trigger %d answered %s, and its retry was %s", kind->name, k, i,
                         was_ok ? "ok" : "an error", ws[i].trigger_outcome == TRIGGER_REPLAYED ? "replayed" : "new");
            if (was_ok)
                assert_int_equal(ws[i].run.id, acked_runs[i]);
        }
        store_write_release(&ws[i]);
    }
    store_reader_close(r);
    store_close(s);

    /* After a restart: every write is there once. */
    s = open_store(f->path);
    r = store_reader_open(s);
    assert_non_null(r);
    assert_int_equal(store_log_get(r, f->ws, f->log_run, &a, &data, &len, &total), STORE_OK);
    for (int i = 1; i < NWRITES; i += 2)
        assert_int_equal(count_in(data, len, lines[i]), 1);
    connection_t cn;
    assert_int_equal(store_connection_get(r, f->ws, f->conn, &a, &cn), STORE_OK);
    assert_int_equal(cn.run_count, 1 + NTRIGGERS); /* the log's run, one per key */
    arena_release(&a);
    store_reader_close(r);
    store_close(s);

    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    sqlite3_close(db);
    return calls;
}

static int setup(void **state)
{
    fault_vfs_install();
    fx_t *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "%s/syncrun-test-fault.XXXXXX", fault_vfs_tmpdir());
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->template_path, sizeof(f->template_path), "%s/template.db", f->dir);
    snprintf(f->path, sizeof(f->path), "%s/work.db", f->dir);

    store_t *s = open_store(f->template_path);
    store_write_t w;
    wr_init(&w, OP_WORKSPACE_CREATE, 0, 0);
    w.name = "faults";
    w.key_scope = SCOPE_ADMIN;
    assert_int_equal(store_exec(s, &w), STORE_OK);
    f->ws = w.workspace_id;
    store_write_release(&w);
    wr_init(&w, OP_CONNECTION_CREATE, f->ws, 0);
    w.conn.name = "faulty";
    w.conn.overlap = OVERLAP_QUEUE;
    w.conn.log_max_bytes = LOG_CAP;
    assert_int_equal(store_exec(s, &w), STORE_OK);
    f->conn = w.conn.id;
    store_write_release(&w);
    wr_init(&w, OP_RUN_TRIGGER, f->ws, f->conn);
    w.trigger.tag = "API";
    w.trigger.initial_state = RUN_WORKING;
    assert_int_equal(store_exec(s, &w), STORE_OK);
    f->log_run = w.run.id;
    store_write_release(&w);
    /* a full log: each append of the workload cuts its oldest bytes */
    static char full[LOG_CAP];
    for (size_t i = 0; i < sizeof(full); i++)
        full[i] = i % 50 == 49 ? '\n' : 'o';
    wr_init(&w, OP_LOG_APPEND, f->ws, f->log_run);
    w.log_data = full;
    w.log_len = sizeof(full);
    assert_int_equal(store_exec(s, &w), STORE_OK);
    store_write_release(&w);
    store_close(s);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    remove_db(f->path);
    remove_db(f->template_path);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Every k over the workload, for one kind of fault. */
static void sweep(fx_t *f, const fault_kind_t *kind)
{
    long calls = run_once(f, kind, 0);
    assert_true(calls > 0); /* the workload reaches this kind of call at all */
    long fired_count = 0;
    for (long k = 1; k <= calls; k++) {
        run_once(f, kind, k);
        fired_count += fault_fired();
    }
    assert_int_equal(fired_count, calls);
    print_message("%s: %ld faults injected, each checked\n", kind->name, calls);
}

static void test_fault_read_eio(void **state)
{
    sweep(*state, &kinds[0]);
}

static void test_fault_write_eio(void **state)
{
    sweep(*state, &kinds[1]);
}

static void test_fault_write_enospc(void **state)
{
    sweep(*state, &kinds[2]);
}

static void test_fault_fsync_eio(void **state)
{
    sweep(*state, &kinds[3]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fault_read_eio),
        cmocka_unit_test(test_fault_write_eio),
        cmocka_unit_test(test_fault_write_enospc),
        cmocka_unit_test(test_fault_fsync_eio),
    };
    return cmocka_run_group_tests_name("store faults", tests, setup, teardown);
}
