/* Native API: jobs and tasks under a run (iTwin jobs → tasks; BlueConic goals). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/render.h"
#include "util/ids.h"

enum { JOB_LIST_DEFAULT = 100, JOB_LIST_MAX = 100 };

/* Reads the jobs of run r after job id `after` (at most max_jobs, within the answer's limits) into
 * *jobs; *next is the id to continue after when there are more, else 0. A job with more tasks than
 * the limits allow comes alone, with its first tasks and tasks_more set. */
static store_err_t read_job_page(http_ctx_t *c, const run_t *r, int64_t after, int max_jobs, job_t **jobs, int *n,
                                 int64_t *next)
{
    store_jobs_query_t q = {.conn_id = r->connection_id,
                            .lo = r->run_count,
                            .hi = r->run_count,
                            .after_job = after,
                            .max_jobs = max_jobs,
                            .max_units = RENDER_JOBS_UNITS,
                            .max_bytes = RENDER_JOBS_TEXT_BYTES};
    store_run_jobs_t *rj;
    int nrj, more;
    store_err_t e = store_jobs_read(c->reader, c->key.workspace_id, &q, &c->arena, &rj, &nrj, &more);
    *jobs = NULL;
    *n = 0;
    *next = 0;
    if (e != STORE_OK || nrj == 0)
        return e;
    *jobs = rj[0].jobs;
    *n = rj[0].njobs;
    if (more) {
        /* a job whose tasks were cut is shown on the next page, unless it is alone on this one */
        if (*n > 1 && (*jobs)[*n - 1].tasks_more)
            (*n)--;
        *next = (*jobs)[*n - 1].id;
    }
    return STORE_OK;
}

int native_job_list(http_ctx_t *c)
{
    run_t r;
    int64_t limit, after = 0, next;
    if (api_query_int(c, "limit", 1, JOB_LIST_MAX, JOB_LIST_DEFAULT, &limit) != 0 || api_load_run(c, 0, &r) != 0)
        return 0;
    const char *cursor = http_query(c, "cursor");
    if (cursor != NULL && parse_cursor(cursor, &after) != 0)
        return http_error(c, 400, "invalid_query", "cursor is not a cursor this server returned", "cursor");
    job_t *jobs;
    int n;
    store_err_t e = read_job_page(c, &r, after, (int)limit, &jobs, &n, &next);
    if (e != STORE_OK)
        return api_store_error(c, e, NULL);
    json_t *data = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(data, render_job(&jobs[i]));
    return http_send_json(c, 200, render_page(data, next != 0, next));
}

static void on_job_written(http_ctx_t *c, store_write_t *w, void *data)
{
    int status = (int)(intptr_t)data;
    if (w->err != STORE_OK) {
        if (w->err == STORE_NOT_FOUND && w->err_field != NULL)
            http_error(c, 404, "not_found", strcmp(w->err_field, "job") == 0 ? "no such job" : "no such task", NULL);
        else
            api_store_error(c, w->err, w->err_field);
        return;
    }
    if (w->op == OP_TASK_CREATE || w->op == OP_TASK_UPDATE) {
        /* Render the task through its job's shape: a job with just this task. */
        w->job.tasks = &w->task;
        w->job.ntasks = 1;
        json_t *job = render_job(&w->job);
        json_t *task = json_incref(json_array_get(json_object_get(job, "tasks"), 0));
        json_decref(job);
        http_send_json(c, status, task);
        return;
    }
    /* A job is shown with its tasks: read them (the write is committed, so this reader sees it).
     * Job ids grow, so the first job after id - 1 of its run is this one. */
    job_t *jobs;
    int n;
    int64_t next;
    if (w->op == OP_JOB_UPDATE && read_job_page(c, &w->run, w->job.id - 1, 1, &jobs, &n, &next) == STORE_OK && n == 1 &&
        jobs[0].id == w->job.id) {
        http_send_json(c, status, render_job(&jobs[0]));
        return;
    }
    w->job.ntasks = 0;
    http_send_json(c, status, render_job(&w->job));
}

static int parse_unit_state(const char *s)
{
    return run_state_parse(s) == RUN_RETRYING ? -1 : run_state_parse(s);
}

