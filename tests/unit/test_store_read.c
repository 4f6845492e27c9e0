/* Tests for the store's capped and paged reads (src/store/sqlite_read.c): no read cuts a list
 * without saying so, and a page of runs reads its jobs and tasks with a fixed number of
 * statements, however many runs it has. Each test runs on a fresh temporary database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <unistd.h>

#include "store/store.h"

typedef struct fx {
    char dir[256];
    char path[320];
    store_t *s;
    store_reader_t *r;
    int64_t ws, conn;
    arena_t a; /* for reads and imports; released by teardown */
} fx_t;

static void wr_init(store_write_t *w, store_op_t op, int64_t ws, int64_t id)
{
    memset(w, 0, sizeof(*w));
    w->op = op;
    w->workspace_id = ws;
    w->id = id;
}

static int64_t mk_conn(fx_t *f, const char *name, const char *schedule)
{
    store_write_t w;
    wr_init(&w, OP_CONNECTION_CREATE, f->ws, 0);
    w.conn.name = name;
    if (schedule != NULL) {
        w.mask = CONN_F_SCHEDULE;
        w.conn.schedule = schedule;
    }
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    int64_t id = w.conn.id;
    store_write_release(&w);
    return id;
}

/* A finished run's jobs: results[k] jobs of result k, each with `tasks` tasks. */
typedef struct shape {
    int results[RUN_RESULT_COUNT];
    int tasks;
} shape_t;

