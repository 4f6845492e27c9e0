/* `syncrun runs list`: a connection's runs, newest first, as a table or as native API JSON. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "api/render.h"
#include "cli/cli.h"
#include "cli/opts.h"
#include "cli/table.h"
#include "model/expect.h"
#include "util/timeutil.h"

enum {
    LIST_DEFAULT_LIMIT = 20,
    LIST_MAX_LIMIT = 1000,
    LIST_PAGE = 100, /* runs read from the store at a time */
    STEP_MAX_WIDTH = 32,
    TRIGGER_MAX_WIDTH = 20,
};

enum { OPT_STATUS = 's', OPT_SINCE = 'S', OPT_LIMIT = 'l', OPT_FIELDS = 'F' };

static const cli_opt_t list_opts[] = {
    {OPT_STATUS, 0, "status", "STATUS",
     "only runs in this state (queued, working, retrying, finished)\n"
     "or with this result (success, partial, error, config_error,\n"
     "timed_out, canceled, skipped)"},
    {OPT_SINCE, 0, "since", "WHEN",
     "only runs created since WHEN: an ISO 8601 time\n"
     "(2026-11-20T00:00:00Z) or an age such as 30m, 24h, 7d, 2w"},
    {OPT_LIMIT, 0, "limit", "N", "at most N runs, 1-1000 (default 20)"},
    CLI_OPT_WORKSPACE_ENTRY(0),
    CLI_OPT_DB_ENTRY(0),
    CLI_OPT_JSON_ENTRY(0, "print a JSON array of runs, as the native API shows them"),
    {OPT_FIELDS, 0, "fields", "LIST", "with --json: only these fields of each run (e.g. id,state,result)"},
    CLI_OPT_END,
};

/* `syncrun runs --help` shows this one too. */
static const cli_command_t list_command = {
    "runs list",
    NULL,
    "usage: syncrun runs list CONNECTION [--status STATUS] [--since WHEN] [--limit N]\n"
    "                 [--workspace ID] [--db PATH] [--json [--fields F1,F2,...]]\n"
    "\n"
    "Lists the runs of a connection, newest first. CONNECTION is its id or its UUID\n"
    "(see 'syncrun connection list'). STATE shows the result of a finished run; DURATION\n"
    "of a run in progress is its running time so far.\n",
    "Also: 'syncrun runs watch RUN' follows a run to its end and 'syncrun runs log RUN'\n"
    "prints its log, through a running server (see their --help).\n",
    list_opts,
};

/* ms as a short human duration: 45s, 1m12s, 2h5m3s, 3d4h10m. */
static void format_duration(int64_t ms, char *out, size_t n)
{
    int64_t s = ms / 1000, m = s / 60, h = m / 60, d = h / 24;
    if (s < 60)
        snprintf(out, n, "%" PRId64 "s", s);
    else if (m < 60)
        snprintf(out, n, "%" PRId64 "m%" PRId64 "s", m, s % 60);
    else if (h < 24)
        snprintf(out, n, "%" PRId64 "h%" PRId64 "m%" PRId64 "s", h, m % 60, s % 60);
    else
        snprintf(out, n, "%" PRId64 "d%" PRId64 "h%" PRId64 "m", d, h % 24, m % 60);
}

/* How long the run ran: until it finished, or until now while in progress; "-" before it started. */
static const char *run_duration(const run_t *r, int64_t now, char *out, size_t n)
{
    if (r->started_at == 0)
        return "-";
    int64_t end = r->state == RUN_FINISHED ? r->completed_at : now;
    if (end == 0)
        return "-";
    format_duration(end > r->started_at ? end - r->started_at : 0, out, n);
    return out;
}

/* What the expectation checks found about r ("watermark.stalled,run.duration"), or NULL. */
static const char *run_flags(const run_t *r, char *out, size_t n)
{
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < RUN_FLAG_COUNT; i++)
        if ((r->flags & (1u << i)) && len < n) {
            int k = snprintf(out + len, n - len, "%s%s", len > 0 ? "," : "", run_flag_name(i));
            len += k > 0 ? (size_t)k : 0;
        }
    return len > 0 ? out : NULL;
}

