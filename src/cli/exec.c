/* `syncrun exec CONNECTION -- COMMAND...`: runs a command started elsewhere (cron, CI) and records
 * it as a run of a connection through the server's API: progress lines (fd 3) become coalesced
 * PATCHes, its output goes to the terminal and to the run log, its end finishes the run. The
 * server being away never stops the command, and the finish is retried for ten minutes. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "cli/client.h"
#include "exec/process.h"
#include "exec/progress.h"
#include "util/ids.h"
#include "util/timeutil.h"

enum {
    SYNC_EVERY_MS = 250, /* progress and log are sent at most this often */
    READ_CHUNK = 64 * 1024,
    PENDING_MAX = 1024 * 1024,        /* log bytes held for the server, at most (the oldest give way) */
    LOG_CHUNK_MAX = 512 * 1024,       /* bytes per POST .../log (the server takes 1 MiB bodies) */
    TAIL_BYTES = 64 * 1024,           /* output kept for the error detail */
    ERROR_TAIL_LINES = 20,            /* log lines put into a failed run's error detail */
    BACKOFF_MAX_MS = 30000,           /* between attempts while the server is away */
    FINISH_RETRY_MS = 10 * 60 * 1000, /* how long the finish is retried */
    KILL_GRACE_MS = 10000,            /* after a forwarded signal, SIGKILL */
    UNITS_MAX = 1000,                 /* jobs, and tasks, per run (as the runner) */
    REQUEST_TIMEOUT_S = 10,
    SUMMARY_MAX = 300,
};

enum { OPT_PROGRESS_FD = 'p' };

static const cli_opt_t exec_opts[] = {
    CLI_OPT_URL_ENTRY,
    CLI_OPT_TOKEN_ENTRY("runs:write"),
    {OPT_PROGRESS_FD, 0, "json-progress-fd", "N", "the fd the command writes progress lines on (3-255, default 3)"},
    CLI_OPT_END,
};

static const cli_command_t exec_command = {
    "exec",
    NULL,
    "usage: syncrun exec CONNECTION [--url URL] [--token TOKEN] [--json-progress-fd N] -- COMMAND [ARGS...]\n"
    "\n"
    "Runs COMMAND here (no shell) and records it as a run of CONNECTION (its id or UUID) on the\n"
    "server: the run is created working, tagged Exec; what the command writes on stdout and\n"
    "stderr is copied to ours and sent to the run log; JSON progress lines it writes on fd 3\n"
    "update the run (step, counters, watermark, message, jobs and tasks; see docs/API.md);\n"
    "its end finishes the run: exit 0 is success (partial when records_failed > 0), anything\n"
    "else an error with the last 20 lines of output. SIGINT/SIGTERM are passed on to the\n"
    "command and the run is finished as canceled. The command sees SYNCRUN_RUN_ID,\n"
    "SYNCRUN_RUN_UUID, SYNCRUN_CONNECTION_ID and SYNCRUN_URL.\n"
    "\n"
    "If the server goes away while the command runs, the command keeps running; updates are\n"
    "retried with backoff and the finish for up to 10 minutes.\n",
    "exit codes:\n"
    "  the command's own exit code, or 128+N when it was killed by signal N\n"
    "  1    the server refused to create the run (no such connection, bad token)\n"
    "  2    bad usage\n"
    "  3    not run: another run of the connection is in progress (overlap skip or attach)\n"
    "  4    not run: the server could not be reached to create the run\n"
    "  127  the command could not be started (not found, not executable); the run is\n"
    "       finished as an error\n",
    exec_opts,
};

typedef struct unit {
    char *key;               /* job: its name; task: job name + "\n" + source_file_id */
    char uuid[IDS_UUID_LEN]; /* "" until created on the server */
    int job;                 /* tasks: index of their job; jobs: -1 */
    json_t *pending;         /* body not yet sent (create or update), or NULL */
} unit_t;

typedef struct ex {
    client_t *cl;
    const char *cmd;
    char run[32];
    json_t *patch; /* PATCH /v1/runs/{id} body waiting to be sent, or NULL */
    int64_t records_failed;
    unit_t *units;
    int nunits;
    char *log;
    size_t nlog;
    tail_buffer_t tail;
    line_splitter_t lines;
    int64_t next_sync_ms, backoff_ms;
    int down;            /* the server is away (the message was printed) */
    int finished_remote; /* the run was finished by someone else (409) */
    int out_broken;      /* our stdout or stderr is gone: stop copying to it */
} ex_t;

