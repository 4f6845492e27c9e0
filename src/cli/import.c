/* `syncrun import`: records a vendor's run history (a list response saved as JSON) under a
 * connection, as POST /v1/connections/{id}/runs:import does, through the same parsers. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "api/import.h"
#include "cli/cli.h"
#include "cli/opts.h"

enum { OPT_FORMAT = 'f', OPT_CONNECTION = 'c' };

static const cli_opt_t import_opts[] = {
    {OPT_FORMAT, 0, "format", "FORMAT", "one of census, braze, blueconic, itwin"},
    {OPT_CONNECTION, 0, "connection", "CONNECTION", "the connection the runs are recorded under (an id or UUID)"},
    CLI_OPT_WORKSPACE_ENTRY(0),
    CLI_OPT_DB_ENTRY(0),
    CLI_OPT_JSON_ENTRY(0, "print {\"format\":F,\"imported\":N,\"existing\":N} instead of text"),
    CLI_OPT_END,
};

static const cli_command_t import_command = {
    "import",
    NULL,
    "usage: syncrun import --format FORMAT --connection CONNECTION [--workspace ID] [--db PATH] [--json] FILE\n"
    "\n"
    "Records the runs of FILE, a vendor's run-list response saved as JSON ('-' reads standard input),\n"
    "under CONNECTION (an id or UUID) with their original ids, times, states and counters.\n"
    "Importing the same file again changes nothing. Invalid input records nothing.\n",
    NULL,
    import_opts,
};

int cmd_import(int argc, char **argv)
{
    const char *cmd = "import", *fname = NULL, *conn_arg = NULL;
    cli_opts_t p;
    int c;
    cli_opts_init(&p, &import_command, 0, cmd, argc, argv);
    while ((c = cli_opts_next(&p)) > 0) {
        if (c == OPT_FORMAT)
            fname = p.arg;
        else /* OPT_CONNECTION */
            conn_arg = p.arg;
    }
    if (c < 0)
        return p.exit_code;
    const char *db = p.common.db;
    int64_t ws = p.common.workspace;
    int json = p.common.json;
    const import_format_t *format = import_format_find(fname);
    if (format == NULL)
        return cli_usage_error(cmd, "--format must be one of %s", import_format_names());
    if (conn_arg == NULL)
        return cli_usage_error(cmd, "--connection is missing: give a connection id or UUID");
    if (optind >= argc)
        return cli_usage_error(cmd, "FILE is missing: give the JSON file to import, or - for standard input");
    if (optind + 1 < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
    const char *file = argv[optind];

    json_error_t jerr;
    json_t *doc = strcmp(file, "-") == 0 ? json_loadf(stdin, JSON_REJECT_DUPLICATES, &jerr)
                                         : json_load_file(file, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL) {
        fprintf(stderr, "syncrun import: %s is not valid JSON: %s (line %d, column %d)\n", file, jerr.text, jerr.line,
                jerr.column);
        return 1;
    }
    int rc = 1;
    arena_t a = ARENA_INIT;
    store_reader_t *r = NULL;
    store_write_t w = {0};
    connection_t conn;
    input_t err;
    store_t *s = cli_open_existing_store(cmd, db);
    if (s == NULL)
        goto out;
    if ((rc = cli_resolve_workspace(s, cmd, db, &ws)) != 0)
        goto out;
    rc = 1;
    if ((r = store_reader_open(s)) == NULL || cli_find_connection(r, cmd, ws, conn_arg, &a, &conn) != 0)
        goto out;
    input_init(&err, doc);
    if (!json_is_object(doc)) {
        fprintf(stderr, "syncrun import: %s must hold a JSON object, a %s list response\n", file, format->name);
        goto out;
    }
    w.op = OP_RUN_IMPORT;
    w.workspace_id = ws;
    w.id = conn.id;
    if (format->parse(doc, &a, &w.imports, &w.nimports, &err) != 0) {
        fprintf(stderr, "syncrun import: nothing imported: %s\n", err.message);
        goto out;
    }
    if (store_exec(s, &w) != STORE_OK) {
        fprintf(stderr, "syncrun import: nothing imported: %s%s%s\n", store_strerror(w.err), w.err_field ? " at " : "",
                w.err_field ? w.err_field : "");
        goto out;
    }
    if (json) {
        rc = cli_print_json(cmd, json_pack("{s:s, s:i, s:i}", "format", format->name, "imported", w.imported,
                                           "existing", w.import_existing));
    } else {
        printf("Imported %d %s run%s into connection %" PRId64 " (%s); %d %s already there.\n", w.imported,
               format->name, w.imported == 1 ? "" : "s", conn.id, conn.name, w.import_existing,
               w.import_existing == 1 ? "was" : "were");
        rc = cli_flush_stdout(cmd);
    }
out:
    store_write_release(&w);
    store_reader_close(r);
    store_close(s);
    arena_release(&a);
    json_decref(doc);
    return rc;
}
