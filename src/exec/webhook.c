/* The webhook dispatcher (webhook.h): picks due deliveries from the store, POSTs them with libcurl,
 * signed as Standard Webhooks specifies, and records each attempt through the writer. Unless private
 * targets are allowed, the address of every connection is checked when the socket is opened
 * (CURLOPT_OPENSOCKETFUNCTION), so a name that resolves differently at delivery time (DNS rebinding)
 * reaches no private address either. */
#include "exec/webhook.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <openssl/params.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "util/ids.h"
#include "util/log.h"
#include "util/netaddr.h"
#include "util/timeutil.h"

enum {
    DUE_BATCH = 16,                /* deliveries read per pass */
    IDLE_WAIT_MS = 60000,          /* with nothing due, look again this often anyway */
    RESPONSE_MAX = 64 * 1024,      /* bytes of an answer read at most (only its status matters) */
    PAYLOAD_MAX = 2 * 1024 * 1024, /* a rendered body at most */
    DEFAULT_TIMEOUT_MS = 10000,    /* one attempt at most */
    CONNECT_TIMEOUT_MS = 5000,     /* of which connecting at most */
    ERROR_TEXT_MAX = 300,          /* bytes of an attempt's error text */
};
#define DEFAULT_DISABLE_AFTER_MS (3 * 86400000LL)
#define DEFAULT_KEEP_MS          (30 * 86400000LL)
#define PRUNE_EVERY_MS           3600000LL
#define USER_AGENT               "syncrun-webhooks/1"
/* Attempts under way at once: a receiver that answers slowly (or never) holds one slot, not the queue. */
enum { WEBHOOK_PARALLEL_MAX = 8 };

/* One attempt under way: what it needs until it ends (the pass that read its delivery is gone by then). */
typedef struct xfer {
    CURL *easy; /* NULL: the slot is free */
    struct curl_slist *hdrs;
    buf_t body;
    int64_t delivery_id, created_at;
    int attempts; /* before this one */
    char msg_id[WEBHOOK_MSG_ID_LEN];
    int64_t at, t0;    /* wall clock at the start, monotonic start */
    int fresh_body;    /* the body was rendered now: stored with the attempt */
    size_t received;   /* bytes of the answer read */
    char refused[160]; /* set when the socket callback refused an address */
} xfer_t;

struct webhook_dispatcher {
    webhook_dispatch_config_t cfg;
    pthread_t thread;
    _Atomic int stopping;
    store_reader_t *reader;
    CURLM *multi;      /* curl_multi_wakeup (thread-safe) wakes the thread: a new delivery, or the stop */
    int64_t pruned_at; /* monotonic ms of the last pruning pass; 0 = never */
    xfer_t xfers[WEBHOOK_PARALLEL_MAX];
};

int webhook_sign(const char *secret, const char *msg_id, int64_t ts, const char *body, size_t len,
                 char out[WEBHOOK_SIGNATURE_LEN])
{
    unsigned char key[128], md[EVP_MAX_MD_SIZE];
    char head[WEBHOOK_MSG_ID_LEN + 32];
    size_t mdlen = 0;
    int rc = -1;
    EVP_MAC *mac = NULL;
    EVP_MAC_CTX *mc = NULL;
    long klen =
        strncmp(secret, "whsec_", 6) == 0 ? ids_b64_decode(secret + 6, strlen(secret + 6), key, sizeof(key)) : -1;
    int hlen = snprintf(head, sizeof(head), "%s.%" PRId64 ".", msg_id, ts);
    if (klen <= 0 || hlen < 0 || (size_t)hlen >= sizeof(head))
        goto out;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0), OSSL_PARAM_construct_end()};
    if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL || (mc = EVP_MAC_CTX_new(mac)) == NULL ||
        EVP_MAC_init(mc, key, (size_t)klen, params) != 1 ||
        EVP_MAC_update(mc, (const unsigned char *)head, (size_t)hlen) != 1 ||
        EVP_MAC_update(mc, (const unsigned char *)body, len) != 1 || EVP_MAC_final(mc, md, &mdlen, sizeof(md)) != 1 ||
        mdlen != 32)
        goto out;
    memcpy(out, "v1,", 4);
    ids_b64_encode(md, mdlen, out + 3);
    rc = 0;
out:
    EVP_MAC_CTX_free(mc);
    EVP_MAC_free(mac);
    OPENSSL_cleanse(key, sizeof(key));
    return rc;
}

/* ---- attempts ---- */

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    xfer_t *x = ctx;
    (void)p;
    x->received += size * n;
    return x->received > RESPONSE_MAX ? 0 : size * n; /* past the cap: stop reading (the status is known) */
}

