/* Tests for src/model/run.c: names, the run state machine and the Census status mapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "model/run.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- names: the native API's spelling of every value, and parse(name(x)) == x ---- */

static const char *const state_names[] = {"queued", "working", "retrying", "finished"};
static const char *const result_names[] = {NULL,           "success",   "partial",  "error",
                                           "config_error", "timed_out", "canceled", "skipped"};
static const char *const overlap_names[] = {"skip", "queue", "attach", "replace"};
static const char *const catchup_names[] = {"latest", "none"};
static const char *const scope_names[] = {"runs:read", "runs:write", "admin", "metrics:read"};
static const char *const counter_names[] = {"source_record_count",    "source_record_updates", "source_record_deletes",
                                            "source_record_invalids", "records_processed",     "records_updated",
                                            "records_failed",         "records_invalid"};

/* Names nobody may parse, for every enum. */
static const char *const junk[] = {"",          "unknown", "none", "QUEUED",  "Success",    "skip ", " admin",
                                   "runs:Read", "runs",    "read", "records", "finished\n", "x"};

static void check_junk(int (*parse)(const char *))
{
    assert_int_equal(parse(NULL), -1);
    for (size_t i = 0; i < COUNT(junk); i++)
        if (parse(junk[i]) != -1)
            fail_msg("\"%s\" parsed as %d", junk[i], parse(junk[i]));
}

static void test_state_names(void **state)
{
    (void)state;
    assert_int_equal(COUNT(state_names), RUN_STATE_COUNT);
    for (int s = 0; s < RUN_STATE_COUNT; s++) {
        assert_string_equal(run_state_name((run_state_t)s), state_names[s]);
        assert_int_equal(run_state_parse(state_names[s]), s);
        assert_int_equal(run_state_parse(run_state_name((run_state_t)s)), s);
    }
    assert_string_equal(run_state_name(RUN_STATE_COUNT), "unknown");
    assert_string_equal(run_state_name((run_state_t)-1), "unknown");
    check_junk(run_state_parse);
}

static void test_result_names(void **state)
{
    (void)state;
    assert_int_equal(COUNT(result_names), RUN_RESULT_COUNT);
    assert_null(run_result_name(RESULT_NONE)); /* an unfinished run has no result to show */
    for (int r = RESULT_SUCCESS; r < RUN_RESULT_COUNT; r++) {
        assert_string_equal(run_result_name((run_result_t)r), result_names[r]);
        assert_int_equal(run_result_parse(result_names[r]), r);
        assert_int_equal(run_result_parse(run_result_name((run_result_t)r)), r);
    }
    assert_null(run_result_name(RUN_RESULT_COUNT));
    assert_null(run_result_name((run_result_t)-1));
    check_junk(run_result_parse);
}

static void test_catchup_names(void **state)
{
    (void)state;
    assert_int_equal(COUNT(catchup_names), CATCHUP_COUNT);
    for (int c = 0; c < CATCHUP_COUNT; c++) {
        assert_string_equal(catchup_name((catchup_policy_t)c), catchup_names[c]);
        assert_int_equal(catchup_parse(catchup_names[c]), c);
    }
    assert_int_equal(catchup_parse("all"), -1);
    assert_int_equal(catchup_parse(NULL), -1);
}

static void test_overlap_names(void **state)
{
    (void)state;
    assert_int_equal(COUNT(overlap_names), OVERLAP_COUNT);
    for (int o = 0; o < OVERLAP_COUNT; o++) {
        assert_string_equal(overlap_name((overlap_policy_t)o), overlap_names[o]);
        assert_int_equal(overlap_parse(overlap_names[o]), o);
    }
    assert_int_equal(overlap_parse("skip"), OVERLAP_SKIP);
    assert_int_equal(overlap_parse("queue"), OVERLAP_QUEUE);
    assert_int_equal(overlap_parse("attach"), OVERLAP_ATTACH);
    assert_string_equal(overlap_name(OVERLAP_COUNT), "unknown");
    check_junk(overlap_parse);
}

