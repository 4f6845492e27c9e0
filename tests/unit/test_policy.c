/* Tests for src/store/policy.c: the store's domain rules (overlap, idempotency, the run and unit
 * state machines, merges, recorded history, pings, the log cut), as pure functions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "store/policy.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define NOW      1700000000000LL

/* ---- triggers ---- */

static void test_trigger_without_active_run(void **state)
{
    (void)state;
    store_trigger_t t = {.initial_state = RUN_WORKING};
    policy_trigger_t d;
    /* whatever the policy, and even with refuse/attach asked for, nothing in progress: a new run */
    for (int o = 0; o < OVERLAP_COUNT; o++) {
        t.refuse_active = o & 1;
        t.attach_active = (o >> 1) & 1;
        policy_trigger_decide(&t, (overlap_policy_t)o, 0, &d);
        assert_int_equal(d.outcome, TRIGGER_CREATED);
        assert_true(d.insert);
        assert_false(d.cancel_active);
        assert_int_equal(d.state, RUN_WORKING);
        assert_int_equal(d.result, RESULT_NONE);
        assert_string_equal(d.event, "created");
    }
    /* anything but WORKING asked for starts queued */
    t.initial_state = RUN_RETRYING;
    policy_trigger_decide(&t, OVERLAP_QUEUE, 0, &d);
    assert_int_equal(d.state, RUN_QUEUED);
}

static void test_trigger_overlap_table(void **state)
{
    (void)state;
    static const struct {
        overlap_policy_t overlap;
        trigger_outcome_t outcome;
        int insert, cancel, attach_event;
        run_state_t st;
        run_result_t res;
    } rows[] = {
        {OVERLAP_SKIP, TRIGGER_SKIPPED, 1, 0, 0, RUN_FINISHED, RESULT_SKIPPED},
        /* queue: even a trigger that wants to start working waits behind the active run */
        {OVERLAP_QUEUE, TRIGGER_CREATED, 1, 0, 0, RUN_QUEUED, RESULT_NONE},
        {OVERLAP_ATTACH, TRIGGER_ATTACHED, 0, 0, 1, RUN_WORKING, RESULT_NONE},
        /* replace: the active run is canceled and the new one runs as asked */
        {OVERLAP_REPLACE, TRIGGER_CREATED, 1, 1, 0, RUN_WORKING, RESULT_NONE},
    };
    for (size_t i = 0; i < COUNT(rows); i++) {
        store_trigger_t t = {.initial_state = RUN_WORKING};
        policy_trigger_t d;
        policy_trigger_decide(&t, rows[i].overlap, 1, &d);
        assert_int_equal(d.outcome, rows[i].outcome);
        assert_int_equal(d.insert, rows[i].insert);
        assert_int_equal(d.cancel_active, rows[i].cancel);
        assert_int_equal(d.attach_event, rows[i].attach_event);
        if (d.insert) {
            assert_int_equal(d.state, rows[i].st);
            assert_int_equal(d.result, rows[i].res);
            assert_string_equal(d.event, rows[i].res == RESULT_SKIPPED ? "skipped" : "created");
        }
    }
}

static void test_trigger_refuse_and_attach_override_policy(void **state)
{
    (void)state;
    policy_trigger_t d;
    for (int o = 0; o < OVERLAP_COUNT; o++) {
        store_trigger_t t = {.initial_state = RUN_QUEUED, .refuse_active = 1, .attach_active = 1};
        policy_trigger_decide(&t, (overlap_policy_t)o, 1, &d);
        assert_int_equal(d.outcome, TRIGGER_REFUSED); /* refuse wins over attach */
        assert_false(d.insert);
        assert_false(d.cancel_active);
        assert_false(d.attach_event);
        t.refuse_active = 0;
        policy_trigger_decide(&t, (overlap_policy_t)o, 1, &d);
        assert_int_equal(d.outcome, TRIGGER_ATTACHED); /* a dialect's attach wins over skip/replace */
        assert_false(d.insert);
        assert_false(d.cancel_active);
    }
}

