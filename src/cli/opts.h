/* The CLI's options, from one table per command (git's parse-options): the table builds both the
 * getopt_long parser and the option list of the command's --help, and the options every command
 * shares (--db, --workspace, --json, --url, --token) are declared once, here, and parsed here. */
#ifndef SYNCRUN_CLI_OPTS_H
#define SYNCRUN_CLI_OPTS_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "cli/client.h"

/* Ids of the common options, which cli_opts_next handles itself; a command's own options use
 * ids from 1 to 255 other than 'h' (help), ':' and '?'. */
enum {
    CLI_OPT_DB = 256,
    CLI_OPT_WORKSPACE,
    CLI_OPT_JSON,
    CLI_OPT_URL,
    CLI_OPT_TOKEN,
};

/* One option of a command's table. */
typedef struct cli_opt {
    int id;            /* what cli_opts_next returns for it */
    unsigned subs;     /* bit i: it applies to subcommand i of the command (cli_command_t.subs); 0: to all */
    const char *name;  /* the long name, without "--" */
    const char *value; /* its value's placeholder in the help ("N"), NULL for a flag */
    const char *help;  /* lines the help shows after it; a '\n' starts a line aligned under the first */
} cli_opt_t;

/* clang-format off */
#define CLI_OPT_END {0, 0, NULL, NULL, NULL}

/* The common options, their help said once; subs as in cli_opt_t. --json says what it prints,
 * --token which scope the command needs. */
#define CLI_OPT_DB_ENTRY(subs) \
    {CLI_OPT_DB, subs, "db", "PATH", "database file (default: $SYNCRUN_DB, else ./syncrun.db)"}
#define CLI_OPT_WORKSPACE_ENTRY(subs) \
    {CLI_OPT_WORKSPACE, subs, "workspace", "ID", "the workspace (default: the only one, when the database has one)"}
#define CLI_OPT_JSON_ENTRY(subs, help) {CLI_OPT_JSON, subs, "json", NULL, help}
#define CLI_OPT_URL_ENTRY \
    {CLI_OPT_URL, 0, "url", "URL", "the server (default: $SYNCRUN_URL, else " CLIENT_DEFAULT_URL ")"}
#define CLI_OPT_TOKEN_ENTRY(scope) \
    {CLI_OPT_TOKEN, 0, "token", "TOKEN", "an API key with " scope " (default: $SYNCRUN_TOKEN)"}
/* clang-format on */

/* A command whose subcommands share one table and one help ("key": create, list, revoke), or a
 * command without subcommands (subs NULL). */
typedef struct cli_command {
    const char *name;        /* "key", "runs watch", "serve" */
    const char *const *subs; /* NULL-terminated subcommand names, bit i of cli_opt_t.subs; or NULL */
    const char *head;        /* the synopsis and description, printed before the option list */
    const char *tail;        /* printed after it (exit codes), or NULL */
    const cli_opt_t *opts;   /* ends with CLI_OPT_END; at most CLI_OPTS_MAX entries */
} cli_command_t;

enum { CLI_OPTS_MAX = 32 };

/* What the common options gave. */
typedef struct cli_common {
    const char *db;    /* --db, else $SYNCRUN_DB, else ./syncrun.db; never empty */
    int64_t workspace; /* --workspace, 0 when not given */
    int json;          /* --json */
    const char *url;   /* --url, NULL when not given (client_new's default) */
    const char *token; /* --token, NULL when not given */
} cli_common_t;

typedef struct cli_opts {
    const cli_command_t *cmd;
    const char *as; /* the command as typed, for messages: "key create" */
    unsigned sub;   /* the bit of the subcommand parsed, 0 without subcommands */
    int argc;
    char **argv;
    char *arg;     /* the value of the option cli_opts_next returned (in argv), NULL for a flag */
    int exit_code; /* when cli_opts_next returned -1 */
    cli_common_t common;
    struct option longopts[CLI_OPTS_MAX + 2]; /* built from the table, with --help */
} cli_opts_t;

/* Starts parsing argv (argv[0] is the subcommand or command name, argc counts what may hold
 * options) of cmd, subcommand `sub` (its index in cmd->subs, ignored without subs); `as` is the
 * command as typed, for messages. */
void cli_opts_init(cli_opts_t *p, const cli_command_t *cmd, int sub, const char *as, int argc, char **argv);
/* The id of the next option of the command's own (p->arg holds its value), 0 when the options are
 * done (optind is the first other argument), or -1 when the process should exit with
 * p->exit_code: 0 after printing the help for -h/--help, 2 after a usage error (a missing value,
 * an unknown option, an option of another subcommand, a bad common option). */
int cli_opts_next(cli_opts_t *p);

/* Prints cmd's help: its head, "options:" with a line per option from its table, its tail. */
void cli_opts_usage(const cli_command_t *cmd, FILE *out);

#endif
