/* BlueConic dialect: the run history of a batch connection exactly as BlueConic's API answers it
 * (seed 000), the connections with their last run, and the parser that imports such a history.
 *   GET [/rest/v2]/connections/{connection}/runs?startIndex=&count=
 *   GET [/rest/v2]/connections?startIndex=&count=
 *   GET [/rest/v2]/connections/{connection}
 * A BlueConic "connection" is a connection, named by its UUID; a run's "goals" are its jobs.
 * Tokens: blueconic_oauth.c. */
#include "api/blueconic.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/import.h"
#include "api/rcache.h"
#include "api/render.h"
#include "util/ids.h"
#include "util/jsonw.h"
#include "util/timeutil.h"

enum {
    BC_COUNT_DEFAULT = 10, /* the seed's itemsPerPage */
    BC_COUNT_MAX = 100,
    BC_TEXT_CLIP = 4096,           /* bytes of one user string a built message shows */
    BC_FAILED_GOALS_SHOWN = 10,    /* failed jobs named in a built message */
    BC_MESSAGE_CAP = 256 * 1024,   /* a built message: a few clipped strings, escaped (<= 6x) */
    BC_IMPORT_MESSAGE_MAX = 65536, /* bytes of an imported message */
    BC_GOALS_PER_RUN_MAX = 10000,  /* TOTAL of one imported run */
    BC_GOALS_IMPORT_MAX = 100000,  /* goals (jobs) of one import document */
};

/* Answers are at most this large: 100 runs or connections whose built messages (BC_MESSAGE_CAP
 * each) are all JSON escapes still fit. */
#define BC_BODY_MAX (256 * 1024 * 1024)

/* ---- errors ---- */

/* Every error of these routes: {"errorCode": "NOT_FOUND", "message": "…"} plus "parameter" when the
 * error is about a query parameter or a field. The code follows from the status. */
static const struct {
    int status;
    const char *code;
} bc_error_codes[] = {
    {400, "INVALID_PARAMETER"}, {401, "UNAUTHORIZED"},       {403, "FORBIDDEN"},
    {404, "NOT_FOUND"},         {405, "METHOD_NOT_ALLOWED"}, {409, "CONFLICT"},
    {413, "PAYLOAD_TOO_LARGE"}, {422, "INVALID_INPUT"},      {429, "TOO_MANY_REQUESTS"},
};

static void bc_send_error(http_ctx_t *c, int status, const char *code, const char *message, const char *field)
{
    const char *bc_code = "INTERNAL_ERROR";
    for (size_t i = 0; i < sizeof(bc_error_codes) / sizeof(bc_error_codes[0]); i++)
        if (bc_error_codes[i].status == status)
            bc_code = bc_error_codes[i].code;
    json_t *body = json_pack("{s:s, s:s}", "errorCode", bc_code, "message", message);
    if (field != NULL)
        json_object_set_new(body, "parameter", json_string(field));
    http_send_json(c, status, body);
}

const http_dialect_t blueconic_dialect = {"blueconic", bc_send_error};

/* ---- pure helpers ---- */

int blueconic_html_escape(buf_t *b, const char *s, size_t n)
{
    size_t need = 0;
    for (size_t i = 0; i < n; i++)
        need += s[i] == '&' ? 5 : s[i] == '<' || s[i] == '>' ? 4 : s[i] == '"' ? 6 : s[i] == '\'' ? 5 : 1;
    if (need > b->cap || b->len > b->cap - need)
        return -1;
    size_t old = b->len, start = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *rep = s[i] == '&'    ? "&amp;"
                          : s[i] == '<'  ? "&lt;"
                          : s[i] == '>'  ? "&gt;"
                          : s[i] == '"'  ? "&quot;"
                          : s[i] == '\'' ? "&#39;"
                                         : NULL;
        if (rep == NULL)
            continue;
        rc = buf_add(b, s + start, i - start) != 0 || buf_adds(b, rep) != 0 ? -1 : 0;
        start = i + 1;
    }
    if (rc == 0)
        rc = buf_add(b, s + start, n - start);
    if (rc != 0 && b->data != NULL) { /* out of memory half-way: leave b as it was */
        b->len = old;
        b->data[old] = '\0';
    }
    return rc;
}

size_t blueconic_utf8_clip(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    size_t k = max; /* s[k] is the first byte left out: never cut a sequence in two */
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    return k;
}

void blueconic_format_count(int64_t v, char out[BLUECONIC_COUNT_LEN])
{
    char digits[24];
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    int n = snprintf(digits, sizeof(digits), "%llu", u);
    size_t o = 0;
    if (v < 0)
        out[o++] = '-';
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
}

