/* The webhook dispatcher: one thread that sends due webhook deliveries (Standard Webhooks: signed
 * POSTs, several at once through libcurl's multi interface), records every attempt through the store's writer, retries
 * failures with backoff and has the store disable a webhook that keeps failing. It sleeps until the next delivery is
 * due or the store reports a new one; deliveries are stored, so a restart carries on where the last stopped. */
#ifndef SYNCRUN_EXEC_WEBHOOK_H
#define SYNCRUN_EXEC_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include "model/webhook.h"
#include "store/store.h"
#include "util/buf.h"

/* Renders the body of delivery d (its first attempt; retries send the stored body again) into b,
 * reading what it needs through r. Returns 0, or -1 (the attempt then fails, to be retried). */
typedef int (*webhook_render_fn)(void *ctx, store_reader_t *r, const webhook_delivery_t *d, buf_t *b);

typedef struct webhook_dispatch_config {
    store_t *store;
    int allow_private;        /* 1: send to private, loopback, link-local... addresses too (tests) */
    webhook_retry_t retry;    /* zeroed fields take WEBHOOK_RETRY_DEFAULT's */
    int64_t disable_after_ms; /* disable a webhook failing this long; 0 = 3 days */
    int64_t timeout_ms;       /* one attempt at most; 0 = 10 s */
    int64_t keep_ms;          /* delivered and dead deliveries are deleted this long after they ended (at
                                 start, then hourly); 0 = 30 days */
    webhook_render_fn render;
    void *render_ctx;
} webhook_dispatch_config_t;

typedef struct webhook_dispatcher webhook_dispatcher_t;

/* Starts the thread. NULL on failure (logged). */
webhook_dispatcher_t *webhook_dispatcher_start(const webhook_dispatch_config_t *cfg);
/* Stops it: an attempt under way is cut short (and recorded as failed, to be retried). NULL is a no-op. */
void webhook_dispatcher_stop(webhook_dispatcher_t *d);

/* The webhook-signature header's value for a message: "v1," + base64(HMAC-SHA256(key, id "." ts "."
 * body)), key being the base64-decoded part of secret after "whsec_". Returns 0, or -1 when the secret
 * is not of that form. */
enum { WEBHOOK_SIGNATURE_LEN = 48 };
int webhook_sign(const char *secret, const char *msg_id, int64_t ts, const char *body, size_t len,
                 char out[WEBHOOK_SIGNATURE_LEN]);

#endif
