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
#define USER_AGENT               "syncrun-webhooks/1"

struct webhook_dispatcher {
    webhook_dispatch_config_t cfg;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* signalled on a new due delivery and on stop */
    int notified;      /* under mu: a delivery became due since the last pass */
    _Atomic int stopping;
    store_reader_t *reader;
    CURL *curl;
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

/* ---- one attempt ---- */

typedef struct attempt {
    webhook_dispatcher_t *d;
    size_t received;   /* bytes of the answer read */
    char refused[160]; /* set when the socket callback refused an address */
} attempt_t;

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    attempt_t *a = ctx;
    (void)p;
    a->received += size * n;
    return a->received > RESPONSE_MAX ? 0 : size * n; /* past the cap: stop reading (the status is known) */
}

static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    attempt_t *a = ctx;
    return atomic_load(&a->d->stopping) ? 1 : 0; /* a stop cuts the attempt short */
}

/* Opens the socket of a connection, unless its address is one webhooks may not reach. */
static curl_socket_t on_open_socket(void *ctx, curlsocktype purpose, struct curl_sockaddr *addr)
{
    attempt_t *a = ctx;
    const char *why = netaddr_refusal(&addr->addr, addr->addrlen);
    if (why != NULL) {
        char text[INET6_ADDRSTRLEN] = "?";
        const void *raw = addr->family == AF_INET6
                              ? (const void *)&((const struct sockaddr_in6 *)(const void *)&addr->addr)->sin6_addr
                              : (const void *)&((const struct sockaddr_in *)(const void *)&addr->addr)->sin_addr;
        inet_ntop(addr->family, raw, text, sizeof(text));
        snprintf(a->refused, sizeof(a->refused),
                 "refused to connect to %s: a %s address (allowed only with --webhooks-allow-private)", text, why);
        return CURL_SOCKET_BAD;
    }
    return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

/* Sends body to d's URL; fills the attempt's status code, latency and error (NULL on 2xx). */
static void attempt_send(webhook_dispatcher_t *D, const webhook_delivery_t *d, const char *body, size_t len,
                         webhook_attempt_t *out, char *err, size_t errlen)
{
    attempt_t a = {D, 0, ""};
    char sig[WEBHOOK_SIGNATURE_LEN], h_id[WEBHOOK_MSG_ID_LEN + 16], h_ts[48], h_sig[WEBHOOK_SIGNATURE_LEN + 24];
    struct curl_slist *hdrs = NULL;
    int64_t ts = time_now_ms() / 1000;
    int64_t t0 = time_mono_ms();
    out->at = time_now_ms();
    out->status_code = 0;
    out->error = NULL;
    if (webhook_sign(d->secret, d->msg_id, ts, body, len, sig) != 0) {
        snprintf(err, errlen, "the webhook's secret is not usable for signing");
        out->error = err;
        out->latency_ms = 0;
        return;
    }
    snprintf(h_id, sizeof(h_id), "webhook-id: %s", d->msg_id);
    snprintf(h_ts, sizeof(h_ts), "webhook-timestamp: %" PRId64, ts);
    snprintf(h_sig, sizeof(h_sig), "webhook-signature: %s", sig);
    const char *lines[] = {"content-type: application/json", h_id, h_ts, h_sig, "expect:"};
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        struct curl_slist *n = curl_slist_append(hdrs, lines[i]);
        if (n == NULL)
            break;
        hdrs = n;
    }
    CURL *c = D->curl;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, d->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROXY, ""); /* never through a proxy from the environment */
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, USER_AGENT);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)D->cfg.timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(D->cfg.timeout_ms < CONNECT_TIMEOUT_MS ? D->cfg.timeout_ms : CONNECT_TIMEOUT_MS));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &a);
    if (!D->cfg.allow_private) {
        curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
        curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &a);
    }
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(hdrs);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    out->latency_ms = time_mono_ms() - t0;
    out->status_code = (int)code;
    /* an answer cut at RESPONSE_MAX still has its status */
    if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && code > 0)) {
        if (a.refused[0] != '\0')
            snprintf(err, errlen, "%s", a.refused);
        else if (rc == CURLE_OPERATION_TIMEDOUT)
            snprintf(err, errlen, "no answer within %" PRId64 " ms", D->cfg.timeout_ms);
        else
            snprintf(err, errlen, "%s", curl_easy_strerror(rc));
        out->error = err;
    } else if (code < 200 || code > 299) {
        snprintf(err, errlen,
                 code >= 300 && code < 400 ? "answered HTTP %ld (redirects are not followed)" : "answered HTTP %ld",
                 code);
        out->error = err;
    }
}

