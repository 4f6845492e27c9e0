/* The query plan of every statement the store prepares: none reads a whole table of history (runs,
 * events, jobs, tasks, logs, alerts, deliveries) without an index. A full scan is invisible on a
 * test database and costs seconds and memory on a million runs: the token revocation run at every
 * start once read every finished run (start-up 1.4 s and 88 MB idle on bench/gen.py's data set). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <unistd.h>

#include "store/sqlite_int.h"

/* Tables whose rows grow with history, as statements name them or alias them. A plan line
 * "SCAN <one of these>" without an index is a full read of history. */
static const char *const history[] = {"runs",
                                      "r",
                                      "q",
                                      "n",
                                      "run_events",
                                      "e",
                                      "jobs",
                                      "j",
                                      "tasks",
                                      "t",
                                      "run_logs",
                                      "run_log_chunks",
                                      "access_tokens",
                                      "alerts",
                                      "webhook_deliveries",
                                      "d",
                                      "run_rollups",
                                      "run_stats"};

/* Statements allowed a scan, with the reason. */
static int scan_allowed(stmt_id_t id, const char *detail)
{
    /* renumbering one connection's runs by creation (an import out of order): t is the window
     * over that connection's runs, read once, which is the work asked for */
    return id == ST_RUNS_SEQUENCE_BY_CREATION && strcmp(detail, "SCAN t") == 0;
}

static int is_history_scan(const char *detail)
{
    if (strncmp(detail, "SCAN ", 5) != 0 || strstr(detail, " USING ") != NULL)
        return 0;
    const char *name = detail + 5;
    for (size_t i = 0; i < sizeof(history) / sizeof(history[0]); i++)
        if (strcmp(name, history[i]) == 0)
            return 1;
    return 0;
}

/* A database at this syncrun's schema (made by store_open), read through a plain read-only connection. */
typedef struct plans_db {
    char dir[32];
    store_t *s;
    sqlite3 *db;
} plans_db_t;

static int plans_db_open(void **state)
{
    plans_db_t *p = calloc(1, sizeof(*p));
    char path[64], err[256];
    assert_non_null(p);
    snprintf(p->dir, sizeof(p->dir), "/tmp/syncrun-plans-XXXXXX");
    assert_non_null(mkdtemp(p->dir));
    snprintf(path, sizeof(path), "%s/db", p->dir);
    assert_int_equal(store_open(path, &p->s, err, sizeof(err)), 0);
    assert_int_equal(sqlite3_open_v2(path, &p->db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    *state = p;
    return 0;
}

static int plans_db_close(void **state)
{
    plans_db_t *p = *state;
    char cmd[96];
    sqlite3_close(p->db);
    store_close(p->s);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", p->dir);
    int rc = system(cmd);
    free(p);
    return rc == 0 ? 0 : -1;
}

static void test_no_statement_scans_history(void **state)
{
    sqlite3 *db = ((plans_db_t *)*state)->db;
    int bad = 0, checked = 0;
    for (int id = 0; id < ST_COUNT; id++) {
        const char *sql = db_stmt_sql((stmt_id_t)id);
        if (sql == NULL || strncmp(sql, "BEGIN", 5) == 0 || strncmp(sql, "COMMIT", 6) == 0 ||
            strncmp(sql, "ROLLBACK", 8) == 0 || strncmp(sql, "SAVEPOINT", 9) == 0 || strncmp(sql, "RELEASE", 7) == 0)
            continue;
        size_t n = strlen(sql) + 32;
        char *q = malloc(n);
        assert_non_null(q);
        snprintf(q, n, "EXPLAIN QUERY PLAN %s", sql);
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK) {
            print_error("statement %d does not prepare: %s\n", id, sqlite3_errmsg(db));
            bad++;
        }
        while (st != NULL && sqlite3_step(st) == SQLITE_ROW) {
            const char *detail = (const char *)sqlite3_column_text(st, 3);
            if (detail != NULL && is_history_scan(detail) && !scan_allowed((stmt_id_t)id, detail)) {
                print_error("statement %d reads a whole table: %s\n  %s\n", id, detail, sql);
                bad++;
            }
        }
        sqlite3_finalize(st);
        free(q);
        checked++;
    }
    assert_true(checked > 50);
    assert_int_equal(bad, 0);
}

/* Counts the index entries statement `id` writes itself (IdxInsert in its own bytecode, not in the
 * programs of the triggers it may fire, which EXPLAIN lists after it). */
static int index_writes(sqlite3 *db, stmt_id_t id)
{
    const char *sql = db_stmt_sql(id);
    assert_non_null(sql);
    size_t n = strlen(sql) + 16;
    char *q = malloc(n);
    assert_non_null(q);
    snprintf(q, n, "EXPLAIN %s", sql);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
    int writes = 0, prev = -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int addr = sqlite3_column_int(st, 0);
        if (addr < prev)
            break; /* the statement's own program ends; its triggers' programs follow */
        prev = addr;
        const char *op = (const char *)sqlite3_column_text(st, 1);
        if (op != NULL && strcmp(op, "IdxInsert") == 0)
            writes++;
    }
    sqlite3_finalize(st);
    free(q);
    return writes;
}

/* A progress update, the most frequent write of durable ingestion, rewrites no index entry: an index
 * holding a column it sets (updated_at, counters, step) costs every progress write a dirty page per
 * connection in the batch (migration 17's runs_strip did; migration 19 dropped it). */
static void test_a_progress_update_rewrites_no_index(void **state)
{
    sqlite3 *db = ((plans_db_t *)*state)->db;
    int writes = index_writes(db, ST_RUN_SAVE_PROGRESS);
    if (writes != 0)
        print_error("ST_RUN_SAVE_PROGRESS writes %d index entries: an index holds a column it sets\n", writes);
    assert_int_equal(writes, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_no_statement_scans_history, plans_db_open, plans_db_close),
        cmocka_unit_test_setup_teardown(test_a_progress_update_rewrites_no_index, plans_db_open, plans_db_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
