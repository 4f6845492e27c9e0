/* `syncrun connection create|list`: the connections of a workspace, as the native API shows them. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "api/render.h"
#include "cli/cli.h"
#include "cli/table.h"
#include "util/timeutil.h"

enum {
    LIST_DEFAULT_LIMIT = 100,
    LIST_MAX_LIMIT = 10000,
    LIST_PAGE = 100, /* connections read from the store at a time */
};

static void usage(FILE *out)
{
    fprintf(out, "usage: syncrun connection create --name NAME [--source S] [--destination D]\n"
                 "                 [--connector-type T] [--overlap skip|queue|attach|replace]\n"
                 "                 [--retention-days N|inherit] [--retention-keep-last N|inherit]\n"
                 "                 [--workspace ID] [--db PATH] [--json]\n"
                 "       syncrun connection list [--limit N] [--workspace ID] [--db PATH] [--json]\n"
                 "\n"
                 "A connection is one sync (a source feeding a destination) whose runs syncrun records.\n"
                 "\n"
                 "options:\n"
                 "  --name NAME           required, 1-200 bytes\n"
                 "  --source S            where the data comes from, up to 200 bytes\n"
                 "  --destination D       where it goes, up to 200 bytes\n"
                 "  --connector-type T    the connector, up to 200 bytes\n"
                 "  --overlap POLICY      when a run is triggered while another is in progress:\n"
                 "                        skip (default: record it as skipped), queue, attach or replace\n"
                 "                        (answer with the run in progress)\n"
                 "  --retention-days N    keep its runs N days (0: no age limit); default inherit: the\n"
                 "                        workspace's policy (syncrun workspace retention)\n"
                 "  --retention-keep-last N  keep its newest N runs (0: no count limit); default inherit\n"
                 "  --limit N             list at most N connections, 1-10000 (default 100)\n"
                 "  --workspace ID        the workspace (default: the only one, when the database has one)\n"
                 "  --db PATH             database file (default: $SYNCRUN_DB, else ./syncrun.db)\n"
                 "  --json                print the connection(s) as the native API does\n"
                 "  -h, --help            show this help\n");
}

