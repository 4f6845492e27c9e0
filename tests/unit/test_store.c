/* Tests for the store (src/store/store.h) through its public API, each on a fresh temporary
 * SQLite database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <unistd.h>

#include "model/paging.h"
#include "store/store.h"
#include "util/timeutil.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

typedef struct fx {
    char dir[256];
    char path[320];
    store_t *s;
    store_reader_t *r;
    int64_t ws, ws2;
    char token[IDS_TOKEN_LEN], token2[IDS_TOKEN_LEN];
    arena_t a; /* for reads; released by teardown */
} fx_t;

/* ---- helpers ---- */

static void wr_init(store_write_t *w, store_op_t op, int64_t ws, int64_t id)
{
    memset(w, 0, sizeof(*w));
    w->op = op;
    w->workspace_id = ws;
    w->id = id;
}

static void open_store(fx_t *f)
{
    char err[256] = "";
    if (store_open(f->path, &f->s, err, sizeof(err)) != 0)
        fail_msg("store_open(%s): %s", f->path, err);
    f->r = store_reader_open(f->s);
    assert_non_null(f->r);
}

static void close_store(fx_t *f)
{
    store_reader_close(f->r);
    f->r = NULL;
    store_close(f->s);
    f->s = NULL;
}

static int64_t mk_workspace(fx_t *f, const char *name, char token[IDS_TOKEN_LEN])
{
    store_write_t w;
    wr_init(&w, OP_WORKSPACE_CREATE, 0, 0);
    w.name = name;
    w.key_scope = SCOPE_ADMIN;
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    assert_true(w.workspace_id > 0);
    assert_true(w.key_id > 0);
    assert_int_equal(ids_is_uuid(w.workspace_uuid), 1);
    if (token != NULL)
        memcpy(token, w.token, IDS_TOKEN_LEN);
    store_write_release(&w);
    return w.workspace_id;
}

static int64_t mk_conn(fx_t *f, int64_t ws, const char *name, overlap_policy_t overlap)
{
    store_write_t w;
    wr_init(&w, OP_CONNECTION_CREATE, ws, 0);
    w.conn.name = name;
    w.conn.source = "warehouse";
    w.conn.destination = "crm";
    w.conn.overlap = overlap;
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    int64_t id = w.conn.id;
    assert_true(id > 0);
    assert_int_equal(w.conn.overlap, overlap);
    store_write_release(&w);
    return id;
}

typedef struct trig {
    store_err_t err;
    trigger_outcome_t outcome;
    int64_t run_id, run_count;
    run_state_t state;
    run_result_t result;
} trig_t;

static trig_t do_trigger(fx_t *f, int64_t ws, int64_t conn, run_state_t initial, const char *tag)
{
    store_write_t w;
    wr_init(&w, OP_RUN_TRIGGER, ws, conn);
    w.trigger.tag = tag;
    w.trigger.initial_state = initial;
    trig_t t;
    memset(&t, 0, sizeof(t));
    t.err = store_exec(f->s, &w);
    t.outcome = w.trigger_outcome;
    t.run_id = w.run.id;
    t.run_count = w.run.run_count;
    t.state = w.run.state;
    t.result = w.run.result;
    store_write_release(&w);
    return t;
}

static int64_t trigger_ok(fx_t *f, int64_t ws, int64_t conn, run_state_t initial, const char *tag)
{
    trig_t t = do_trigger(f, ws, conn, initial, tag);
    assert_int_equal(t.err, STORE_OK);
    assert_true(t.run_id > 0);
    return t.run_id;
}

static store_err_t finish_run(fx_t *f, int64_t ws, int64_t run, run_result_t result)
{
    store_write_t w;
    wr_init(&w, OP_RUN_FINISH, ws, run);
    w.run.result = result;
    store_err_t e = store_exec(f->s, &w);
    store_write_release(&w);
    return e;
}

static store_err_t update_state(fx_t *f, int64_t ws, int64_t run, run_state_t to)
{
    store_write_t w;
    wr_init(&w, OP_RUN_UPDATE, ws, run);
    w.mask = RUN_F_STATE;
    w.run.state = to;
    store_err_t e = store_exec(f->s, &w);
    store_write_release(&w);
    return e;
}

static run_t get_run(fx_t *f, int64_t ws, int64_t id)
{
    run_t r;
    memset(&r, 0, sizeof(r));
    assert_int_equal(store_run_get(f->r, ws, id, &f->a, &r), STORE_OK);
    return r;
}

static connection_t get_conn(fx_t *f, int64_t ws, int64_t id)
{
    connection_t c;
    memset(&c, 0, sizeof(c));
    assert_int_equal(store_connection_get(f->r, ws, id, &f->a, &c), STORE_OK);
    return c;
}

static int event_count(fx_t *f, int64_t ws, int64_t run)
{
    run_event_t *ev = NULL;
    int n = -1;
    assert_int_equal(store_event_list(f->r, ws, run, 0, 1000, &f->a, &ev, &n), STORE_OK);
    return n;
}

/* ---- fixture: a fresh database with two workspaces ---- */

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof(f->dir), "%s/syncrun-test-store.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/test.db", f->dir);
    open_store(f);
    assert_int_equal(store_workspace_count(f->s), 0);
    f->ws = mk_workspace(f, "one", f->token);
    f->ws2 = mk_workspace(f, "two", f->token2);
    assert_int_not_equal(f->ws, f->ws2);
    *state = f;
    return 0;
}

static void remove_db_files(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < COUNT(suffixes); i++) {
        char p[400];
        snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
        unlink(p);
    }
}