static void test_trigger_idempotency(void **state)
{
    (void)state;
    store_trigger_t t = {.idempotency_key = "k", .idempotency_hash = "abc"};
    assert_int_equal(policy_trigger_idempotent(&t, "abc"), STORE_OK);
    assert_int_equal(policy_trigger_idempotent(&t, "abd"), STORE_IDEM_REUSED);
    assert_int_equal(policy_trigger_idempotent(&t, "ab"), STORE_IDEM_REUSED);
    /* a run kept without a fingerprint, or a request without one, is never "the same request" */
    assert_int_equal(policy_trigger_idempotent(&t, NULL), STORE_IDEM_REUSED);
    t.idempotency_hash = NULL;
    assert_int_equal(policy_trigger_idempotent(&t, "abc"), STORE_IDEM_REUSED);
}

static void test_run_new_and_replaced(void **state)
{
    (void)state;
    run_t r = {0};
    store_trigger_t t = {.scheduled_at = NOW - 5000, .full_sync = 7};
    policy_run_new(&r, &t, RUN_WORKING, RESULT_NONE, NOW);
    assert_int_equal(r.scheduled_at, NOW - 5000);
    assert_int_equal(r.started_at, NOW);
    assert_int_equal(r.completed_at, 0);
    assert_int_equal(r.full_sync, 1);
    assert_int_equal(r.attempt, 1);
    assert_int_equal(r.version, 1);
    memset(&r, 0, sizeof(r));
    t.scheduled_at = 0;
    policy_run_new(&r, &t, RUN_FINISHED, RESULT_SKIPPED, NOW);
    assert_int_equal(r.scheduled_at, NOW); /* no schedule: scheduled when created */
    assert_int_equal(r.started_at, 0);     /* a skipped run never started */
    assert_int_equal(r.completed_at, NOW);

    run_t old = {.state = RUN_WORKING, .current_step = "load", .started_at = NOW - 1};
    policy_run_replaced(&old, NOW);
    assert_int_equal(old.state, RUN_FINISHED);
    assert_int_equal(old.result, RESULT_CANCELED);
    assert_int_equal(old.completed_at, NOW);
    assert_null(old.current_step);
    assert_int_equal(old.started_at, NOW - 1);
    assert_non_null(strstr(old.message, "replace"));
}

/* ---- run updates and finishes ---- */

static void test_run_update_attempt_and_started(void **state)
{
    (void)state;
    buf_t ev = BUF_INIT(POLICY_EVENT_MAX);
    const char *field = NULL;
    run_t r = {.state = RUN_QUEUED, .attempt = 1};
    run_t req = {.state = RUN_WORKING};
    policy_event_open(&ev);
    assert_int_equal(policy_run_update(&r, &req, RUN_F_STATE, NOW, &ev, &field), STORE_OK);
    assert_int_equal(r.started_at, NOW);
    assert_int_equal(r.attempt, 1); /* the first start is attempt 1 */
    req.state = RUN_RETRYING;
    assert_int_equal(policy_run_update(&r, &req, RUN_F_STATE, NOW + 1, &ev, &field), STORE_OK);
    assert_int_equal(r.attempt, 1);
    req.state = RUN_WORKING;
    assert_int_equal(policy_run_update(&r, &req, RUN_F_STATE, NOW + 2, &ev, &field), STORE_OK);
    assert_int_equal(r.attempt, 2);      /* retrying -> working begins the next attempt */
    assert_int_equal(r.started_at, NOW); /* started_at is the first start, kept */
    assert_int_equal(policy_run_update(&r, &req, RUN_F_STATE, NOW + 3, &ev, &field), STORE_OK);
    assert_int_equal(r.attempt, 2); /* working -> working is no new attempt */
    buf_release(&ev);
}

