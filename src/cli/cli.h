/* Subcommands of the `syncrun` binary, one file each (like git's builtin/). Each takes the
 * arguments after its name (argv[0] is the subcommand) and returns the process exit code:
 * 0 success, 1 failure of the operation, 2 bad usage. */
#ifndef SYNCRUN_CLI_CLI_H
#define SYNCRUN_CLI_CLI_H

#include <stdio.h>

#include "store/store.h"

int cmd_init(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_workspace(int argc, char **argv);
int cmd_key(int argc, char **argv);
int cmd_connection(int argc, char **argv);
int cmd_runs(int argc, char **argv);

/* The database path: --db, else $SYNCRUN_DB, else ./syncrun.db. */
const char *cli_default_db(void);
/* Opens the store at path, printing a message that says what to do on failure. NULL on failure. */
store_t *cli_open_store(const char *path);

#endif