static int teardown(void **state)
{
    fx_t *f = *state;
    if (f->s != NULL)
        close_store(f);
    arena_release(&f->a);
    remove_db_files(f->path);
    char other[400];
    snprintf(other, sizeof(other), "%s/other.db", f->dir);
    remove_db_files(other);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* ---- open and migrate ---- */

static void test_open_and_reopen(void **state)
{
    fx_t *f = *state;
    assert_int_equal(store_workspace_count(f->s), 2);
    close_store(f);
    open_store(f); /* migrations already applied: a no-op */
    assert_int_equal(store_workspace_count(f->s), 2);
    assert_string_equal(store_strerror(STORE_OK), "ok");
    assert_non_null(store_strerror(STORE_NOT_FOUND));
    assert_string_not_equal(store_strerror(STORE_NOT_FOUND), store_strerror(STORE_FINISHED));

    /* an unopenable path is an error with a message, not a crash */
    store_t *s = NULL;
    char err[256] = "";
    assert_int_equal(store_open("/nonexistent-dir-for-syncrun-tests/x.db", &s, err, sizeof(err)), -1);
    assert_true(strlen(err) > 0);
}

static void test_open_refuses_newer_schema(void **state)
{
    fx_t *f = *state;
    char other[400];
    snprintf(other, sizeof(other), "%s/other.db", f->dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(other, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 9999", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    store_t *s = NULL;
    char err[256] = "";
    assert_int_equal(store_open(other, &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "newer"));
}

/* ---- workspaces and keys ---- */

static void test_workspace_keys(void **state)
{
    fx_t *f = *state;
    assert_int_equal(strlen(f->token), IDS_TOKEN_LEN - 1);
    assert_memory_equal(f->token, "sr_", 3);
    assert_string_not_equal(f->token, f->token2);

    api_key_info_t k;
    memset(&k, 0, sizeof(k));
    assert_int_equal(store_key_lookup(f->r, f->token, &k), STORE_OK);
    assert_int_equal(k.workspace_id, f->ws);
    assert_int_equal(k.scope, SCOPE_ADMIN);
    int64_t admin_key = k.key_id;
    assert_true(admin_key > 0);
    assert_int_equal(store_key_lookup(f->r, f->token2, &k), STORE_OK);
    assert_int_equal(k.workspace_id, f->ws2);

    /* near misses are not keys */
    char bad[IDS_TOKEN_LEN];
    memcpy(bad, f->token, sizeof(bad));
    bad[10] = bad[10] == 'a' ? 'b' : 'a';
    assert_int_equal(store_key_lookup(f->r, bad, &k), STORE_NOT_FOUND);
    assert_int_equal(store_key_lookup(f->r, "", &k), STORE_NOT_FOUND);
    bad[IDS_TOKEN_LEN - 2] = '\0';
    memcpy(bad, f->token, IDS_TOKEN_LEN - 2); /* a prefix of the token */
    assert_int_equal(store_key_lookup(f->r, bad, &k), STORE_NOT_FOUND);

    /* a second key with a narrower scope */
    store_write_t w;
    wr_init(&w, OP_KEY_CREATE, f->ws, 0);
    w.key_scope = SCOPE_RUNS_READ;
    w.name = "dashboard";
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    char read_token[IDS_TOKEN_LEN];
    memcpy(read_token, w.token, sizeof(read_token));
    int64_t read_key = w.key_id;
    store_write_release(&w);
    assert_true(read_key > 0 && read_key != admin_key);
    assert_int_equal(strlen(read_token), IDS_TOKEN_LEN - 1);
    assert_int_equal(store_key_lookup(f->r, read_token, &k), STORE_OK);
    assert_int_equal(k.key_id, read_key);
    assert_int_equal(k.workspace_id, f->ws);
    assert_int_equal(k.scope, SCOPE_RUNS_READ);

    api_key_row_t *rows = NULL;
    int n = 0, more = 1;
    assert_int_equal(store_key_list(f->r, f->ws, 0, 100, &f->a, &rows, &n, &more), STORE_OK);
    assert_int_equal(more, 0);
    assert_int_equal(n, 2);
    assert_int_equal(rows[0].id, admin_key);
    assert_int_equal(rows[0].scope, SCOPE_ADMIN);
    assert_int_equal(rows[1].id, read_key);
    assert_int_equal(rows[1].scope, SCOPE_RUNS_READ);
    assert_string_equal(rows[1].name, "dashboard");
    for (int i = 0; i < n; i++) {
        const char *tok = i == 0 ? f->token : read_token;
        size_t plen = strlen(rows[i].prefix);
        assert_true(plen > 3 && plen < 20); /* recognisable, far from the whole secret */
        assert_memory_equal(rows[i].prefix, tok, plen);
        assert_true(rows[i].created_at > 0);
    }
    assert_int_equal(store_key_list(f->r, f->ws2, 0, 100, &f->a, &rows, &n, &more), STORE_OK);
    assert_int_equal(n, 1);

    /* a key for a workspace that does not exist */
    wr_init(&w, OP_KEY_CREATE, 999999, 0);
    w.key_scope = SCOPE_ADMIN;
    assert_int_equal(store_exec(f->s, &w), STORE_NOT_FOUND);
    store_write_release(&w);
    assert_int_equal(store_workspace_count(f->s), 2);
}

/* The token is stored only as a hash: its text appears nowhere in the database files. */
static void test_token_not_stored(void **state)
{
    fx_t *f = *state;
    char token[IDS_TOKEN_LEN];
    memcpy(token, f->token, sizeof(token));
    close_store(f); /* checkpoints the WAL into the main file */
    static const char *const suffixes[] = {"", "-wal"};
    for (size_t i = 0; i < COUNT(suffixes); i++) {
        char p[400];
        snprintf(p, sizeof(p), "%s%s", f->path, suffixes[i]);
        FILE *fp = fopen(p, "rb");
        if (fp == NULL)
            continue;
        fseek(fp, 0, SEEK_END);
        long size = ftell(fp);
        fseek(fp, 0, SEEK_SET);
        char *data = malloc((size_t)size + 1);
        assert_non_null(data);
        assert_int_equal(fread(data, 1, (size_t)size, fp), (size_t)size);
        fclose(fp);
        assert_null(memmem(data, (size_t)size, token, strlen(token)));
        assert_null(memmem(data, (size_t)size, token + 3, 20)); /* nor a large part of it */
        free(data);
    }
    open_store(f);
    api_key_info_t k;
    assert_int_equal(store_key_lookup(f->r, token, &k), STORE_OK);
    assert_int_equal(k.workspace_id, f->ws);
}

/* OAuth access tokens of a key: found as the key (with their expiry), stored only as a hash, dead
 * once expired or once the key is revoked; a revoked or run-limited key gets none. */
static void test_access_tokens(void **state)
{
    fx_t *f = *state;
    store_write_t w;
    wr_init(&w, OP_KEY_CREATE, f->ws, 0);
    w.key_scope = SCOPE_RUNS_READ;
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    int64_t key = w.key_id;
    store_write_release(&w);

    char tok[2][IDS_TOKEN_LEN];
    for (int i = 0; i < 2; i++) {
        wr_init(&w, OP_ACCESS_TOKEN_CREATE, f->ws, 0);
        w.key_id = key;
        int64_t before = time_now_ms();
        assert_int_equal(store_exec(f->s, &w), STORE_OK);
        assert_int_equal(w.key_scope, SCOPE_RUNS_READ);
        memcpy(tok[i], w.token, IDS_TOKEN_LEN);
        store_write_release(&w);
        api_key_info_t k;
        memset(&k, 0, sizeof(k));
        assert_int_equal(store_key_lookup(f->r, tok[i], &k), STORE_OK);
        assert_int_equal(k.key_id, key);
        assert_int_equal(k.workspace_id, f->ws);
        assert_int_equal(k.scope, SCOPE_RUNS_READ);
        assert_true(k.expires_at >= before + STORE_ACCESS_TOKEN_TTL_S * 1000LL);
        assert_true(k.expires_at <= time_now_ms() + STORE_ACCESS_TOKEN_TTL_S * 1000LL);
    }
    assert_string_not_equal(tok[0], tok[1]);

    /* another workspace's key, an unknown key: no token */
    wr_init(&w, OP_ACCESS_TOKEN_CREATE, f->ws2, 0);
    w.key_id = key;
    assert_int_equal(store_exec(f->s, &w), STORE_NOT_FOUND);
    store_write_release(&w);
    wr_init(&w, OP_ACCESS_TOKEN_CREATE, f->ws, 0);
    w.key_id = 999999;
    assert_int_equal(store_exec(f->s, &w), STORE_NOT_FOUND);
    store_write_release(&w);

    /* an expired token is not found (its row made old, as time would) */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char hash[IDS_SHA256_HEX_LEN], sql[256];
    ids_sha256_hex(tok[0], strlen(tok[0]), hash);
    snprintf(sql, sizeof(sql), "UPDATE access_tokens SET expires_at = 1 WHERE token_hash = '%s'", hash);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_changes(db), 1);
    sqlite3_close(db);
    api_key_info_t k;
    assert_int_equal(store_key_lookup(f->r, tok[0], &k), STORE_NOT_FOUND);
    assert_int_equal(store_key_lookup(f->r, tok[1], &k), STORE_OK);

    /* a key keeps at most STORE_ACCESS_TOKENS_PER_KEY live tokens: a new one ends the oldest */
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    snprintf(sql, sizeof(sql),
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d) "
             "INSERT INTO access_tokens (key_id, token_hash, created_at, expires_at) "
             "SELECT %lld, 'filler' || i, 1, 9000000000000 FROM n",
             STORE_ACCESS_TOKENS_PER_KEY, (long long)key);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    wr_init(&w, OP_ACCESS_TOKEN_CREATE, f->ws, 0);
    w.key_id = key;
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    char newest[IDS_TOKEN_LEN];
    memcpy(newest, w.token, IDS_TOKEN_LEN);
    store_write_release(&w);
    sqlite3_stmt *st = NULL;
    snprintf(sql, sizeof(sql),
             "SELECT count(*), min(token_hash = 'filler1'), sum(token_hash = 'filler2') "
             "FROM access_tokens WHERE key_id = %lld",
             (long long)key);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), STORE_ACCESS_TOKENS_PER_KEY);
    /* 1 + 1000 live before: the two oldest went (tok[1], filler1), the next stays */
    assert_int_equal(sqlite3_column_int(st, 1), 0);
    assert_int_equal(sqlite3_column_int(st, 2), 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
    assert_int_equal(store_key_lookup(f->r, tok[1], &k), STORE_NOT_FOUND); /* older than the fillers */
    assert_int_equal(store_key_lookup(f->r, newest, &k), STORE_OK);

    /* revoking the key kills its tokens, and it gets no new one */
    wr_init(&w, OP_KEY_REVOKE, f->ws, 0);
    w.key_id = key;
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    store_write_release(&w);
    assert_int_equal(store_key_lookup(f->r, newest, &k), STORE_NOT_FOUND);
    wr_init(&w, OP_ACCESS_TOKEN_CREATE, f->ws, 0);
    w.key_id = key;
    assert_int_equal(store_exec(f->s, &w), STORE_NOT_FOUND);
    store_write_release(&w);

    /* a key limited to one run (a managed command's token) is no OAuth client */
    int64_t conn = mk_conn(f, f->ws, "oauth", OVERLAP_QUEUE);
    int64_t run = trigger_ok(f, f->ws, conn, RUN_WORKING, "API");
    wr_init(&w, OP_KEY_CREATE, f->ws, run);
    w.key_scope = SCOPE_RUNS_WRITE;
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    int64_t run_key = w.key_id;
    store_write_release(&w);
    wr_init(&w, OP_ACCESS_TOKEN_CREATE, f->ws, 0);
    w.key_id = run_key;
    assert_int_equal(store_exec(f->s, &w), STORE_NOT_FOUND);
    store_write_release(&w);
}

/* ---- connections ---- */

