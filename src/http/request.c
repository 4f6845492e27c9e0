/* Request helpers (headers, query, body), responses, routing and the error path. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>

#include "http/internal.h"
#include "util/jsonw.h"
#include "util/metrics.h"
#include "util/timeutil.h"

const char *http_method(http_ctx_t *c)
{
    h2o_req_t *req = c->req;
    return arena_strndup(&c->arena, req->method.base, req->method.len);
}

const char *http_header(http_ctx_t *c, const char *name)
{
    h2o_req_t *req = c->req;
    ssize_t i = h2o_find_header_by_str(&req->headers, name, strlen(name), -1);
    if (i < 0)
        return NULL;
    h2o_iovec_t v = req->headers.entries[i].value;
    return arena_strndup(&c->arena, v.base, v.len);
}

/* Value of a raw header line: after the colon, without surrounding blanks. */
static void raw_header_value(const char *colon, const char *eol, const char **v, size_t *vlen)
{
    const char *b = colon + 1, *e = eol;
    while (b < e && (*b == ' ' || *b == '\t'))
        b++;
    while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *v = b;
    *vlen = (size_t)(e - b);
}

int http_framing_ambiguous(h2o_req_t *req)
{
    /* h2o 2.2 keeps neither header in req->headers (it picks one of them to read the body by, the
     * last Transfer-Encoding or else the first Content-Length), so this reads the request's header
     * block, which stays at the start of the socket's input buffer until the answer is sent (the
     * previous request's bytes are consumed then). */
    h2o_socket_t *sock = req->conn->callbacks->get_socket != NULL ? req->conn->callbacks->get_socket(req->conn) : NULL;
    if (sock == NULL || sock->input == NULL)
        return 0;
    const char *p = sock->input->bytes, *end = p + sock->input->size;
    while (p < end && (*p == '\r' || *p == '\n')) /* empty lines before a request are skipped */
        p++;
    int te = 0, cl = 0;
    const char *clv = NULL;
    size_t clvlen = 0;
    const char *eol = memchr(p, '\n', (size_t)(end - p)); /* skip the request line */
    while (eol != NULL) {
        p = eol + 1;
        if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
            break;
        const char *le = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
        if (le == p)
            break; /* the blank line that ends the headers */
        const char *colon = memchr(p, ':', (size_t)(le - p)), *v;
        size_t vlen;
        if (colon == NULL)
            continue;
        size_t nlen = (size_t)(colon - p);
        if (nlen == sizeof("transfer-encoding") - 1 && strncasecmp(p, "transfer-encoding", nlen) == 0) {
            te++;
        } else if (nlen == sizeof("content-length") - 1 && strncasecmp(p, "content-length", nlen) == 0) {
            raw_header_value(colon, le, &v, &vlen);
            if (cl++ > 0 && (vlen != clvlen || memcmp(v, clv, vlen) != 0))
                return 1;
            clv = v;
            clvlen = vlen;
        }
    }
    return te > 1 || (te > 0 && cl > 0);
}

const char *http_host(http_ctx_t *c)
{
    h2o_req_t *req = c->req;
    /* Without a Host header h2o supplies its host configuration's name ("default"): answer the
     * address the connection arrived on (the listen address) instead. */
    if (req->hostconf != NULL && req->input.authority.base == req->hostconf->authority.hostport.base &&
        req->conn->callbacks->get_sockname != NULL) {
        struct sockaddr_storage ss;
        char host[NI_MAXHOST], out[NI_MAXHOST + 16];
        socklen_t len = req->conn->callbacks->get_sockname(req->conn, (struct sockaddr *)&ss);
        if (len > 0 && h2o_socket_getnumerichost((struct sockaddr *)&ss, len, host) != SIZE_MAX) {
            int v6 = ss.ss_family == AF_INET6;
            snprintf(out, sizeof(out), "%s%s%s:%d", v6 ? "[" : "", host, v6 ? "]" : "",
                     (int)h2o_socket_getport((struct sockaddr *)&ss));
            return arena_strdup(&c->arena, out);
        }
    }
    return arena_strndup(&c->arena, req->authority.base, req->authority.len);
}

