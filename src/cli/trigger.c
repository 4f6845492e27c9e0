/* `syncrun trigger CONNECTION`: asks the server for a run of a connection (a manual trigger) and,
 * with --wait, follows it to its end as `runs watch` does. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "cli/client.h"

enum { OPT_WAIT = 'W', OPT_FULL_SYNC = 'f' };

static const cli_opt_t trigger_opts[] = {
    {OPT_WAIT, 0, "wait", NULL, "follow the run until it finishes, as 'syncrun runs watch'"},
    {OPT_FULL_SYNC, 0, "full-sync", NULL, "ask for a full sync"},
    CLI_OPT_URL_ENTRY,
    CLI_OPT_TOKEN_ENTRY("runs:write"),
    CLI_OPT_JSON_ENTRY(0, "print the run as the native API shows it (with --wait, a line per change)"),
    CLI_OPT_END,
};

static const cli_command_t trigger_command = {
    "trigger",
    NULL,
    "usage: syncrun trigger CONNECTION [--wait] [--full-sync] [--url URL] [--token TOKEN] [--json]\n"
    "\n"
    "Triggers a run of a connection through the server (POST /v1/connections/CONNECTION/runs),\n"
    "tagged Manual. CONNECTION is its id or UUID. The connection's overlap policy applies\n"
    "when a run of it is in progress: skip, queue, or attach to that run.\n",
    "exit codes:\n"
    "  0  triggered (with --wait: the run finished with success or partial)\n"
    "  1  the server refused (no such connection, bad token); with --wait: the run\n"
    "     finished otherwise (error, config_error, timed_out, canceled)\n"
    "  2  bad usage\n"
    "  3  skipped: another run of this connection is in progress\n"
    "  4  the server could not be reached\n",
    trigger_opts,
};

int cmd_trigger(int argc, char **argv)
{
    const char *cmd = "trigger";
    int wait = 0, full = 0, c;
    cli_opts_t p;
    cli_opts_init(&p, &trigger_command, 0, cmd, argc, argv);
    while ((c = cli_opts_next(&p)) > 0) {
        if (c == OPT_WAIT)
            wait = 1;
        else /* OPT_FULL_SYNC */
            full = 1;
    }
    if (c < 0)
        return p.exit_code;
    const char *url = p.common.url, *token = p.common.token;
    int json = p.common.json;
    const char *conn;
    if (cli_id_argument(cmd, argc, argv, optind, "CONNECTION", &conn) != 0)
        return 2;
    client_t *cl = client_new(cmd, url, token);
    if (cl == NULL)
        return 2;

    char who[300], detail[400], path[128];
    client_user_at_host(who, sizeof(who));
    snprintf(detail, sizeof(detail), "Triggered by %s from the command line", who);
    json_t *body = json_pack("{s:{s:s, s:s}, s:b}", "trigger", "tag", "Manual", "detail", detail, "full_sync", full);
    snprintf(path, sizeof(path), "/v1/connections/%s/runs", conn);
    client_resp_t r;
    client_err_t e = client_json(cl, "POST", path, body, NULL, &r);
    json_decref(body);
    int rc = 1;
    if (e != CLIENT_OK) {
        rc = client_report(cmd, e, &r);
        goto out;
    }
    json_t *run = r.json;
    const char *state = json_string_value(json_object_get(run, "state"));
    const char *result = json_string_value(json_object_get(run, "result"));
    json_int_t id = json_integer_value(json_object_get(run, "id"));
    if (!json_is_object(run) || state == NULL || id <= 0) {
        fprintf(stderr, "syncrun %s: unexpected answer from %s (HTTP %ld)\n", cmd, client_url(cl), r.status);
        goto out;
    }
    int skipped = result != NULL && strcmp(result, "skipped") == 0;
    if (json) {
        /* with --wait, the watch prints the run as its first line */
        if ((!wait || skipped) && cli_print_json(cmd, json_incref(run)) != 0)
            goto out;
    } else if (skipped) {
        printf("Run %" JSON_INTEGER_FORMAT
               " of connection %s: skipped: another run of this connection is in progress\n",
               id, conn);
    } else if (r.status == 200) {
        printf("Run %" JSON_INTEGER_FORMAT " of connection %s was already in progress (%s); attached to it\n", id, conn,
               state);
    } else {
        printf("Triggered run %" JSON_INTEGER_FORMAT " of connection %s: %s\n", id, conn, result ? result : state);
    }
    if (!json && cli_flush_stdout(cmd) != 0)
        goto out;
    if (skipped) {
        rc = CLI_EXIT_NOT_RUN;
        goto out;
    }
    if (!wait) {
        rc = 0;
        goto out;
    }
    char idtext[32];
    snprintf(idtext, sizeof(idtext), "%" JSON_INTEGER_FORMAT, id);
    rc = cli_watch_run(cl, cmd, idtext, run, json);
out:
    client_resp_release(&r);
    client_free(cl);
    return rc;
}
