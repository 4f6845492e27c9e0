/* The CLI's HTTP client: libcurl easy handles, JSON bodies, capped answers and messages that say
 * what to do when the server cannot be reached or refuses a request. */
#include "cli/client.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "util/ids.h"

struct client {
    CURL *curl;
    char url[CLIENT_URL_MAX + 1];
    char *auth; /* "Authorization: Bearer <token>", or NULL */
    const char *cmd;
    long timeout_s;
    size_t body_max;
};

typedef struct sink {
    client_resp_t *r;
    size_t cap, max;
    int too_big;
} sink_t;

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
    sink_t *s = ctx;
    size_t n = size * nmemb;
    if (s->r->len + n > s->max) {
        s->too_big = 1;
        return 0; /* aborts the transfer */
    }
    if (s->r->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->r->len + n + 1)
            cap *= 2;
        char *p = realloc(s->r->body, cap);
        if (p == NULL)
            return 0;
        s->r->body = p;
        s->cap = cap;
    }
    memcpy(s->r->body + s->r->len, data, n);
    s->r->len += n;
    s->r->body[s->r->len] = '\0';
    return n;
}

/* Copies the value of header `name` (case-insensitive) from line into out, trimmed. */
static int header_value(const char *line, size_t n, const char *name, char *out, size_t outlen)
{
    size_t k = strlen(name);
    if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
        return 0;
    const char *v = line + k + 1, *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    snprintf(out, outlen, "%.*s", (int)(end - v), v);
    return 1;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ctx)
{
    client_resp_t *r = ctx;
    size_t n = size * nmemb;
    char num[32];
    header_value(data, n, "etag", r->etag, sizeof(r->etag));
    if (header_value(data, n, "x-log-bytes-dropped", num, sizeof(num))) {
        int64_t v;
        r->dropped = ids_parse_i64(num, strlen(num), 0, INT64_MAX, &v) == 0 ? v : -1;
    }
    return n;
}

client_t *client_new(const char *cmd, const char *url, const char *token)
{
    if (url == NULL || *url == '\0')
        url = getenv("SYNCRUN_URL");
    if (url == NULL || *url == '\0')
        url = CLIENT_DEFAULT_URL;
    if (token == NULL || *token == '\0')
        token = getenv("SYNCRUN_TOKEN");
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        n--;
    if (n > CLIENT_URL_MAX || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)) {
        fprintf(stderr,
                "syncrun %s: the server URL must start with http:// or https:// (at most %d bytes), not '%.80s'\n", cmd,
                CLIENT_URL_MAX, url);
        return NULL;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "syncrun %s: cannot start libcurl\n", cmd);
        return NULL;
    }
    client_t *c = calloc(1, sizeof(*c));
    if (c == NULL || (c->curl = curl_easy_init()) == NULL) {
        fprintf(stderr, "syncrun %s: cannot start libcurl\n", cmd);
        free(c);
        return NULL;
    }
    memcpy(c->url, url, n);
    c->url[n] = '\0';
    c->cmd = cmd;
    c->timeout_s = CLIENT_TIMEOUT_S;
    c->body_max = CLIENT_BODY_MAX;
    if (token != NULL && *token != '\0') {
        size_t len = strlen(token) + 32;
        c->auth = malloc(len);
        if (c->auth == NULL) {
            client_free(c);
            return NULL;
        }
        snprintf(c->auth, len, "Authorization: Bearer %s", token);
    }
    return c;
}

void client_free(client_t *c)
{
    if (c == NULL)
        return;
    curl_easy_cleanup(c->curl);
    free(c->auth);
    free(c);
}

const char *client_url(const client_t *c)
{
    return c->url;
}

void client_set_limits(client_t *c, long timeout_s, size_t body_max)
{
    c->timeout_s = timeout_s;
    c->body_max = body_max;
}

void client_resp_release(client_resp_t *r)
{
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
}

/* The message of a 4xx/5xx answer: the API's {"error":{"message"}}, else the start of the body. */
static void http_error_message(client_t *c, client_resp_t *r)
{
    const char *msg = json_string_value(json_object_get(json_object_get(r->json, "error"), "message"));
    if (msg == NULL)
        msg = json_string_value(json_object_get(r->json, "message")); /* dialect shape */
    char hint[120] = "";
    if (r->status == 401)
        snprintf(hint, sizeof(hint), " (set --token or SYNCRUN_TOKEN to an API key of the workspace)");
    else if (r->status == 403)
        snprintf(hint, sizeof(hint), " (the API key's scope does not allow this)");
    if (msg != NULL)
        snprintf(r->error, sizeof(r->error), "%s (HTTP %ld)%s", msg, r->status, hint);
    else
        snprintf(r->error, sizeof(r->error), "%.200s answered HTTP %ld%s%s%.200s", c->url, r->status, hint,
                 r->len > 0 ? ": " : "", r->len > 0 ? r->body : "");
}

