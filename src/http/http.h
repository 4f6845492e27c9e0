/* The HTTP layer: h2o server set-up, routing, authentication, request helpers and
 * responses. API handlers (src/api/) see only this header.
 *
 * Threads: N event-loop threads each own a listener (SO_REUSEPORT), an h2o context, a store
 * reader and their requests. Writes go to the store's writer; the answer is sent from the
 * loop thread when the writer reports the write durable. */
#ifndef SYNCRUN_HTTP_HTTP_H
#define SYNCRUN_HTTP_HTTP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "model/run.h"
#include "store/store.h"
#include "util/arena.h"

typedef struct http_thread http_thread_t;
typedef struct http_ctx http_ctx_t;

/* How a dialect writes its errors; every error a route answers goes through this. */
typedef struct http_dialect {
    const char *name;
    /* Sends the error answer. code: a machine code (native codes, e.g. "not_found"); field: the
     * field or parameter it is about, or NULL. */
    void (*send_error)(http_ctx_t *c, int status, const char *code, const char *message, const char *field);
} http_dialect_t;

typedef int (*http_handler_fn)(http_ctx_t *c);

enum { HTTP_AUTH_METRICS = 2 };

enum { HTTP_MAX_PARAMS = 4 };

typedef struct http_route {
    const char *method;  /* "GET", "POST", ... */
    const char *pattern; /* "/v1/runs/:id/events": ":name" matches one path segment */
    const http_dialect_t *dialect;
    int auth; /* 0: public; 1: needs a key with at least `scope`; HTTP_AUTH_METRICS: as 1, but public (a key
                 still read when sent) when the server runs with metrics_public */
    scope_t scope;
    http_handler_fn handler;
    int nocase; /* 1: the pattern's literal segments match in any letter case (as iTwin's paths do) */
} http_route_t;

struct http_ctx {
    void *req; /* the h2o_req_t */
    http_thread_t *thread;
    store_t *store;
    store_reader_t *reader;
    arena_t arena; /* released when the request ends */
    const http_route_t *route;
    api_key_info_t key;
    const char *params[HTTP_MAX_PARAMS]; /* decoded path parameters, in pattern order */
    int nparams;
};

/* A rate limit of one dialect's routes: `requests` per `seconds` per API key. */
typedef struct http_rate_limit {
    const char *dialect; /* http_dialect_t.name */
    int64_t requests, seconds;
} http_rate_limit_t;

typedef struct http_config {
    const char *listen_host;
    int listen_port;
    int threads;         /* event-loop threads; 0 = number of CPUs */
    int max_connections; /* open connections across all threads; lowered to fit RLIMIT_NOFILE */
    int idle_timeout_s;  /* to receive a request, and idle keep-alive; 0 = 10 */
    int write_timeout_s; /* an answer whose sending makes no progress this long is cut; 0 = 30 */
    const http_route_t *routes;
    size_t nroutes;
    const http_dialect_t *fallback_dialect; /* for 404/405 on unknown paths */
    const http_rate_limit_t *rate_limits;   /* at most one per dialect */
    size_t nrate_limits;
    /* TLS: both set = serve HTTPS only, with this PEM certificate chain and key. */
    const char *tls_cert_file, *tls_key_file;
    int metrics_public; /* /metrics answers without a key (HTTP_AUTH_METRICS routes) */
    /* One JSON line per answer: NULL = none, "-" = stderr, else a file appended to (created 0640). */
    const char *access_log;
    int access_log_fd; /* private: set by http_serve (-1 = none) */
    /* Believe X-Forwarded-Proto / Forwarded: proto= of a front proxy (the links syncrun builds use
     * the scheme the client used). Off by default: any client could send them. */
    int trust_proxy;
    /* Called once the listeners are bound and serving (port: the real one, also when 0 was asked);
     * may be NULL. */
    void (*on_listening)(void *ctx, int port);
    void *on_listening_ctx;
} http_config_t;

/* Runs the server until SIGINT or SIGTERM. Returns 0 after a clean stop, -1 if it could not start
 * (with the reason logged). */
int http_serve(const http_config_t *cfg, store_t *store);

/* ---- request ---- */

const char *http_method(http_ctx_t *c);
/* The request header `name` (lower case), NUL-terminated in the arena; NULL when absent. */
const char *http_header(http_ctx_t *c, const char *name);
/* The decoded value of the first query parameter whose percent-decoded name is `name` ("%24top"
 * is "$top"); NULL when absent. A value that cannot be decoded is returned as "\x01", which no
 * parameter accepts, so the caller's check reports the parameter as invalid. */
