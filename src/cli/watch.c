/* `syncrun runs watch RUN`: follows a run to its end over HTTP with the long-poll (?wait=30 and
 * If-None-Match), a line per change, like `gh run watch`; `trigger --wait` shares it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "cli/client.h"
#include "util/timeutil.h"

enum {
    WATCH_WAIT_S = 30,                /* the long-poll's ?wait */
    WATCH_BACKOFF_MAX_MS = 30000,     /* between reconnection attempts, at most */
    WATCH_GIVE_UP_MS = 5 * 60 * 1000, /* unreachable this long (after a first answer): exit 4 */
};

enum { OPT_INTERVAL_FREE = 'i' };

static const cli_opt_t watch_opts[] = {
    CLI_OPT_URL_ENTRY,
    CLI_OPT_TOKEN_ENTRY("runs:read"),
    CLI_OPT_JSON_ENTRY(0, "print the run as one line of native API JSON at each change"),
    {OPT_INTERVAL_FREE, 0, "interval-free", NULL, "accepted for scripts; watching never uses a polling interval"},
    CLI_OPT_END,
};

static const cli_command_t watch_command = {
    "runs watch",
    NULL,
    "usage: syncrun runs watch RUN [--url URL] [--token TOKEN] [--json]\n"
    "\n"
    "Follows a run until it finishes, printing a line each time its state, step or\n"
    "counters change. RUN is the run's id or UUID. It waits on the server's long-poll\n"
    "(GET /v1/runs/RUN?wait=30), never polling in a loop, and reconnects with backoff\n"
    "when the connection is lost.\n",
    "exit codes:\n"
    "  0  the run finished with success or partial\n"
    "  1  the run finished otherwise (error, config_error, timed_out, canceled,\n"
    "     skipped), or the server refused a request (no such run, bad token)\n"
    "  2  bad usage\n"
    "  4  the server could not be reached (at the start, or for 5 minutes)\n",
    watch_opts,
};

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static json_int_t counter(json_t *run, const char *name)
{
    return json_integer_value(json_object_get(json_object_get(run, "counters"), name));
}

/* What a line shows; two versions of a run that give the same key print one line. */
static void change_key(json_t *run, char *out, size_t n)
{
    char *counters = json_dumps(json_object_get(run, "counters"), JSON_COMPACT | JSON_SORT_KEYS);
    snprintf(out, n, "%s|%s|%s|%s|%s", jstr(run, "state") ? jstr(run, "state") : "",
             jstr(run, "result") ? jstr(run, "result") : "", jstr(run, "current_step") ? jstr(run, "current_step") : "",
             jstr(run, "message") ? jstr(run, "message") : "", counters ? counters : "");
    free(counters);
}

/* Prints one line for run: "12:00:03  run 7  working  Loading data  processed 1200  failed 3". */
static void print_line(json_t *run)
{
    char clock[16];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
    const char *state = jstr(run, "state"), *result = jstr(run, "result"), *step = jstr(run, "current_step");
    const char *msg = jstr(run, "message");
    printf("%s  run %" JSON_INTEGER_FORMAT "  %s", clock, json_integer_value(json_object_get(run, "id")),
           result != NULL  ? result
           : state != NULL ? state
                           : "?");
    if (step != NULL)
        printf("  %.80s", step);
    printf("  processed %" JSON_INTEGER_FORMAT "  failed %" JSON_INTEGER_FORMAT, counter(run, "records_processed"),
           counter(run, "records_failed"));
    if (msg != NULL)
        printf("  — %.120s", msg);
    putchar('\n');
    json_t *err = json_object_get(run, "error");
    if (result != NULL && json_is_object(err))
        printf("          error %s: %.500s\n", jstr(err, "code") ? jstr(err, "code") : "-",
               jstr(err, "message") ? jstr(err, "message") : "");
    fflush(stdout);
}

/* Prints run unless it shows what the last line showed; 0, or 1 when stdout failed. */
static int show(const char *cmd, json_t *run, int json, char *last, size_t n)
{
    char key[1024];
    change_key(run, key, sizeof(key));
    if (strcmp(key, last) == 0)
        return 0;
    snprintf(last, n, "%s", key);
    if (json)
        return cli_print_json(cmd, json_incref(run));
    print_line(run);
    return cli_flush_stdout(cmd);
}

