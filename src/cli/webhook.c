/* `syncrun webhook add|list|rm|deliveries`: the webhooks of a workspace, on the database directly
 * (like `syncrun key`). A running server's dispatcher sends what is added here. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "api/render.h"
#include "cli/cli.h"
#include "cli/opts.h"
#include "cli/table.h"
#include "util/ids.h"
#include "util/netaddr.h"
#include "util/timeutil.h"

enum { WH_ADD, WH_LIST, WH_RM, WH_DELIVERIES }; /* wh_subs' order */
static const char *const wh_subs[] = {"add", "list", "rm", "deliveries", NULL};
enum {
    OPT_EVENTS = 'e',
    OPT_CONNECTION = 'c',
    OPT_ALLOW_PRIVATE = 'p',
    OPT_STATUS = 's',
    OPT_LIMIT = 'l',
    ONLY_ADD = 1u << WH_ADD,
    ONLY_DELIVERIES = 1u << WH_DELIVERIES,
};

static const cli_opt_t wh_opts[] = {
    {OPT_EVENTS, ONLY_ADD, "events", "LIST",
     "comma-separated: run.failed, run.recovered, run.late, run.duration,\n"
     "watermark.stalled, watermark.backwards (default: all)"},
    {OPT_CONNECTION, ONLY_ADD, "connection", "CONN", "only the alerts of this connection (an id or UUID)"},
    {OPT_ALLOW_PRIVATE, ONLY_ADD, "allow-private", NULL,
     "accept a URL whose host is a private, loopback or link-local address (the\n"
     "server delivers there only when started with --webhooks-allow-private)"},
    {OPT_STATUS, ONLY_DELIVERIES, "status", "S", "deliveries: pending, delivered, failed or dead"},
    {OPT_LIMIT, ONLY_DELIVERIES, "limit", "N", "deliveries: at most N, newest first (default 25, at most 100)"},
    CLI_OPT_WORKSPACE_ENTRY(0),
    CLI_OPT_DB_ENTRY(0),
    CLI_OPT_JSON_ENTRY(0, "print what the API answers (add: with the secret)"),
    CLI_OPT_END,
};

static const cli_command_t wh_command = {
    "webhook",
    wh_subs,
    "usage: syncrun webhook add URL [--events E1,E2] [--connection CONN] [--allow-private] [--workspace ID]\n"
    "                           [--db PATH] [--json]\n"
    "       syncrun webhook list [--workspace ID] [--db PATH] [--json]\n"
    "       syncrun webhook rm WEBHOOK_ID [--workspace ID] [--db PATH] [--json]\n"
    "       syncrun webhook deliveries WEBHOOK_ID [--status S] [--limit N] [--workspace ID] [--db PATH]\n"
    "                           [--json]\n"
    "\n"
    "add makes a webhook that a running server POSTs the workspace's alerts to, signed as Standard\n"
    "Webhooks specifies; it prints the signing secret, which is shown only this once. list shows the\n"
    "webhooks, rm deletes one (its deliveries still to send are given up), deliveries shows a\n"
    "webhook's newest deliveries: status, attempts, last answer, next retry.\n",
    NULL,
    wh_opts,
};

typedef struct wh_args {
    const char *db, *url, *events, *connection;
    int64_t ws, id, limit;
    int status, allow_private, json;
} wh_args_t;