static volatile sig_atomic_t got_signal;
static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;
    got_signal = sig;
    char b = 1;
    ssize_t n = write(sig_pipe[1], &b, 1);
    (void)n;
    errno = saved;
}

/* ---- talking to the server ---- */

/* Marks the server away after a failed request: prints it once, and schedules the next try. */
static void server_down(ex_t *x, const client_resp_t *r)
{
    x->backoff_ms = x->backoff_ms == 0 ? 1000 : x->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : x->backoff_ms * 2;
    x->next_sync_ms = time_mono_ms() + x->backoff_ms;
    if (!x->down)
        fprintf(stderr, "syncrun exec: %s; the command keeps running, retrying with backoff\n", r->error);
    x->down = 1;
}

static void server_up(ex_t *x)
{
    if (x->down)
        fprintf(stderr, "syncrun exec: reconnected to %s; sending run %s's updates\n", client_url(x->cl), x->run);
    x->down = 0;
    x->backoff_ms = 0;
}

/* Sends one request. 0: done (sent, or refused and dropped with a warning); -1: unreachable, keep it. */
static int send_one(ex_t *x, const char *method, const char *path, json_t *body, const char *raw, size_t rawlen,
                    client_resp_t *r)
{
    client_err_t e = raw != NULL ? client_request(x->cl, method, path, raw, rawlen, "text/plain", NULL, r)
                                 : client_json(x->cl, method, path, body, NULL, r);
    if (e == CLIENT_UNREACHABLE) {
        server_down(x, r);
        return -1;
    }
    server_up(x);
    const char *code = json_string_value(json_object_get(json_object_get(r->json, "error"), "code"));
    if (e == CLIENT_HTTP_ERROR && r->status == 409 && code != NULL && strcmp(code, "run_finished") == 0) {
        if (!x->finished_remote)
            fprintf(stderr, "syncrun exec: run %s was finished by someone else (canceled?); stopping the command\n",
                    x->run);
        x->finished_remote = 1;
    } else if (e != CLIENT_OK) {
        fprintf(stderr, "syncrun exec: warning: %s %s: %s\n", method, path, r->error);
    }
    return 0;
}

static int sync_units(ex_t *x)
{
    char path[256];
    for (int i = 0; i < x->nunits; i++) {
        unit_t *u = &x->units[i];
        if (u->pending == NULL)
            continue;
        const char *job_uuid = u->job >= 0 ? x->units[u->job].uuid : u->uuid;
        if (u->job >= 0 && job_uuid[0] == '\0') {
            if (x->units[u->job].pending == NULL) { /* its job could not be created: give up on it */
                json_decref(u->pending);
                u->pending = NULL;
            }
            continue;
        }
        int create = u->uuid[0] == '\0';
        if (u->job < 0)
            snprintf(path, sizeof(path), create ? "/v1/runs/%s/jobs" : "/v1/runs/%s/jobs/%s", x->run, u->uuid);
        else if (create)
            snprintf(path, sizeof(path), "/v1/runs/%s/jobs/%s/tasks", x->run, job_uuid);
        else
            snprintf(path, sizeof(path), "/v1/runs/%s/jobs/%s/tasks/%s", x->run, job_uuid, u->uuid);
        client_resp_t r;
        int rc = send_one(x, create ? "POST" : "PATCH", path, u->pending, NULL, 0, &r);
        if (rc == 0 && create && r.status == 201) {
            const char *id = json_string_value(json_object_get(r.json, "id"));
            if (id != NULL && ids_is_uuid(id))
                snprintf(u->uuid, sizeof(u->uuid), "%s", id);
        }
        client_resp_release(&r);
        if (rc != 0)
            return -1;
        json_decref(u->pending);
        u->pending = NULL;
    }
    return 0;
}

/* Sends whatever waits: run progress, jobs and tasks, log. 0 when nothing is left, -1 when the
 * server is away (what was not sent stays for the next call). */
