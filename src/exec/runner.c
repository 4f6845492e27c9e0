/* The runner thread: one poll loop over every running command's output and progress pipes, a
 * wake-up pipe the store's change hook writes to, and the timers (timeouts, kill grace, retry
 * backoff, log flushes, the scheduler). Everything it records goes through the store's writer. */
#include "exec/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec/checker.h"
#include "exec/process.h"
#include "exec/progress.h"
#include "exec/scheduler.h"
#include "util/log.h"
#include "util/timeutil.h"

enum {
    READ_CHUNK = 64 * 1024,
    LOG_FLUSH_MS = 1000,
    PENDING_MAX = 4 * 1024 * 1024, /* log bytes held between flushes, at most */
    START_POLL_MS = 1000,          /* look for queued runs at least this often */
    START_MIN_MS = 20,             /* and after a change at most this often */
    ERROR_TAIL_LINES = 20,         /* log lines put into a failed run's error detail */
    UNITS_MAX = 1000,              /* jobs, and tasks, a command may create per run */
};

typedef struct unit_ref {
    char *key; /* job: its name; task: job name + "\n" + source_file_id */
    char uuid[IDS_UUID_LEN];
    char job_uuid[IDS_UUID_LEN]; /* tasks: their job */
} unit_ref_t;

typedef struct child {
    int used;
    int64_t run_id, workspace_id;
    int attempt;
    connection_t conn; /* strings in arena */
    arena_t arena;
    proc_t proc;
    int running, waiting_retry, timed_out, canceled;
    int64_t deadline_ms, retry_at_ms, last_flush_ms;
    line_splitter_t lines;
    tail_buffer_t tail;
    char *pending; /* log bytes not yet written to the store */
    size_t npending;
    int64_t records_failed;
    int64_t key_id;
    char token[IDS_TOKEN_LEN];
    unit_ref_t *units;
    int nunits;
} child_t;

struct runner {
    runner_config_t cfg;
    store_reader_t *reader;
    scheduler_t *sched;
    checker_t *checker;
    child_t *children;
    int wake_pipe[2];
    pthread_t thread;
    atomic_int stopping;
    pthread_mutex_t mu; /* guards `notified` */
    int64_t *notified;
    size_t nnotified, capnotified;
    int64_t last_start_poll_ms;
    int start_pending; /* a change was notified since the last look for queued runs */
};

/* ---- store writes ---- */

static void free_write(store_write_t *w)
{
    store_write_release(w);
    free(w);
}

static store_write_t *write_new(store_op_t op, int64_t ws, int64_t id)
{
    store_write_t *w = calloc(1, sizeof(*w));
    if (w == NULL)
        abort();
    w->op = op;
    w->workspace_id = ws;
    w->id = id;
    return w;
}

/* Queues w and forgets it: it is freed on the writer thread once applied. Writes are applied in
 * the order they are submitted, so a later synchronous finish comes after them. */
static void submit(runner_t *R, store_write_t *w)
{
    w->done = free_write;
    store_submit(R->cfg.store, w);
}

/* Runs w and waits; the caller releases it. */
static store_err_t exec_write(runner_t *R, store_write_t *w)
{
    return store_exec(R->cfg.store, w);
}

static void add_event(runner_t *R, child_t *c, const char *kind, json_t *data)
{
    store_write_t *w = write_new(OP_RUN_EVENT, c->workspace_id, c->run_id);
    char *text = json_dumps(data, JSON_COMPACT);
    json_decref(data);
    w->event_kind = kind;
    w->event_json = arena_strdup(&w->arena, text ? text : "{}");
    free(text);
    submit(R, w);
}

static void flush_log(runner_t *R, child_t *c)
{
    if (c->npending == 0)
        return;
    store_write_t *w = write_new(OP_LOG_APPEND, c->workspace_id, c->run_id);
    w->log_data = arena_strndup(&w->arena, c->pending, c->npending);
    w->log_len = c->npending;
    c->npending = 0;
    submit(R, w);
}

