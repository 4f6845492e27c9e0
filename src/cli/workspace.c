/* `syncrun workspace create`: adds a workspace, with its own admin key, to an existing database. */
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"

enum { NAME_MAX_LEN = 200 };

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

/* Prints "syncrun workspace create: <message>" and where to find help on stderr; returns 2. */
static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("syncrun workspace create: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\nRun 'syncrun workspace --help' for usage.\n", stderr);
    va_end(ap);
    return 2;
}

/* Prints v (consumed) as one line of compact JSON; 0, or 1 with a message on failure. */
static int print_json(json_t *v)
{
    char *text = v != NULL ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    if (text == NULL) {
        fprintf(stderr, "syncrun workspace: out of memory rendering JSON\n");
        return 1;
    }
    int failed = puts(text) == EOF || fflush(stdout) == EOF;
    free(text);
    if (failed)
        fprintf(stderr, "syncrun workspace: cannot write to standard output\n");
    return failed;
}

/* 1 when s is valid UTF-8, as every string the APIs render must be. */
static int is_utf8(const char *s)
{
    json_t *j = json_string(s);
    json_decref(j);
    return j != NULL;
}

/* Shows the new workspace and its admin token, which the database keeps only as a hash. */
static int print_created(const store_write_t *w, const char *name, const char *db, int json)
{
    int failed;
    if (json) {
        failed = print_json(json_pack("{s:I,s:s}", "workspace_id", (json_int_t)w->workspace_id, "token", w->token));
        goto out;
    }
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
    failed = fflush(stdout) == EOF;
    if (failed)
        fprintf(stderr, "syncrun workspace: cannot write to standard output\n");
out:
    if (failed)
        fprintf(stderr,
                "syncrun workspace: workspace %" PRId64
                " was created, but its admin token was not shown and cannot be\n"
                "recovered; create another admin key with: syncrun key create --scope admin --workspace %" PRId64
                " --db %s\n",
                w->workspace_id, w->workspace_id, db);
    return failed;
}

static int workspace_create(int argc, char **argv)
{
    static const struct option options[] = {
        {"db", required_argument, NULL, 'd'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = cli_default_db();
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
            return usage_error("option '%s' needs a value", argv[optind - 1]);
        default:
            return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return usage_error("the workspace NAME is missing");
    if (optind + 1 < argc)
        return usage_error("unexpected argument '%s' (quote a NAME that has spaces)", argv[optind + 1]);
    const char *name = argv[optind];
    size_t namelen = strlen(name);
    if (namelen == 0 || namelen > NAME_MAX_LEN || !is_utf8(name))
        return usage_error("NAME must be UTF-8 text of 1 to %d bytes", NAME_MAX_LEN);
    if (*db == '\0')
        return usage_error("--db must not be empty");
    /* store_open would create a missing file: a mistyped path must not become a new database */
    if (access(db, F_OK) != 0) {
        fprintf(stderr, "syncrun workspace create: no database at %s; create one with 'syncrun init --db %s'\n", db,
                db);
        return 1;
    }

    store_t *s = cli_open_store(db);
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
        fprintf(stderr, "syncrun workspace create: cannot create the workspace: %s%s%s\n", store_strerror(err),
                w.err_field != NULL ? " in " : "", w.err_field != NULL ? w.err_field : "");
        goto out;
    }
    rc = print_created(&w, name, db, json);

out:
    store_write_release(&w);
    store_close(s);
    return rc;
}

int cmd_workspace(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "create") == 0)
        return workspace_create(argc - 1, argv + 1);
    if (argc < 2)
        fprintf(stderr, "syncrun workspace: a subcommand is missing.\n");
    else
        fprintf(stderr, "syncrun workspace: '%s' is not a workspace subcommand.\n", argv[1]);
    fprintf(stderr, "Run 'syncrun workspace create NAME', or 'syncrun workspace --help' for usage.\n");
    return 2;
}