static void test_run_update_refused_changes_nothing(void **state)
{
    (void)state;
    buf_t ev = BUF_INIT(POLICY_EVENT_MAX);
    const char *field = NULL;
    run_t r = {.state = RUN_WORKING, .attempt = 3, .started_at = NOW - 10, .message = "m"};
    run_t before = r;
    run_t req = {.state = RUN_QUEUED, .message = "new"};
    policy_event_open(&ev);
    /* a started run never goes back to the queue; the message sent with it is not merged either */
    assert_int_equal(policy_run_update(&r, &req, RUN_F_STATE | RUN_F_MESSAGE, NOW, &ev, &field), STORE_BAD_STATE);
    assert_string_equal(field, "state");
    assert_int_equal(r.state, before.state);
    assert_int_equal(r.attempt, before.attempt);
    assert_string_equal(r.message, "m");
    /* a queued run cannot retry */
    run_t q = {.state = RUN_QUEUED};
    req.state = RUN_RETRYING;
    assert_int_equal(policy_run_update(&q, &req, RUN_F_STATE, NOW, &ev, &field), STORE_BAD_STATE);
    assert_int_equal(q.started_at, 0);
    buf_release(&ev);
}

static void test_run_update_event_and_error_ignored(void **state)
{
    (void)state;
    buf_t ev = BUF_INIT(POLICY_EVENT_MAX);
    const char *field = NULL;
    run_t r = {.state = RUN_WORKING, .attempt = 1, .started_at = NOW - 1};
    run_t req = {.state = RUN_WORKING, .error_code = "E", .current_step = "s"};
    req.counters[CTR_RECORDS_PROCESSED] = 42;
    policy_event_open(&ev);
    unsigned mask = RUN_F_STATE | RUN_F_ERROR | RUN_F_STEP | (RUN_F_COUNTER0 << CTR_RECORDS_PROCESSED);
    assert_int_equal(policy_run_update(&r, &req, mask, NOW, &ev, &field), STORE_OK);
    assert_null(r.error_code); /* an update never sets the error: a finish does */
    assert_int_equal(r.counters[CTR_RECORDS_PROCESSED], 42);
    buf_add(&ev, "}", 1);
    /* no "state" member: it did not change */
    assert_string_equal(buf_str(&ev), "{\"counters\":{\"records_processed\":42},\"current_step\":\"s\"}");
    run_t before = {.state = RUN_WORKING, .attempt = 1, .started_at = NOW - 1};
    assert_true(policy_run_state_kept(&before, &r));
    r.attempt = 2;
    assert_false(policy_run_state_kept(&before, &r));
    buf_release(&ev);
}

static void test_run_finish(void **state)
{
    (void)state;
    const char *field = NULL;
    run_t req = {.message = "done", .error_code = "X"};
    /* skipped is only for a run that never started */
    run_t w = {.state = RUN_WORKING, .current_step = "s"};
    buf_t ev = BUF_INIT(POLICY_EVENT_MAX);
    assert_int_equal(policy_run_finish(&w, &req, 0, RESULT_SKIPPED, NOW, &ev, &field), STORE_BAD_STATE);
    assert_string_equal(field, "result");
    assert_int_equal(w.state, RUN_WORKING);
    assert_int_equal(ev.len, 0); /* nothing written to the event on refusal */
    assert_int_equal(policy_run_finish(&w, &req, 0, RESULT_NONE, NOW, &ev, &field), STORE_BAD_STATE);
    run_t q = {.state = RUN_QUEUED};
    assert_int_equal(policy_run_finish(&q, &req, 0, RESULT_SKIPPED, NOW, &ev, &field), STORE_OK);
    buf_release(&ev);
    ev = (buf_t)BUF_INIT(POLICY_EVENT_MAX);
    assert_int_equal(policy_run_finish(&w, &req, RUN_F_MESSAGE, RESULT_SUCCESS, NOW, &ev, &field), STORE_OK);
    assert_int_equal(w.state, RUN_FINISHED);
    assert_int_equal(w.result, RESULT_SUCCESS);
    assert_int_equal(w.completed_at, NOW);
    assert_null(w.current_step);
    assert_string_equal(w.message, "done");
    assert_null(w.error_code); /* not in the mask */
    buf_add(&ev, "}", 1);
    assert_string_equal(buf_str(&ev), "{\"result\":\"success\",\"message\":\"done\"}");
    buf_release(&ev);
    /* a finished run is immutable */
    ev = (buf_t)BUF_INIT(POLICY_EVENT_MAX);
    assert_int_equal(policy_run_finish(&w, &req, 0, RESULT_ERROR, NOW, &ev, &field), STORE_BAD_STATE);
    buf_release(&ev);
}