/* Makes one attempt of delivery d and records it. */
static void attempt_one(webhook_dispatcher_t *D, const webhook_delivery_t *d)
{
    char err[ERROR_TEXT_MAX];
    buf_t body = BUF_INIT(PAYLOAD_MAX);
    const char *payload = d->payload;
    size_t len = payload != NULL ? strlen(payload) : 0;
    store_write_t w = {0};
    w.op = OP_DELIVERY_ATTEMPT;
    w.attempt.delivery_id = d->id;
    if (payload == NULL) {
        if (D->cfg.render(D->cfg.render_ctx, D->reader, d, &body) != 0 || buf_failed(&body)) {
            snprintf(err, sizeof(err), "could not render the payload");
            w.attempt.at = time_now_ms();
            w.attempt.error = err;
        } else {
            payload = w.attempt.payload = buf_str(&body);
            len = body.len;
        }
    }
    if (payload != NULL)
        attempt_send(D, d, payload, len, &w.attempt, err, sizeof(err));
    if (atomic_load(&D->stopping) && w.attempt.error != NULL) {
        buf_release(&body); /* cut short by the stop: not an attempt; the next start sends it */
        return;
    }
    if (w.attempt.error != NULL) {
        uint32_t r;
        ids_random(&r, sizeof(r));
        double rnd = (double)r / 4294967296.0;
        w.attempt.next_attempt_at =
            webhook_retry_next(&D->cfg.retry, d->attempts + 1, d->created_at, time_now_ms(), rnd);
        w.attempt.disable_after_ms = D->cfg.disable_after_ms;
    }
    store_err_t e = store_exec(D->cfg.store, &w);
    if (e != STORE_OK)
        log_error("webhooks: could not record an attempt of delivery %" PRId64 ": %s", d->id, store_strerror(e));
    else if (w.attempt.error != NULL)
        log_info("webhooks: delivery %" PRId64 " (%s) attempt %d failed: %s%s", d->id, d->msg_id, d->attempts + 1,
                 w.attempt.error, w.delivery.status == DELIVERY_DEAD ? "; given up" : "");
    store_write_release(&w);
    buf_release(&body);
}

static void on_delivery_due(void *ctx)
{
    webhook_dispatcher_t *D = ctx;
    pthread_mutex_lock(&D->mu);
    D->notified = 1;
    pthread_cond_signal(&D->cv);
    pthread_mutex_unlock(&D->mu);
}

static void *dispatcher_main(void *arg)
{
    webhook_dispatcher_t *D = arg;
    arena_t a = ARENA_INIT;
    while (!atomic_load(&D->stopping)) {
        pthread_mutex_lock(&D->mu);
        D->notified = 0;
        pthread_mutex_unlock(&D->mu);
        webhook_delivery_t *due = NULL;
        int n = 0;
        store_err_t e = store_deliveries_due(D->reader, time_now_ms(), DUE_BATCH, &a, &due, &n);
        for (int i = 0; e == STORE_OK && i < n && !atomic_load(&D->stopping); i++)
            attempt_one(D, &due[i]);
        arena_release(&a);
        if (e == STORE_OK && n == DUE_BATCH)
            continue; /* more may be due */
        int64_t next = 0;
        if (e == STORE_OK)
            e = store_delivery_next_due(D->reader, &next);
        int64_t now = time_now_ms();
        int64_t wait = e != STORE_OK ? 1000 : next == 0 ? IDLE_WAIT_MS : next - now;
        if (wait > IDLE_WAIT_MS)
            wait = IDLE_WAIT_MS;
        if (wait <= 0)
            continue;
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += wait / 1000;
        until.tv_nsec += (long)(wait % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&D->mu);
        while (!D->notified && !atomic_load(&D->stopping))
            if (pthread_cond_timedwait(&D->cv, &D->mu, &until) != 0)
                break;
        pthread_mutex_unlock(&D->mu);
    }
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
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&D->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&D->mu, NULL);
    D->reader = store_reader_open(cfg->store);
    /* before the first handle, as libcurl asks (serve starts this before its event loops) */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        goto fail;
    D->curl = curl_easy_init();
    if (D->reader == NULL || D->curl == NULL)
        goto fail;
    store_set_delivery_hook(cfg->store, on_delivery_due, D);
    if (pthread_create(&D->thread, NULL, dispatcher_main, D) != 0) {
        store_set_delivery_hook(cfg->store, NULL, NULL);
        goto fail;
    }
    return D;
fail:
    log_error("webhooks: could not start the dispatcher");
    if (D->curl != NULL)
        curl_easy_cleanup(D->curl);
    store_reader_close(D->reader);
    pthread_cond_destroy(&D->cv);
    pthread_mutex_destroy(&D->mu);
    free(D);
    return NULL;
}

void webhook_dispatcher_stop(webhook_dispatcher_t *D)
{
    if (D == NULL)
        return;
    store_set_delivery_hook(D->cfg.store, NULL, NULL);
    pthread_mutex_lock(&D->mu);
    atomic_store(&D->stopping, 1);
    pthread_cond_signal(&D->cv);
    pthread_mutex_unlock(&D->mu);
    pthread_join(D->thread, NULL);
    curl_easy_cleanup(D->curl);
    store_reader_close(D->reader);
    pthread_cond_destroy(&D->cv);
    pthread_mutex_destroy(&D->mu);
    free(D);
}