const char *blueconic_state(run_state_t s, run_result_t r)
{
    switch (s) {
    case RUN_QUEUED:
        return "STARTING";
    case RUN_WORKING:
    case RUN_RETRYING:
        return "RUNNING";
    default:
        return r == RESULT_CANCELED ? "STOPPED" : "FINISHED";
    }
}

/* Results that count a goal as FAILED. */
static int bc_failed(run_result_t r)
{
    return r == RESULT_ERROR || r == RESULT_CONFIG_ERROR || r == RESULT_TIMED_OUT || r == RESULT_CANCELED;
}

/* Results that count a goal as SUCCESS: a partial success delivered its records, with some failures. */
static int bc_succeeded(run_result_t r)
{
    return r == RESULT_SUCCESS || r == RESULT_PARTIAL;
}

/* ---- rendering ---- */

/* What a run imported from BlueConic keeps in run_t.external. */
typedef struct bc_external {
    int imported;        /* external is {"format":"blueconic",…} */
    const char *message; /* the original HTML, or NULL */
    int no_goals;        /* the original goalStatistics were all 0 */
} bc_external_t;

/* Reads r->external; strings point into *hold, which the caller releases (json_decref). */
static void bc_external_read(const run_t *r, json_t **hold, bc_external_t *x)
{
    memset(x, 0, sizeof(*x));
    *hold = r->external != NULL ? json_loads(r->external, 0, NULL) : NULL;
    const char *format = json_string_value(json_object_get(*hold, "format"));
    if (format == NULL || strcmp(format, "blueconic") != 0 || r->external_id == NULL)
        return;
    x->imported = 1;
    x->message = json_string_value(json_object_get(*hold, "message"));
    json_t *goals = json_object_get(*hold, "goals");
    x->no_goals = json_is_integer(goals) && json_integer_value(goals) == 0;
}

/* {"id":"SUCCESS","values":["n"]}, the seed's shape of one statistic. */
static void bc_write_stat(buf_t *b, const char *id, int64_t v)
{
    JW_LIT(b, "{\"id\":");
    jw_str(b, id);
    JW_LIT(b, ",\"values\":[\"");
    jw_int(b, v);
    JW_LIT(b, "\"]}");
}

/* Results that count a goal as FAILED, as a bit mask of 1 << result (the store's filter). */
static unsigned bc_failed_mask(void)
{
    unsigned m = 0;
    for (int r = 0; r < RUN_RESULT_COUNT; r++)
        if (bc_failed((run_result_t)r))
            m |= 1u << r;
    return m;
}

/* A run's goals, as the store counted its jobs by result (counts NULL: the run has no jobs). */
typedef struct bc_goals {
    const store_job_counts_t *counts;
    const store_run_jobs_t *failed; /* its first failed jobs, or NULL */
} bc_goals_t;

static void bc_goal_tally(const bc_goals_t *g, int64_t *ok, int64_t *failed, int64_t *total)
{
    *ok = *failed = *total = 0;
    for (int k = 0; g->counts != NULL && k < RUN_RESULT_COUNT; k++) {
        *total += g->counts->by_result[k];
        *ok += bc_succeeded((run_result_t)k) ? g->counts->by_result[k] : 0;
        *failed += bc_failed((run_result_t)k) ? g->counts->by_result[k] : 0;
    }
}

static void bc_write_goal_statistics(buf_t *b, const run_t *r, const bc_goals_t *g, int no_goals)
{
    int64_t ok = 0, failed = 0, total = 0;
    if (no_goals) {
        /* an imported run whose goals were all 0 */
    } else {
        bc_goal_tally(g, &ok, &failed, &total);
        if (total == 0) { /* a run without jobs is its own one goal */
            total = 1;
            ok = bc_succeeded(r->result);
            failed = bc_failed(r->result);
        }
    }
    JW_LIT(b, "[");
    bc_write_stat(b, "SUCCESS", ok);
    JW_LIT(b, ",");
    bc_write_stat(b, "FAILED", failed);
    JW_LIT(b, ",");
    bc_write_stat(b, "TOTAL", total);
    JW_LIT(b, "]");
}

/* Appends <li>s</li>, s escaped and clipped to BC_TEXT_CLIP bytes. */
static int bc_li(buf_t *b, const char *s)
{
    size_t n = strlen(s), k = blueconic_utf8_clip(s, n, BC_TEXT_CLIP);
    return buf_adds(b, "<li>") != 0 || blueconic_html_escape(b, s, k) != 0 ||
                   (k < n && buf_adds(b, "\xE2\x80\xA6") != 0) || buf_adds(b, "</li>") != 0
               ? -1
               : 0;
}

