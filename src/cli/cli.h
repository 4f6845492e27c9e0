/* Subcommands of the `syncrun` binary, one file each (like git's builtin/), and the helpers they
 * share (common.c). Each subcommand takes the arguments after its name (argv[0] is the subcommand)
 * and returns the process exit code: 0 success, 1 failure of the operation, 2 bad usage.
 *
 * Helpers that take `cmd` print their messages as "syncrun <cmd>: ...", cmd being the subcommand
 * as typed ("init", "key list"); its first word names the help to point at ("syncrun key --help"). */
#ifndef SYNCRUN_CLI_CLI_H
#define SYNCRUN_CLI_CLI_H

#include <stdio.h>

#include <jansson.h>

#include "api/input.h"
#include "store/store.h"

int cmd_init(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_workspace(int argc, char **argv);
int cmd_key(int argc, char **argv);
int cmd_connection(int argc, char **argv);
int cmd_runs(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_webhook(int argc, char **argv);
/* Client commands: they talk HTTP to a running server (client.h), not to the database. */
int cmd_trigger(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_runs_watch(int argc, char **argv); /* `runs watch`, dispatched by cmd_runs */
int cmd_runs_log(int argc, char **argv);   /* `runs log` */

typedef struct client client_t;
/* Follows run `run` (an id or UUID) to its end with the long-poll, printing a line (or, with json,
 * the run's JSON) per change; first, when not NULL, is the run as already read (borrowed). Returns
 * 0 when it finished with success or partial, 1 otherwise or when refused, 4 when unreachable. */
int cli_watch_run(client_t *c, const char *cmd, const char *run, json_t *first, int json);
/* The exit code of a finished run's result: 0 for success and partial, else 1. */
int cli_watch_exit_code(const char *result);

/* Names and other short texts the CLI accepts: at most this many bytes, as the API. */
enum { CLI_NAME_MAX = IN_NAME_MAX };

/* The database path: --db, else $SYNCRUN_DB, else ./syncrun.db. */
const char *cli_default_db(void);
/* Opens (creating if needed) the store at path, printing a message that says what to do on
 * failure. NULL on failure. */
store_t *cli_open_store(const char *path);
/* Opens the store at path but refuses to create it, since a mistyped path must not become an
 * empty database. NULL, with a message, on failure. */
store_t *cli_open_existing_store(const char *cmd, const char *path);

/* Resolves --workspace: when *ws is 0 (not given) fills it with the database's only workspace;
 * then checks that workspace *ws exists. Returns 0, 1 (no such workspace, or a read failed) or 2
 * (several workspaces and no --workspace), having printed a message when not 0. */
int cli_resolve_workspace(store_t *s, const char *cmd, const char *path, int64_t *ws);
/* Finds connection `arg` (an integer id or a UUID) of workspace ws. Returns 0, or 1 after printing
 * why not (no such connection, or a read failed). */
int cli_find_connection(store_reader_t *r, const char *cmd, int64_t ws, const char *arg, arena_t *a, connection_t *out);
/* The one positional argument left at argv[optind]: an id or UUID of a `what` ("RUN",
 * "CONNECTION"). Sets *out and returns 0, or returns 2 after a usage error. */
int cli_id_argument(const char *cmd, int argc, char **argv, int first, const char *what, const char **out);
/* Parses a --workspace value into *ws; 0, or 2 after a usage error. */
int cli_parse_workspace(const char *cmd, const char *arg, int64_t *ws);

/* Prints "syncrun <cmd>: <message>" and where to find help on stderr; returns 2 (bad usage). */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A subcommand of a command group ("key create", "runs list"). */
typedef struct cli_subcommand {
    const char *name;
    int (*fn)(int argc, char **argv);
} cli_subcommand_t;

typedef struct cli_command cli_command_t;
/* Runs the subcommand argv[1] of `group` (argv[0]), or prints help's usage (opts.h; for --help: to
 * stdout, exit 0) or a message naming the subcommands (exit 2). subs ends with {NULL, NULL}. */
int cli_dispatch(const char *group, const cli_subcommand_t *subs, const cli_command_t *help, int argc, char **argv);

/* 1 when arg asks for help: --help, -h or help. */
int cli_is_help(const char *arg);
/* 1 when s is valid UTF-8, as every string the APIs render must be. */
int cli_is_utf8(const char *s);

/* Flushes stdout; 0, or 1 with a message when the output could not be written. */
int cli_flush_stdout(const char *cmd);
/* Prints v (consumed; NULL counts as out of memory) as one line of compact JSON; 0, or 1 with a
 * message on failure. */
int cli_print_json(const char *cmd, json_t *v);

/* Shows a workspace that w (OP_WORKSPACE_CREATE, done) created in db, and its admin token,
 * which the database keeps only as a hash: as text, or as {"workspace_id":N,"token":"..."}.
 * 0, or 1 with a message saying how to replace the token that was not shown. */
int cli_print_workspace_created(const char *cmd, const store_write_t *w, const char *name, const char *db, int json);

#endif