/* "http" or "https" when s[0..n) names one (any case, surrounding blanks and quotes allowed); else NULL. */
static const char *scheme_named(const char *s, size_t n)
{
    while (n > 0 && (*s == ' ' || *s == '\t' || *s == '"'))
        s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '"'))
        n--;
    if (n == 5 && strncasecmp(s, "https", 5) == 0)
        return "https";
    if (n == 4 && strncasecmp(s, "http", 4) == 0)
        return "http";
    return NULL;
}

/* The proto a front proxy reported: the first (the client's side) hop of X-Forwarded-Proto, else
 * of Forwarded (RFC 7239) its proto= parameter; NULL when none or not http(s). */
static const char *forwarded_proto(http_ctx_t *c)
{
    const char *v = http_header(c, "x-forwarded-proto");
    if (v != NULL) {
        const char *comma = strchr(v, ',');
        return scheme_named(v, comma ? (size_t)(comma - v) : strlen(v));
    }
    if ((v = http_header(c, "forwarded")) == NULL)
        return NULL;
    const char *hop_end = strchr(v, ',');
    size_t hop = hop_end ? (size_t)(hop_end - v) : strlen(v);
    for (size_t i = 0; i < hop;) {
        size_t j = i;
        while (j < hop && v[j] != ';')
            j++;
        const char *p = v + i;
        size_t n = j - i;
        while (n > 0 && (*p == ' ' || *p == '\t'))
            p++, n--;
        if (n > 6 && strncasecmp(p, "proto=", 6) == 0)
            return scheme_named(p + 6, n - 6);
        i = j + 1;
    }
    return NULL;
}

const char *http_scheme(http_ctx_t *c)
{
    h2o_req_t *req = c->req;
    if (req->scheme == &H2O_URL_SCHEME_HTTPS)
        return "https";
    if (c->thread->cfg->trust_proxy) {
        const char *p = forwarded_proto(c);
        if (p != NULL)
            return p;
    }
    return "http";
}

char *http_percent_decode(arena_t *a, const char *s, size_t n, int plus_is_space)
{
    char *out = arena_alloc(a, n + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            if (i + 2 >= n || !isxdigit((unsigned char)s[i + 1]) || !isxdigit((unsigned char)s[i + 2]))
                return NULL;
            char hex[3] = {s[i + 1], s[i + 2], 0};
            long v = strtol(hex, NULL, 16);
            if (v == 0)
                return NULL;
            *o++ = (char)v;
            i += 2;
        } else if (s[i] == '+' && plus_is_space) {
            *o++ = ' ';
        } else if (s[i] == '\0') {
            return NULL;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

/* The decoded value of field `name` of application/x-www-form-urlencoded text [q, end): a query
 * string or a form body. */
static const char *urlencoded_find(http_ctx_t *c, const char *q, const char *end, const char *name)
{
    size_t nlen = strlen(name);
    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *pe = amp ? amp : end;
        const char *eq = memchr(q, '=', (size_t)(pe - q));
        const char *ke = eq ? eq : pe;
        size_t klen = (size_t)(ke - q);
        /* Names are percent-decoded like values: many clients (requests, httpx, URLSearchParams,
         * Java, Go) send iTwin's $top as %24top. Only a name with an escape is decoded. */
        int match = klen == nlen && memcmp(q, name, nlen) == 0;
        if (!match && (memchr(q, '%', klen) != NULL || memchr(q, '+', klen) != NULL)) {
            const char *key = http_percent_decode(&c->arena, q, klen, 1);
            match = key != NULL && strcmp(key, name) == 0;
        }
        if (match) {
            const char *v = eq ? eq + 1 : pe;
            char *dec = http_percent_decode(&c->arena, v, (size_t)(pe - v), 1);
            return dec ? dec : "\x01"; /* undecodable: a value no parameter accepts */
        }
        q = pe + 1;
    }
    return NULL;
}

const char *http_query(http_ctx_t *c, const char *name)
{
    h2o_req_t *req = c->req;
    if (req->query_at == SIZE_MAX)
        return NULL;
    return urlencoded_find(c, req->path.base + req->query_at + 1, req->path.base + req->path.len, name);
}

const char *http_form(http_ctx_t *c, const char *name)
{
    size_t len;
    const char *body = http_body(c, &len);
    return urlencoded_find(c, body, body + len, name);
}

const char *http_body(http_ctx_t *c, size_t *len)
{
    h2o_req_t *req = c->req;
    *len = req->entity.base ? req->entity.len : 0;
    return req->entity.base ? req->entity.base : "";
}

json_t *http_body_json(http_ctx_t *c, int allow_empty)
{
    size_t len;
    const char *body = http_body(c, &len);
    if (len == 0 && allow_empty)
        return json_object();
    json_error_t err;
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
    if (j == NULL) {
        char msg[256];
        snprintf(msg, sizeof(msg), "the body is not valid JSON: %s (line %d, column %d)", err.text, err.line,
                 err.column);
        http_error(c, 400, "invalid_json", msg, NULL);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        http_error(c, 400, "invalid_json", "the body must be a JSON object", NULL);
        return NULL;
    }
    return j;
}

void http_add_header(http_ctx_t *c, const char *name, const char *value)
{
    h2o_req_t *req = c->req;
    size_t nlen = strlen(name);
    char *n = h2o_mem_alloc_pool(&req->pool, nlen);
    memcpy(n, name, nlen); /* NOLINT(bugprone-not-null-terminated-result): h2o takes (n, nlen) */
    h2o_iovec_t v = h2o_strdup(&req->pool, value, SIZE_MAX);
    h2o_add_header_by_str(&req->pool, &req->res.headers, n, nlen, 1, NULL, v.base, v.len);
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 422:
        return "Unprocessable Entity";
    case 429:
        return "Too Many Requests";
    case 503:
        return "Service Unavailable";
    default:
        return status >= 500 ? "Internal Server Error" : "OK";
    }
}