static int bc_task(buf_t *b, const char *name)
{
    return buf_adds(b, "<div class=\"bcpTask\">") != 0 || blueconic_html_escape(b, name, strlen(name)) != 0 ||
                   buf_adds(b, "</div>") != 0
               ? -1
               : 0;
}

/* The line on the run's progress or outcome; NULL when the counters say it all. */
static const char *bc_status_line(const run_t *r)
{
    switch (r->state) {
    case RUN_QUEUED:
        return "The run is queued.";
    case RUN_WORKING:
        return "The run is in progress.";
    case RUN_RETRYING:
        return "The run failed and is waiting to retry.";
    default:
        break;
    }
    switch (r->result) {
    case RESULT_CANCELED:
        return "The run was stopped.";
    case RESULT_SKIPPED:
        return "The run was skipped: an earlier run of this connection was still in progress.";
    case RESULT_PARTIAL:
        return "The run finished, but some records failed.";
    case RESULT_ERROR:
        return "The run failed.";
    case RESULT_CONFIG_ERROR:
        return "The run failed: the connection is not configured correctly.";
    case RESULT_TIMED_OUT:
        return "The run timed out.";
    default:
        return NULL;
    }
}

static int bc_counters_line(buf_t *b, const run_t *r)
{
    static const struct {
        counter_t ctr;
        const char *fmt;
    } parts[] = {
        {CTR_SOURCE_RECORD_COUNT, "Received %s records"},
        {CTR_RECORDS_PROCESSED, ", processed %s"},
        {CTR_RECORDS_UPDATED, ", updated %s"},
        {CTR_RECORDS_FAILED, ", %s failed"},
        {CTR_RECORDS_INVALID, ", %s invalid"},
    };
    int rc = buf_adds(b, "<li>");
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]) && rc == 0; i++) {
        char num[BLUECONIC_COUNT_LEN];
        blueconic_format_count(r->counters[parts[i].ctr], num);
        rc = buf_addf(b, parts[i].fmt, num);
    }
    return rc == 0 && buf_adds(b, ".</li>") == 0 ? 0 : -1;
}

/* The message of a run syncrun recorded, built as BlueConic builds its own: a task (the connection)
 * with a list of lines, inside a bcpError block when the run failed. Every user string is escaped. */
/* Whether a run's built message is an error block (which names its failed goals). */
static int bc_is_error(const run_t *r)
{
    return r->result == RESULT_ERROR || r->result == RESULT_CONFIG_ERROR || r->result == RESULT_TIMED_OUT ||
           r->error_message != NULL || r->error_detail != NULL;
}

static int bc_build_message(buf_t *b, const connection_t *cn, const run_t *r, const bc_goals_t *g)
{
    int error = bc_is_error(r);
    const char *status = bc_status_line(r);
    int rc = (error && buf_adds(b, "<div class=\"bcpError\">") != 0) || bc_task(b, cn->name) != 0 ||
             buf_adds(b, "<ul>") != 0;
    if (!rc && error) {
        if (r->error_message != NULL)
            rc = rc || bc_li(b, r->error_message) != 0;
        if (r->error_detail != NULL)
            rc = rc || bc_li(b, r->error_detail) != 0;
        if (r->error_message == NULL && r->error_detail == NULL && status != NULL)
            rc = rc || bc_li(b, status) != 0;
        /* the first failed goals by name, then how many more failed (counted in SQL) */
        const job_t *jobs = g->failed != NULL ? g->failed->jobs : NULL;
        int shown = g->failed != NULL ? g->failed->njobs : 0;
        for (int i = 0; i < shown && !rc; i++)
            rc = buf_adds(b, "<li>") != 0 ||
                 (jobs[i].name != NULL &&
                  (blueconic_html_escape(b, jobs[i].name, strlen(jobs[i].name)) != 0 || buf_adds(b, ": ") != 0)) ||
                 buf_addf(b, "goal %s</li>", run_result_name(jobs[i].result)) != 0;
        int64_t ok, failed, total;
        bc_goal_tally(g, &ok, &failed, &total);
        if (failed > shown)
            rc = rc || buf_addf(b, "<li>%lld more goals failed.</li>", (long long)(failed - shown)) != 0;
    } else if (!rc) {
        if (status != NULL)
            rc = bc_li(b, status) != 0;
        if (r->state == RUN_FINISHED && r->result != RESULT_SKIPPED)
            rc = rc || bc_counters_line(b, r) != 0;
    }
    if (r->message != NULL)
        rc = rc || bc_li(b, r->message) != 0;
    rc = rc || buf_adds(b, "</ul>") != 0;
    if (error)
        rc = rc || buf_adds(b, "</div><div>Review the run log for more information.</div>") != 0;
    return rc ? -1 : 0;
}

