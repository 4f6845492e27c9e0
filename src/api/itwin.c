/* Bentley iTwin Synchronization dialect: manifest connection runs exactly as the iTwin API answers
 * them (seed 004).
 *   GET /synchronization/imodels/manifestconnections/{connectionId}/runs?$skip=&$top=
 *   GET /synchronization/imodels/manifestconnections/{connectionId}/runs/{runId}
 * A manifest connection is a connection, named by its UUID. docs/dialects/itwin.md says what differs. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/import.h"
#include "api/itwin.h"
#include "api/rcache.h"
#include "api/render.h"
#include "util/ids.h"
#include "util/jsonw.h"
#include "util/timeutil.h"

enum {
    ITWIN_TOP_DEFAULT = 100,
    ITWIN_TOP_MAX = 1000,
    ITWIN_SKIP_MAX = 2147483647,
    ITWIN_MAX_JOBS = 1000,  /* per imported run */
    ITWIN_MAX_TASKS = 1000, /* per imported job */
};

/* A representation answer (a page, or one run) embeds at most RENDER_JOBS_UNITS tasks and about
 * RENDER_JOBS_TEXT_BYTES of their texts: a page stops before the run that would pass them and links
 * the rest as `next`. When one run alone passes them, it is shown with only its first jobs and tasks
 * and this header is sent instead of Preference-Applied (GET /v1/runs/{id}/jobs pages through all). */
#define ITWIN_TRUNCATED_HEADER "syncrun-truncated"

#define ITWIN_422_CODE "InvalidManifestConnectionRunsRequest"

/* ---- errors ---- */

/* The iTwin code and message each error the HTTP layer or a handler raises becomes. Handlers pass
 * iTwin codes themselves; the native codes below come from the shared layers (auth, rate limit,
 * routing, store). */
static const struct itwin_error {
    int status;
    const char *native_code; /* NULL: any code of this status */
    const char *code, *message;
} itwin_errors[] = {
    {401, NULL, "HeaderNotFound", "Header Authorization was not found in the request. Access denied."},
    {403, NULL, "InsufficientPermissions", "The user has insufficient permissions for the requested operation."},
    {404, "not_found", "NotFound", "Requested resource is not available."},
    {405, NULL, "MethodNotAllowed", "The requested method is not allowed for this resource."},
    {429, NULL, "RateLimitExceeded",
     "The client sent more requests than allowed by this API for the current tier of the client."},
    {500, NULL, "InternalServerError", "The server encountered an internal error."},
};

/* The 422 detail message of each query target. */
static const char *itwin_detail_message(const char *target)
{
    return strcmp(target, "connectionId") == 0 ? "Provided connectionId value is not valid."
                                               : "Page size is out of limits.";
}

/* Every error of the dialect: {"error": {"code", "message"[, "details"]}}. For 422, `field` lists
 * the bad targets separated by commas ("connectionId,$skip,$top"); each becomes a details[] entry. */
static void itwin_send_error(http_ctx_t *c, int status, const char *code, const char *message, const char *field)
{
    const char *icode = code, *imsg = message;
    if (status == 401 && http_header(c, "authorization") != NULL) {
        icode = "InvalidHeaderValue";
        imsg = "Header Authorization has an invalid value. Access denied.";
    } else {
        for (size_t i = 0; i < sizeof(itwin_errors) / sizeof(itwin_errors[0]); i++) {
            const struct itwin_error *e = &itwin_errors[i];
            if (e->status == status && (e->native_code == NULL || (code && strcmp(e->native_code, code) == 0))) {
                icode = e->code, imsg = e->message;
                break;
            }
        }
        if (status >= 500)
            icode = "InternalServerError", imsg = "The server encountered an internal error.";
    }
    json_t *err = json_pack("{s:s, s:s}", "code", icode ? icode : "Error", "message", imsg ? imsg : "Error.");
    if (status == 422 && field != NULL && icode != NULL && strcmp(icode, ITWIN_422_CODE) == 0) {
        json_t *details = json_array();
        const char *p = field;
        while (*p != '\0') {
            size_t n = strcspn(p, ",");
            char target[32];
            snprintf(target, sizeof(target), "%.*s", (int)(n < sizeof(target) ? n : sizeof(target) - 1), p);
            json_array_append_new(details, json_pack("{s:s, s:s, s:s}", "code", "InvalidValue", "message",
                                                     itwin_detail_message(target), "target", target));
            p += n + (p[n] == ',');
        }
        json_object_set_new(err, "details", details);
    }
    http_send_json(c, status, json_pack("{s:o}", "error", err));
}

const http_dialect_t itwin_dialect = {"itwin", itwin_send_error};

/* ---- the mapping ---- */

static const char *const itwin_states[] = {"NotStarted", "Idle",       "WaitingToExecute", "WaitingToRetry",
                                           "Executing",  "Finalizing", "Completed",        "Queued"};
static const char *const itwin_results[] = {"Undetermined", "Success",  "Error",   "PartialSuccess",
                                            "Skipped",      "Canceled", "TimedOut"};
static const char *const itwin_phases[] = {"Preprocessor", "MasterFile", "ReferenceFile"};
static const char *const itwin_connectors[] = {
    "AUTOPLANT", "CIVIL", "CIVIL3D", "DWG",       "GEOSPATIAL",    "IFC", "MSTN",    "NWD",       "OBD",
    "OPENTOWER", "REVIT", "SPPID",   "SPXREVIEW", "PROSTRUCTURES", "RVM", "PSEXCEL", "INTELLIPID"};

#define ITWIN_ENUM_FIND(list, s) itwin_enum_find(list, sizeof(list) / sizeof((list)[0]), s)

/* The index of s in list, or -1 (NULL is in no list). */
static int itwin_enum_find(const char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; s != NULL && i < n; i++)
        if (strcmp(list[i], s) == 0)
            return (int)i;
    return -1;
}

static const char *itwin_state_name(run_state_t s)
{
    switch (s) {
    case RUN_QUEUED:
        return "Queued";
    case RUN_WORKING:
        return "Executing";
    case RUN_RETRYING:
        return "WaitingToRetry";
    default:
        return "Completed";
    }
}