static int parse_unit_result(const char *s)
{
    int r = run_result_parse(s);
    return r > RESULT_NONE ? r : -1;
}

/* state + result of a job or task: a finished unit needs a result, an unfinished one has none. */
static int read_unit_state(input_t *in, run_state_t *state, run_result_t *result, unsigned *mask, unsigned flag,
                           int create)
{
    int st = RUN_QUEUED, res = RESULT_NONE, rs, rr;
    if ((rs = input_enum(in, "state", parse_unit_state, "queued, working, finished", &st)) < 0 ||
        (rr = input_enum(in, "result", parse_unit_result,
                         "success, partial, error, config_error, timed_out, canceled, skipped", &res)) < 0)
        return -1;
    if (rr == 1 && st != RUN_FINISHED)
        return input_fail(in, "invalid_field", "result", "result is only allowed with state finished");
    if (st == RUN_FINISHED && res == RESULT_NONE)
        return input_fail(in, "missing_field", "result", "a finished job or task needs a result");
    if (rs == 1 || create) {
        *state = (run_state_t)st;
        *result = (run_result_t)res;
        *mask |= flag;
    }
    return 0;
}

static int read_job(input_t *in, store_write_t *w, int create)
{
    static const char *const fields[] = {"name", "connector_type", "phase", "state", "result", NULL};
    static const struct {
        const char *key;
        unsigned flag;
        size_t off;
    } strs[] = {
        {"name", JOB_F_NAME, offsetof(job_t, name)},
        {"connector_type", JOB_F_CONNECTOR, offsetof(job_t, connector_type)},
        {"phase", JOB_F_PHASE, offsetof(job_t, phase)},
    };
    if (input_known(in, fields) < 0)
        return -1;
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        const char *v = NULL;
        int rc = input_string(in, strs[i].key, IN_NAME_MAX, 0, 1, &v);
        if (rc < 0)
            return -1;
        if (rc == 1 || json_is_null(json_object_get(in->obj, strs[i].key))) {
            *(const char **)((char *)&w->job + strs[i].off) = v;
            w->mask |= strs[i].flag;
        }
    }
    return read_unit_state(in, &w->job.state, &w->job.result, &w->mask, JOB_F_STATE, create);
}

/* The job path parameter: a UUID, else 404. */
static int job_param(http_ctx_t *c, int i, store_write_t *w)
{
    if (ids_uuid_normalize(c->params[i], i == 1 ? w->job.uuid : w->task.uuid) != 0) {
        http_error(c, 404, "not_found", i == 1 ? "no such job" : "no such task", NULL);
        return -1;
    }
    return 0;
}

static int job_write(http_ctx_t *c, store_op_t op, int status)
{
    run_t r;
    if (api_load_run(c, 0, &r) != 0)
        return 0;
    store_write_t *w = http_write_new(c);
    w->op = op;
    w->workspace_id = c->key.workspace_id;
    w->id = r.id;
    if (op == OP_JOB_UPDATE && job_param(c, 1, w) != 0)
        return 0;
    json_t *body = http_body_json(c, op == OP_JOB_CREATE);
    if (body == NULL)
        return 0;
    input_t in;
    input_init(&in, body);
    if (read_job(&in, w, op == OP_JOB_CREATE) != 0) {
        api_input_error(c, &in);
        json_decref(body);
        return 0;
    }
    return http_write_submit(c, w, on_job_written, (void *)(intptr_t)status, body);
}

int native_job_create(http_ctx_t *c)
{
    return job_write(c, OP_JOB_CREATE, 201);
}

int native_job_update(http_ctx_t *c)
{
    return job_write(c, OP_JOB_UPDATE, 200);
}

/* Validates the iTwin task-error object and keeps it as compact JSON text. */
static int read_task_error(input_t *in, store_write_t *w, arena_t *a)
{
    json_t *err;
    int rc = input_object(in, "error", &err);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        if (json_is_null(json_object_get(in->obj, "error"))) {
            w->task.error_json = NULL;
            w->mask |= TASK_F_ERROR;
        }
        return 0;
    }
    input_t ein;
    input_init(&ein, err);
    const char *s;
    int b;
    int64_t code;
    if (input_known(&ein, task_error_fields) < 0)
        goto bad;
    for (const char *const *k = task_error_text_fields; *k != NULL; k++)
        if (input_string(&ein, *k, IN_TEXT_MAX, 0, 0, &s) < 0)
            goto bad;
    if (input_bool(&ein, "canUserFix", &b) < 0 || input_int(&ein, "bridgeExitCode", INT32_MIN, INT32_MAX, &code) < 0)
        goto bad;
    char *text = json_dumps(err, JSON_COMPACT | JSON_SORT_KEYS);
    w->task.error_json = arena_strdup(a, text);
    free(text);
    w->mask |= TASK_F_ERROR;
    return 0;
