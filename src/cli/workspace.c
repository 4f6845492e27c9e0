/* `syncrun workspace create`: adds a workspace, with its own admin key, to an existing database.
 * `syncrun workspace retention`: shows or sets a workspace's retention policy. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "cli/table.h"

enum { WS_CREATE, WS_RETENTION }; /* ws_subs' order */
static const char *const ws_subs[] = {"create", "retention", NULL};
enum { OPT_DAYS = 'D', OPT_KEEP_LAST = 'k', OPT_FAILURE_DAYS = 'f', ONLY_RETENTION = 1u << WS_RETENTION };

static const cli_opt_t ws_opts[] = {
    {OPT_DAYS, ONLY_RETENTION, "days", "N", "retention: keep runs N days (1-36500), or none: no age limit"},
    {OPT_KEEP_LAST, ONLY_RETENTION, "keep-last", "N",
     "retention: keep each connection's newest N runs, or none: no count limit"},
    {OPT_FAILURE_DAYS, ONLY_RETENTION, "failure-days", "N",
     "retention: keep error, config_error and timed_out runs N days\n"
     "(when longer than --days), or none"},
    CLI_OPT_WORKSPACE_ENTRY(ONLY_RETENTION),
    CLI_OPT_DB_ENTRY(0),
    CLI_OPT_JSON_ENTRY(0, "print {\"workspace_id\":N,\"token\":\"...\"} instead of text (retention: the\n"
                          "policy as {\"days\":N,\"keep_last\":N,\"failure_days\":N}, null for none)"),
    CLI_OPT_END,
};

static const cli_command_t ws_command = {
    "workspace",
    ws_subs,
    "usage: syncrun workspace create NAME [--db PATH] [--json]\n"
    "       syncrun workspace retention [--days N|none] [--keep-last N|none] [--failure-days N|none]\n"
    "                 [--workspace ID] [--db PATH] [--json]\n"
    "\n"
    "retention shows the workspace's retention policy, or sets the limits given (none clears\n"
    "one). Default: none, everything is kept. A running server prunes in the background\n"
    "(serve --prune-interval); connections override with retention_* fields (the API).\n"
    "\n"
    "Adds a workspace to an existing database, with an admin API key of its own, and\n"
    "prints the key's token. The token is shown only once. Workspaces share nothing:\n"
    "a key of one cannot see the connections and runs of another.\n",
    NULL,
    ws_opts,
};

static int workspace_create(int argc, char **argv)
{
    const char *cmd = "workspace create";
    cli_opts_t p;
    int c;
    cli_opts_init(&p, &ws_command, WS_CREATE, cmd, argc, argv);
    while ((c = cli_opts_next(&p)) > 0)
        ; /* create has only common options */
    if (c < 0)
        return p.exit_code;
    const char *db = p.common.db;
    int json = p.common.json;
    if (optind >= argc)
        return cli_usage_error(cmd, "the workspace NAME is missing");
    if (optind + 1 < argc)
        return cli_usage_error(cmd, "unexpected argument '%s' (quote a NAME that has spaces)", argv[optind + 1]);
    const char *name = argv[optind];
    size_t namelen = strlen(name);
    if (namelen == 0 || namelen > CLI_NAME_MAX || !cli_is_utf8(name))
        return cli_usage_error(cmd, "NAME must be UTF-8 text of 1 to %d bytes", CLI_NAME_MAX);
    store_t *s = cli_open_existing_store(cmd, db);
    if (s == NULL)
        return 1;
    int rc = 1;
    store_write_t w;
    memset(&w, 0, sizeof(w));
    w.op = OP_WORKSPACE_CREATE;
    w.name = name;
    w.key_scope = SCOPE_ADMIN;
    store_err_t err = store_exec(s, &w);
    if (err != STORE_OK) {
        fprintf(stderr, "syncrun %s: cannot create the workspace: %s%s%s\n", cmd, store_strerror(err),
                w.err_field != NULL ? " in " : "", w.err_field != NULL ? w.err_field : "");
        goto out;
    }
    rc = cli_print_workspace_created(cmd, &w, name, db, json);

out:
    store_write_release(&w);
    store_close(s);
    return rc;
}