static void bc_write_message(buf_t *b, const connection_t *cn, const run_t *r, const bc_goals_t *g)
{
    buf_t m = BUF_INIT(BC_MESSAGE_CAP);
    /* cannot fail with clipped strings under the cap; never drop the field */
    jw_str(b, bc_build_message(&m, cn, r, g) == 0 ? buf_str(&m)
                                                  : "<ul><li>The run message is too long to show.</li></ul>");
    buf_release(&m);
}

/* YYYYMMDDHHMMSS_<uuid>, the shape of BlueConic's run ids, from fields of the run that never
 * change: its creation time and its own UUID (BlueConic puts the connection's UUID there, which
 * makes two runs started in the same second share an id, and a queued run's id change when it
 * starts). */
static void bc_run_id(const run_t *r, char out[64])
{
    char iso[TIME_ISO_LEN]; /* 2025-09-24T13:46:48.107Z */
    time_format_iso(r->created_at, iso);
    snprintf(out, 64, "%.4s%.2s%.2s%.2s%.2s%.2s_%s", iso, iso + 5, iso + 8, iso + 11, iso + 14, iso + 17, r->uuid);
}

/* One run in BlueConic's shape, keys in the seed's order. */
static void bc_write_run(buf_t *b, const connection_t *cn, const run_t *r, const bc_goals_t *g)
{
    json_t *hold;
    bc_external_t x;
    bc_external_read(r, &hold, &x);
    int64_t start = r->started_at ? r->started_at : r->created_at;
    char run_id[64];
    bc_run_id(r, run_id);
    JW_LIT(b, "{\"endDate\":");
    jw_time(b, r->completed_at);
    JW_LIT(b, ",\"goalStatistics\":");
    bc_write_goal_statistics(b, r, g, x.no_goals);
    JW_LIT(b, ",\"message\":");
    if (x.message != NULL)
        jw_str(b, x.message);
    else
        bc_write_message(b, cn, r, g);
    JW_LIT(b, ",\"runCount\":");
    jw_int(b, r->run_count);
    JW_LIT(b, ",\"runId\":");
    jw_str(b, x.imported ? r->external_id : run_id);
    JW_LIT(b, ",\"startDate\":");
    jw_time(b, start);
    JW_LIT(b, ",\"state\":");
    jw_str(b, blueconic_state(r->state, r->result));
    JW_LIT(b, "}");
    json_decref(hold);
}

/* ---- the render cache ----
 * A finished run never changes (a change to its jobs bumps its version), but its built message
 * names the connection, which can be renamed: a kept rendering is led by the connection's name
 * (NUL-terminated) and serves only under that name. */

/* The kept rendering of run (id, version) under connection name `name`, or NULL. */
static const char *bc_cached(int64_t id, int64_t version, const char *name, size_t *len)
{
    size_t n, k = strlen(name) + 1;
    const char *hit = rcache_get(RCACHE_BLUECONIC, id, version, &n);
    if (hit == NULL || n <= k || memcmp(hit, name, k) != 0)
        return NULL;
    *len = n - k;
    return hit + k;
}

/* Appends the rendering of r, keeping it when r is finished. */
static void bc_append_run(buf_t *b, const connection_t *cn, const run_t *r, const bc_goals_t *g)
{
    if (r->state != RUN_FINISHED) {
        bc_write_run(b, cn, r, g);
        return;
    }
    size_t k = strlen(cn->name) + 1;
    buf_t t = BUF_INIT(b->cap);
    buf_add(&t, cn->name, k);
    bc_write_run(&t, cn, r, g);
    if (!buf_failed(&t)) {
        buf_add(b, t.data + k, t.len - k);
        rcache_put(RCACHE_BLUECONIC, r->id, r->version, t.data, t.len);
    } else {
        bc_write_run(b, cn, r, g); /* fails b alike: the answer says so */
    }
    buf_release(&t);
}

/* ---- handler ---- */

/* Query parameter `name` as an integer in [min, max] (absent: def); else answers 400 naming it. */
static int bc_query_int(http_ctx_t *c, const char *name, int64_t min, int64_t max, int64_t def, const char *expect,
                        int64_t *out)
{
    const char *v = http_query(c, name);
    if (v == NULL) {
        *out = def;
        return 0;
    }
    if (ids_parse_i64(v, strlen(v), min, max, out) == 0)
        return 0;
    char msg[128];
    snprintf(msg, sizeof(msg), "%s must be %s", name, expect);
    http_error(c, 400, "invalid_query", msg, name);
    return -1;
}

/* Appends the runs of cn with lo <= run_count <= hi, newest first, in BlueConic's shape, separated
 * by commas; *count says how many. The page's keys are read first: finished runs rendered before
 * come from the cache, and only the range from the first to the last other run is read, with its
 * goals: counted by result in SQL, and the first failed ones of each run named. At most four
 * statements, however many runs and goals the page has; one when every run is cached. On failure
 * answers the store error and returns -1. */
