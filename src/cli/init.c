/* `syncrun init`: creates the database, its first workspace and that workspace's admin key. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/opts.h"

enum { OPT_NAME = 'n' };

static const cli_opt_t init_opts[] = {
    CLI_OPT_DB_ENTRY(0),
    {OPT_NAME, 0, "name", "NAME", "workspace name, 1-200 bytes (default: default)"},
    CLI_OPT_JSON_ENTRY(0, "print {\"workspace_id\":N,\"token\":\"...\"} instead of text"),
    CLI_OPT_END,
};

static const cli_command_t init_command = {
    "init",
    NULL,
    "usage: syncrun init [--db PATH] [--name NAME] [--json]\n"
    "\n"
    "Creates the database (when it does not exist), its first workspace and the\n"
    "workspace's admin API key, and prints the key's token. The token is shown only once.\n"
    "To add a workspace to a database that has one, use 'syncrun workspace create'.\n",
    NULL,
    init_opts,
};

int cmd_init(int argc, char **argv)
{
    const char *cmd = "init", *name = "default";
    cli_opts_t p;
    int c;
    cli_opts_init(&p, &init_command, 0, cmd, argc, argv);
    while ((c = cli_opts_next(&p)) > 0)
        if (c == OPT_NAME)
            name = p.arg;
    if (c < 0)
        return p.exit_code;
    const char *db = p.common.db;
    int json = p.common.json;
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
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