static int sync_all(ex_t *x)
{
    char path[128];
    client_resp_t r;
    if (x->patch != NULL) {
        snprintf(path, sizeof(path), "/v1/runs/%s", x->run);
        int rc = send_one(x, "PATCH", path, x->patch, NULL, 0, &r);
        client_resp_release(&r);
        if (rc != 0)
            return -1;
        json_decref(x->patch);
        x->patch = NULL;
    }
    if (sync_units(x) != 0)
        return -1;
    snprintf(path, sizeof(path), "/v1/runs/%s/log", x->run);
    while (x->nlog > 0) {
        size_t n = x->nlog < LOG_CHUNK_MAX ? x->nlog : LOG_CHUNK_MAX;
        int rc = send_one(x, "POST", path, NULL, x->log, n, &r);
        client_resp_release(&r);
        if (rc != 0)
            return -1;
        memmove(x->log, x->log + n, x->nlog - n);
        x->nlog -= n;
    }
    return 0;
}

/* ---- the command's output and progress ---- */

static void write_all(ex_t *x, int fd, const char *data, size_t n)
{
    while (n > 0 && !x->out_broken) {
        ssize_t w = write(fd, data, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            x->out_broken = 1; /* the terminal went away: the log still gets everything */
            return;
        }
        data += w;
        n -= (size_t)w;
    }
}

static void on_output(ex_t *x, int fd, const char *data, size_t n)
{
    write_all(x, fd, data, n);
    tail_buffer_add(&x->tail, data, n);
    if (n > PENDING_MAX) {
        data += n - PENDING_MAX;
        n = PENDING_MAX;
    }
    if (x->nlog + n > PENDING_MAX) { /* the oldest unsent bytes give way: the log keeps a tail anyway */
        size_t drop = x->nlog + n - PENDING_MAX;
        memmove(x->log, x->log + drop, x->nlog - drop);
        x->nlog -= drop;
    }
    memcpy(x->log + x->nlog, data, n);
    x->nlog += n;
}

static unit_t *unit_find(ex_t *x, const char *key)
{
    for (int i = 0; i < x->nunits; i++)
        if (strcmp(x->units[i].key, key) == 0)
            return &x->units[i];
    return NULL;
}

static unit_t *unit_add(ex_t *x, const char *key, int job)
{
    if (x->nunits >= UNITS_MAX)
        return NULL;
    unit_t *grown = realloc(x->units, sizeof(*grown) * (size_t)(x->nunits + 1));
    char *k = strdup(key);
    if (grown == NULL || k == NULL) {
        free(k);
        if (grown != NULL)
            x->units = grown;
        return NULL;
    }
    x->units = grown;
    unit_t *u = &x->units[x->nunits++];
    memset(u, 0, sizeof(*u));
    u->key = k;
    u->job = job;
    return u;
}

/* Merges body (consumed) into what waits for unit u. */
static void unit_merge(unit_t *u, json_t *body)
{
    if (u->pending == NULL)
        u->pending = body;
    else {
        json_object_update(u->pending, body);
        json_decref(body);
    }
}

static void progress_job(ex_t *x, json_t *job)
{
    const char *name = json_string_value(json_object_get(job, "name"));
    unit_t *u = unit_find(x, name);
    if (u == NULL && (u = unit_add(x, name, -1)) == NULL) {
        fprintf(stderr, "syncrun exec: warning: more than %d jobs and tasks; job '%.80s' not recorded\n", UNITS_MAX,
                name);
        return;
    }
    unit_merge(u, json_deep_copy(job));
}

static void progress_task(ex_t *x, json_t *task)
{
    const char *job = json_string_value(json_object_get(task, "job"));
    const char *sfid = json_string_value(json_object_get(task, "source_file_id"));
    unit_t *j = unit_find(x, job);
    if (j == NULL || j->job >= 0) {
        fprintf(stderr, "syncrun exec: warning: progress line names a job that was not started: '%.80s'\n", job);
        return;
    }
    int ji = (int)(j - x->units);
    char key[512];
    snprintf(key, sizeof(key), "%s\n%s", job, sfid ? sfid : "");
    unit_t *u = unit_find(x, key);
    if (u == NULL && (u = unit_add(x, key, ji)) == NULL) {
        fprintf(stderr, "syncrun exec: warning: more than %d jobs and tasks; a task of '%.80s' not recorded\n",
                UNITS_MAX, job);
        return;
    }
    json_t *body = json_deep_copy(task);
    json_object_del(body, "job");
    unit_merge(u, body);
}