static void revoke_key(runner_t *R, child_t *c)
{
    if (c->key_id == 0)
        return;
    store_write_t *w = write_new(OP_KEY_REVOKE, c->workspace_id, 0);
    w->key_id = c->key_id;
    c->key_id = 0;
    submit(R, w);
}

static void child_release(runner_t *R, child_t *c)
{
    flush_log(R, c);
    revoke_key(R, c);
    proc_close(&c->proc);
    line_splitter_release(&c->lines);
    tail_buffer_release(&c->tail);
    free(c->pending);
    arena_release(&c->arena);
    memset(c, 0, sizeof(*c));
}

/* Finishes the run with result and, for failures, an error. Synchronous: the log flush and
 * progress queued before it are applied first. */
static void finish_run(runner_t *R, child_t *c, run_result_t result, const char *code, const char *message,
                       const char *detail)
{
    flush_log(R, c);
    revoke_key(R, c); /* applied before the finish: no one sees the run finished with its token valid */
    store_write_t w = {0};
    w.op = OP_RUN_FINISH;
    w.workspace_id = c->workspace_id;
    w.id = c->run_id;
    w.run.result = result;
    if (code != NULL) {
        w.mask |= RUN_F_ERROR;
        w.run.error_code = code;
        w.run.error_message = message;
        w.run.error_detail = detail;
    }
    store_err_t e = exec_write(R, &w);
    if (e != STORE_OK && e != STORE_FINISHED)
        log_error("runner: could not finish run %" PRId64 ": %s", c->run_id, store_strerror(e));
    store_write_release(&w);
}

/* ---- progress ---- */

static unit_ref_t *unit_find(child_t *c, const char *key)
{
    for (int i = 0; i < c->nunits; i++)
        if (strcmp(c->units[i].key, key) == 0)
            return &c->units[i];
    return NULL;
}

static unit_ref_t *unit_add(child_t *c, const char *key)
{
    if (c->nunits >= UNITS_MAX)
        return NULL;
    unit_ref_t *grown = arena_alloc(&c->arena, sizeof(*grown) * (size_t)(c->nunits + 1));
    if (c->nunits > 0)
        memcpy(grown, c->units, sizeof(*grown) * (size_t)c->nunits);
    c->units = grown;
    unit_ref_t *u = &c->units[c->nunits++];
    u->key = arena_strdup(&c->arena, key);
    return u;
}

static const char *json_str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* Fills the state/result of a unit write from a progress object ("state", "result"). */
static void unit_state(json_t *o, run_state_t *state, run_result_t *result, unsigned *mask, unsigned flag)
{
    const char *s = json_str(o, "state"), *r = json_str(o, "result");
    if (s != NULL) {
        *state = (run_state_t)run_state_parse(s);
        *result = r ? (run_result_t)run_result_parse(r) : RESULT_NONE;
        *mask |= flag;
    }
}

static void progress_job(runner_t *R, child_t *c, json_t *job)
{
    const char *name = json_str(job, "name");
    unit_ref_t *u = unit_find(c, name);
    store_write_t *w = write_new(u ? OP_JOB_UPDATE : OP_JOB_CREATE, c->workspace_id, c->run_id);
    w->job.name = arena_strdup(&w->arena, name);
    w->job.connector_type = arena_strdup(&w->arena, json_str(job, "connector_type"));
    w->job.phase = arena_strdup(&w->arena, json_str(job, "phase"));
    w->job.state = RUN_QUEUED;
    unit_state(job, &w->job.state, &w->job.result, &w->mask, JOB_F_STATE);
    if (json_str(job, "connector_type"))
        w->mask |= JOB_F_CONNECTOR;
    if (json_str(job, "phase"))
        w->mask |= JOB_F_PHASE;
    if (u != NULL) {
        memcpy(w->job.uuid, u->uuid, IDS_UUID_LEN);
        submit(R, w);
        return;
    }
    /* A new job: its id is needed for the lines that follow, so wait for it. */
    if ((u = unit_add(c, name)) != NULL && exec_write(R, w) == STORE_OK)
        memcpy(u->uuid, w->job.uuid, IDS_UUID_LEN);
    else if (u != NULL)
        c->nunits--;
    free_write(w);
}