/* One answer being sent: a piece at a time (h2o asks for the next when the last is written), with
 * a deadline that each piece restarts; at the deadline the connection is cut. */
typedef struct http_stream {
    h2o_generator_t super;
    http_thread_t *thread;
    h2o_req_t *req;
    const char *body; /* the whole answer; or, with fill, a buffer of one piece */
    size_t len, off;
    http_fill_fn fill; /* NULL: body holds the answer */
    void *fill_data;
    h2o_timeout_entry_t deadline;
} http_stream_t;

static void stream_unlink(http_stream_t *st)
{
    if (h2o_timeout_is_linked(&st->deadline))
        h2o_timeout_unlink(&st->deadline);
}

static void stream_dispose(void *p)
{
    stream_unlink(p);
}

/* The client has not taken a piece for write_timeout: it holds a slot and the answer's memory. */
static void stream_on_deadline(h2o_timeout_entry_t *entry)
{
    http_stream_t *st = H2O_STRUCT_FROM_MEMBER(http_stream_t, deadline, entry);
    http_conn_t *hc = http_conn_of(st->req);
    if (hc != NULL)
        http_conn_abort(hc);
}

static void stream_send_next(http_stream_t *st)
{
    size_t n = st->len - st->off < HTTP_SEND_CHUNK ? st->len - st->off : HTTP_SEND_CHUNK;
    h2o_iovec_t buf = h2o_iovec_init(st->body + st->off, n);
    if (st->fill != NULL) {
        /* h2o asks for the next piece once the last is written: the buffer can be reused. */
        size_t got = 0;
        if (n > 0 && (st->fill(st->fill_data, (char *)st->body, n, &got) != 0 || got == 0)) {
            stream_unlink(st);
            /* the answer cannot be finished as announced: cut it, so the client sees it incomplete */
            h2o_send(st->req, NULL, 0, H2O_SEND_STATE_ERROR);
            return;
        }
        buf = h2o_iovec_init(st->body, got);
        n = got;
    }
    st->off += n;
    stream_unlink(st);
    h2o_timeout_link(st->thread->loop, &st->thread->write_timeout, &st->deadline);
    /* The last piece may complete and dispose the request (and st) before h2o_send returns. */
    h2o_send(st->req, &buf, n ? 1 : 0, st->off == st->len ? H2O_SEND_STATE_FINAL : H2O_SEND_STATE_IN_PROGRESS);
}

