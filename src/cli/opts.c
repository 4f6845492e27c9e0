/* The CLI's option parser and option help, both built from a command's table of cli_opt_t
 * (opts.h), so that what --help lists is what the parser accepts, and every command words its
 * usage errors alike. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/opts.h"

enum {
    OPT_HELP = 'h',
    HELP_NAME_MAX = 20, /* longer "--name VALUE"s push their help to the right of the column */
};

/* The entry of id in cmd's table, or NULL. */
static const cli_opt_t *opt_find(const cli_command_t *cmd, int id)
{
    for (const cli_opt_t *o = cmd->opts; o->name != NULL; o++)
        if (o->id == id)
            return o;
    return NULL;
}

void cli_opts_init(cli_opts_t *p, const cli_command_t *cmd, int sub, const char *as, int argc, char **argv)
{
    memset(p, 0, sizeof(*p));
    p->cmd = cmd;
    p->as = as;
    p->sub = cmd->subs != NULL ? 1u << sub : 0;
    p->argc = argc;
    p->argv = argv;
    p->common.db = cli_default_db();
    size_t n = 0;
    for (const cli_opt_t *o = cmd->opts; o->name != NULL && n < CLI_OPTS_MAX; o++, n++)
        p->longopts[n] = (struct option){o->name, o->value != NULL ? required_argument : no_argument, NULL, o->id};
    p->longopts[n] = (struct option){"help", no_argument, NULL, OPT_HELP};
    opterr = 0;
    optind = 1;
}

/* "'key create'", "'connection create' and 'connection update'": the subcommands of mask. */
static void subs_text(const cli_command_t *cmd, unsigned mask, char *out, size_t n)
{
    size_t len = 0, count = 0, total = 0;
    for (size_t i = 0; cmd->subs[i] != NULL; i++)
        total += (mask >> i) & 1u;
    out[0] = '\0';
    for (size_t i = 0; cmd->subs[i] != NULL && len < n; i++) {
        if (!((mask >> i) & 1u))
            continue;
        count++;
        const char *sep = count == 1 ? "" : count == total ? " and " : ", ";
        int k = snprintf(out + len, n - len, "%s'%s %s'", sep, cmd->name, cmd->subs[i]);
        len += k > 0 ? (size_t)k : 0;
    }
}

/* A usage error that ends the parse: p->exit_code is 2. */
static int opts_fail(cli_opts_t *p)
{
    p->exit_code = 2;
    return -1;
}

/* Handles a common option; 0, or -1 after a usage error. */
static int opts_common(cli_opts_t *p, int id, const char *arg)
{
    switch (id) {
    case CLI_OPT_DB:
        if (*arg == '\0') {
            cli_usage_error(p->as, "--db must not be empty");
            return -1;
        }
        p->common.db = arg;
        return 0;
    case CLI_OPT_WORKSPACE:
        return cli_parse_workspace(p->as, arg, &p->common.workspace) != 0 ? -1 : 0;
    case CLI_OPT_JSON:
        p->common.json = 1;
        return 0;
    case CLI_OPT_URL:
        p->common.url = arg;
        return 0;
    default: /* CLI_OPT_TOKEN */
        p->common.token = arg;
        return 0;
    }
}

int cli_opts_next(cli_opts_t *p)
{
    for (;;) {
        int c = getopt_long(p->argc, p->argv, ":h", p->longopts, NULL);
        const char *given = optind > 0 && optind <= p->argc ? p->argv[optind - 1] : "";
        p->arg = optarg;
        if (c == -1)
            return 0;
        if (c == OPT_HELP) {
            cli_opts_usage(p->cmd, stdout);
            p->exit_code = 0;
            return -1;
        }
        if (c == ':') {
            cli_usage_error(p->as, "option '%s' needs a value", given);
            return opts_fail(p);
        }
        if (c == '?') {
            if (strncmp(given, "--", 2) != 0)
                cli_usage_error(p->as, "unknown option '-%c'", optopt);
            else if (optopt != 0) /* a flag given a value: --json=1 */
                cli_usage_error(p->as, "option '%.*s' takes no value", (int)strcspn(given, "="), given);
            else
                cli_usage_error(p->as, "unknown option '%.*s'", (int)strcspn(given, "="), given);
            return opts_fail(p);
        }
        const cli_opt_t *o = opt_find(p->cmd, c);
        if (o == NULL) { /* not reached: getopt_long returns only the table's ids */
            cli_usage_error(p->as, "unknown option '%s'", given);
            return opts_fail(p);
        }
        if (o->subs != 0 && (o->subs & p->sub) == 0) {
            char subs[256];
            subs_text(p->cmd, o->subs, subs, sizeof(subs));
            cli_usage_error(p->as, "--%s is an option of %s", o->name, subs);
            return opts_fail(p);
        }
        if (c < CLI_OPT_DB)
            return c;
        if (opts_common(p, c, optarg) != 0)
            return opts_fail(p);
    }
}

/* Prints help (a '\n' in it starts a line) with its continuation lines indented to col. */
static void print_help_lines(FILE *out, const char *help, int col)
{
    for (const char *line = help;;) {
        size_t n = strcspn(line, "\n");
        fprintf(out, "%.*s\n", (int)n, line);
        if (line[n] == '\0')
            break;
        line += n + 1;
        fprintf(out, "%*s", col, "");
    }
}

void cli_opts_usage(const cli_command_t *cmd, FILE *out)
{
    char name[64];
    int width = (int)strlen("-h, --help");
    for (const cli_opt_t *o = cmd->opts; o->name != NULL; o++) {
        int k = snprintf(name, sizeof(name), "--%s%s%s", o->name, o->value != NULL ? " " : "",
                         o->value != NULL ? o->value : "");
        if (k > width && k <= HELP_NAME_MAX)
            width = k;
    }
    int col = 2 + width + 2;
    fprintf(out, "%s\noptions:\n", cmd->head);
    for (const cli_opt_t *o = cmd->opts; o->name != NULL; o++) {
        int k = snprintf(name, sizeof(name), "--%s%s%s", o->name, o->value != NULL ? " " : "",
                         o->value != NULL ? o->value : "");
        fprintf(out, "  %-*s  ", k > width ? k : width, name);
        print_help_lines(out, o->help, col);
    }
    fprintf(out, "  %-*s  show this help\n", width, "-h, --help");
    if (cmd->tail != NULL)
        fprintf(out, "\n%s", cmd->tail);
}