static int bc_runs_write(http_ctx_t *c, const connection_t *cn, int64_t lo, int64_t hi, buf_t *b, int *count)
{
    const int64_t ws = c->key.workspace_id;
    run_key_t *keys = NULL;
    run_t *runs = NULL;
    store_job_counts_t *counts = NULL;
    store_run_jobs_t *failed = NULL;
    int n = 0, nruns = 0, ncounts = 0, nfailed = 0, first_miss = -1, last_miss = -1;
    *count = 0;
    store_err_t e = hi >= 1 ? store_run_keys(c->reader, ws, cn->id, lo, hi, 0, &c->arena, &keys, &n) : STORE_OK;
    /* The hits are copied into the request's arena: rendering the other runs puts them in the
     * cache, which may evict a hit before it is written. */
    render_hit_t *hits = arena_alloc(&c->arena, sizeof(*hits) * (size_t)(n > 0 ? n : 1));
    for (int i = 0; i < n && e == STORE_OK; i++) {
        size_t len = 0;
        const char *hit = keys[i].state == RUN_FINISHED ? bc_cached(keys[i].id, keys[i].version, cn->name, &len) : NULL;
        render_hit_keep(&c->arena, &hits[i], hit, len);
        if (hit == NULL) {
            if (first_miss < 0)
                first_miss = i;
            last_miss = i;
        }
    }
    if (e == STORE_OK && first_miss >= 0) {
        /* a full range maps page positions to run_counts (kept runs are gapless) */
        int gapless = n == hi - lo + 1;
        int64_t rlo = gapless ? hi - last_miss : lo, rhi = gapless ? hi - first_miss : hi;
        if ((e = store_run_range(c->reader, ws, cn->id, rlo, rhi, 0, &c->arena, &runs, &nruns)) == STORE_OK)
            e = store_job_counts(c->reader, ws, cn->id, rlo, rhi, &c->arena, &counts, &ncounts);
        int errors = 0; /* failed goals are named only in error messages */
        for (int i = 0; i < nruns && !errors; i++)
            errors = bc_is_error(&runs[i]);
        if (e == STORE_OK && errors)
            e = store_jobs_first(c->reader, ws, cn->id, rlo, rhi, bc_failed_mask(), BC_FAILED_GOALS_SHOWN, &c->arena,
                                 &failed, &nfailed);
    }
    if (e != STORE_OK) {
        api_store_error(c, e, NULL);
        return -1;
    }
    for (int i = 0, k = 0, ci = 0, fi = 0; i < n; i++) {
        if (i > 0)
            JW_LIT(b, ",");
        if (hits[i].data != NULL) {
            buf_add(b, hits[i].data, hits[i].len);
            continue;
        }
        while (k < nruns && runs[k].id != keys[i].id)
            k++;
        if (k == nruns) { /* not in the rows read: changed between the reads */
            api_store_error(c, STORE_ERROR, NULL);
            return -1;
        }
        /* counts and failed are in page order too, with only the runs that have such jobs */
        bc_goals_t g = {NULL, NULL};
        while (ci < ncounts && counts[ci].run_id != runs[k].id)
            ci++;
        if (ci < ncounts)
            g.counts = &counts[ci];
        else
            ci = 0;
        while (fi < nfailed && failed[fi].run_id != runs[k].id)
            fi++;
        if (fi < nfailed)
            g.failed = &failed[fi];
        else
            fi = 0;
        bc_append_run(b, cn, &runs[k], &g);
    }
    *count = n;
    return 0;
}

/* The connection of path parameter 0. Only a UUID names a connection here; unknown, foreign and
 * malformed ids get the same 404. On failure answers and returns -1. */
static int bc_load_connection(http_ctx_t *c, connection_t *cn)
{
    store_err_t e = STORE_NOT_FOUND;
    char uuid[IDS_UUID_LEN];
    if (ids_uuid_normalize(c->params[0], uuid) == 0)
        e = store_connection_get_uuid(c->reader, c->key.workspace_id, uuid, &c->arena, cn);
    if (e == STORE_NOT_FOUND)
        http_error(c, 404, "not_found", "The connection does not exist.", NULL);
    else if (e != STORE_OK)
        api_store_error(c, e, NULL);
    return e == STORE_OK ? 0 : -1;
}

/* Ends a page's document in b: startIndex, totalPages and totalResults (of count-sized pages), then
 * sends it. */