static void test_connection_crud(void **state)
{
    fx_t *f = *state;
    int64_t t0 = time_now_ms();
    store_write_t w;
    wr_init(&w, OP_CONNECTION_CREATE, f->ws, 0);
    w.conn.name = "orders to crm";
    w.conn.source = "snowflake";
    w.conn.destination = "salesforce";
    w.conn.connector_type = "census";
    w.conn.overlap = OVERLAP_QUEUE;
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    connection_t c = w.conn;
    int64_t id = c.id;
    char uuid[IDS_UUID_LEN];
    memcpy(uuid, c.uuid, sizeof(uuid));
    assert_true(id > 0);
    assert_int_equal(ids_is_uuid(c.uuid), 1);
    assert_int_equal(c.workspace_id, f->ws);
    assert_string_equal(c.name, "orders to crm");
    assert_string_equal(c.source, "snowflake");
    assert_string_equal(c.destination, "salesforce");
    assert_string_equal(c.connector_type, "census");
    assert_int_equal(c.overlap, OVERLAP_QUEUE);
    assert_int_equal(c.run_count, 0);
    assert_in_range(c.created_at, t0, time_now_ms());
    store_write_release(&w);

    connection_t g = get_conn(f, f->ws, id);
    assert_string_equal(g.name, "orders to crm");
    assert_string_equal(g.uuid, uuid);
    assert_string_equal(g.connector_type, "census");
    connection_t gu;
    assert_int_equal(store_connection_get_uuid(f->r, f->ws, uuid, &f->a, &gu), STORE_OK);
    assert_int_equal(gu.id, id);
    assert_int_equal(store_connection_get(f->r, f->ws, id + 1000, &f->a, &gu), STORE_NOT_FOUND);
    assert_int_equal(store_connection_get_uuid(f->r, f->ws, "00000000-0000-4000-8000-000000000000", &f->a, &gu),
                     STORE_NOT_FOUND);

    /* update only what the mask names */
    wr_init(&w, OP_CONNECTION_UPDATE, f->ws, id);
    w.mask = CONN_F_NAME | CONN_F_OVERLAP;
    w.conn.name = "renamed";
    w.conn.source = "ignored: not in the mask";
    w.conn.overlap = OVERLAP_ATTACH;
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    assert_string_equal(w.conn.name, "renamed");
    assert_string_equal(w.conn.source, "snowflake");
    assert_int_equal(w.conn.overlap, OVERLAP_ATTACH);
    store_write_release(&w);
    g = get_conn(f, f->ws, id);
    assert_string_equal(g.name, "renamed");
    assert_string_equal(g.source, "snowflake");
    assert_string_equal(g.destination, "salesforce");
    assert_int_equal(g.overlap, OVERLAP_ATTACH);
    assert_true(g.updated_at >= g.created_at);

    /* clearing an optional field */
    wr_init(&w, OP_CONNECTION_UPDATE, f->ws, id);
    w.mask = CONN_F_CONNECTOR_TYPE;
    w.conn.connector_type = NULL;
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    store_write_release(&w);
    g = get_conn(f, f->ws, id);
    assert_null(g.connector_type);
    assert_string_equal(g.name, "renamed");

    wr_init(&w, OP_CONNECTION_UPDATE, f->ws, id + 1000);
    w.mask = CONN_F_NAME;
    w.conn.name = "x";
    assert_int_equal(store_exec(f->s, &w), STORE_NOT_FOUND);
    store_write_release(&w);

    /* delete: gone from get, get_uuid, list and further writes */
    wr_init(&w, OP_CONNECTION_DELETE, f->ws, id);
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    store_write_release(&w);
    assert_int_equal(store_connection_get(f->r, f->ws, id, &f->a, &gu), STORE_NOT_FOUND);
    assert_int_equal(store_connection_get_uuid(f->r, f->ws, uuid, &f->a, &gu), STORE_NOT_FOUND);
    connection_t *list = NULL;
    int n = -1;
    assert_int_equal(store_connection_list(f->r, f->ws, 0, 100, &f->a, &list, &n), STORE_OK);
    assert_int_equal(n, 0);
    wr_init(&w, OP_CONNECTION_DELETE, f->ws, id);
    assert_int_equal(store_exec(f->s, &w), STORE_NOT_FOUND);
    store_write_release(&w);
    wr_init(&w, OP_CONNECTION_UPDATE, f->ws, id);
    w.mask = CONN_F_NAME;
    w.conn.name = "back";
    assert_int_equal(store_exec(f->s, &w), STORE_NOT_FOUND);
    store_write_release(&w);
    assert_int_equal(do_trigger(f, f->ws, id, RUN_QUEUED, "API").err, STORE_NOT_FOUND);

    /* a connection in a workspace that does not exist */
    wr_init(&w, OP_CONNECTION_CREATE, 999999, 0);
    w.conn.name = "nowhere";
    assert_int_not_equal(store_exec(f->s, &w), STORE_OK);
    store_write_release(&w);
}

static void test_connection_list_keyset(void **state)
{
    fx_t *f = *state;
    int64_t ids[7];
    for (int i = 0; i < 7; i++) {
        char name[32];
        snprintf(name, sizeof(name), "conn-%d", i);
        ids[i] = mk_conn(f, f->ws, name, OVERLAP_SKIP);
        if (i > 0)
            assert_true(ids[i] > ids[i - 1]);
    }
    mk_conn(f, f->ws2, "other workspace", OVERLAP_SKIP);

    connection_t *list = NULL;
    int n = 0;
    assert_int_equal(store_connection_list(f->r, f->ws, 0, 100, &f->a, &list, &n), STORE_OK);
    assert_int_equal(n, 7);
    for (int i = 0; i < 7; i++) {
        char name[32];
        snprintf(name, sizeof(name), "conn-%d", i);
        assert_int_equal(list[i].id, ids[i]);
        assert_string_equal(list[i].name, name);
        assert_int_equal(list[i].workspace_id, f->ws);
    }
    /* pages of 3 by keyset: 3, 3, 1, then none */
    int64_t after = 0;
    int seen = 0;
    static const int sizes[] = {3, 3, 1, 0};
    for (size_t p = 0; p < COUNT(sizes); p++) {
        assert_int_equal(store_connection_list(f->r, f->ws, after, 3, &f->a, &list, &n), STORE_OK);
        assert_int_equal(n, sizes[p]);
        for (int i = 0; i < n; i++)
            assert_int_equal(list[i].id, ids[seen++]);
        if (n > 0)
            after = list[n - 1].id;
    }
    assert_int_equal(seen, 7);
    assert_int_equal(store_connection_list(f->r, f->ws, ids[4], 100, &f->a, &list, &n), STORE_OK);
    assert_int_equal(n, 2);
    assert_int_equal(list[0].id, ids[5]);
}

/* ---- runs: trigger and the overlap policies ---- */

static void test_trigger_fields(void **state)
{
    fx_t *f = *state;
    int64_t conn = mk_conn(f, f->ws, "c", OVERLAP_QUEUE);
    int64_t t0 = time_now_ms();
    store_write_t w;
    wr_init(&w, OP_RUN_TRIGGER, f->ws, conn);
    w.trigger.tag = "Manual";
    w.trigger.detail = "alice@example.com";
    w.trigger.full_sync = 1;
    w.trigger.scheduled_at = 1634698267546;
    w.trigger.initial_state = RUN_WORKING;
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    assert_int_equal(w.trigger_outcome, TRIGGER_CREATED);
    int64_t id = w.run.id;
    store_write_release(&w);
    int64_t t1 = time_now_ms();

    run_t r = get_run(f, f->ws, id);
    assert_int_equal(r.workspace_id, f->ws);
    assert_int_equal(r.connection_id, conn);
    assert_int_equal(ids_is_uuid(r.uuid), 1);
    connection_t c = get_conn(f, f->ws, conn);
    assert_string_equal(r.connection_uuid, c.uuid);
    assert_int_equal(r.run_count, 1);
    assert_int_equal(c.run_count, 1);
    assert_int_equal(r.state, RUN_WORKING);
    assert_int_equal(r.result, RESULT_NONE);
    assert_string_equal(r.trigger_tag, "Manual");
    assert_string_equal(r.trigger_detail, "alice@example.com");
    assert_int_equal(r.full_sync, 1);
    assert_int_equal(r.scheduled_at, 1634698267546);
    assert_in_range(r.created_at, t0, t1);
    assert_in_range(r.started_at, t0, t1); /* started at once */
    assert_int_equal(r.completed_at, 0);
    assert_int_equal(r.version, 1);
    for (int i = 0; i < CTR_COUNT; i++)
        assert_int_equal(r.counters[i], 0);

    run_t ru;
    assert_int_equal(store_run_get_uuid(f->r, f->ws, r.uuid, &f->a, &ru), STORE_OK);
    assert_int_equal(ru.id, id);
    assert_int_equal(store_run_get(f->r, f->ws, id + 1000, &f->a, &ru), STORE_NOT_FOUND);

    /* a queued trigger has no start time, and scheduled_at defaults to now */
    int64_t q = trigger_ok(f, f->ws, conn, RUN_QUEUED, "API");
    r = get_run(f, f->ws, q);
    assert_int_equal(r.state, RUN_QUEUED);
    assert_int_equal(r.started_at, 0);
    assert_int_equal(r.run_count, 2);
    assert_true(r.scheduled_at >= t0);
    assert_int_equal(r.full_sync, 0);
    assert_null(r.trigger_detail);

    assert_int_equal(do_trigger(f, f->ws, conn + 1000, RUN_QUEUED, "API").err, STORE_NOT_FOUND);
}

static void test_trigger_overlap_skip(void **state)
{
    fx_t *f = *state;
    int64_t conn = mk_conn(f, f->ws, "skip", OVERLAP_SKIP);
    trig_t a = do_trigger(f, f->ws, conn, RUN_WORKING, "API");
    assert_int_equal(a.err, STORE_OK);
    assert_int_equal(a.outcome, TRIGGER_CREATED);
    assert_int_equal(a.state, RUN_WORKING);

    trig_t b = do_trigger(f, f->ws, conn, RUN_WORKING, "API");
    assert_int_equal(b.err, STORE_OK);
    assert_int_equal(b.outcome, TRIGGER_SKIPPED);
    assert_int_not_equal(b.run_id, a.run_id); /* a new run, recorded at once as finished/skipped */
    assert_int_equal(b.run_count, 2);
    run_t r = get_run(f, f->ws, b.run_id);
    assert_int_equal(r.state, RUN_FINISHED);
    assert_int_equal(r.result, RESULT_SKIPPED);
    assert_true(r.completed_at > 0);
    assert_int_equal(get_run(f, f->ws, a.run_id).state, RUN_WORKING); /* the active run is untouched */

    /* once the active run finishes, a trigger creates a run again */
    assert_int_equal(finish_run(f, f->ws, a.run_id, RESULT_SUCCESS), STORE_OK);
    trig_t c = do_trigger(f, f->ws, conn, RUN_QUEUED, "API");
    assert_int_equal(c.outcome, TRIGGER_CREATED);
    assert_int_equal(c.state, RUN_QUEUED);
    assert_int_equal(c.run_count, 3);
    /* a queued run is also "in progress" for overlap */
    trig_t d = do_trigger(f, f->ws, conn, RUN_QUEUED, "API");
    assert_int_equal(d.outcome, TRIGGER_SKIPPED);
    assert_int_equal(d.run_count, 4);
    assert_int_equal(get_conn(f, f->ws, conn).run_count, 4);
}