/* Opens the socket of a connection, unless its address is one webhooks may not reach. */
static curl_socket_t on_open_socket(void *ctx, curlsocktype purpose, struct curl_sockaddr *addr)
{
    xfer_t *x = ctx;
    const char *why = netaddr_refusal(&addr->addr, addr->addrlen);
    if (why != NULL) {
        char text[INET6_ADDRSTRLEN] = "?";
        const void *raw = addr->family == AF_INET6
                              ? (const void *)&((const struct sockaddr_in6 *)(const void *)&addr->addr)->sin6_addr
                              : (const void *)&((const struct sockaddr_in *)(const void *)&addr->addr)->sin_addr;
        inet_ntop(addr->family, raw, text, sizeof(text));
        snprintf(x->refused, sizeof(x->refused),
                 "refused to connect to %s: a %s address (allowed only with --webhooks-allow-private)", text, why);
        return CURL_SOCKET_BAD;
    }
    return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

/* Records the attempt a through the writer (a->delivery_id set); next retry drawn here on failure. */
static void attempt_record(webhook_dispatcher_t *D, webhook_attempt_t *a, int attempts, int64_t created_at,
                           const char *msg_id)
{
    store_write_t w = {0};
    w.op = OP_DELIVERY_ATTEMPT;
    w.attempt = *a;
    if (a->error != NULL) {
        uint32_t r;
        ids_random(&r, sizeof(r));
        w.attempt.next_attempt_at =
            webhook_retry_next(&D->cfg.retry, attempts + 1, created_at, time_now_ms(), (double)r / 4294967296.0);
        w.attempt.disable_after_ms = D->cfg.disable_after_ms;
    }
    store_err_t e = store_exec(D->cfg.store, &w);
    if (e != STORE_OK)
        log_error("webhooks: could not record an attempt of delivery %" PRId64 ": %s", a->delivery_id,
                  store_strerror(e));
    else if (a->error != NULL)
        log_info("webhooks: delivery %" PRId64 " (%s) attempt %d failed: %s%s", a->delivery_id, msg_id, attempts + 1,
                 a->error, w.delivery.status == DELIVERY_DEAD ? "; given up" : "");
    store_write_release(&w);
}

static void xfer_release(webhook_dispatcher_t *D, xfer_t *x)
{
    if (x->easy != NULL) {
        curl_multi_remove_handle(D->multi, x->easy);
        curl_easy_cleanup(x->easy);
    }
    curl_slist_free_all(x->hdrs);
    buf_release(&x->body);
    memset(x, 0, sizeof(*x));
}

/* Starts an attempt of delivery d in the free slot x. A delivery that cannot be sent (its body not
 * rendered, its secret unusable) is recorded as a failed attempt at once. */
static void attempt_start(webhook_dispatcher_t *D, xfer_t *x, const webhook_delivery_t *d)
{
    char err[ERROR_TEXT_MAX] = "";
    char sig[WEBHOOK_SIGNATURE_LEN], h_id[WEBHOOK_MSG_ID_LEN + 16], h_ts[48], h_sig[WEBHOOK_SIGNATURE_LEN + 24];
    memset(x, 0, sizeof(*x));
    x->body = (buf_t)BUF_INIT(PAYLOAD_MAX);
    x->delivery_id = d->id;
    x->created_at = d->created_at;
    x->attempts = d->attempts;
    snprintf(x->msg_id, sizeof(x->msg_id), "%s", d->msg_id);
    x->at = time_now_ms();
    x->t0 = time_mono_ms();
    int64_t ts = x->at / 1000;
    if (d->payload != NULL) {
        buf_adds(&x->body, d->payload);
    } else if (D->cfg.render(D->cfg.render_ctx, D->reader, d, &x->body) != 0 || buf_failed(&x->body)) {
        snprintf(err, sizeof(err), "could not render the payload");
        goto fail;
    } else {
        x->fresh_body = 1;
    }
    if (buf_failed(&x->body) ||
        webhook_sign(d->secret, d->msg_id, ts, x->body.data ? x->body.data : "", x->body.len, sig) != 0) {
        snprintf(err, sizeof(err), "the webhook's secret is not usable for signing");
        goto fail;
    }
    snprintf(h_id, sizeof(h_id), "webhook-id: %s", d->msg_id);
    snprintf(h_ts, sizeof(h_ts), "webhook-timestamp: %" PRId64, ts);
    snprintf(h_sig, sizeof(h_sig), "webhook-signature: %s", sig);
    const char *lines[] = {"content-type: application/json", h_id, h_ts, h_sig, "expect:"};
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        struct curl_slist *n = curl_slist_append(x->hdrs, lines[i]);
        if (n == NULL) {
            snprintf(err, sizeof(err), "out of memory");
            goto fail;
        }
        x->hdrs = n;
    }
    CURL *c = x->easy = curl_easy_init();
    if (c == NULL) {
        snprintf(err, sizeof(err), "out of memory");
        goto fail;
    }
    curl_easy_setopt(c, CURLOPT_URL, d->url); /* curl copies the strings it is given */
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROXY, ""); /* never through a proxy from the environment */
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, USER_AGENT);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, x->hdrs);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, x->body.data ? x->body.data : "");
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->body.len);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)D->cfg.timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(D->cfg.timeout_ms < CONNECT_TIMEOUT_MS ? D->cfg.timeout_ms : CONNECT_TIMEOUT_MS));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(c, CURLOPT_PRIVATE, x);
    if (!D->cfg.allow_private) {
        curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
        curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, x);
    }
    if (curl_multi_add_handle(D->multi, c) != CURLM_OK) {
        snprintf(err, sizeof(err), "could not start the request");
        goto fail;
    }
    return;
