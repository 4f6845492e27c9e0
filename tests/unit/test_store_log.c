/* Run logs in the store: the kept tail follows the documented rules (last log_max_bytes bytes;
 * after a cut, from the first newline within 4 KiB) whatever the sizes of the appends; an append
 * writes what it appends, not the log; a database of schema 4 (one blob per log) migrates; the WAL
 * stays bounded under appends that never pause. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fault_vfs.h"
#include "store/schema.h"
#include "store/store.h"

typedef struct fx {
    char dir[256], path[320];
    store_t *s;
    int64_t ws, conn, run;
} fx_t;

static void wr_init(store_write_t *w, store_op_t op, int64_t ws, int64_t id)
{
    memset(w, 0, sizeof(*w));
    w->op = op;
    w->workspace_id = ws;
    w->id = id;
}

static store_t *open_store(const char *path)
{
    store_t *s = NULL;
    char err[256];
    if (store_open(path, &s, err, sizeof(err)) != 0)
        fail_msg("store_open: %s", err);
    return s;
}

static void set_cap(fx_t *f, int64_t cap)
{
    store_write_t w;
    wr_init(&w, OP_CONNECTION_UPDATE, f->ws, f->conn);
    w.mask = CONN_F_LOG_MAX;
    w.conn.log_max_bytes = cap;
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    store_write_release(&w);
}

static void append(fx_t *f, const char *data, size_t n, int replace)
{
    store_write_t w;
    wr_init(&w, OP_LOG_APPEND, f->ws, f->run);
    w.log_data = data;
    w.log_len = n;
    w.log_replace = replace;
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    store_write_release(&w);
}

static int setup(void **state)
{
    fault_vfs_install();
    fx_t *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "%s/syncrun-test-log.XXXXXX", fault_vfs_tmpdir());
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/test.db", f->dir);
    f->s = open_store(f->path);
    store_write_t w;
    wr_init(&w, OP_WORKSPACE_CREATE, 0, 0);
    w.name = "logs";
    w.key_scope = SCOPE_ADMIN;
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    f->ws = w.workspace_id;
    store_write_release(&w);
    wr_init(&w, OP_CONNECTION_CREATE, f->ws, 0);
    w.conn.name = "logged";
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    f->conn = w.conn.id;
    store_write_release(&w);
    wr_init(&w, OP_RUN_TRIGGER, f->ws, f->conn);
    w.trigger.tag = "API";
    w.trigger.initial_state = RUN_WORKING;
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    f->run = w.run.id;
    store_write_release(&w);
    *state = f;
    return 0;
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

static int teardown(void **state)
{
    fx_t *f = *state;
    store_close(f->s);
    remove_db(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* ---- the rules, as a plain buffer (what the store did before logs were chunked) ---- */

typedef struct model {
    char *data;
    size_t len;
    int64_t total;
} model_t;

static void model_append(model_t *m, size_t cap, const char *add, size_t n, int replace)
{
    if (replace) {
        m->len = 0;
        m->total = 0;
    }
    size_t keep_old = 0, keep_new = n;
    if (keep_new >= cap)
        keep_new = cap;
    else
        keep_old = m->len < cap - keep_new ? m->len : cap - keep_new;
    size_t len = keep_old + keep_new;
    char *buf = malloc(len + 1);
    assert_non_null(buf);
    if (keep_old > 0)
        memcpy(buf, m->data + (m->len - keep_old), keep_old);
    memcpy(buf + keep_old, add + (n - keep_new), keep_new);
    size_t skip = 0;
    if (len == cap && m->len + n > cap) {
        const char *nl = memchr(buf, '\n', len < 4096 ? len : 4096);
        if (nl != NULL)
            skip = (size_t)(nl - buf) + 1;
    }
    memmove(buf, buf + skip, len - skip);
    free(m->data);
    m->data = buf;
    m->len = len - skip;
    m->total += (int64_t)n;
}

static void check_against(fx_t *f, const model_t *m, int step)
{
    store_reader_t *r = store_reader_open(f->s);
    assert_non_null(r);
    arena_t a = ARENA_INIT;
    const char *data;
    size_t len;
    int64_t total;
    assert_int_equal(store_log_get(r, f->ws, f->run, &a, &data, &len, &total), STORE_OK);
    if (len != m->len || total != m->total || memcmp(data, m->data, len) != 0)
        fail_msg("step %d: the log has %zu bytes (total %lld), the rules say %zu (total %lld)", step, len,
                 (long long)total, m->len, (long long)m->total);
    arena_release(&a);
    store_reader_close(r);
}

/* Fills buf with n bytes of text whose lines are 1..max_line long. */
static void fill_text(char *buf, size_t n, unsigned *seed, int max_line)
{
    for (size_t i = 0; i < n; i++) {
        int c = (int)(rand_r(seed) % (unsigned)max_line);
        buf[i] = c == 0 ? '\n' : (char)('a' + c % 26);
    }
}

