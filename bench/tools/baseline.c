/* Ingestion baseline (benchmark tool, not part of syncrun): raw SQLite doing a run lifecycle's
 * three writes as three transactions — one transaction (and one fsync) per write — in a tight
 * single-process loop, on syncrun's own schema, WAL and synchronous=FULL like syncrun.
 *
 *   baseline DB SECONDS CONN_ID
 *
 *   1. BEGIN; bump connections.run_count; INSERT the run (working); INSERT its event; COMMIT
 *   2. BEGIN; UPDATE the run's step and counters; INSERT its event; COMMIT
 *   3. BEGIN; UPDATE the run to finished/success; INSERT its event; COMMIT
 * Prints: lifecycles=N seconds=S rate=R */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static sqlite3 *db;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long long ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static sqlite3_stmt *prep(const char *sql)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "baseline: %s: %s\n", sql, sqlite3_errmsg(db));
        exit(1);
    }
    return st;
}

static void run(sqlite3_stmt *st)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    if (rc != SQLITE_DONE) {
        fprintf(stderr, "baseline: %s\n", sqlite3_errmsg(db));
        exit(1);
    }
    sqlite3_reset(st);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: baseline DB SECONDS CONN_ID\n");
        return 2;
    }
    double seconds = atof(argv[2]);
    long long conn = atoll(argv[3]);
    if (sqlite3_open(argv[1], &db) != SQLITE_OK)
        return 1;
    sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;", NULL, NULL,
                 NULL);
    sqlite3_stmt *begin = prep("BEGIN IMMEDIATE"), *commit = prep("COMMIT");
    sqlite3_stmt *bump = prep("UPDATE connections SET run_count = run_count + 1 WHERE id = ?1 RETURNING run_count");
    sqlite3_stmt *ins = prep("INSERT INTO runs (uuid, workspace_id, connection_id, run_count, state, result, "
                             "created_at, updated_at, started_at, trigger_tag, trigger_detail, full_sync) "
                             "VALUES (lower(hex(randomblob(16))), 1, ?1, ?2, 1, 0, ?3, ?3, ?3, 'API', 'bench', 0)");
    sqlite3_stmt *ev = prep("INSERT INTO run_events (run_id, at, kind, data) VALUES (?1, ?2, ?3, ?4)");
    sqlite3_stmt *upd = prep("UPDATE runs SET current_step = 'Loading data into destination service', "
                             "source_record_count = ?2, source_record_updates = ?3, records_processed = ?3, "
                             "updated_at = ?4, version = version + 1 WHERE id = ?1");
    sqlite3_stmt *fin = prep("UPDATE runs SET state = 3, result = 1, current_step = NULL, records_processed = ?2, "
                             "records_updated = ?2, completed_at = ?3, updated_at = ?3, version = version + 1 "
                             "WHERE id = ?1");
    double t0 = now(), deadline = t0 + seconds;
    long long n = 0;
    while (now() < deadline) {
        long long t = ms_now();
        run(begin);
        sqlite3_bind_int64(bump, 1, conn);
        if (sqlite3_step(bump) != SQLITE_ROW) {
            fprintf(stderr, "baseline: no connection %lld\n", conn);
            return 1;
        }
        long long rc = sqlite3_column_int64(bump, 0);
        sqlite3_reset(bump);
        sqlite3_bind_int64(ins, 1, conn);
        sqlite3_bind_int64(ins, 2, rc);
        sqlite3_bind_int64(ins, 3, t);
        run(ins);
        long long id = sqlite3_last_insert_rowid(db);
        sqlite3_bind_int64(ev, 1, id);
        sqlite3_bind_int64(ev, 2, t);
        sqlite3_bind_text(ev, 3, "created", -1, SQLITE_STATIC);
        sqlite3_bind_text(ev, 4, "{\"state\":\"working\",\"trigger\":{\"tag\":\"API\",\"detail\":\"bench\"}}", -1,
                          SQLITE_STATIC);
        run(ev);
        run(commit);

        run(begin);
        sqlite3_bind_int64(upd, 1, id);
        sqlite3_bind_int64(upd, 2, 1000 + n % 100000);
        sqlite3_bind_int64(upd, 3, n % 1000);
        sqlite3_bind_int64(upd, 4, ms_now());
        run(upd);
        sqlite3_bind_int64(ev, 1, id);
        sqlite3_bind_text(ev, 3, "updated", -1, SQLITE_STATIC);
        sqlite3_bind_text(ev, 4, "{\"counters\":{\"source_record_count\":1000,\"records_processed\":1}}", -1,
                          SQLITE_STATIC);
        run(ev);
        run(commit);

        run(begin);
        sqlite3_bind_int64(fin, 1, id);
        sqlite3_bind_int64(fin, 2, n % 1000);
        sqlite3_bind_int64(fin, 3, ms_now());
        run(fin);
        sqlite3_bind_int64(ev, 1, id);
        sqlite3_bind_text(ev, 3, "finished", -1, SQLITE_STATIC);
        sqlite3_bind_text(ev, 4, "{\"result\":\"success\"}", -1, SQLITE_STATIC);
        run(ev);
        run(commit);
        n++;
    }
    double elapsed = now() - t0;
    printf("lifecycles=%lld seconds=%.3f rate=%.1f\n", n, elapsed, n / elapsed);
    sqlite3_close(db);
    return 0;
}