static void test_scope_names(void **state)
{
    (void)state;
    assert_int_equal(COUNT(scope_names), SCOPE_COUNT);
    for (int s = 0; s < SCOPE_COUNT; s++) {
        assert_string_equal(scope_name((scope_t)s), scope_names[s]);
        assert_int_equal(scope_parse(scope_names[s]), s);
    }
    assert_int_equal(scope_parse("runs:read"), SCOPE_RUNS_READ);
    assert_int_equal(scope_parse("runs:write"), SCOPE_RUNS_WRITE);
    assert_int_equal(scope_parse("admin"), SCOPE_ADMIN);
    assert_int_equal(scope_parse("metrics:read"), SCOPE_METRICS_READ);
    assert_string_equal(scope_name(SCOPE_COUNT), "unknown");
    check_junk(scope_parse);
}

static void test_counter_names(void **state)
{
    (void)state;
    assert_int_equal(COUNT(counter_names), CTR_COUNT);
    for (int c = 0; c < CTR_COUNT; c++) {
        assert_string_equal(counter_name((counter_t)c), counter_names[c]);
        assert_int_equal(counter_parse(counter_names[c]), c);
    }
    assert_int_equal(counter_parse("records_failed"), CTR_RECORDS_FAILED);
    assert_int_equal(counter_parse("source_record_count"), CTR_SOURCE_RECORD_COUNT);
    assert_string_equal(counter_name(CTR_COUNT), "unknown");
    check_junk(counter_parse);
}

/* ---- scopes: admin > runs:write > runs:read; metrics:read apart (admin reads metrics too) ---- */

static void test_scope_allows_matrix(void **state)
{
    (void)state;
    static const int allows[SCOPE_COUNT][SCOPE_COUNT] = {
        /* need:              read write admin metrics */
        [SCOPE_RUNS_READ] = {1, 0, 0, 0},
        [SCOPE_RUNS_WRITE] = {1, 1, 0, 0},
        [SCOPE_ADMIN] = {1, 1, 1, 1},
        [SCOPE_METRICS_READ] = {0, 0, 0, 1},
    };
    for (int have = 0; have < SCOPE_COUNT; have++)
        for (int need = 0; need < SCOPE_COUNT; need++)
            if (scope_allows((scope_t)have, (scope_t)need) != allows[have][need])
                fail_msg("scope_allows(%s, %s) = %d, want %d", scope_names[have], scope_names[need],
                         scope_allows((scope_t)have, (scope_t)need), allows[have][need]);
}

/* ---- the state machine ---- */

static void test_transition_table(void **state)
{
    (void)state;
    /* 0 = allowed, -1 = refused. Progress updates move a live run to working/retrying; only a run
     * that was working can retry; nothing goes back to queued once started; finishing goes
     * through run_finish_allowed; a finished run never moves. */
    static const int allowed[RUN_STATE_COUNT][RUN_STATE_COUNT] = {
        /* to:             queued working retrying finished */
        [RUN_QUEUED] = {0, 0, -1, -1},
        [RUN_WORKING] = {-1, 0, 0, -1},
        [RUN_RETRYING] = {-1, 0, 0, -1},
        [RUN_FINISHED] = {-1, -1, -1, -1},
    };
    int failures = 0;
    for (int from = 0; from < RUN_STATE_COUNT; from++) {
        for (int to = 0; to < RUN_STATE_COUNT; to++) {
            int got = run_transition_allowed((run_state_t)from, (run_state_t)to);
            if (got != allowed[from][to]) {
                print_error("run_transition_allowed(%s, %s) = %d, want %d\n", state_names[from], state_names[to], got,
                            allowed[from][to]);
                failures++;
            }
        }
        assert_int_equal(run_transition_allowed((run_state_t)from, RUN_STATE_COUNT), -1);
    }
    assert_int_equal(failures, 0);
}