static int bc_send_page(http_ctx_t *c, buf_t *b, int64_t start, int64_t count, int64_t total)
{
    JW_LIT(b, ",\"startIndex\":");
    jw_int(b, start);
    JW_LIT(b, ",\"totalPages\":");
    jw_int(b, total == 0 ? 0 : (total + count - 1) / count);
    JW_LIT(b, ",\"totalResults\":");
    jw_int(b, total);
    JW_LIT(b, "}");
    return render_send_buf(c, 200, b);
}

int blueconic_connection_runs(http_ctx_t *c)
{
    int64_t start, count;
    if (bc_query_int(c, "startIndex", 0, INT64_MAX, 0, "an integer of 0 or more", &start) != 0 ||
        bc_query_int(c, "count", 1, BC_COUNT_MAX, BC_COUNT_DEFAULT, "an integer from 1 to 100", &count) != 0)
        return 0;

    connection_t cn;
    if (bc_load_connection(c, &cn) != 0)
        return 0;

    /* Newest first: startIndex 0 is the newest run_count. A page is a run_count range, whatever its
     * depth, within the runs kept (after the pruned ones: model/retention.h). */
    int64_t total = cn.run_count - cn.runs_pruned, first = cn.runs_pruned + 1, hi = cn.run_count - start;
    int64_t lo = hi - count + 1 < first ? first : hi - count + 1;
    buf_t b = BUF_INIT(BC_BODY_MAX);
    int n;
    JW_LIT(&b, "{\"itemsPerPage\":");
    jw_int(&b, count);
    JW_LIT(&b, ",\"runs\":[");
    if (bc_runs_write(c, &cn, lo, hi, &b, &n) != 0) {
        buf_release(&b);
        return 0;
    }
    JW_LIT(&b, "]");
    return bc_send_page(c, &b, start, count, total);
}

/* ---- connections ---- */

/* Appends a connection in BlueConic's shape (keys in its order), with its newest run as lastRun
 * (left out before the first run). syncrun has no channels, domains, tags, roles or users: their
 * lists are empty and the users left out; every connection is an enabled, scheduled (batch)
 * connection. On failure answers the store error and returns -1. */
static int bc_write_connection(http_ctx_t *c, const connection_t *cn, buf_t *b)
{
    JW_LIT(b, "{\"allChannels\":false,\"creationDate\":");
    jw_time(b, cn->created_at);
    JW_LIT(b, ",\"description\":");
    if (cn->source || cn->destination) { /* "source → destination", from the connection's labels */
        const char *src = cn->source ? cn->source : "?", *dst = cn->destination ? cn->destination : "?";
        size_t dlen = strlen(src) + strlen(dst) + 8;
        char *desc = arena_alloc(&c->arena, dlen);
        snprintf(desc, dlen, "%s \xE2\x86\x92 %s", src, dst);
        jw_str(b, desc);
    } else {
        JW_LIT(b, "\"\"");
    }
    JW_LIT(b, ",\"domains\":[],\"id\":");
    jw_str(b, cn->uuid);
    JW_LIT(b, ",\"isEnabled\":true,\"lastModifiedDate\":");
    jw_time(b, cn->updated_at);
    size_t mark = b->len;
    int n;
    JW_LIT(b, ",\"lastRun\":");
    if (bc_runs_write(c, cn, cn->run_count, cn->run_count, b, &n) != 0)
        return -1;
    if (n == 0 && !buf_failed(b))
        b->len = mark;
    JW_LIT(b, ",\"name\":");
    jw_str(b, cn->name);
    if (cn->connector_type != NULL) {
        JW_LIT(b, ",\"pluginId\":");
        jw_str(b, cn->connector_type);
    }
    JW_LIT(b, ",\"roles\":[],\"scheduleMode\":\"SCHEDULED\",\"tags\":[],\"targetChannels\":[]}");
    return 0;
}

int blueconic_connection_get(http_ctx_t *c)
{
    connection_t cn;
    if (bc_load_connection(c, &cn) != 0)
        return 0;
    buf_t b = BUF_INIT(BC_BODY_MAX);
    if (bc_write_connection(c, &cn, &b) != 0) {
        buf_release(&b);
        return 0;
    }
    return render_send_buf(c, 200, &b);
}

