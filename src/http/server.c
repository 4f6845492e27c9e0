/* h2o set-up: one event loop per thread, each with its own SO_REUSEPORT listener, store
 * reader and message queue; the dispatch of requests to routes; durable-write completions and
 * long-poll wake-ups delivered back to the loop that owns the request. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/internal.h"
#include "http/ratelimit.h"
#include "util/log.h"
#include "util/timeutil.h"

static h2o_globalconf_t globalconf;
static atomic_int stopping;
static http_thread_t *volatile live_threads; /* volatile: the store must not be optimised away */

struct http_write {
    h2o_multithread_message_t super;
    store_write_t w;
    http_ctx_t *c;
    http_write_done_fn done;
    void *data;
    json_t *hold;
};

typedef struct watcher {
    h2o_linklist_t link;
    h2o_timeout_entry_t timeout;
    http_ctx_t *c;
    http_conn_t *hc;    /* the connection, polled for its client leaving; NULL if unknown */
    h2o_socket_t *sock; /* its socket */
    int64_t run_id;
    http_wake_fn wake;
    void *data;
} watcher_t;

typedef struct change_msg {
    h2o_multithread_message_t super;
    size_t n;
    int64_t ids[];
} change_msg_t;

/* ---- requests ---- */

static void ctx_dispose(void *p)
{
    http_ctx_t *c = p;
    arena_release(&c->arena);
}

/* Applies the route dialect's rate limit, if it has one: adds the X-RateLimit-* headers, and on
 * refusal answers 429 with Retry-After in the dialect's error shape and returns -1. */
static int apply_rate_limit(http_ctx_t *c, const http_config_t *cfg)
{
    for (size_t i = 0; i < cfg->nrate_limits; i++) {
        const http_rate_limit_t *rl = &cfg->rate_limits[i];
        if (strcmp(rl->dialect, c->route->dialect->name) != 0)
            continue;
        ratelimit_verdict_t v;
        char num[24];
        ratelimit_take(c->key.key_id, (int)i, rl->requests, rl->seconds, time_now_ms(), &v);
        snprintf(num, sizeof(num), "%lld", (long long)v.limit);
        http_add_header(c, "x-ratelimit-limit", num);
        snprintf(num, sizeof(num), "%lld", (long long)v.remaining);
        http_add_header(c, "x-ratelimit-remaining", num);
        snprintf(num, sizeof(num), "%lld", (long long)v.reset_at);
        http_add_header(c, "x-ratelimit-reset", num);
        if (v.allowed)
            return 0;
        snprintf(num, sizeof(num), "%lld", (long long)v.retry_after);
        http_add_header(c, "retry-after", num);
        char msg[160];
        snprintf(msg, sizeof(msg), "rate limit exceeded: %lld requests per %lld seconds; retry after %lld seconds",
                 (long long)rl->requests, (long long)rl->seconds, (long long)v.retry_after);
        http_error(c, 429, "rate_limited", msg, NULL);
        return -1;
    }
    return 0;
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    http_thread_t *t = H2O_STRUCT_FROM_MEMBER(http_thread_t, ctx, req->conn->ctx);
    http_ctx_t *c = h2o_mem_alloc_shared(&req->pool, sizeof(*c), ctx_dispose);
    memset(c, 0, sizeof(*c));
    c->req = req;
    c->thread = t;
    c->store = t->store;
    c->reader = t->reader;

    int status = 404;
    char allow[64] = "";
    const http_route_t *route = NULL;
    int ambiguous = http_framing_ambiguous(req);
    if (!ambiguous)
        route = http_route_match(c, t->cfg->routes, t->cfg->nroutes, &status, allow, sizeof(allow));
    if (route == NULL) {
        const http_dialect_t *d = t->cfg->fallback_dialect;
        static const http_route_t fallback = {NULL, NULL, NULL, 0, SCOPE_RUNS_READ, NULL, 0};
        c->route = &fallback;
        /* Unknown paths under a dialect's prefix answer in that dialect's shape. */
        for (size_t i = 0; i < t->cfg->nroutes; i++) {
            const char *p = t->cfg->routes[i].pattern;
            size_t plen = strcspn(p + 1, "/") + 1;
            if (req->path.len >= plen && memcmp(req->path.base, p, plen) == 0) {
                d = t->cfg->routes[i].dialect;
                break;
            }
        }
        http_route_t *r = arena_alloc(&c->arena, sizeof(*r));
        *r = fallback;
        r->dialect = d;
        c->route = r;
        if (ambiguous) {
            /* Whatever follows on this connection may be another request hidden in this one's body:
             * answer and close it. */
            req->http1_is_persistent = 0;
            return http_error(
                c, 400, "invalid_request",
                "the request has both Content-Length and Transfer-Encoding, or conflicting Content-Lengths", NULL);
        }
        if (status == 405) {
            http_add_header(c, "allow", allow);
            return http_error(c, 405, "method_not_allowed", "this path does not accept this method", NULL);
        }
        return http_error(c, 404, "not_found", "no such route", NULL);
    }
    c->route = route;
    /* The request's reads (key, connection, page) share one read transaction. */
    store_reader_t *reader = t->reader; /* not c->reader: answering may free c */
    store_reader_begin(reader);
    int rc = 0;
    int auth = route->auth;
    if (auth == HTTP_AUTH_METRICS && t->cfg->metrics_public && http_header(c, "authorization") == NULL)
        auth = 0; /* public metrics: a key, when sent, still says which workspace's series to add */
    if ((!auth || http_authenticate(c, route) == 0) && (!auth || apply_rate_limit(c, t->cfg) == 0))
        rc = route->handler(c);
    store_reader_end(reader);
    return rc;
}