static void progress_task(runner_t *R, child_t *c, json_t *task)
{
    const char *job = json_str(task, "job"), *sfid = json_str(task, "source_file_id");
    unit_ref_t *j = unit_find(c, job);
    if (j == NULL || j->job_uuid[0] != '\0') {
        add_event(R, c, "warning",
                  json_pack("{s:s, s:s}", "warning", "progress line names a job that was not started", "job", job));
        return;
    }
    char key[512];
    snprintf(key, sizeof(key), "%s\n%s", job, sfid ? sfid : "");
    unit_ref_t *u = unit_find(c, key);
    store_write_t *w = write_new(u ? OP_TASK_UPDATE : OP_TASK_CREATE, c->workspace_id, c->run_id);
    memcpy(w->job.uuid, j->uuid, IDS_UUID_LEN);
    w->task.source_file_id = arena_strdup(&w->arena, sfid);
    w->mask |= TASK_F_SOURCE_FILE;
    w->task.state = RUN_QUEUED;
    unit_state(task, &w->task.state, &w->task.result, &w->mask, TASK_F_STATE);
    json_t *v;
    if ((v = json_object_get(task, "retry_attempts")) != NULL) {
        w->task.retry_attempts = (int)json_integer_value(v);
        w->mask |= TASK_F_RETRIES;
    }
    if ((v = json_object_get(task, "error")) != NULL && json_is_object(v)) {
        char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
        w->task.error_json = arena_strdup(&w->arena, text);
        free(text);
        w->mask |= TASK_F_ERROR;
    }
    if ((v = json_object_get(task, "report")) != NULL && json_is_object(v)) {
        w->task.has_report = 1;
        w->task.report_message = arena_strdup(&w->arena, json_str(v, "message"));
        w->task.report_suggested_action = arena_strdup(&w->arena, json_str(v, "suggested_action"));
        w->task.report_errors = json_integer_value(json_object_get(v, "errors"));
        w->task.report_warnings = json_integer_value(json_object_get(v, "warnings"));
        w->task.report_other = json_integer_value(json_object_get(v, "other"));
        w->mask |= TASK_F_REPORT;
    }
    if (u != NULL) {
        memcpy(w->task.uuid, u->uuid, IDS_UUID_LEN);
        submit(R, w);
        return;
    }
    if ((u = unit_add(c, key)) != NULL && exec_write(R, w) == STORE_OK) {
        memcpy(u->uuid, w->task.uuid, IDS_UUID_LEN);
        memcpy(u->job_uuid, j->uuid, IDS_UUID_LEN);
    } else if (u != NULL) {
        c->nunits--;
    }
    free_write(w);
}

typedef struct line_ctx {
    runner_t *R;
    child_t *c;
} line_ctx_t;

/* One line from the command's progress pipe. A bad line becomes a warning event; it never stops
 * the run. */
static void on_progress_line(void *ctx, const char *line, size_t len, int too_long)
{
    line_ctx_t *lc = ctx;
    runner_t *R = lc->R;
    child_t *c = lc->c;
    if (len == 0)
        return;
    progress_update_t u;
    char err[200];
    if (too_long || progress_parse_line(line, len, &u, err, sizeof(err)) != 0) {
        if (too_long)
            snprintf(err, sizeof(err), "line longer than %d bytes", PROGRESS_LINE_MAX);
        add_event(R, c, "warning",
                  json_pack("{s:s, s:s, s:s%}", "warning", "malformed progress line", "error", err, "line", line,
                            len > 200 ? (size_t)200 : len));
        return;
    }
    if (u.mask != 0) {
        store_write_t *w = write_new(OP_RUN_UPDATE, c->workspace_id, c->run_id);
        w->mask = u.mask;
        w->run.current_step = arena_strdup(&w->arena, u.step);
        w->run.message = arena_strdup(&w->arena, u.message);
        w->run.watermark = u.watermark;
        memcpy(w->run.counters, u.counters, sizeof(u.counters));
        if (u.mask & (RUN_F_COUNTER0 << CTR_RECORDS_FAILED))
            c->records_failed = u.counters[CTR_RECORDS_FAILED];
        submit(R, w);
    }
    if (u.job != NULL)
        progress_job(R, c, u.job);
    if (u.task != NULL)
        progress_task(R, c, u.task);
    progress_update_release(&u);
}

