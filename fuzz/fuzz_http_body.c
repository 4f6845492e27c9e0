/* Fuzzes every request body the API reads (connections, triggers, run updates and finishes,
 * cancels, jobs, tasks, log appends, the four import formats, Census and Braze triggers) through
 * the real server (harness.h). The first byte picks the route; the rest is the body, sent with its
 * length and an admin key. A run route gets a run of its own, just triggered (and a job route a
 * job of that run), so state changes are tried from a known start. Properties: those of
 * harness.h, and a body is either taken (2xx) or refused with 400, 404, 409, 413, 422 or 429
 * (Braze: a sync already running), never anything else. */
#include "fuzz.h"
#include "harness.h"

enum { NEEDS_RUN = 1, NEEDS_JOB = 2, NEEDS_TASK = 4 };

static const struct {
    const char *method, *path; /* %1$s: the run's id, %2$s: the job's id, %3$s: the task's id */
    int needs;
} routes[] = {
    {"POST", "/v1/connections", 0},
    {"PATCH", "/v1/connections/3", 0},
    {"POST", "/v1/connections/2/runs", 0},
    {"POST", "/v1/connections/2/runs:import?format=census", 0},
    {"POST", "/v1/connections/2/runs:import?format=braze", 0},
    {"POST", "/v1/connections/2/runs:import?format=blueconic", 0},
    {"POST", "/v1/connections/2/runs:import?format=itwin", 0},
    {"PATCH", "/v1/runs/%1$s", NEEDS_RUN},
    {"POST", "/v1/runs/%1$s/finish", NEEDS_RUN},
    {"POST", "/v1/runs/%1$s/cancel", NEEDS_RUN},
    {"POST", "/v1/runs/%1$s/log", NEEDS_RUN},
    {"POST", "/v1/runs/%1$s/jobs", NEEDS_RUN},
    {"PATCH", "/v1/runs/%1$s/jobs/%2$s", NEEDS_RUN | NEEDS_JOB},
    {"POST", "/v1/runs/%1$s/jobs/%2$s/tasks", NEEDS_RUN | NEEDS_JOB},
    {"PATCH", "/v1/runs/%1$s/jobs/%2$s/tasks/%3$s", NEEDS_RUN | NEEDS_JOB | NEEDS_TASK},
    {"POST", "/api/v1/syncs/2/trigger", 0},
    {"POST", "/cdi/integrations/@CONNUUID@/sync", 0},
};

/* Sends method path body with an admin key; returns the JSON answer's "id" as text in out ("" if
 * none). */
static void call(const char *method, const char *path, const char *body, size_t blen, char *out, size_t outcap)
{
    size_t cap = blen + strlen(path) + 256;
    char *req = malloc(cap);
    FUZZ_CHECK(req != NULL);
    int n =
        snprintf(req, cap,
                 "%s %s HTTP/1.1\r\nHost: fuzz\r\nAuthorization: Bearer @TOKEN@\r\nContent-Type: application/json\r\n"
                 "Content-Length: %zu\r\n\r\n",
                 method, path, blen);
    FUZZ_CHECK(n > 0 && (size_t)n + blen < cap);
    memcpy(req + n, body, blen);
    size_t len;
    char *expanded = harness_expand((const uint8_t *)req, (size_t)n + blen, &len);
    int responses = harness_exchange(expanded, len);
    if (out != NULL) {
        json_t *id = json_object_get(harness_last_json(), "id");
        out[0] = '\0';
        if (json_is_integer(id))
            snprintf(out, outcap, "%lld", (long long)json_integer_value(id));
        else if (json_is_string(id))
            snprintf(out, outcap, "%s", json_string_value(id));
    } else if (responses == 1) {
        int st = harness_last_status();
        FUZZ_CHECK((st >= 200 && st < 300) || st == 400 || st == 404 || st == 409 || st == 413 || st == 422 ||
                   st == 429);
    }
    free(expanded);
    free(req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > HARNESS_MAX_INPUT)
        return -1;
    harness_init();
    unsigned pick = data[0] % (sizeof(routes) / sizeof(routes[0]));
    char run[64] = "", job[64] = "", task[64] = "", path[256];
    if (routes[pick].needs & NEEDS_RUN) {
        static const char trigger[] = "{}";
        call("POST", "/v1/connections/2/runs", trigger, sizeof(trigger) - 1, run, sizeof(run));
        FUZZ_CHECK(run[0] != '\0');
    }
    if (routes[pick].needs & NEEDS_JOB) {
        static const char body[] = "{\"name\": \"fuzz\"}";
        snprintf(path, sizeof(path), "/v1/runs/%s/jobs", run);
        call("POST", path, body, sizeof(body) - 1, job, sizeof(job));
        FUZZ_CHECK(job[0] != '\0');
    }
    if (routes[pick].needs & NEEDS_TASK) {
        static const char body[] = "{}";
        snprintf(path, sizeof(path), "/v1/runs/%s/jobs/%s/tasks", run, job);
        call("POST", path, body, sizeof(body) - 1, task, sizeof(task));
        FUZZ_CHECK(task[0] != '\0');
    }
    snprintf(path, sizeof(path), routes[pick].path, run, job, task);
    call(routes[pick].method, path, (const char *)data + 1, size - 1, NULL, 0);
    return 0;
}