static void test_run_interrupted(void **state)
{
    (void)state;
    run_t r = {.state = RUN_RETRYING, .current_step = "x", .started_at = NOW - 9};
    policy_run_interrupted(&r, NOW);
    assert_int_equal(r.state, RUN_FINISHED);
    assert_int_equal(r.result, RESULT_ERROR);
    assert_int_equal(r.completed_at, NOW);
    assert_null(r.current_step);
    assert_string_equal(r.error_code, "INTERRUPTED");
    assert_int_equal(r.started_at, NOW - 9);
}

/* ---- units ---- */

static void test_unit_state_machine(void **state)
{
    (void)state;
    run_state_t s = RUN_QUEUED;
    run_result_t res = RESULT_NONE;
    int64_t started = 0, ended = 0;
    /* a result without finishing, or finishing without a result, is refused and changes nothing */
    assert_int_equal(policy_unit_state(&s, &res, &started, &ended, RUN_WORKING, RESULT_SUCCESS, NOW), -1);
    assert_int_equal(policy_unit_state(&s, &res, &started, &ended, RUN_FINISHED, RESULT_NONE, NOW), -1);
    assert_int_equal(s, RUN_QUEUED);
    assert_int_equal(started, 0);
    /* queued -> queued starts nothing */
    assert_int_equal(policy_unit_state(&s, &res, &started, &ended, RUN_QUEUED, RESULT_NONE, NOW), 0);
    assert_int_equal(started, 0);
    assert_int_equal(policy_unit_state(&s, &res, &started, &ended, RUN_WORKING, RESULT_NONE, NOW), 0);
    assert_int_equal(started, NOW);
    assert_int_equal(policy_unit_state(&s, &res, &started, &ended, RUN_FINISHED, RESULT_ERROR, NOW + 5), 0);
    assert_int_equal(started, NOW);
    assert_int_equal(ended, NOW + 5);
    /* finished is final, even for the same state */
    assert_int_equal(policy_unit_state(&s, &res, &started, &ended, RUN_FINISHED, RESULT_SUCCESS, NOW + 9), -1);
    assert_int_equal(res, RESULT_ERROR);
    assert_int_equal(ended, NOW + 5);
    /* finished straight from queued: started and ended at once */
    s = RUN_QUEUED;
    res = RESULT_NONE;
    started = ended = 0;
    assert_int_equal(policy_unit_state(&s, &res, &started, &ended, RUN_FINISHED, RESULT_SUCCESS, NOW), 0);
    assert_int_equal(started, NOW);
    assert_int_equal(ended, NOW);
}

