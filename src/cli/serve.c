/* `syncrun serve`: open the database and serve the HTTP APIs until SIGINT/SIGTERM. */
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "cli/cli.h"
#include "cli/demo.h"
#include "cli/opts.h"
#include "exec/pruner.h"
#include "exec/renderer.h"
#include "exec/runner.h"
#include "exec/webhook.h"
#include "util/ids.h"

enum {
    OPT_LISTEN = 'l',
    OPT_THREADS = 't',
    OPT_MAX_CONNECTIONS = 'm',
    OPT_IDLE_TIMEOUT = 'i',
    OPT_WRITE_TIMEOUT = 'w',
    OPT_RATE_LIMIT = 'r',
    OPT_TLS_CERT = 'C',
    OPT_TLS_KEY = 'K',
    OPT_TRUST_PROXY = 'P',
    OPT_METRICS_PUBLIC = 'M',
    OPT_ACCESS_LOG = 'A',
    OPT_PRUNE_INTERVAL = 'p',
    OPT_WH_ALLOW_PRIVATE = 'W',
    OPT_WH_DISABLE_AFTER = 'X',
    OPT_WH_RETRY_BASE = 'B',
    OPT_WH_TIMEOUT = 'T',
    OPT_WH_KEEP = 'k',
    OPT_DEMO = 'D',
};

static const cli_opt_t serve_opts[] = {
    CLI_OPT_DB_ENTRY(0),
    {OPT_LISTEN, 0, "listen", "HOST:PORT", "address to serve on (default 127.0.0.1:8080; port 0 picks a free one)"},
    {OPT_THREADS, 0, "threads", "N", "event-loop threads (default: one per CPU)"},
    {OPT_MAX_CONNECTIONS, 0, "max-connections", "N",
     "open connections at most (default 4096; lowered to fit the open-file limit)"},
    {OPT_IDLE_TIMEOUT, 0, "idle-timeout", "S",
     "close a connection idle between requests, or sending one, after S seconds\n"
     "(default 10)"},
    {OPT_WRITE_TIMEOUT, 0, "write-timeout", "S",
     "close a connection whose answer makes no progress for S seconds (default 30)"},
    {OPT_RATE_LIMIT, 0, "rate-limit", "D=N/S",
     "at most N requests per S seconds per API key on dialect D's routes\n"
     "(repeatable; default braze=100/60, as Braze documents; N=0 turns a limit off)"},
    {OPT_TLS_CERT, 0, "tls-cert", "FILE", "serve HTTPS with this PEM certificate chain (leaf first); needs --tls-key"},
    {OPT_TLS_KEY, 0, "tls-key", "FILE", "the certificate's PEM private key"},
    {OPT_TRUST_PROXY, 0, "trust-proxy", NULL,
     "believe X-Forwarded-Proto / Forwarded: proto= from a front proxy (for the\n"
     "scheme of the links syncrun builds); only behind a proxy that sets them"},
    {OPT_METRICS_PUBLIC, 0, "metrics-public", NULL,
     "GET /metrics without a key (process series only; a key sent still adds its\n"
     "workspace's run series). Default: an admin or metrics:read key"},
    {OPT_ACCESS_LOG, 0, "access-log", "FILE",
     "one JSON line per request (time, method, route template, status, duration,\n"
     "bytes, key id, request id) appended to FILE, or to stderr for '-'"},
    {OPT_PRUNE_INTERVAL, 0, "prune-interval", "S",
     "apply the retention policies (GET /v1/workspace/retention) every S seconds\n"
     "(default 3600, the first pass one interval after start; no policy, no pruning)"},
    {OPT_WH_ALLOW_PRIVATE, 0, "webhooks-allow-private", NULL,
     "let webhooks reach private, loopback, link-local, unique-local and CGNAT\n"
     "addresses (refused by default, when created and when delivering)"},
    {OPT_WH_DISABLE_AFTER, 0, "webhooks-disable-after", "S",
     "disable a webhook whose every delivery attempt failed for S seconds;\n"
     "deliveries are also given up S seconds after the alert (default 259200: 3 days)"},
    {OPT_WH_RETRY_BASE, 0, "webhooks-retry-base", "MS",
     "first retry delay's upper bound; it doubles per attempt up to an hour, each\n"
     "delay drawn at random below it (full jitter) (default 5000)"},
    {OPT_WH_TIMEOUT, 0, "webhooks-timeout", "S", "one delivery attempt at most S seconds (default 10)"},
    {OPT_WH_KEEP, 0, "webhooks-keep", "S",
     "delete delivered and given-up deliveries (and their attempts) S seconds after\n"
     "they ended, at start and hourly (default 2592000: 30 days)"},
    {OPT_DEMO, 0, "demo", NULL, "fill an empty database with a demo workspace and print a token"},
    CLI_OPT_END,
};