static void test_log_follows_the_tail_rules(void **state)
{
    fx_t *f = *state;
    model_t m = {NULL, 0, 0};
    unsigned seed = 9;
    enum { MAXN = 300 * 1024 };
    char *buf = malloc(MAXN);
    assert_non_null(buf);
    /* caps below, around and above the chunk size; appends from one byte to several chunks, lines
     * from short to longer than the newline search */
    static const struct {
        size_t cap, max_append;
        int max_line, appends;
    } phases[] = {
        {5000, 3000, 80, 200}, {5000, 12000, 9000, 60},  {200000, 150000, 500, 40},
        {1500, 700, 40, 80},   {70000, 70000, 6000, 60}, {1048576, 300000, 200, 12},
    };
    int step = 0;
    for (size_t p = 0; p < sizeof(phases) / sizeof(phases[0]); p++) {
        set_cap(f, (int64_t)phases[p].cap);
        for (int i = 0; i < phases[p].appends; i++, step++) {
            size_t n = 1 + rand_r(&seed) % phases[p].max_append;
            int replace = rand_r(&seed) % 50 == 0;
            fill_text(buf, n, &seed, phases[p].max_line);
            append(f, buf, n, replace);
            model_append(&m, phases[p].cap, buf, n, replace);
            check_against(f, &m, step);
        }
    }
    free(buf);
    free(m.data);
}

/* An append to a full log of 4 MiB writes a few pages: not the log (the old store rewrote it
 * whole, 4 MiB of WAL per append). Counted in bytes written to the WAL, not in time. */
static void test_log_append_writes_what_it_appends(void **state)
{
    fx_t *f = *state;
    enum { CAP = 4 * 1024 * 1024, FILL = 64 * 1024, SMALL = 1024, APPENDS = 32 };
    set_cap(f, CAP);
    static char buf[FILL];
    unsigned seed = 4;
    for (int i = 0; i < CAP / FILL + 4; i++) {
        fill_text(buf, FILL, &seed, 120);
        append(f, buf, FILL, 0);
    }
    store_close(f->s); /* checkpoints: the appends below start from an empty WAL */
    f->s = open_store(f->path);
    long long before = fault_wal_bytes();
    for (int i = 0; i < APPENDS; i++) {
        fill_text(buf, SMALL, &seed, 120);
        append(f, buf, SMALL, 0);
    }
    long long per_append = (fault_wal_bytes() - before) / APPENDS;
    print_message("a %d-byte append to a full %d-byte log wrote %lld bytes of WAL\n", SMALL, CAP, per_append);
    assert_true(per_append < 64 * 1024); /* a few pages; a rewrite would be 4 MiB */

    store_reader_t *r = store_reader_open(f->s);
    arena_t a = ARENA_INIT;
    const char *data;
    size_t len;
    int64_t total;
    assert_int_equal(store_log_get(r, f->ws, f->run, &a, &data, &len, &total), STORE_OK);
    assert_true(len <= CAP && len > CAP - 4096);
    assert_int_equal(total, (int64_t)(CAP / FILL + 4) * FILL + APPENDS * SMALL);
    assert_memory_equal(data + len - SMALL, buf, SMALL);
    arena_release(&a);
    store_reader_close(r);
}

/* A log written a line at a time is not a row per line: small appends fill the newest chunk. */
static void test_log_small_appends_share_chunks(void **state)
{
    fx_t *f = *state;
    enum { LINES = 2000 };
    for (int i = 0; i < LINES; i++) {
        char line[32];
        int n = snprintf(line, sizeof(line), "line %05d of many\n", i);
        append(f, line, (size_t)n, 0);
    }
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*), sum(length(data)) FROM run_log_chunks", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int chunks = sqlite3_column_int(st, 0);
    assert_int_equal(sqlite3_column_int(st, 1), LINES * 19);
    assert_true(chunks <= LINES * 19 / 4000 + 1); /* 4 KiB chunks, not one per line */
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void exec_ok(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
}