/* Adds r as a row of t; 0, or -1 when the table is full. */
static int add_run_row(table_t *t, const run_t *r, int64_t now)
{
    char id[24], count[24], processed[24], failed[24], started[TIME_ISO_LEN], duration[32], flags[96];
    snprintf(id, sizeof(id), "%" PRId64, r->id);
    snprintf(count, sizeof(count), "%" PRId64, r->run_count);
    snprintf(processed, sizeof(processed), "%" PRId64, r->counters[CTR_RECORDS_PROCESSED]);
    snprintf(failed, sizeof(failed), "%" PRId64, r->counters[CTR_RECORDS_FAILED]);
    if (r->started_at != 0)
        time_format_iso(r->started_at, started);
    const char *state = r->state == RUN_FINISHED ? run_result_name(r->result) : run_state_name(r->state);
    const char *cells[] = {id,
                           count,
                           state,
                           r->trigger_tag,
                           r->current_step,
                           processed,
                           failed,
                           r->started_at != 0 ? started : NULL,
                           run_duration(r, now, duration, sizeof(duration)),
                           run_flags(r, flags, sizeof(flags))};
    return table_add_row(t, cells);
}

/* --since: an ISO 8601 time, or an age (N followed by m, h, d or w) before now. */
static int parse_since(const char *s, int64_t now, int64_t *out)
{
    if (time_parse_iso(s, out) == 0)
        return 0;
    size_t n = strlen(s);
    int64_t v, unit;
    if (n < 2 || ids_parse_i64(s, n - 1, 1, 100000, &v) != 0)
        return -1;
    switch (s[n - 1]) {
    case 'm':
        unit = 60000;
        break;
    case 'h':
        unit = 3600000;
        break;
    case 'd':
        unit = 86400000;
        break;
    case 'w':
        unit = 7 * 86400000LL;
        break;
    default:
        return -1;
    }
    *out = now - v * unit;
    return 0;
}

/* Checks a --fields list against the fields a run has; returns 0 or -1 naming the bad one. */
static int check_fields(const char *cmd, const char *list, json_t **fields)
{
    run_t zero;
    memset(&zero, 0, sizeof(zero));
    json_t *all = render_run(&zero);
    *fields = json_array();
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", list);
    int rc = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        if (json_object_get(all, tok) == NULL) {
            const char *k;
            json_t *v;
            fprintf(stderr, "syncrun %s: --fields: a run has no field '%s'; fields:", cmd, tok);
            json_object_foreach(all, k, v) fprintf(stderr, " %s", k);
            fprintf(stderr, "\n");
            rc = -1;
            break;
        }
        json_array_append_new(*fields, json_string(tok));
    }
    if (rc == 0 && json_array_size(*fields) == 0) {
        fprintf(stderr, "syncrun %s: --fields needs at least one field name\n", cmd);
        rc = -1;
    }
    json_decref(all);
    return rc;
}

/* The run as JSON, with only `fields` when given. */
static json_t *run_json(const run_t *r, json_t *fields)
{
    json_t *full = render_run(r);
    if (full == NULL || fields == NULL)
        return full;
    json_t *o = json_object();
    size_t i;
    json_t *f;
    json_array_foreach(fields, i, f)
        json_object_set(o, json_string_value(f), json_object_get(full, json_string_value(f)));
    json_decref(full);
    return o;
}

