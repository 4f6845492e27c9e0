/* `syncrun runs log RUN`: prints the kept log of a run (GET /v1/runs/{id}/log) as it is. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: syncrun runs log RUN [--url URL] [--token TOKEN]\n"
                 "\n"
                 "Prints the log the server keeps of a run (its output's last bytes, up to the\n"
                 "connection's log_max_bytes). A note on stderr says when earlier bytes were dropped.\n"
                 "\n"
                 "options:\n"
                 "  --url URL         the server (default: $SYNCRUN_URL, else " CLIENT_DEFAULT_URL ")\n"
                 "  --token TOKEN     an API key with runs:read (default: $SYNCRUN_TOKEN)\n"
                 "  -h, --help        show this help\n"
                 "\n"
                 "exit codes: 0 printed, 1 refused (no such run, bad token), 2 bad usage,\n"
                 "4 the server could not be reached.\n");
}

int cmd_runs_log(int argc, char **argv)
{
    static const struct option options[] = {
        {"url", required_argument, NULL, 'u'},
        {"token", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "runs log", *url = NULL, *token = NULL;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case 'u':
            url = optarg;
            break;
        case 't':
            token = optarg;
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
    const char *run_arg;
    if (cli_id_argument(cmd, argc, argv, optind, "RUN", &run_arg) != 0)
        return 2;
    client_t *cl = client_new(cmd, url, token);
    if (cl == NULL)
        return 2;
    char path[128];
    snprintf(path, sizeof(path), "/v1/runs/%s/log", run_arg);
    client_set_limits(cl, 120, CLIENT_LOG_MAX);
    client_resp_t r;
    client_err_t e = client_request(cl, "GET", path, NULL, 0, NULL, NULL, &r);
    int rc;
    if (e != CLIENT_OK) {
        rc = client_report(cmd, e, &r);
    } else {
        rc = r.len > 0 && fwrite(r.body, 1, r.len, stdout) != r.len;
        if (rc)
            fprintf(stderr, "syncrun %s: cannot write to standard output\n", cmd);
        else
            rc = cli_flush_stdout(cmd);
        if (r.dropped > 0)
            fprintf(stderr,
                    "syncrun %s: the log keeps the run's last %zu bytes; %" PRId64 " earlier bytes were dropped\n", cmd,
                    r.len, r.dropped);
    }
    client_resp_release(&r);
    client_free(cl);
    return rc;
}