fail:;
    webhook_attempt_t a = {0};
    a.delivery_id = x->delivery_id;
    a.at = x->at;
    a.error = err;
    a.payload = x->fresh_body ? buf_str(&x->body) : NULL;
    attempt_record(D, &a, x->attempts, x->created_at, x->msg_id);
    xfer_release(D, x);
}

/* Records the attempt that ended in x (curl's result rc) and frees the slot. */
static void attempt_end(webhook_dispatcher_t *D, xfer_t *x, CURLcode rc)
{
    char err[ERROR_TEXT_MAX];
    long code = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
    webhook_attempt_t a = {0};
    a.delivery_id = x->delivery_id;
    a.at = x->at;
    a.latency_ms = time_mono_ms() - x->t0;
    a.status_code = (int)code;
    a.payload = x->fresh_body ? buf_str(&x->body) : NULL;
    /* an answer cut at RESPONSE_MAX still has its status */
    if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && code > 0)) {
        if (x->refused[0] != '\0')
            snprintf(err, sizeof(err), "%s", x->refused);
        else if (rc == CURLE_OPERATION_TIMEDOUT)
            snprintf(err, sizeof(err), "no answer within %" PRId64 " ms", D->cfg.timeout_ms);
        else
            snprintf(err, sizeof(err), "%s", curl_easy_strerror(rc));
        a.error = err;
    } else if (code < 200 || code > 299) {
        snprintf(err, sizeof(err),
                 code >= 300 && code < 400 ? "answered HTTP %ld (redirects are not followed)" : "answered HTTP %ld",
                 code);
        a.error = err;
    }
    attempt_record(D, &a, x->attempts, x->created_at, x->msg_id);
    xfer_release(D, x);
}

static void on_delivery_due(void *ctx)
{
    webhook_dispatcher_t *D = ctx;
    curl_multi_wakeup(D->multi);
}

static int in_flight(const webhook_dispatcher_t *D, int64_t id, int *nfree)
{
    int found = 0;
    *nfree = 0;
    for (int i = 0; i < WEBHOOK_PARALLEL_MAX; i++) {
        if (D->xfers[i].easy == NULL)
            (*nfree)++;
        else if (D->xfers[i].delivery_id == id)
            found = 1;
    }
    return found;
}

/* Starts what is due and not under way, while slots are free. Returns how many it started (or
 * recorded as failed at once), or -1 when the store failed. */
static int start_due(webhook_dispatcher_t *D, arena_t *a)
{
    int started = 0;
    webhook_delivery_t *due = NULL;
    int n = 0, nfree;
    in_flight(D, 0, &nfree);
    if (nfree == 0)
        return 0;
    if (store_deliveries_due(D->reader, time_now_ms(), DUE_BATCH + WEBHOOK_PARALLEL_MAX, a, &due, &n) != STORE_OK)
        return -1;
    for (int i = 0; i < n && !atomic_load(&D->stopping); i++) {
        if (in_flight(D, due[i].id, &nfree) || nfree == 0)
            continue;
        for (int k = 0; k < WEBHOOK_PARALLEL_MAX; k++)
            if (D->xfers[k].easy == NULL) {
                attempt_start(D, &D->xfers[k], &due[i]);
                started++;
                break;
            }
    }
    return started;
}

/* Deletes finished deliveries older than keep_ms, a batch per write (none holds the writer long). */
static void prune(webhook_dispatcher_t *D)
{
    int64_t total = 0;
    for (;;) {
        store_write_t w = {0};
        w.op = OP_DELIVERIES_PRUNE;
        w.attempt.at = time_now_ms() - D->cfg.keep_ms;
        store_err_t e = store_exec(D->cfg.store, &w);
        int n = w.affected;
        store_write_release(&w);
        if (e != STORE_OK) {
            log_error("webhooks: could not prune old deliveries: %s", store_strerror(e));
            break;
        }
        total += n;
        if (n < STORE_PRUNE_DELIVERIES_BATCH || atomic_load(&D->stopping))
            break;
    }
    if (total > 0)
        log_info("webhooks: pruned %" PRId64 " finished deliveries", total);
}

