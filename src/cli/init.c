/* `syncrun init`: creates the database, its first workspace and that workspace's admin key. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: syncrun init [--db PATH] [--name NAME] [--json]\n"
                 "\n"
                 "Creates the database (when it does not exist), its first workspace and the\n"
                 "workspace's admin API key, and prints the key's token. The token is shown only once.\n"
                 "To add a workspace to a database that has one, use 'syncrun workspace create'.\n"
                 "\n"
                 "options:\n"
                 "  --db PATH     database file (default: $SYNCRUN_DB, else ./syncrun.db)\n"
                 "  --name NAME   workspace name, 1-200 bytes (default: default)\n"
                 "  --json        print {\"workspace_id\":N,\"token\":\"...\"} instead of text\n"
                 "  -h, --help    show this help\n");
}

int cmd_init(int argc, char **argv)
{
    static const struct option options[] = {
        {"db", required_argument, NULL, 'd'},
        {"name", required_argument, NULL, 'n'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "init", *db = cli_default_db(), *name = "default";
    int json = 0, c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'n':
            name = optarg;
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
    size_t namelen = strlen(name);
    if (namelen == 0 || namelen > CLI_NAME_MAX || !cli_is_utf8(name))
        return cli_usage_error(cmd, "--name must be UTF-8 text of 1 to %d bytes", CLI_NAME_MAX);

    store_t *s = cli_open_store(db);
    if (s == NULL)
        return 1;

    int rc = 1;
    store_write_t w;
    memset(&w, 0, sizeof(w));
    int64_t n = store_workspace_count(s);
    if (n < 0) {
        fprintf(stderr, "syncrun init: cannot count the workspaces of %s; see the log above\n", db);
        goto out;
    }
    if (n > 0) {
        fprintf(stderr,
                "syncrun init: %s is already initialised (it has %" PRId64 " workspace%s).\n"
                "To add a workspace, run: syncrun workspace create NAME --db %s\n",
                db, n, n == 1 ? "" : "s", db);
        goto out;
    }

    w.op = OP_WORKSPACE_CREATE;
    w.name = name;
    w.key_scope = SCOPE_ADMIN;
    store_err_t err = store_exec(s, &w);
    if (err != STORE_OK) {
        fprintf(stderr, "syncrun init: cannot create the workspace: %s%s%s\n", store_strerror(err),
                w.err_field != NULL ? " in " : "", w.err_field != NULL ? w.err_field : "");
        goto out;
    }
    rc = cli_print_workspace_created(cmd, &w, name, db, json);

out:
    store_write_release(&w);
    store_close(s);
    return rc;
}
