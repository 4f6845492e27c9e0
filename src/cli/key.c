/* `syncrun key create|list|revoke`: API keys of a workspace. Tokens are shown once, at creation. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "api/blueconic.h"
#include "api/render.h"
#include "cli/cli.h"
#include "cli/opts.h"
#include "cli/table.h"
#include "util/timeutil.h"

enum { KEY_CREATE, KEY_LIST, KEY_REVOKE }; /* the subcommands, in key_subs' order */
static const char *const key_subs[] = {"create", "list", "revoke", NULL};
enum { OPT_SCOPE = 's', OPT_NAME = 'n', OPT_OAUTH = 'o', ONLY_CREATE = 1u << KEY_CREATE };

static const cli_opt_t key_opts[] = {
    {OPT_SCOPE, ONLY_CREATE, "scope", "SCOPE",
     "runs:read (every GET), runs:write (also trigger and update runs),\n"
     "admin (also create, change and delete connections), or metrics:read\n"
     "(GET /metrics only: for a Prometheus server)"},
    CLI_OPT_WORKSPACE_ENTRY(0),
    {OPT_NAME, ONLY_CREATE, "name", "NAME", "a label for the key, up to 200 bytes (create)"},
    {OPT_OAUTH, ONLY_CREATE, "oauth", NULL,
     "create: also print the key as an OAuth client (client_id and\n"
     "client_secret, for BlueConic's POST /rest/v2/oauth/token)"},
    CLI_OPT_DB_ENTRY(0),
    CLI_OPT_JSON_ENTRY(0, "create: print {\"key_id\":N,\"token\":\"...\"}; list: a JSON array;\n"
                          "revoke: {\"key_id\":N,\"revoked\":true}"),
    CLI_OPT_END,
};

static const cli_command_t key_command = {
    "key",
    key_subs,
    "usage: syncrun key create --scope SCOPE [--oauth] [--workspace ID] [--name NAME] [--db PATH] [--json]\n"
    "       syncrun key list [--workspace ID] [--db PATH] [--json]\n"
    "       syncrun key revoke KEY_ID [--workspace ID] [--db PATH] [--json]\n"
    "\n"
    "create prints a new API key's token, which is shown only this once; list shows the\n"
    "keys of a workspace by the first characters of their tokens; revoke ends a key (and\n"
    "the OAuth access tokens issued for it) for good. A running server stops accepting\n"
    "a key revoked here within 5 seconds (its per-thread key cache).\n",
    NULL,
    key_opts,
};

typedef struct key_args {
    const char *db, *name;
    int64_t key_id; /* revoke: the key */
    int64_t ws;     /* 0 = not given */
    int scope;      /* -1 = not given */
    int json;
    int oauth; /* create: show the key as an OAuth client too */
} key_args_t;

/* Parses the options of `key <cmd>` (mode: KEY_*); returns -1 to go on, else the exit code. */
static int parse_args(const char *cmd, int mode, int argc, char **argv, key_args_t *ka)
{
    int c, create = mode == KEY_CREATE;
    cli_opts_t p;
    memset(ka, 0, sizeof(*ka));
    ka->db = cli_default_db(); /* until p.common's, below */
    ka->scope = -1;
    cli_opts_init(&p, &key_command, mode, cmd, argc, argv);
    while ((c = cli_opts_next(&p)) > 0) {
        switch (c) {
        case OPT_SCOPE:
            ka->scope = scope_parse(p.arg);
            if (ka->scope < 0)
                return cli_usage_error(cmd, "--scope must be runs:read, runs:write, admin or metrics:read, not '%s'",
                                       p.arg);
            break;
        case OPT_NAME:
            ka->name = p.arg;
            if (strlen(p.arg) > CLI_NAME_MAX || !cli_is_utf8(p.arg))
                return cli_usage_error(cmd, "--name must be UTF-8 text of at most %d bytes", CLI_NAME_MAX);
            break;
        default: /* OPT_OAUTH */
            ka->oauth = 1;
            break;
        }
    }
    ka->db = p.common.db;
    ka->ws = p.common.workspace;
    ka->json = p.common.json;
    if (c < 0)
        return p.exit_code;
    if (mode == KEY_REVOKE) {
        if (optind >= argc)
            return cli_usage_error(cmd, "which key? give its id (the ID column of 'syncrun key list')");
        const char *id = argv[optind++];
        if (ids_parse_i64(id, strlen(id), 1, INT64_MAX, &ka->key_id) != 0)
            return cli_usage_error(cmd, "KEY_ID must be a key's id, a positive integer, not '%s'", id);
    }
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (create && ka->scope < 0)
        return cli_usage_error(cmd, "--scope is required: runs:read, runs:write or admin");
    return -1;
}