static void test_job_and_task_fields(void **state)
{
    (void)state;
    const char *field = NULL;
    job_t j = {0}, req = {.name = "n", .phase = "p", .state = RUN_FINISHED, .result = RESULT_NONE};
    assert_int_equal(policy_job_create(&j, &req, NOW, &field), STORE_BAD_STATE);
    assert_string_equal(field, "result");
    req.state = RUN_QUEUED;
    req.result = RESULT_SUCCESS;
    assert_int_equal(policy_job_create(&j, &req, NOW, &field), STORE_BAD_STATE);
    assert_string_equal(field, "state");
    req.result = RESULT_NONE;
    assert_int_equal(policy_job_create(&j, &req, NOW, &field), STORE_OK);
    assert_string_equal(j.name, "n");
    assert_int_equal(j.started_at, 0);
    /* an update merges only what its mask names */
    job_t up = {.name = "other", .phase = "q", .state = RUN_FINISHED, .result = RESULT_SUCCESS};
    assert_int_equal(policy_job_update(&j, &up, JOB_F_PHASE, NOW, &field), STORE_OK);
    assert_string_equal(j.name, "n");
    assert_string_equal(j.phase, "q");
    assert_int_equal(j.state, RUN_QUEUED);
    assert_int_equal(policy_job_update(&j, &up, JOB_F_STATE | JOB_F_NAME, NOW, &field), STORE_OK);
    assert_int_equal(j.state, RUN_FINISHED);
    assert_string_equal(j.name, "other");
    /* a finished job refuses a state change and says "state" */
    assert_int_equal(policy_job_update(&j, &up, JOB_F_STATE, NOW, &field), STORE_BAD_STATE);
    assert_string_equal(field, "state");
    /* but its name may still change */
    up.name = "third";
    assert_int_equal(policy_job_update(&j, &up, JOB_F_NAME, NOW, &field), STORE_OK);
    assert_string_equal(j.name, "third");

    task_t t = {0}, treq = {.source_file_id = "f", .retry_attempts = 2, .error_json = "{}", .state = RUN_WORKING};
    /* a new task takes its source file and retries even when the mask does not name them */
    assert_int_equal(policy_task_create(&t, &treq, 0, NOW, &field), STORE_OK);
    assert_string_equal(t.source_file_id, "f");
    assert_int_equal(t.retry_attempts, 2);
    assert_null(t.error_json);
    assert_int_equal(t.started_at, NOW);
    task_t tup = {.state = RUN_WORKING, .result = RESULT_ERROR, .source_file_id = "g"};
    assert_int_equal(policy_task_update(&t, &tup, TASK_F_STATE | TASK_F_SOURCE_FILE, NOW, &field), STORE_BAD_STATE);
    assert_string_equal(field, "result");
    assert_string_equal(t.source_file_id, "f"); /* refused as a whole */
}

/* ---- connections ---- */

static void test_connection_merge(void **state)
{
    (void)state;
    connection_t cur = {.name = "a", .schedule = "* * * * *", .next_fire_at = NOW + 60000, .timeout_s = 5};
    connection_t req = {.name = "b", .timeout_s = 9, .next_fire_at = 123};
    policy_connection_merge(&cur, &req, CONN_F_TIMEOUT, NOW);
    assert_string_equal(cur.name, "a");
    assert_int_equal(cur.timeout_s, 9);
    assert_int_equal(cur.next_fire_at, NOW + 60000); /* the schedule did not change */
    assert_int_equal(cur.updated_at, NOW);
    policy_connection_merge(&cur, &req, CONN_F_DEADLINE, NOW);
    assert_int_equal(cur.next_fire_at, 0); /* a new deadline restarts the schedule */
    policy_connection_merge(&cur, &req, CONN_F_SCHEDULE | CONN_F_NEXT_FIRE, NOW);
    assert_int_equal(cur.next_fire_at, 123); /* the scheduler's own bookkeeping wins */
    assert_null(cur.schedule);

    assert_true(policy_connection_expect_reset(CONN_F_EXPECT_GRACE));
    assert_true(policy_connection_expect_reset(CONN_F_TIMEZONE));
    assert_false(policy_connection_expect_reset(CONN_F_MIN_DURATION | CONN_F_NAME | CONN_F_CATCHUP));

    int64_t v[3];
    connection_t rc = {.retention_days = 7, .retention_keep_last = RETENTION_INHERIT, .retention_failure_days = 30};
    connection_t rr = {.retention_days = 1, .retention_keep_last = 10, .retention_failure_days = 2};
    assert_false(policy_connection_retention(&rc, &rr, CONN_F_NAME, v));
    assert_true(policy_connection_retention(&rc, &rr, CONN_F_RET_KEEP_LAST, v));
    assert_int_equal(v[0], 7);
    assert_int_equal(v[1], 10);
    assert_int_equal(v[2], 30);
}