/* ---- asynchronous writes ---- */

static void write_dispose(void *p)
{
    struct http_write *hw = p;
    store_write_release(&hw->w);
}

store_write_t *http_write_new(http_ctx_t *c)
{
    h2o_req_t *req = c->req;
    struct http_write *hw = h2o_mem_alloc_shared(&req->pool, sizeof(*hw), write_dispose);
    memset(hw, 0, sizeof(*hw));
    hw->c = c;
    return &hw->w;
}

/* Runs on the writer thread: pass the completed write to the loop that owns the request. */
static void write_done_on_writer(store_write_t *w)
{
    struct http_write *hw = H2O_STRUCT_FROM_MEMBER(struct http_write, w, w);
    h2o_multithread_send_message(&hw->c->thread->write_receiver, &hw->super);
}

int http_write_submit(http_ctx_t *c, store_write_t *w, http_write_done_fn done, void *data, json_t *hold)
{
    struct http_write *hw = H2O_STRUCT_FROM_MEMBER(struct http_write, w, w);
    hw->done = done;
    hw->data = data;
    hw->hold = hold;
    w->done = write_done_on_writer;
    c->thread->pending_writes++;
    store_submit(c->store, w);
    return 0;
}

static void on_write_messages(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    http_thread_t *t = H2O_STRUCT_FROM_MEMBER(http_thread_t, write_receiver, receiver);
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *m = H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        h2o_linklist_unlink(&m->link);
        struct http_write *hw = (struct http_write *)m;
        t->pending_writes--;
        /* hw lives in the request's pool, which answering may free at once (the response is written
         * and the request disposed before h2o_send returns): take what is needed first. */
        json_t *hold = hw->hold;
        hw->done(hw->c, &hw->w, hw->data);
        json_decref(hold);
    }
}

/* ---- name resolution ---- */

struct http_lookup {
    http_ctx_t *c;
    h2o_hostinfo_getaddr_req_t *req; /* NULL once answered */
    http_resolved_fn done;
    void *data;
};

/* The request ended: a lookup still under way must not call back into it. */
static void lookup_dispose(void *p)
{
    struct http_lookup *l = p;
    if (l->req != NULL)
        h2o_hostinfo_getaddr_cancel(l->req);
}

