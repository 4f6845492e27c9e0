/* `syncrun connection create|list|update|rm`: the connections of a workspace, as the native API shows
 * them, on the database directly (like `key` and `webhook`). update changes only the options given, as a
 * PATCH does; rm deletes a connection as DELETE /v1/connections/{id} does (its runs stay in the database
 * but are no longer served). */
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
                 "       syncrun connection update CONNECTION [--name NAME] [--source S] [--destination D]\n"
                 "                 [--connector-type T] [--overlap POLICY] [--retention-days N|inherit]\n"
                 "                 [--retention-keep-last N|inherit] [--workspace ID] [--db PATH] [--json]\n"
                 "       syncrun connection rm CONNECTION [--workspace ID] [--db PATH] [--json]\n"
                 "\n"
                 "A connection is one sync (a source feeding a destination) whose runs syncrun records.\n"
                 "CONNECTION is its id or UUID. update changes only the options it is given (an empty\n"
                 "--source clears it); rm deletes the connection: its API routes answer 404 from then on.\n"
                 "Schedules, commands and expectations are set through the API (PATCH /v1/connections/{id}).\n"
                 "\n"
                 "options:\n"
                 "  --name NAME           required by create, 1-200 bytes\n"
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
                 "  --json                print the connection(s) as the native API does (rm:\n"
                 "                        {\"id\":N,\"deleted\":true})\n"
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

typedef enum conn_cmd { CONN_CREATE, CONN_LIST, CONN_UPDATE, CONN_RM } conn_cmd_t;