static void on_progress_line(void *ctx, const char *line, size_t len, int too_long)
{
    ex_t *x = ctx;
    progress_update_t u;
    char err[200];
    if (len == 0)
        return;
    if (too_long || progress_parse_line(line, len, &u, err, sizeof(err)) != 0) {
        if (too_long)
            snprintf(err, sizeof(err), "line longer than %d bytes", PROGRESS_LINE_MAX);
        fprintf(stderr, "syncrun exec: warning: malformed progress line (%s): %.200s\n", err, line);
        return;
    }
    if (u.mask != 0) {
        if (x->patch == NULL)
            x->patch = json_object();
        if (u.mask & RUN_F_STEP)
            json_object_set_new(x->patch, "current_step", json_string(u.step));
        if (u.mask & RUN_F_MESSAGE)
            json_object_set_new(x->patch, "message", json_string(u.message));
        if (u.mask & RUN_F_WATERMARK) {
            char iso[TIME_ISO_LEN];
            time_format_iso(u.watermark, iso);
            json_object_set_new(x->patch, "last_timestamp_synced", json_string(iso));
        }
        for (int c = 0; c < CTR_COUNT; c++) {
            if (!(u.mask & (RUN_F_COUNTER0 << c)))
                continue;
            json_t *ctrs = json_object_get(x->patch, "counters");
            if (ctrs == NULL)
                json_object_set_new(x->patch, "counters", ctrs = json_object());
            json_object_set_new(ctrs, counter_name((counter_t)c), json_integer(u.counters[c]));
            if (c == CTR_RECORDS_FAILED)
                x->records_failed = u.counters[c];
        }
    }
    if (u.job != NULL)
        progress_job(x, u.job);
    if (u.task != NULL)
        progress_task(x, u.task);
    progress_update_release(&u);
}

