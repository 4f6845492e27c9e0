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

static void test_no_statement_scans_history(void **state)
{
    (void)state;
    char dir[] = "/tmp/syncrun-plans-XXXXXX", path[64], err[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/db", dir);
    store_t *s = NULL;
    assert_int_equal(store_open(path, &s, err, sizeof(err)), 0);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
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
    sqlite3_close(db);
    store_close(s);
    char cmd[96];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    assert_true(checked > 50);
    assert_int_equal(bad, 0);
}

/* The overview's strips (ST_RUNS_RECENT: 30 runs of each of 1,000 connections) come from the
 * runs_strip index alone, never a fetch of each run from the table (migration 17). */
static void test_the_overview_strip_reads_runs_from_a_covering_index(void **state)
{
    (void)state;
    char dir[] = "/tmp/syncrun-plans-XXXXXX", path[64], err[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/db", dir);
    store_t *s = NULL;
    assert_int_equal(store_open(path, &s, err, sizeof(err)), 0);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    const char *sql = db_stmt_sql(ST_RUNS_RECENT);
    assert_non_null(sql);
    size_t n = strlen(sql) + 32;
    char *q = malloc(n);
    assert_non_null(q);
    snprintf(q, n, "EXPLAIN QUERY PLAN %s", sql);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
    int covered = 0, reads_r = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *detail = (const char *)sqlite3_column_text(st, 3);
        if (detail == NULL || strncmp(detail, "SEARCH r ", 9) != 0)
            continue;
        reads_r++;
        if (strstr(detail, "USING COVERING INDEX runs_strip ") != NULL)
            covered++;
        else
            print_error("the strip reads runs through the table: %s\n", detail);
    }
    sqlite3_finalize(st);
    free(q);
    sqlite3_close(db);
    store_close(s);
    char cmd[96];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(reads_r, 1);
    assert_int_equal(covered, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_statement_scans_history),
        cmocka_unit_test(test_the_overview_strip_reads_runs_from_a_covering_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