static void test_trigger_overlap_queue(void **state)
{
    fx_t *f = *state;
    int64_t conn = mk_conn(f, f->ws, "queue", OVERLAP_QUEUE);
    trig_t a = do_trigger(f, f->ws, conn, RUN_WORKING, "API");
    assert_int_equal(a.outcome, TRIGGER_CREATED);
    assert_int_equal(a.state, RUN_WORKING);
    /* behind an active run, a new run waits in the queue even when asked to start working */
    trig_t b = do_trigger(f, f->ws, conn, RUN_WORKING, "API");
    assert_int_equal(b.err, STORE_OK);
    assert_int_equal(b.outcome, TRIGGER_CREATED);
    assert_int_not_equal(b.run_id, a.run_id);
    assert_int_equal(b.state, RUN_QUEUED);
    assert_int_equal(b.run_count, 2);
    trig_t c = do_trigger(f, f->ws, conn, RUN_QUEUED, "API");
    assert_int_equal(c.outcome, TRIGGER_CREATED);
    assert_int_equal(c.state, RUN_QUEUED);
    assert_int_equal(c.run_count, 3);
    assert_int_equal(get_conn(f, f->ws, conn).run_count, 3);
    /* the queued run then runs */
    assert_int_equal(finish_run(f, f->ws, a.run_id, RESULT_SUCCESS), STORE_OK);
    assert_int_equal(update_state(f, f->ws, b.run_id, RUN_WORKING), STORE_OK);
    assert_int_equal(get_run(f, f->ws, b.run_id).state, RUN_WORKING);
}

static void test_trigger_overlap_attach(void **state)
{
    fx_t *f = *state;
    int64_t conn = mk_conn(f, f->ws, "attach", OVERLAP_ATTACH);
    trig_t a = do_trigger(f, f->ws, conn, RUN_WORKING, "API");
    assert_int_equal(a.outcome, TRIGGER_CREATED);
    trig_t b = do_trigger(f, f->ws, conn, RUN_WORKING, "API");
    assert_int_equal(b.err, STORE_OK);
    assert_int_equal(b.outcome, TRIGGER_ATTACHED);
    assert_int_equal(b.run_id, a.run_id); /* no new run: the one in progress */
    assert_int_equal(b.run_count, 1);
    assert_int_equal(get_conn(f, f->ws, conn).run_count, 1);
    /* attaching changes no field of the run; its audit trail records the trigger that joined it */
    assert_int_equal(event_count(f, f->ws, a.run_id), 2);
    assert_int_equal(get_run(f, f->ws, a.run_id).version, 1);
    assert_int_equal(finish_run(f, f->ws, a.run_id, RESULT_ERROR), STORE_OK);
    trig_t c = do_trigger(f, f->ws, conn, RUN_WORKING, "API");
    assert_int_equal(c.outcome, TRIGGER_CREATED);
    assert_int_not_equal(c.run_id, a.run_id);
    assert_int_equal(c.run_count, 2);
}

/* attach_active (iTwin's 303, Braze's 429): while a run is queued or working the trigger attaches to
 * it whatever the connection's overlap policy; otherwise it creates a run as usual. */
static void test_trigger_attach_active(void **state)
{
    fx_t *f = *state;
    static const overlap_policy_t policies[] = {OVERLAP_SKIP, OVERLAP_QUEUE, OVERLAP_REPLACE, OVERLAP_ATTACH};
    for (size_t i = 0; i < COUNT(policies); i++) {
        int64_t conn = mk_conn(f, f->ws, "attach-active", policies[i]);
        store_write_t w;
        int64_t first = 0;
        for (int k = 0; k < 3; k++) {
            wr_init(&w, OP_RUN_TRIGGER, f->ws, conn);
            w.trigger.tag = "API";
            w.trigger.initial_state = RUN_QUEUED;
            w.trigger.attach_active = 1;
            assert_int_equal(store_exec(f->s, &w), STORE_OK);
            assert_int_equal(w.trigger_outcome, k == 0 ? TRIGGER_CREATED : TRIGGER_ATTACHED);
            if (k == 0)
                first = w.run.id;
            assert_int_equal(w.run.id, first);
            assert_int_equal(w.run.state, RUN_QUEUED); /* the active run is left as it was */
            store_write_release(&w);
        }
        assert_int_equal(get_conn(f, f->ws, conn).run_count, 1);
        assert_int_equal(finish_run(f, f->ws, first, RESULT_SUCCESS), STORE_OK);
        wr_init(&w, OP_RUN_TRIGGER, f->ws, conn);
        w.trigger.attach_active = 1;
        assert_int_equal(store_exec(f->s, &w), STORE_OK);
        assert_int_equal(w.trigger_outcome, TRIGGER_CREATED);
        assert_int_not_equal(w.run.id, first);
        store_write_release(&w);
    }
}

static void test_trigger_idempotency(void **state)
{
    fx_t *f = *state;
    int64_t conn = mk_conn(f, f->ws, "idem", OVERLAP_QUEUE);
    store_write_t w;
    wr_init(&w, OP_RUN_TRIGGER, f->ws, conn);
    w.trigger.idempotency_key = "key-1";
    w.trigger.idempotency_hash = "hash-a";
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    assert_int_equal(w.trigger_outcome, TRIGGER_CREATED);
    int64_t id = w.run.id;
    store_write_release(&w);

    wr_init(&w, OP_RUN_TRIGGER, f->ws, conn);
    w.trigger.idempotency_key = "key-1";
    w.trigger.idempotency_hash = "hash-a";
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    assert_int_equal(w.trigger_outcome, TRIGGER_REPLAYED);
    assert_int_equal(w.run.id, id);
    store_write_release(&w);

    wr_init(&w, OP_RUN_TRIGGER, f->ws, conn);
    w.trigger.idempotency_key = "key-1";
    w.trigger.idempotency_hash = "hash-b";
    assert_int_equal(store_exec(f->s, &w), STORE_IDEM_REUSED);
    assert_non_null(w.err_field);
    store_write_release(&w);
    assert_int_equal(get_conn(f, f->ws, conn).run_count, 1);

    /* another key is another run */
    wr_init(&w, OP_RUN_TRIGGER, f->ws, conn);
    w.trigger.idempotency_key = "key-2";
    w.trigger.idempotency_hash = "hash-a";
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    assert_int_equal(w.trigger_outcome, TRIGGER_CREATED);
    assert_int_not_equal(w.run.id, id);
    store_write_release(&w);
    assert_int_equal(get_conn(f, f->ws, conn).run_count, 2);
}

/* ---- runs: update, finish, cancel ---- */

static void test_run_update(void **state)
{
    fx_t *f = *state;
    int64_t conn = mk_conn(f, f->ws, "u", OVERLAP_QUEUE);
    int64_t id = trigger_ok(f, f->ws, conn, RUN_QUEUED, "API");
    run_t r0 = get_run(f, f->ws, id);

    store_write_t w;
    wr_init(&w, OP_RUN_UPDATE, f->ws, id);
    w.mask = RUN_F_STATE | RUN_F_STEP | RUN_F_WATERMARK | RUN_F_MESSAGE | (RUN_F_COUNTER0 << CTR_RECORDS_PROCESSED) |
             (RUN_F_COUNTER0 << CTR_RECORDS_FAILED);
    w.run.state = RUN_WORKING;
    w.run.current_step = "extracting";
    w.run.watermark = 1634698267546;
    w.run.message = "halfway";
    w.run.counters[CTR_RECORDS_PROCESSED] = 1000;
    w.run.counters[CTR_RECORDS_FAILED] = 7;
    w.run.counters[CTR_RECORDS_UPDATED] = 555; /* not in the mask */
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    store_write_release(&w);

    run_t r = get_run(f, f->ws, id);
    assert_int_equal(r.state, RUN_WORKING);
    assert_true(r.started_at > 0);
    assert_string_equal(r.current_step, "extracting");
    assert_int_equal(r.watermark, 1634698267546);
    assert_string_equal(r.message, "halfway");
    assert_int_equal(r.counters[CTR_RECORDS_PROCESSED], 1000);
    assert_int_equal(r.counters[CTR_RECORDS_FAILED], 7);
    assert_int_equal(r.counters[CTR_RECORDS_UPDATED], 0);
    assert_int_equal(r.version, r0.version + 1);
    assert_true(r.updated_at >= r0.updated_at);
    int attempt = r.attempt;

    /* retrying does not count an attempt; back to working begins the next one (docs/API.md) */
    assert_int_equal(update_state(f, f->ws, id, RUN_RETRYING), STORE_OK);
    r = get_run(f, f->ws, id);
    assert_int_equal(r.state, RUN_RETRYING);
    assert_int_equal(r.attempt, attempt);
    assert_int_equal(update_state(f, f->ws, id, RUN_WORKING), STORE_OK);
    r = get_run(f, f->ws, id);
    assert_int_equal(r.state, RUN_WORKING);
    assert_int_equal(r.attempt, attempt + 1);
    assert_string_equal(r.current_step, "extracting"); /* untouched fields stay */
    assert_int_equal(r.counters[CTR_RECORDS_PROCESSED], 1000);
    int64_t version = r.version;
    int events = event_count(f, f->ws, id);

    /* refused changes change nothing */
    store_write_t b;
    wr_init(&b, OP_RUN_UPDATE, f->ws, id);
    b.mask = RUN_F_STATE | RUN_F_MESSAGE;
    b.run.state = RUN_QUEUED; /* a started run never goes back to the queue */
    b.run.message = "must not be stored";
    assert_int_equal(store_exec(f->s, &b), STORE_BAD_STATE);
    assert_non_null(b.err_field);
    assert_string_equal(b.err_field, "state");
    store_write_release(&b);
    wr_init(&b, OP_RUN_UPDATE, f->ws, id);
    b.mask = RUN_F_STATE;
    b.run.state = RUN_FINISHED; /* finishing is OP_RUN_FINISH */
    assert_int_equal(store_exec(f->s, &b), STORE_BAD_STATE);
    store_write_release(&b);
    r = get_run(f, f->ws, id);
    assert_int_equal(r.version, version);
    assert_string_equal(r.message, "halfway");
    assert_int_equal(r.state, RUN_WORKING);
    assert_int_equal(event_count(f, f->ws, id), events);

    assert_int_equal(update_state(f, f->ws, id + 1000, RUN_WORKING), STORE_NOT_FOUND);
}