/* ---- recorded history ---- */

static void test_record_check(void **state)
{
    (void)state;
    const char *field = NULL;
    run_t ok = {.state = RUN_FINISHED, .result = RESULT_SUCCESS, .created_at = 1};
    assert_int_equal(policy_record_check(&ok, &field), STORE_OK);
    run_t bad[] = {
        {.state = RUN_FINISHED, .result = RESULT_NONE, .created_at = 1},
        {.state = RUN_WORKING, .result = RESULT_SUCCESS, .created_at = 1},
        {.state = (run_state_t)RUN_STATE_COUNT, .result = RESULT_NONE, .created_at = 1},
        {.state = RUN_FINISHED, .result = (run_result_t)RUN_RESULT_COUNT, .created_at = 1},
    };
    for (size_t i = 0; i < COUNT(bad); i++) {
        field = NULL;
        assert_int_equal(policy_record_check(&bad[i], &field), STORE_BAD_STATE);
        assert_string_equal(field, "result");
    }
    run_t old = {.state = RUN_QUEUED, .created_at = 0};
    assert_int_equal(policy_record_check(&old, &field), STORE_BAD_STATE);
    assert_string_equal(field, "created_at");

    run_t rec = {.created_at = 10, .completed_at = 20};
    policy_record_defaults(&rec);
    assert_int_equal(rec.updated_at, 20);
    assert_int_equal(rec.attempt, 1);
    run_t rec2 = {.created_at = 10, .updated_at = 15, .attempt = 4};
    policy_record_defaults(&rec2);
    assert_int_equal(rec2.updated_at, 15);
    assert_int_equal(rec2.attempt, 4);
    run_t rec3 = {.created_at = 10};
    policy_record_defaults(&rec3);
    assert_int_equal(rec3.updated_at, 10);
}

static void test_import_order(void **state)
{
    (void)state;
    const char *field = NULL;
    store_import_t im[4] = {
        {.run = {.created_at = 30, .external_id = "a"}},
        {.run = {.created_at = 10, .external_id = "z"}},
        {.run = {.created_at = 30, .external_id = "A"}},
        {.run = {.created_at = 10, .external_id = "b"}},
    };
    assert_int_equal(policy_import_order(im, 4, &field), STORE_OK);
    /* oldest first; equal times by external id (bytes), so the order never depends on the file */
    static const char *const want[] = {"b", "z", "A", "a"};
    for (int i = 0; i < 4; i++)
        assert_string_equal(im[i].run.external_id, want[i]);
    im[2].run.external_id = NULL;
    assert_int_equal(policy_import_order(im, 4, &field), STORE_BAD_STATE);
    assert_string_equal(field, "external_id");
    assert_string_equal(im[0].run.external_id, "b"); /* refused before sorting anything */
    assert_int_equal(policy_import_order(im, 0, &field), STORE_OK);
}

/* ---- pings ---- */

