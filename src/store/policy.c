/* The store's core: the domain rules of the writes (policy.h). Pure: no I/O, no clock, no SQL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/policy.h"
#include "util/jsonw.h"

/* ---- events ---- */

void policy_event_open(buf_t *ev)
{
    buf_add(ev, "{", 1);
}

void policy_event_key(buf_t *ev, const char *key)
{
    buf_add(ev, ev->len > 1 ? ",\"" : "\"", ev->len > 1 ? 2 : 1);
    buf_adds(ev, key);
    buf_add(ev, "\":", 2);
}

void policy_event_trigger(buf_t *ev, const run_t *r)
{
    policy_event_open(ev);
    policy_event_key(ev, "state");
    jw_str(ev, run_state_name(r->state));
    policy_event_key(ev, "result");
    jw_str(ev, run_result_name(r->result));
    policy_event_key(ev, "trigger_tag");
    jw_str(ev, r->trigger_tag);
    policy_event_key(ev, "trigger_detail");
    jw_str(ev, r->trigger_detail);
    policy_event_key(ev, "full_sync");
    jw_bool(ev, r->full_sync);
}

/* ---- triggers ---- */

store_err_t policy_trigger_idempotent(const store_trigger_t *t, const char *found_hash)
{
    int same = found_hash != NULL && t->idempotency_hash != NULL && strcmp(found_hash, t->idempotency_hash) == 0;
    return same ? STORE_OK : STORE_IDEM_REUSED;
}

void policy_trigger_decide(const store_trigger_t *t, overlap_policy_t overlap, int has_active, policy_trigger_t *out)
{
    memset(out, 0, sizeof(*out));
    out->outcome = TRIGGER_CREATED;
    out->insert = 1;
    out->state = t->initial_state == RUN_WORKING ? RUN_WORKING : RUN_QUEUED;
    out->result = RESULT_NONE;
    out->event = "created";
    if (!has_active)
        return;
    if (t->refuse_active) { /* decided in the writer's transaction: race-free */
        out->outcome = TRIGGER_REFUSED;
        out->insert = 0;
        return;
    }
    switch (t->attach_active ? OVERLAP_ATTACH : overlap) {
    case OVERLAP_ATTACH:
        out->outcome = TRIGGER_ATTACHED;
        out->insert = 0;
        out->attach_event = 1; /* the audit trail records the trigger that joined the run */
        break;
    case OVERLAP_SKIP:
        out->outcome = TRIGGER_SKIPPED;
        out->state = RUN_FINISHED;
        out->result = RESULT_SKIPPED;
        out->event = "skipped";
        break;
    case OVERLAP_REPLACE:
        out->cancel_active = 1; /* the runner sees it finished and stops its process */
        break;
    default: /* queue: waits its turn behind the active run */
        out->state = RUN_QUEUED;
        break;
    }
}

void policy_run_replaced(run_t *r, int64_t now)
{
    r->state = RUN_FINISHED;
    r->result = RESULT_CANCELED;
    r->completed_at = now;
    r->current_step = NULL;
    r->message = "Canceled: replaced by a newer run (overlap policy replace)";
}

void policy_run_new(run_t *r, const store_trigger_t *t, run_state_t state, run_result_t result, int64_t created)
{
    r->state = state;
    r->result = result;
    r->created_at = r->updated_at = created;
    r->scheduled_at = t->scheduled_at ? t->scheduled_at : created;
    r->started_at = state == RUN_WORKING ? created : 0;
    r->completed_at = state == RUN_FINISHED ? created : 0;
    r->full_sync = t->full_sync ? 1 : 0;
    r->attempt = 1;
    r->version = 1;
}

/* ---- run updates and finishes ---- */

/* Copies the counters, message and error selected by mask from src into r, recording them in the
 * open event ev. */
