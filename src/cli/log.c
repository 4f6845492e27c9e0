/* `syncrun runs log RUN`: prints the kept log of a run (GET /v1/runs/{id}/log) as it is. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "cli/client.h"

static const cli_opt_t log_opts[] = {
    CLI_OPT_URL_ENTRY,
    CLI_OPT_TOKEN_ENTRY("runs:read"),
    CLI_OPT_END,
};

static const cli_command_t log_command = {
    "runs log",
    NULL,
    "usage: syncrun runs log RUN [--url URL] [--token TOKEN]\n"
    "\n"
    "Prints the log the server keeps of a run (its output's last bytes, up to the\n"
    "connection's log_max_bytes). A note on stderr says when earlier bytes were dropped.\n",
    "exit codes: 0 printed, 1 refused (no such run, bad token), 2 bad usage,\n"
    "4 the server could not be reached.\n",
    log_opts,
};

int cmd_runs_log(int argc, char **argv)
{
    const char *cmd = "runs log";
    cli_opts_t p;
    int c;
    cli_opts_init(&p, &log_command, 0, cmd, argc, argv);
    while ((c = cli_opts_next(&p)) > 0)
        ; /* only common options */
    if (c < 0)
        return p.exit_code;
    const char *url = p.common.url, *token = p.common.token;
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
