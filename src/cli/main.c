/* syncrun: git-style dispatch to the subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
} commands[] = {
    {"init", cmd_init, "create a database, a workspace and its first admin key"},
    {"serve", cmd_serve, "serve the HTTP APIs (--demo fills an empty database with sample data)"},
    {"workspace", cmd_workspace, "add a workspace to an existing database; show or set its retention"},
    {"key", cmd_key, "create and list API keys"},
    {"connection", cmd_connection, "create and list connections"},
    {"webhook", cmd_webhook, "add, list and remove webhooks; show their deliveries"},
    {"runs", cmd_runs, "list a connection's runs; watch a run, print its log (over HTTP)"},
    {"trigger", cmd_trigger, "trigger a run of a connection through the server (--wait follows it)"},
    {"exec", cmd_exec, "run a command here and record it as a run of a connection"},
    {"import", cmd_import, "import a vendor's run history (census, braze, blueconic, itwin)"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: syncrun <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].help);
    fprintf(out, "\nRun 'syncrun <command> --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "syncrun: '%s' is not a command.\n\n", argv[1]);
    usage(stderr);
    return 2;
}