static void test_ping_rules(void **state)
{
    (void)state;
    char key[16], msg[64];
    policy_ping_key("0123456789abcdef", key, sizeof(key));
    assert_string_equal(key, "ping:0123456789"); /* cut to fit, NUL-terminated */
    run_t mine = {.trigger_tag = "Ping"}, api = {.trigger_tag = "API"}, none = {0};
    assert_true(policy_ping_owns(&mine));
    assert_false(policy_ping_owns(&api));
    assert_false(policy_ping_owns(&none));

    store_trigger_t t = {.refuse_active = 1, .next_fire_at = 5};
    store_ping_t start = {.kind = PING_START, .what = "GET /ping/k/start"};
    policy_ping_trigger(&start, "ping:r", &t);
    assert_string_equal(t.tag, "Ping");
    assert_string_equal(t.detail, "GET /ping/k/start");
    assert_int_equal(t.initial_state, RUN_WORKING);
    assert_null(t.idempotency_key); /* no rid: not idempotent */
    assert_false(t.refuse_active);  /* nothing of an earlier trigger is left */
    assert_int_equal(t.next_fire_at, 0);
    start.rid = "r";
    policy_ping_trigger(&start, "ping:r", &t);
    assert_string_equal(t.idempotency_key, "ping:r");
    /* a second start with the same rid is a replay, not a reused key */
    assert_int_equal(policy_trigger_idempotent(&t, t.idempotency_hash), STORE_OK);

    static const struct {
        ping_kind_t kind;
        int status;
        run_result_t result;
        const char *code, *msg;
    } rows[] = {
        {PING_SUCCESS, 0, RESULT_SUCCESS, NULL, NULL},
        {PING_EXIT, 0, RESULT_SUCCESS, NULL, NULL},
        {PING_EXIT, 3, RESULT_ERROR, "EXIT_CODE", "exited with status 3 (reported by ping)"},
        {PING_EXIT, 255, RESULT_ERROR, "EXIT_CODE", "exited with status 255 (reported by ping)"},
        {PING_FAIL, 0, RESULT_ERROR, "PING_FAIL", "failure reported by ping"},
    };
    for (size_t i = 0; i < COUNT(rows); i++) {
        store_ping_t p = {.kind = rows[i].kind, .exit_status = rows[i].status};
        run_t req = {.error_detail = "stale"};
        unsigned mask = 99;
        assert_int_equal(policy_ping_result(&p, &req, &mask, msg, sizeof(msg)), rows[i].result);
        if (rows[i].code == NULL) {
            assert_int_equal(mask, 0);
            assert_null(req.error_code);
        } else {
            assert_int_equal(mask, RUN_F_ERROR);
            assert_string_equal(req.error_code, rows[i].code);
            assert_string_equal(req.error_message, rows[i].msg);
            assert_null(req.error_detail);
        }
    }
}

/* ---- run logs ---- */

static void test_log_cut(void **state)
{
    (void)state;
    policy_log_cut_t c;
    connection_t cn = {0};
    assert_int_equal(policy_log_cap(&cn), STORE_LOG_DEFAULT_BYTES);
    cn.log_max_bytes = 10;
    assert_int_equal(policy_log_cap(&cn), 10);
    /* fits exactly: nothing dropped, nothing to scan */
    policy_log_cut(6, 4, 10, &c);
    assert_int_equal(c.len, 10);
    assert_int_equal(c.start, 0);
    assert_int_equal(c.scan_to, 0);
    policy_log_cut_at(&c, 3); /* no cut: a newline does not make one */
    assert_int_equal(c.start, 0);
    /* one byte over: the first byte goes; the scan stops at the end of the log */
    policy_log_cut(6, 5, 10, &c);
    assert_int_equal(c.start, 1);
    assert_int_equal(c.scan_to, 11);
    policy_log_cut_at(&c, -1);
    assert_int_equal(c.start, 1);
    policy_log_cut_at(&c, 4);
    assert_int_equal(c.start, 5); /* after the newline */
    /* a big log: the scan is bounded to POLICY_LOG_LINE_SCAN bytes past the cut */
    policy_log_cut(1000000, 100000, 100000, &c);
    assert_int_equal(c.start, 1000000);
    assert_int_equal(c.scan_to, 1000000 + POLICY_LOG_LINE_SCAN);
    policy_log_cut_at(&c, 1000000 + POLICY_LOG_LINE_SCAN); /* outside the scanned range: ignored */
    assert_int_equal(c.start, 1000000);
    /* an append larger than the cap alone */
    policy_log_cut(0, 25, 10, &c);
    assert_int_equal(c.start, 15);
    assert_int_equal(c.len, 25);
}