static const cli_command_t serve_command = {
    "serve",
    NULL,
    "usage: syncrun serve [--db PATH] [--listen HOST:PORT] [--threads N] [--max-connections N]\n"
    "                     [--idle-timeout S] [--write-timeout S] [--rate-limit D=N/S]\n"
    "                     [--tls-cert FILE --tls-key FILE] [--trust-proxy] [--metrics-public]\n"
    "                     [--access-log FILE|-] [--prune-interval S] [--webhooks-allow-private]\n"
    "                     [--webhooks-disable-after S] [--webhooks-retry-base MS] [--webhooks-timeout S]\n"
    "                     [--webhooks-keep S]\n"
    "                     [--demo]\n"
    "\n"
    "Serves the HTTP APIs on the database (created when missing) until SIGINT or SIGTERM.\n",
    NULL,
    serve_opts,
};

/* A number option's value from min to max into *out; 0, or 2 after a usage error saying what it
 * takes ("a number of seconds"). */
static int parse_number(const char *opt, const char *what, const char *v, int64_t min, int64_t max, int64_t *out)
{
    if (ids_parse_i64(v, strlen(v), min, max, out) != 0)
        return cli_usage_error("serve", "--%s must be %s from %" PRId64 " to %" PRId64 ", not '%s'", opt, what, min,
                               max, v);
    return 0;
}

/* Splits "host:port", "[v6]:port" or ":port". Returns 0 or -1. */
static int parse_listen(const char *s, char *host, size_t hostlen, int *port)
{
    /* s is --listen's value or its default: getopt_long sets optarg for a required_argument option */
    const char *colon = strrchr(s, ':'); /* NOLINT(clang-analyzer-core.NonNullParamChecker) */
    if (colon == NULL)
        return -1;
    int64_t p;
    if (ids_parse_i64(colon + 1, strlen(colon + 1), 0, 65535, &p) != 0)
        return -1;
    size_t hl = (size_t)(colon - s);
    const char *h = s;
    if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl == 0) {
        h = "0.0.0.0";
        hl = strlen(h);
    }
    if (hl >= hostlen)
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (int)p;
    return 0;
}

enum { MAX_RATE_LIMITS = 16 };

/* 1 when some route speaks the dialect `name`. */
static int dialect_known(const char *name)
{
    for (size_t i = 0; i < api_route_count; i++)
        if (strcmp(api_routes[i].dialect->name, name) == 0)
            return 1;
    return 0;
}

/* Parses "DIALECT=N/SECONDS" into the limits, replacing an earlier limit of the same dialect. */
static int parse_rate_limit(char *arg, http_rate_limit_t *limits, size_t *n)
{
    char *eq = strchr(arg, '='), *slash = eq ? strchr(eq, '/') : NULL;
    int64_t requests, seconds;
    if (eq == NULL || slash == NULL || ids_parse_i64(eq + 1, (size_t)(slash - eq - 1), 0, 1000000000, &requests) != 0 ||
        ids_parse_i64(slash + 1, strlen(slash + 1), 1, 86400, &seconds) != 0) {
        cli_usage_error("serve", "--rate-limit must be DIALECT=REQUESTS/SECONDS, e.g. braze=100/60, not '%s'", arg);
        return -1;
    }
    *eq = '\0';
    if (!dialect_known(arg)) {
        cli_usage_error("serve", "--rate-limit: no dialect named '%s'", arg);
        return -1;
    }
    size_t i = 0;
    while (i < *n && strcmp(limits[i].dialect, arg) != 0)
        i++;
    if (i == MAX_RATE_LIMITS) {
        cli_usage_error("serve", "too many --rate-limit options (at most %d dialects)", MAX_RATE_LIMITS);
        return -1;
    }
    if (i == *n)
        (*n)++;
    limits[i].dialect = arg;
    limits[i].requests = requests;
    limits[i].seconds = seconds;
    return 0;
}

typedef struct serve_state {
    store_t *store;
    const char *host, *scheme;
    runner_t *runner;
    pruner_t *pruner;
    int64_t prune_ms;
    char url[300];
    renderer_t *renderer; /* once listening, like the pruner */
} serve_state_t;

/* Once the listener is bound: commands learn the server's URL, so the runner starts now; the pruner too,
 * once every event loop holds its descriptors. */