static void test_run_finish(void **state)
{
    fx_t *f = *state;
    int64_t conn = mk_conn(f, f->ws, "fin", OVERLAP_QUEUE);
    int64_t id = trigger_ok(f, f->ws, conn, RUN_WORKING, "API");
    store_write_t w;
    wr_init(&w, OP_RUN_UPDATE, f->ws, id);
    w.mask = RUN_F_STEP;
    w.run.current_step = "loading";
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    store_write_release(&w);

    /* a finish needs a result, and skipped only fits a run that never started */
    assert_int_equal(finish_run(f, f->ws, id, RESULT_NONE), STORE_BAD_STATE);
    assert_int_equal(finish_run(f, f->ws, id, RESULT_SKIPPED), STORE_BAD_STATE);
    assert_int_equal(get_run(f, f->ws, id).state, RUN_WORKING);

    int64_t t0 = time_now_ms();
    wr_init(&w, OP_RUN_FINISH, f->ws, id);
    w.run.result = RESULT_PARTIAL;
    w.mask = RUN_F_MESSAGE | RUN_F_ERROR | (RUN_F_COUNTER0 << CTR_RECORDS_UPDATED);
    w.run.message = "done with rejects";
    w.run.error_code = "invalid_records";
    w.run.error_message = "3 records were rejected";
    w.run.counters[CTR_RECORDS_UPDATED] = 42;
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    assert_int_equal(w.run.state, RUN_FINISHED);
    assert_int_equal(w.run.result, RESULT_PARTIAL);
    store_write_release(&w);
    run_t r = get_run(f, f->ws, id);
    assert_int_equal(r.state, RUN_FINISHED);
    assert_int_equal(r.result, RESULT_PARTIAL);
    assert_in_range(r.completed_at, t0, time_now_ms());
    assert_true(r.completed_at >= r.started_at);
    assert_string_equal(r.message, "done with rejects");
    assert_string_equal(r.error_code, "invalid_records");
    assert_string_equal(r.error_message, "3 records were rejected");
    assert_null(r.error_detail);
    assert_int_equal(r.counters[CTR_RECORDS_UPDATED], 42);
    assert_null(r.current_step); /* the step is only shown while the run is live */

    /* a queued run may be finished as skipped */
    int64_t q = trigger_ok(f, f->ws, conn, RUN_QUEUED, "API");
    assert_int_equal(finish_run(f, f->ws, q, RESULT_SKIPPED), STORE_OK);
    r = get_run(f, f->ws, q);
    assert_int_equal(r.result, RESULT_SKIPPED);
    assert_int_equal(finish_run(f, f->ws, id + 1000, RESULT_SUCCESS), STORE_NOT_FOUND);
}

static void test_run_cancel(void **state)
{
    fx_t *f = *state;
    int64_t conn = mk_conn(f, f->ws, "cancel", OVERLAP_QUEUE);
    int64_t id = trigger_ok(f, f->ws, conn, RUN_QUEUED, "API");
    store_write_t w;
    wr_init(&w, OP_RUN_CANCEL, f->ws, id);
    w.mask = RUN_F_MESSAGE;
    w.run.message = "canceled by alice";
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    store_write_release(&w);
    run_t r = get_run(f, f->ws, id);
    assert_int_equal(r.state, RUN_FINISHED);
    assert_int_equal(r.result, RESULT_CANCELED);
    assert_true(r.completed_at > 0);
    assert_string_equal(r.message, "canceled by alice");

    int64_t id2 = trigger_ok(f, f->ws, conn, RUN_WORKING, "API");
    wr_init(&w, OP_RUN_CANCEL, f->ws, id2);
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    store_write_release(&w);
    assert_int_equal(get_run(f, f->ws, id2).result, RESULT_CANCELED);

    wr_init(&w, OP_RUN_CANCEL, f->ws, id2 + 1000);
    assert_int_equal(store_exec(f->s, &w), STORE_NOT_FOUND);
    store_write_release(&w);
}

static void test_finished_is_immutable(void **state)
{
    fx_t *f = *state;
    int64_t conn = mk_conn(f, f->ws, "imm", OVERLAP_QUEUE);
    int64_t id = trigger_ok(f, f->ws, conn, RUN_WORKING, "API");
    assert_int_equal(finish_run(f, f->ws, id, RESULT_SUCCESS), STORE_OK);
    run_t before = get_run(f, f->ws, id);
    int events = event_count(f, f->ws, id);

    store_write_t w;
    wr_init(&w, OP_RUN_UPDATE, f->ws, id);
    w.mask = RUN_F_MESSAGE | (RUN_F_COUNTER0 << CTR_RECORDS_PROCESSED);
    w.run.message = "late";
    w.run.counters[CTR_RECORDS_PROCESSED] = 99;
    assert_int_equal(store_exec(f->s, &w), STORE_FINISHED);
    store_write_release(&w);
    assert_int_equal(update_state(f, f->ws, id, RUN_WORKING), STORE_FINISHED);
    assert_int_equal(finish_run(f, f->ws, id, RESULT_ERROR), STORE_FINISHED);
    assert_int_equal(finish_run(f, f->ws, id, RESULT_SUCCESS), STORE_FINISHED);
    wr_init(&w, OP_RUN_CANCEL, f->ws, id);
    assert_int_equal(store_exec(f->s, &w), STORE_FINISHED);
    store_write_release(&w);
    wr_init(&w, OP_JOB_CREATE, f->ws, id);
    w.job.name = "late job";
    assert_int_equal(store_exec(f->s, &w), STORE_FINISHED);
    store_write_release(&w);

    run_t after = get_run(f, f->ws, id);
    assert_int_equal(after.version, before.version);
    assert_int_equal(after.updated_at, before.updated_at);
    assert_int_equal(after.result, RESULT_SUCCESS);
    assert_null(after.message);
    assert_int_equal(after.counters[CTR_RECORDS_PROCESSED], 0);
    assert_int_equal(event_count(f, f->ws, id), events);
    job_t *jobs = NULL;
    int n = -1;
    assert_int_equal(store_job_list(f->r, f->ws, id, &f->a, &jobs, &n), STORE_OK);
    assert_int_equal(n, 0);
}

/* ---- runs: range (page numbers) and list (filters, keyset) ---- */

/* 30 runs: run_count % 3 == 0 finished with error, % 3 == 1 with success, % 3 == 2 left queued;
 * odd run_counts triggered by "API", even by "Scheduled". */
static int64_t mk_history(fx_t *f, int64_t *run_ids)
{
    int64_t conn = mk_conn(f, f->ws, "history", OVERLAP_QUEUE);
    for (int i = 1; i <= 30; i++) {
        trig_t t = do_trigger(f, f->ws, conn, RUN_QUEUED, i % 2 ? "API" : "Scheduled");
        assert_int_equal(t.err, STORE_OK);
        assert_int_equal(t.run_count, i);
        run_ids[i] = t.run_id;
    }
    for (int i = 1; i <= 30; i++) {
        if (i % 3 == 0)
            assert_int_equal(finish_run(f, f->ws, run_ids[i], RESULT_ERROR), STORE_OK);
        else if (i % 3 == 1)
            assert_int_equal(finish_run(f, f->ws, run_ids[i], RESULT_SUCCESS), STORE_OK);
    }
    return conn;
}

static void test_run_range(void **state)
{
    fx_t *f = *state;
    int64_t ids[31];
    int64_t conn = mk_history(f, ids);
    run_t *runs = NULL;
    int n = 0;
    assert_int_equal(store_run_range(f->r, f->ws, conn, 1, 10, 1, &f->a, &runs, &n), STORE_OK);
    assert_int_equal(n, 10);
    for (int i = 0; i < n; i++) {
        assert_int_equal(runs[i].run_count, i + 1);
        assert_int_equal(runs[i].id, ids[i + 1]);
    }
    assert_int_equal(store_run_range(f->r, f->ws, conn, 1, 10, 0, &f->a, &runs, &n), STORE_OK);
    assert_int_equal(n, 10);
    for (int i = 0; i < n; i++)
        assert_int_equal(runs[i].run_count, 10 - i);
    assert_int_equal(store_run_range(f->r, f->ws, conn, 25, 40, 1, &f->a, &runs, &n), STORE_OK);
    assert_int_equal(n, 6);
    assert_int_equal(runs[0].run_count, 25);
    assert_int_equal(runs[5].run_count, 30);
    assert_int_equal(store_run_range(f->r, f->ws, conn, 31, 40, 1, &f->a, &runs, &n), STORE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_run_range(f->r, f->ws, conn, 5, 4, 1, &f->a, &runs, &n), STORE_OK);
    assert_int_equal(n, 0);

    /* with the page arithmetic: 30 runs, 25 a page, newest first: page 2 is run_count 5..1 */
    page_window_t pw;
    paging_window(get_conn(f, f->ws, conn).run_count, 2, 25, 0, &pw);
    assert_int_equal(store_run_range(f->r, f->ws, conn, pw.lo, pw.hi, 0, &f->a, &runs, &n), STORE_OK);
    assert_int_equal(n, 5);
    for (int i = 0; i < n; i++)
        assert_int_equal(runs[i].run_count, 5 - i);
}