static void stream_proceed(h2o_generator_t *g, h2o_req_t *req)
{
    stream_send_next((http_stream_t *)g);
}

static void stream_stop(h2o_generator_t *g, h2o_req_t *req)
{
    stream_unlink((http_stream_t *)g);
}

/* ---- request metrics: counts by route, method and status, and latency by route ---- */

enum { METRICS_ROUTES_MAX = 256 }; /* routes counted one by one; the rest (and no route) as "unmatched" */
static const int metric_codes[] = {200, 201, 202, 204, 303, 304, 400, 401, 403,
                                   404, 405, 409, 413, 415, 422, 429, 500, 503};
#define NCODES ((int)(sizeof(metric_codes) / sizeof(metric_codes[0])))
static const double latency_le[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60};
#define NLATENCY ((int)(sizeof(latency_le) / sizeof(latency_le[0])))

typedef struct route_metrics {
    _Atomic uint64_t by_code[NCODES + 1]; /* last: any other status */
    metrics_hist_t latency;
} route_metrics_t;

static route_metrics_t route_metrics[METRICS_ROUTES_MAX + 1]; /* last: unmatched */

/* Appends one JSON line to the access log: what was asked (method, route template, never the
 * path: it may hold a ping key), the answer (status, bytes), its time, which key (its id, never
 * the token) and the request id. One write(2) per line: lines of concurrent loops do not mix. */
static void access_log(http_ctx_t *c, int fd, int status, size_t len, double secs)
{
    h2o_req_t *req = c->req;
    char id[80];
    const char *rid = http_header(c, "x-request-id");
    size_t n = rid != NULL ? strlen(rid) : 0;
    int ok = n > 0 && n <= 64;
    for (size_t i = 0; ok && i < n; i++)
        ok = isalnum((unsigned char)rid[i]) || rid[i] == '-' || rid[i] == '_' || rid[i] == '.';
    if (!ok) {
        static _Atomic uint64_t seq;
        snprintf(id, sizeof(id), "%llx-%d-%llx", (long long)req->timestamps.request_begin_at.tv_sec,
                 c->thread != NULL ? c->thread->index : 0,
                 (unsigned long long)atomic_fetch_add_explicit(&seq, 1, memory_order_relaxed));
        rid = arena_strdup(&c->arena, id); /* h2o keeps the header value's pointer, not a copy */
    }
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-request-id"), 0, NULL, rid, strlen(rid));
    buf_t b = BUF_INIT(4096);
    JW_LIT(&b, "{\"time\":");
    jw_time(&b, time_now_ms());
    JW_LIT(&b, ",\"method\":");
    jw_str(&b, http_method(c));
    JW_LIT(&b, ",\"route\":");
    jw_str(&b, c->route != NULL && c->route->pattern != NULL ? c->route->pattern : NULL);
    JW_LIT(&b, ",\"status\":");
    jw_int(&b, status);
    buf_addf(&b, ",\"duration_ms\":%.3f,\"bytes\":%zu,\"key_id\":", secs * 1000, len);
    if (c->key.key_id != 0)
        jw_int(&b, c->key.key_id);
    else
        JW_LIT(&b, "null");
    JW_LIT(&b, ",\"request_id\":");
    jw_str(&b, rid);
    JW_LIT(&b, "}\n");
    if (!buf_failed(&b) && write(fd, b.data, b.len) < 0) {
        /* nothing to do: an access log that cannot be written must not stop the answer */
    }
    buf_release(&b);
}

