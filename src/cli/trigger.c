/* `syncrun trigger CONNECTION`: asks the server for a run of a connection (a manual trigger) and,
 * with --wait, follows it to its end as `runs watch` does. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: syncrun trigger CONNECTION [--wait] [--full-sync] [--url URL] [--token TOKEN] [--json]\n"
                 "\n"
                 "Triggers a run of a connection through the server (POST /v1/connections/CONNECTION/runs),\n"
                 "tagged Manual. CONNECTION is its id or UUID. The connection's overlap policy applies\n"
                 "when a run of it is in progress: skip, queue, or attach to that run.\n"
                 "\n"
                 "options:\n"
                 "  --wait            follow the run until it finishes, as 'syncrun runs watch'\n"
                 "  --full-sync       ask for a full sync\n"
                 "  --url URL         the server (default: $SYNCRUN_URL, else " CLIENT_DEFAULT_URL ")\n"
                 "  --token TOKEN     an API key with runs:write (default: $SYNCRUN_TOKEN)\n"
                 "  --json            print the run as the native API shows it (with --wait, a line per change)\n"
                 "  -h, --help        show this help\n"
                 "\n"
                 "exit codes:\n"
                 "  0  triggered (with --wait: the run finished with success or partial)\n"
                 "  1  the server refused (no such connection, bad token); with --wait: the run\n"
                 "     finished otherwise (error, config_error, timed_out, canceled)\n"
                 "  2  bad usage\n"
                 "  3  skipped: another run of this connection is in progress\n"
                 "  4  the server could not be reached\n");
}

int cmd_trigger(int argc, char **argv)
{
    static const struct option options[] = {
        {"wait", no_argument, NULL, 'W'},
        {"full-sync", no_argument, NULL, 'f'},
        {"url", required_argument, NULL, 'u'},
        {"token", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "trigger", *url = NULL, *token = NULL;
    int json = 0, wait = 0, full = 0, c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case 'W':
            wait = 1;
            break;
        case 'f':
            full = 1;
            break;
        case 'u':
            url = optarg;
            break;
        case 't':
            token = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case ':':
            return cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
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