/* Imports nruns finished runs of f->conn, each with jobs as `sh` says, in one write. */
static void import_runs(fx_t *f, int nruns, shape_t sh)
{
    store_import_t *im = arena_alloc(&f->a, sizeof(*im) * (size_t)nruns);
    int njobs = 0;
    for (int k = 0; k < RUN_RESULT_COUNT; k++)
        njobs += sh.results[k];
    for (int i = 0; i < nruns; i++) {
        char ext[32];
        snprintf(ext, sizeof(ext), "ext-%d-%d", i, rand());
        im[i].run.external_id = arena_strdup(&f->a, ext);
        im[i].run.created_at = 1700000000000 + i;
        im[i].run.state = RUN_FINISHED;
        im[i].run.result = RESULT_SUCCESS;
        im[i].njobs = njobs;
        im[i].jobs = arena_alloc(&f->a, sizeof(job_t) * (size_t)(njobs ? njobs : 1));
        int j = 0;
        for (int k = 0; k < RUN_RESULT_COUNT; k++) {
            for (int c = 0; c < sh.results[k]; c++, j++) {
                job_t *jb = &im[i].jobs[j];
                jb->state = RUN_FINISHED;
                jb->result = (run_result_t)k;
                jb->name = "goal";
                jb->ntasks = sh.tasks;
                jb->tasks = arena_alloc(&f->a, sizeof(task_t) * (size_t)(sh.tasks ? sh.tasks : 1));
                for (int t = 0; t < sh.tasks; t++) {
                    jb->tasks[t].state = RUN_FINISHED;
                    jb->tasks[t].result = RESULT_SUCCESS;
                }
            }
        }
    }
    store_write_t w;
    wr_init(&w, OP_RUN_IMPORT, f->ws, f->conn);
    w.imports = im;
    w.nimports = nruns;
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    assert_int_equal(w.imported, nruns);
    store_write_release(&w);
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof(f->dir), "%s/syncrun-test-store-read.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/test.db", f->dir);
    char err[256] = "";
    if (store_open(f->path, &f->s, err, sizeof(err)) != 0)
        fail_msg("store_open(%s): %s", f->path, err);
    f->r = store_reader_open(f->s);
    assert_non_null(f->r);
    store_write_t w;
    wr_init(&w, OP_WORKSPACE_CREATE, 0, 0);
    w.name = "one";
    w.key_scope = SCOPE_ADMIN;
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    f->ws = w.workspace_id;
    store_write_release(&w);
    f->conn = mk_conn(f, "history", NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    store_reader_close(f->r);
    store_close(f->s);
    arena_release(&f->a);
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        char p[400];
        snprintf(p, sizeof(p), "%s%s", f->path, suffixes[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

/* ---- no silent caps ---- */

/* A run with 5,000 jobs (BlueConic goals) is counted whole; reading the list used to stop at 1,000. */
static void test_counts_and_lists_of_5000_jobs(void **state)
{
    fx_t *f = *state;
    shape_t sh = {.results = {[RESULT_SUCCESS] = 3000, [RESULT_ERROR] = 1500, [RESULT_SKIPPED] = 500}};
    import_runs(f, 1, sh);

    store_job_counts_t *counts;
    int n;
    assert_int_equal(store_job_counts(f->r, f->ws, f->conn, 1, 1, &f->a, &counts, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(counts[0].by_result[RESULT_SUCCESS], 3000);
    assert_int_equal(counts[0].by_result[RESULT_ERROR], 1500);
    assert_int_equal(counts[0].by_result[RESULT_SKIPPED], 500);

    /* the whole list, and the same list page by page */
    job_t *jobs;
    run_t *run;
    store_run_jobs_t *runs;
    assert_int_equal(store_run_range(f->r, f->ws, f->conn, 1, 1, 0, &f->a, &run, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_job_list(f->r, f->ws, run[0].id, &f->a, &jobs, &n), STORE_OK);
    assert_int_equal(n, 5000);
    int seen = 0, pages = 0, more = 1, failed = 0;
    int64_t after = 0;
    while (more) {
        store_jobs_query_t q = {
            .conn_id = f->conn, .lo = 1, .hi = 1, .after_job = after, .max_jobs = 1000, .max_units = 10000};
        int nr;
        assert_int_equal(store_jobs_read(f->r, f->ws, &q, &f->a, &runs, &nr, &more), STORE_OK);
        assert_int_equal(nr, 1);
        assert_int_equal(runs[0].njobs, 1000);
        assert_int_equal(runs[0].more, more);
        for (int i = 0; i < runs[0].njobs; i++) {
            assert_true(runs[0].jobs[i].id > after);
            after = runs[0].jobs[i].id;
            failed += runs[0].jobs[i].result == RESULT_ERROR;
        }
        seen += runs[0].njobs;
        pages++;
    }
    assert_int_equal(seen, 5000);
    assert_int_equal(pages, 5);
    assert_int_equal(failed, 1500);

    /* the first failed jobs of the run, and a flag for the rest */
    assert_int_equal(store_jobs_first(f->r, f->ws, f->conn, 1, 1, 1u << RESULT_ERROR, 10, &f->a, &runs, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(runs[0].njobs, 10);
    assert_int_equal(runs[0].more, 1);
    for (int i = 0; i < 10; i++)
        assert_int_equal(runs[0].jobs[i].result, RESULT_ERROR);
}

/* The read stops at its limits and says where: the run, and the job whose tasks it cut. */
static void test_jobs_read_says_where_it_stopped(void **state)
{
    fx_t *f = *state;
    import_runs(f, 1, (shape_t){.results = {[RESULT_SUCCESS] = 1}, .tasks = 0}); /* run_count 1 */
    import_runs(f, 1, (shape_t){.results = {[RESULT_SUCCESS] = 3}, .tasks = 2}); /* run_count 2 */
    store_run_jobs_t *runs;
    int n, more;

    /* everything: newest run first, jobs with their tasks */
    store_jobs_query_t q = {.conn_id = f->conn, .lo = 1, .hi = 2, .max_jobs = 100, .max_units = 100};
    assert_int_equal(store_jobs_read(f->r, f->ws, &q, &f->a, &runs, &n, &more), STORE_OK);
    assert_int_equal(more, 0);
    assert_int_equal(n, 2);
    assert_int_equal(runs[0].njobs, 3);
    assert_int_equal(runs[0].jobs[2].ntasks, 2);
    assert_int_equal(runs[1].njobs, 1);
    assert_int_equal(runs[1].jobs[0].ntasks, 0);
    assert_int_equal(runs[0].more + runs[1].more, 0);

    /* 5 units: 2 + 2 tasks, then the third job's first task; its second would be the 6th */
    q.max_units = 5;
    assert_int_equal(store_jobs_read(f->r, f->ws, &q, &f->a, &runs, &n, &more), STORE_OK);
    assert_int_equal(more, 1);
    assert_int_equal(n, 1);
    assert_int_equal(runs[0].more, 1);
    assert_int_equal(runs[0].njobs, 3);
    assert_int_equal(runs[0].jobs[1].tasks_more, 0);
    assert_int_equal(runs[0].jobs[2].ntasks, 1);
    assert_int_equal(runs[0].jobs[2].tasks_more, 1);

    /* 6 units: the newest run whole, and the older one not read: the stop is between runs */
    q.max_units = 6;
    assert_int_equal(store_jobs_read(f->r, f->ws, &q, &f->a, &runs, &n, &more), STORE_OK);
    assert_int_equal(more, 1);
    assert_int_equal(n, 1);
    assert_int_equal(runs[0].more, 0);
    assert_int_equal(runs[0].jobs[2].tasks_more, 0);

    /* 2 jobs at most */
    q.max_units = 100;
    q.max_jobs = 2;
    assert_int_equal(store_jobs_read(f->r, f->ws, &q, &f->a, &runs, &n, &more), STORE_OK);
    assert_int_equal(more, 1);
    assert_int_equal(runs[0].njobs, 2);
    assert_int_equal(runs[0].more, 1);
    assert_int_equal(runs[0].jobs[1].tasks_more, 0);

    /* a byte budget smaller than one row still reads that row, and stops after it */
    q.max_jobs = 100;
    q.max_bytes = 1;
    assert_int_equal(store_jobs_read(f->r, f->ws, &q, &f->a, &runs, &n, &more), STORE_OK);
    assert_int_equal(more, 1);
    assert_int_equal(runs[0].njobs, 1);
    assert_int_equal(runs[0].jobs[0].ntasks, 1);
    assert_int_equal(runs[0].jobs[0].tasks_more, 1);

    /* another workspace sees nothing */
    q.max_bytes = 0;
    assert_int_equal(store_jobs_read(f->r, f->ws + 1000, &q, &f->a, &runs, &n, &more), STORE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(more, 0);
}

/* A range wider than STORE_RUN_RANGE_MAX is refused, not cut to its first 1,000 runs. */
static void test_wide_range_is_refused(void **state)
{
    fx_t *f = *state;
    run_t *runs;
    run_key_t *keys;
    int n;
    assert_int_equal(store_run_range(f->r, f->ws, f->conn, 1, STORE_RUN_RANGE_MAX, 0, &f->a, &runs, &n), STORE_OK);
    assert_int_equal(store_run_range(f->r, f->ws, f->conn, 1, STORE_RUN_RANGE_MAX + 1, 0, &f->a, &runs, &n),
                     STORE_ERROR);
    assert_int_equal(store_run_keys(f->r, f->ws, f->conn, 1, STORE_RUN_RANGE_MAX + 1, 0, &f->a, &keys, &n),
                     STORE_ERROR);
    store_job_counts_t *counts;
    assert_int_equal(store_job_counts(f->r, f->ws, f->conn, 1, STORE_RUN_RANGE_MAX + 1, &f->a, &counts, &n),
                     STORE_ERROR);
}

/* Scheduled connections come in pages with a "more" flag; every one of them is reached. */
static void test_scheduled_connections_page(void **state)
{
    fx_t *f = *state;
    int64_t ids[5];
    for (int i = 0; i < 5; i++) {
        char name[16];
        snprintf(name, sizeof(name), "s%d", i);
        ids[i] = mk_conn(f, name, "*/5 * * * *");
    }
    int64_t after = 0;
    int more = 1, seen = 0, pages = 0;
    while (more) {
        connection_t *page;
        int n;
        assert_int_equal(store_connections_scheduled(f->r, after, 2, &f->a, &page, &n, &more), STORE_OK);
        assert_true(n <= 2);
        for (int i = 0; i < n; i++)
            assert_int_equal(page[i].id, ids[seen++]);
        if (n > 0)
            after = page[n - 1].id;
        pages++;
    }
    assert_int_equal(seen, 5); /* the unscheduled connection of setup is not among them */
    assert_int_equal(pages, 3);
}

/* Keys come in pages with a "more" flag. */
static void test_keys_page(void **state)
{
    fx_t *f = *state;
    for (int i = 0; i < 4; i++) {
        store_write_t w;
        wr_init(&w, OP_KEY_CREATE, f->ws, 0);
        w.key_scope = SCOPE_RUNS_READ;
        w.name = "k";
        assert_int_equal(store_exec(f->s, &w), STORE_OK);
        store_write_release(&w);
    }
    api_key_row_t *keys;
    int n, more;
    assert_int_equal(store_key_list(f->r, f->ws, 0, 3, &f->a, &keys, &n, &more), STORE_OK);
    assert_int_equal(n, 3);
    assert_int_equal(more, 1);
    assert_int_equal(store_key_list(f->r, f->ws, keys[2].id, 3, &f->a, &keys, &n, &more), STORE_OK);
    assert_int_equal(n, 2); /* the workspace's admin key and 4 more */
    assert_int_equal(more, 0);
    assert_int_equal(store_key_list(f->r, f->ws, 0, 5, &f->a, &keys, &n, &more), STORE_OK);
    assert_int_equal(n, 5);
    assert_int_equal(more, 0);
}

/* ---- a page costs a fixed number of statements ---- */

/* The statements a BlueConic page (run range, job counts, first failed jobs) and an iTwin page with
 * jobs and tasks (run range, jobs read) cost, over run_counts lo..hi. */
static uint64_t page_statements(fx_t *f, int64_t lo, int64_t hi)
{
    uint64_t before = store_reader_statements(f->r);
    run_t *runs;
    store_job_counts_t *counts;
    store_run_jobs_t *rj;
    int n, nc, nr, more;
    assert_int_equal(store_run_range(f->r, f->ws, f->conn, lo, hi, 0, &f->a, &runs, &n), STORE_OK);
    assert_int_equal(n, hi - lo + 1);
    assert_int_equal(store_job_counts(f->r, f->ws, f->conn, lo, hi, &f->a, &counts, &nc), STORE_OK);
    assert_int_equal(nc, n);
    assert_int_equal(store_jobs_first(f->r, f->ws, f->conn, lo, hi, 1u << RESULT_ERROR, 10, &f->a, &rj, &nr), STORE_OK);
    assert_int_equal(nr, n);
    store_jobs_query_t q = {.conn_id = f->conn, .lo = lo, .hi = hi, .max_jobs = 10000, .max_units = 10000};
    assert_int_equal(store_jobs_read(f->r, f->ws, &q, &f->a, &rj, &nr, &more), STORE_OK);
    assert_int_equal(nr, n);
    assert_int_equal(more, 0);
    return store_reader_statements(f->r) - before;
}

static void test_page_statements_do_not_grow_with_runs(void **state)
{
    fx_t *f = *state;
    import_runs(f, 100, (shape_t){.results = {[RESULT_SUCCESS] = 3, [RESULT_ERROR] = 2}, .tasks = 2});
    uint64_t one = page_statements(f, 100, 100);
    uint64_t ten = page_statements(f, 91, 100);
    uint64_t hundred = page_statements(f, 1, 100);
    assert_true(one > 0);
    assert_int_equal(ten, one);
    assert_int_equal(hundred, one);
    assert_true(one <= 4);
}

/* The overview's reads: the newest runs of a page of connections and their rollups, one statement
 * each however many connections the page holds; the rollups are the runs' sums by hour. */
static void test_overview_reads_are_one_statement_each(void **state)
{
    fx_t *f = *state;
    int64_t first = f->conn, last = f->conn;
    import_runs(f, 40, (shape_t){{0}, 0}); /* created 1700000000000 + i: one hour */
    for (int k = 0; k < 5; k++) {
        f->conn = last = mk_conn(f, "more", NULL);
        import_runs(f, k + 1, (shape_t){{0}, 0});
    }
    uint64_t before = store_reader_statements(f->r);
    run_t *runs;
    run_rollup_t *roll;
    int n, nroll;
    assert_int_equal(store_runs_recent(f->r, f->ws, first, last, 30, 6 * 30, &f->a, &runs, &n), STORE_OK);
    assert_int_equal(store_run_rollups(f->r, f->ws, first, last, 1699999200000, 1700003600000, &f->a, &roll, &nroll),
                     STORE_OK);
    assert_int_equal(store_reader_statements(f->r) - before, 2);
    assert_int_equal(n, 30 + 1 + 2 + 3 + 4 + 5);
    assert_int_equal(runs[0].connection_id, first);
    assert_int_equal(runs[0].run_count, 11); /* the 30 newest of 40, oldest first */
    assert_int_equal(runs[29].run_count, 40);
    assert_int_equal(runs[n - 1].connection_id, last);
    assert_int_equal(runs[n - 1].run_count, 5);
    /* every run finished in the same hour with one result and no duration: one row a connection */
    assert_int_equal(nroll, 6);
    assert_int_equal(roll[0].connection_id, first);
    assert_int_equal(roll[0].n, 40);
    assert_int_equal(roll[0].result, RESULT_SUCCESS);
    assert_int_equal(roll[0].duration_le, 100);
    assert_int_equal(roll[5].n, 5);
    /* the hour after holds none; a cap too small is refused, never cut */
    assert_int_equal(store_run_rollups(f->r, f->ws, first, last, 1700003600000, 1700007200000, &f->a, &roll, &nroll),
                     STORE_OK);
    assert_int_equal(nroll, 0);
    assert_int_equal(store_runs_recent(f->r, f->ws, first, last, 30, 40, &f->a, &runs, &n), STORE_ERROR);
    /* another workspace reads nothing of these */
    assert_int_equal(store_runs_recent(f->r, f->ws + 1, first, last, 30, 6 * 30, &f->a, &runs, &n), STORE_OK);
    assert_int_equal(n, 0);
}

/* OP_RUNS_PRUNE removes a connection's oldest runs a batch at a time, with the keys limited to them,
 * keeps their statistics, and never a run a rule keeps. */
static void test_prune_batches_keys_and_statistics(void **state)
{
    fx_t *f = *state;
    import_runs(f, STORE_PRUNE_BATCH + 50, (shape_t){{0}, 0});
    run_t *runs;
    int n;
    assert_int_equal(store_run_range(f->r, f->ws, f->conn, 1, 1, 1, &f->a, &runs, &n), STORE_OK);
    assert_int_equal(n, 1);
    store_write_t w;
    wr_init(&w, OP_KEY_CREATE, f->ws, runs[0].id); /* a key limited to run 1 */
    w.key_scope = SCOPE_RUNS_WRITE;
    w.name = "run key";
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    char token[IDS_TOKEN_LEN];
    memcpy(token, w.token, sizeof(token));
    store_write_release(&w);
    api_key_info_t info;
    assert_int_equal(store_key_lookup(f->r, token, &info), STORE_OK);

    /* no policy: nothing goes */
    wr_init(&w, OP_RUNS_PRUNE, f->ws, f->conn);
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    assert_int_equal(w.affected, 0);
    store_write_release(&w);

    wr_init(&w, OP_CONNECTION_UPDATE, f->ws, f->conn);
    w.mask = CONN_F_RET_KEEP_LAST;
    w.conn.retention_keep_last = 10;
    assert_int_equal(store_exec(f->s, &w), STORE_OK);
    store_write_release(&w);
    int64_t total = 0;
    int batches = 0;
    do {
        wr_init(&w, OP_RUNS_PRUNE, f->ws, f->conn);
        assert_int_equal(store_exec(f->s, &w), STORE_OK);
        assert_true(w.affected <= STORE_PRUNE_BATCH);
        total += w.affected;
        batches++;
        store_write_release(&w);
    } while (w.affected > 0);
    assert_int_equal(total, STORE_PRUNE_BATCH + 40);
    assert_int_equal(batches, 3); /* 200, 40, then none */
    connection_t cn;
    assert_int_equal(store_connection_get(f->r, f->ws, f->conn, &f->a, &cn), STORE_OK);
    assert_int_equal(cn.runs_pruned, STORE_PRUNE_BATCH + 40);
    assert_int_equal(store_run_range(f->r, f->ws, f->conn, 1, cn.run_count, 1, &f->a, &runs, &n), STORE_OK);
    assert_int_equal(n, 10);
    assert_int_equal(runs[0].run_count, STORE_PRUNE_BATCH + 41);
    assert_int_equal(store_key_lookup(f->r, token, &info), STORE_NOT_FOUND);
    run_stat_t *stats;
    int nstats;
    assert_int_equal(store_run_stats(f->r, f->ws, f->conn, f->conn, &f->a, &stats, &nstats), STORE_OK);
    int64_t counted = 0;
    for (int i = 0; i < nstats; i++)
        counted += stats[i].n;
    assert_int_equal(counted, STORE_PRUNE_BATCH + 50);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_counts_and_lists_of_5000_jobs),
        T(test_jobs_read_says_where_it_stopped),
        T(test_wide_range_is_refused),
        T(test_scheduled_connections_page),
        T(test_keys_page),
        T(test_page_statements_do_not_grow_with_runs),
        T(test_overview_reads_are_one_statement_each),
        T(test_prune_batches_keys_and_statistics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