static void check_list(fx_t *f, int64_t conn, run_filter_t filter, const int *want, int nwant)
{
    run_t *runs = NULL;
    int n = -1;
    assert_int_equal(store_run_list(f->r, f->ws, conn, &filter, &f->a, &runs, &n), STORE_OK);
    if (n != nwant)
        fail_msg("store_run_list: %d runs, want %d", n, nwant);
    for (int i = 0; i < n; i++)
        assert_int_equal(runs[i].run_count, want[i]);
}

static void test_run_list_filters(void **state)
{
    fx_t *f = *state;
    int64_t ids[31];
    int64_t conn = mk_history(f, ids);
    run_filter_t all = {.state = -1, .result = -1, .trigger = NULL, .asc = 0, .after = 0, .limit = 100};
    int want[30], n;

    n = 0;
    for (int i = 30; i >= 1; i--)
        want[n++] = i;
    check_list(f, conn, all, want, n);

    run_filter_t fl = all;
    fl.asc = 1;
    n = 0;
    for (int i = 1; i <= 30; i++)
        want[n++] = i;
    check_list(f, conn, fl, want, n);

    fl = all;
    fl.result = RESULT_ERROR;
    n = 0;
    for (int i = 30; i >= 1; i--)
        if (i % 3 == 0)
            want[n++] = i;
    check_list(f, conn, fl, want, n);

    fl = all;
    fl.state = RUN_QUEUED;
    fl.asc = 1;
    n = 0;
    for (int i = 1; i <= 30; i++)
        if (i % 3 == 2)
            want[n++] = i;
    check_list(f, conn, fl, want, n);

    fl = all;
    fl.state = RUN_FINISHED;
    fl.result = RESULT_SUCCESS;
    fl.trigger = "API";
    n = 0;
    for (int i = 30; i >= 1; i--)
        if (i % 3 == 1 && i % 2 == 1)
            want[n++] = i;
    check_list(f, conn, fl, want, n);

    fl = all;
    fl.trigger = "Scheduled";
    fl.limit = 4;
    int four[] = {30, 28, 26, 24};
    check_list(f, conn, fl, four, 4);

    fl = all;
    fl.trigger = "nobody";
    check_list(f, conn, fl, NULL, 0);

    /* time bounds on created_at, inclusive */
    fl = all;
    fl.since = time_now_ms() + 86400000;
    check_list(f, conn, fl, NULL, 0);
    fl = all;
    fl.until = 1;
    check_list(f, conn, fl, NULL, 0);
    fl = all;
    fl.since = 1;
    fl.until = time_now_ms() + 86400000;
    n = 0;
    for (int i = 30; i >= 1; i--)
        want[n++] = i;
    check_list(f, conn, fl, want, n);
    run_t r10 = get_run(f, f->ws, ids[10]);
    fl = all;
    fl.since = r10.created_at;
    fl.until = r10.created_at;
    run_t *runs = NULL;
    int got = 0;
    assert_int_equal(store_run_list(f->r, f->ws, conn, &fl, &f->a, &runs, &got), STORE_OK);
    int found = 0;
    for (int i = 0; i < got; i++) {
        assert_int_equal(runs[i].created_at, r10.created_at);
        found |= runs[i].id == ids[10];
    }
    assert_true(found);
}

static void test_run_list_keyset(void **state)
{
    fx_t *f = *state;
    int64_t ids[31];
    int64_t conn = mk_history(f, ids);
    for (int asc = 0; asc <= 1; asc++) {
        run_filter_t fl = {.state = -1, .result = -1, .asc = asc, .after = 0, .limit = 7};
        int seen = 0, pages = 0;
        for (;;) {
            run_t *runs = NULL;
            int n = 0;
            assert_int_equal(store_run_list(f->r, f->ws, conn, &fl, &f->a, &runs, &n), STORE_OK);
            if (n == 0)
                break;
            pages++;
            assert_true(n <= 7);
            for (int i = 0; i < n; i++) {
                seen++;
                assert_int_equal(runs[i].run_count, asc ? seen : 31 - seen);
            }
            fl.after = runs[n - 1].run_count;
        }
        assert_int_equal(seen, 30);
        assert_int_equal(pages, 5);
    }
    /* keyset with a filter: errors (3, 6, ..., 30), newest first, 4 a page, after run_count 21 */
    run_filter_t fl = {.state = -1, .result = RESULT_ERROR, .asc = 0, .after = 21, .limit = 4};
    int want[] = {18, 15, 12, 9};
    check_list(f, conn, fl, want, 4);
}

/* ---- events ---- */

