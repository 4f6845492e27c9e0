/* Internals of the HTTP layer shared by its files. Not for handlers. */
#ifndef SYNCRUN_HTTP_INTERNAL_H
#define SYNCRUN_HTTP_INTERNAL_H

#include <h2o.h>
#include <stdatomic.h>

#include "http/http.h"

enum { HTTP_WAIT_MAX_SECONDS = 60 };
/* After EMFILE/ENFILE the listener pauses this long (or until a connection closes). */
enum { HTTP_ACCEPT_RETRY_MS = 100 };
/* Descriptors kept out of the connection cap: per loop thread (its queue, epoll, listener, store
 * reader) and for the rest of the process (runner pipes, webhooks, SQLite's files). */
enum { HTTP_FDS_PER_THREAD = 8, HTTP_FDS_SPARE = 48 };
/* An answer is sent in pieces of this size, so that each piece's progress is seen. */
enum { HTTP_SEND_CHUNK = 64 * 1024 };

/* Counts the loops that finished setting up, for the thread that started them. */
typedef struct http_ready {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int count;
} http_ready_t;

/* A key recently found valid, remembered by one loop (http/auth.c). */
enum { AUTH_CACHE_SLOTS = 256, AUTH_CACHE_TOKEN_MAX = 80, AUTH_CACHE_TTL_MS = 5000 };
typedef struct auth_entry {
    char token[AUTH_CACHE_TOKEN_MAX];
    size_t len; /* 0 = empty */
    api_key_info_t info;
    uint64_t generation; /* store_keys_generation when it was looked up */
    int64_t at_ms;       /* monotonic time of the lookup */
} auth_entry_t;

/* What the server keeps of one accepted connection (the socket's on_close.data), so that a request
 * can reach its socket's descriptor: to notice a parked long-poll's client leaving, and to cut a
 * connection whose answer stopped moving. */
typedef struct http_conn {
    http_thread_t *thread;
    int fd;
    struct watcher *watcher; /* the long-poll parked on this connection, or NULL */
} http_conn_t;

/* The connection a request arrived on; NULL if it was not accepted by this server. */
http_conn_t *http_conn_of(h2o_req_t *req);
/* Cuts the connection at once: pending output is dropped (RST) and h2o, which sees its next write
 * fail, closes it and frees its slot. */
void http_conn_abort(http_conn_t *hc);

struct http_thread {
    int index;
    const http_config_t *cfg;
    store_t *store;
    store_reader_t *reader;
    h2o_evloop_t *loop;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    h2o_socket_t *listener;
    int listen_fd;
    int listener_paused;
    int nconns, max_conns;
    h2o_timeout_t accept_retry_timeout; /* after EMFILE/ENFILE: try accepting again later */
    h2o_timeout_entry_t accept_retry;
    int64_t accept_error_logged_ms;
    h2o_timeout_t write_timeout; /* an answer that makes no progress this long is cut */
    h2o_multithread_queue_t *queue;
    h2o_multithread_receiver_t write_receiver;  /* durable writes coming back from the writer */
    h2o_multithread_receiver_t change_receiver; /* "these runs changed" from the writer */
    int pending_writes;
    h2o_linklist_t watchers;
    atomic_int nwatchers; /* read by the writer thread to skip threads nobody waits on */
    h2o_timeout_t wait_timeouts[HTTP_WAIT_MAX_SECONDS];
    int wait_timeout_ready[HTTP_WAIT_MAX_SECONDS];
    pthread_t tid;
    http_ready_t *ready; /* counted once the loop, context and queue exist */
    auth_entry_t auth_cache[AUTH_CACHE_SLOTS];
};

/* Matches method+path against the route table. Returns the route, or NULL with *status set to
 * 404 or 405 (and *allow listing the methods of the path, for 405). Path params go into c. */
const http_route_t *http_route_match(http_ctx_t *c, const http_route_t *routes, size_t n, int *status, char *allow,
                                     size_t allowlen);
/* Authenticates the request for route; on failure sends the error and returns -1. */
int http_authenticate(http_ctx_t *c, const http_route_t *route);
/* 1 when the request's body framing is ambiguous, the ground of request smuggling behind a proxy:
 * Transfer-Encoding together with Content-Length, Transfer-Encoding more than once, or
 * Content-Lengths that differ. */
int http_framing_ambiguous(h2o_req_t *req);
/* The TLS server context of the certificate chain and key (PEM files); NULL, with the reason
 * logged, when they cannot be used. */
SSL_CTX *http_tls_context(const char *cert_file, const char *key_file);
/* Percent-decodes s[0..n) into the arena; NULL if malformed or if it decodes to a NUL byte. */
char *http_percent_decode(arena_t *a, const char *s, size_t n, int plus_is_space);

#endif