/* Counts the answer being started in the metrics, and logs it when there is an access log. */
static void answer_observe(http_ctx_t *c, int status, size_t len)
{
    const http_config_t *cfg = c->thread->cfg;
    /* c->route is a route of the table, or (404/405) a stand-in outside it: compare addresses */
    uintptr_t at = (uintptr_t)c->route, base = (uintptr_t)cfg->routes;
    size_t i = c->route != NULL && at >= base && at < base + cfg->nroutes * sizeof(*cfg->routes)
                   ? (size_t)(at - base) / sizeof(*cfg->routes)
                   : METRICS_ROUTES_MAX;
    route_metrics_t *m = &route_metrics[i < METRICS_ROUTES_MAX ? i : METRICS_ROUTES_MAX];
    int k = 0;
    while (k < NCODES && metric_codes[k] != status)
        k++;
    atomic_fetch_add_explicit(&m->by_code[k], 1, memory_order_relaxed);
    h2o_req_t *req = c->req;
    struct timeval now;
    gettimeofday(&now, NULL);
    double secs = (double)(now.tv_sec - req->timestamps.request_begin_at.tv_sec) +
                  (double)(now.tv_usec - req->timestamps.request_begin_at.tv_usec) / 1e6;
    metrics_hist_observe(&m->latency, latency_le, NLATENCY, 1e6, secs);
    if (cfg->access_log != NULL && cfg->access_log_fd >= 0)
        access_log(c, cfg->access_log_fd, status, len, secs);
}

/* The labels of route i (pattern and method), or of unmatched requests. */
static void route_labels(buf_t *lab, const http_route_t *routes, size_t nroutes, size_t i)
{
    buf_reset(lab);
    metrics_label(lab, "route", i < nroutes ? routes[i].pattern : "unmatched");
    metrics_label(lab, "method", i < nroutes ? routes[i].method : "any");
}

void http_metrics_write(buf_t *b, const http_route_t *routes, size_t nroutes)
{
    size_t n = nroutes < METRICS_ROUTES_MAX ? nroutes : METRICS_ROUTES_MAX;
    buf_t lab = BUF_INIT(4096);
    metrics_head(b, "syncrun_http_requests_total", "counter",
                 "HTTP requests answered, by route template, method and status code.");
    for (size_t i = 0; i <= n; i++) {
        const route_metrics_t *m = &route_metrics[i < n ? i : METRICS_ROUTES_MAX];
        for (int k = 0; k <= NCODES; k++) {
            uint64_t v = atomic_load_explicit(&m->by_code[k], memory_order_relaxed);
            if (v == 0)
                continue;
            route_labels(&lab, routes, nroutes, i < n ? i : nroutes);
            char code[8];
            snprintf(code, sizeof(code), "%d", k < NCODES ? metric_codes[k] : 0);
            metrics_label(&lab, "code", k < NCODES ? code : "other");
            metrics_sample(b, "syncrun_http_requests_total", buf_str(&lab), (double)v);
        }
    }
    metrics_head(b, "syncrun_http_request_duration_seconds", "histogram",
                 "Time from a request's first byte to its answer's head, by route template (long-polls included).");
    for (size_t i = 0; i <= n; i++) {
        const route_metrics_t *m = &route_metrics[i < n ? i : METRICS_ROUTES_MAX];
        uint64_t any = 0;
        for (int k = 0; k <= NCODES; k++)
            any += atomic_load_explicit(&m->by_code[k], memory_order_relaxed);
        if (any == 0)
            continue;
        route_labels(&lab, routes, nroutes, i < n ? i : nroutes);
        metrics_hist_write(b, "syncrun_http_request_duration_seconds", buf_str(&lab), &m->latency, latency_le, NLATENCY,
                           1e6);
    }
    buf_release(&lab);
}

/* Starts the answer: its head now, then its body a piece at a time, from body (len bytes) or, with
 * fill, from what fill produces into body (a buffer of one piece). */
static int stream_start(http_ctx_t *c, int status, const char *content_type, const char *body, size_t len,
                        http_fill_fn fill, void *data)
{
    h2o_req_t *req = c->req;
    answer_observe(c, status, len);
    http_stream_t *st = h2o_mem_alloc_shared(&req->pool, sizeof(*st), stream_dispose);
    memset(st, 0, sizeof(*st));
    st->super.proceed = stream_proceed;
    st->super.stop = stream_stop;
    st->thread = c->thread;
    st->req = req;
    st->body = body;
    st->len = len;
    st->fill = fill;
    st->fill_data = data;
    st->deadline.cb = stream_on_deadline;
    req->res.status = status;
    req->res.reason = reason_phrase(status);
    if (content_type != NULL)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type, strlen(content_type));
    req->res.content_length = len;
    h2o_start_response(req, &st->super);
    stream_send_next(st);
    return 0;
}