/* Parses the options of `webhook <cmd>`; returns -1 to go on, else the exit code. */
static int parse_args(const char *cmd, int mode, int argc, char **argv, wh_args_t *a)
{
    int c;
    cli_opts_t p;
    memset(a, 0, sizeof(*a));
    a->status = -1;
    a->limit = 25;
    cli_opts_init(&p, &wh_command, mode, cmd, argc, argv);
    while ((c = cli_opts_next(&p)) > 0) {
        switch (c) {
        case OPT_EVENTS:
            a->events = p.arg;
            break;
        case OPT_CONNECTION:
            a->connection = p.arg;
            break;
        case OPT_ALLOW_PRIVATE:
            a->allow_private = 1;
            break;
        case OPT_STATUS:
            if ((a->status = delivery_status_parse(p.arg)) < 0)
                return cli_usage_error(cmd, "--status must be pending, delivered, failed or dead, not '%s'", p.arg);
            break;
        default: /* OPT_LIMIT */
            if (ids_parse_i64(p.arg, strlen(p.arg), 1, 100, &a->limit) != 0)
                return cli_usage_error(cmd, "--limit must be from 1 to 100, not '%s'", p.arg);
            break;
        }
    }
    if (c < 0)
        return p.exit_code;
    a->db = p.common.db;
    a->ws = p.common.workspace;
    a->json = p.common.json;
    if (mode == WH_ADD) {
        if (optind >= argc)
            return cli_usage_error(cmd, "which URL? give the address to POST alerts to");
        a->url = argv[optind++];
    } else if (mode == WH_RM || mode == WH_DELIVERIES) {
        if (optind >= argc)
            return cli_usage_error(cmd, "which webhook? give its id (the ID column of 'syncrun webhook list')");
        const char *id = argv[optind++];
        if (ids_parse_i64(id, strlen(id), 1, INT64_MAX, &a->id) != 0)
            return cli_usage_error(cmd, "WEBHOOK_ID must be a positive integer, not '%s'", id);
    }
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    return -1;
}

/* --events "a,b" as the JSON array text the store keeps (arena), NULL for all. 0, or 2 (usage). */
static int parse_events(const char *cmd, const char *list, arena_t *ar, const char **out)
{
    *out = NULL;
    if (list == NULL || strcmp(list, "*") == 0)
        return 0;
    json_t *arr = json_array();
    const char *p = list;
    while (*p != '\0') {
        size_t n = strcspn(p, ",");
        char name[64];
        if (n == 0 || n >= sizeof(name)) {
            json_decref(arr);
            return cli_usage_error(cmd, "--events must be a comma-separated list of event names");
        }
        memcpy(name, p, n);
        name[n] = '\0';
        if (!webhook_event_known(name)) {
            json_decref(arr);
            return cli_usage_error(cmd, "--events: unknown event '%s'", name);
        }
        json_array_append_new(arr, json_string(name));
        p += n + (p[n] == ',');
    }
    char *text = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    *out = text != NULL ? arena_strdup(ar, text) : NULL;
    free(text);
    return 0;
}

static int webhook_add(int argc, char **argv)
{
    const char *cmd = "webhook add";
    wh_args_t a;
    int rc = parse_args(cmd, WH_ADD, argc, argv, &a);
    if (rc >= 0)
        return rc;
    char why[300], secret[IDS_WHSEC_LEN];
    if (netaddr_check_url(a.url, WEBHOOK_URL_MAX, a.allow_private, why, sizeof(why)) != 0)
        return cli_usage_error(cmd, "the URL %s", why);
    arena_t ar = ARENA_INIT;
    store_write_t w;
    memset(&w, 0, sizeof(w));
    if ((rc = parse_events(cmd, a.events, &ar, &w.webhook.events)) != 0) {
        arena_release(&ar);
        return rc;
    }
    store_t *s = cli_open_existing_store(cmd, a.db);
    if (s == NULL) {
        arena_release(&ar);
        return 1;
    }
    store_reader_t *r = NULL;
    if ((rc = cli_resolve_workspace(s, cmd, a.db, &a.ws)) != 0)
        goto out;
    rc = 1;
    if (a.connection != NULL) {
        connection_t cn;
        if ((r = store_reader_open(s)) == NULL || cli_find_connection(r, cmd, a.ws, a.connection, &ar, &cn) != 0)
            goto out;
        w.webhook.connection_id = cn.id;
    }
    ids_webhook_secret(secret);
    w.op = OP_WEBHOOK_CREATE;
    w.workspace_id = a.ws;
    w.webhook.url = a.url;
    w.webhook.secret = secret;
    store_err_t err = store_exec(s, &w);
    if (err != STORE_OK) {
        fprintf(stderr, "syncrun %s: cannot create the webhook: %s\n", cmd, store_strerror(err));
        goto out;
    }
    if (a.json) {
        json_t *o = render_webhook(&w.webhook);
        json_object_set_new(o, "secret", json_string(secret));
        rc = cli_print_json(cmd, o);
        goto out;
    }
    printf("Created webhook %" PRId64 " in workspace %" PRId64 ", POSTing to %s.\n"
           "\n"
           "Its signing secret is below. It is shown only this once, so give it to the receiver now:\n"
           "\n"
           "    %s\n",
           w.webhook.id, a.ws, a.url, secret);
    rc = cli_flush_stdout(cmd);
out:
    store_write_release(&w);
    if (r != NULL)
        store_reader_close(r);
    arena_release(&ar);
    store_close(s);
    return rc;
}