/* Reads what is there on *fd; 1 at EOF or error (the fd is then closed and set to -1). */
static int drain_fd(ex_t *x, int *fd, int to_fd, int progress)
{
    char buf[READ_CHUNK];
    for (int rounds = 0; rounds < 16; rounds++) {
        ssize_t n = read(*fd, buf, sizeof(buf));
        if (n > 0) {
            if (progress)
                line_splitter_feed(&x->lines, buf, (size_t)n, on_progress_line, x);
            else
                on_output(x, to_fd, buf, (size_t)n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return 0;
        if (progress)
            line_splitter_finish(&x->lines, on_progress_line, x);
        close(*fd);
        *fd = -1;
        return 1;
    }
    return 0;
}

static void drain_rest(ex_t *x, int *fd, int to_fd, int progress)
{
    while (*fd >= 0 && !drain_fd(x, fd, to_fd, progress))
        if (read(*fd, NULL, 0) < 0) /* EAGAIN: nothing more is coming from a dead child's group */
            break;
}

/* ---- the run ---- */

/* Creates the run; 0 with *run filled (owned by the caller), or an exit code. */
static int create_run(ex_t *x, const char *conn, char *const *argv, json_t **run, long *status)
{
    char who[300], detail[SUMMARY_MAX + 320], summary[SUMMARY_MAX + 4] = "", path[128], idem[IDS_UUID_LEN + 20];
    size_t used = 0;
    for (int i = 0; argv[i] != NULL && used < SUMMARY_MAX; i++) {
        int n = snprintf(summary + used, SUMMARY_MAX - used, "%s%s", i ? " " : "", argv[i]);
        used = n < 0 ? SUMMARY_MAX : used + (size_t)n;
    }
    if (used >= SUMMARY_MAX)
        snprintf(summary + SUMMARY_MAX - 1, 4, "…");
    client_user_at_host(who, sizeof(who));
    snprintf(detail, sizeof(detail), "%s: %s", who, summary);
    char key[IDS_UUID_LEN];
    ids_uuid_v4(key);
    snprintf(idem, sizeof(idem), "Idempotency-Key: %s", key); /* a retried create returns the same run */
    const char *hdrs[] = {idem, NULL};
    json_t *body = json_pack("{s:s, s:{s:s, s:s}}", "state", "working", "trigger", "tag", "Exec", "detail", detail);
    snprintf(path, sizeof(path), "/v1/connections/%s/runs", conn);
    int rc = 1;
    for (int attempt = 0;; attempt++) {
        client_resp_t r;
        client_err_t e = client_json(x->cl, "POST", path, body, hdrs, &r);
        if (e == CLIENT_UNREACHABLE && attempt < 2) {
            client_resp_release(&r);
            usleep((useconds_t)(500000 << attempt));
            continue;
        }
        if (e != CLIENT_OK) {
            rc = client_report(x->cmd, e, &r);
            if (e == CLIENT_UNREACHABLE)
                fprintf(stderr, "syncrun exec: the command was not run\n");
        } else if (!json_is_object(r.json) || json_integer_value(json_object_get(r.json, "id")) <= 0) {
            fprintf(stderr, "syncrun exec: unexpected answer from %s (HTTP %ld)\n", client_url(x->cl), r.status);
        } else {
            *run = json_incref(r.json);
            *status = r.status;
            rc = 0;
        }
        client_resp_release(&r);
        break;
    }
    json_decref(body);
    return rc;
}

/* Finishes the run, retrying while the server is away for up to FINISH_RETRY_MS. 0 or -1. */
static int finish_run(ex_t *x, json_t *body)
{
    char path[128];
    snprintf(path, sizeof(path), "/v1/runs/%s/finish", x->run);
    int64_t deadline = time_mono_ms() + FINISH_RETRY_MS;
    x->backoff_ms = 0;
    for (;;) {
        if (sync_all(x) == 0) {
            if (x->finished_remote)
                return 0;
            client_resp_t r;
            int rc = send_one(x, "POST", path, body, NULL, 0, &r);
            client_resp_release(&r);
            if (rc == 0)
                return 0;
        }
        int64_t now = time_mono_ms();
        if (now + x->backoff_ms > deadline) {
            fprintf(stderr, "syncrun exec: gave up finishing run %s after %d minutes: the server stayed away\n", x->run,
                    FINISH_RETRY_MS / 60000);
            return -1;
        }
        fprintf(stderr, "syncrun exec: the command has ended; retrying to record it in %" PRId64 " s\n",
                x->backoff_ms / 1000);
        usleep((useconds_t)(x->backoff_ms * 1000));
    }
}

/* Builds the finish body for how the command ended. */
static json_t *finish_body(ex_t *x, int status, int signaled_by_us, int sig)
{
    char what[128], msg[200];
    proc_describe_status(status, what, sizeof(what));
    if (signaled_by_us) {
        snprintf(msg, sizeof(msg), "canceled: syncrun exec received %s and passed it on; the command %s",
                 sig == SIGINT ? "SIGINT" : "SIGTERM", what);
        return json_pack("{s:s, s:s}", "result", "canceled", "message", msg);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return json_pack("{s:s}", "result", x->records_failed > 0 ? "partial" : "success");
    char *tail = tail_buffer_error_detail(&x->tail, ERROR_TAIL_LINES);
    json_t *detail = tail != NULL ? json_string(tail) : NULL; /* valid UTF-8, clipped to the API's limit */
    free(tail);
    json_t *b =
        json_pack("{s:s, s:{s:s, s:s, s:o}}", "result", "error", "error", "code",
                  WIFEXITED(status) ? "EXIT_CODE" : "KILLED", "message", what, "detail", detail ? detail : json_null());
    return b;
}

static int exit_code_of(int status)
{
    if (status != -1 && WIFEXITED(status))
        return WEXITSTATUS(status);
    if (status != -1 && WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return 1;
}

/* Runs the command under run x->run; returns the exit code. */
static int run_command(ex_t *x, json_t *run, char *const *argv, int progress_fd)
{
    char env_id[48], env_uuid[64], env_conn[48], *env_url;
    size_t ulen = strlen(client_url(x->cl)) + 16;
    env_url = malloc(ulen);
    if (env_url == NULL)
        return 1;
    snprintf(env_id, sizeof(env_id), "SYNCRUN_RUN_ID=%s", x->run);
    const char *uuid = json_string_value(json_object_get(run, "uuid"));
    snprintf(env_uuid, sizeof(env_uuid), "SYNCRUN_RUN_UUID=%s", uuid != NULL ? uuid : "");
    snprintf(env_conn, sizeof(env_conn), "SYNCRUN_CONNECTION_ID=%" JSON_INTEGER_FORMAT,
             json_integer_value(json_object_get(run, "connection_id")));
    snprintf(env_url, ulen, "SYNCRUN_URL=%s", client_url(x->cl));
    char *envp[] = {env_id, env_uuid, env_conn, env_url, NULL};
    proc_spec_t spec = {argv, NULL, envp, progress_fd, 0};
    proc_t p;
    char err[256];
    int rc = 1, status = -1, sig = 0;

    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    if (proc_start(&spec, &p, err, sizeof(err)) != 0) {
        fprintf(stderr, "syncrun exec: cannot start %s: %s\n", argv[0], err);
        json_t *body =
            json_pack("{s:s, s:{s:s, s:s}}", "result", "error", "error", "code", "SPAWN_FAILED", "message", err);
        finish_run(x, body);
        json_decref(body);
        rc = 127;
        goto out;
    }
    int64_t now = time_mono_ms();
    x->next_sync_ms = now + SYNC_EVERY_MS;
    int stopping = 0;
    for (;;) {
        struct pollfd pfds[4];
        int np = 0;
        pfds[np++] = (struct pollfd){sig_pipe[0], POLLIN, 0};
        if (p.out_fd >= 0)
            pfds[np++] = (struct pollfd){p.out_fd, POLLIN, 0};
        if (p.err_fd >= 0)
            pfds[np++] = (struct pollfd){p.err_fd, POLLIN, 0};
        if (p.progress_fd >= 0)
            pfds[np++] = (struct pollfd){p.progress_fd, POLLIN, 0};
        int wait = np == 1 ? 20 : 100; /* once the pipes are closed, reap soon */
        poll(pfds, (nfds_t)np, wait);
        if (got_signal != 0 && sig == 0) {
            char buf[16];
            while (read(sig_pipe[0], buf, sizeof(buf)) > 0)
                ;
            sig = got_signal;
            fprintf(stderr, "syncrun exec: got %s; passing it on to the command\n",
                    sig == SIGINT ? "SIGINT" : "SIGTERM");
            kill(-p.pid, sig);
            p.kill_at_ms = time_mono_ms() + KILL_GRACE_MS;
        }
        if (p.out_fd >= 0)
            drain_fd(x, &p.out_fd, STDOUT_FILENO, 0);
        if (p.err_fd >= 0)
            drain_fd(x, &p.err_fd, STDERR_FILENO, 0);
        if (p.progress_fd >= 0)
            drain_fd(x, &p.progress_fd, -1, 1);
        proc_check_kill(&p);
        if (x->finished_remote && !stopping) {
            stopping = 1;
            proc_terminate(&p, KILL_GRACE_MS);
        }
        if (proc_reap(&p)) {
            drain_rest(x, &p.out_fd, STDOUT_FILENO, 0);
            drain_rest(x, &p.err_fd, STDERR_FILENO, 0);
            drain_rest(x, &p.progress_fd, -1, 1);
            status = p.status;
            break;
        }
        now = time_mono_ms();
        if (now >= x->next_sync_ms) {
            x->next_sync_ms = now + SYNC_EVERY_MS;
            sync_all(x); /* when the server is away, sync_all set next_sync_ms to the backoff */
        }
    }
    proc_close(&p);
    /* from here a second Ctrl-C stops exec itself, even while it retries the finish */
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    rc = exit_code_of(status);
    if (x->finished_remote) {
        sync_all(x);
        goto out;
    }
    json_t *body = finish_body(x, status, sig != 0, sig);
    if (finish_run(x, body) == 0 && !x->finished_remote)
        fprintf(stderr, "syncrun exec: run %s finished: %s\n", x->run,
                json_string_value(json_object_get(body, "result")));
    json_decref(body);
out:
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    free(env_url);
    return rc;
}

int cmd_exec(int argc, char **argv)
{
    const char *cmd = "exec";
    int64_t progress_fd = 3;
    int c, dashes = -1;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--") == 0) {
            dashes = i;
            break;
        }
    int nopt = dashes >= 0 ? dashes : argc; /* options are read only before "--" */
    cli_opts_t p;
    cli_opts_init(&p, &exec_command, 0, cmd, nopt, argv);
    while ((c = cli_opts_next(&p)) > 0) /* OPT_PROGRESS_FD */
        if (ids_parse_i64(p.arg, strlen(p.arg), 3, 255, &progress_fd) != 0)
            return cli_usage_error(cmd, "--json-progress-fd must be an fd number from 3 to 255, not '%s'", p.arg);
    if (c < 0)
        return p.exit_code;
    const char *url = p.common.url, *token = p.common.token;
    if (optind >= nopt)
        return cli_usage_error(cmd, "CONNECTION is missing: syncrun exec CONNECTION -- COMMAND [ARGS...]");
    if (optind + 1 < nopt)
        return cli_usage_error(cmd, "unexpected argument '%s' (put the command after '--')", argv[optind + 1]);
    const char *conn = argv[optind];
    if (!client_valid_id(conn))
        return cli_usage_error(cmd, "CONNECTION must be a connection id (a positive integer) or UUID, not '%s'", conn);
    if (dashes < 0 || dashes + 1 >= argc)
        return cli_usage_error(cmd, "COMMAND is missing: syncrun exec CONNECTION -- COMMAND [ARGS...]");
    char *const *child_argv = argv + dashes + 1;

    ex_t x;
    memset(&x, 0, sizeof(x));
    x.cmd = cmd;
    if ((x.cl = client_new(cmd, url, token)) == NULL)
        return 2;
    client_set_limits(x.cl, REQUEST_TIMEOUT_S, CLIENT_BODY_MAX);
    int rc = 1;
    json_t *run = NULL;
    long status = 0;
    signal(SIGPIPE, SIG_IGN);
    if (pipe2(sig_pipe, O_NONBLOCK | O_CLOEXEC) != 0 || (x.log = malloc(PENDING_MAX)) == NULL) {
        fprintf(stderr, "syncrun exec: out of resources: %s\n", strerror(errno));
        goto out;
    }
    tail_buffer_init(&x.tail, TAIL_BYTES);
    if ((rc = create_run(&x, conn, child_argv, &run, &status)) != 0)
        goto out;
    json_int_t id = json_integer_value(json_object_get(run, "id"));
    snprintf(x.run, sizeof(x.run), "%" JSON_INTEGER_FORMAT, id);
    const char *state = json_string_value(json_object_get(run, "state"));
    const char *result = json_string_value(json_object_get(run, "result"));
    if (result != NULL && strcmp(result, "skipped") == 0) {
        fprintf(stderr,
                "syncrun exec: skipped: another run of connection %s is in progress (run %s was recorded as "
                "skipped); the command was not run\n",
                conn, x.run);
        rc = CLI_EXIT_NOT_RUN;
        goto out;
    }
    if (status == 200) {
        fprintf(stderr,
                "syncrun exec: run %s of connection %s is in progress and the connection attaches new triggers to "
                "it; the command was not run\n",
                x.run, conn);
        rc = CLI_EXIT_NOT_RUN;
        goto out;
    }
    if (state != NULL && strcmp(state, "queued") == 0) {
        /* overlap queue: this command runs now anyway, so the run says so */
        fprintf(stderr, "syncrun exec: another run of connection %s is in progress; running as run %s anyway\n", conn,
                x.run);
        x.patch = json_pack("{s:s}", "state", "working");
    }
    fprintf(stderr, "syncrun exec: recording as run %s of connection %s\n", x.run, conn);
    rc = run_command(&x, run, child_argv, (int)progress_fd);
out:
    json_decref(run);
    json_decref(x.patch);
    for (int i = 0; i < x.nunits; i++) {
        free(x.units[i].key);
        json_decref(x.units[i].pending);
    }
    free(x.units);
    free(x.log);
    tail_buffer_release(&x.tail);
    line_splitter_release(&x.lines);
    if (sig_pipe[0] >= 0) {
        close(sig_pipe[0]);
        close(sig_pipe[1]);
    }
    client_free(x.cl);
    return rc;
}