static void merge_fields(run_t *r, const run_t *src, unsigned mask, buf_t *ev)
{
    int ctrs = 0;
    for (int i = 0; i < CTR_COUNT; i++) {
        if (mask & (RUN_F_COUNTER0 << i)) {
            r->counters[i] = src->counters[i];
            if (ctrs++ == 0) {
                policy_event_key(ev, "counters");
                buf_add(ev, "{", 1);
            } else {
                buf_add(ev, ",", 1);
            }
            jw_str(ev, counter_name((counter_t)i));
            buf_add(ev, ":", 1);
            jw_int(ev, src->counters[i]);
        }
    }
    if (ctrs > 0)
        buf_add(ev, "}", 1);
    if (mask & RUN_F_STEP) {
        r->current_step = src->current_step;
        policy_event_key(ev, "current_step");
        jw_str(ev, src->current_step);
    }
    if (mask & RUN_F_WATERMARK) {
        r->watermark = src->watermark;
        policy_event_key(ev, "last_timestamp_synced");
        jw_time(ev, src->watermark);
    }
    if (mask & RUN_F_MESSAGE) {
        r->message = src->message;
        policy_event_key(ev, "message");
        jw_str(ev, src->message);
    }
    if (mask & RUN_F_ERROR) {
        r->error_code = src->error_code;
        r->error_message = src->error_message;
        r->error_detail = src->error_detail;
        policy_event_key(ev, "error");
        buf_adds(ev, "{\"code\":");
        jw_str(ev, src->error_code);
        buf_adds(ev, ",\"message\":");
        jw_str(ev, src->error_message);
        buf_adds(ev, ",\"detail\":");
        jw_str(ev, src->error_detail);
        buf_add(ev, "}", 1);
    }
}

store_err_t policy_run_update(run_t *r, const run_t *req, unsigned mask, int64_t now, buf_t *ev, const char **field)
{
    if (mask & RUN_F_STATE) {
        run_state_t to = req->state;
        if (run_transition_allowed(r->state, to) != 0) {
            *field = "state";
            return STORE_BAD_STATE;
        }
        if (to == RUN_WORKING && r->state == RUN_RETRYING)
            r->attempt++; /* the next attempt begins */
        if (to != RUN_QUEUED && r->started_at == 0)
            r->started_at = now;
        if (to != r->state) {
            policy_event_key(ev, "state");
            jw_str(ev, run_state_name(to));
        }
        r->state = to;
    }
    merge_fields(r, req, mask & ~(unsigned)RUN_F_ERROR, ev);
    return STORE_OK;
}

int policy_run_state_kept(const run_t *before, const run_t *after)
{
    return after->state == before->state && after->started_at == before->started_at &&
           after->attempt == before->attempt;
}

store_err_t policy_run_finish(run_t *r, const run_t *req, unsigned mask, run_result_t result, int64_t now, buf_t *ev,
                              const char **field)
{
    if (run_finish_allowed(r, result) != 0) {
        *field = "result";
        return STORE_BAD_STATE;
    }
    policy_event_open(ev);
    policy_event_key(ev, "result");
    jw_str(ev, run_result_name(result));
    merge_fields(r, req, mask, ev);
    r->state = RUN_FINISHED;
    r->result = result;
    r->completed_at = now;
    r->current_step = NULL; /* Census: the step is only available while the run is not completed */
    return STORE_OK;
}

void policy_run_interrupted(run_t *r, int64_t now)
{
    r->state = RUN_FINISHED;
    r->result = RESULT_ERROR;
    r->completed_at = now;
    r->current_step = NULL;
    r->error_code = "INTERRUPTED";
    r->error_message = "interrupted by restart: syncrun stopped while this run was in progress";
    r->error_detail = "The process running it was lost when syncrun stopped; trigger the connection again.";
}

/* ---- jobs and tasks ---- */

int policy_unit_state(run_state_t *state, run_result_t *result, int64_t *started, int64_t *ended, run_state_t to,
                      run_result_t res, int64_t now)
{
    if (*state == RUN_FINISHED)
        return -1;
    if (to == RUN_FINISHED) {
        if (res == RESULT_NONE)
            return -1;
        *ended = now;
        if (*started == 0)
            *started = now;
    } else {
        if (res != RESULT_NONE)
            return -1;
        if (to != RUN_QUEUED && *started == 0)
            *started = now;
    }
    *state = to;
    *result = res;
    return 0;
}