static const char *itwin_result_name(run_result_t r)
{
    switch (r) {
    case RESULT_SUCCESS:
        return "Success";
    case RESULT_PARTIAL:
        return "PartialSuccess";
    case RESULT_ERROR:
    case RESULT_CONFIG_ERROR:
        return "Error";
    case RESULT_TIMED_OUT:
        return "TimedOut";
    case RESULT_CANCELED:
        return "Canceled";
    case RESULT_SKIPPED:
        return "Skipped";
    default:
        return "Undetermined";
    }
}

/* iTwin state + result → canonical. Completed needs a decided result; the other states are live
 * and carry Undetermined (or no result). Returns 0, or -1 naming the bad key in *bad. */
static int itwin_state_parse(const char *state, const char *result, run_state_t *s, run_result_t *r, const char **bad)
{
    static const run_result_t results[] = {RESULT_NONE,    RESULT_SUCCESS,  RESULT_ERROR,    RESULT_PARTIAL,
                                           RESULT_SKIPPED, RESULT_CANCELED, RESULT_TIMED_OUT};
    int si = ITWIN_ENUM_FIND(itwin_states, state);
    int ri = result == NULL ? 0 : ITWIN_ENUM_FIND(itwin_results, result);
    if (si < 0)
        return *bad = "state", -1;
    if (ri < 0)
        return *bad = "result", -1;
    *r = RESULT_NONE;
    if (strcmp(state, "Completed") == 0) {
        if (ri == 0)
            return *bad = "result", -1;
        *s = RUN_FINISHED, *r = results[ri];
    } else if (strcmp(state, "Executing") == 0 || strcmp(state, "Finalizing") == 0) {
        *s = RUN_WORKING;
    } else if (strcmp(state, "WaitingToRetry") == 0) {
        *s = RUN_RETRYING;
    } else {
        *s = RUN_QUEUED; /* NotStarted, Idle, WaitingToExecute, Queued */
    }
    return 0;
}

/* ---- rendering ---- */

/* Vendor data kept with an imported run (run_t.external): {"format":"itwin","ids":{uuid: vendor id}}
 * maps the job and task UUIDs syncrun gave back to the ids the vendor had. NULL for other runs.
 * The caller owns the result. */
static json_t *itwin_external(const run_t *r)
{
    if (r->external_id == NULL || r->external == NULL)
        return NULL;
    json_t *x = json_loads(r->external, 0, NULL);
    if (!json_is_object(x) || !json_is_string(json_object_get(x, "format")) ||
        strcmp(json_string_value(json_object_get(x, "format")), "itwin") != 0) {
        json_decref(x);
        return NULL;
    }
    return x;
}

/* The vendor id of a job or task (from the run's external ids), else its UUID. */
static const char *itwin_unit_id(json_t *ext, const char *uuid)
{
    const char *v = json_string_value(json_object_get(json_object_get(ext, "ids"), uuid));
    return v != NULL ? v : uuid;
}

/* ,"key":"time" when ms is set */
static void itwin_write_time(buf_t *b, const char *key, int64_t ms)
{
    if (ms > 0) {
        buf_adds(b, key);
        jw_time(b, ms);
    }
}

/* ,"key":"s" when s is set */
static void itwin_write_str(buf_t *b, const char *key, const char *s)
{
    if (s != NULL) {
        buf_adds(b, key);
        jw_str(b, s);
    }
}

static void itwin_write_task(buf_t *b, const task_t *t, json_t *ext)
{
    JW_LIT(b, "{\"id\":");
    jw_str(b, itwin_unit_id(ext, t->uuid));
    JW_LIT(b, ",\"state\":");
    jw_str(b, itwin_state_name(t->state));
    JW_LIT(b, ",\"result\":");
    jw_str(b, itwin_result_name(t->result));
    itwin_write_str(b, ",\"sourceFileId\":", t->source_file_id);
    JW_LIT(b, ",\"retryAttempts\":");
    jw_int(b, t->retry_attempts);
    itwin_write_time(b, ",\"startDateTime\":", t->started_at);
    itwin_write_time(b, ",\"endDateTime\":", t->ended_at);
    if (t->error_json != NULL) {
        size_t mark = b->len;
        JW_LIT(b, ",\"error\":");
        if (!render_json_text(b, t->error_json, 1) && !buf_failed(b))
            b->len = mark; /* not an object: left out */
    }
    if (t->has_report) {
        JW_LIT(b, ",\"details\":{\"synchronizationReport\":{");
        size_t open = b->len;
        if (t->report_message != NULL) {
            JW_LIT(b, "\"message\":");
            jw_str(b, t->report_message);
        }
        if (report_action_parse(t->report_suggested_action) >= 0) {
            if (b->len > open)
                JW_LIT(b, ",");
            JW_LIT(b, "\"suggestedAction\":");
            jw_str(b, t->report_suggested_action);
        }
        if (b->len > open)
            JW_LIT(b, ",");
        JW_LIT(b, "\"totalErrorsCount\":");
        jw_int(b, t->report_errors);
        JW_LIT(b, ",\"totalWarningsCount\":");
        jw_int(b, t->report_warnings);
        JW_LIT(b, ",\"totalOtherIssuesCount\":");
        jw_int(b, t->report_other);
        JW_LIT(b, "}}");
    }
    JW_LIT(b, "}");
}

static void itwin_write_job(buf_t *b, const job_t *j, json_t *ext)
{
    JW_LIT(b, "{\"id\":");
    jw_str(b, itwin_unit_id(ext, j->uuid));
    JW_LIT(b, ",\"state\":");
    jw_str(b, itwin_state_name(j->state));
    JW_LIT(b, ",\"result\":");
    jw_str(b, itwin_result_name(j->result));
    if (ITWIN_ENUM_FIND(itwin_connectors, j->connector_type) >= 0)
        itwin_write_str(b, ",\"connectorType\":", j->connector_type);
    itwin_write_time(b, ",\"startDateTime\":", j->started_at);
    itwin_write_time(b, ",\"endDateTime\":", j->ended_at);
    JW_LIT(b, ",\"tasks\":[");
    for (int i = 0; i < j->ntasks; i++) {
        if (i > 0)
            JW_LIT(b, ",");
        itwin_write_task(b, &j->tasks[i], ext);
    }
    JW_LIT(b, "]}");
}