static void test_events(void **state)
{
    fx_t *f = *state;
    int64_t conn = mk_conn(f, f->ws, "ev", OVERLAP_QUEUE);
    int64_t id = trigger_ok(f, f->ws, conn, RUN_QUEUED, "API");
    store_write_t w;
    wr_init(&w, OP_RUN_UPDATE, f->ws, id);
    w.mask = RUN_F_STATE | (RUN_F_COUNTER0 << CTR_RECORDS_PROCESSED);
    w.run.state = RUN_WORKING;
    w.run.counters[CTR_RECORDS_PROCESSED] = 12;
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    store_write_release(&w);
    assert_int_equal(finish_run(f, f->ws, id, RESULT_SUCCESS), STORE_OK);

    run_event_t *ev = NULL;
    int n = 0;
    assert_int_equal(store_event_list(f->r, f->ws, id, 0, 100, &f->a, &ev, &n), STORE_OK);
    assert_int_equal(n, 3);
    static const char *const kinds[] = {"created", "updated", "finished"};
    for (int i = 0; i < n; i++) {
        assert_string_equal(ev[i].kind, kinds[i]);
        assert_int_equal(ev[i].run_id, id);
        assert_true(ev[i].at > 0);
        if (i > 0) {
            assert_true(ev[i].id > ev[i - 1].id);
            assert_true(ev[i].at >= ev[i - 1].at);
        }
        json_error_t jerr;
        json_t *data = json_loads(ev[i].data, 0, &jerr);
        if (data == NULL)
            fail_msg("event %d data is not JSON: %s", i, ev[i].data);
        assert_true(json_is_object(data));
        json_decref(data);
    }
    json_t *upd = json_loads(ev[1].data, 0, NULL);
    assert_non_null(upd);
    assert_string_equal(json_string_value(json_object_get(upd, "state")), "working");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(upd, "counters"), "records_processed")), 12);
    json_decref(upd);
    json_t *fin = json_loads(ev[2].data, 0, NULL);
    assert_non_null(fin);
    assert_string_equal(json_string_value(json_object_get(fin, "result")), "success");
    json_decref(fin);

    /* keyset and limit */
    run_event_t *page = NULL;
    assert_int_equal(store_event_list(f->r, f->ws, id, ev[0].id, 100, &f->a, &page, &n), STORE_OK);
    assert_int_equal(n, 2);
    assert_int_equal(page[0].id, ev[1].id);
    assert_int_equal(store_event_list(f->r, f->ws, id, 0, 1, &f->a, &page, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(page[0].id, ev[0].id);
    assert_int_equal(store_event_list(f->r, f->ws, id, ev[2].id, 100, &f->a, &page, &n), STORE_OK);
    assert_int_equal(n, 0);

    /* events of another run are not mixed in */
    int64_t other = trigger_ok(f, f->ws, conn, RUN_QUEUED, "API");
    assert_int_equal(event_count(f, f->ws, other), 1);
    assert_int_equal(event_count(f, f->ws, id), 3);
    assert_int_equal(store_event_list(f->r, f->ws, other + 1000, 0, 100, &f->a, &page, &n), STORE_NOT_FOUND);
}

/* ---- jobs and tasks ---- */

static void test_jobs_tasks(void **state)
{
    fx_t *f = *state;
    int64_t conn = mk_conn(f, f->ws, "jobs", OVERLAP_QUEUE);
    int64_t run_id = trigger_ok(f, f->ws, conn, RUN_WORKING, "API");
    int64_t v0 = get_run(f, f->ws, run_id).version;

    store_write_t w;
    wr_init(&w, OP_JOB_CREATE, f->ws, run_id);
    w.job.name = "import";
    w.job.connector_type = "IFC";
    w.job.phase = "extract";
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    job_t job = w.job;
    int64_t job_id = job.id;
    char job_uuid[IDS_UUID_LEN];
    memcpy(job_uuid, job.uuid, sizeof(job_uuid));
    assert_true(job_id > 0);
    assert_int_equal(ids_is_uuid(job_uuid), 1);
    assert_int_equal(job.state, RUN_QUEUED);
    assert_int_equal(job.result, RESULT_NONE);
    store_write_release(&w);
    assert_true(get_run(f, f->ws, run_id).version > v0); /* a job changes its run */

    /* jobs are addressed by id (store.h) and uuid: both are set */
    wr_init(&w, OP_JOB_UPDATE, f->ws, run_id);
    w.job.id = job_id;
    memcpy(w.job.uuid, job_uuid, IDS_UUID_LEN);
    w.mask = JOB_F_STATE | JOB_F_PHASE;
    w.job.state = RUN_WORKING;
    w.job.phase = "transform";
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    assert_int_equal(w.job.state, RUN_WORKING);
    assert_true(w.job.started_at > 0);
    store_write_release(&w);

    wr_init(&w, OP_TASK_CREATE, f->ws, run_id);
    w.job.id = job_id;
    memcpy(w.job.uuid, job_uuid, IDS_UUID_LEN);
    w.task.source_file_id = "file-1";
    w.task.retry_attempts = 2;
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    task_t task = w.task;
    int64_t task_id = task.id;
    char task_uuid[IDS_UUID_LEN];
    memcpy(task_uuid, task.uuid, sizeof(task_uuid));
    assert_true(task_id > 0);
    assert_int_equal(task.job_id, job_id);
    assert_int_equal(task.state, RUN_QUEUED);
    store_write_release(&w);

    /* a finished unit needs a result */
    wr_init(&w, OP_TASK_UPDATE, f->ws, run_id);
    w.job.id = job_id;
    memcpy(w.job.uuid, job_uuid, IDS_UUID_LEN);
    w.task.id = task_id;
    memcpy(w.task.uuid, task_uuid, IDS_UUID_LEN);
    w.mask = TASK_F_STATE;
    w.task.state = RUN_FINISHED;
    w.task.result = RESULT_NONE;
    assert_int_equal(store_exec(f->s, &w), STORE_BAD_STATE);
    store_write_release(&w);

    wr_init(&w, OP_TASK_UPDATE, f->ws, run_id);
    w.job.id = job_id;
    memcpy(w.job.uuid, job_uuid, IDS_UUID_LEN);
    w.task.id = task_id;
    memcpy(w.task.uuid, task_uuid, IDS_UUID_LEN);
    w.mask = TASK_F_STATE | TASK_F_REPORT | TASK_F_ERROR;
    w.task.state = RUN_FINISHED;
    w.task.result = RESULT_PARTIAL;
    w.task.has_report = 1;
    w.task.report_message = "some elements skipped";
    w.task.report_suggested_action = "check the model";
    w.task.report_errors = 1;
    w.task.report_warnings = 5;
    w.task.report_other = 2;
    w.task.error_json = "{\"code\":\"x\"}";
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    store_write_release(&w);

    wr_init(&w, OP_JOB_UPDATE, f->ws, run_id);
    w.job.id = job_id;
    memcpy(w.job.uuid, job_uuid, IDS_UUID_LEN);
    w.mask = JOB_F_STATE;
    w.job.state = RUN_FINISHED;
    w.job.result = RESULT_SUCCESS;
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    store_write_release(&w);

    /* a finished job does not change again */
    wr_init(&w, OP_JOB_UPDATE, f->ws, run_id);
    w.job.id = job_id;
    memcpy(w.job.uuid, job_uuid, IDS_UUID_LEN);
    w.mask = JOB_F_STATE;
    w.job.state = RUN_WORKING;
    assert_int_equal(store_exec(f->s, &w), STORE_BAD_STATE);
    store_write_release(&w);

    /* an unknown job */
    wr_init(&w, OP_JOB_UPDATE, f->ws, run_id);
    w.job.id = job_id + 1000;
    memcpy(w.job.uuid, "00000000-0000-4000-8000-000000000000", IDS_UUID_LEN);
    w.mask = JOB_F_NAME;
    w.job.name = "x";
    assert_int_equal(store_exec(f->s, &w), STORE_NOT_FOUND);
    store_write_release(&w);

    /* a second job, to check the order */
    wr_init(&w, OP_JOB_CREATE, f->ws, run_id);
    w.job.name = "second";
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    int64_t job2 = w.job.id;
    store_write_release(&w);

    job_t *jobs = NULL;
    int n = 0;
    assert_int_equal(store_job_list(f->r, f->ws, run_id, &f->a, &jobs, &n), STORE_OK);
    assert_int_equal(n, 2);
    assert_int_equal(jobs[0].id, job_id);
    assert_int_equal(jobs[1].id, job2);
    assert_string_equal(jobs[0].uuid, job_uuid);
    assert_int_equal(jobs[0].run_id, run_id);
    assert_string_equal(jobs[0].name, "import");
    assert_string_equal(jobs[0].connector_type, "IFC");
    assert_string_equal(jobs[0].phase, "transform");
    assert_int_equal(jobs[0].state, RUN_FINISHED);
    assert_int_equal(jobs[0].result, RESULT_SUCCESS);
    assert_true(jobs[0].started_at > 0);
    assert_true(jobs[0].ended_at >= jobs[0].started_at);
    assert_int_equal(jobs[0].ntasks, 1);
    const task_t *t = &jobs[0].tasks[0];
    assert_int_equal(t->id, task_id);
    assert_string_equal(t->uuid, task_uuid);
    assert_int_equal(t->state, RUN_FINISHED);
    assert_int_equal(t->result, RESULT_PARTIAL);
    assert_string_equal(t->source_file_id, "file-1");
    assert_int_equal(t->retry_attempts, 2);
    assert_int_equal(t->has_report, 1);
    assert_string_equal(t->report_message, "some elements skipped");
    assert_string_equal(t->report_suggested_action, "check the model");
    assert_int_equal(t->report_errors, 1);
    assert_int_equal(t->report_warnings, 5);
    assert_int_equal(t->report_other, 2);
    assert_string_equal(t->error_json, "{\"code\":\"x\"}");
    assert_true(t->ended_at > 0);
    assert_int_equal(jobs[1].ntasks, 0);
    assert_int_equal(jobs[1].state, RUN_QUEUED);

    run_event_t *ev = NULL;
    assert_int_equal(store_event_list(f->r, f->ws, run_id, 0, 100, &f->a, &ev, &n), STORE_OK);
    int job_events = 0;
    for (int i = 0; i < n; i++)
        job_events += strncmp(ev[i].kind, "job_", 4) == 0 || strncmp(ev[i].kind, "task_", 5) == 0;
    assert_int_equal(job_events, 6); /* 2 job creates, 2 job updates, 1 task create, 1 task update */
}

/* ---- workspace isolation ---- */

static void test_workspace_isolation(void **state)
{
    fx_t *f = *state;
    int64_t conn = mk_conn(f, f->ws, "private", OVERLAP_QUEUE);
    int64_t run_id = trigger_ok(f, f->ws, conn, RUN_WORKING, "API");
    store_write_t w;
    wr_init(&w, OP_JOB_CREATE, f->ws, run_id);
    w.job.name = "j";
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    char job_uuid[IDS_UUID_LEN];
    memcpy(job_uuid, w.job.uuid, sizeof(job_uuid));
    int64_t job_id = w.job.id;
    store_write_release(&w);
    connection_t c = get_conn(f, f->ws, conn);
    run_t r = get_run(f, f->ws, run_id);
    char conn_uuid[IDS_UUID_LEN], run_uuid[IDS_UUID_LEN];
    memcpy(conn_uuid, c.uuid, sizeof(conn_uuid));
    memcpy(run_uuid, r.uuid, sizeof(run_uuid));
    int64_t version = r.version;

    /* reads from the other workspace */
    const int64_t ws2 = f->ws2;
    connection_t oc;
    run_t orun;
    assert_int_equal(store_connection_get(f->r, ws2, conn, &f->a, &oc), STORE_NOT_FOUND);
    assert_int_equal(store_connection_get_uuid(f->r, ws2, conn_uuid, &f->a, &oc), STORE_NOT_FOUND);
    assert_int_equal(store_run_get(f->r, ws2, run_id, &f->a, &orun), STORE_NOT_FOUND);
    assert_int_equal(store_run_get_uuid(f->r, ws2, run_uuid, &f->a, &orun), STORE_NOT_FOUND);
    run_event_t *ev = NULL;
    job_t *jobs = NULL;
    connection_t *conns = NULL;
    run_t *runs = NULL;
    int n = 0;
    assert_int_equal(store_event_list(f->r, ws2, run_id, 0, 100, &f->a, &ev, &n), STORE_NOT_FOUND);
    assert_int_equal(store_job_list(f->r, ws2, run_id, &f->a, &jobs, &n), STORE_NOT_FOUND);
    assert_int_equal(store_connection_list(f->r, ws2, 0, 100, &f->a, &conns, &n), STORE_OK);
    assert_int_equal(n, 0);
    /* lists of a foreign connection: nothing (either not found or empty) */
    n = -1;
    store_err_t e = store_run_range(f->r, ws2, conn, 1, 100, 1, &f->a, &runs, &n);
    assert_true(e == STORE_NOT_FOUND || (e == STORE_OK && n == 0));
    run_filter_t fl = {.state = -1, .result = -1, .limit = 100};
    n = -1;
    e = store_run_list(f->r, ws2, conn, &fl, &f->a, &runs, &n);
    assert_true(e == STORE_NOT_FOUND || (e == STORE_OK && n == 0));

    /* writes from the other workspace */
    wr_init(&w, OP_CONNECTION_UPDATE, ws2, conn);
    w.mask = CONN_F_NAME;
    w.conn.name = "stolen";
    assert_int_equal(store_exec(f->s, &w), STORE_NOT_FOUND);
    store_write_release(&w);
    wr_init(&w, OP_CONNECTION_DELETE, ws2, conn);
    assert_int_equal(store_exec(f->s, &w), STORE_NOT_FOUND);
    store_write_release(&w);
    assert_int_equal(do_trigger(f, ws2, conn, RUN_WORKING, "API").err, STORE_NOT_FOUND);
    wr_init(&w, OP_RUN_UPDATE, ws2, run_id);
    w.mask = RUN_F_MESSAGE;
    w.run.message = "stolen";
    assert_int_equal(store_exec(f->s, &w), STORE_NOT_FOUND);
    store_write_release(&w);
    assert_int_equal(finish_run(f, ws2, run_id, RESULT_ERROR), STORE_NOT_FOUND);
    wr_init(&w, OP_RUN_CANCEL, ws2, run_id);
    assert_int_equal(store_exec(f->s, &w), STORE_NOT_FOUND);
    store_write_release(&w);
    wr_init(&w, OP_JOB_CREATE, ws2, run_id);
    w.job.name = "stolen";
    assert_int_equal(store_exec(f->s, &w), STORE_NOT_FOUND);
    store_write_release(&w);
    wr_init(&w, OP_JOB_UPDATE, ws2, run_id);
    w.job.id = job_id;
    memcpy(w.job.uuid, job_uuid, IDS_UUID_LEN);
    w.mask = JOB_F_NAME;
    w.job.name = "stolen";
    assert_int_equal(store_exec(f->s, &w), STORE_NOT_FOUND);
    store_write_release(&w);

    /* and nothing changed */
    c = get_conn(f, f->ws, conn);
    assert_string_equal(c.name, "private");
    assert_int_equal(c.run_count, 1);
    r = get_run(f, f->ws, run_id);
    assert_int_equal(r.version, version);
    assert_int_equal(r.state, RUN_WORKING);
    assert_null(r.message);
    assert_int_equal(store_job_list(f->r, f->ws, run_id, &f->a, &jobs, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(jobs[0].name, "j");
}

/* ---- durability: close and reopen ---- */

static void test_reopen_keeps_data(void **state)
{
    fx_t *f = *state;
    int64_t conn = mk_conn(f, f->ws, "durable", OVERLAP_SKIP);
    int64_t a = trigger_ok(f, f->ws, conn, RUN_WORKING, "API");
    store_write_t w;
    wr_init(&w, OP_RUN_UPDATE, f->ws, a);
    w.mask = RUN_F_STEP | (RUN_F_COUNTER0 << CTR_SOURCE_RECORD_COUNT);
    w.run.current_step = "syncing";
    w.run.counters[CTR_SOURCE_RECORD_COUNT] = 123456789012LL;
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    store_write_release(&w);
    int64_t b = trigger_ok(f, f->ws, conn, RUN_WORKING, "API"); /* skipped */
    char token[IDS_TOKEN_LEN];
    memcpy(token, f->token, sizeof(token));

    close_store(f);
    arena_release(&f->a);
    open_store(f);

    assert_int_equal(store_workspace_count(f->s), 2);
    api_key_info_t k;
    assert_int_equal(store_key_lookup(f->r, token, &k), STORE_OK);
    assert_int_equal(k.workspace_id, f->ws);
    connection_t c = get_conn(f, f->ws, conn);
    assert_string_equal(c.name, "durable");
    assert_int_equal(c.overlap, OVERLAP_SKIP);
    assert_int_equal(c.run_count, 2);
    run_t r = get_run(f, f->ws, a);
    assert_int_equal(r.state, RUN_WORKING);
    assert_string_equal(r.current_step, "syncing");
    assert_int_equal(r.counters[CTR_SOURCE_RECORD_COUNT], 123456789012LL);
    assert_int_equal(get_run(f, f->ws, b).result, RESULT_SKIPPED);
    assert_int_equal(event_count(f, f->ws, a), 2);

    /* the sequence and the overlap rule carry on */
    trig_t t = do_trigger(f, f->ws, conn, RUN_WORKING, "API");
    assert_int_equal(t.outcome, TRIGGER_SKIPPED);
    assert_int_equal(t.run_count, 3);
    assert_int_equal(finish_run(f, f->ws, a, RESULT_SUCCESS), STORE_OK);
    t = do_trigger(f, f->ws, conn, RUN_WORKING, "API");
    assert_int_equal(t.outcome, TRIGGER_CREATED);
    assert_int_equal(t.run_count, 4);
}

/* ---- the writer: concurrent callers, async submit, change hook ---- */

typedef struct worker {
    fx_t *f;
    int64_t conn;
    int errors;
} worker_t;

static void *trigger_worker(void *arg)
{
    worker_t *wk = arg;
    for (int i = 0; i < 25; i++) {
        store_write_t w;
        wr_init(&w, OP_RUN_TRIGGER, wk->f->ws, wk->conn);
        w.trigger.tag = "API";
        if (store_exec(wk->f->s, &w) != STORE_OK || w.trigger_outcome != TRIGGER_CREATED)
            wk->errors++;
        store_write_release(&w);
    }
    return NULL;
}

static void test_concurrent_triggers_gapless(void **state)
{
    fx_t *f = *state;
    int64_t conn = mk_conn(f, f->ws, "busy", OVERLAP_QUEUE);
    enum { THREADS = 4 };
    pthread_t th[THREADS];
    worker_t wk[THREADS];
    for (int i = 0; i < THREADS; i++) {
        wk[i] = (worker_t){f, conn, 0};
        assert_int_equal(pthread_create(&th[i], NULL, trigger_worker, &wk[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(wk[i].errors, 0);
    }
    assert_int_equal(get_conn(f, f->ws, conn).run_count, 100);
    run_t *runs = NULL;
    int n = 0;
    assert_int_equal(store_run_range(f->r, f->ws, conn, 1, 100, 1, &f->a, &runs, &n), STORE_OK);
    assert_int_equal(n, 100);
    for (int i = 0; i < n; i++)
        assert_int_equal(runs[i].run_count, i + 1);
}

typedef struct async_state {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done, ok;
    int64_t hook_runs[256];
    int nhook;
} async_state_t;

static void async_done(store_write_t *w)
{
    async_state_t *as = w->ctx;
    pthread_mutex_lock(&as->mu);
    as->done++;
    as->ok += w->err == STORE_OK;
    pthread_cond_broadcast(&as->cv);
    pthread_mutex_unlock(&as->mu);
}

static void change_hook(void *ctx, const int64_t *ids, size_t n)
{
    async_state_t *as = ctx;
    pthread_mutex_lock(&as->mu);
    for (size_t i = 0; i < n && as->nhook < (int)COUNT(as->hook_runs); i++)
        as->hook_runs[as->nhook++] = ids[i];
    pthread_mutex_unlock(&as->mu);
}

static void test_async_submit_and_hook(void **state)
{
    fx_t *f = *state;
    int64_t conn = mk_conn(f, f->ws, "async", OVERLAP_QUEUE);
    async_state_t as;
    memset(&as, 0, sizeof(as));
    pthread_mutex_init(&as.mu, NULL);
    pthread_cond_init(&as.cv, NULL);
    assert_int_equal(store_add_change_hook(f->s, change_hook, &as), 0);

    enum { N = 50 };
    static store_write_t ws[N];
    for (int i = 0; i < N; i++) {
        wr_init(&ws[i], OP_RUN_TRIGGER, f->ws, conn);
        ws[i].done = async_done;
        ws[i].ctx = &as;
        store_submit(f->s, &ws[i]);
    }
    /* one bad write among good ones fails alone */
    static store_write_t bad;
    wr_init(&bad, OP_RUN_TRIGGER, f->ws, conn + 1000);
    bad.done = async_done;
    bad.ctx = &as;
    store_submit(f->s, &bad);

    pthread_mutex_lock(&as.mu);
    while (as.done < N + 1)
        pthread_cond_wait(&as.cv, &as.mu);
    pthread_mutex_unlock(&as.mu);
    assert_int_equal(as.ok, N);
    assert_int_equal(bad.err, STORE_NOT_FOUND);
    for (int i = 0; i < N; i++) {
        assert_int_equal(ws[i].err, STORE_OK);
        assert_int_equal(ws[i].run.run_count, i + 1); /* applied in submission order */
    }
    /* the hook saw every new run */
    pthread_mutex_lock(&as.mu);
    for (int i = 0; i < N; i++) {
        int seen = 0;
        for (int j = 0; j < as.nhook; j++)
            seen |= as.hook_runs[j] == ws[i].run.id;
        assert_true(seen);
    }
    pthread_mutex_unlock(&as.mu);
    store_remove_change_hook(f->s, change_hook, &as);
    for (int i = 0; i < N; i++)
        store_write_release(&ws[i]);
    store_write_release(&bad);
    assert_int_equal(get_conn(f, f->ws, conn).run_count, N);
    pthread_cond_destroy(&as.cv);
    pthread_mutex_destroy(&as.mu);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_open_and_reopen),
        T(test_open_refuses_newer_schema),
        T(test_workspace_keys),
        T(test_token_not_stored),
        T(test_access_tokens),
        T(test_trigger_attach_active),
        T(test_connection_crud),
        T(test_connection_list_keyset),
        T(test_trigger_fields),
        T(test_trigger_overlap_skip),
        T(test_trigger_overlap_queue),
        T(test_trigger_overlap_attach),
        T(test_trigger_idempotency),
        T(test_run_update),
        T(test_run_finish),
        T(test_run_cancel),
        T(test_finished_is_immutable),
        T(test_run_range),
        T(test_run_list_filters),
        T(test_run_list_keyset),
        T(test_events),
        T(test_jobs_tasks),
        T(test_workspace_isolation),
        T(test_reopen_keeps_data),
        T(test_concurrent_triggers_gapless),
        T(test_async_submit_and_hook),
    };
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