typedef struct conn_args {
    conn_cmd_t cmd;
    const char *db;
    const char *conn; /* update, rm: the CONNECTION argument */
    unsigned mask;    /* update: CONN_F_* of the options given */
    int64_t ws;       /* 0 = not given */
    int64_t limit;    /* list */
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
static int parse_args(const char *cmd, conn_cmd_t which, int argc, char **argv, conn_args_t *ca)
{
    int c, create = which == CONN_CREATE, edits = create || which == CONN_UPDATE;
    memset(ca, 0, sizeof(*ca));
    ca->cmd = which;
    ca->db = cli_default_db();
    ca->limit = LIST_DEFAULT_LIMIT;
    ca->overlap = OVERLAP_SKIP;
    ca->retention_days = ca->retention_keep_last = RETENTION_INHERIT;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        const char *opt = NULL;
        unsigned flag = 0;
        int v;
        switch (c) {
        case 'w':
            if (cli_parse_workspace(cmd, optarg, &ca->ws) != 0)
                return 2;
            break;
        case 'n':
            opt = "name";
            flag = CONN_F_NAME;
            ca->name = optarg;
            break;
        case 's':
            opt = "source";
            flag = CONN_F_SOURCE;
            ca->source = optarg;
            break;
        case 't':
            opt = "destination";
            flag = CONN_F_DESTINATION;
            ca->destination = optarg;
            break;
        case 'c':
            opt = "connector-type";
            flag = CONN_F_CONNECTOR_TYPE;
            ca->connector_type = optarg;
            break;
        case 'o':
            opt = "overlap";
            flag = CONN_F_OVERLAP;
            v = overlap_parse(optarg);
            if (v < 0)
                return cli_usage_error(cmd, "--overlap must be skip, queue, attach or replace, not '%s'", optarg);
            ca->overlap = (overlap_policy_t)v;
            break;
        case 'R':
        case 'K':
            opt = c == 'R' ? "retention-days" : "retention-keep-last";
            flag = c == 'R' ? CONN_F_RET_DAYS : CONN_F_RET_KEEP_LAST;
            if (strcmp(optarg, "inherit") != 0 &&
                ids_parse_i64(optarg, strlen(optarg), 0, c == 'R' ? RETENTION_DAYS_MAX : RETENTION_KEEP_LAST_MAX,
                              c == 'R' ? &ca->retention_days : &ca->retention_keep_last) != 0)
                return cli_usage_error(cmd, "--%s must be inherit or an integer from 0 to %d, not '%s'", opt,
                                       c == 'R' ? RETENTION_DAYS_MAX : RETENTION_KEEP_LAST_MAX, optarg);
            break;
        case 'l':
            if (which != CONN_LIST)
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
        if (opt != NULL && !edits)
            return cli_usage_error(cmd, "--%s is an option of 'connection create' and 'connection update'", opt);
        if (opt != NULL && c != 'o' && c != 'R' && c != 'K' && check_text(cmd, opt, optarg, c == 'n') != 0)
            return 2;
        ca->mask |= flag;
    }
    if (which == CONN_UPDATE || which == CONN_RM) {
        if (cli_id_argument(cmd, argc, argv, optind, "CONNECTION", &ca->conn) != 0)
            return 2;
    } else if (optind < argc) {
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    }
    if (*ca->db == '\0')
        return cli_usage_error(cmd, "--db must not be empty");
    if (create && ca->name == NULL)
        return cli_usage_error(cmd, "--name is required");
    if (which == CONN_UPDATE && ca->mask == 0)
        return cli_usage_error(cmd, "nothing to change: give at least one of --name, --source, --destination, "
                                    "--connector-type, --overlap, --retention-days, --retention-keep-last");
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

/* --source "" and the like clear the field on update, as null does in a PATCH. */
static const char *text_or_null(const char *v, int update)
{
    return update && v != NULL && *v == '\0' ? NULL : v;
}

/* Reports a failed connection write; always returns 1. */
static int write_failed(const char *cmd, const conn_args_t *ca, const store_write_t *w, store_err_t err)
{
    if (err == STORE_NOT_FOUND && ca->cmd == CONN_CREATE)
        fprintf(stderr, "syncrun %s: %s has no workspace %" PRId64 "\n", cmd, ca->db, ca->ws);
    else if (err == STORE_NOT_FOUND)
        fprintf(stderr, "syncrun %s: connection %s was deleted meanwhile; see 'syncrun connection list'\n", cmd,
                ca->conn);
    else if (err == STORE_EXISTS)
        fprintf(stderr, "syncrun %s: workspace %" PRId64 " already has a connection with this %s\n", cmd, ca->ws,
                w->err_field != NULL ? w->err_field : "name");
    else
        fprintf(stderr, "syncrun %s: cannot %s the connection: %s%s%s\n", cmd,
                ca->cmd == CONN_CREATE   ? "create"
                : ca->cmd == CONN_UPDATE ? "update"
                                         : "delete",
                store_strerror(err), w->err_field != NULL ? " in " : "", w->err_field != NULL ? w->err_field : "");
    return 1;
}

/* The confirmation of a done create, update or rm: JSON, or a sentence (and how to go on). */
static int print_written(const char *cmd, const conn_args_t *ca, const store_write_t *w, const connection_t *cur,
                         arena_t *a)
{
    if (ca->cmd == CONN_RM) {
        if (ca->json)
            return cli_print_json(cmd, json_pack("{sIsb}", "id", (json_int_t)cur->id, "deleted", 1));
        printf("Deleted connection %" PRId64 " (%s, %s): its runs are no longer served.\n", cur->id, cur->uuid,
               cur->name);
        return cli_flush_stdout(cmd);
    }
    if (ca->json)
        return cli_print_json(cmd, render_connection(&w->conn));
    printf("%s connection %" PRId64 " (%s) in workspace %" PRId64 ": %s, %s, overlap %s.\n",
           ca->cmd == CONN_CREATE ? "Created" : "Updated", w->conn.id, w->conn.uuid, ca->ws, w->conn.name,
           route(a, &w->conn), overlap_name(w->conn.overlap));
    if (ca->cmd == CONN_CREATE)
        printf("\n"
               "Trigger a run with a runs:write key once 'syncrun serve' is running:\n"
               "\n"
               "    curl -X POST -H \"Authorization: Bearer $TOKEN\" http://127.0.0.1:8080/v1/connections/%" PRId64
               "/runs\n",
               w->conn.id);
    return cli_flush_stdout(cmd);
}

/* create, update and rm: one write through the store, as the API's POST, PATCH and DELETE. */
static int connection_write(const char *cmd, conn_cmd_t which, int argc, char **argv)
{
    conn_args_t ca;
    int rc = parse_args(cmd, which, argc, argv, &ca);
    if (rc >= 0)
        return rc;
    store_t *s = cli_open_existing_store(cmd, ca.db);
    if (s == NULL)
        return 1;
    arena_t a = ARENA_INIT;
    store_reader_t *r = NULL;
    connection_t cur;
    store_write_t w;
    memset(&cur, 0, sizeof(cur));
    memset(&w, 0, sizeof(w));
    rc = cli_resolve_workspace(s, cmd, ca.db, &ca.ws);
    if (rc != 0)
        goto out;

    rc = 1;
    if (which != CONN_CREATE) {
        if ((r = store_reader_open(s)) == NULL) {
            fprintf(stderr, "syncrun %s: cannot read %s; see the log above\n", cmd, ca.db);
            goto out;
        }
        if (cli_find_connection(r, cmd, ca.ws, ca.conn, &a, &cur) != 0)
            goto out;
        w.id = cur.id;
    }
    w.op = which == CONN_CREATE   ? OP_CONNECTION_CREATE
           : which == CONN_UPDATE ? OP_CONNECTION_UPDATE
                                  : OP_CONNECTION_DELETE;
    w.workspace_id = ca.ws;
    w.mask = ca.mask & (CONN_F_NAME | CONN_F_SOURCE | CONN_F_DESTINATION | CONN_F_CONNECTOR_TYPE | CONN_F_OVERLAP |
                        CONN_F_RET_DAYS | CONN_F_RET_KEEP_LAST);
    if (which == CONN_CREATE) /* create takes every field; its mask names only the retention overrides */
        w.mask &= CONN_F_RET_DAYS | CONN_F_RET_KEEP_LAST;
    w.conn.name = ca.name;
    w.conn.source = text_or_null(ca.source, which == CONN_UPDATE);
    w.conn.destination = text_or_null(ca.destination, which == CONN_UPDATE);
    w.conn.connector_type = text_or_null(ca.connector_type, which == CONN_UPDATE);
    w.conn.overlap = ca.overlap;
    w.conn.retention_days = ca.retention_days;
    w.conn.retention_keep_last = ca.retention_keep_last;
    w.conn.retention_failure_days = RETENTION_INHERIT;
    store_err_t err = store_exec(s, &w);
    rc = err != STORE_OK ? write_failed(cmd, &ca, &w, err) : print_written(cmd, &ca, &w, &cur, &a);

out:
    if (r != NULL)
        store_reader_close(r);
    store_write_release(&w);
    arena_release(&a);
    store_close(s);
    return rc;
}

static int connection_create(int argc, char **argv)
{
    return connection_write("connection create", CONN_CREATE, argc, argv);
}

static int connection_update(int argc, char **argv)
{
    return connection_write("connection update", CONN_UPDATE, argc, argv);
}

static int connection_rm(int argc, char **argv)
{
    return connection_write("connection rm", CONN_RM, argc, argv);
}

static int connection_list(int argc, char **argv)
{
    const char *cmd = "connection list";
    conn_args_t ca;
    int rc = parse_args(cmd, CONN_LIST, argc, argv, &ca);
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
        {"update", connection_update},
        {"rm", connection_rm},
        {NULL, NULL},
    };
    return cli_dispatch("connection", subs, usage, argc, argv);
}
