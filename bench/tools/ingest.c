/* Ingestion load generator (benchmark tool, not part of syncrun).
 *
 *   ingest PORT TOKEN SECONDS CLIENTS CONN_ID...
 *
 * CLIENTS keep-alive HTTP/1.1 connections to 127.0.0.1:PORT, driven by one epoll loop. Each client
 * repeats a complete run lifecycle on its own connection (CONN_IDs are used round-robin):
 *   POST /v1/connections/{c}/runs {"state":"working"}  -> 201, run id
 *   PATCH /v1/runs/{id} {"counters":{…}}               -> 200
 *   POST /v1/runs/{id}/finish {"result":"success",…}   -> 200
 * syncrun answers a write only once it is committed, so every counted lifecycle is durable.
 * After SECONDS no new lifecycle starts; lifecycles in flight are finished and counted.
 * Prints: lifecycles=N seconds=S rate=R errors=E p50_ms=… p99_ms=… client_cpu=C (cores used). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { BUF = 16384, MAX_CLIENTS = 1024, MAX_SAMPLES = 4000000 };

typedef struct client {
    int fd, step, conn_id;
    long long run_id;
    double started;
    char out[2048];
    size_t out_len, out_off;
    char in[BUF];
    size_t in_len;
} client_t;

static const char *token;
static long long lifecycles, errors;
static double *samples;
static long nsamples;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void build(client_t *c)
{
    char body[512], path[128];
    const char *method;
    unsigned v = (unsigned)(c->run_id * 2654435761u);
    if (c->step == 0) {
        method = "POST";
        snprintf(path, sizeof(path), "/v1/connections/%d/runs", c->conn_id);
        snprintf(body, sizeof(body), "{\"state\":\"working\",\"trigger\":{\"tag\":\"API\",\"detail\":\"bench\"}}");
    } else if (c->step == 1) {
        method = "PATCH";
        snprintf(path, sizeof(path), "/v1/runs/%lld", c->run_id);
        snprintf(body, sizeof(body),
                 "{\"current_step\":\"Loading data into destination service\",\"counters\":{"
                 "\"source_record_count\":%u,\"source_record_updates\":%u,\"records_processed\":%u}}",
                 1000 + v % 100000, v % 1000, v % 1000);
    } else {
        method = "POST";
        snprintf(path, sizeof(path), "/v1/runs/%lld/finish", c->run_id);
        snprintf(body, sizeof(body),
                 "{\"result\":\"success\",\"counters\":{\"records_processed\":%u,\"records_updated\":%u}}",
                 v % 1000, v % 1000);
    }
    c->out_len = (size_t)snprintf(c->out, sizeof(c->out),
                                  "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                                  "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                                  method, path, token, strlen(body), body);
    c->out_off = 0;
    c->in_len = 0;
}

static int flush_out(client_t *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
        if (n < 0)
            return errno == EAGAIN ? 0 : -1;
        c->out_off += (size_t)n;
    }
    return 0;
}

/* 1 = a whole response is in c->in (status and body set), 0 = need more, -1 = broken. */
static int parse(client_t *c, int *status, const char **body)
{
    c->in[c->in_len] = '\0';
    char *end = strstr(c->in, "\r\n\r\n");
    if (end == NULL)
        return 0;
    if (sscanf(c->in, "HTTP/1.%*d %d", status) != 1)
        return -1;
    char *cl = strcasestr(c->in, "\r\ncontent-length:");
    if (cl == NULL || cl > end)
        return -1;
    size_t len = strtoul(cl + 17, NULL, 10);
    if (c->in_len < (size_t)(end + 4 - c->in) + len)
        return 0;
    *body = end + 4;
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: ingest PORT TOKEN SECONDS CLIENTS CONN_ID...\n");
        return 2;
    }
    int port = atoi(argv[1]);
    token = argv[2];
    double seconds = atof(argv[3]);
    int nclients = atoi(argv[4]);
    if (nclients < 1 || nclients > MAX_CLIENTS)
        return 2;
    samples = malloc(sizeof(double) * MAX_SAMPLES);
    int ep = epoll_create1(0);
    client_t *cl = calloc((size_t)nclients, sizeof(client_t));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    double t0 = now(), deadline = t0 + seconds;
    int active = nclients;
    for (int i = 0; i < nclients; i++) {
        client_t *c = &cl[i];
        c->fd = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
            perror("ingest: connect");
            return 1;
        }
        c->conn_id = atoi(argv[5 + i % (argc - 5)]);
        c->started = now();
        build(c);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
        if (flush_out(c) != 0) {
            perror("ingest: write");
            return 1;
        }
    }
    struct epoll_event evs[64];
    while (active > 0) {
        int n = epoll_wait(ep, evs, 64, 1000);
        if (n < 0 && errno != EINTR)
            break;
        if (now() > deadline + 30) {
            fprintf(stderr, "ingest: answers stopped coming\n");
            return 1;
        }
        for (int k = 0; k < n; k++) {
            client_t *c = evs[k].data.ptr;
            ssize_t r = read(c->fd, c->in + c->in_len, BUF - 1 - c->in_len);
            if (r <= 0) {
                if (r < 0 && errno == EAGAIN)
                    continue;
                fprintf(stderr, "ingest: server closed the connection\n");
                return 1;
            }
            c->in_len += (size_t)r;
            int status;
            const char *body;
            int p = parse(c, &status, &body);
            if (p == 0)
                continue;
            if (p < 0) {
                fprintf(stderr, "ingest: bad response: %.200s\n", c->in);
                return 1;
            }
            int want = c->step == 0 ? 201 : 200;
            if (status != want) {
                if (errors++ < 5)
                    fprintf(stderr, "ingest: step %d got %d: %.300s\n", c->step, status, body);
                c->step = 0; /* start a fresh lifecycle */
            } else if (c->step == 0) {
                const char *id = strstr(body, "\"id\":");
                c->run_id = id ? atoll(id + 5) : 0;
                c->step = c->run_id > 0 ? 1 : 0;
                if (c->run_id <= 0 && errors++ < 5)
                    fprintf(stderr, "ingest: no id in %.200s\n", body);
            } else if (c->step == 1) {
                c->step = 2;
            } else {
                lifecycles++;
                double t = now();
                if (nsamples < MAX_SAMPLES)
                    samples[nsamples++] = t - c->started;
                c->step = 0;
                c->started = t;
            }
            if (c->step == 0 && now() >= deadline) {
                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                close(c->fd);
                active--;
                continue;
            }
            build(c);
            if (flush_out(c) != 0) {
                perror("ingest: write");
                return 1;
            }
        }
    }
    double elapsed = now() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    /* percentiles by partial selection would do; a sort is fine at these counts */
    int cmp(const void *a, const void *b);
    qsort(samples, (size_t)nsamples, sizeof(double), cmp);
    double p50 = nsamples ? samples[nsamples / 2] : 0, p99 = nsamples ? samples[(long)(nsamples * 0.99)] : 0;
    printf("lifecycles=%lld seconds=%.3f rate=%.1f errors=%lld p50_ms=%.2f p99_ms=%.2f client_cpu=%.3f\n",
           lifecycles, elapsed, lifecycles / elapsed, errors, p50 * 1e3, p99 * 1e3, cpu / elapsed);
    return errors > 0 && lifecycles == 0 ? 1 : 0;
}

int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
