/* The in-process server of the HTTP fuzz targets (harness.h).
 *
 * http/server.c is compiled into this file rather than linked: its set-up (config_defaults,
 * globalconf_init, loop_init), accept (conn_accept), dispatch (on_req) and the receivers of durable
 * writes and run changes are private to it, and the harness must run exactly those, on a loop it
 * drives itself instead of http_serve's threads and listeners. Its globals therefore also exist here, and
 * build-fuzz/libsyncrun.a's server.o is not linked (every symbol it defines is defined here first). */
#include "http/server.c"

#include <openssl/evp.h>
#include <sys/stat.h>

#include "api/api.h"
#include "cli/demo.h"
#include "fuzz.h"
#include "harness.h"
#include "util/ids.h"

enum {
    /* Loop iterations an exchange may take (each waits at most 10 ms for an event). A well-formed
     * exchange needs a handful; a long-poll is woken as if its deadline had passed after a few
     * idle ones. */
    HARNESS_MAX_ITERATIONS = 500,
    HARNESS_IDLE_BEFORE_WAKE = 3,
};

static struct harness {
    int ready;
    char dir[128], db[192];
    store_t *store;
    http_config_t cfg;
    http_thread_t t;
    char token[IDS_TOKEN_LEN], rotoken[IDS_TOKEN_LEN], other[IDS_TOKEN_LEN];
    char b64token[128];
    char run_id[24], run_uuid[IDS_UUID_LEN], conn_uuid[IDS_UUID_LEN];
    /* the last response */
    int last_status;
    json_t *last_json;
    int responses;
    int verbose; /* SYNCRUN_FUZZ_VERBOSE set: print each response's status */
} H;

/* ---- response checks: an h2o filter in front of the connection's output ---- */

typedef struct check_ostream {
    h2o_ostream_t super;
    int json;
    char *body; /* in the request's pool */
    size_t len;
} check_ostream_t;

static void check_body(const char *body, size_t len)
{
    json_error_t je;
    json_t *doc = json_loadb(body, len, JSON_DECODE_ANY, &je);
    if (doc == NULL)
        fprintf(stderr, "harness: a JSON response does not parse: %s (at %d)\n%.*s\n", je.text, je.position,
                (int)(len > 2000 ? 2000 : len), body);
    FUZZ_CHECK(doc != NULL);
    json_decref(H.last_json);
    H.last_json = doc;
}

static void check_do_send(h2o_ostream_t *self, h2o_req_t *req, h2o_iovec_t *bufs, size_t n, h2o_send_state_t state)
{
    check_ostream_t *os = (check_ostream_t *)self;
    size_t add = 0;
    for (size_t i = 0; i < n; i++)
        add += bufs[i].len;
    if (add > 0) {
        char *p = h2o_mem_alloc_pool(&req->pool, os->len + add);
        if (os->len > 0)
            memcpy(p, os->body, os->len);
        for (size_t i = 0, at = os->len; i < n; at += bufs[i].len, i++)
            memcpy(p + at, bufs[i].base, bufs[i].len);
        os->body = p;
        os->len += add;
    }
    /* A body cut short by a failed connection is not the server's answer. */
    if (state == H2O_SEND_STATE_FINAL)
        check_body(os->body != NULL ? os->body : "", os->len);
    h2o_ostream_send_next(self, req, bufs, n, state);
}

static void check_setup_ostream(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    H.responses++;
    H.last_status = req->res.status;
    json_decref(H.last_json);
    H.last_json = NULL;
    if (req->res.status >= 500)
        fprintf(stderr, "harness: the server answered %d to %.*s %.*s\n", req->res.status, (int)req->method.len,
                req->method.base, (int)(req->path.len > 300 ? 300 : req->path.len), req->path.base);
    if (H.verbose)
        fprintf(stderr, "harness: %d for %.*s %.*s\n", req->res.status, (int)req->method.len, req->method.base,
                (int)req->path.len, req->path.base);
    FUZZ_CHECK(req->res.status < 500);
    ssize_t ct = h2o_find_header(&req->res.headers, H2O_TOKEN_CONTENT_TYPE, -1);
    if (ct >= 0) {
        h2o_iovec_t v = req->res.headers.entries[ct].value;
        if (h2o_strstr(v.base, v.len, H2O_STRLIT("json")) != SIZE_MAX) {
            check_ostream_t *os = (check_ostream_t *)h2o_add_ostream(req, sizeof(*os), slot);
            os->super.do_send = check_do_send;
            os->json = 1;
            os->body = NULL;
            os->len = 0;
            slot = &os->super.next;
        }
    }
    h2o_setup_next_ostream(req, slot);
}

