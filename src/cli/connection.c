/* `syncrun connection create|list|update|rm`: the connections of a workspace, as the native API shows
 * them, on the database directly (like `key` and `webhook`). update changes only the options given, as a
 * PATCH does; rm deletes a connection as DELETE /v1/connections/{id} does (its runs stay in the database
 * but are no longer served). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "api/render.h"
#include "cli/cli.h"
#include "cli/opts.h"
#include "cli/table.h"
#include "util/timeutil.h"

enum {
    LIST_DEFAULT_LIMIT = 100,
    LIST_MAX_LIMIT = 10000,
    LIST_PAGE = 100, /* connections read from the store at a time */
};

typedef enum conn_cmd { CONN_CREATE, CONN_LIST, CONN_UPDATE, CONN_RM } conn_cmd_t; /* conn_subs' order */
static const char *const conn_subs[] = {"create", "list", "update", "rm", NULL};

enum {
    OPT_NAME = 'n',
    OPT_SOURCE = 's',
    OPT_DESTINATION = 't',
    OPT_CONNECTOR_TYPE = 'c',
    OPT_OVERLAP = 'o',
    OPT_LIMIT = 'l',
    OPT_RET_DAYS = 'R',
    OPT_RET_KEEP_LAST = 'K',
    EDITS = 1u << CONN_CREATE | 1u << CONN_UPDATE,
};

static const cli_opt_t conn_opts[] = {
    {OPT_NAME, EDITS, "name", "NAME", "required by create, 1-200 bytes"},
    {OPT_SOURCE, EDITS, "source", "S", "where the data comes from, up to 200 bytes"},
    {OPT_DESTINATION, EDITS, "destination", "D", "where it goes, up to 200 bytes"},
    {OPT_CONNECTOR_TYPE, EDITS, "connector-type", "T", "the connector, up to 200 bytes"},
    {OPT_OVERLAP, EDITS, "overlap", "POLICY",
     "when a run is triggered while another is in progress:\n"
     "skip (default: record it as skipped), queue, attach or replace\n"
     "(answer with the run in progress)"},
    {OPT_RET_DAYS, EDITS, "retention-days", "N",
     "keep its runs N days (0: no age limit); default inherit: the\n"
     "workspace's policy (syncrun workspace retention)"},
    {OPT_RET_KEEP_LAST, EDITS, "retention-keep-last", "N",
     "keep its newest N runs (0: no count limit); default inherit"},
    {OPT_LIMIT, 1u << CONN_LIST, "limit", "N", "list at most N connections, 1-10000 (default 100)"},
    CLI_OPT_WORKSPACE_ENTRY(0),
    CLI_OPT_DB_ENTRY(0),
    CLI_OPT_JSON_ENTRY(0, "print the connection(s) as the native API does (rm:\n"
                          "{\"id\":N,\"deleted\":true})"),
    CLI_OPT_END,
};

static const cli_command_t conn_command = {
    "connection",
    conn_subs,
    "usage: syncrun connection create --name NAME [--source S] [--destination D]\n"
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
    "Schedules, commands and expectations are set through the API (PATCH /v1/connections/{id}).\n",
    NULL,
    conn_opts,
};

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
    int c, create = which == CONN_CREATE;
    cli_opts_t p;
    memset(ca, 0, sizeof(*ca));
    ca->cmd = which;
    ca->limit = LIST_DEFAULT_LIMIT;
    ca->overlap = OVERLAP_SKIP;
    ca->retention_days = ca->retention_keep_last = RETENTION_INHERIT;
    cli_opts_init(&p, &conn_command, which, cmd, argc, argv);
    while ((c = cli_opts_next(&p)) > 0) {
        const char *opt = NULL, *v = p.arg;
        unsigned flag = 0;
        int policy;
        switch (c) {
        case OPT_NAME:
            opt = "name";
            flag = CONN_F_NAME;
            ca->name = v;
            break;
        case OPT_SOURCE:
            opt = "source";
            flag = CONN_F_SOURCE;
            ca->source = v;
            break;
        case OPT_DESTINATION:
            opt = "destination";
            flag = CONN_F_DESTINATION;
            ca->destination = v;
            break;
        case OPT_CONNECTOR_TYPE:
            opt = "connector-type";
            flag = CONN_F_CONNECTOR_TYPE;
            ca->connector_type = v;
            break;
        case OPT_OVERLAP:
            flag = CONN_F_OVERLAP;
            policy = overlap_parse(v);
            if (policy < 0)
                return cli_usage_error(cmd, "--overlap must be skip, queue, attach or replace, not '%s'", v);
            ca->overlap = (overlap_policy_t)policy;
            break;
        case OPT_RET_DAYS:
        case OPT_RET_KEEP_LAST: {
            int days = c == OPT_RET_DAYS;
            flag = days ? CONN_F_RET_DAYS : CONN_F_RET_KEEP_LAST;
            if (strcmp(v, "inherit") != 0 &&
                ids_parse_i64(v, strlen(v), 0, days ? RETENTION_DAYS_MAX : RETENTION_KEEP_LAST_MAX,
                              days ? &ca->retention_days : &ca->retention_keep_last) != 0)
                return cli_usage_error(cmd, "--%s must be inherit or an integer from 0 to %d, not '%s'",
                                       days ? "retention-days" : "retention-keep-last",
                                       days ? RETENTION_DAYS_MAX : RETENTION_KEEP_LAST_MAX, v);
            break;
        }
        default: /* OPT_LIMIT */
            if (ids_parse_i64(v, strlen(v), 1, LIST_MAX_LIMIT, &ca->limit) != 0)
                return cli_usage_error(cmd, "--limit must be an integer from 1 to %d, not '%s'", LIST_MAX_LIMIT, v);
            break;
        }
        if (opt != NULL && check_text(cmd, opt, v, c == OPT_NAME) != 0)
            return 2;
        ca->mask |= flag;
    }
    if (c < 0)
        return p.exit_code;
    ca->db = p.common.db;
    ca->ws = p.common.workspace;
    ca->json = p.common.json;
    if (which == CONN_UPDATE || which == CONN_RM) {
        if (cli_id_argument(cmd, argc, argv, optind, "CONNECTION", &ca->conn) != 0)
            return 2;
    } else if (optind < argc) {
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    }
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
    return cli_dispatch("connection", subs, &conn_command, argc, argv);
}