/* Prefer: return=minimal — the three fields of manifest-minimal-run. */
static void itwin_write_run_minimal(buf_t *b, const run_t *r)
{
    json_t *ext = itwin_external(r);
    JW_LIT(b, "{\"id\":");
    jw_str(b, ext != NULL ? r->external_id : r->uuid);
    JW_LIT(b, ",\"state\":");
    jw_str(b, itwin_state_name(r->state));
    JW_LIT(b, ",\"result\":");
    jw_str(b, itwin_result_name(r->result));
    JW_LIT(b, "}");
    json_decref(ext);
}

/* Prefer: return=representation — manifest-run with its jobs and tasks. Optional fields the seed
 * does not mark nullable are left out when unset; `error` (nullable) is null when there is none. */
static void itwin_write_run_full(buf_t *b, const run_t *r, const store_run_jobs_t *rj)
{
    const job_t *jobs = rj != NULL ? rj->jobs : NULL;
    int njobs = rj != NULL ? rj->njobs : 0;
    json_t *ext = itwin_external(r);
    JW_LIT(b, "{\"id\":");
    jw_str(b, ext != NULL ? r->external_id : r->uuid);
    JW_LIT(b, ",\"connectionId\":");
    jw_str(b, r->connection_uuid);
    JW_LIT(b, ",\"state\":");
    jw_str(b, itwin_state_name(r->state));
    JW_LIT(b, ",\"result\":");
    jw_str(b, itwin_result_name(r->result));
    if (ITWIN_ENUM_FIND(itwin_phases, r->current_step) >= 0)
        itwin_write_str(b, ",\"phase\":", r->current_step);
    /* A run not started yet (queued, or skipped) starts at its creation: clients sort runs by
     * startDateTime (the sample app with localeCompare, which throws on a missing one). */
    itwin_write_time(b, ",\"startDateTime\":", r->started_at > 0 ? r->started_at : r->created_at);
    itwin_write_time(b, ",\"endDateTime\":", r->completed_at);
    if (r->error_code != NULL || r->error_message != NULL) {
        JW_LIT(b, ",\"error\":{");
        itwin_write_str(b, "\"errorKey\":", r->error_code);
        if (r->error_code != NULL && r->error_message != NULL)
            JW_LIT(b, ",");
        itwin_write_str(b, "\"description\":", r->error_message);
        JW_LIT(b, "}");
    } else {
        JW_LIT(b, ",\"error\":null");
    }
    JW_LIT(b, ",\"jobs\":[");
    for (int i = 0; i < njobs; i++) {
        if (i > 0)
            JW_LIT(b, ",");
        itwin_write_job(b, &jobs[i], ext);
    }
    JW_LIT(b, "]}");
    json_decref(ext);
}

/* ---- the render cache ----
 * A finished run never changes (a change to its jobs bumps its version), so its renderings are
 * kept (api/rcache.h). A representation is kept with the size of its jobs as the page's jobs read
 * counts it (store_jobs_query_t), so that a page of kept runs can tell, without reading their
 * jobs, that the read would not have stopped: it is then answered from the cache alone. */

typedef struct itwin_size {
    int64_t units, jobs, bytes;
} itwin_size_t;

static int64_t itwin_len(const char *s)
{
    return s != NULL ? (int64_t)strlen(s) : 0;
}

/* The size of a run's jobs as store_jobs_read counts them: a task, or a job without tasks, is a
 * unit; the bytes are those of every text of the jobs and tasks. */
static void itwin_size_of(const store_run_jobs_t *rj, itwin_size_t *z)
{
    memset(z, 0, sizeof(*z));
    for (int i = 0; rj != NULL && i < rj->njobs; i++) {
        const job_t *j = &rj->jobs[i];
        z->jobs++;
        z->units += j->ntasks > 0 ? j->ntasks : 1;
        z->bytes += itwin_len(j->uuid) + itwin_len(j->name) + itwin_len(j->connector_type) + itwin_len(j->phase);
        for (int k = 0; k < j->ntasks; k++) {
            const task_t *t = &j->tasks[k];
            z->bytes += itwin_len(t->uuid) + itwin_len(t->source_file_id) + itwin_len(t->error_json) +
                        itwin_len(t->report_message) + itwin_len(t->report_suggested_action);
        }
    }
}

/* The kept representation of run (id, version), its size in *z; NULL when not kept. */
static const char *itwin_rep_cached(int64_t id, int64_t version, itwin_size_t *z, size_t *len)
{
    size_t n;
    const char *hit = rcache_get(RCACHE_ITWIN_REP, id, version, &n);
    if (hit == NULL || n < sizeof(*z))
        return NULL;
    memcpy(z, hit, sizeof(*z));
    *len = n - sizeof(*z);
    return hit + sizeof(*z);
}

/* Appends the representation of r (with all its jobs, rj), keeping it when r is finished. */
static void itwin_rep_append(buf_t *b, const run_t *r, const store_run_jobs_t *rj, int keep)
{
    if (!keep || r->state != RUN_FINISHED) {
        itwin_write_run_full(b, r, rj);
        return;
    }
    itwin_size_t z;
    itwin_size_of(rj, &z);
    buf_t t = BUF_INIT(b->cap);
    buf_add(&t, &z, sizeof(z));
    itwin_write_run_full(&t, r, rj);
    if (!buf_failed(&t)) {
        buf_add(b, t.data + sizeof(z), t.len - sizeof(z));
        rcache_put(RCACHE_ITWIN_REP, r->id, r->version, t.data, t.len);
    } else {
        itwin_write_run_full(b, r, rj); /* fails b alike: the answer says so */
    }
    buf_release(&t);
}

/* Appends the minimal form of r, from the cache when r is finished and was rendered before. */
static void itwin_min_append(buf_t *b, const run_t *r)
{
    size_t len, start = b->len;
    const char *hit = r->state == RUN_FINISHED ? rcache_get(RCACHE_ITWIN_MIN, r->id, r->version, &len) : NULL;
    if (hit != NULL) {
        buf_add(b, hit, len);
        return;
    }
    itwin_write_run_minimal(b, r);
    if (r->state == RUN_FINISHED && !buf_failed(b))
        rcache_put(RCACHE_ITWIN_MIN, r->id, r->version, b->data + start, b->len - start);
}