/* ---- set-up ---- */

static void seed_key(int64_t ws, scope_t scope, const char *name, char out[IDS_TOKEN_LEN])
{
    store_write_t w = {0};
    w.op = OP_KEY_CREATE;
    w.workspace_id = ws;
    w.key_scope = scope;
    w.name = name;
    FUZZ_CHECK(store_exec(H.store, &w) == STORE_OK);
    memcpy(out, w.token, IDS_TOKEN_LEN);
    store_write_release(&w);
}

static void seed_store(void)
{
    int nconn = 0, nruns = 0;
    FUZZ_CHECK(demo_seed(H.store, H.token, &nconn, &nruns) == 0);
    seed_key(1, SCOPE_RUNS_READ, "fuzz-read", H.rotoken);

    store_write_t w = {0};
    w.op = OP_WORKSPACE_CREATE;
    w.name = "other";
    w.key_scope = SCOPE_ADMIN;
    FUZZ_CHECK(store_exec(H.store, &w) == STORE_OK);
    memcpy(H.other, w.token, IDS_TOKEN_LEN);
    store_write_release(&w);

    /* A run left queued (no runner here), for the routes that change a live run. */
    memset(&w, 0, sizeof(w));
    w.op = OP_RUN_TRIGGER;
    w.workspace_id = 1;
    w.id = 2;
    w.trigger.tag = "MANUAL";
    w.trigger.initial_state = RUN_QUEUED;
    FUZZ_CHECK(store_exec(H.store, &w) == STORE_OK);
    snprintf(H.run_id, sizeof(H.run_id), "%lld", (long long)w.run.id);
    memcpy(H.run_uuid, w.run.uuid, IDS_UUID_LEN);
    store_write_release(&w);

    store_reader_t *r = store_reader_open(H.store);
    arena_t a = ARENA_INIT;
    connection_t cn;
    FUZZ_CHECK(r != NULL && store_connection_get(r, 1, 1, &a, &cn) == STORE_OK);
    memcpy(H.conn_uuid, cn.uuid, IDS_UUID_LEN);
    arena_release(&a);
    store_reader_close(r);

    char creds[IDS_TOKEN_LEN + 1];
    snprintf(creds, sizeof(creds), "%s:", H.token);
    EVP_EncodeBlock((unsigned char *)H.b64token, (const unsigned char *)creds, (int)strlen(creds));
}

/* The server as http_serve sets it up (config_defaults, globalconf_init, loop_init), less the
 * listeners and threads: one loop, driven by harness_exchange; no rate limits (a fuzzer sends far
 * more than any limit allows); a filter that checks every response. */
static void setup_server(void)
{
    H.cfg.listen_host = "127.0.0.1";
    H.cfg.threads = 1;
    H.cfg.max_connections = 1 << 20;
    H.cfg.routes = api_routes;
    H.cfg.nroutes = api_route_count;
    H.cfg.fallback_dialect = &native_dialect;
    config_defaults(&H.cfg);
    h2o_pathconf_t *pathconf = globalconf_init(&H.cfg);
    h2o_filter_t *filter = h2o_create_filter(pathconf, sizeof(*filter));
    filter->on_setup_ostream = check_setup_ostream;

    http_thread_t *t = &H.t;
    t->cfg = &H.cfg;
    t->store = H.store;
    t->max_conns = H.cfg.max_connections;
    FUZZ_CHECK((t->reader = store_reader_open(H.store)) != NULL);
    loop_init(t);
    store_add_change_hook(H.store, on_runs_changed, t);
    live_threads = t;
}

void harness_init(void)
{
    if (H.ready)
        return;
    signal(SIGPIPE, SIG_IGN);
    H.verbose = getenv("SYNCRUN_FUZZ_VERBOSE") != NULL;
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    snprintf(H.dir, sizeof(H.dir), "%s/syncrun-fuzz.XXXXXX", base);
    FUZZ_CHECK(mkdtemp(H.dir) != NULL);
    snprintf(H.db, sizeof(H.db), "%s/fuzz.db", H.dir);
    char err[256];
    if (store_open(H.db, &H.store, err, sizeof(err)) != 0) {
        fprintf(stderr, "harness: cannot open %s: %s\n", H.db, err);
        abort();
    }
    seed_store();
    setup_server();
    H.ready = 1;
}