store_err_t policy_job_create(job_t *j, const job_t *req, int64_t now, const char **field)
{
    j->name = req->name;
    j->connector_type = req->connector_type;
    j->phase = req->phase;
    j->state = RUN_QUEUED;
    j->result = RESULT_NONE;
    j->started_at = j->ended_at = 0;
    if (policy_unit_state(&j->state, &j->result, &j->started_at, &j->ended_at, req->state, req->result, now) != 0) {
        *field = req->result == RESULT_NONE ? "result" : "state";
        return STORE_BAD_STATE;
    }
    return STORE_OK;
}

store_err_t policy_job_update(job_t *j, const job_t *req, unsigned mask, int64_t now, const char **field)
{
    if ((mask & JOB_F_STATE) &&
        policy_unit_state(&j->state, &j->result, &j->started_at, &j->ended_at, req->state, req->result, now) != 0) {
        *field = j->state == RUN_FINISHED ? "state" : "result";
        return STORE_BAD_STATE;
    }
    if (mask & JOB_F_NAME)
        j->name = req->name;
    if (mask & JOB_F_CONNECTOR)
        j->connector_type = req->connector_type;
    if (mask & JOB_F_PHASE)
        j->phase = req->phase;
    return STORE_OK;
}

static void task_apply_fields(task_t *t, const task_t *src, unsigned mask)
{
    if (mask & TASK_F_SOURCE_FILE)
        t->source_file_id = src->source_file_id;
    if (mask & TASK_F_RETRIES)
        t->retry_attempts = src->retry_attempts;
    if (mask & TASK_F_ERROR)
        t->error_json = src->error_json;
    if (mask & TASK_F_REPORT) {
        t->has_report = src->has_report;
        t->report_message = src->report_message;
        t->report_suggested_action = src->report_suggested_action;
        t->report_errors = src->report_errors;
        t->report_warnings = src->report_warnings;
        t->report_other = src->report_other;
    }
}

store_err_t policy_task_create(task_t *t, const task_t *req, unsigned mask, int64_t now, const char **field)
{
    t->state = RUN_QUEUED;
    t->result = RESULT_NONE;
    t->started_at = t->ended_at = 0;
    task_apply_fields(t, req, mask | TASK_F_SOURCE_FILE | TASK_F_RETRIES);
    if (policy_unit_state(&t->state, &t->result, &t->started_at, &t->ended_at, req->state, req->result, now) != 0) {
        *field = req->result == RESULT_NONE ? "result" : "state";
        return STORE_BAD_STATE;
    }
    return STORE_OK;
}

store_err_t policy_task_update(task_t *t, const task_t *req, unsigned mask, int64_t now, const char **field)
{
    if ((mask & TASK_F_STATE) &&
        policy_unit_state(&t->state, &t->result, &t->started_at, &t->ended_at, req->state, req->result, now) != 0) {
        *field = t->state == RUN_FINISHED ? "state" : "result";
        return STORE_BAD_STATE;
    }
    task_apply_fields(t, req, mask);
    return STORE_OK;
}

/* ---- connections ---- */