static void *dispatcher_main(void *arg)
{
    webhook_dispatcher_t *D = arg;
    arena_t a = ARENA_INIT;
    while (!atomic_load(&D->stopping)) {
        if (D->pruned_at == 0 || time_mono_ms() - D->pruned_at >= PRUNE_EVERY_MS) {
            prune(D);
            D->pruned_at = time_mono_ms();
        }
        int started = start_due(D, &a), failed = started < 0;
        arena_release(&a);
        int running = 0, left, busy = 0;
        curl_multi_perform(D->multi, &running);
        CURLMsg *m;
        while ((m = curl_multi_info_read(D->multi, &left)) != NULL) {
            if (m->msg != CURLMSG_DONE)
                continue;
            xfer_t *x = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
            if (x != NULL)
                attempt_end(D, x, m->data.result);
        }
        for (int i = 0; i < WEBHOOK_PARALLEL_MAX; i++)
            busy += D->xfers[i].easy != NULL;
        /* sleep until the next delivery is due, a transfer moves, or curl_multi_wakeup */
        int64_t next = 0, wait = IDLE_WAIT_MS;
        if (failed || store_delivery_next_due(D->reader, &next) != STORE_OK)
            wait = 1000;
        else if (next != 0)
            wait = next - time_now_ms();
        /* due: just started (look again at once), or waiting for a free slot (a transfer's end wakes the
         * poll), or not startable (its attempt could not be recorded: look again in a second) */
        if (wait <= 0)
            wait = busy > 0 || started <= 0 ? 1000 : 0;
        if (wait > IDLE_WAIT_MS)
            wait = IDLE_WAIT_MS;
        if (busy > 0 && wait > 100)
            wait = 100; /* curl's own timers (timeouts) run in curl_multi_perform */
        if (wait > 0)
            curl_multi_poll(D->multi, NULL, 0, (int)wait, NULL);
    }
    /* attempts cut short by the stop are not attempts: the next start sends them again */
    for (int i = 0; i < WEBHOOK_PARALLEL_MAX; i++)
        if (D->xfers[i].easy != NULL)
            xfer_release(D, &D->xfers[i]);
    arena_release(&a);
    return NULL;
}

webhook_dispatcher_t *webhook_dispatcher_start(const webhook_dispatch_config_t *cfg)
{
    static const webhook_retry_t defaults = WEBHOOK_RETRY_DEFAULT;
    webhook_dispatcher_t *D = calloc(1, sizeof(*D));
    if (D == NULL)
        return NULL;
    D->cfg = *cfg;
    if (D->cfg.retry.base_ms <= 0)
        D->cfg.retry.base_ms = defaults.base_ms;
    if (D->cfg.retry.cap_ms <= 0)
        D->cfg.retry.cap_ms = defaults.cap_ms;
    if (D->cfg.retry.max_attempts <= 0)
        D->cfg.retry.max_attempts = defaults.max_attempts;
    if (D->cfg.disable_after_ms <= 0)
        D->cfg.disable_after_ms = DEFAULT_DISABLE_AFTER_MS;
    /* retried past the disable time by up to one more delay: a webhook that keeps failing is disabled
     * by a failed attempt after that time, even when no new alert comes */
    if (D->cfg.retry.window_ms <= 0)
        D->cfg.retry.window_ms = D->cfg.disable_after_ms + D->cfg.retry.cap_ms;
    if (D->cfg.timeout_ms <= 0)
        D->cfg.timeout_ms = DEFAULT_TIMEOUT_MS;
    if (D->cfg.keep_ms <= 0)
        D->cfg.keep_ms = DEFAULT_KEEP_MS;
    D->reader = store_reader_open(cfg->store);
    /* before the first handle, as libcurl asks (serve starts this before its event loops) */
    if (D->reader == NULL || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
        (D->multi = curl_multi_init()) == NULL)
        goto fail;
    store_set_delivery_hook(cfg->store, on_delivery_due, D);
    if (pthread_create(&D->thread, NULL, dispatcher_main, D) != 0) {
        store_set_delivery_hook(cfg->store, NULL, NULL);
        goto fail;
    }
    return D;
fail:
    log_error("webhooks: could not start the dispatcher");
    if (D->multi != NULL)
        curl_multi_cleanup(D->multi);
    store_reader_close(D->reader);
    free(D);
    return NULL;
}

void webhook_dispatcher_stop(webhook_dispatcher_t *D)
{
    if (D == NULL)
        return;
    store_set_delivery_hook(D->cfg.store, NULL, NULL);
    atomic_store(&D->stopping, 1);
    curl_multi_wakeup(D->multi);
    pthread_join(D->thread, NULL);
    curl_multi_cleanup(D->multi);
    store_reader_close(D->reader);
    free(D);
}