/* ---- request parsing ---- */

typedef enum itwin_prefer { PREFER_ABSENT, PREFER_MINIMAL, PREFER_REPRESENTATION } itwin_prefer_t;

/* The return= preference of the Prefer header (RFC 7240: comma-separated preferences, each
 * "token[=value]" with ";" parameters; names case-insensitive, values may be quoted). Anything
 * else is ignored, as RFC 7240 asks: the default (minimal) then applies, unannounced. */
static itwin_prefer_t itwin_prefer(http_ctx_t *c)
{
    const char *h = http_header(c, "prefer");
    itwin_prefer_t found = PREFER_ABSENT;
    if (h == NULL)
        return found;
    while (*h != '\0') {
        size_t n = strcspn(h, ",");
        const char *p = h, *end = h + n;
        while (p < end && isspace((unsigned char)*p))
            p++;
        if ((size_t)(end - p) > 6 && strncasecmp(p, "return", 6) == 0) {
            const char *q = p + 6;
            while (q < end && isspace((unsigned char)*q))
                q++;
            if (q < end && *q == '=') {
                q++;
                while (q < end && isspace((unsigned char)*q))
                    q++;
                int quoted = q < end && *q == '"';
                q += quoted;
                size_t vlen = strcspn(q, quoted ? "\"" : " \t;,");
                if (vlen == 7 && strncasecmp(q, "minimal", 7) == 0)
                    found = PREFER_MINIMAL;
                else if (vlen == 14 && strncasecmp(q, "representation", 14) == 0)
                    found = PREFER_REPRESENTATION;
                if (found != PREFER_ABSENT)
                    return found; /* the first return= preference wins */
            }
        }
        h = end + (*end == ',');
    }
    return found;
}

/* Path parameter 0 (a connection UUID, any case) normalised into uuid. `bad` collects the targets
 * of a 422 (comma-separated); returns 1 when the connection id is malformed (and adds
 * "connectionId" to bad), 0 otherwise. */
int itwin_connection_param(http_ctx_t *c, char *uuid, char *bad, size_t badlen)
{
    const char *p = c->params[0];
    if (ids_uuid_normalize(p, uuid) != 0) {
        snprintf(bad, badlen, "connectionId");
        return 1;
    }
    return 0;
}

/* Query parameter `name` as an integer in [min, max] (absent → def); 0, or -1 when invalid. */
static int itwin_query_int(http_ctx_t *c, const char *name, int64_t min, int64_t max, int64_t def, int64_t *out)
{
    const char *v = http_query(c, name);
    *out = def;
    if (v == NULL)
        return 0;
    return ids_parse_i64(v, strlen(v), min, max, out);
}

static void itwin_add_target(char *bad, size_t badlen, const char *target)
{
    size_t n = strlen(bad);
    snprintf(bad + n, badlen - n, "%s%s", n ? "," : "", target);
}

int itwin_is_storage(http_ctx_t *c)
{
    return strstr(c->route->pattern, "/storageconnections") != NULL;
}

int itwin_load_connection(http_ctx_t *c, const char *uuid, connection_t *cn)
{
    store_err_t e = store_connection_get_uuid(c->reader, c->key.workspace_id, uuid, &c->arena, cn);
    if (e == STORE_OK)
        return 0;
    if (e == STORE_NOT_FOUND && itwin_is_storage(c))
        http_error(c, 404, "StorageConnectionNotFound", "Requested StorageConnection is not available.", NULL);
    else if (e == STORE_NOT_FOUND)
        http_error(c, 404, "ManifestConnectionNotFound", "Requested ManifestConnection is not available.", NULL);
    else
        api_store_error(c, e, NULL);
    return -1;
}

char *itwin_href(http_ctx_t *c, const char *path)
{
    static const char fmt[] = "%s://%s/synchronization/imodels/%s%s";
    const char *scheme = http_scheme(c), *host = http_host(c);
    const char *kind = itwin_is_storage(c) ? "storageconnections" : "manifestconnections";
    int n = snprintf(NULL, 0, fmt, scheme, host, kind, path);
    char *href = arena_alloc(&c->arena, (size_t)n + 1);
    snprintf(href, (size_t)n + 1, fmt, scheme, host, kind, path);
    return href;
}

/* An absolute link to a page of the connection's runs. */
static void itwin_write_link(buf_t *b, http_ctx_t *c, const char *rel, const char *conn_uuid, int64_t skip, int64_t top)
{
    char path[128];
    snprintf(path, sizeof(path), "/%s/runs?$skip=%lld&$top=%lld", conn_uuid, (long long)skip, (long long)top);
    buf_adds(b, rel);
    JW_LIT(b, "{\"href\":");
    jw_str(b, itwin_href(c, path));
    JW_LIT(b, "}");
}

static void itwin_prefer_applied(http_ctx_t *c, itwin_prefer_t p)
{
    if (p == PREFER_MINIMAL)
        http_add_header(c, "preference-applied", "return=minimal");
    else if (p == PREFER_REPRESENTATION)
        http_add_header(c, "preference-applied", "return=representation");
}

/* ---- handlers ---- */

/* Reads the jobs and tasks of the runs of cn with lo <= run_count <= hi (one statement), within
 * the answer's limits. */
static store_err_t itwin_read_jobs(http_ctx_t *c, int64_t conn_id, int64_t lo, int64_t hi, store_run_jobs_t **rj,
                                   int *nrj, int *more)
{
    store_jobs_query_t q = {.conn_id = conn_id,
                            .lo = lo,
                            .hi = hi,
                            .max_jobs = RENDER_JOBS_UNITS,
                            .max_units = RENDER_JOBS_UNITS,
                            .max_bytes = RENDER_JOBS_TEXT_BYTES};
    return store_jobs_read(c->reader, c->key.workspace_id, &q, &c->arena, rj, nrj, more);
}

/* Answers are at most this large (RENDER_JOBS_TEXT_BYTES of texts, escaped, and their keys). */
#define ITWIN_BODY_MAX (64 * 1024 * 1024)