void policy_connection_merge(connection_t *cur, const connection_t *req, unsigned mask, int64_t now)
{
    if (mask & CONN_F_NAME)
        cur->name = req->name;
    if (mask & CONN_F_SOURCE)
        cur->source = req->source;
    if (mask & CONN_F_DESTINATION)
        cur->destination = req->destination;
    if (mask & CONN_F_CONNECTOR_TYPE)
        cur->connector_type = req->connector_type;
    if (mask & CONN_F_OVERLAP)
        cur->overlap = req->overlap;
    if (mask & CONN_F_COMMAND)
        cur->command_json = req->command_json;
    if (mask & CONN_F_WORKDIR)
        cur->workdir = req->workdir;
    if (mask & CONN_F_ENV)
        cur->env_json = req->env_json;
    if (mask & CONN_F_SCHEDULE)
        cur->schedule = req->schedule;
    if (mask & CONN_F_TIMEZONE)
        cur->timezone = req->timezone;
    if (mask & CONN_F_CATCHUP)
        cur->catchup = req->catchup;
    if (mask & CONN_F_DEADLINE)
        cur->starting_deadline_s = req->starting_deadline_s;
    if (mask & (CONN_F_SCHEDULE | CONN_F_TIMEZONE | CONN_F_CATCHUP | CONN_F_DEADLINE))
        cur->next_fire_at = 0; /* a new schedule starts from now */
    if (mask & CONN_F_TIMEOUT)
        cur->timeout_s = req->timeout_s;
    if (mask & CONN_F_RETRY_MAX)
        cur->retry_max = req->retry_max;
    if (mask & CONN_F_RETRY_BACKOFF)
        cur->retry_backoff_s = req->retry_backoff_s;
    if (mask & CONN_F_LOG_MAX)
        cur->log_max_bytes = req->log_max_bytes;
    if (mask & CONN_F_NEXT_FIRE)
        cur->next_fire_at = req->next_fire_at;
    if (mask & CONN_F_EXPECT_SCHEDULE)
        cur->expect_schedule = req->expect_schedule;
    if (mask & CONN_F_EXPECT_TIMEZONE)
        cur->expect_timezone = req->expect_timezone;
    if (mask & CONN_F_EXPECT_INTERVAL)
        cur->expect_interval_s = req->expect_interval_s;
    if (mask & CONN_F_EXPECT_GRACE)
        cur->expect_grace_s = req->expect_grace_s;
    if (mask & CONN_F_MIN_DURATION)
        cur->min_duration_s = req->min_duration_s;
    if (mask & CONN_F_MAX_DURATION)
        cur->max_duration_s = req->max_duration_s;
    if (mask & CONN_F_WM_STALL_RUNS)
        cur->wm_stall_runs = req->wm_stall_runs;
    if (mask & CONN_F_WM_MAX_AGE)
        cur->wm_max_age_s = req->wm_max_age_s;
    cur->updated_at = now;
}

int policy_connection_expect_reset(unsigned mask)
{
    /* a changed expectation (or own schedule) counts from now */
    return (mask & (CONN_F_EXPECT_SCHEDULE | CONN_F_EXPECT_TIMEZONE | CONN_F_EXPECT_INTERVAL | CONN_F_EXPECT_GRACE |
                    CONN_F_SCHEDULE | CONN_F_TIMEZONE)) != 0;
}

int policy_connection_retention(const connection_t *cur, const connection_t *req, unsigned mask, int64_t out[3])
{
    out[0] = (mask & CONN_F_RET_DAYS) ? req->retention_days : cur->retention_days;
    out[1] = (mask & CONN_F_RET_KEEP_LAST) ? req->retention_keep_last : cur->retention_keep_last;
    out[2] = (mask & CONN_F_RET_FAILURE_DAYS) ? req->retention_failure_days : cur->retention_failure_days;
    return (mask & (CONN_F_RET_DAYS | CONN_F_RET_KEEP_LAST | CONN_F_RET_FAILURE_DAYS)) != 0;
}

/* ---- recorded history ---- */

store_err_t policy_record_check(const run_t *in, const char **field)
{
    if ((in->state == RUN_FINISHED) != (in->result != RESULT_NONE) || (unsigned)in->state >= RUN_STATE_COUNT ||
        (unsigned)in->result >= RUN_RESULT_COUNT) {
        *field = "result";
        return STORE_BAD_STATE;
    }
    if (in->created_at <= 0) {
        *field = "created_at";
        return STORE_BAD_STATE;
    }
    return STORE_OK;
}

void policy_record_defaults(run_t *rec)
{
    if (rec->updated_at == 0)
        rec->updated_at = rec->completed_at ? rec->completed_at : rec->created_at;
    if (rec->attempt < 1)
        rec->attempt = 1;
}

static int import_cmp(const void *a, const void *b)
{
    const store_import_t *x = a, *y = b;
    if (x->run.created_at != y->run.created_at)
        return x->run.created_at < y->run.created_at ? -1 : 1;
    return strcmp(x->run.external_id, y->run.external_id);
}