static void on_listening(void *ctx, int port)
{
    serve_state_t *st = ctx;
    const char *h = strcmp(st->host, "0.0.0.0") == 0 || strcmp(st->host, "::") == 0 ? "127.0.0.1" : st->host;
    snprintf(st->url, sizeof(st->url), strchr(h, ':') ? "%s://[%s]:%d" : "%s://%s:%d", st->scheme, h, port);
    runner_config_t rc = {st->store, st->url, 10000, 16};
    st->runner = runner_start(&rc);
    st->pruner = pruner_start(st->store, st->prune_ms);
    st->renderer = renderer_start(st->store);
}

static int demo_prepare(store_t *s, const char *scheme, const char *host, int port)
{
    char token[IDS_TOKEN_LEN];
    int64_t n = store_workspace_count(s);
    if (n < 0)
        return -1;
    if (n == 0) {
        int nconn = 0, nruns = 0;
        if (demo_seed(s, token, &nconn, &nruns) != 0) {
            fprintf(stderr, "syncrun: could not create the demo data\n");
            return -1;
        }
        printf("syncrun demo: created workspace \"demo\" with %d connections and %d runs.\n", nconn, nruns);
    } else {
        /* The first key's token is not stored (only its hash): make a new one to print. */
        store_write_t w = {0};
        w.op = OP_KEY_CREATE;
        w.workspace_id = 1;
        w.key_scope = SCOPE_ADMIN;
        w.name = "demo";
        if (store_exec(s, &w) != STORE_OK) {
            store_write_release(&w);
            fprintf(stderr, "syncrun: could not create a demo key\n");
            return -1;
        }
        memcpy(token, w.token, IDS_TOKEN_LEN);
        store_write_release(&w);
        printf("syncrun demo: the database already has data; made a new admin key for workspace 1.\n");
    }
    const char *shown = strcmp(host, "0.0.0.0") == 0 ? "127.0.0.1" : host;
    printf("\n  URL:   %s://%s:%d\n  token: %s\n\n  dashboard: %s://%s:%d/#token=%s\n\n  try:   curl -H "
           "'Authorization: Bearer %s' "
           "%s://%s:%d/v1/connections\n         curl -u '%s:' '%s://%s:%d/api/v1/syncs/1/sync_runs?per_page=5'\n\n",
           scheme, shown, port, token, scheme, shown, port, token, token, scheme, shown, port, token, scheme, shown,
           port);
    fflush(stdout);
    return 0;
}