/* A database at schema 4 keeps one blob per log; opening it moves the logs into chunks. */
static void test_log_migrates_from_schema_4(void **state)
{
    fx_t *f = *state;
    char old[400];
    snprintf(old, sizeof(old), "%s/v4.db", f->dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(old, &db), SQLITE_OK);
    exec_ok(db, "PRAGMA journal_mode = WAL");
    for (size_t i = 0; i < 4; i++)
        exec_ok(db, schema_migrations[i]);
    exec_ok(db, "PRAGMA user_version = 4;"
                "INSERT INTO workspaces (id, uuid, name, created_at) VALUES (1, 'w', 'old', 1);"
                "INSERT INTO connections (id, uuid, workspace_id, name, created_at, updated_at) "
                "VALUES (1, 'c', 1, 'old', 1, 1);"
                "INSERT INTO runs (id, uuid, workspace_id, connection_id, run_count, state, created_at, updated_at) "
                "VALUES (1, 'r1', 1, 1, 1, 3, 1, 1), (2, 'r2', 1, 1, 2, 3, 1, 1), (3, 'r3', 1, 1, 3, 3, 1, 1);");
    enum { BIG = 150 * 1024 };
    static char big[BIG];
    unsigned seed = 7;
    fill_text(big, BIG, &seed, 100);
    sqlite3_stmt *st = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(db, "INSERT INTO run_logs (run_id, data, total) VALUES (?1, ?2, ?3)", -1, &st, NULL),
        SQLITE_OK);
    static const struct {
        int64_t run;
        int len;
        int64_t total;
    } logs[] = {{1, BIG, 9000000}, {2, 0, 0}, {3, 11, 11}};
    for (size_t i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
        sqlite3_bind_int64(st, 1, logs[i].run);
        sqlite3_bind_blob(st, 2, logs[i].run == 3 ? "hello\nworld" : big, logs[i].len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, logs[i].total);
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);

    store_t *s = open_store(old);
    store_reader_t *r = store_reader_open(s);
    arena_t a = ARENA_INIT;
    const char *data;
    size_t len;
    int64_t total;
    assert_int_equal(store_log_get(r, 1, 1, &a, &data, &len, &total), STORE_OK);
    assert_int_equal(len, BIG);
    assert_int_equal(total, 9000000);
    assert_memory_equal(data, big, BIG);
    assert_int_equal(store_log_get(r, 1, 2, &a, &data, &len, &total), STORE_OK);
    assert_int_equal(len, 0);
    assert_int_equal(store_log_get(r, 1, 3, &a, &data, &len, &total), STORE_OK);
    assert_int_equal(len, 11);
    assert_memory_equal(data, "hello\nworld", 11);
    /* appends go on from the migrated log */
    store_write_t w;
    wr_init(&w, OP_LOG_APPEND, 1, 3);
    w.log_data = "!\n";
    w.log_len = 2;
    assert_int_equal(store_exec(s, &w), STORE_OK);
    store_write_release(&w);
    assert_int_equal(store_log_get(r, 1, 3, &a, &data, &len, &total), STORE_OK);
    assert_int_equal(len, 13);
    assert_memory_equal(data, "hello\nworld!\n", 13);
    assert_int_equal(total, 13);
    arena_release(&a);
    store_reader_close(r);
    store_close(s);

    assert_int_equal(sqlite3_open_v2(old, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT (SELECT count(*) FROM run_log_chunks WHERE run_id = 1), "
                                        "(SELECT max(length(data)) FROM run_log_chunks), "
                                        "(SELECT count(*) FROM pragma_table_info('run_logs') WHERE name = 'data')",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 3);         /* 150 KiB in chunks of 64 KiB */
    assert_int_equal(sqlite3_column_int(st, 1), 64 * 1024); /* none larger */
    assert_int_equal(sqlite3_column_int(st, 2), 0);         /* the old column is gone */
    sqlite3_finalize(st);
    sqlite3_close(db);
    remove_db(old);
}

/* The WAL stays bounded under writes that never pause: the writer does not checkpoint at every
 * 1,000 pages as SQLite would (a thread of the store does, beside it), but past 4,000 it does, so
 * the WAL starts over. 64 MiB appended, about 18,000 pages through the WAL: without checkpoints the
 * WAL would hold them all. */
static void test_wal_stays_bounded(void **state)
{
    fx_t *f = *state;
    enum { PIECE = 64 * 1024, APPENDS = 1024 };
    char *piece = malloc(PIECE);
    assert_non_null(piece);
    for (size_t i = 0; i < PIECE; i++)
        piece[i] = i % 80 == 79 ? '\n' : 'w';
    for (int i = 0; i < APPENDS; i++)
        append(f, piece, PIECE, 0);
    free(piece);
    char wal[400];
    struct stat sb;
    snprintf(wal, sizeof(wal), "%s-wal", f->path);
    assert_int_equal(stat(wal, &sb), 0);
    /* at most the 4,000 pages (of 4 KiB) before a checkpoint, and the batch that passed them */
    if (sb.st_size > 24 * 1024 * 1024)
        fail_msg("the WAL grew to %lld bytes", (long long)sb.st_size);
    store_reader_t *r = store_reader_open(f->s);
    arena_t a = ARENA_INIT;
    const char *data;
    size_t len;
    int64_t total;
    assert_int_equal(store_log_get(r, f->ws, f->run, &a, &data, &len, &total), STORE_OK);
    assert_int_equal(total, (int64_t)PIECE * APPENDS);
    arena_release(&a);
    store_reader_close(r);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_log_follows_the_tail_rules),
        T(test_log_append_writes_what_it_appends),
        T(test_log_small_appends_share_chunks),
        T(test_log_migrates_from_schema_4),
        T(test_wal_stays_bounded),
    };
    return cmocka_run_group_tests_name("store log", tests, NULL, NULL);
}