static void on_resolved(h2o_hostinfo_getaddr_req_t *req, const char *err, struct addrinfo *res, void *cbdata)
{
    struct http_lookup *l = cbdata;
    (void)req; /* h2o frees it, and res, after this returns */
    l->req = NULL;
    l->done(l->c, err == NULL ? res : NULL, err, l->data);
}

void http_resolve(http_ctx_t *c, const char *host, http_resolved_fn done, void *data)
{
    h2o_req_t *req = c->req;
    struct http_lookup *l = h2o_mem_alloc_shared(&req->pool, sizeof(*l), lookup_dispose);
    l->c = c;
    l->done = done;
    l->data = data;
    /* the service only makes getaddrinfo answer stream sockets; the port is not used */
    l->req =
        h2o_hostinfo_getaddr(&c->thread->ctx.receivers.hostinfo_getaddr, h2o_iovec_init(host, strlen(host)),
                             h2o_iovec_init(H2O_STRLIT("80")), AF_UNSPEC, SOCK_STREAM, IPPROTO_TCP, 0, on_resolved, l);
}

/* ---- long-poll ---- */

static void watcher_fire(watcher_t *wt, int timed_out)
{
    http_thread_t *t = wt->c->thread;
    h2o_linklist_unlink(&wt->link);
    if (h2o_timeout_is_linked(&wt->timeout))
        h2o_timeout_unlink(&wt->timeout);
    if (wt->hc != NULL) {
        /* give the socket back to h2o as it left it: not reading, reads not suppressed */
        h2o_socket_read_stop(wt->sock);
        h2o_socket_dont_read(wt->sock, 0);
        wt->hc->watcher = NULL;
    }
    atomic_fetch_sub(&t->nwatchers, 1);
    wt->wake(wt->c, timed_out, wt->data);
}

/* The parked request's socket became readable (it is polled without being read). EOF or an error
 * means the client left: answer now (nobody reads it) so that the connection closes and frees its
 * slot, instead of holding it until the deadline. */
static void on_parked_readable(h2o_socket_t *sock, const char *err)
{
    http_conn_t *hc = sock->on_close.data;
    watcher_t *wt = hc->watcher;
    char b;
    if (wt == NULL) {
        h2o_socket_read_stop(sock);
        h2o_socket_dont_read(sock, 0);
        return;
    }
    ssize_t n = recv(hc->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) {
        /* More bytes (a pipelined request): the client is there. Stop polling, or this level-
         * triggered readiness would spin the loop; the deadline still answers. */
        h2o_socket_read_stop(sock);
        return;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    h2o_req_t *req = wt->c->req;
    req->http1_is_persistent = 0;
    watcher_fire(wt, 1);
}

static void on_watch_timeout(h2o_timeout_entry_t *entry)
{
    watcher_t *wt = H2O_STRUCT_FROM_MEMBER(watcher_t, timeout, entry);
    watcher_fire(wt, 1);
}

int http_wait_run(http_ctx_t *c, int64_t run_id, int seconds, http_wake_fn wake, void *data)
{
    http_thread_t *t = c->thread;
    if (seconds < 1)
        seconds = 1;
    if (seconds > HTTP_WAIT_MAX_SECONDS)
        seconds = HTTP_WAIT_MAX_SECONDS;
    if (!t->wait_timeout_ready[seconds - 1]) {
        /* h2o 2.2 timeouts have one fixed duration each: keep one per whole second. */
        h2o_timeout_init(t->ctx.loop, &t->wait_timeouts[seconds - 1], (uint64_t)seconds * 1000);
        t->wait_timeout_ready[seconds - 1] = 1;
    }
    h2o_req_t *req = c->req;
    watcher_t *wt = h2o_mem_alloc_pool(&req->pool, sizeof(*wt));
    memset(wt, 0, sizeof(*wt));
    wt->c = c;
    wt->run_id = run_id;
    wt->wake = wake;
    wt->data = data;
    wt->timeout.cb = on_watch_timeout;
    if ((wt->hc = http_conn_of(req)) != NULL) {
        /* h2o stopped reading the socket once the request was in, so it would not notice the client
         * leaving: poll the socket for readability without reading from it. */
        wt->sock = req->conn->callbacks->get_socket(req->conn);
        wt->hc->watcher = wt;
        h2o_socket_dont_read(wt->sock, 1);
        h2o_socket_read_start(wt->sock, on_parked_readable);
    }
    h2o_linklist_insert(&t->watchers, &wt->link);
    atomic_fetch_add(&t->nwatchers, 1);
    h2o_timeout_link(t->ctx.loop, &t->wait_timeouts[seconds - 1], &wt->timeout);
    return 0;
}

/* Runs on the writer thread after a commit. */
static void on_runs_changed(void *ctx, const int64_t *ids, size_t n)
{
    http_thread_t *threads = ctx;
    for (int i = 0; i < threads[0].cfg->threads; i++) {
        http_thread_t *t = &threads[i];
        if (atomic_load(&t->nwatchers) == 0)
            continue;
        change_msg_t *m = malloc(sizeof(*m) + n * sizeof(int64_t));
        if (m == NULL)
            continue; /* the watchers still answer at their deadline */
        memset(&m->super, 0, sizeof(m->super));
        m->n = n;
        memcpy(m->ids, ids, n * sizeof(int64_t));
        h2o_multithread_send_message(&t->change_receiver, &m->super);
    }
}

static void on_change_messages(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    http_thread_t *t = H2O_STRUCT_FROM_MEMBER(http_thread_t, change_receiver, receiver);
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *m = H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        h2o_linklist_unlink(&m->link);
        change_msg_t *cm = (change_msg_t *)m;
        h2o_linklist_t *node = t->watchers.next;
        while (node != &t->watchers) {
            watcher_t *wt = H2O_STRUCT_FROM_MEMBER(watcher_t, link, node);
            node = node->next; /* firing unlinks wt */
            for (size_t i = 0; i < cm->n; i++) {
                if (cm->ids[i] == wt->run_id) {
                    watcher_fire(wt, 0);
                    break;
                }
            }
        }
        free(cm);
    }
}