const char *http_query(http_ctx_t *c, const char *name);
/* The decoded value of field `name` of an application/x-www-form-urlencoded body, read as
 * http_query reads the query string (same decoding, same "\x01" for an undecodable value); NULL
 * when absent. The caller checks the Content-Type. */
const char *http_form(http_ctx_t *c, const char *name);
/* Parses the body as a JSON object. On failure sends the 400 and returns NULL. An empty body is
 * an empty object when allow_empty. The caller owns the result (json_decref). */
json_t *http_body_json(http_ctx_t *c, int allow_empty);
/* The raw body. */
const char *http_body(http_ctx_t *c, size_t *len);
/* The user name and password of an `Authorization: Basic` header, NUL-terminated in the arena;
 * -1 when there is none or it does not decode (each part at most 256 bytes). */
int http_basic_credentials(http_ctx_t *c, const char **user, const char **password);
/* Host the client addressed (Host header), for absolute links. */
const char *http_host(http_ctx_t *c);
/* The scheme the client used, for absolute links: "https" on a TLS connection, or when the front
 * proxy says so and trust_proxy is on (X-Forwarded-Proto, else Forwarded: proto=); else "http". */
const char *http_scheme(http_ctx_t *c);

/* Appends the HTTP metrics (requests by route template, method and status; latency by route) in
 * Prometheus text; routes: the table the server was started with. */
void http_metrics_write(buf_t *b, const http_route_t *routes, size_t nroutes);

/* ---- response ---- */

void http_add_header(http_ctx_t *c, const char *name, const char *value);
/* Sends status with body (Content-Type application/json); takes ownership of body (may be NULL
 * for no body). Always returns 0 so a handler can `return http_send_json(...)`. */
int http_send_json(http_ctx_t *c, int status, json_t *body);
/* Sends a pre-serialised body of the given content type. */
int http_send_raw(http_ctx_t *c, int status, const char *content_type, const char *body, size_t len);
/* The same for a body in memory from malloc that the answer takes over: it is freed once the
 * request is done (no copy of a large answer into the request's memory). */
int http_send_owned(http_ctx_t *c, int status, const char *content_type, char *body, size_t len);
/* Produces the next piece of a streamed answer: fills buf with up to cap bytes and sets *n (more
 * than 0 while the answer is not complete). Returns 0, or -1 when the answer cannot be finished as
 * announced: the connection is then cut, so the client sees an incomplete answer, never a wrong one. */
typedef int (*http_fill_fn)(void *data, char *buf, size_t cap, size_t *n);
/* Sends an answer of exactly len bytes produced a piece at a time by fill (called on this loop's
 * thread: the first piece now, the next ones as the client takes them), so an answer is never held
 * whole in memory. `data` must live as long as the request (e.g. in its arena). */
int http_send_stream(http_ctx_t *c, int status, const char *content_type, size_t len, http_fill_fn fill, void *data);
/* Sends the route dialect's error. Returns 0. */
int http_error(http_ctx_t *c, int status, const char *code, const char *message, const char *field);

/* ---- asynchronous writes ---- */

typedef struct http_write http_write_t;
/* Called on the request's loop thread when the write is durable (or failed): answer the request
 * from w (the store_write_t's results). */
typedef void (*http_write_done_fn)(http_ctx_t *c, store_write_t *w, void *data);

/* A write bound to this request: zero-initialised, lives as long as the request. */
store_write_t *http_write_new(http_ctx_t *c);
/* Hands w to the store's writer; `done` answers the request later on this thread. `data` (may be
 * NULL) is passed along; a json_t the write's strings point into should be passed as `hold`, it is
 * released after done. Returns 0. */
int http_write_submit(http_ctx_t *c, store_write_t *w, http_write_done_fn done, void *data, json_t *hold);

/* ---- name resolution ---- */

struct addrinfo;
/* Called on the request's loop thread with the addresses of the name (valid during the call only),
 * or res NULL and err saying why it did not resolve. Must answer the request (or go on to a write). */
typedef void (*http_resolved_fn)(http_ctx_t *c, const struct addrinfo *res, const char *err, void *data);
/* Resolves host off the event loop (on h2o's resolver threads: a slow DNS server delays this request,
 * not the others of its loop), then calls done. If the request ends first (the client left), done is
 * not called. */
void http_resolve(http_ctx_t *c, const char *host, http_resolved_fn done, void *data);

/* ---- long-poll ---- */

/* Parks the request until run `run_id` changes (a commit touches it) or `seconds` pass, then calls
 * `wake` on the loop thread with timed_out set accordingly. `wake` must answer the request. */
typedef void (*http_wake_fn)(http_ctx_t *c, int timed_out, void *data);
int http_wait_run(http_ctx_t *c, int64_t run_id, int seconds, http_wake_fn wake, void *data);

#endif
