/* `syncrun workspace create`: adds a workspace, with its own admin key, to an existing database. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: syncrun workspace create NAME [--db PATH] [--json]\n"
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

int cmd_workspace(int argc, char **argv)
{
    static const cli_subcommand_t subs[] = {
        {"create", workspace_create},
        {NULL, NULL},
    };
    return cli_dispatch("workspace", subs, usage, argc, argv);
}