/* Parses a retention limit: "none" (0) or an integer from 1 to max. */
static int parse_limit(const char *cmd, const char *opt, const char *v, int64_t max, int64_t *out)
{
    if (strcmp(v, "none") == 0) {
        *out = 0;
        return 0;
    }
    if (ids_parse_i64(v, strlen(v), 1, max, out) != 0)
        return cli_usage_error(cmd, "--%s must be none or an integer from 1 to %" PRId64 ", not '%s'", opt, max, v);
    return 0;
}

static int print_retention(const char *cmd, const retention_t *p, int json)
{
    const int64_t v[3] = {p->days, p->keep_last, p->failure_days};
    static const char *const names[3] = {"days", "keep_last", "failure_days"};
    if (json) {
        json_t *o = json_object();
        for (int i = 0; i < 3; i++)
            json_object_set_new(o, names[i], v[i] > 0 ? json_integer(v[i]) : json_null());
        return cli_print_json(cmd, o);
    }
    static const char *const headers[] = {"LIMIT", "VALUE"};
    table_t *t = table_new(2, headers);
    for (int i = 0; i < 3; i++) {
        char val[32] = "none";
        if (v[i] > 0)
            snprintf(val, sizeof(val), "%" PRId64, v[i]);
        const char *cells[] = {names[i], val};
        table_add_row(t, cells);
    }
    table_print(t, stdout);
    table_free(t);
    if (!retention_active(p))
        printf("\nNo age or count limit: every run is kept.\n");
    return cli_flush_stdout(cmd);
}

static int workspace_retention(int argc, char **argv)
{
    const char *cmd = "workspace retention";
    cli_opts_t o;
    int c;
    store_write_t w;
    memset(&w, 0, sizeof(w));
    w.op = OP_WORKSPACE_RETENTION;
    cli_opts_init(&o, &ws_command, WS_RETENTION, cmd, argc, argv);
    while ((c = cli_opts_next(&o)) > 0) {
        switch (c) {
        case OPT_DAYS:
            if (parse_limit(cmd, "days", o.arg, RETENTION_DAYS_MAX, &w.retention.days) != 0)
                return 2;
            w.mask |= CONN_F_RET_DAYS;
            break;
        case OPT_KEEP_LAST:
            if (parse_limit(cmd, "keep-last", o.arg, RETENTION_KEEP_LAST_MAX, &w.retention.keep_last) != 0)
                return 2;
            w.mask |= CONN_F_RET_KEEP_LAST;
            break;
        default: /* OPT_FAILURE_DAYS */
            if (parse_limit(cmd, "failure-days", o.arg, RETENTION_DAYS_MAX, &w.retention.failure_days) != 0)
                return 2;
            w.mask |= CONN_F_RET_FAILURE_DAYS;
            break;
        }
    }
    if (c < 0)
        return o.exit_code;
    const char *db = o.common.db;
    int64_t ws = o.common.workspace;
    int json = o.common.json;
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    store_t *s = cli_open_existing_store(cmd, db);
    if (s == NULL)
        return 1;
    arena_t a = ARENA_INIT;
    store_reader_t *r = NULL;
    int rc = cli_resolve_workspace(s, cmd, db, &ws);
    if (rc != 0)
        goto out;
    rc = 1;
    w.workspace_id = ws;
    retention_t p;
    if (w.mask != 0) {
        store_err_t err = store_exec(s, &w);
        if (err != STORE_OK) {
            fprintf(stderr, "syncrun %s: cannot set the retention policy: %s\n", cmd, store_strerror(err));
            goto out;
        }
        p = w.retention;
    } else {
        workspace_t wsp;
        r = store_reader_open(s);
        if (r == NULL || store_workspace_get(r, ws, &a, &wsp) != STORE_OK) {
            fprintf(stderr, "syncrun %s: cannot read workspace %" PRId64 " of %s\n", cmd, ws, db);
            goto out;
        }
        p = wsp.retention;
    }
    rc = print_retention(cmd, &p, json);

out:
    if (r != NULL)
        store_reader_close(r);
    store_write_release(&w);
    arena_release(&a);
    store_close(s);
    return rc;
}

int cmd_workspace(int argc, char **argv)
{
    static const cli_subcommand_t subs[] = {
        {"create", workspace_create},
        {"retention", workspace_retention},
        {NULL, NULL},
    };
    return cli_dispatch("workspace", subs, &ws_command, argc, argv);
}
