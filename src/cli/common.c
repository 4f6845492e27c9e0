/* What every subcommand shares: opening the database, resolving --workspace, usage errors and
 * writing to stdout, so that they all behave and word their messages alike. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/opts.h"

const char *cli_default_db(void)
{
    const char *env = getenv("SYNCRUN_DB");
    return env != NULL && *env != '\0' ? env : "./syncrun.db";
}

store_t *cli_open_store(const char *path)
{
    char err[256];
    store_t *s = NULL;
    if (store_open(path, &s, err, sizeof(err)) != 0) {
        fprintf(stderr, "syncrun: cannot open database %s: %s\n", path, err);
        return NULL;
    }
    return s;
}

store_t *cli_open_existing_store(const char *cmd, const char *path)
{
    /* store_open would create a missing file */
    if (access(path, F_OK) != 0) {
        fprintf(stderr, "syncrun %s: no database at %s; create one with 'syncrun init --db %s'\n", cmd, path, path);
        return NULL;
    }
    return cli_open_store(path);
}

int cli_resolve_workspace(store_t *s, const char *cmd, const char *path, int64_t *ws)
{
    if (*ws == 0) {
        int64_t n = store_workspace_count(s);
        if (n > 1)
            return cli_usage_error(cmd, "--workspace is required: %s has %" PRId64 " workspaces", path, n);
        if (n == 0) {
            fprintf(stderr, "syncrun %s: %s has no workspace; create one with 'syncrun init --db %s'\n", cmd, path,
                    path);
            return 1;
        }
        if (n < 0) {
            fprintf(stderr, "syncrun %s: cannot count the workspaces of %s; see the log above\n", cmd, path);
            return 1;
        }
        *ws = 1; /* workspaces are never deleted, so the only one is the first */
    }

    arena_t a = ARENA_INIT;
    workspace_t w;
    store_reader_t *r = store_reader_open(s);
    store_err_t err = r != NULL ? store_workspace_get(r, *ws, &a, &w) : STORE_ERROR;
    store_reader_close(r);
    arena_release(&a);
    if (err == STORE_NOT_FOUND) {
        fprintf(stderr,
                "syncrun %s: %s has no workspace %" PRId64 "; add one with 'syncrun workspace create NAME --db %s'\n",
                cmd, path, *ws, path);
        return 1;
    }
    if (err != STORE_OK) {
        fprintf(stderr, "syncrun %s: cannot read workspace %" PRId64 " of %s: %s\n", cmd, *ws, path,
                store_strerror(err));
        return 1;
    }
    return 0;
}

int cli_parse_workspace(const char *cmd, const char *arg, int64_t *ws)
{
    if (ids_parse_i64(arg, strlen(arg), 1, INT64_MAX, ws) != 0)
        return cli_usage_error(cmd, "--workspace must be a workspace id (a positive integer), not '%s'", arg);
    return 0;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "syncrun %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nRun 'syncrun %.*s --help' for usage.\n", (int)strcspn(cmd, " "), cmd);
    va_end(ap);
    return 2;
}

int cli_is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0 || strcmp(arg, "help") == 0;
}

int cli_is_utf8(const char *s)
{
    json_t *j = json_string(s);
    json_decref(j);
    return j != NULL;
}

int cli_flush_stdout(const char *cmd)
{
    if (fflush(stdout) != EOF)
        return 0;
    fprintf(stderr, "syncrun %s: cannot write to standard output\n", cmd);
    return 1;
}

int cli_print_json(const char *cmd, json_t *v)
{
    char *text = v != NULL ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    if (text == NULL) {
        fprintf(stderr, "syncrun %s: out of memory rendering JSON\n", cmd);
        return 1;
    }
    int failed = puts(text) == EOF;
    free(text);
    if (failed) {
        fprintf(stderr, "syncrun %s: cannot write to standard output\n", cmd);
        return 1;
    }
    return cli_flush_stdout(cmd);
}

int cli_print_workspace_created(const char *cmd, const store_write_t *w, const char *name, const char *db, int json)
{
    int failed;
    if (json) {
        failed =
            cli_print_json(cmd, json_pack("{s:I,s:s}", "workspace_id", (json_int_t)w->workspace_id, "token", w->token));
    } else {
        printf("Created workspace %" PRId64 " \"%s\" (%s) in %s.\n"
               "\n"
               "Its admin API key is below. It is shown only this once and cannot be recovered,\n"
               "so store it now (a lost key is replaced with 'syncrun key create --scope admin'):\n"
               "\n"
               "    %s\n"
               "\n"
               "Send it as a bearer token to the server that 'syncrun serve' starts:\n"
               "\n"
               "    curl -H \"Authorization: Bearer %s\" http://127.0.0.1:8080/v1/connections\n",
               w->workspace_id, name, w->workspace_uuid, db, w->token, w->token);
        failed = cli_flush_stdout(cmd);
    }
    if (failed)
        fprintf(stderr,
                "syncrun %s: workspace %" PRId64 " was created, but its admin token was not shown and cannot be\n"
                "recovered; create another admin key with: syncrun key create --scope admin --workspace %" PRId64
                " --db %s\n",
                cmd, w->workspace_id, w->workspace_id, db);
    return failed;
}

int cli_find_connection(store_reader_t *r, const char *cmd, int64_t ws, const char *arg, arena_t *a, connection_t *out)
{
    int64_t id = 0;
    store_err_t err = STORE_NOT_FOUND;
    if (ids_is_uuid(arg))
        err = store_connection_get_uuid(r, ws, arg, a, out);
    else if (ids_parse_i64(arg, strlen(arg), 1, INT64_MAX, &id) == 0)
        err = store_connection_get(r, ws, id, a, out);
    if (err == STORE_NOT_FOUND) {
        fprintf(stderr, "syncrun %s: workspace %" PRId64 " has no connection %s; see 'syncrun connection list'\n", cmd,
                ws, arg);
        return 1;
    }
    if (err != STORE_OK) {
        fprintf(stderr, "syncrun %s: cannot read connection %s: %s\n", cmd, arg, store_strerror(err));
        return 1;
    }
    return 0;
}

int cli_dispatch(const char *group, const cli_subcommand_t *subs, const cli_command_t *help, int argc, char **argv)
{
    if (argc >= 2 && cli_is_help(argv[1])) {
        cli_opts_usage(help, stdout);
        return 0;
    }
    for (const cli_subcommand_t *s = subs; argc >= 2 && s->name != NULL; s++)
        if (strcmp(argv[1], s->name) == 0)
            return s->fn(argc - 1, argv + 1);
    if (argc < 2)
        fprintf(stderr, "syncrun %s: a subcommand is missing.\n", group);
    else
        fprintf(stderr, "syncrun %s: '%s' is not a %s subcommand.\n", group, argv[1], group);
    fprintf(stderr, "Subcommands:");
    for (const cli_subcommand_t *s = subs; s->name != NULL; s++)
        fprintf(stderr, " %s", s->name);
    fprintf(stderr, ". Run 'syncrun %s --help' for usage.\n", group);
    return 2;
}

int cli_id_argument(const char *cmd, int argc, char **argv, int first, const char *what, const char **out)
{
    if (first >= argc)
        return cli_usage_error(cmd, "%s is missing: give its id or UUID", what);
    if (first + 1 < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[first + 1]);
    if (!client_valid_id(argv[first]))
        return cli_usage_error(cmd, "%s must be an id (a positive integer) or a UUID, not '%s'", what, argv[first]);
    *out = argv[first];
    return 0;
}