static void on_output(child_t *c, const char *data, size_t n)
{
    tail_buffer_add(&c->tail, data, n);
    if (n > PENDING_MAX) {
        data += n - PENDING_MAX;
        n = PENDING_MAX;
    }
    if (c->npending + n > PENDING_MAX) {
        /* the oldest unflushed bytes give way: the log keeps a tail anyway */
        size_t drop = c->npending + n - PENDING_MAX;
        memmove(c->pending, c->pending + drop, c->npending - drop);
        c->npending -= drop;
    }
    memcpy(c->pending + c->npending, data, n);
    c->npending += n;
}

/* Reads what is there on fd; 1 at EOF or error (the fd is then closed and set to -1). */
static int drain_fd(runner_t *R, child_t *c, int *fd, int progress)
{
    char buf[READ_CHUNK];
    for (int rounds = 0; rounds < 16; rounds++) {
        ssize_t n = read(*fd, buf, sizeof(buf));
        if (n > 0) {
            if (progress) {
                line_ctx_t lc = {R, c};
                line_splitter_feed(&c->lines, buf, (size_t)n, on_progress_line, &lc);
            } else {
                if (c->npending + (size_t)n > PENDING_MAX)
                    flush_log(R, c); /* dropping unflushed bytes would lose them from the log's total */
                on_output(c, buf, (size_t)n);
            }
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return 0;
        if (progress) {
            line_ctx_t lc = {R, c};
            line_splitter_finish(&c->lines, on_progress_line, &lc);
        }
        close(*fd);
        *fd = -1;
        return 1;
    }
    return 0;
}

/* ---- starting and ending attempts ---- */

static int spawn_attempt(runner_t *R, child_t *c)
{
    char err[256];
    json_t *cmd = json_loads(c->conn.command_json, 0, NULL);
    json_t *env = c->conn.env_json ? json_loads(c->conn.env_json, 0, NULL) : NULL;
    size_t argc = json_array_size(cmd), nenv = json_object_size(env);
    char **argv = arena_alloc(&c->arena, sizeof(char *) * (argc + 1));
    char **envp = arena_alloc(&c->arena, sizeof(char *) * (nenv + 8));
    for (size_t i = 0; i < argc; i++)
        argv[i] = arena_strdup(&c->arena, json_string_value(json_array_get(cmd, i)));
    size_t k = 0;
    const char *name;
    json_t *v;
    json_object_foreach(env, name, v)
    {
        size_t len = strlen(name) + json_string_length(v) + 2;
        envp[k] = arena_alloc(&c->arena, len);
        snprintf(envp[k++], len, "%s=%s", name, json_string_value(v));
    }
    const char *vars[][2] = {{"SYNCRUN_URL", R->cfg.base_url}, {"SYNCRUN_TOKEN", c->token}};
    for (size_t i = 0; i < 2; i++) {
        size_t len = strlen(vars[i][0]) + strlen(vars[i][1]) + 2;
        envp[k] = arena_alloc(&c->arena, len);
        snprintf(envp[k++], len, "%s=%s", vars[i][0], vars[i][1]);
    }
    envp[k] = arena_alloc(&c->arena, 48);
    snprintf(envp[k++], 48, "SYNCRUN_RUN_ID=%" PRId64, c->run_id);
    envp[k] = arena_alloc(&c->arena, 48);
    snprintf(envp[k++], 48, "SYNCRUN_CONNECTION_ID=%" PRId64, c->conn.id);
    envp[k] = arena_alloc(&c->arena, 48);
    snprintf(envp[k++], 48, "SYNCRUN_ATTEMPT=%d", c->attempt);
    envp[k] = NULL;
    json_decref(cmd);
    json_decref(env);

    proc_spec_t spec = {argv, c->conn.workdir, envp, 3, 1};
    if (argc == 0 || proc_start(&spec, &c->proc, err, sizeof(err)) != 0) {
        if (argc == 0)
            snprintf(err, sizeof(err), "the connection's command is empty");
        finish_run(R, c, RESULT_ERROR, "SPAWN_FAILED", err, NULL);
        return -1;
    }
    c->running = 1;
    c->timed_out = 0;
    int64_t now = time_mono_ms();
    c->deadline_ms = c->conn.timeout_s > 0 ? now + c->conn.timeout_s * 1000 : 0;
    c->last_flush_ms = now;
    log_info("runner: run %" PRId64 " attempt %d started pid=%d", c->run_id, c->attempt, (int)c->proc.pid);
    return 0;
}

/* Moves the run to working (the store counts the attempt) and starts the command. -1 when the run
 * was finished meanwhile (canceled) or the command could not start (the run is then finished). */
static int begin_attempt(runner_t *R, child_t *c)
{
    store_write_t w = {0};
    w.op = OP_RUN_UPDATE;
    w.workspace_id = c->workspace_id;
    w.id = c->run_id;
    w.mask = RUN_F_STATE;
    w.run.state = RUN_WORKING;
    store_err_t e = exec_write(R, &w);
    c->attempt = w.run.attempt;
    store_write_release(&w);
    return e == STORE_OK ? spawn_attempt(R, c) : -1;
}

static void start_run(runner_t *R, const run_t *run)
{
    child_t *c = NULL;
    for (int i = 0; i < R->cfg.max_processes && c == NULL; i++)
        if (!R->children[i].used)
            c = &R->children[i];
    if (c == NULL)
        return;
    memset(c, 0, sizeof(*c));
    c->used = 1;
    c->run_id = run->id;
    c->workspace_id = run->workspace_id;
    if (store_connection_get(R->reader, run->workspace_id, run->connection_id, &c->arena, &c->conn) != STORE_OK ||
        c->conn.command_json == NULL) {
        child_release(R, c);
        return;
    }
    tail_buffer_init(&c->tail, (size_t)c->conn.log_max_bytes);
    c->pending = malloc(PENDING_MAX);
    if (c->pending == NULL)
        abort();

    /* An API token for the command, valid while the run lasts. */
    store_write_t kw = {0};
    char kname[48];
    snprintf(kname, sizeof(kname), "run #%" PRId64, run->id);
    kw.op = OP_KEY_CREATE;
    kw.workspace_id = run->workspace_id;
    kw.key_scope = SCOPE_RUNS_WRITE;
    kw.name = kname;
    kw.id = run->id; /* the token reaches this run only */
    if (exec_write(R, &kw) == STORE_OK) {
        c->key_id = kw.key_id;
        memcpy(c->token, kw.token, IDS_TOKEN_LEN);
    }
    store_write_release(&kw);

    if (begin_attempt(R, c) != 0)
        child_release(R, c);
}

/* The process of c has exited (or was never to be waited for again): decide what that means. */
static void attempt_over(runner_t *R, child_t *c)
{
    c->running = 0;
    int status = c->proc.status;
    proc_close(&c->proc);
    line_splitter_release(&c->lines);
    memset(&c->lines, 0, sizeof(c->lines));
    char what[128];
    proc_describe_status(status, what, sizeof(what));
    log_info("runner: run %" PRId64 " attempt %d %s", c->run_id, c->attempt, what);
    /* canceled: the run is finished already; stopping: the run finishes as interrupted (runner_main) */
    if (c->canceled || (atomic_load(&R->stopping) && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))) {
        child_release(R, c);
        return;
    }
    if (c->timed_out) {
        char msg[128];
        snprintf(msg, sizeof(msg), "timed out after %" PRId64 " s (the command was stopped)", c->conn.timeout_s);
        char *tail = tail_buffer_error_detail(&c->tail, ERROR_TAIL_LINES);
        finish_run(R, c, RESULT_TIMED_OUT, "TIMEOUT", msg, tail);
        free(tail);
        child_release(R, c);
        return;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        finish_run(R, c, c->records_failed > 0 ? RESULT_PARTIAL : RESULT_SUCCESS, NULL, NULL, NULL);
        child_release(R, c);
        return;
    }
    if (c->attempt <= c->conn.retry_max) {
        store_write_t w = {0};
        w.op = OP_RUN_UPDATE;
        w.workspace_id = c->workspace_id;
        w.id = c->run_id;
        w.mask = RUN_F_STATE | RUN_F_MESSAGE;
        w.run.state = RUN_RETRYING;
        char msg[200];
        int64_t backoff = c->conn.retry_backoff_s;
        for (int i = 1; i < c->attempt && backoff < 86400; i++)
            backoff *= 2;
        if (backoff > 86400)
            backoff = 86400;
        snprintf(msg, sizeof(msg), "attempt %d %s; retrying in %" PRId64 " s", c->attempt, what, backoff);
        w.run.message = msg;
        flush_log(R, c);
        store_err_t e = exec_write(R, &w);
        store_write_release(&w);
        if (e == STORE_OK) {
            c->waiting_retry = 1;
            c->retry_at_ms = time_mono_ms() + backoff * 1000;
            return;
        }
        child_release(R, c); /* finished meanwhile (canceled) */
        return;
    }
    char *tail = tail_buffer_error_detail(&c->tail, ERROR_TAIL_LINES);
    finish_run(R, c, RESULT_ERROR, WIFEXITED(status) ? "EXIT_CODE" : "KILLED", what, tail);
    free(tail);
    child_release(R, c);
}