/* The rows and jobs of a page whose runs are not all in the cache (see itwin_runs_list). */
typedef struct itwin_page {
    run_t *runs; /* the rows read, newest first */
    int nruns;
    store_run_jobs_t *rj; /* their jobs (representation only), in the same order */
    int nrj, more;
} itwin_page_t;

/* Reads the rows (and with rep the jobs) of cn's runs lo..hi into pg. */
static store_err_t itwin_page_read(http_ctx_t *c, int64_t conn_id, int64_t lo, int64_t hi, int rep, itwin_page_t *pg)
{
    memset(pg, 0, sizeof(*pg));
    store_err_t e =
        store_run_range(c->reader, c->key.workspace_id, conn_id, lo, hi, 0, &c->arena, &pg->runs, &pg->nruns);
    if (e == STORE_OK && rep && pg->nruns > 0)
        e = itwin_read_jobs(c, conn_id, lo, hi, &pg->rj, &pg->nrj, &pg->more);
    return e;
}

int itwin_runs_list(http_ctx_t *c)
{
    char uuid[IDS_UUID_LEN], bad[64] = "";
    int64_t skip, top;
    itwin_connection_param(c, uuid, bad, sizeof(bad));
    if (itwin_query_int(c, "$skip", 0, ITWIN_SKIP_MAX, 0, &skip) != 0)
        itwin_add_target(bad, sizeof(bad), "$skip");
    if (itwin_query_int(c, "$top", 1, ITWIN_TOP_MAX, ITWIN_TOP_DEFAULT, &top) != 0)
        itwin_add_target(bad, sizeof(bad), "$top");
    if (bad[0] != '\0')
        return http_error(c, 422, ITWIN_422_CODE, "Cannot perform operation.", bad);
    connection_t cn;
    if (itwin_load_connection(c, uuid, &cn) != 0)
        return 0;

    /* Newest first: skip counts back from the newest run_count, a key range, not an offset, within
     * the runs kept (after the pruned ones: model/retention.h). */
    const int64_t kept = cn.run_count - cn.runs_pruned;
    int64_t hi = cn.run_count - skip, lo = hi - top + 1;
    if (lo < cn.runs_pruned + 1)
        lo = cn.runs_pruned + 1;
    itwin_prefer_t prefer = itwin_prefer(c);
    const int rep = prefer == PREFER_REPRESENTATION;
    const rcache_kind_t kind = rep ? RCACHE_ITWIN_REP : RCACHE_ITWIN_MIN;

    /* The page's keys first: finished runs rendered before come from the cache. Only the range
     * from the first to the last other run is read (rows, and with the representation their jobs
     * in one bounded read). When that read stops at its limits, or the cached runs outside it
     * would pass them (their sizes are kept with them), the whole page is read as before: the
     * page then ends before the run the read stopped in (or, when that is the first run, with that
     * run cut short), and `next` continues from there. */
    run_key_t *keys = NULL;
    int n = 0;
    store_err_t e = STORE_OK;
    if (hi >= lo &&
        (e = store_run_keys(c->reader, c->key.workspace_id, cn.id, lo, hi, 0, &c->arena, &keys, &n)) != STORE_OK)
        return api_store_error(c, e, NULL);
    /* The hits are copied into the request's arena: rendering the other runs puts them in the
     * cache, which may evict a hit before it is written. */
    int first_miss = -1, last_miss = -1;
    itwin_size_t z, *sizes = arena_alloc(&c->arena, sizeof(*sizes) * (size_t)(n > 0 ? n : 1));
    render_hit_t *hits = arena_alloc(&c->arena, sizeof(*hits) * (size_t)(n > 0 ? n : 1));
    for (int i = 0; i < n; i++) {
        size_t len = 0;
        const char *hit = NULL;
        memset(&sizes[i], 0, sizeof(sizes[i]));
        if (keys[i].state == RUN_FINISHED)
            hit = rep ? itwin_rep_cached(keys[i].id, keys[i].version, &sizes[i], &len)
                      : rcache_get(kind, keys[i].id, keys[i].version, &len);
        render_hit_keep(&c->arena, &hits[i], hit, len);
        if (hit == NULL) {
            if (first_miss < 0)
                first_miss = i;
            last_miss = i;
        }
    }
    itwin_page_t pg = {0};
    int shown = n, truncated = 0, whole = 0;
    if (first_miss >= 0) {
        /* a full range maps page positions to run_counts (kept runs are gapless) */
        int gapless = n == hi - lo + 1;
        int64_t rlo = gapless ? hi - last_miss : lo, rhi = gapless ? hi - first_miss : hi;
        if ((e = itwin_page_read(c, cn.id, rlo, rhi, rep, &pg)) != STORE_OK)
            return api_store_error(c, e, NULL);
        whole = rlo == lo && rhi == hi;
        if (rep && !pg.more) {
            itwin_size_t total = {0, 0, 0};
            for (int i = 0; i < pg.nrj; i++) {
                itwin_size_of(&pg.rj[i], &z);
                total.units += z.units, total.jobs += z.jobs, total.bytes += z.bytes;
            }
            for (int i = 0; i < n; i++)
                if ((!gapless || hi - i < rlo || hi - i > rhi) && hits[i].data != NULL)
                    total.units += sizes[i].units, total.jobs += sizes[i].jobs, total.bytes += sizes[i].bytes;
            if (total.units > RENDER_JOBS_UNITS || total.jobs > RENDER_JOBS_UNITS ||
                total.bytes > RENDER_JOBS_TEXT_BYTES)
                pg.more = 1; /* the whole page's read would stop: read it */
        }
        if (rep && pg.more && !whole) {
            if ((e = itwin_page_read(c, cn.id, lo, hi, rep, &pg)) != STORE_OK)
                return api_store_error(c, e, NULL);
            whole = 1;
        }
        if (rep && pg.more) {
            const store_run_jobs_t *last = &pg.rj[pg.nrj - 1];
            int k = 0;
            while (k < pg.nruns && pg.runs[k].id != last->run_id)
                k++;
            shown = k == pg.nruns ? pg.nruns : !last->more ? k + 1 : k > 0 ? k : 1; /* (one snapshot: k < n) */
            truncated = last->more && k == 0;
        }
        if (whole && pg.nruns < n)
            shown = shown < pg.nruns ? shown : pg.nruns; /* runs removed between the two reads */
    }

    buf_t b = BUF_INIT(ITWIN_BODY_MAX);
    JW_LIT(&b, "{\"runs\":[");
    for (int i = 0, k = 0, ji = 0; i < shown; i++) {
        if (i > 0)
            JW_LIT(&b, ",");
        if (hits[i].data != NULL) {
            buf_add(&b, hits[i].data, hits[i].len);
            continue;
        }
        while (k < pg.nruns && pg.runs[k].id != keys[i].id)
            k++;
        if (k == pg.nruns) { /* not in the rows read: changed between the reads */
            buf_release(&b);
            return api_store_error(c, STORE_ERROR, NULL);
        }
        const run_t *r = &pg.runs[k];
        if (!rep) {
            itwin_min_append(&b, r);
            continue;
        }
        while (ji < pg.nrj && pg.rj[ji].run_id != r->id)
            ji++;
        const store_run_jobs_t *jobs = ji < pg.nrj ? &pg.rj[ji] : NULL;
        if (jobs == NULL)
            ji = 0; /* a run without jobs: the next run's search starts over */
        /* a run is kept only when all its jobs were read: every run shown but one cut short (a
         * stopped read is always of the whole page, and the page ends where it stopped) */
        itwin_rep_append(&b, r, jobs, !(jobs != NULL && jobs->more) && !(truncated && i == 0));
    }
    JW_LIT(&b, "],\"_links\":{");
    itwin_write_link(&b, c, "\"self\":", cn.uuid, skip, top);
    if (skip > 0)
        itwin_write_link(&b, c, ",\"prev\":", cn.uuid, skip > top ? skip - top : 0, top);
    /* next starts at the first run not shown: a shortened page continues where it stopped */
    int64_t next = shown < n && whole && shown < pg.nruns ? cn.run_count - pg.runs[shown].run_count : skip + top;
    if (next < kept)
        itwin_write_link(&b, c, ",\"next\":", cn.uuid, next, top);
    JW_LIT(&b, "}}");
    if (truncated)
        http_add_header(c, ITWIN_TRUNCATED_HEADER, "jobs");
    else
        itwin_prefer_applied(c, prefer);
    return render_send_buf(c, 200, &b);
}

