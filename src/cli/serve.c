/* `syncrun serve`: open the database and serve the HTTP APIs until SIGINT/SIGTERM. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "cli/cli.h"
#include "cli/demo.h"
#include "exec/pruner.h"
#include "exec/renderer.h"
#include "exec/runner.h"
#include "exec/webhook.h"
#include "util/ids.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: syncrun serve [--db PATH] [--listen HOST:PORT] [--threads N] [--max-connections N]\n"
            "                     [--idle-timeout S] [--write-timeout S] [--rate-limit D=N/S]\n"
            "                     [--tls-cert FILE --tls-key FILE] [--trust-proxy] [--metrics-public]\n"
            "                     [--access-log FILE|-] [--prune-interval S] [--webhooks-allow-private]\n"
            "                     [--webhooks-disable-after S] [--webhooks-retry-base MS] [--webhooks-timeout S]\n"
            "                     [--webhooks-keep S]\n"
            "                     [--demo]\n\n"
            "  --db PATH            database file (default $SYNCRUN_DB or ./syncrun.db; created if missing)\n"
            "  --listen HOST:PORT   address to serve on (default 127.0.0.1:8080; port 0 picks a free one)\n"
            "  --threads N          event-loop threads (default: one per CPU)\n"
            "  --max-connections N  open connections at most (default 4096; lowered to fit the open-file limit)\n"
            "  --idle-timeout S     close a connection idle between requests, or sending one, after S seconds\n"
            "                       (default 10)\n"
            "  --write-timeout S    close a connection whose answer makes no progress for S seconds (default 30)\n"
            "  --rate-limit D=N/S   at most N requests per S seconds per API key on dialect D's routes\n"
            "                       (repeatable; default braze=100/60, as Braze documents; N=0 turns a limit off)\n"
            "  --tls-cert FILE      serve HTTPS with this PEM certificate chain (leaf first); needs --tls-key\n"
            "  --tls-key FILE       the certificate's PEM private key\n"
            "  --trust-proxy        believe X-Forwarded-Proto / Forwarded: proto= from a front proxy (for the\n"
            "                       scheme of the links syncrun builds); only behind a proxy that sets them\n"
            "  --metrics-public     GET /metrics without a key (process series only; a key sent still adds its\n"
            "                       workspace's run series). Default: an admin or metrics:read key\n"
            "  --access-log FILE    one JSON line per request (time, method, route template, status, duration,\n"
            "                       bytes, key id, request id) appended to FILE, or to stderr for '-'\n"
            "  --prune-interval S   apply the retention policies (GET /v1/workspace/retention) every S seconds\n"
            "                       (default 3600, the first pass one interval after start; no policy, no pruning)\n"
            "  --webhooks-allow-private  let webhooks reach private, loopback, link-local, unique-local and CGNAT\n"
            "                       addresses (refused by default, when created and when delivering)\n"
            "  --webhooks-disable-after S  disable a webhook whose every delivery attempt failed for S seconds;\n"
            "                       deliveries are also given up S seconds after the alert (default 259200: 3 days)\n"
            "  --webhooks-retry-base MS  first retry delay's upper bound; it doubles per attempt up to an hour, each\n"
            "                       delay drawn at random below it (full jitter) (default 5000)\n"
            "  --webhooks-timeout S one delivery attempt at most S seconds (default 10)\n"
            "  --webhooks-keep S    delete delivered and given-up deliveries (and their attempts) S seconds after\n"
            "                       they ended, at start and hourly (default 2592000: 30 days)\n"
            "  --demo               fill an empty database with a demo workspace and print a token\n");
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
        fprintf(stderr, "syncrun serve: --rate-limit must be DIALECT=REQUESTS/SECONDS, e.g. braze=100/60 (got '%s')\n",
                arg);
        return -1;
    }
    *eq = '\0';
    if (!dialect_known(arg)) {
        fprintf(stderr, "syncrun serve: --rate-limit: no dialect named '%s'\n", arg);
        return -1;
    }
    size_t i = 0;
    while (i < *n && strcmp(limits[i].dialect, arg) != 0)
        i++;
    if (i == MAX_RATE_LIMITS) {
        fprintf(stderr, "syncrun serve: too many --rate-limit options\n");
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
    static const struct option opts[] = {{"db", required_argument, NULL, 'd'},
                                         {"listen", required_argument, NULL, 'l'},
                                         {"threads", required_argument, NULL, 't'},
                                         {"max-connections", required_argument, NULL, 'm'},
                                         {"demo", no_argument, NULL, 'D'},
                                         {"rate-limit", required_argument, NULL, 'r'},
                                         {"tls-cert", required_argument, NULL, 'C'},
                                         {"tls-key", required_argument, NULL, 'K'},
                                         {"trust-proxy", no_argument, NULL, 'P'},
                                         {"metrics-public", no_argument, NULL, 'M'},
                                         {"access-log", required_argument, NULL, 'A'},
                                         {"idle-timeout", required_argument, NULL, 'i'},
                                         {"write-timeout", required_argument, NULL, 'w'},
                                         {"prune-interval", required_argument, NULL, 'p'},
                                         {"webhooks-allow-private", no_argument, NULL, 'W'},
                                         {"webhooks-disable-after", required_argument, NULL, 'X'},
                                         {"webhooks-retry-base", required_argument, NULL, 'B'},
                                         {"webhooks-timeout", required_argument, NULL, 'T'},
                                         {"webhooks-keep", required_argument, NULL, 'k'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *db = cli_default_db(), *listen = "127.0.0.1:8080", *tls_cert = NULL, *tls_key = NULL;
    int trust_proxy = 0, metrics_public = 0;
    const char *access_log = NULL;
    int64_t threads = 0, maxconn = 4096, idle_s = 10, write_s = 30, prune_s = 3600;
    int demo = 0, opt, wh_private = 0;
    int64_t wh_disable_s = 3 * 86400, wh_base_ms = 5000, wh_timeout_s = 10, wh_keep_s = 30 * 86400;
    http_rate_limit_t limits[MAX_RATE_LIMITS] = {{"braze", 100, 60}};
    size_t nlimits = 1;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'd':
            db = optarg;
            break;
        case 'l':
            listen = optarg;
            break;
        case 't':
            if (ids_parse_i64(optarg, strlen(optarg), 1, 64, &threads) != 0) {
                fprintf(stderr, "syncrun serve: --threads must be from 1 to 64\n");
                return 2;
            }
            break;
        case 'm':
            if (ids_parse_i64(optarg, strlen(optarg), 1, 1000000, &maxconn) != 0) {
                fprintf(stderr, "syncrun serve: --max-connections must be from 1 to 1000000\n");
                return 2;
            }
            break;
        case 'i':
        case 'w':
            if (ids_parse_i64(optarg, strlen(optarg), 1, 3600, opt == 'i' ? &idle_s : &write_s) != 0) {
                fprintf(stderr, "syncrun serve: --%s must be a number of seconds from 1 to 3600\n",
                        opt == 'i' ? "idle-timeout" : "write-timeout");
                return 2;
            }
            break;
        case 'p':
            if (ids_parse_i64(optarg, strlen(optarg), 1, 86400, &prune_s) != 0) {
                fprintf(stderr, "syncrun serve: --prune-interval must be a number of seconds from 1 to 86400\n");
                return 2;
            }
            break;
        case 'D':
            demo = 1;
            break;
        case 'W':
            wh_private = 1;
            break;
        case 'X':
            if (ids_parse_i64(optarg, strlen(optarg), 1, 365 * 86400, &wh_disable_s) != 0) {
                fprintf(stderr, "syncrun serve: --webhooks-disable-after must be a number of seconds from 1 to "
                                "31536000\n");
                return 2;
            }
            break;
        case 'B':
            if (ids_parse_i64(optarg, strlen(optarg), 1, 3600000, &wh_base_ms) != 0) {
                fprintf(stderr, "syncrun serve: --webhooks-retry-base must be milliseconds from 1 to 3600000\n");
                return 2;
            }
            break;
        case 'k':
            if (ids_parse_i64(optarg, strlen(optarg), 1, 100 * 365 * 86400LL, &wh_keep_s) != 0) {
                fprintf(stderr, "syncrun serve: --webhooks-keep must be a number of seconds from 1 to 3153600000\n");
                return 2;
            }
            break;
        case 'T':
            if (ids_parse_i64(optarg, strlen(optarg), 1, 300, &wh_timeout_s) != 0) {
                fprintf(stderr, "syncrun serve: --webhooks-timeout must be a number of seconds from 1 to 300\n");
                return 2;
            }
            break;
        case 'C':
            tls_cert = optarg;
            break;
        case 'K':
            tls_key = optarg;
            break;
        case 'P':
            trust_proxy = 1;
            break;
        case 'M':
            metrics_public = 1;
            break;
        case 'A':
            if (*optarg == '\0') {
                fprintf(stderr, "syncrun serve: --access-log needs a file name, or - for stderr\n");
                return 2;
            }
            access_log = optarg;
            break;
        case 'r':
            if (parse_rate_limit(optarg, limits, &nlimits) != 0)
                return 2;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "syncrun serve: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if ((tls_cert == NULL) != (tls_key == NULL)) {
        fprintf(stderr, "syncrun serve: --tls-cert and --tls-key go together: give both (PEM files) or neither\n");
        return 2;
    }
    const char *scheme = tls_cert != NULL ? "https" : "http";
    char host[256];
    int port;
    if (parse_listen(listen, host, sizeof(host), &port) != 0) {
        fprintf(stderr, "syncrun serve: --listen must be HOST:PORT, e.g. 127.0.0.1:8080 (got '%s')\n", listen);
        return 2;
    }
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
