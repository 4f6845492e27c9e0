/* Fuzzes the query strings of every route that reads one (paging, filters, cursors, long-poll
 * waits, dialect parameters): the first byte picks the route, the rest is the query string, sent
 * with an admin key. Bytes an HTTP request line cannot carry (controls, space, '#') are
 * percent-encoded; everything else, '%' and '&' included, is sent as it is. Properties: those of
 * harness.h, and a query is answered 200 or refused 400 (404 for an id the route does not have). */
#include "fuzz.h"
#include "harness.h"

static const char *const paths[] = {
    "/v1/connections",
    "/v1/connections/1/runs",
    "/v1/connections/@CONNUUID@/runs",
    "/v1/runs/1",
    "/v1/runs/@RUN@",
    "/v1/runs/1/events",
    "/v1/runs/1/log",
    "/v1/runs/1/jobs",
    "/api/v1/syncs/1/sync_runs",
    "/api/v1/sync_runs/1",
    "/connections/4/runs",
    "/synchronization/imodels/manifestconnections/5/runs",
    "/synchronization/imodels/manifestconnections/5/runs/400",
    "/cdi/integrations/@CONNUUID@/job_sync_status",
    "/api/v1/syncs",
    "/cdi/integrations",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 8192)
        return -1;
    harness_init();
    const char *path = paths[data[0] % (sizeof(paths) / sizeof(paths[0]))];
    size_t cap = 3 * size + 512, o = 0;
    char *line = malloc(cap);
    FUZZ_CHECK(line != NULL);
    o = (size_t)snprintf(line, cap, "GET %s?", path);
    for (size_t i = 1; i < size; i++) {
        unsigned char ch = data[i];
        if (ch <= 0x20 || ch == 0x7f || ch == '#')
            o += (size_t)snprintf(line + o, cap - o, "%%%02X", ch);
        else
            line[o++] = (char)ch;
    }
    o += (size_t)snprintf(line + o, cap - o, " HTTP/1.1\r\nHost: fuzz\r\nAuthorization: Bearer @TOKEN@\r\n\r\n");
    size_t n;
    char *req = harness_expand((const uint8_t *)line, o, &n);
    if (harness_exchange(req, n) == 1) {
        int st = harness_last_status();
        FUZZ_CHECK(st == 200 || st == 400 || st == 404 || st == 422);
    }
    free(req);
    free(line);
    return 0;
}