int itwin_run_get(http_ctx_t *c)
{
    char uuid[IDS_UUID_LEN], bad[64] = "";
    if (itwin_connection_param(c, uuid, bad, sizeof(bad)) != 0)
        return http_error(c, 422, ITWIN_422_CODE, "Cannot perform operation.", bad);
    connection_t cn;
    if (itwin_load_connection(c, uuid, &cn) != 0)
        return 0;
    const char *rid = c->params[1];
    run_t r;
    store_err_t e = STORE_NOT_FOUND;
    char lower[IDS_UUID_LEN];
    if (ids_uuid_normalize(rid, lower) == 0) {
        e = store_run_get_uuid(c->reader, c->key.workspace_id, lower, &c->arena, &r);
        if (e == STORE_OK && r.connection_id != cn.id)
            e = STORE_NOT_FOUND;
    }
    if (e == STORE_NOT_FOUND)
        e = store_run_get_external(c->reader, c->key.workspace_id, cn.id, rid, &c->arena, &r);
    if (e == STORE_OK && strcasecmp(r.uuid, rid) != 0) {
        /* a vendor id names only runs imported from iTwin */
        json_t *x = itwin_external(&r);
        if (x == NULL)
            e = STORE_NOT_FOUND;
        json_decref(x);
    }
    if (e == STORE_NOT_FOUND)
        return itwin_is_storage(c) ? http_error(c, 404, "StorageConnectionRunNotFound",
                                                "Requested StorageConnectionRun is not available.", NULL)
                                   : http_error(c, 404, "ManifestConnectionRunNotFound",
                                                "Requested ManifestConnectionRun is not available.", NULL);
    if (e != STORE_OK)
        return api_store_error(c, e, NULL);
    buf_t b = BUF_INIT(ITWIN_BODY_MAX);
    JW_LIT(&b, "{\"run\":");
    /* a kept representation was complete when it was kept: within the limits on its own */
    itwin_size_t z;
    size_t len;
    const char *hit = r.state == RUN_FINISHED ? itwin_rep_cached(r.id, r.version, &z, &len) : NULL;
    int more = 0;
    if (hit != NULL) {
        buf_add(&b, hit, len);
    } else {
        store_run_jobs_t *rj;
        int nrj;
        if ((e = itwin_read_jobs(c, cn.id, r.run_count, r.run_count, &rj, &nrj, &more)) != STORE_OK) {
            buf_release(&b);
            return api_store_error(c, e, NULL);
        }
        itwin_rep_append(&b, &r, nrj > 0 ? &rj[0] : NULL, !more);
    }
    JW_LIT(&b, "}");
    if (more)
        http_add_header(c, ITWIN_TRUNCATED_HEADER, "jobs");
    else if (itwin_prefer(c) == PREFER_REPRESENTATION)
        itwin_prefer_applied(c, PREFER_REPRESENTATION);
    return render_send_buf(c, 200, &b);
}

/* ---- import ---- */

/* Fails with the field `path` (already formatted) and a message. Returns -1. */
static int itwin_fail(input_t *err, const char *path, const char *msg)
{
    snprintf(err->field_buf, sizeof(err->field_buf), "%.71s", path);
    err->field = err->field_buf;
    err->code = "invalid_field";
    snprintf(err->message, sizeof(err->message), "%.70s: %.180s", err->field_buf, msg);
    return -1;
}

/* The optional array `key` of obj (at most max items); NULL when absent or null. -1 on a bad one. */
static int itwin_array(input_t *err, json_t *obj, const char *prefix, const char *key, size_t max, json_t **out)
{
    char path[96];
    *out = json_object_get(obj, key);
    if (*out == NULL || json_is_null(*out)) {
        *out = NULL;
        return 0;
    }
    snprintf(path, sizeof(path), "%.60s.%.30s", prefix, key);
    if (!json_is_array(*out))
        return itwin_fail(err, path, "must be an array");
    if (json_array_size(*out) > max)
        return itwin_fail(err, path, "has too many items");
    return 1;
}