static int key_create(int argc, char **argv)
{
    const char *cmd = "key create";
    key_args_t ka;
    int rc = parse_args(cmd, KEY_CREATE, argc, argv, &ka);
    if (rc >= 0)
        return rc;
    store_t *s = cli_open_existing_store(cmd, ka.db);
    if (s == NULL)
        return 1;
    store_write_t w;
    memset(&w, 0, sizeof(w));
    rc = cli_resolve_workspace(s, cmd, ka.db, &ka.ws);
    if (rc != 0)
        goto out;

    rc = 1;
    w.op = OP_KEY_CREATE;
    w.workspace_id = ka.ws;
    w.key_scope = (scope_t)ka.scope;
    w.name = ka.name;
    store_err_t err = store_exec(s, &w);
    if (err == STORE_NOT_FOUND) {
        fprintf(stderr, "syncrun %s: %s has no workspace %" PRId64 "\n", cmd, ka.db, ka.ws);
        goto out;
    }
    if (err != STORE_OK) {
        fprintf(stderr, "syncrun %s: cannot create the key: %s%s%s\n", cmd, store_strerror(err),
                w.err_field != NULL ? " in " : "", w.err_field != NULL ? w.err_field : "");
        goto out;
    }
    /* As an OAuth client, the key's id names it and its token is the secret: nothing else is stored. */
    char client_id[48];
    snprintf(client_id, sizeof(client_id), BLUECONIC_CLIENT_ID_PREFIX "%" PRId64, w.key_id);
    if (ka.json) {
        json_t *o = json_pack("{s:I,s:s}", "key_id", (json_int_t)w.key_id, "token", w.token);
        if (ka.oauth)
            json_object_update_new(o, json_pack("{s:s,s:s}", "client_id", client_id, "client_secret", w.token));
        rc = cli_print_json(cmd, o);
        goto shown;
    }
    printf("Created %s key %" PRId64 " in workspace %" PRId64 ".\n"
           "\n"
           "Its token is below. It is shown only this once and cannot be recovered, so store it now:\n"
           "\n"
           "    %s\n"
           "\n"
           "Send it as a bearer token, e.g.:\n"
           "\n"
           "    curl -H \"Authorization: Bearer %s\" http://127.0.0.1:8080/v1/connections\n",
           scope_name((scope_t)ka.scope), w.key_id, ka.ws, w.token, w.token);
    if (ka.oauth)
        printf("\n"
               "As an OAuth client (client-credentials grant at POST /rest/v2/oauth/token):\n"
               "\n"
               "    client_id:     %s\n"
               "    client_secret: the token above\n",
               client_id);
    rc = cli_flush_stdout(cmd);
shown:
    if (rc)
        fprintf(stderr,
                "syncrun %s: key %" PRId64 " was created, but its token was not shown and cannot be recovered\n", cmd,
                w.key_id);

out:
    store_write_release(&w);
    store_close(s);
    return rc;
}

/* The key as the CLI's --json shows it; the API has no key listing to match. */
static json_t *key_to_json(const api_key_row_t *k)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(k->id));
    json_object_set_new(o, "name", render_str(k->name));
    json_object_set_new(o, "scope", json_string(scope_name(k->scope)));
    json_object_set_new(o, "prefix", render_str(k->prefix));
    json_object_set_new(o, "created_at", render_time(k->created_at));
    return o;
}

/* Every live key of workspace ws, read a page at a time (the store never hands back a cut list). */
static store_err_t read_all_keys(store_reader_t *r, int64_t ws, arena_t *a, api_key_row_t **out, int *n)
{
    enum { KEY_PAGE = 1000 };
    int room = 0, more = 1;
    int64_t after = 0;
    *out = NULL;
    *n = 0;
    while (more) {
        api_key_row_t *page;
        int got;
        store_err_t err = store_key_list(r, ws, after, KEY_PAGE, a, &page, &got, &more);
        if (err != STORE_OK)
            return err;
        if (*n + got > room) {
            room = (*n + got) * 2;
            api_key_row_t *all = arena_alloc(a, sizeof(*all) * (size_t)room);
            if (*n > 0)
                memcpy(all, *out, sizeof(*all) * (size_t)*n);
            *out = all;
        }
        if (got > 0) {
            memcpy(*out + *n, page, sizeof(*page) * (size_t)got);
            *n += got;
            after = page[got - 1].id;
        }
    }
    return STORE_OK;
}