/* ---- inputs ---- */

char *harness_expand(const uint8_t *data, size_t size, size_t *outlen)
{
    const struct {
        const char *name, *value;
    } subst[] = {
        {"@TOKEN@", H.token}, {"@ROTOKEN@", H.rotoken},  {"@OTHER@", H.other},        {"@B64TOKEN@", H.b64token},
        {"@RUN@", H.run_id},  {"@RUNUUID@", H.run_uuid}, {"@CONNUUID@", H.conn_uuid},
    };
    /* Each placeholder is at least 5 bytes and each value at most 127: 26 times the input bounds
     * the output. */
    size_t cap = size * 26 + 1, o = 0;
    char *out = malloc(cap);
    FUZZ_CHECK(out != NULL);
    for (size_t i = 0; i < size;) {
        size_t k = 0, nsubst = sizeof(subst) / sizeof(subst[0]);
        if (data[i] == '@') {
            for (; k < nsubst; k++) {
                size_t nl = strlen(subst[k].name);
                if (size - i >= nl && memcmp(data + i, subst[k].name, nl) == 0) {
                    size_t vl = strlen(subst[k].value);
                    memcpy(out + o, subst[k].value, vl);
                    o += vl;
                    i += nl;
                    break;
                }
            }
        } else {
            k = nsubst;
        }
        if (k == nsubst)
            out[o++] = (char)data[i++];
    }
    out[o] = '\0';
    *outlen = o;
    return out;
}

void harness_percent_encode(char *out, size_t cap, size_t *used, const uint8_t *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = *used;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = s[i];
        int plain = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                    ch == '_' || ch == '~' || ch == '-';
        if (o + (plain ? 1 : 3) >= cap)
            break;
        if (plain) {
            out[o++] = (char)ch;
        } else {
            out[o++] = '%';
            out[o++] = hex[ch >> 4];
            out[o++] = hex[ch & 15];
        }
    }
    out[o] = '\0';
    *used = o;
}

store_t *harness_store(void)
{
    return H.store;
}

int harness_last_status(void)
{
    return H.last_status;
}

json_t *harness_last_json(void)
{
    return H.last_json;
}

/* ---- one exchange ---- */

int harness_exchange(const char *bytes, size_t len)
{
    http_thread_t *t = &H.t;
    int sv[2];
    FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
    FUZZ_CHECK(conn_accept(t, sv[1]) == 0);
    H.responses = 0;
    H.last_status = 0;
    json_decref(H.last_json);
    H.last_json = NULL;

    size_t sent = 0;
    int closed = 0, shut = 0, idle = 0, i;
    for (i = 0; i < HARNESS_MAX_ITERATIONS && !closed; i++) {
        if (sent < len) {
            ssize_t w = write(sv[0], bytes + sent, len - sent);
            if (w > 0)
                sent += (size_t)w;
            else if (w < 0 && errno != EAGAIN && errno != EINTR)
                sent = len; /* the server closed early: nothing more is read */
        }
        if (sent == len && !shut) {
            /* The whole request is out: the end of the stream says there is nothing more. h2o
             * stops reading while it answers a request, so this does not cut an answer short. */
            shutdown(sv[0], SHUT_WR);
            shut = 1;
        }
        h2o_evloop_run(t->loop, 10);
        char buf[65536];
        ssize_t r;
        int got = 0;
        while ((r = read(sv[0], buf, sizeof(buf))) > 0)
            got = 1;
        if (r == 0)
            closed = 1;
        idle = got ? 0 : idle + 1;
        /* A long-poll would wait up to 60 s: wake it as its deadline would. */
        if (idle >= HARNESS_IDLE_BEFORE_WAKE && t->pending_writes == 0)
            while (!h2o_linklist_is_empty(&t->watchers))
                watcher_fire(H2O_STRUCT_FROM_MEMBER(watcher_t, link, t->watchers.next), 1);
    }
    if (!closed)
        fprintf(stderr, "harness: the connection is still open after %d loop iterations (%d responses)\n", i,
                H.responses);
    FUZZ_CHECK(closed);
    close(sv[0]);
    /* The server has closed its end; let h2o finish disposing of it. */
    h2o_evloop_run(t->loop, 0);
    return H.responses;
}