/* state + result of a run, job or task at list[i]. */
static int itwin_import_state(input_t *err, json_t *item, const char *list, int i, run_state_t *s, run_result_t *r)
{
    const char *state = NULL, *result = NULL, *bad = NULL;
    if (import_string(err, item, list, i, "state", 32, 1, &state) < 0 ||
        import_string(err, item, list, i, "result", 32, 0, &result) < 0)
        return -1;
    if (itwin_state_parse(state, result, s, r, &bad) != 0)
        return import_fail(err, list, i, bad,
                           strcmp(bad, "state") == 0
                               ? "must be one of NotStarted, Idle, WaitingToExecute, WaitingToRetry, Executing, "
                                 "Finalizing, Completed, Queued"
                               : "must be one of Undetermined, Success, Error, PartialSuccess, Skipped, Canceled, "
                                 "TimedOut (Completed needs one other than Undetermined)");
    return 0;
}

/* Keeps the vendor id of a job or task: a new UUID for the unit, and uuid → id in ids. */
static void itwin_import_unit_id(const char *vendor_id, char uuid[IDS_UUID_LEN], json_t *ids)
{
    ids_uuid_v4(uuid);
    if (vendor_id != NULL)
        json_object_set_new(ids, uuid, json_string(vendor_id));
}

/* The task-error object, validated against the seed's schema and kept as compact JSON text. */
static int itwin_import_task_error(input_t *err, json_t *task, const char *prefix, arena_t *a, const char **out)
{
    char path[128];
    json_t *e = json_object_get(task, "error");
    if (e == NULL || json_is_null(e))
        return 0;
    snprintf(path, sizeof(path), "%.100s.error", prefix);
    if (!json_is_object(e))
        return itwin_fail(err, path, "must be an object");
    const char *key;
    json_t *v;
    json_object_foreach(e, key, v)
    {
        int ok = 0;
        for (const char *const *k = task_error_text_fields; *k != NULL; k++)
            if (strcmp(*k, key) == 0)
                ok = json_is_string(v) && json_string_length(v) <= IN_TEXT_MAX;
        if (strcmp(key, "canUserFix") == 0)
            ok = json_is_boolean(v);
        else if (strcmp(key, "bridgeExitCode") == 0)
            ok = json_is_integer(v) && json_integer_value(v) >= INT32_MIN && json_integer_value(v) <= INT32_MAX;
        if (!ok) {
            snprintf(path, sizeof(path), "%.80s.error.%.40s", prefix, key);
            return itwin_fail(err, path, "is not a task-error field of this type");
        }
    }
    char *text = json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS);
    *out = arena_strdup(a, text);
    free(text);
    return 0;
}

/* details.synchronizationReport of a task. */
static int itwin_import_report(input_t *err, json_t *task, const char *prefix, task_t *t)
{
    char path[160];
    json_t *d = json_object_get(task, "details");
    if (d == NULL || json_is_null(d))
        return 0;
    snprintf(path, sizeof(path), "%.100s.details", prefix);
    if (!json_is_object(d))
        return itwin_fail(err, path, "must be an object");
    json_t *rep = json_object_get(d, "synchronizationReport");
    if (rep == NULL || json_is_null(rep))
        return 0;
    snprintf(path, sizeof(path), "%.100s.details.synchronizationReport", prefix);
    if (!json_is_object(rep))
        return itwin_fail(err, path, "must be an object");
    json_t *msg = json_object_get(rep, "message"), *act = json_object_get(rep, "suggestedAction");
    if (msg != NULL && !json_is_null(msg)) {
        if (!json_is_string(msg) || json_string_length(msg) > IN_TEXT_MAX)
            return itwin_fail(err, path, "message must be a string");
        t->report_message = json_string_value(msg);
    }
    if (act != NULL && !json_is_null(act)) {
        int k = json_is_string(act) ? report_action_parse(json_string_value(act)) : -1;
        if (k < 0)
            return itwin_fail(err, path, "suggestedAction must be one of Error, Warning, Info");
        t->report_suggested_action = report_suggested_actions[k];
    }
    static const char *const counts[] = {"totalErrorsCount", "totalWarningsCount", "totalOtherIssuesCount"};
    int64_t *dst[] = {&t->report_errors, &t->report_warnings, &t->report_other};
    for (int k = 0; k < 3; k++) {
        json_t *v = json_object_get(rep, counts[k]);
        if (v == NULL || json_is_null(v))
            continue;
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return itwin_fail(err, path, "counts must be integers >= 0");
        *dst[k] = json_integer_value(v);
    }
    t->has_report = 1;
    return 0;
}

static int itwin_import_tasks(input_t *err, json_t *job, const char *jprefix, arena_t *a, job_t *j, json_t *ids)
{
    json_t *list;
    char lname[96], prefix[128];
    int rc = itwin_array(err, job, jprefix, "tasks", ITWIN_MAX_TASKS, &list);
    if (rc <= 0)
        return rc;
    snprintf(lname, sizeof(lname), "%.80s.tasks", jprefix);
    j->ntasks = (int)json_array_size(list);
    j->tasks = arena_alloc(a, sizeof(task_t) * (size_t)(j->ntasks ? j->ntasks : 1));
    for (int i = 0; i < j->ntasks; i++) {
        json_t *item = json_array_get(list, (size_t)i);
        task_t *t = &j->tasks[i];
        const char *id = NULL;
        int64_t retries = 0;
        snprintf(prefix, sizeof(prefix), "%.80s[%d]", lname, i);
        if (!json_is_object(item))
            return import_fail(err, lname, i, NULL, "must be an object");
        if (import_string(err, item, lname, i, "id", IN_NAME_MAX, 0, &id) < 0 ||
            itwin_import_state(err, item, lname, i, &t->state, &t->result) < 0 ||
            import_string(err, item, lname, i, "sourceFileId", IN_NAME_MAX, 0, &t->source_file_id) < 0 ||
            import_int(err, item, lname, i, "retryAttempts", 0, 1000000, 0, &retries) < 0 ||
            import_time(err, item, lname, i, "startDateTime", 0, &t->started_at) < 0 ||
            import_time(err, item, lname, i, "endDateTime", 0, &t->ended_at) < 0 ||
            itwin_import_task_error(err, item, prefix, a, &t->error_json) < 0 ||
            itwin_import_report(err, item, prefix, t) < 0)
            return -1;
        t->retry_attempts = (int)retries;
        itwin_import_unit_id(id, t->uuid, ids);
    }
    return 0;
}