static void test_finish_table(void **state)
{
    (void)state;
    /* rows: the run's current state; columns: the finishing result */
    static const int allowed[RUN_STATE_COUNT][RUN_RESULT_COUNT] = {
        /*               none succ part err  cfg  tout canc skip */
        [RUN_QUEUED] = {-1, 0, 0, 0, 0, 0, 0, 0},
        [RUN_WORKING] = {-1, 0, 0, 0, 0, 0, 0, -1},
        [RUN_RETRYING] = {-1, 0, 0, 0, 0, 0, 0, -1},
        [RUN_FINISHED] = {-1, -1, -1, -1, -1, -1, -1, -1},
    };
    int failures = 0;
    for (int s = 0; s < RUN_STATE_COUNT; s++) {
        for (int r = 0; r < RUN_RESULT_COUNT; r++) {
            run_t run;
            memset(&run, 0, sizeof(run));
            run.state = (run_state_t)s;
            run.result = s == RUN_FINISHED ? RESULT_SUCCESS : RESULT_NONE;
            int got = run_finish_allowed(&run, (run_result_t)r);
            if (got != allowed[s][r]) {
                print_error("run_finish_allowed(%s, %s) = %d, want %d\n", state_names[s],
                            r == 0 ? "none" : result_names[r], got, allowed[s][r]);
                failures++;
            }
            assert_int_equal(run.state, s); /* a check, not a change */
        }
        run_t run;
        memset(&run, 0, sizeof(run));
        run.state = (run_state_t)s;
        assert_int_equal(run_finish_allowed(&run, RUN_RESULT_COUNT), -1);
        assert_int_equal(run_finish_allowed(&run, (run_result_t)99), -1);
    }
    assert_int_equal(failures, 0);
}

/* ---- Census status: the mapping table of DESIGN.md ---- */

static void test_census_status_table(void **state)
{
    (void)state;
    static const struct {
        run_state_t state;
        run_result_t result;
        const char *status;
    } rows[] = {
        {RUN_QUEUED, RESULT_NONE, "queued"},           {RUN_WORKING, RESULT_NONE, "working"},
        {RUN_RETRYING, RESULT_NONE, "working"},        {RUN_FINISHED, RESULT_SUCCESS, "completed"},
        {RUN_FINISHED, RESULT_PARTIAL, "completed"},   {RUN_FINISHED, RESULT_ERROR, "failed"},
        {RUN_FINISHED, RESULT_CONFIG_ERROR, "failed"}, {RUN_FINISHED, RESULT_TIMED_OUT, "failed"},
        {RUN_FINISHED, RESULT_CANCELED, "failed"},     {RUN_FINISHED, RESULT_SKIPPED, "skipped"},
    };
    int failures = 0;
    int covered[RUN_RESULT_COUNT] = {0};
    for (size_t i = 0; i < COUNT(rows); i++) {
        const char *got = census_status(rows[i].state, rows[i].result);
        if (got == NULL || strcmp(got, rows[i].status) != 0) {
            print_error("census_status(%s, %s) = %s, want %s\n", state_names[rows[i].state],
                        rows[i].result == RESULT_NONE ? "none" : result_names[rows[i].result], got ? got : "(null)",
                        rows[i].status);
            failures++;
        }
        if (rows[i].state == RUN_FINISHED)
            covered[rows[i].result] = 1;
    }
    /* the table covers every finished result */
    for (int r = RESULT_SUCCESS; r < RUN_RESULT_COUNT; r++)
        assert_true(covered[r]);
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_names),         cmocka_unit_test(test_result_names),
        cmocka_unit_test(test_overlap_names),       cmocka_unit_test(test_catchup_names),
        cmocka_unit_test(test_scope_names),         cmocka_unit_test(test_counter_names),
        cmocka_unit_test(test_scope_allows_matrix), cmocka_unit_test(test_transition_table),
        cmocka_unit_test(test_finish_table),        cmocka_unit_test(test_census_status_table),
    };
    return cmocka_run_group_tests_name("run", tests, NULL, NULL);
}