/* ---- alerts ---- */

static void test_alert_rules(void **state)
{
    (void)state;
    for (int r = 0; r < RUN_RESULT_COUNT; r++) {
        int failed = r == RESULT_ERROR || r == RESULT_CONFIG_ERROR || r == RESULT_TIMED_OUT;
        assert_int_equal(policy_result_failed((run_result_t)r), failed);
        assert_int_equal(policy_recovered(RESULT_SUCCESS, (run_result_t)r), failed);
        /* only a success recovers: a partial run after a failure does not */
        assert_false(policy_recovered(RESULT_PARTIAL, (run_result_t)r));
    }
}

/* ---- webhooks ---- */

static void test_webhook_failing(void **state)
{
    (void)state;
    webhook_t h = {.enabled = 1};
    webhook_attempt_t at = {.at = NOW, .error = "timeout", .disable_after_ms = 1000};
    /* the first failure starts the clock at the attempt, not at now */
    assert_false(policy_webhook_failing(&h, &at, NOW + 999));
    assert_int_equal(h.failing_since, NOW);
    at.at = NOW + 500;
    assert_true(policy_webhook_failing(&h, &at, NOW + 1000)); /* exactly the bound: disabled */
    assert_int_equal(h.failing_since, NOW);                   /* kept from the first failure */
    h.enabled = 0;
    assert_false(policy_webhook_failing(&h, &at, NOW + 5000)); /* disabled already */
    h.enabled = 1;
    at.disable_after_ms = 0;
    assert_false(policy_webhook_failing(&h, &at, NOW + 99999999)); /* never disabled */
}

static void test_delivery_after(void **state)
{
    (void)state;
    int64_t next = 7;
    webhook_attempt_t ok = {.error = NULL, .next_attempt_at = NOW};
    /* a success delivers, even a delivery killed meanwhile */
    assert_int_equal(policy_delivery_after(&ok, DELIVERY_DEAD, 0, &next), DELIVERY_DELIVERED);
    assert_int_equal(next, 0);
    webhook_attempt_t bad = {.error = "500", .next_attempt_at = NOW + 60000};
    assert_int_equal(policy_delivery_after(&bad, DELIVERY_PENDING, 0, &next), DELIVERY_FAILED);
    assert_int_equal(next, NOW + 60000);
    assert_int_equal(policy_delivery_after(&bad, DELIVERY_FAILED, 1, &next), DELIVERY_DEAD);
    assert_int_equal(next, 0);
    assert_int_equal(policy_delivery_after(&bad, DELIVERY_DEAD, 0, &next), DELIVERY_DEAD);
    bad.next_attempt_at = 0; /* the dispatcher gave up */
    assert_int_equal(policy_delivery_after(&bad, DELIVERY_FAILED, 0, &next), DELIVERY_DEAD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trigger_without_active_run),
        cmocka_unit_test(test_trigger_overlap_table),
        cmocka_unit_test(test_trigger_refuse_and_attach_override_policy),
        cmocka_unit_test(test_trigger_idempotency),
        cmocka_unit_test(test_run_new_and_replaced),
        cmocka_unit_test(test_run_update_attempt_and_started),
        cmocka_unit_test(test_run_update_refused_changes_nothing),
        cmocka_unit_test(test_run_update_event_and_error_ignored),
        cmocka_unit_test(test_run_finish),
        cmocka_unit_test(test_run_interrupted),
        cmocka_unit_test(test_unit_state_machine),
        cmocka_unit_test(test_job_and_task_fields),
        cmocka_unit_test(test_connection_merge),
        cmocka_unit_test(test_record_check),
        cmocka_unit_test(test_import_order),
        cmocka_unit_test(test_ping_rules),
        cmocka_unit_test(test_log_cut),
        cmocka_unit_test(test_alert_rules),
        cmocka_unit_test(test_webhook_failing),
        cmocka_unit_test(test_delivery_after),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