static int webhook_list(int argc, char **argv)
{
    const char *cmd = "webhook list";
    wh_args_t a;
    int rc = parse_args(cmd, WH_LIST, argc, argv, &a);
    if (rc >= 0)
        return rc;
    store_t *s = cli_open_existing_store(cmd, a.db);
    if (s == NULL)
        return 1;
    arena_t ar = ARENA_INIT;
    store_reader_t *r = NULL;
    table_t *t = NULL;
    json_t *arr = json_array();
    if ((rc = cli_resolve_workspace(s, cmd, a.db, &a.ws)) != 0)
        goto out;
    rc = 1;
    if ((r = store_reader_open(s)) == NULL)
        goto out;
    static const char *const headers[] = {"ID", "URL", "EVENTS", "CONNECTION", "ENABLED", "DISABLED REASON"};
    t = table_new(6, headers);
    table_column(t, 0, 0, TABLE_RIGHT);
    table_column(t, 1, 60, TABLE_LEFT);
    table_column(t, 5, 60, TABLE_LEFT);
    int64_t after = 0;
    for (;;) {
        enum { PAGE = 500 };
        webhook_t *hooks;
        int n;
        if (store_webhook_list(r, a.ws, after, PAGE, &ar, &hooks, &n) != STORE_OK) {
            fprintf(stderr, "syncrun %s: cannot list the webhooks; see the log above\n", cmd);
            goto out;
        }
        for (int i = 0; i < n; i++) {
            char id[24], conn[24];
            snprintf(id, sizeof(id), "%" PRId64, hooks[i].id);
            snprintf(conn, sizeof(conn), "%" PRId64, hooks[i].connection_id);
            const char *cells[] = {id,
                                   hooks[i].url,
                                   hooks[i].events ? hooks[i].events : "*",
                                   hooks[i].connection_id ? conn : "*",
                                   hooks[i].enabled ? "yes" : "no",
                                   hooks[i].disabled_reason};
            json_array_append_new(arr, render_webhook(&hooks[i]));
            if (table_add_row(t, cells) != 0) {
                fprintf(stderr, "syncrun %s: too many webhooks to show\n", cmd);
                goto out;
            }
        }
        if (n < PAGE)
            break;
        after = hooks[n - 1].id;
    }
    if (a.json) {
        rc = cli_print_json(cmd, arr);
        arr = NULL;
        goto out;
    }
    if (table_rows(t) == 0) {
        fprintf(stderr, "No webhooks in workspace %" PRId64 ". Add one with 'syncrun webhook add URL'.\n", a.ws);
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
    arena_release(&ar);
    store_close(s);
    return rc;
}

static int webhook_rm(int argc, char **argv)
{
    const char *cmd = "webhook rm";
    wh_args_t a;
    int rc = parse_args(cmd, WH_RM, argc, argv, &a);
    if (rc >= 0)
        return rc;
    store_t *s = cli_open_existing_store(cmd, a.db);
    if (s == NULL)
        return 1;
    store_write_t w;
    memset(&w, 0, sizeof(w));
    if ((rc = cli_resolve_workspace(s, cmd, a.db, &a.ws)) != 0)
        goto out;
    rc = 1;
    w.op = OP_WEBHOOK_DELETE;
    w.workspace_id = a.ws;
    w.id = a.id;
    store_err_t err = store_exec(s, &w);
    if (err == STORE_NOT_FOUND) {
        fprintf(stderr, "syncrun %s: workspace %" PRId64 " has no webhook %" PRId64 "; see 'syncrun webhook list'\n",
                cmd, a.ws, a.id);
        goto out;
    }
    if (err != STORE_OK) {
        fprintf(stderr, "syncrun %s: cannot delete the webhook: %s\n", cmd, store_strerror(err));
        goto out;
    }
    if (a.json) {
        rc = cli_print_json(cmd, json_pack("{s:I,s:b}", "webhook_id", (json_int_t)a.id, "deleted", 1));
        goto out;
    }
    printf("Deleted webhook %" PRId64 " of workspace %" PRId64 ".\n", a.id, a.ws);
    rc = cli_flush_stdout(cmd);
out:
    store_write_release(&w);
    store_close(s);
    return rc;
}

static int webhook_deliveries(int argc, char **argv)
{
    const char *cmd = "webhook deliveries";
    wh_args_t a;
    int rc = parse_args(cmd, WH_DELIVERIES, argc, argv, &a);
    if (rc >= 0)
        return rc;
    store_t *s = cli_open_existing_store(cmd, a.db);
    if (s == NULL)
        return 1;
    arena_t ar = ARENA_INIT;
    store_reader_t *r = NULL;
    table_t *t = NULL;
    if ((rc = cli_resolve_workspace(s, cmd, a.db, &a.ws)) != 0)
        goto out;
    rc = 1;
    webhook_t h;
    webhook_delivery_t *ds;
    int n;
    store_err_t err = (r = store_reader_open(s)) == NULL ? STORE_ERROR : store_webhook_get(r, a.ws, a.id, &ar, &h);
    if (err == STORE_OK)
        err = store_delivery_list(r, a.ws, a.id, 0, a.status, (int)a.limit, &ar, &ds, &n);
    if (err == STORE_NOT_FOUND) {
        fprintf(stderr, "syncrun %s: workspace %" PRId64 " has no webhook %" PRId64 "; see 'syncrun webhook list'\n",
                cmd, a.ws, a.id);
        goto out;
    }
    if (err != STORE_OK) {
        fprintf(stderr, "syncrun %s: cannot read the deliveries: %s\n", cmd, store_strerror(err));
        goto out;
    }
    if (a.json) {
        json_t *arr = json_array();
        for (int i = 0; i < n; i++)
            json_array_append_new(arr, render_delivery(&ds[i]));
        rc = cli_print_json(cmd, arr);
        goto out;
    }
    if (n == 0) {
        fprintf(stderr, "No deliveries of webhook %" PRId64 " yet.\n", a.id);
        rc = 0;
        goto out;
    }
    static const char *const headers[] = {"ID",   "EVENT",   "STATUS",     "ATTEMPTS",
                                          "CODE", "LATENCY", "NEXT RETRY", "LAST ERROR"};
    t = table_new(8, headers);
    table_column(t, 0, 0, TABLE_RIGHT);
    table_column(t, 3, 0, TABLE_RIGHT);
    table_column(t, 7, 60, TABLE_LEFT);
    for (int i = 0; i < n; i++) {
        char id[24], att[16], code[16] = "", lat[24] = "", next[TIME_ISO_LEN] = "";
        snprintf(id, sizeof(id), "%" PRId64, ds[i].id);
        snprintf(att, sizeof(att), "%d", ds[i].attempts);
        if (ds[i].last_status_code)
            snprintf(code, sizeof(code), "%d", ds[i].last_status_code);
        if (ds[i].last_latency_ms >= 0)
            snprintf(lat, sizeof(lat), "%" PRId64 " ms", ds[i].last_latency_ms);
        if (ds[i].next_attempt_at)
            time_format_iso(ds[i].next_attempt_at, next);
        const char *cells[] = {id,   ds[i].event,     delivery_status_name(ds[i].status), att, code, lat,
                               next, ds[i].last_error};
        if (table_add_row(t, cells) != 0)
            goto out;
    }
    table_print(t, stdout);
    rc = cli_flush_stdout(cmd);
out:
    table_free(t);
    if (r != NULL)
        store_reader_close(r);
    arena_release(&ar);
    store_close(s);
    return rc;
}

int cmd_webhook(int argc, char **argv)
{
    static const cli_subcommand_t subs[] = {
        {"add", webhook_add}, {"list", webhook_list}, {"rm", webhook_rm}, {"deliveries", webhook_deliveries},
        {NULL, NULL},
    };
    return cli_dispatch("webhook", subs, &wh_command, argc, argv);
}