bad:
    return input_adopt(in, &ein, "error");
}

static int read_task(input_t *in, store_write_t *w, arena_t *a, int create)
{
    static const char *const fields[] = {"source_file_id", "state",  "result", "retry_attempts",
                                         "error",          "report", NULL};
    static const char *const report_fields[] = {"message", "suggested_action", "errors", "warnings", "other", NULL};
    int rc;
    int64_t n;
    json_t *rep;
    if (input_known(in, fields) < 0)
        return -1;
    if ((rc = input_string(in, "source_file_id", IN_NAME_MAX, 0, 1, &w->task.source_file_id)) < 0)
        return -1;
    if (rc == 1 || json_is_null(json_object_get(in->obj, "source_file_id")))
        w->mask |= TASK_F_SOURCE_FILE;
    if ((rc = input_int(in, "retry_attempts", 0, 1000000, &n)) < 0)
        return -1;
    if (rc == 1) {
        w->task.retry_attempts = (int)n;
        w->mask |= TASK_F_RETRIES;
    }
    if (read_task_error(in, w, a) < 0 || input_object(in, "report", &rep) < 0)
        return -1;
    if (rep != NULL) {
        input_t rin;
        int act = -1;
        int64_t cnt[3] = {0, 0, 0};
        input_init(&rin, rep);
        if (input_known(&rin, report_fields) < 0 ||
            input_string(&rin, "message", IN_TEXT_MAX, 0, 1, &w->task.report_message) < 0 ||
            input_enum(&rin, "suggested_action", report_action_parse, "Error, Warning, Info", &act) < 0 ||
            input_int(&rin, "errors", 0, INT64_MAX, &cnt[0]) < 0 ||
            input_int(&rin, "warnings", 0, INT64_MAX, &cnt[1]) < 0 ||
            input_int(&rin, "other", 0, INT64_MAX, &cnt[2]) < 0) {
            return input_adopt(in, &rin, "report");
        }
        w->task.has_report = 1;
        w->task.report_suggested_action = act >= 0 ? report_suggested_actions[act] : NULL;
        w->task.report_errors = cnt[0];
        w->task.report_warnings = cnt[1];
        w->task.report_other = cnt[2];
        w->mask |= TASK_F_REPORT;
    } else if (json_is_null(json_object_get(in->obj, "report"))) {
        w->mask |= TASK_F_REPORT; /* has_report stays 0: clears it */
    }
    return read_unit_state(in, &w->task.state, &w->task.result, &w->mask, TASK_F_STATE, create);
}

static int task_write(http_ctx_t *c, store_op_t op, int status)
{
    run_t r;
    if (api_load_run(c, 0, &r) != 0)
        return 0;
    store_write_t *w = http_write_new(c);
    w->op = op;
    w->workspace_id = c->key.workspace_id;
    w->id = r.id;
    if (job_param(c, 1, w) != 0 || (op == OP_TASK_UPDATE && job_param(c, 2, w) != 0))
        return 0;
    json_t *body = http_body_json(c, op == OP_TASK_CREATE);
    if (body == NULL)
        return 0;
    input_t in;
    input_init(&in, body);
    if (read_task(&in, w, &c->arena, op == OP_TASK_CREATE) != 0) {
        api_input_error(c, &in);
        json_decref(body);
        return 0;
    }
    return http_write_submit(c, w, on_job_written, (void *)(intptr_t)status, body);
}

int native_task_create(http_ctx_t *c)
{
    return task_write(c, OP_TASK_CREATE, 201);
}

int native_task_update(http_ctx_t *c)
{
    return task_write(c, OP_TASK_UPDATE, 200);
}