int blueconic_connection_list(http_ctx_t *c)
{
    int64_t start, count, total;
    if (bc_query_int(c, "startIndex", 0, INT64_MAX, 0, "an integer of 0 or more", &start) != 0 ||
        bc_query_int(c, "count", 1, BC_COUNT_MAX, BC_COUNT_DEFAULT, "an integer from 1 to 100", &count) != 0)
        return 0;
    store_err_t e = store_connection_count(c->reader, c->key.workspace_id, &total);
    if (e != STORE_OK)
        return api_store_error(c, e, NULL);
    connection_t *rows = NULL;
    int n = 0;
    if (start < total && api_connection_slice(c, start, (int)count, &rows, &n) != 0)
        return 0;
    /* Each connection's last run is one run_count range read (its goals with it): a page of at most
     * 100 connections costs at most 100 such reads. */
    buf_t b = BUF_INIT(BC_BODY_MAX);
    JW_LIT(&b, "{\"connections\":[");
    for (int i = 0; i < n; i++) {
        if (i > 0)
            JW_LIT(&b, ",");
        if (bc_write_connection(c, &rows[i], &b) != 0) {
            buf_release(&b);
            return 0;
        }
    }
    JW_LIT(&b, "],\"itemsPerPage\":");
    jw_int(&b, count);
    return bc_send_page(c, &b, start, count, total);
}

/* ---- import ---- */

enum { GOAL_SUCCESS, GOAL_FAILED, GOAL_TOTAL, GOAL_COUNT };
static const char *const bc_goal_ids[GOAL_COUNT] = {"SUCCESS", "FAILED", "TOTAL"};

/* Fails with the field "runs[i].goalStatistics[k].key" (or without ".key"). Returns -1. */
static int bc_goal_fail(input_t *err, int i, int k, const char *key, const char *msg)
{
    snprintf(err->field_buf, sizeof(err->field_buf), "runs[%d].goalStatistics[%d]%s%s", i, k, key ? "." : "",
             key ? key : "");
    err->field = err->field_buf;
    err->code = "invalid_field";
    snprintf(err->message, sizeof(err->message), "%.60s: %.180s", err->field_buf, msg);
    return -1;
}

/* Reads goalStatistics of run i into v[GOAL_*]: 1 when present, 0 when absent or null, -1 on error. */
static int bc_goal_statistics_read(input_t *err, json_t *item, int i, int64_t v[GOAL_COUNT])
{
    json_t *gs = json_object_get(item, "goalStatistics");
    if (gs == NULL || json_is_null(gs))
        return 0;
    if (!json_is_array(gs))
        return import_fail(err, "runs", i, "goalStatistics", "must be an array");
    int seen[GOAL_COUNT] = {-1, -1, -1};
    for (size_t k = 0; k < json_array_size(gs); k++) {
        json_t *g = json_array_get(gs, k);
        if (!json_is_object(g))
            return bc_goal_fail(err, i, (int)k, NULL, "must be an object");
        const char *id = json_string_value(json_object_get(g, "id"));
        int which = -1;
        for (int w = 0; id != NULL && w < GOAL_COUNT; w++)
            if (strcmp(id, bc_goal_ids[w]) == 0)
                which = w;
        if (which < 0)
            return bc_goal_fail(err, i, (int)k, "id", "must be one of SUCCESS, FAILED, TOTAL");
        if (seen[which] >= 0)
            return bc_goal_fail(err, i, (int)k, "id", "appears more than once");
        json_t *values = json_object_get(g, "values");
        const char *s = json_string_value(json_array_get(values, 0));
        if (!json_is_array(values) || json_array_size(values) != 1 || s == NULL || !isdigit((unsigned char)s[0]) ||
            ids_parse_i64(s, strlen(s), 0, BC_GOALS_PER_RUN_MAX, &v[which]) != 0)
            return bc_goal_fail(err, i, (int)k, "values",
                                "must be an array of one numeric string from \"0\" to \"10000\"");
        seen[which] = (int)k;
    }
    if (seen[GOAL_TOTAL] < 0)
        v[GOAL_TOTAL] = v[GOAL_SUCCESS] + v[GOAL_FAILED];
    else if (v[GOAL_TOTAL] < v[GOAL_SUCCESS] + v[GOAL_FAILED])
        return bc_goal_fail(err, i, seen[GOAL_TOTAL], "values", "TOTAL must be at least SUCCESS + FAILED");
    if (v[GOAL_TOTAL] > BC_GOALS_PER_RUN_MAX)
        return bc_goal_fail(err, i, seen[GOAL_FAILED] > seen[GOAL_SUCCESS] ? seen[GOAL_FAILED] : seen[GOAL_SUCCESS],
                            "values", "a run has at most 10000 goals");
    return 1;
}