static int key_list(int argc, char **argv)
{
    const char *cmd = "key list";
    key_args_t ka;
    int rc = parse_args(cmd, KEY_LIST, argc, argv, &ka);
    if (rc >= 0)
        return rc;
    store_t *s = cli_open_existing_store(cmd, ka.db);
    if (s == NULL)
        return 1;
    arena_t a = ARENA_INIT;
    store_reader_t *r = NULL;
    table_t *t = NULL;
    rc = cli_resolve_workspace(s, cmd, ka.db, &ka.ws);
    if (rc != 0)
        goto out;

    rc = 1;
    r = store_reader_open(s);
    if (r == NULL) {
        fprintf(stderr, "syncrun %s: cannot read %s; see the log above\n", cmd, ka.db);
        goto out;
    }
    api_key_row_t *keys = NULL;
    int n = 0;
    store_err_t err = read_all_keys(r, ka.ws, &a, &keys, &n);
    if (err != STORE_OK) {
        fprintf(stderr, "syncrun %s: cannot list the keys: %s\n", cmd, store_strerror(err));
        goto out;
    }
    if (ka.json) {
        json_t *arr = json_array();
        for (int i = 0; i < n; i++)
            json_array_append_new(arr, key_to_json(&keys[i]));
        rc = cli_print_json(cmd, arr);
        goto out;
    }
    if (n == 0) {
        fprintf(stderr, "No keys in workspace %" PRId64 ". Create one with 'syncrun key create --scope SCOPE'.\n",
                ka.ws);
        rc = 0;
        goto out;
    }
    static const char *const headers[] = {"ID", "NAME", "SCOPE", "PREFIX", "CREATED"};
    t = table_new(5, headers);
    table_column(t, 0, 0, TABLE_RIGHT);
    table_column(t, 1, 40, TABLE_LEFT);
    for (int i = 0; i < n; i++) {
        char id[24], created[TIME_ISO_LEN];
        snprintf(id, sizeof(id), "%" PRId64, keys[i].id);
        time_format_iso(keys[i].created_at, created);
        const char *cells[] = {id, keys[i].name, scope_name(keys[i].scope), keys[i].prefix, created};
        if (table_add_row(t, cells) != 0) {
            fprintf(stderr, "syncrun %s: too many keys to show\n", cmd);
            goto out;
        }
    }
    table_print(t, stdout);
    rc = cli_flush_stdout(cmd);

out:
    table_free(t);
    if (r != NULL)
        store_reader_close(r);
    arena_release(&a);
    store_close(s);
    return rc;
}

static int key_revoke(int argc, char **argv)
{
    const char *cmd = "key revoke";
    key_args_t ka;
    int rc = parse_args(cmd, KEY_REVOKE, argc, argv, &ka);
    if (rc >= 0)
        return rc;
    store_t *s = cli_open_existing_store(cmd, ka.db);
    if (s == NULL)
        return 1;
    store_write_t w;
    memset(&w, 0, sizeof(w));
    rc = cli_resolve_workspace(s, cmd, ka.db, &ka.ws);
    if (rc != 0)
        goto out;
    rc = 1;
    w.op = OP_KEY_REVOKE;
    w.workspace_id = ka.ws;
    w.key_id = ka.key_id;
    store_err_t err = store_exec(s, &w);
    if (err == STORE_NOT_FOUND) {
        fprintf(stderr,
                "syncrun %s: workspace %" PRId64 " has no live key %" PRId64
                " (revoked already, or another workspace's); see 'syncrun key list'\n",
                cmd, ka.ws, ka.key_id);
        goto out;
    }
    if (err != STORE_OK) {
        fprintf(stderr, "syncrun %s: cannot revoke the key: %s\n", cmd, store_strerror(err));
        goto out;
    }
    if (ka.json) {
        rc = cli_print_json(cmd, json_pack("{s:I,s:b}", "key_id", (json_int_t)ka.key_id, "revoked", 1));
        goto out;
    }
    printf("Revoked key %" PRId64 " of workspace %" PRId64 ".\n", ka.key_id, ka.ws);
    rc = cli_flush_stdout(cmd);
out:
    store_write_release(&w);
    store_close(s);
    return rc;
}

int cmd_key(int argc, char **argv)
{
    static const cli_subcommand_t subs[] = {
        {"create", key_create},
        {"list", key_list},
        {"revoke", key_revoke},
        {NULL, NULL},
    };
    return cli_dispatch("key", subs, &key_command, argc, argv);
}