int cli_watch_exit_code(const char *result)
{
    return result != NULL && (strcmp(result, "success") == 0 || strcmp(result, "partial") == 0) ? 0 : 1;
}

int cli_watch_run(client_t *c, const char *cmd, const char *run, json_t *first, int json)
{
    char path[128], inm[96], last[1024] = "";
    int64_t backoff = 0, down_since = 0;
    json_t *cur = first ? json_incref(first) : NULL;
    int rc = 1, printed_down = 0;
    client_set_limits(c, WATCH_WAIT_S + 15, CLIENT_BODY_MAX);
    for (;;) {
        if (cur != NULL) {
            if (show(cmd, cur, json, last, sizeof(last)) != 0)
                goto out;
            if (jstr(cur, "result") != NULL) {
                rc = cli_watch_exit_code(jstr(cur, "result"));
                goto out;
            }
        }
        client_resp_t r;
        const char *hdrs[2] = {NULL, NULL};
        if (cur != NULL) {
            snprintf(inm, sizeof(inm), "If-None-Match: \"%" JSON_INTEGER_FORMAT "\"",
                     json_integer_value(json_object_get(cur, "version")));
            hdrs[0] = inm;
            snprintf(path, sizeof(path), "/v1/runs/%s?wait=%d", run, WATCH_WAIT_S);
        } else {
            snprintf(path, sizeof(path), "/v1/runs/%s", run);
        }
        client_err_t e = client_request(c, "GET", path, NULL, 0, NULL, hdrs, &r);
        if (e == CLIENT_UNREACHABLE && (cur != NULL || down_since != 0)) {
            int64_t now = time_mono_ms();
            if (down_since == 0)
                down_since = now;
            if (now - down_since >= WATCH_GIVE_UP_MS) {
                rc = client_report(cmd, e, &r);
                client_resp_release(&r);
                goto out;
            }
            backoff = backoff == 0 ? 1000 : backoff * 2 > WATCH_BACKOFF_MAX_MS ? WATCH_BACKOFF_MAX_MS : backoff * 2;
            fprintf(stderr, "syncrun %s: %s; retrying in %" PRId64 " s\n", cmd, r.error, backoff / 1000);
            printed_down = 1;
            client_resp_release(&r);
            usleep((useconds_t)(backoff * 1000));
            continue;
        }
        if (e != CLIENT_OK) {
            rc = client_report(cmd, e, &r);
            client_resp_release(&r);
            goto out;
        }
        if (printed_down)
            fprintf(stderr, "syncrun %s: reconnected to %s\n", cmd, client_url(c));
        printed_down = 0;
        down_since = 0;
        backoff = 0;
        if (r.status == 200 && json_is_object(r.json)) {
            json_decref(cur);
            cur = json_incref(r.json);
        } else if (r.status != 304) {
            fprintf(stderr, "syncrun %s: unexpected answer HTTP %ld from %s\n", cmd, r.status, client_url(c));
            client_resp_release(&r);
            goto out;
        }
        client_resp_release(&r);
    }
out:
    json_decref(cur);
    return rc;
}

int cmd_runs_watch(int argc, char **argv)
{
    const char *cmd = "runs watch";
    cli_opts_t p;
    int c;
    cli_opts_init(&p, &watch_command, 0, cmd, argc, argv);
    while ((c = cli_opts_next(&p)) > 0)
        ; /* --interval-free: nothing to do */
    if (c < 0)
        return p.exit_code;
    const char *url = p.common.url, *token = p.common.token;
    int json = p.common.json;
    const char *run_arg;
    if (cli_id_argument(cmd, argc, argv, optind, "RUN", &run_arg) != 0)
        return 2;
    client_t *cl = client_new(cmd, url, token);
    if (cl == NULL)
        return 2;
    int rc = cli_watch_run(cl, cmd, run_arg, NULL, json);
    client_free(cl);
    return rc;
}