client_err_t client_request(client_t *c, const char *method, const char *path, const char *body, size_t len,
                            const char *content_type, const char *const *headers, client_resp_t *out)
{
    memset(out, 0, sizeof(*out));
    out->dropped = -1;
    client_err_t rc = CLIENT_FAILED;
    struct curl_slist *hl = NULL, *tmp;
    char url[CLIENT_URL_MAX + 1024], ctype[128], errbuf[CURL_ERROR_SIZE] = "";
    if ((size_t)snprintf(url, sizeof(url), "%s%s", c->url, path) >= sizeof(url)) {
        snprintf(out->error, sizeof(out->error), "request path too long");
        return CLIENT_FAILED;
    }
    sink_t sink = {out, 0, c->body_max, 0};
    CURL *h = c->curl;
    curl_easy_reset(h);
    snprintf(ctype, sizeof(ctype), "Content-Type: %s", content_type ? content_type : "application/json");
    const char *std[] = {c->auth, body != NULL ? ctype : NULL, "Expect:", "Accept: application/json, text/plain"};
    for (size_t i = 0; i < sizeof(std) / sizeof(std[0]); i++) {
        if (std[i] == NULL)
            continue;
        if ((tmp = curl_slist_append(hl, std[i])) == NULL)
            goto out;
        hl = tmp;
    }
    for (size_t i = 0; headers != NULL && headers[i] != NULL; i++) {
        if ((tmp = curl_slist_append(hl, headers[i])) == NULL)
            goto out;
        hl = tmp;
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "syncrun-cli");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)CLIENT_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, c->timeout_s);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (body != NULL) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
    }
    CURLcode e = curl_easy_perform(h);
    if (sink.too_big) {
        snprintf(out->error, sizeof(out->error), "the answer of %s %s is larger than %zu bytes", method, path,
                 c->body_max);
        rc = CLIENT_BAD_ANSWER;
        goto out;
    }
    if (e != CURLE_OK) {
        long oserr = 0;
        curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &oserr);
        const char *why = oserr != 0 && e == CURLE_COULDNT_CONNECT ? strerror((int)oserr)
                          : errbuf[0] != '\0'                      ? errbuf
                                                                   : curl_easy_strerror(e);
        snprintf(out->error, sizeof(out->error),
                 "cannot reach %.200s: %.300s — is `syncrun serve` running? set --url/SYNCRUN_URL", c->url, why);
        rc = e == CURLE_OUT_OF_MEMORY || e == CURLE_URL_MALFORMAT ? CLIENT_FAILED : CLIENT_UNREACHABLE;
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
    if (out->len > 0) {
        char *ct = NULL;
        curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
        if (ct != NULL && strstr(ct, "json") != NULL)
            out->json = json_loadb(out->body, out->len, 0, NULL);
    }
    if (out->status >= 400) {
        http_error_message(c, out);
        rc = CLIENT_HTTP_ERROR;
        goto out;
    }
    rc = CLIENT_OK;
out:
    curl_slist_free_all(hl);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    if (rc == CLIENT_FAILED && out->error[0] == '\0')
        snprintf(out->error, sizeof(out->error), "out of memory");
    return rc;
}

client_err_t client_json(client_t *c, const char *method, const char *path, json_t *v, const char *const *headers,
                         client_resp_t *out)
{
    char *text = NULL;
    if (v != NULL && (text = json_dumps(v, JSON_COMPACT)) == NULL) {
        memset(out, 0, sizeof(*out));
        snprintf(out->error, sizeof(out->error), "out of memory rendering JSON");
        return CLIENT_FAILED;
    }
    client_err_t e = client_request(c, method, path, text, text ? strlen(text) : 0, NULL, headers, out);
    free(text);
    return e;
}

int client_report(const char *cmd, client_err_t err, const client_resp_t *r)
{
    fprintf(stderr, "syncrun %s: %s\n", cmd, r->error[0] ? r->error : "request failed");
    return err == CLIENT_UNREACHABLE ? CLI_EXIT_UNREACHABLE : 1;
}

int client_valid_id(const char *s)
{
    int64_t v;
    return ids_is_uuid(s) || ids_parse_i64(s, strlen(s), 1, INT64_MAX, &v) == 0;
}

void client_user_at_host(char *out, size_t n)
{
    char host[256] = "localhost";
    const char *user = getenv("USER");
    if (user == NULL || *user == '\0') {
        struct passwd *pw = getpwuid(getuid());
        user = pw != NULL ? pw->pw_name : "unknown";
    }
    if (gethostname(host, sizeof(host)) != 0)
        snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    snprintf(out, n, "%s@%s", user, host);
}