static int itwin_import_jobs(input_t *err, json_t *run, int ri, arena_t *a, store_import_t *im, json_t *ids)
{
    json_t *list;
    char rprefix[32], lname[48], prefix[64];
    snprintf(rprefix, sizeof(rprefix), "runs[%d]", ri);
    int rc = itwin_array(err, run, rprefix, "jobs", ITWIN_MAX_JOBS, &list);
    if (rc <= 0)
        return rc;
    snprintf(lname, sizeof(lname), "%.30s.jobs", rprefix);
    im->njobs = (int)json_array_size(list);
    im->jobs = arena_alloc(a, sizeof(job_t) * (size_t)(im->njobs ? im->njobs : 1));
    for (int i = 0; i < im->njobs; i++) {
        json_t *item = json_array_get(list, (size_t)i);
        job_t *j = &im->jobs[i];
        const char *id = NULL;
        snprintf(prefix, sizeof(prefix), "%.80s[%d]", lname, i);
        if (!json_is_object(item))
            return import_fail(err, lname, i, NULL, "must be an object");
        if (import_string(err, item, lname, i, "id", IN_NAME_MAX, 0, &id) < 0 ||
            itwin_import_state(err, item, lname, i, &j->state, &j->result) < 0 ||
            import_string(err, item, lname, i, "connectorType", IN_NAME_MAX, 0, &j->connector_type) < 0 ||
            import_time(err, item, lname, i, "startDateTime", 0, &j->started_at) < 0 ||
            import_time(err, item, lname, i, "endDateTime", 0, &j->ended_at) < 0 ||
            itwin_import_tasks(err, item, prefix, a, j, ids) < 0)
            return -1;
        itwin_import_unit_id(id, j->uuid, ids);
    }
    return 0;
}

/* The run error {errorKey, description} → error_code, error_message. */
static int itwin_import_run_error(input_t *err, json_t *item, int i, run_t *r)
{
    json_t *e = json_object_get(item, "error");
    if (e == NULL || json_is_null(e))
        return 0;
    if (!json_is_object(e))
        return import_fail(err, "runs", i, "error", "must be an object or null");
    char path[48];
    json_t *k = json_object_get(e, "errorKey"), *d = json_object_get(e, "description");
    if (k != NULL && !json_is_null(k)) {
        snprintf(path, sizeof(path), "runs[%d].error.errorKey", i);
        if (!json_is_string(k) || json_string_length(k) > IN_NAME_MAX)
            return itwin_fail(err, path, "must be a string of at most 200 bytes");
        r->error_code = json_string_value(k);
    }
    if (d != NULL && !json_is_null(d)) {
        snprintf(path, sizeof(path), "runs[%d].error.description", i);
        if (!json_is_string(d) || json_string_length(d) > IN_TEXT_MAX)
            return itwin_fail(err, path, "must be a string of at most 4096 bytes");
        r->error_message = json_string_value(d);
    }
    return 0;
}

/* Imported runs keep the vendor ids and get created_at from startDateTime (else endDateTime).
 * A run with no times at all (a minimal run) gets now - i ms: the list is newest first, so the
 * i-th run is recorded as i ms older than the first, and the order survives the import. */
int itwin_import_parse(json_t *doc, arena_t *a, store_import_t **out, int *n, input_t *err)
{
    json_t *list = import_array(err, doc, "runs", IMPORT_MAX_RUNS);
    if (list == NULL)
        return -1;
    int count = (int)json_array_size(list), rc = -1;
    int64_t now = time_now_ms();
    json_t *ids = NULL;
    store_import_t *runs = arena_alloc(a, sizeof(*runs) * (size_t)(count ? count : 1));
    for (int i = 0; i < count; i++) {
        json_t *item = json_array_get(list, (size_t)i);
        run_t *r = &runs[i].run;
        const char *id = NULL, *phase = NULL, *conn = NULL;
        int64_t start = 0, end = 0;
        if (!json_is_object(item)) {
            import_fail(err, "runs", i, NULL, "must be an object");
            goto out;
        }
        if (import_string(err, item, "runs", i, "id", IN_NAME_MAX, 1, &id) < 0 ||
            itwin_import_state(err, item, "runs", i, &r->state, &r->result) < 0 ||
            import_string(err, item, "runs", i, "connectionId", IN_NAME_MAX, 0, &conn) < 0 ||
            import_string(err, item, "runs", i, "phase", 32, 0, &phase) < 0 ||
            import_time(err, item, "runs", i, "startDateTime", 0, &start) < 0 ||
            import_time(err, item, "runs", i, "endDateTime", 0, &end) < 0 ||
            itwin_import_run_error(err, item, i, r) < 0)
            goto out;
        if (*id == '\0') {
            import_fail(err, "runs", i, "id", "must not be empty");
            goto out;
        }
        if (phase != NULL && ITWIN_ENUM_FIND(itwin_phases, phase) < 0) {
            import_fail(err, "runs", i, "phase", "must be one of Preprocessor, MasterFile, ReferenceFile");
            goto out;
        }
        ids = json_object();
        if (itwin_import_jobs(err, item, i, a, &runs[i], ids) < 0)
            goto out;
        r->current_step = phase;
        r->started_at = start;
        r->completed_at = r->state == RUN_FINISHED ? end : 0;
        r->created_at = start ? start : end ? end : now - i;
        r->updated_at = end ? end : r->created_at;
        r->external_id = id;
        json_t *ext = json_pack("{s:s, s:O}", "format", "itwin", "ids", ids);
        char *text = json_dumps(ext, JSON_COMPACT);
        r->external = arena_strdup(a, text);
        free(text);
        json_decref(ext);
        json_decref(ids);
        ids = NULL;
    }
    *out = runs;
    *n = count;
    rc = 0;
out:
    json_decref(ids);
    return rc;
}