static const struct option options[] = {
    {"workspace", required_argument, NULL, 'w'},
    {"name", required_argument, NULL, 'n'},
    {"source", required_argument, NULL, 's'},
    {"destination", required_argument, NULL, 't'},
    {"connector-type", required_argument, NULL, 'c'},
    {"overlap", required_argument, NULL, 'o'},
    {"limit", required_argument, NULL, 'l'},
    {"retention-days", required_argument, NULL, 'R'},
    {"retention-keep-last", required_argument, NULL, 'K'},
    {"db", required_argument, NULL, 'd'},
    {"json", no_argument, NULL, 'j'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

typedef struct conn_args {
    const char *db;
    int64_t ws;    /* 0 = not given */
    int64_t limit; /* list */
    const char *name, *source, *destination, *connector_type;
    overlap_policy_t overlap;
    int64_t retention_days, retention_keep_last; /* RETENTION_INHERIT unless given */
    int json;
} conn_args_t;

/* "late since <time>" for a late connection, else "-". */
static void late_cell(const connection_t *cn, char *out, size_t n)
{
    char iso[TIME_ISO_LEN];
    if (cn->late_since == 0) {
        snprintf(out, n, "-");
        return;
    }
    time_format_iso(cn->late_since, iso);
    snprintf(out, n, "late since %s", iso);
}

/* Checks a text option: UTF-8, at most CLI_NAME_MAX bytes, and not empty when required. */
static int check_text(const char *cmd, const char *opt, const char *v, int required)
{
    size_t n = strlen(v);
    if ((required && n == 0) || n > CLI_NAME_MAX || !cli_is_utf8(v))
        return cli_usage_error(cmd, "--%s must be UTF-8 text of %s to %d bytes", opt, required ? "1" : "0",
                               CLI_NAME_MAX);
    return 0;
}

/* Parses the options of `connection <cmd>`; returns -1 to go on, else the exit code. */
static int parse_args(const char *cmd, int create, int argc, char **argv, conn_args_t *ca)
{
    int c;
    memset(ca, 0, sizeof(*ca));
    ca->db = cli_default_db();
    ca->limit = LIST_DEFAULT_LIMIT;
    ca->overlap = OVERLAP_SKIP;
    ca->retention_days = ca->retention_keep_last = RETENTION_INHERIT;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        const char *opt = NULL;
        int v;
        switch (c) {
        case 'w':
            if (cli_parse_workspace(cmd, optarg, &ca->ws) != 0)
                return 2;
            break;
        case 'n':
            opt = "name";
            ca->name = optarg;
            break;
        case 's':
            opt = "source";
            ca->source = optarg;
            break;
        case 't':
            opt = "destination";
            ca->destination = optarg;
            break;
        case 'c':
            opt = "connector-type";
            ca->connector_type = optarg;
            break;
        case 'o':
            opt = "overlap";
            v = overlap_parse(optarg);
            if (v < 0)
                return cli_usage_error(cmd, "--overlap must be skip, queue, attach or replace, not '%s'", optarg);
            ca->overlap = (overlap_policy_t)v;
            break;
        case 'R':
        case 'K':
            opt = c == 'R' ? "retention-days" : "retention-keep-last";
            if (strcmp(optarg, "inherit") != 0 &&
                ids_parse_i64(optarg, strlen(optarg), 0, c == 'R' ? RETENTION_DAYS_MAX : RETENTION_KEEP_LAST_MAX,
                              c == 'R' ? &ca->retention_days : &ca->retention_keep_last) != 0)
                return cli_usage_error(cmd, "--%s must be inherit or an integer from 0 to %d, not '%s'", opt,
                                       c == 'R' ? RETENTION_DAYS_MAX : RETENTION_KEEP_LAST_MAX, optarg);
            break;
        case 'l':
            if (create)
                return cli_usage_error(cmd, "--limit is an option of 'connection list'");
            if (ids_parse_i64(optarg, strlen(optarg), 1, LIST_MAX_LIMIT, &ca->limit) != 0)
                return cli_usage_error(cmd, "--limit must be an integer from 1 to %d, not '%s'", LIST_MAX_LIMIT,
                                       optarg);
            break;
        case 'd':
            ca->db = optarg;
            break;
        case 'j':
            ca->json = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case ':':
            return cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        }
        if (opt != NULL && !create)
            return cli_usage_error(cmd, "--%s is an option of 'connection create'", opt);
        if (opt != NULL && c != 'o' && c != 'R' && c != 'K' && check_text(cmd, opt, optarg, c == 'n') != 0)
            return 2;
    }
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (*ca->db == '\0')
        return cli_usage_error(cmd, "--db must not be empty");
    if (create && ca->name == NULL)
        return cli_usage_error(cmd, "--name is required");
    return -1;
}

/* "source → destination", "-" for a missing end; in a, or a static string. */
static const char *route(arena_t *a, const connection_t *c)
{
    const char *src = c->source != NULL && *c->source != '\0' ? c->source : "-";
    const char *dst = c->destination != NULL && *c->destination != '\0' ? c->destination : "-";
    if (src[0] == '-' && src[1] == '\0' && dst[0] == '-' && dst[1] == '\0')
        return "-";
    size_t n = strlen(src) + strlen(dst) + sizeof(" \xe2\x86\x92 ");
    char *p = arena_alloc(a, n);
    snprintf(p, n, "%s \xe2\x86\x92 %s", src, dst);
    return p;
}

static int connection_create(int argc, char **argv)
{
    const char *cmd = "connection create";
    conn_args_t ca;
    int rc = parse_args(cmd, 1, argc, argv, &ca);
    if (rc >= 0)
        return rc;
    store_t *s = cli_open_existing_store(cmd, ca.db);
    if (s == NULL)
        return 1;
    arena_t a = ARENA_INIT;
    store_write_t w;
    memset(&w, 0, sizeof(w));
    rc = cli_resolve_workspace(s, cmd, ca.db, &ca.ws);
    if (rc != 0)
        goto out;

    rc = 1;
    w.op = OP_CONNECTION_CREATE;
    w.workspace_id = ca.ws;
    w.conn.name = ca.name;
    w.conn.source = ca.source;
    w.conn.destination = ca.destination;
    w.conn.connector_type = ca.connector_type;
    w.conn.overlap = ca.overlap;
    w.conn.retention_days = ca.retention_days;
    w.conn.retention_keep_last = ca.retention_keep_last;
    w.conn.retention_failure_days = RETENTION_INHERIT;
    if (ca.retention_days != RETENTION_INHERIT)
        w.mask |= CONN_F_RET_DAYS;
    if (ca.retention_keep_last != RETENTION_INHERIT)
        w.mask |= CONN_F_RET_KEEP_LAST;
    store_err_t err = store_exec(s, &w);
    if (err == STORE_NOT_FOUND) {
        fprintf(stderr, "syncrun %s: %s has no workspace %" PRId64 "\n", cmd, ca.db, ca.ws);
        goto out;
    }
    if (err == STORE_EXISTS) {
        fprintf(stderr, "syncrun %s: workspace %" PRId64 " already has a connection with this %s\n", cmd, ca.ws,
                w.err_field != NULL ? w.err_field : "name");
        goto out;
    }
    if (err != STORE_OK) {
        fprintf(stderr, "syncrun %s: cannot create the connection: %s%s%s\n", cmd, store_strerror(err),
                w.err_field != NULL ? " in " : "", w.err_field != NULL ? w.err_field : "");
        goto out;
    }
    if (ca.json) {
        rc = cli_print_json(cmd, render_connection(&w.conn));
        goto out;
    }
    printf("Created connection %" PRId64 " (%s) in workspace %" PRId64 ": %s, %s, overlap %s.\n"
           "\n"
           "Trigger a run with a runs:write key once 'syncrun serve' is running:\n"
           "\n"
           "    curl -X POST -H \"Authorization: Bearer $TOKEN\" http://127.0.0.1:8080/v1/connections/%" PRId64
           "/runs\n",
           w.conn.id, w.conn.uuid, ca.ws, w.conn.name, route(&a, &w.conn), overlap_name(w.conn.overlap), w.conn.id);
    rc = cli_flush_stdout(cmd);

out:
    store_write_release(&w);
    arena_release(&a);
    store_close(s);
    return rc;
}

static int connection_list(int argc, char **argv)
{
    const char *cmd = "connection list";
    conn_args_t ca;
    int rc = parse_args(cmd, 0, argc, argv, &ca);
    if (rc >= 0)
        return rc;
    store_t *s = cli_open_existing_store(cmd, ca.db);
    if (s == NULL)
        return 1;
    arena_t a = ARENA_INIT;
    store_reader_t *r = NULL;
    table_t *t = NULL;
    json_t *arr = NULL;
    static const char *const headers[] = {"ID",      "UUID", "NAME", "SOURCE \xe2\x86\x92 DESTINATION",
                                          "OVERLAP", "RUNS", "LATE"};
    rc = cli_resolve_workspace(s, cmd, ca.db, &ca.ws);
    if (rc != 0)
        goto out;

    rc = 1;
    r = store_reader_open(s);
    if (r == NULL) {
        fprintf(stderr, "syncrun %s: cannot read %s; see the log above\n", cmd, ca.db);
        goto out;
    }
    if (ca.json) {
        arr = json_array();
    } else {
        t = table_new(7, headers);
        table_column(t, 0, 0, TABLE_RIGHT);
        table_column(t, 2, 40, TABLE_LEFT);
        table_column(t, 3, 60, TABLE_LEFT);
        table_column(t, 5, 0, TABLE_RIGHT);
    }
    int64_t got = 0, after = 0;
    while (got < ca.limit) {
        int page = ca.limit - got < LIST_PAGE ? (int)(ca.limit - got) : LIST_PAGE, n = 0;
        connection_t *conns = NULL;
        store_err_t err = store_connection_list(r, ca.ws, after, page, &a, &conns, &n);
        if (err != STORE_OK) {
            fprintf(stderr, "syncrun %s: cannot list the connections: %s\n", cmd, store_strerror(err));
            goto out;
        }
        for (int i = 0; i < n; i++) {
            if (arr != NULL) {
                json_array_append_new(arr, render_connection(&conns[i]));
                continue;
            }
            char id[24], runs[24], late[TIME_ISO_LEN + 16];
            snprintf(id, sizeof(id), "%" PRId64, conns[i].id);
            snprintf(runs, sizeof(runs), "%" PRId64, conns[i].run_count);
            late_cell(&conns[i], late, sizeof(late));
            const char *cells[] = {
                id, conns[i].uuid, conns[i].name, route(&a, &conns[i]), overlap_name(conns[i].overlap), runs, late};
            if (table_add_row(t, cells) != 0) {
                fprintf(stderr, "syncrun %s: too many connections to show; lower --limit\n", cmd);
                goto out;
            }
        }
        got += n;
        if (n < page)
            break;
        after = conns[n - 1].id;
    }
    if (arr != NULL) {
        rc = cli_print_json(cmd, arr);
        arr = NULL; /* consumed */
        goto out;
    }
    if (got == 0) {
        fprintf(stderr,
                "No connections in workspace %" PRId64 ". Create one with 'syncrun connection create --name NAME'.\n",
                ca.ws);
        rc = 0;
        goto out;
    }
    table_print(t, stdout);
    rc = cli_flush_stdout(cmd);

out:
    json_decref(arr);
    table_free(t);
    if (r != NULL)
        store_reader_close(r);
    arena_release(&a);
    store_close(s);
    return rc;
}

int cmd_connection(int argc, char **argv)
{
    static const cli_subcommand_t subs[] = {
        {"create", connection_create},
        {"list", connection_list},
        {NULL, NULL},
    };
    return cli_dispatch("connection", subs, usage, argc, argv);
}