static void retry_now(runner_t *R, child_t *c)
{
    c->waiting_retry = 0;
    if (begin_attempt(R, c) != 0)
        child_release(R, c);
}

/* ---- cancellation: the store tells which runs changed ---- */

static void on_runs_changed(void *ctx, const int64_t *ids, size_t n)
{
    runner_t *R = ctx;
    pthread_mutex_lock(&R->mu);
    for (size_t i = 0; i < n; i++) {
        if (R->nnotified == R->capnotified) {
            size_t cap = R->capnotified ? R->capnotified * 2 : 256;
            int64_t *p = realloc(R->notified, cap * sizeof(*p));
            if (p == NULL)
                break;
            R->notified = p;
            R->capnotified = cap;
        }
        R->notified[R->nnotified++] = ids[i];
    }
    pthread_mutex_unlock(&R->mu);
    char b = 1;
    ssize_t w = write(R->wake_pipe[1], &b, 1); /* a full pipe already means "wake up" */
    (void)w;
}

/* Returns 1 when some run changed (new queued runs may be waiting). */
static int handle_notifications(runner_t *R)
{
    char buf[256];
    while (read(R->wake_pipe[0], buf, sizeof(buf)) > 0)
        ;
    pthread_mutex_lock(&R->mu);
    size_t n = R->nnotified;
    int64_t *ids = n ? malloc(n * sizeof(*ids)) : NULL;
    if (ids != NULL)
        memcpy(ids, R->notified, n * sizeof(*ids));
    R->nnotified = 0;
    pthread_mutex_unlock(&R->mu);
    for (size_t i = 0; i < n && ids != NULL; i++) {
        for (int k = 0; k < R->cfg.max_processes; k++) {
            child_t *c = &R->children[k];
            if (!c->used || c->run_id != ids[i] || c->canceled)
                continue;
            arena_t a = ARENA_INIT;
            run_t run;
            if (store_run_get(R->reader, c->workspace_id, c->run_id, &a, &run) == STORE_OK &&
                run.state == RUN_FINISHED) {
                /* finished by someone else: canceled (or replaced) through the API */
                c->canceled = 1;
                if (c->running)
                    proc_terminate(&c->proc, R->cfg.kill_grace_ms);
                else
                    child_release(R, c);
            }
            arena_release(&a);
        }
    }
    free(ids);
    return n > 0;
}