int cmd_serve(int argc, char **argv)
{
    const char *cmd = "serve", *listen = "127.0.0.1:8080", *tls_cert = NULL, *tls_key = NULL;
    int trust_proxy = 0, metrics_public = 0;
    const char *access_log = NULL;
    int64_t threads = 0, maxconn = 4096, idle_s = 10, write_s = 30, prune_s = 3600;
    int demo = 0, opt, wh_private = 0, bad = 0;
    int64_t wh_disable_s = 3 * 86400, wh_base_ms = 5000, wh_timeout_s = 10, wh_keep_s = 30 * 86400;
    http_rate_limit_t limits[MAX_RATE_LIMITS] = {{"braze", 100, 60}};
    size_t nlimits = 1;
    cli_opts_t p;
    cli_opts_init(&p, &serve_command, 0, cmd, argc, argv);
    while (!bad && (opt = cli_opts_next(&p)) > 0) {
        const char *v = p.arg;
        switch (opt) {
        case OPT_LISTEN:
            listen = v;
            break;
        case OPT_THREADS:
            bad = parse_number("threads", "a number", v, 1, 64, &threads);
            break;
        case OPT_MAX_CONNECTIONS:
            bad = parse_number("max-connections", "a number", v, 1, 1000000, &maxconn);
            break;
        case OPT_IDLE_TIMEOUT:
            bad = parse_number("idle-timeout", "a number of seconds", v, 1, 3600, &idle_s);
            break;
        case OPT_WRITE_TIMEOUT:
            bad = parse_number("write-timeout", "a number of seconds", v, 1, 3600, &write_s);
            break;
        case OPT_PRUNE_INTERVAL:
            bad = parse_number("prune-interval", "a number of seconds", v, 1, 86400, &prune_s);
            break;
        case OPT_DEMO:
            demo = 1;
            break;
        case OPT_WH_ALLOW_PRIVATE:
            wh_private = 1;
            break;
        case OPT_WH_DISABLE_AFTER:
            bad = parse_number("webhooks-disable-after", "a number of seconds", v, 1, 365 * 86400, &wh_disable_s);
            break;
        case OPT_WH_RETRY_BASE:
            bad = parse_number("webhooks-retry-base", "milliseconds", v, 1, 3600000, &wh_base_ms);
            break;
        case OPT_WH_KEEP:
            bad = parse_number("webhooks-keep", "a number of seconds", v, 1, 100 * 365 * 86400LL, &wh_keep_s);
            break;
        case OPT_WH_TIMEOUT:
            bad = parse_number("webhooks-timeout", "a number of seconds", v, 1, 300, &wh_timeout_s);
            break;
        case OPT_TLS_CERT:
            tls_cert = v;
            break;
        case OPT_TLS_KEY:
            tls_key = v;
            break;
        case OPT_TRUST_PROXY:
            trust_proxy = 1;
            break;
        case OPT_METRICS_PUBLIC:
            metrics_public = 1;
            break;
        case OPT_ACCESS_LOG:
            if (*v == '\0')
                return cli_usage_error(cmd, "--access-log needs a file name, or - for stderr");
            access_log = v;
            break;
        default: /* OPT_RATE_LIMIT */
            bad = parse_rate_limit(p.arg, limits, &nlimits) != 0;
            break;
        }
    }
    if (bad)
        return 2;
    if (opt < 0)
        return p.exit_code;
    const char *db = p.common.db;
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if ((tls_cert == NULL) != (tls_key == NULL))
        return cli_usage_error(cmd, "--tls-cert and --tls-key go together: give both (PEM files) or neither");
    const char *scheme = tls_cert != NULL ? "https" : "http";
    char host[256];
    int port;
    if (parse_listen(listen, host, sizeof(host), &port) != 0)
        return cli_usage_error(cmd, "--listen must be HOST:PORT, e.g. 127.0.0.1:8080, not '%s'", listen);
    /* SIGINT and SIGTERM are taken by http_serve's sigwait: block them before the first thread (the
     * store's writer) starts, so that every thread inherits the mask and a second signal during the
     * shutdown is never delivered to a thread where it would kill the process. A peer that closes
     * early must not kill it with SIGPIPE either. */
    signal(SIGPIPE, SIG_IGN);
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    store_t *s = cli_open_store(db);
    if (s == NULL)
        return 1;
    char why[256];
    if (store_ready(s, why, sizeof(why)) != 0) {
        fprintf(stderr, "syncrun serve: database %s cannot take writes (%s); not starting\n", db, why);
        store_close(s);
        return 1;
    }
    if (demo && demo_prepare(s, scheme, host, port) != 0) {
        store_close(s);
        return 1;
    }
    http_config_t cfg = {
        .listen_host = host,
        .listen_port = port,
        .threads = (int)threads,
        .max_connections = (int)maxconn,
        .idle_timeout_s = (int)idle_s,
        .write_timeout_s = (int)write_s,
        .routes = api_routes,
        .nroutes = api_route_count,
        .fallback_dialect = &native_dialect,
        .tls_cert_file = tls_cert,
        .tls_key_file = tls_key,
        .trust_proxy = trust_proxy,
        .metrics_public = metrics_public,
        .access_log = access_log,
    };
    /* A limit of 0 requests means no limit. */
    http_rate_limit_t active[MAX_RATE_LIMITS];
    for (size_t i = 0; i < nlimits; i++)
        if (limits[i].requests > 0)
            active[cfg.nrate_limits++] = limits[i];
    cfg.rate_limits = active;
    if (runner_recover(s) != 0) {
        store_close(s);
        return 1;
    }
    api_webhooks_configure(wh_private);
    webhook_dispatch_config_t wc = {
        .store = s,
        .allow_private = wh_private,
        .retry = {.base_ms = wh_base_ms},
        .disable_after_ms = wh_disable_s * 1000,
        .timeout_ms = wh_timeout_s * 1000,
        .keep_ms = wh_keep_s * 1000,
        .render = api_webhook_render,
    };
    webhook_dispatcher_t *dispatcher = webhook_dispatcher_start(&wc);
    if (dispatcher == NULL) {
        store_close(s);
        return 1;
    }
    serve_state_t state = {s, host, scheme, NULL, NULL, prune_s * 1000, "", NULL};
    cfg.on_listening = on_listening;
    cfg.on_listening_ctx = &state;
    int rc = http_serve(&cfg, s);
    webhook_dispatcher_stop(dispatcher);
    renderer_stop(state.renderer);
    pruner_stop(state.pruner);
    runner_stop(state.runner);
    store_close(s);
    return rc == 0 ? 0 : 1;
}
