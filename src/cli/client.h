/* The CLI's HTTP client for a running `syncrun serve`: libcurl easy API, one keep-alive
 * connection per client, JSON in and out with jansson, bounded answers, timeouts, and error
 * messages that say what to do ("is `syncrun serve` running?"). */
#ifndef SYNCRUN_CLI_CLIENT_H
#define SYNCRUN_CLI_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Exit codes shared by the client commands, besides 0 (success), 1 (failure) and 2 (bad usage). */
enum {
    CLI_EXIT_NOT_RUN = 3,     /* trigger/exec: skipped or attached, another run is in progress */
    CLI_EXIT_UNREACHABLE = 4, /* the server could not be reached */
};

enum {
    CLIENT_BODY_MAX = 8 * 1024 * 1024, /* default cap on an answer's body */
    CLIENT_LOG_MAX = 80 * 1024 * 1024, /* cap for GET .../log (a run log keeps at most 64 MiB) */
    CLIENT_TIMEOUT_S = 30,             /* default for a whole request */
    CLIENT_CONNECT_TIMEOUT_MS = 5000,  /* to open the connection */
    CLIENT_URL_MAX = 2048,             /* --url / $SYNCRUN_URL */
};

#define CLIENT_DEFAULT_URL "http://127.0.0.1:8080"

typedef enum client_err {
    CLIENT_OK = 0,
    CLIENT_UNREACHABLE, /* connect, send or receive failed, or timed out: worth retrying */
    CLIENT_HTTP_ERROR,  /* the server answered 4xx or 5xx (status and the API's message in the resp) */
    CLIENT_BAD_ANSWER,  /* too large, or not the JSON expected */
    CLIENT_FAILED,      /* anything else (out of memory, bad URL) */
} client_err_t;

typedef struct client client_t;

typedef struct client_resp {
    long status;
    char *body; /* heap, NUL-terminated (len excludes the NUL); owned by the resp */
    size_t len;
    json_t *json;    /* the body parsed when it is JSON, else NULL; owned by the resp */
    char etag[64];   /* the ETag header, or "" */
    int64_t dropped; /* X-Log-Bytes-Dropped, or -1 when absent */
    char error[600]; /* when not CLIENT_OK: one line saying what went wrong, without the "syncrun cmd: " */
} client_resp_t;

/* A client of the server at url (NULL: $SYNCRUN_URL, else CLIENT_DEFAULT_URL) with token (NULL:
 * $SYNCRUN_TOKEN; none is fine for /healthz only). NULL with a message on stderr when the URL is bad
 * or curl cannot start. Free it with client_free. */
client_t *client_new(const char *cmd, const char *url, const char *token);
void client_free(client_t *c);
/* The base URL in use, without a trailing '/'. */
const char *client_url(const client_t *c);
/* Limits of the next requests: whole-request timeout in seconds, and the answer's body cap. */
void client_set_limits(client_t *c, long timeout_s, size_t body_max);

/* One request of path (starting with '/') with an optional body (content_type NULL = JSON) and
 * extra headers (NULL-terminated "Name: value" list, or NULL). Fills *out, which the caller
 * releases with client_resp_release in every case. A 4xx/5xx answer is CLIENT_HTTP_ERROR with
 * out->status set and out->error holding the API's message; a 304 is CLIENT_OK. */
client_err_t client_request(client_t *c, const char *method, const char *path, const char *body, size_t len,
                            const char *content_type, const char *const *headers, client_resp_t *out);
/* client_request with body rendered from v (borrowed; NULL = no body). */
client_err_t client_json(client_t *c, const char *method, const char *path, json_t *v, const char *const *headers,
                         client_resp_t *out);
void client_resp_release(client_resp_t *r);

/* Prints "syncrun <cmd>: <r->error>" on stderr and returns the exit code for err: 4 when the
 * server could not be reached, else 1. */
int client_report(const char *cmd, client_err_t err, const client_resp_t *r);

/* 1 when s may name a run or a connection in a path: an integer id or a UUID. */
int client_valid_id(const char *s);

/* "user@host" of whoever runs the CLI, for trigger details. */
void client_user_at_host(char *out, size_t n);

#endif