static void start_queued(runner_t *R)
{
    int free_slots = 0;
    for (int i = 0; i < R->cfg.max_processes; i++)
        free_slots += !R->children[i].used;
    if (free_slots == 0)
        return;
    arena_t a = ARENA_INIT;
    run_t *runs;
    int n;
    if (store_runs_startable(R->reader, free_slots, &a, &runs, &n) == STORE_OK)
        for (int i = 0; i < n; i++)
            start_run(R, &runs[i]);
    arena_release(&a);
}

static void *runner_main(void *arg)
{
    runner_t *R = arg;
    int n = R->cfg.max_processes;
    struct pollfd *pfds = calloc(2 * (size_t)n + 1, sizeof(*pfds));
    int64_t stop_deadline = 0;
    for (;;) {
        int64_t now = time_mono_ms();
        int stopping = atomic_load(&R->stopping);
        if (stopping && stop_deadline == 0) {
            stop_deadline = now + R->cfg.kill_grace_ms + 1000;
            for (int i = 0; i < n; i++) {
                child_t *c = &R->children[i];
                if (c->used && c->running)
                    proc_terminate(&c->proc, R->cfg.kill_grace_ms);
            }
        }
        int active = 0;
        for (int i = 0; i < n; i++)
            active += R->children[i].used && R->children[i].running;
        if (stopping && (active == 0 || now >= stop_deadline))
            break;

        /* poll: the wake pipe, then each running child's output and progress */
        int np = 0;
        pfds[np++] = (struct pollfd){R->wake_pipe[0], POLLIN, 0};
        for (int i = 0; i < n; i++) {
            child_t *c = &R->children[i];
            if (!c->used || !c->running)
                continue;
            if (c->proc.out_fd >= 0)
                pfds[np++] = (struct pollfd){c->proc.out_fd, POLLIN, 0};
            if (c->proc.progress_fd >= 0)
                pfds[np++] = (struct pollfd){c->proc.progress_fd, POLLIN, 0};
        }
        int64_t wait = stopping ? 100 : scheduler_tick(R->sched, time_now_ms());
        if (!stopping) {
            int64_t check_wait = checker_tick(R->checker, time_now_ms());
            if (check_wait < wait)
                wait = check_wait;
        }
        if (wait > 200 && active > 0)
            wait = 200; /* reap and check timers of running commands often */
        if (wait > START_POLL_MS)
            wait = START_POLL_MS;
        if (R->start_pending && wait > START_MIN_MS)
            wait = START_MIN_MS;
        poll(pfds, (nfds_t)np, (int)(wait < 0 ? 0 : wait));

        int changed = handle_notifications(R);
        now = time_mono_ms();
        for (int i = 0; i < n; i++) {
            child_t *c = &R->children[i];
            if (!c->used)
                continue;
            if (c->waiting_retry) {
                if (stopping)
                    child_release(R, c);
                else if (now >= c->retry_at_ms)
                    retry_now(R, c);
                continue;
            }
            if (!c->running)
                continue;
            if (c->proc.out_fd >= 0)
                drain_fd(R, c, &c->proc.out_fd, 0);
            if (c->proc.progress_fd >= 0)
                drain_fd(R, c, &c->proc.progress_fd, 1);
            if (c->deadline_ms != 0 && now >= c->deadline_ms && !c->timed_out && !c->canceled) {
                c->timed_out = 1;
                proc_terminate(&c->proc, R->cfg.kill_grace_ms);
            }
            proc_check_kill(&c->proc);
            if (now - c->last_flush_ms >= LOG_FLUSH_MS) {
                flush_log(R, c);
                c->last_flush_ms = now;
            }
            if (proc_reap(&c->proc)) {
                /* what the command wrote before it exited is still in the pipes */
                while (c->proc.out_fd >= 0 && !drain_fd(R, c, &c->proc.out_fd, 0))
                    if (read(c->proc.out_fd, NULL, 0) < 0)
                        break;
                while (c->proc.progress_fd >= 0 && !drain_fd(R, c, &c->proc.progress_fd, 1))
                    if (read(c->proc.progress_fd, NULL, 0) < 0)
                        break;
                attempt_over(R, c);
            }
        }
        /* A commit may have queued a run: look, but at most every START_MIN_MS, so a stream of
         * commits (ingestion) does not turn into a stream of queries. */
        R->start_pending |= changed;
        if (!stopping && ((R->start_pending && now - R->last_start_poll_ms >= START_MIN_MS) ||
                          now - R->last_start_poll_ms >= START_POLL_MS)) {
            R->last_start_poll_ms = now;
            R->start_pending = 0;
            start_queued(R);
        }
    }
    /* Whatever still runs is abandoned to the restart rule: its run is finished as interrupted. */
    for (int i = 0; i < n; i++)
        if (R->children[i].used)
            child_release(R, &R->children[i]);
    store_write_t w = {0};
    w.op = OP_RUNS_INTERRUPT;
    exec_write(R, &w);
    store_write_release(&w);
    free(pfds);
    return NULL;
}

