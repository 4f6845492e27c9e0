/* `syncrun workspace create`: adds a workspace, with its own admin key, to an existing database.
 * `syncrun workspace retention`: shows or sets a workspace's retention policy. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/table.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: syncrun workspace create NAME [--db PATH] [--json]\n"
                 "       syncrun workspace retention [--days N|none] [--keep-last N|none] [--failure-days N|none]\n"
                 "                 [--workspace ID] [--db PATH] [--json]\n"
                 "\n"
                 "retention shows the workspace's retention policy, or sets the limits given (none clears\n"
                 "one). Default: none, everything is kept. A running server prunes in the background\n"
                 "(serve --prune-interval); connections override with retention_* fields (the API).\n"
                 "\n"
                 "Adds a workspace to an existing database, with an admin API key of its own, and\n"
                 "prints the key's token. The token is shown only once. Workspaces share nothing:\n"
                 "a key of one cannot see the connections and runs of another.\n"
                 "\n"
                 "options:\n"
                 "  --db PATH     database file (default: $SYNCRUN_DB, else ./syncrun.db)\n"
                 "  --json        print {\"workspace_id\":N,\"token\":\"...\"} instead of text\n"
                 "  -h, --help    show this help\n");
}

static int workspace_create(int argc, char **argv)
{
    static const struct option options[] = {
        {"db", required_argument, NULL, 'd'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "workspace create", *db = cli_default_db();
    int json = 0, c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
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
    if (optind >= argc)
        return cli_usage_error(cmd, "the workspace NAME is missing");
    if (optind + 1 < argc)
        return cli_usage_error(cmd, "unexpected argument '%s' (quote a NAME that has spaces)", argv[optind + 1]);
    const char *name = argv[optind];
    size_t namelen = strlen(name);
    if (namelen == 0 || namelen > CLI_NAME_MAX || !cli_is_utf8(name))
        return cli_usage_error(cmd, "NAME must be UTF-8 text of 1 to %d bytes", CLI_NAME_MAX);
    if (*db == '\0')
        return cli_usage_error(cmd, "--db must not be empty");
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
    static const struct option options[] = {
        {"days", required_argument, NULL, 'D'},
        {"keep-last", required_argument, NULL, 'k'},
        {"failure-days", required_argument, NULL, 'f'},
        {"workspace", required_argument, NULL, 'w'},
        {"db", required_argument, NULL, 'd'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "workspace retention", *db = cli_default_db();
    int json = 0, c;
    int64_t ws = 0;
    store_write_t w;
    memset(&w, 0, sizeof(w));
    w.op = OP_WORKSPACE_RETENTION;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case 'D':
            if (parse_limit(cmd, "days", optarg, RETENTION_DAYS_MAX, &w.retention.days) != 0)
                return 2;
            w.mask |= CONN_F_RET_DAYS;
            break;
        case 'k':
            if (parse_limit(cmd, "keep-last", optarg, RETENTION_KEEP_LAST_MAX, &w.retention.keep_last) != 0)
                return 2;
            w.mask |= CONN_F_RET_KEEP_LAST;
            break;
        case 'f':
            if (parse_limit(cmd, "failure-days", optarg, RETENTION_DAYS_MAX, &w.retention.failure_days) != 0)
                return 2;
            w.mask |= CONN_F_RET_FAILURE_DAYS;
            break;
        case 'w':
            if (cli_parse_workspace(cmd, optarg, &ws) != 0)
                return 2;
            break;
        case 'd':
            db = optarg;
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
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (*db == '\0')
        return cli_usage_error(cmd, "--db must not be empty");
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
    return cli_dispatch("workspace", subs, usage, argc, argv);
}