store_err_t policy_import_order(store_import_t *im, int n, const char **field)
{
    for (int i = 0; i < n; i++) {
        if (im[i].run.external_id == NULL) {
            *field = "external_id";
            return STORE_BAD_STATE;
        }
    }
    if (n > 1)
        qsort(im, (size_t)n, sizeof(*im), import_cmp);
    return STORE_OK;
}

/* ---- pings ---- */

void policy_ping_key(const char *rid, char *out, size_t outlen)
{
    snprintf(out, outlen, "ping:%s", rid);
}

void policy_ping_trigger(const store_ping_t *p, const char *idem, store_trigger_t *t)
{
    memset(t, 0, sizeof(*t));
    t->tag = "Ping";
    t->detail = p->what;
    t->initial_state = RUN_WORKING;
    if (p->rid != NULL) {
        t->idempotency_key = idem;
        t->idempotency_hash = "ping"; /* every start with this rid is the same request */
    }
}

int policy_ping_owns(const run_t *r)
{
    return r->trigger_tag != NULL && strcmp(r->trigger_tag, "Ping") == 0;
}

run_result_t policy_ping_result(const store_ping_t *p, run_t *req, unsigned *mask, char *msg, size_t msglen)
{
    *mask = 0;
    if (p->kind == PING_SUCCESS || (p->kind == PING_EXIT && p->exit_status == 0))
        return RESULT_SUCCESS;
    *mask = RUN_F_ERROR;
    req->error_code = p->kind == PING_EXIT ? "EXIT_CODE" : "PING_FAIL";
    if (p->kind == PING_EXIT)
        snprintf(msg, msglen, "exited with status %d (reported by ping)", p->exit_status);
    else
        snprintf(msg, msglen, "failure reported by ping");
    req->error_message = msg;
    req->error_detail = NULL;
    return RESULT_ERROR;
}

/* ---- run logs ---- */

size_t policy_log_cap(const connection_t *cn)
{
    return cn->log_max_bytes > 0 ? (size_t)cn->log_max_bytes : STORE_LOG_DEFAULT_BYTES;
}

void policy_log_cut(int64_t kept, size_t n, size_t cap, policy_log_cut_t *out)
{
    out->len = kept + (int64_t)n;
    out->start = out->len > (int64_t)cap ? out->len - (int64_t)cap : 0;
    out->scan_to = out->start + POLICY_LOG_LINE_SCAN < out->len ? out->start + POLICY_LOG_LINE_SCAN : out->len;
    if (out->start == 0)
        out->scan_to = 0;
}

void policy_log_cut_at(policy_log_cut_t *c, int64_t nl)
{
    if (c->start > 0 && nl >= c->start && nl < c->scan_to)
        c->start = nl + 1;
}

/* ---- alerts ---- */

int policy_result_failed(run_result_t r)
{
    return r == RESULT_ERROR || r == RESULT_CONFIG_ERROR || r == RESULT_TIMED_OUT;
}

int policy_recovered(run_result_t result, run_result_t prev)
{
    return result == RESULT_SUCCESS && policy_result_failed(prev);
}

/* ---- webhooks ---- */

int policy_webhook_failing(webhook_t *h, const webhook_attempt_t *at, int64_t now)
{
    if (h->failing_since == 0)
        h->failing_since = at->at;
    return h->enabled && at->disable_after_ms > 0 && now - h->failing_since >= at->disable_after_ms;
}

delivery_status_t policy_delivery_after(const webhook_attempt_t *at, delivery_status_t was, int disabled, int64_t *next)
{
    *next = 0;
    if (at->error == NULL)
        return DELIVERY_DELIVERED;
    /* a delivery killed while this attempt was under way (webhook disabled or deleted) stays dead */
    if (disabled || was == DELIVERY_DEAD || at->next_attempt_at == 0)
        return DELIVERY_DEAD;
    *next = at->next_attempt_at;
    return DELIVERY_FAILED;
}
