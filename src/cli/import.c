/* `syncrun import`: records a vendor's run history (a list response saved as JSON) under a
 * connection, as POST /v1/connections/{id}/runs:import does, through the same parsers. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "api/import.h"
#include "cli/cli.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: syncrun import --format FORMAT --connection CONNECTION [--workspace ID] [--db PATH] [--json] FILE\n"
            "\n"
            "Records the runs of FILE, a vendor's run-list response saved as JSON ('-' reads standard input),\n"
            "under CONNECTION (an id or UUID) with their original ids, times, states and counters.\n"
            "Importing the same file again changes nothing. Invalid input records nothing.\n"
            "\n"
            "  --format FORMAT   one of %s\n",
            import_format_names());
}

int cmd_import(int argc, char **argv)
{
    static const struct option options[] = {{"format", required_argument, NULL, 'f'},
                                            {"connection", required_argument, NULL, 'c'},
                                            {"workspace", required_argument, NULL, 'w'},
                                            {"db", required_argument, NULL, 'd'},
                                            {"json", no_argument, NULL, 'j'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    const char *cmd = "import", *db = cli_default_db(), *fname = NULL, *conn_arg = NULL;
    int64_t ws = 0;
    int json = 0, c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case 'f':
            fname = optarg;
            break;
        case 'c':
            conn_arg = optarg;
            break;
        case 'w':
            if (cli_parse_workspace(cmd, optarg, &ws) != 0)
                return 2;
            break;
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