static int runs_list(int argc, char **argv)
{
    static const char *const headers[] = {"ID",        "#",      "STATE",   "TRIGGER",  "STEP",
                                          "PROCESSED", "FAILED", "STARTED", "DURATION", "FLAGS"};
    const char *cmd = "runs list", *status = NULL, *fields_arg = NULL;
    json_t *fields = NULL;
    int64_t limit = LIST_DEFAULT_LIMIT, conn_id = 0;
    int c;
    run_filter_t f;
    memset(&f, 0, sizeof(f));
    f.state = -1;
    f.result = -1;

    cli_opts_t p;
    cli_opts_init(&p, &list_command, 0, cmd, argc, argv);
    while ((c = cli_opts_next(&p)) > 0) {
        switch (c) {
        case OPT_STATUS:
            status = p.arg;
            f.state = run_state_parse(p.arg);
            f.result = f.state < 0 ? run_result_parse(p.arg) : -1;
            if (f.state < 0 && f.result < 0)
                return cli_usage_error(
                    cmd,
                    "--status must be a state (queued, working, retrying, finished) or a result "
                    "(success, partial, error, config_error, timed_out, canceled, skipped), not '%s'",
                    p.arg);
            break;
        case OPT_LIMIT:
            if (ids_parse_i64(p.arg, strlen(p.arg), 1, LIST_MAX_LIMIT, &limit) != 0)
                return cli_usage_error(cmd, "--limit must be an integer from 1 to %d, not '%s'", LIST_MAX_LIMIT, p.arg);
            break;
        case OPT_SINCE:
            if (parse_since(p.arg, time_now_ms(), &f.since) != 0)
                return cli_usage_error(cmd, "--since must be an ISO 8601 time or an age such as 24h or 7d, not '%s'",
                                       p.arg);
            break;
        default: /* OPT_FIELDS */
            fields_arg = p.arg;
            break;
        }
    }
    if (c < 0)
        return p.exit_code;
    const char *db = p.common.db;
    int64_t ws = p.common.workspace;
    int json = p.common.json;
    if (fields_arg != NULL && !json)
        return cli_usage_error(cmd, "--fields selects fields of the --json output; add --json");
    if (optind >= argc)
        return cli_usage_error(cmd,
                               "CONNECTION is missing: give a connection id or UUID (see 'syncrun connection list')");
    if (optind + 1 < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
    const char *conn_arg = argv[optind];
    int by_uuid = ids_is_uuid(conn_arg);
    if (!by_uuid && ids_parse_i64(conn_arg, strlen(conn_arg), 1, INT64_MAX, &conn_id) != 0)
        return cli_usage_error(cmd, "CONNECTION must be a connection id (a positive integer) or UUID, not '%s'",
                               conn_arg);
    if (fields_arg != NULL && check_fields(cmd, fields_arg, &fields) != 0) {
        json_decref(fields);
        return 2;
    }
    store_t *s = cli_open_existing_store(cmd, db);
    if (s == NULL) {
        json_decref(fields);
        return 1;
    }
    int rc = 1;
    arena_t a = ARENA_INIT;
    store_reader_t *r = NULL;
    table_t *t = NULL;
    json_t *arr = NULL;
    store_err_t err;

    rc = cli_resolve_workspace(s, cmd, db, &ws);
    if (rc != 0)
        goto out;
    rc = 1;
    r = store_reader_open(s);
    if (r == NULL) {
        fprintf(stderr, "syncrun runs list: cannot read %s; see the log above\n", db);
        goto out;
    }
    connection_t conn;
    if (cli_find_connection(r, cmd, ws, conn_arg, &a, &conn) != 0)
        goto out;

    if (json) {
        arr = json_array();
    } else {
        t = table_new(10, headers);
        table_column(t, 0, 0, TABLE_RIGHT);
        table_column(t, 1, 0, TABLE_RIGHT);
        table_column(t, 3, TRIGGER_MAX_WIDTH, TABLE_LEFT);
        table_column(t, 4, STEP_MAX_WIDTH, TABLE_LEFT);
        table_column(t, 5, 0, TABLE_RIGHT);
        table_column(t, 6, 0, TABLE_RIGHT);
    }
    int64_t now = time_now_ms(), got = 0;
    f.asc = 0; /* newest first */
    while (got < limit) {
        run_t *runs = NULL;
        int n = 0;
        f.limit = limit - got < LIST_PAGE ? (int)(limit - got) : LIST_PAGE;
        err = store_run_list(r, ws, conn.id, &f, &a, &runs, &n);
        if (err != STORE_OK) {
            fprintf(stderr, "syncrun runs list: cannot list the runs: %s\n", store_strerror(err));
            goto out;
        }
        for (int i = 0; i < n; i++) {
            if (arr != NULL) {
                json_array_append_new(arr, run_json(&runs[i], fields));
            } else if (add_run_row(t, &runs[i], now) != 0) {
                fprintf(stderr, "syncrun runs list: too many runs to show; lower --limit\n");
                goto out;
            }
        }
        got += n;
        if (n < f.limit)
            break;
        f.after = runs[n - 1].run_count;
    }

    if (arr != NULL) {
        rc = cli_print_json(cmd, arr);
        arr = NULL; /* consumed */
        goto out;
    }
    if (got == 0) {
        fprintf(stderr, "No runs of connection %" PRId64 "%s%s%s.\n", conn.id, status != NULL ? " with status '" : "",
                status != NULL ? status : "", status != NULL ? "'" : "");
        rc = 0;
        goto out;
    }
    table_print(t, stdout);
    rc = cli_flush_stdout(cmd);

out:
    json_decref(fields);
    json_decref(arr);
    table_free(t);
    if (r != NULL)
        store_reader_close(r);
    arena_release(&a);
    store_close(s);
    return rc;
}

int cmd_runs(int argc, char **argv)
{
    static const cli_subcommand_t subs[] = {
        {"list", runs_list},
        {"watch", cmd_runs_watch},
        {"log", cmd_runs_log},
        {NULL, NULL},
    };
    return cli_dispatch("runs", subs, &list_command, argc, argv);
}
