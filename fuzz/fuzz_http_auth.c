/* Fuzzes the Authorization header (Bearer and Basic, any scheme, any bytes) in front of routes of
 * every dialect and scope: the first byte picks the route, the rest is the header's value (CR, LF
 * and NUL become spaces, so the value stays one header). Properties: those of harness.h, and a
 * value without a placeholder of harness.h (so without any key) is answered 401. */
#include "fuzz.h"
#include "harness.h"

static const struct {
    const char *method, *path;
} routes[] = {
    {"GET", "/v1/connections"},
    {"GET", "/v1/runs/1"},
    {"DELETE", "/v1/connections/999999"},
    {"POST", "/v1/runs/999999/cancel"},
    {"GET", "/api/v1/syncs/1/sync_runs?per_page=1"},
    {"GET", "/connections/4/runs?count=1"},
    {"GET", "/synchronization/imodels/manifestconnections/5/runs?$top=1"},
    {"GET", "/cdi/integrations/@CONNUUID@/job_sync_status"},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 4096)
        return -1;
    harness_init();
    unsigned pick = data[0] % (sizeof(routes) / sizeof(routes[0]));
    char *value = fuzz_strndup(data + 1, size - 1);
    for (size_t i = 0; i + 1 < size; i++)
        if (value[i] == '\r' || value[i] == '\n' || value[i] == '\0')
            value[i] = ' ';
    size_t vlen;
    char *expanded = harness_expand((const uint8_t *)value, size - 1, &vlen);
    size_t cap = vlen + 256;
    char *req = malloc(cap);
    FUZZ_CHECK(req != NULL);
    int n = snprintf(req, cap, "%s %s HTTP/1.1\r\nHost: fuzz\r\nContent-Length: 0\r\nAuthorization: %s\r\n\r\n",
                     routes[pick].method, routes[pick].path, expanded);
    FUZZ_CHECK(n > 0 && (size_t)n < cap);
    /* Without a placeholder the value cannot hold a key (they are random per process). */
    if (harness_exchange(req, (size_t)n) == 1 && memchr(data + 1, '@', size - 1) == NULL)
        FUZZ_CHECK(harness_last_status() == 401);
    free(req);
    free(expanded);
    free(value);
    return 0;
}
