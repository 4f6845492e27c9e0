/* Ingestion load generator (benchmark tool, not part of syncrun).
 *
 *   ingest PORT TOKEN SECONDS CLIENTS [--trigger census|braze|itwin] CONN...
 *
 * CLIENTS keep-alive HTTP/1.1 connections to 127.0.0.1:PORT, driven by one epoll loop. Each client
 * repeats a complete run lifecycle on its own connection (CONNs are used round-robin; a CONN is
 * ID or ID/UUID, the UUID being needed by the braze and itwin triggers):
 *   POST /v1/connections/{c}/runs {"state":"working"}  -> 201, run id
 *   PATCH /v1/runs/{id} {"counters":{…}}               -> 200
 *   POST /v1/runs/{id}/finish {"result":"success",…}   -> 200
 * With --trigger the run is started by a vendor's trigger route instead, and finished natively:
 *   census: POST /api/v1/syncs/{c}/trigger -> 200 sync_run_id;                    finish
 *   itwin:  POST …/manifestconnections/{uuid}/runs -> 202 Location …/runs/{run uuid}; finish
 *   braze:  POST /cdi/integrations/{uuid}/sync -> 202 (no id: it answers 429 while a run is
 *           queued, so the run must end before the next trigger); GET /v1/connections/{c}/runs?limit=1
 *           -> the run's id;                                                        finish
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

typedef enum mode { LIFECYCLE, CENSUS, BRAZE, ITWIN } mode_t_;

typedef struct client {
    int fd, step, conn_id;
    const char *conn_uuid;
    long long run_id;
    char run_uuid[40];
    double started;
    char out[2048];
    size_t out_len, out_off;
    char in[BUF];
    size_t in_len;
} client_t;

static const char *token;
static mode_t_ mode = LIFECYCLE;
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
    body[0] = '\0';
    if (c->step == 0 && mode == CENSUS) {
        method = "POST";
        snprintf(path, sizeof(path), "/api/v1/syncs/%d/trigger", c->conn_id);
    } else if (c->step == 0 && mode == BRAZE) {
        method = "POST";
        snprintf(path, sizeof(path), "/cdi/integrations/%s/sync", c->conn_uuid);
    } else if (c->step == 0 && mode == ITWIN) {
        method = "POST";
        snprintf(path, sizeof(path), "/synchronization/imodels/manifestconnections/%s/runs", c->conn_uuid);
    } else if (c->step == 1 && mode == BRAZE) {
        method = "GET";
        snprintf(path, sizeof(path), "/v1/connections/%d/runs?limit=1", c->conn_id);
    } else if (c->step == 2 && c->run_uuid[0] != '\0') {
        method = "POST";
        snprintf(path, sizeof(path), "/v1/runs/%s/finish", c->run_uuid);
        snprintf(body, sizeof(body), "{\"result\":\"success\"}");
    } else if (c->step == 0) {
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
                 "{\"result\":\"success\",\"counters\":{\"records_processed\":%u,\"records_updated\":%u}}", v % 1000,
                 v % 1000);
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
    int first = 5; /* the first CONN */
    if (argc > 6 && strcmp(argv[5], "--trigger") == 0) {
        mode = strcmp(argv[6], "census") == 0  ? CENSUS
               : strcmp(argv[6], "braze") == 0 ? BRAZE
               : strcmp(argv[6], "itwin") == 0 ? ITWIN
                                               : LIFECYCLE;
        if (mode == LIFECYCLE) {
            fprintf(stderr, "ingest: --trigger census, braze or itwin\n");
            return 2;
        }
        first = 7;
    }
    if (argc <= first) {
        fprintf(stderr, "usage: ingest PORT TOKEN SECONDS CLIENTS [--trigger census|braze|itwin] CONN...\n");
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
        const char *conn = argv[first + i % (argc - first)], *sl = strchr(conn, '/');
        c->conn_id = atoi(conn);
        c->conn_uuid = sl != NULL ? sl + 1 : "";
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
            int want = c->step != 0 ? 200 : mode == LIFECYCLE ? 201 : mode == CENSUS ? 200 : 202;
            c->run_uuid[0] = c->step == 1 ? c->run_uuid[0] : '\0';
            if (status != want) {
                if (errors++ < 5)
                    fprintf(stderr, "ingest: step %d got %d: %.300s\n", c->step, status, body);
                c->step = 0; /* start a fresh lifecycle */
            } else if (c->step == 0 && mode == BRAZE) {
                c->step = 1;
            } else if (c->step == 0 && mode == ITWIN) {
                const char *loc = strcasestr(c->in, "\r\nlocation:"), *eol = loc ? strstr(loc + 2, "\r\n") : NULL;
                const char *slash = NULL;
                for (const char *p = loc; p != NULL && p < eol; p++)
                    slash = *p == '/' ? p : slash;
                if (slash != NULL && eol - slash - 1 < (long)sizeof(c->run_uuid)) {
                    snprintf(c->run_uuid, sizeof(c->run_uuid), "%.*s", (int)(eol - slash - 1), slash + 1);
                    c->step = 2;
                } else if (errors++ < 5) {
                    fprintf(stderr, "ingest: no run in the Location of %.300s\n", c->in);
                }
            } else if (c->step == 0 || (c->step == 1 && mode == BRAZE)) {
                const char *id = strstr(body, mode == CENSUS ? "\"sync_run_id\":" : "\"id\":");
                c->run_id = id ? atoll(strchr(id, ':') + 1) : 0;
                c->step = c->run_id <= 0 ? 0 : mode == LIFECYCLE ? 1 : 2;
                if (c->run_id <= 0 && errors++ < 5)
                    fprintf(stderr, "ingest: no id in %.200s\n", body);
                if (mode != LIFECYCLE && c->run_id > 0)
                    snprintf(c->run_uuid, sizeof(c->run_uuid), "%lld", c->run_id);
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
    printf("lifecycles=%lld seconds=%.3f rate=%.1f errors=%lld p50_ms=%.2f p99_ms=%.2f client_cpu=%.3f\n", lifecycles,
           elapsed, lifecycles / elapsed, errors, p50 * 1e3, p99 * 1e3, cpu / elapsed);
    return errors > 0 && lifecycles == 0 ? 1 : 0;
}

int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