int http_send_raw(http_ctx_t *c, int status, const char *content_type, const char *body, size_t len)
{
    return stream_start(c, status, content_type, body, len, NULL, NULL);
}

/* Frees an owned body (held by the request's pool) when the request is done. */
static void owned_dispose(void *p)
{
    free(*(char **)p);
}

int http_send_owned(http_ctx_t *c, int status, const char *content_type, char *body, size_t len)
{
    char **owned = h2o_mem_alloc_shared(&((h2o_req_t *)c->req)->pool, sizeof(*owned), owned_dispose);
    *owned = body;
    return stream_start(c, status, content_type, body, len, NULL, NULL);
}

int http_send_stream(http_ctx_t *c, int status, const char *content_type, size_t len, http_fill_fn fill, void *data)
{
    size_t piece = len < HTTP_SEND_CHUNK ? (len > 0 ? len : 1) : HTTP_SEND_CHUNK;
    return stream_start(c, status, content_type, h2o_mem_alloc_pool(&((h2o_req_t *)c->req)->pool, piece), len, fill,
                        data);
}

int http_send_json(http_ctx_t *c, int status, json_t *body)
{
    h2o_req_t *req = c->req;
    if (body == NULL)
        return http_send_raw(c, status, NULL, "", 0);
    size_t n = json_dumpb(body, NULL, 0, JSON_COMPACT);
    char *p = h2o_mem_alloc_pool(&req->pool, n + 1);
    json_dumpb(body, p, n, JSON_COMPACT);
    p[n] = '\n';
    json_decref(body);
    return http_send_raw(c, status, "application/json", p, n + 1);
}

int http_error(http_ctx_t *c, int status, const char *code, const char *message, const char *field)
{
    c->route->dialect->send_error(c, status, code, message, field);
    return 0;
}

/* Splits off the next segment of p (after a leading '/'), returning its length. */
static size_t segment(const char *p, size_t n)
{
    const char *slash = memchr(p, '/', n);
    return slash ? (size_t)(slash - p) : n;
}

static int match_pattern(http_ctx_t *c, const http_route_t *route, const char *path, size_t plen, int capture)
{
    const char *pp = route->pattern;
    size_t i = 0;
    int np = 0;
    while (*pp != '\0') {
        if (*pp != '/' || i >= plen || path[i] != '/')
            return 0;
        pp++;
        i++;
        size_t ps = strcspn(pp, "/");
        size_t ss = segment(path + i, plen - i);
        if (*pp == ':') {
            if (ss == 0 || np >= HTTP_MAX_PARAMS)
                return 0;
            if (capture) {
                char *v = http_percent_decode(&c->arena, path + i, ss, 0);
                if (v == NULL)
                    return 0;
                c->params[np] = v;
            }
            np++;
        } else if (ps != ss || (route->nocase ? strncasecmp(pp, path + i, ss) : memcmp(pp, path + i, ss)) != 0) {
            return 0;
        }
        pp += ps;
        i += ss;
    }
    if (i != plen)
        return 0;
    if (capture)
        c->nparams = np;
    return 1;
}

const http_route_t *http_route_match(http_ctx_t *c, const http_route_t *routes, size_t n, int *status, char *allow,
                                     size_t allowlen)
{
    h2o_req_t *req = c->req;
    size_t plen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    /* A trailing slash names the same resource. */
    if (plen > 1 && req->path.base[plen - 1] == '/')
        plen--;
    *status = 404;
    size_t alen = 0;
    for (size_t i = 0; i < n; i++) {
        if (!match_pattern(c, &routes[i], req->path.base, plen, 0))
            continue;
        if (h2o_memis(req->method.base, req->method.len, routes[i].method, strlen(routes[i].method))) {
            if (match_pattern(c, &routes[i], req->path.base, plen, 1))
                return &routes[i];
            *status = 404; /* a path parameter that does not decode names nothing */
            return NULL;
        }
        *status = 405;
        int w = snprintf(allow + alen, allowlen - alen, "%s%s", alen ? ", " : "", routes[i].method);
        if (w > 0 && (size_t)w < allowlen - alen)
            alen += (size_t)w;
    }
    return NULL;
}
