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

/* The workload: writes of four kinds in turn, each observable afterwards. */
typedef enum wkind { W_TRIGGER, W_APPEND, W_EVENT, W_IMPORT, W_KINDS } wkind_t;
enum { NWRITES = 12, PER_KIND = NWRITES / W_KINDS, IMPORT_RUNS = 2, LOG_CAP = 2048 };

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

typedef struct wdata {
    char text[64];
    char ext[IMPORT_RUNS][32];
    store_import_t imports[IMPORT_RUNS];
} wdata_t;

/* Write i of the workload, made afresh (a retry is the same request again). */
static void workload_write(fx_t *f, store_write_t *w, int i, wdata_t *d)
{
    switch ((wkind_t)(i % W_KINDS)) {
    case W_TRIGGER: /* observable: a retry with its Idempotency-Key is replayed */
        wr_init(w, OP_RUN_TRIGGER, f->ws, f->conn);
        w->trigger.tag = "API";
        w->trigger.initial_state = RUN_QUEUED;
        snprintf(d->text, sizeof(d->text), "key-%d", i);
        w->trigger.idempotency_key = d->text;
        w->trigger.idempotency_hash = "same";
        break;
    case W_APPEND: /* observable: its line in the log */
        wr_init(w, OP_LOG_APPEND, f->ws, f->log_run);
        snprintf(d->text, sizeof(d->text), "line %d of the workload\n", i);
        w->log_data = d->text;
        w->log_len = strlen(d->text);
        break;
    case W_EVENT: /* observable: its event */
        wr_init(w, OP_RUN_EVENT, f->ws, f->log_run);
        snprintf(d->text, sizeof(d->text), "{\"workload\":%d}", i);
        w->event_kind = "note";
        w->event_json = d->text;
        break;
    case W_IMPORT: /* several runs, all or nothing; observable by their external ids */
        wr_init(w, OP_RUN_IMPORT, f->ws, f->conn);
        memset(d->imports, 0, sizeof(d->imports));
        for (int j = 0; j < IMPORT_RUNS; j++) {
            snprintf(d->ext[j], sizeof(d->ext[j]), "ext-%d-%d", i, j);
            run_t *r = &d->imports[j].run;
            r->external_id = d->ext[j];
            r->state = RUN_FINISHED;
            r->result = RESULT_SUCCESS;
            r->created_at = 2000000000000LL + i * 10 + j; /* newer than the runs there */
            r->completed_at = r->created_at + 1;
        }
        w->imports = d->imports;
        w->nimports = IMPORT_RUNS;
        break;
    case W_KINDS:
        break;
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

/* How many times write i is in the store (triggers: -1, seen only by retrying them). */
static int observed(fx_t *f, store_reader_t *r, int i, const wdata_t *d)
{
    arena_t a = ARENA_INIT;
    int n = -1;
    switch ((wkind_t)(i % W_KINDS)) {
    case W_TRIGGER:
    case W_KINDS:
        break;
    case W_APPEND: {
        const char *data;
        size_t len;
        int64_t total;
        assert_int_equal(store_log_get(r, f->ws, f->log_run, &a, &data, &len, &total), STORE_OK);
        n = (int)count_in(data, len, d->text);
        break;
    }
    case W_EVENT: {
        run_event_t *ev;
        int nev;
        assert_int_equal(store_event_list(r, f->ws, f->log_run, 0, 1000, &a, &ev, &nev), STORE_OK);
        n = 0;
        for (int j = 0; j < nev; j++)
            n += strcmp(ev[j].data, d->text) == 0;
        break;
    }
    case W_IMPORT: {
        int found = 0;
        for (int j = 0; j < IMPORT_RUNS; j++) {
            run_t run;
            store_err_t e = store_run_get_external(r, f->ws, f->conn, d->ext[j], &a, &run);
            assert_true(e == STORE_OK || e == STORE_NOT_FOUND);
            found += e == STORE_OK;
        }
        if (found != 0 && found != IMPORT_RUNS)
            fail_msg("import %d is there in part: %d of %d runs", i, found, IMPORT_RUNS);
        n = found / IMPORT_RUNS;
        break;
    }
    }
    arena_release(&a);
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
    static wdata_t wd[NWRITES];
    fault_arm(kind->op, k, kind->rc);
    for (int i = 0; i < NWRITES; i++) {
        workload_write(f, &ws[i], i, &wd[i]);
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

    int failed = 0, acked[NWRITES];
    for (int i = 0; i < NWRITES; i++) {
        if (ws[i].err != STORE_OK && ws[i].err != STORE_ERROR)
            fail_msg("%s k=%ld: write %d answered %s", kind->name, k, i, store_strerror(ws[i].err));
        acked[i] = ws[i].err == STORE_OK;
        failed += !acked[i];
    }
    if (fault_fired() && failed == 0)
        fail_msg("%s k=%ld: the fault fired and every write was answered success", kind->name, k);
    if (!fault_fired() && failed != 0)
        fail_msg("%s k=%ld: %d writes failed without a fault", kind->name, k, failed);

    /* An acknowledged write is there once, a failed one not at all. */
    store_reader_t *r = store_reader_open(s);
    assert_non_null(r);
    for (int i = 0; i < NWRITES; i++) {
        int n = observed(f, r, i, &wd[i]);
        if (n >= 0 && n != acked[i])
            fail_msg("%s k=%ld: write %d (kind %d) answered %s, and it is there %d times", kind->name, k, i,
                     i % W_KINDS, acked[i] ? "ok" : "an error", n);
    }
    /* Retrying: a failed write is applied now; an acknowledged trigger is replayed and an
     * acknowledged import finds its runs (appends and events are not idempotent: not retried). */
    for (int i = 0; i < NWRITES; i++) {
        wkind_t wk = (wkind_t)(i % W_KINDS);
        int64_t run_id = ws[i].run.id;
        store_write_release(&ws[i]);
        if (acked[i] && (wk == W_APPEND || wk == W_EVENT))
            continue;
        workload_write(f, &ws[i], i, &wd[i]);
        assert_int_equal(store_exec(s, &ws[i]), STORE_OK);
        if (wk == W_TRIGGER && ws[i].trigger_outcome != (acked[i] ? TRIGGER_REPLAYED : TRIGGER_CREATED))
            fail_msg("%s k=%ld: trigger %d answered %s, and its retry was %s", kind->name, k, i,
                     acked[i] ? "ok" : "an error", ws[i].trigger_outcome == TRIGGER_REPLAYED ? "replayed" : "new");
        if (wk == W_TRIGGER && acked[i])
            assert_int_equal(ws[i].run.id, run_id);
        if (wk == W_IMPORT && ws[i].imported != (acked[i] ? 0 : IMPORT_RUNS))
            fail_msg("%s k=%ld: import %d answered %s, and its retry imported %d runs", kind->name, k, i,
                     acked[i] ? "ok" : "an error", ws[i].imported);
        store_write_release(&ws[i]);
    }
    store_reader_close(r);
    store_close(s);

    /* After a restart: every write is there once. */
    s = open_store(f->path);
    r = store_reader_open(s);
    assert_non_null(r);
    for (int i = 0; i < NWRITES; i++) {
        int n = observed(f, r, i, &wd[i]);
        if (n >= 0 && n != 1)
            fail_msg("%s k=%ld: after the retries and a restart, write %d is there %d times", kind->name, k, i, n);
    }
    arena_t a = ARENA_INIT;
    connection_t cn;
    assert_int_equal(store_connection_get(r, f->ws, f->conn, &a, &cn), STORE_OK);
    assert_int_equal(cn.run_count, 1 + PER_KIND + PER_KIND * IMPORT_RUNS); /* the log's run, triggers, imports */
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