/* ---- connections ---- */

static void on_accept(h2o_socket_t *listener, const char *err);

http_conn_t *http_conn_of(h2o_req_t *req)
{
    h2o_socket_t *sock = req->conn->callbacks->get_socket != NULL ? req->conn->callbacks->get_socket(req->conn) : NULL;
    return sock != NULL && sock->on_close.cb != NULL ? sock->on_close.data : NULL;
}

void http_conn_abort(http_conn_t *hc)
{
    struct linger lg = {1, 0};
    setsockopt(hc->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    shutdown(hc->fd, SHUT_RDWR);
}

static void listener_resume(http_thread_t *t)
{
    if (t->listener_paused && t->nconns < t->max_conns && !atomic_load(&stopping)) {
        t->listener_paused = 0;
        h2o_socket_read_start(t->listener, on_accept);
    }
}

/* Stops reading the listener (the kernel's backlog holds the rest); with retry, tries again after
 * a moment even if no connection closes. */
static void listener_pause(http_thread_t *t, int retry)
{
    if (!t->listener_paused) {
        h2o_socket_read_stop(t->listener);
        t->listener_paused = 1;
    }
    if (retry && !h2o_timeout_is_linked(&t->accept_retry))
        h2o_timeout_link(t->loop, &t->accept_retry_timeout, &t->accept_retry);
}

static void on_accept_retry(h2o_timeout_entry_t *entry)
{
    http_thread_t *t = H2O_STRUCT_FROM_MEMBER(http_thread_t, accept_retry, entry);
    listener_resume(t);
}

static void on_conn_close(void *data)
{
    http_conn_t *hc = data;
    http_thread_t *t = hc->thread;
    free(hc);
    t->nconns--;
    listener_resume(t);
}

/* Serves the accepted connection fd on t's loop (h2o owns fd from here); -1 if out of memory (fd
 * is still the caller's). The fuzz harness (fuzz/harness.c) accepts its connections here too. */
static int conn_accept(http_thread_t *t, int fd)
{
    http_conn_t *hc = malloc(sizeof(*hc));
    if (hc == NULL)
        return -1;
    hc->thread = t;
    hc->fd = fd;
    hc->watcher = NULL;
    h2o_socket_t *sock = h2o_evloop_socket_create(t->loop, fd, H2O_SOCKET_FLAG_IS_ACCEPTED_CONNECTION);
    t->nconns++;
    sock->on_close.cb = on_conn_close;
    sock->on_close.data = hc;
    h2o_accept(&t->accept_ctx, sock);
    return 0;
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    http_thread_t *t = listener->data;
    if (err != NULL)
        return;
    for (int i = 0; i < 32; i++) {
        /* h2o has no cap on open connections: stop reading the listener at the cap and resume when
         * a connection closes. */
        if (t->nconns >= t->max_conns) {
            listener_pause(t, 0);
            return;
        }
        /* Accepted here rather than by h2o_evloop_socket_accept, which says neither why it failed
         * nor which descriptor it made. */
        int fd = accept4(t->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* The connection stays in the backlog and the listener stays readable: reading it
                 * again at once would spin. Pause as at the cap. */
                int64_t now = time_mono_ms();
                if (now - t->accept_error_logged_ms >= 10000) {
                    log_warn("cannot accept a connection: %s; pausing the listener (%d connections open)",
                             strerror(errno), t->nconns);
                    t->accept_error_logged_ms = now;
                }
                listener_pause(t, 1);
            }
            return; /* EAGAIN: nothing more; ECONNABORTED and the like: the next event retries */
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (conn_accept(t, fd) != 0) {
            close(fd);
            listener_pause(t, 1);
            return;
        }
    }
}

static int open_listener(const char *host, int port, int *bound_port)
{
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0) {
        log_error("cannot resolve listen address %s: %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
        log_error("cannot listen on %s:%d: %s", host, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        /* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult): getsockname filled ss */
        *bound_port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                     : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

/* Makes t's loop, context, message queue and timeouts, on the thread that will run the loop. */
static void loop_init(http_thread_t *t)
{
    t->loop = h2o_evloop_create();
    h2o_context_init(&t->ctx, t->loop, &globalconf);
    t->accept_ctx.ctx = &t->ctx;
    t->accept_ctx.hosts = globalconf.hosts;
    t->queue = h2o_multithread_create_queue(t->loop);
    h2o_multithread_register_receiver(t->queue, &t->write_receiver, on_write_messages);
    h2o_multithread_register_receiver(t->queue, &t->change_receiver, on_change_messages);
    h2o_linklist_init_anchor(&t->watchers);
    h2o_timeout_init(t->loop, &t->write_timeout, (uint64_t)t->cfg->write_timeout_s * 1000);
    h2o_timeout_init(t->loop, &t->accept_retry_timeout, HTTP_ACCEPT_RETRY_MS);
    t->accept_retry.cb = on_accept_retry;
}

static void *thread_main(void *arg)
{
    http_thread_t *t = arg;
    /* Everything of h2o a loop uses is made on its own thread: h2o 2.2 keeps socket buffers'
     * free lists in thread-local storage and a socket's buffer refers to the free list of the
     * thread that created it, so a queue made on the main thread and read here raced with the
     * other loop (and aborted in h2o_mem_alloc_recycle under load). */
    loop_init(t);
    pthread_mutex_lock(&t->ready->mu);
    t->ready->count++;
    pthread_cond_signal(&t->ready->cv);
    pthread_mutex_unlock(&t->ready->mu);
    t->listener = h2o_evloop_socket_create(t->loop, t->listen_fd, H2O_SOCKET_FLAG_DONT_READ);
    t->listener->data = t;
    h2o_socket_read_start(t->listener, on_accept);

    while (!atomic_load(&stopping))
        h2o_evloop_run(t->loop, 200);

    /* Stop accepting; answer long-polls now; let writes in flight finish and be answered. */
    if (!t->listener_paused)
        h2o_socket_read_stop(t->listener);
    if (h2o_timeout_is_linked(&t->accept_retry))
        h2o_timeout_unlink(&t->accept_retry);
    h2o_socket_close(t->listener);
    while (!h2o_linklist_is_empty(&t->watchers))
        watcher_fire(H2O_STRUCT_FROM_MEMBER(watcher_t, link, t->watchers.next), 1);
    /* Every submitted write completes (the writer never drops one), and its answer must be
     * delivered before this thread's receivers go away. */
    while (t->pending_writes > 0)
        h2o_evloop_run(t->loop, 50);
    /* Ask keep-alive connections to close after their current request, then give them a moment.
     * h2o 2.2 cannot close idle keep-alive connections itself, so a loop may still have some. */
    h2o_context_request_shutdown(&t->ctx);
    int64_t deadline = time_mono_ms() + 1000;
    do
        h2o_evloop_run(t->loop, 50);
    while (t->nconns > 0 && time_mono_ms() < deadline);
    return NULL;
}

/* Open descriptors of this process (those in /proc/self/fd), or -1 if that cannot be read. */
static int count_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = -1; /* the directory's own descriptor is not counted */
    if (d == NULL)
        return -1;
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n - 2; /* "." and ".." */
}

/* The connection cap that fits the descriptor limit: each connection is a descriptor, and the
 * process needs others (database files, queues, listeners, the runner's pipes). Raises the soft
 * limit towards the hard one first; logs when the cap is lowered. */
static int fit_fd_limit(int max_connections, int threads)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return max_connections;
    int used = count_open_fds();
    rlim_t reserve = (rlim_t)(used > 0 ? used : 16) + (rlim_t)threads * HTTP_FDS_PER_THREAD + HTTP_FDS_SPARE;
    rlim_t want = reserve + (rlim_t)max_connections;
    if (rl.rlim_cur < want && rl.rlim_cur < rl.rlim_max) {
        struct rlimit raised = rl;
        raised.rlim_cur = rl.rlim_max == RLIM_INFINITY || want < rl.rlim_max ? want : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
            rl = raised;
    }
    if (rl.rlim_cur >= want)
        return max_connections;
    rlim_t room = rl.rlim_cur > reserve ? rl.rlim_cur - reserve : 0;
    int cap = room > (rlim_t)threads ? (int)room : threads;
    log_warn("max_connections lowered from %d to %d: the process may open %llu files (RLIMIT_NOFILE) and keeps "
             "%llu for itself; raise the limit (ulimit -n) to allow more",
             max_connections, cap, (unsigned long long)rl.rlim_cur, (unsigned long long)reserve);
    return cap;
}

/* Fills the settings left 0 with their defaults. */
static void config_defaults(http_config_t *cfg)
{
    if (cfg->threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        cfg->threads = n > 0 ? (int)(n > 64 ? 64 : n) : 1;
    }
    if (cfg->max_connections <= 0)
        cfg->max_connections = 4096;
    if (cfg->idle_timeout_s <= 0)
        cfg->idle_timeout_s = 10;
    if (cfg->write_timeout_s <= 0)
        cfg->write_timeout_s = 30;
}

/* h2o's configuration: one host whose every path is dispatched by on_req. Returns that path's
 * configuration (the fuzz harness adds a filter to it). */
static h2o_pathconf_t *globalconf_init(const http_config_t *cfg)
{
    h2o_config_init(&globalconf);
    globalconf.server_name = h2o_iovec_init(H2O_STRLIT("syncrun"));
    /* h2o's default is 1 GiB, buffered in memory; no syncrun request needs more than 1 MiB. */
    globalconf.max_request_entity_size = 1024 * 1024;
    /* HTTP/1.1 only: Debian's h2o 2.2.5 lacks the HTTP/2 Rapid Reset fix (CVE-2023-44487). */
    globalconf.http1.upgrade_to_http2 = 0;
    /* Time to receive a request's headers and body, and idle keep-alive; short, as slow clients
     * hold a connection slot. */
    globalconf.http1.req_timeout = (uint64_t)cfg->idle_timeout_s * 1000;
    h2o_hostconf_t *hostconf = h2o_config_register_host(&globalconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *pathconf = h2o_config_register_path(hostconf, "/", 0);
    h2o_handler_t *handler = h2o_create_handler(pathconf, sizeof(*handler));
    handler->on_req = on_req;
    return pathconf;
}

int http_serve(const http_config_t *cfg_in, store_t *store)
{
    http_config_t cfg = *cfg_in;
    config_defaults(&cfg);
    cfg.access_log_fd = -1;
    if (cfg.access_log != NULL) {
        cfg.access_log_fd = strcmp(cfg.access_log, "-") == 0
                                ? STDERR_FILENO
                                : open(cfg.access_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (cfg.access_log_fd < 0) {
            log_error("cannot open the access log path=%s err=\"%s\"", cfg.access_log, strerror(errno));
            return -1;
        }
    }
    cfg.max_connections = fit_fd_limit(cfg.max_connections, cfg.threads);

    /* A peer that closes early must not kill the process with SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    /* Inherited by the loop threads; main waits for them. The caller should have blocked them before
     * starting any thread (the store's writer): a thread that does not block them would die of the
     * second signal during the shutdown. */
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    SSL_CTX *tls = NULL;
    if (cfg.tls_cert_file != NULL && (tls = http_tls_context(cfg.tls_cert_file, cfg.tls_key_file)) == NULL)
        return -1;
    globalconf_init(&cfg);

    http_thread_t *threads = calloc((size_t)cfg.threads, sizeof(*threads));
    if (threads == NULL)
        return -1;
    int port = cfg.listen_port, rc = -1, started = 0;
    http_ready_t ready = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    for (int i = 0; i < cfg.threads; i++) {
        http_thread_t *t = &threads[i];
        t->index = i;
        t->cfg = &cfg;
        t->store = store;
        t->accept_ctx.ssl_ctx = tls; /* NULL: plain HTTP */
        t->max_conns = cfg.max_connections / cfg.threads > 0 ? cfg.max_connections / cfg.threads : 1;
        t->listen_fd = open_listener(cfg.listen_host, port, &port);
        if (t->listen_fd < 0)
            goto out;
        if ((t->reader = store_reader_open(store)) == NULL)
            goto out;
        t->ready = &ready;
    }
    for (; started < cfg.threads; started++) {
        if (pthread_create(&threads[started].tid, NULL, thread_main, &threads[started]) != 0) {
            log_error("cannot start thread %d", started);
            atomic_store(&stopping, 1);
            goto out;
        }
    }
    /* Every loop has its queue before the writer may post to it. */
    pthread_mutex_lock(&ready.mu);
    while (ready.count < started)
        pthread_cond_wait(&ready.cv, &ready.mu);
    pthread_mutex_unlock(&ready.mu);
    store_add_change_hook(store, on_runs_changed, threads);
    log_info("listening on %s://%s:%d threads=%d max_connections=%d idle_timeout=%ds write_timeout=%ds",
             tls ? "https" : "http", cfg.listen_host, port, cfg.threads, cfg.max_connections, cfg.idle_timeout_s,
             cfg.write_timeout_s);
    if (cfg.on_listening != NULL)
        cfg.on_listening(cfg.on_listening_ctx, port);
    int sig = 0;
    sigwait(&sigs, &sig);
    log_info("stopping on signal %d", sig);
    atomic_store(&stopping, 1);
    rc = 0;
out:
    for (int i = 0; i < started; i++)
        pthread_join(threads[i].tid, NULL);
    store_remove_change_hook(store, on_runs_changed, threads);
    for (int i = 0; i < cfg.threads; i++) {
        http_thread_t *t = &threads[i];
        if (t->loop == NULL && t->listen_fd > 0)
            close(t->listen_fd);
        store_reader_close(t->reader);
        t->reader = NULL;
    }
    /* The loops, contexts and queues are left to the process exit, which follows: h2o 2.2 cannot
     * close idle keep-alive connections, and a loop with connections cannot be destroyed (it
     * asserts). `live_threads` keeps them reachable, so leak checkers see no leak. */
    live_threads = threads;
    return rc;
}