int runner_recover(store_t *s)
{
    store_write_t w = {0};
    w.op = OP_RUNS_INTERRUPT;
    store_err_t e = store_exec(s, &w);
    if (e == STORE_OK && w.affected > 0)
        log_warn("runner: %d run(s) left working by an earlier server finished as interrupted", w.affected);
    if (e != STORE_OK)
        log_error("runner: could not finish the runs of an earlier server: %s", store_strerror(e));
    store_write_release(&w);
    return e == STORE_OK ? 0 : -1;
}

runner_t *runner_start(const runner_config_t *cfg)
{
    runner_t *R = calloc(1, sizeof(*R));
    if (R == NULL)
        return NULL;
    R->cfg = *cfg;
    if (R->cfg.kill_grace_ms <= 0)
        R->cfg.kill_grace_ms = 10000;
    if (R->cfg.max_processes <= 0)
        R->cfg.max_processes = 16;
    R->wake_pipe[0] = R->wake_pipe[1] = -1;
    R->children = calloc((size_t)R->cfg.max_processes, sizeof(child_t));
    R->reader = store_reader_open(cfg->store);
    if (R->children == NULL || R->reader == NULL || pipe2(R->wake_pipe, O_NONBLOCK | O_CLOEXEC) != 0)
        goto fail;
    pthread_mutex_init(&R->mu, NULL);

    R->sched = scheduler_new(cfg->store, R->reader);
    R->checker = checker_new(cfg->store, R->reader);
    if (R->sched == NULL || R->checker == NULL || store_add_change_hook(cfg->store, on_runs_changed, R) != 0)
        goto fail;
    if (pthread_create(&R->thread, NULL, runner_main, R) != 0) {
        store_remove_change_hook(cfg->store, on_runs_changed, R);
        goto fail;
    }
    return R;
fail:
    log_error("runner: could not start");
    scheduler_free(R->sched);
    checker_free(R->checker);
    store_reader_close(R->reader);
    if (R->wake_pipe[0] >= 0) {
        close(R->wake_pipe[0]);
        close(R->wake_pipe[1]);
    }
    free(R->children);
    free(R);
    return NULL;
}

void runner_stop(runner_t *R)
{
    if (R == NULL)
        return;
    atomic_store(&R->stopping, 1);
    char b = 1;
    ssize_t w = write(R->wake_pipe[1], &b, 1);
    (void)w;
    pthread_join(R->thread, NULL);
    store_remove_change_hook(R->cfg.store, on_runs_changed, R);
    scheduler_free(R->sched);
    checker_free(R->checker);
    store_reader_close(R->reader);
    close(R->wake_pipe[0]);
    close(R->wake_pipe[1]);
    pthread_mutex_destroy(&R->mu);
    free(R->notified);
    free(R->children);
    free(R);
}