/* BlueConic state (+ message) → canonical state and result; -1 for an unknown state. */
static int bc_state_parse(const char *state, const char *message, run_t *r)
{
    r->result = RESULT_NONE;
    if (strcmp(state, "STARTING") == 0 || strcmp(state, "QUEUED") == 0) /* QUEUED: what syncrun once answered */
        r->state = RUN_QUEUED;
    else if (strcmp(state, "RUNNING") == 0 || strcmp(state, "STOPPING") == 0)
        r->state = RUN_WORKING;
    else if (strcmp(state, "FINISHED") == 0)
        r->state = RUN_FINISHED,
        r->result = message != NULL && strstr(message, "bcpError") != NULL ? RESULT_ERROR : RESULT_SUCCESS;
    else if (strcmp(state, "FAILED") == 0)
        r->state = RUN_FINISHED, r->result = RESULT_ERROR;
    else if (strcmp(state, "STOPPED") == 0)
        r->state = RUN_FINISHED, r->result = RESULT_CANCELED;
    else
        return -1;
    return 0;
}

/* The run's goals as jobs: SUCCESS finished/success, FAILED finished/error, the rest finished/skipped. */
static void bc_goal_jobs(arena_t *a, const int64_t v[GOAL_COUNT], store_import_t *im)
{
    const run_t *r = &im->run;
    im->njobs = (int)v[GOAL_TOTAL];
    im->jobs = arena_alloc(a, sizeof(job_t) * (size_t)(im->njobs ? im->njobs : 1));
    for (int k = 0; k < im->njobs; k++) {
        job_t *j = &im->jobs[k];
        j->state = RUN_FINISHED;
        j->result = k < v[GOAL_SUCCESS]                    ? RESULT_SUCCESS
                    : k < v[GOAL_SUCCESS] + v[GOAL_FAILED] ? RESULT_ERROR
                                                           : RESULT_SKIPPED;
        j->started_at = r->started_at ? r->started_at : r->created_at;
        j->ended_at = r->completed_at;
    }
}

int blueconic_import_parse(json_t *doc, arena_t *a, store_import_t **out, int *n, input_t *err)
{
    json_t *list = import_array(err, doc, "runs", IMPORT_MAX_RUNS);
    if (list == NULL)
        return -1;
    int count = (int)json_array_size(list);
    int64_t goals = 0;
    store_import_t *runs = arena_alloc(a, sizeof(*runs) * (size_t)(count ? count : 1));
    for (int i = 0; i < count; i++) {
        json_t *item = json_array_get(list, (size_t)i);
        run_t *r = &runs[i].run;
        const char *run_id = NULL, *state = NULL, *message = NULL;
        int64_t start = 0, end = 0, run_count = 0, v[GOAL_COUNT] = {0, 0, 0};
        if (!json_is_object(item))
            return import_fail(err, "runs", i, NULL, "must be an object");
        if (import_string(err, item, "runs", i, "runId", IN_NAME_MAX, 1, &run_id) < 0 ||
            import_time(err, item, "runs", i, "startDate", 1, &start) < 0 ||
            import_time(err, item, "runs", i, "endDate", 0, &end) < 0 ||
            import_string(err, item, "runs", i, "state", 32, 1, &state) < 0 ||
            import_string(err, item, "runs", i, "message", BC_IMPORT_MESSAGE_MAX, 0, &message) < 0 ||
            import_int(err, item, "runs", i, "runCount", 1, INT64_MAX, 0, &run_count) < 0)
            return -1;
        if (run_id[0] == '\0')
            return import_fail(err, "runs", i, "runId", "must not be empty");
        if (bc_state_parse(state, message, r) != 0)
            return import_fail(err, "runs", i, "state",
                               "must be one of STARTING, RUNNING, FINISHED, FAILED, STOPPING, STOPPED");
        if (end != 0 && r->state != RUN_FINISHED)
            return import_fail(err, "runs", i, "endDate", "must be null while the run is QUEUED or RUNNING");
        if (end != 0 && end < start)
            return import_fail(err, "runs", i, "endDate", "must not be before startDate");
        int has_goals = bc_goal_statistics_read(err, item, i, v);
        if (has_goals < 0)
            return -1;
        if ((goals += v[GOAL_TOTAL]) > BC_GOALS_IMPORT_MAX)
            return import_fail(err, "runs", i, "goalStatistics",
                               "the document has more than 100000 goals; import it in parts");

        r->external_id = run_id;
        r->created_at = start;
        r->started_at = r->state == RUN_QUEUED ? 0 : start; /* a queued run has not started */
        r->completed_at = end;
        json_t *ext = json_pack("{s:s}", "format", "blueconic");
        if (message != NULL)
            json_object_set_new(ext, "message", json_string(message));
        if (has_goals && v[GOAL_TOTAL] == 0) /* keeps "no goals" apart from "no jobs: the run is its goal" */
            json_object_set_new(ext, "goals", json_integer(0));
        char *text = json_dumps(ext, JSON_COMPACT);
        r->external = arena_strdup(a, text);
        free(text);
        json_decref(ext);
        bc_goal_jobs(a, v, &runs[i]);
    }
    *out = runs;
    *n = count;
    return 0;
}
