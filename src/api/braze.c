/* Braze Cloud Data Ingestion dialect: sync statuses exactly as Braze's API answers them (seed 002),
 * and the CDI routes Braze clients call around them (braze-docs _docs/_api/endpoints/cdi/):
 *   GET  /cdi/integrations/{integration_id}/job_sync_status[?cursor=…]
 *   POST /cdi/integrations/{integration_id}/sync
 *   GET  /cdi/integrations[?cursor=…]
 * A Braze "integration" is a connection, named by its UUID. Pages hold 10 items (runs newest first,
 * integrations in creation order) and are walked with opaque signed keyset cursors given in the
 * Link header. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "api/api.h"
#include "api/import.h"
#include "api/render.h"
#include "util/ids.h"
#include "util/jsonw.h"
#include "util/timeutil.h"

enum {
    BRAZE_PAGE = 10,       /* results per page, fixed by Braze */
    BRAZE_CURSOR_MAX = 64, /* longest cursor text looked at; ours are BRAZE_CURSOR_LEN */
};

/* ---- errors ---- */

/* Braze's wording for the statuses the HTTP layer answers (its "Fatal errors" table); the 400s this
 * file sends carry their own message. */
static const struct {
    int status;
    const char *message;
} braze_errors[] = {
    {401, "Unknown or missing REST API key"},
    {403, "Access denied: this API key lacks the permission this endpoint needs"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {413, "Request entity too large"},
    {429, "API rate limit exceeded: too many requests; retry after the number of seconds in Retry-After"},
};

/* Braze's own answers of the CDI routes, sent with their documented status and text whatever the
 * table above says for that status (404 Integration not found, 429 Another job is in progress). */
static const struct {
    const char *code, *message;
} braze_cdi_errors[] = {
    {"invalid_integration", "Invalid integration ID"},
    {"invalid_cursor", "Invalid cursor"},
    {"integration_not_found", "Integration not found"},
    {"job_in_progress", "Another job is in progress"},
};

static void braze_send_error(http_ctx_t *c, int status, const char *code, const char *message, const char *field)
{
    const char *msg = status >= 500 ? "Internal Server Error" : message;
    for (size_t i = 0; i < sizeof(braze_errors) / sizeof(braze_errors[0]); i++)
        if (braze_errors[i].status == status)
            msg = braze_errors[i].message;
    for (size_t i = 0; code != NULL && i < sizeof(braze_cdi_errors) / sizeof(braze_cdi_errors[0]); i++)
        if (strcmp(braze_cdi_errors[i].code, code) == 0)
            msg = braze_cdi_errors[i].message;
    http_send_json(c, status, json_pack("{s:s}", "message", msg ? msg : "Bad Request"));
}

const http_dialect_t braze_dialect = {"braze", braze_send_error};

static int braze_bad_integration(http_ctx_t *c)
{
    return http_error(c, 400, "invalid_integration", "Invalid integration ID", NULL);
}

static int braze_bad_cursor(http_ctx_t *c)
{
    return http_error(c, 400, "invalid_cursor", "Invalid cursor", "cursor");
}

/* ---- runs ---- */

/* Braze job_status of a run; NULL for runs Braze does not list (skipped). */
static const char *braze_job_status(run_state_t state, run_result_t result)
{
    static const char *const by_result[RUN_RESULT_COUNT] = {
        [RESULT_SUCCESS] = "success", [RESULT_PARTIAL] = "partial",
        [RESULT_ERROR] = "error",     [RESULT_CONFIG_ERROR] = "config_error",
        [RESULT_TIMED_OUT] = "error", [RESULT_CANCELED] = "error",
        [RESULT_SKIPPED] = NULL,
    };
    if (state != RUN_FINISHED)
        return "running";
    return (unsigned)result < RUN_RESULT_COUNT ? by_result[result] : NULL;
}

/* Appends one run in Braze's shape, keys in the seed's order; nothing (returns 0) when Braze would
 * not list it, else 1. */
static int braze_write_run(buf_t *b, const run_t *r)
{
    const char *status = braze_job_status(r->state, r->result);
    if (status == NULL)
        return 0;
    JW_LIT(b, "{\"job_status\":");
    jw_str(b, status);
    JW_LIT(b, ",\"sync_start_time\":");
    jw_time(b, r->started_at ? r->started_at : r->created_at);
    JW_LIT(b, ",\"sync_finish_time\":");
    jw_time(b, r->state == RUN_FINISHED ? r->completed_at : 0);
    JW_LIT(b, ",\"last_timestamp_synced\":");
    jw_time(b, r->watermark);
    JW_LIT(b, ",\"rows_synced\":");
    jw_int(b, r->counters[CTR_RECORDS_UPDATED]);
    JW_LIT(b, ",\"rows_failed_with_errors\":");
    jw_int(b, r->counters[CTR_RECORDS_FAILED]);
    JW_LIT(b, "}");
    return 1;
}

/* Answers are at most this large (10 small items). */
#define BRAZE_BODY_MAX (1024 * 1024)

/* ---- cursors ----
 * A cursor is base64url(version, direction, owner id, position, tag), the tag being the first 16
 * bytes of HMAC-SHA256 under the database secret over a label and the fields before it. The label
 * says which list it walks: a job_sync_status cursor is owned by one integration (a connection id)
 * and its position is a run_count; an integration-list cursor is owned by one workspace and its
 * position is a connection id. It cannot be forged, edited or used on another list, and names a
 * keyset position, so it stays right while items are added. */

typedef enum braze_dir {
    BRAZE_OLDER = 'o', /* items with a key < position */
    BRAZE_NEWER = 'n', /* items with a key > position */
} braze_dir_t;

enum {
    BRAZE_CURSOR_VERSION = 1,
    BRAZE_CURSOR_BODY = 18, /* version, direction, connection id (8), position (8) */
    BRAZE_CURSOR_TAG = 16,
    BRAZE_CURSOR_RAW = BRAZE_CURSOR_BODY + BRAZE_CURSOR_TAG,
    BRAZE_CURSOR_LEN = (BRAZE_CURSOR_RAW * 4 + 2) / 3, /* 46 characters, no padding */
};

static const char braze_runs_label[] = "syncrun braze job_sync_status cursor";
static const char braze_integrations_label[] = "syncrun braze integrations cursor";
enum { BRAZE_LABEL_MAX = 40 };

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)(v & 0xff);
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

/* The tag of body; -1 if OpenSSL fails. */
static int braze_cursor_tag(store_t *s, const char *label, const unsigned char body[BRAZE_CURSOR_BODY],
                            unsigned char tag[BRAZE_CURSOR_TAG])
{
    unsigned char key[32], msg[BRAZE_LABEL_MAX + 1 + BRAZE_CURSOR_BODY], md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int rc = -1;
    size_t llen = strnlen(label, BRAZE_LABEL_MAX) + 1; /* with its NUL: a separator */
    store_secret(s, key);
    memcpy(msg, label, llen);
    msg[llen - 1] = '\0';
    memcpy(msg + llen, body, BRAZE_CURSOR_BODY);
    if (HMAC(EVP_sha256(), key, (int)sizeof(key), msg, llen + BRAZE_CURSOR_BODY, md, &mdlen) == NULL ||
        mdlen < BRAZE_CURSOR_TAG)
        goto out;
    memcpy(tag, md, BRAZE_CURSOR_TAG);
    rc = 0;
out:
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(md, sizeof(md));
    return rc;
}

/* Writes the cursor of (label, owner, dir, position) into out; -1 if it could not be signed. */
static int braze_cursor_make(store_t *s, const char *label, int64_t owner, braze_dir_t dir, int64_t position,
                             char out[BRAZE_CURSOR_LEN + 1])
{
    unsigned char raw[BRAZE_CURSOR_RAW];
    raw[0] = BRAZE_CURSOR_VERSION;
    raw[1] = (unsigned char)dir;
    put_u64(raw + 2, (uint64_t)owner);
    put_u64(raw + 10, (uint64_t)position);
    if (braze_cursor_tag(s, label, raw, raw + BRAZE_CURSOR_BODY) != 0)
        return -1;
    ids_b64url_encode(raw, sizeof(raw), out);
    return 0;
}

/* Reads a cursor this server made for (label, owner); -1 for anything else. */
static int braze_cursor_parse(store_t *s, const char *label, const char *text, int64_t owner, braze_dir_t *dir,
                              int64_t *position)
{
    unsigned char raw[BRAZE_CURSOR_RAW], tag[BRAZE_CURSOR_TAG];
    size_t len = strnlen(text, BRAZE_CURSOR_MAX + 1);
    if (len != BRAZE_CURSOR_LEN || ids_b64url_decode(text, len, raw, sizeof(raw)) != BRAZE_CURSOR_RAW)
        return -1;
    if (braze_cursor_tag(s, label, raw, tag) != 0 || CRYPTO_memcmp(tag, raw + BRAZE_CURSOR_BODY, sizeof(tag)) != 0)
        return -1;
    int64_t id = (int64_t)get_u64(raw + 2), pos = (int64_t)get_u64(raw + 10);
    /* Only this server can sign, but the paging below computes pos + 1: refuse what it cannot hold. */
    if (raw[0] != BRAZE_CURSOR_VERSION || (raw[1] != BRAZE_OLDER && raw[1] != BRAZE_NEWER) || id != owner ||
        pos < (raw[1] == BRAZE_OLDER ? 1 : 0) || pos == INT64_MAX)
        return -1;
    *dir = (braze_dir_t)raw[1];
    *position = pos;
    return 0;
}

/* ---- the list ---- */

/* 1 when the integration has a listed run beyond `from` (older: run_count < from; newer: > from), 0
 * when not, -1 when the store failed. */
static int braze_runs_beyond(http_ctx_t *c, int64_t conn_id, braze_dir_t dir, int64_t from)
{
    run_filter_t f = {.state = -1, .result = -1, .not_result = RESULT_SKIPPED, .limit = 1};
    run_t *runs;
    int n;
    if (dir == BRAZE_OLDER && from <= 1)
        return 0; /* run_count starts at 1; and after = 0 would mean "from the start" */
    f.asc = dir == BRAZE_NEWER;
    f.after = from;
    if (store_run_list(c->reader, c->key.workspace_id, conn_id, &f, &c->arena, &runs, &n) != STORE_OK)
        return -1;
    return n > 0;
}

/* Appends `<path?cursor=…>; rel="rel"` to the Link value in buf, the cursor being (label, owner,
 * dir, position). -1 if the cursor could not be made. */
static int braze_link_add(http_ctx_t *c, const char *path, const char *label, int64_t owner, braze_dir_t dir,
                          int64_t position, const char *rel, char *buf, size_t cap)
{
    char cursor[BRAZE_CURSOR_LEN + 1];
    if (braze_cursor_make(c->store, label, owner, dir, position, cursor) != 0)
        return -1;
    size_t used = strlen(buf);
    snprintf(buf + used, cap - used, "%s<%s?cursor=%s>; rel=\"%s\"", used ? "," : "", path, cursor, rel);
    return 0;
}

int braze_job_sync_status(http_ctx_t *c)
{
    const char *param = c->params[0];
    char uuid[IDS_UUID_LEN];
    connection_t cn;
    if (ids_uuid_normalize(param, uuid) != 0)
        return braze_bad_integration(c);
    store_err_t e = store_connection_get_uuid(c->reader, c->key.workspace_id, uuid, &c->arena, &cn);
    if (e == STORE_NOT_FOUND)
        return braze_bad_integration(c);
    if (e != STORE_OK)
        return api_store_error(c, e, NULL);

    const char *cursor = http_query(c, "cursor");
    braze_dir_t dir = BRAZE_OLDER;
    int64_t pos = 0; /* older than nothing: from the newest */
    if (cursor != NULL && braze_cursor_parse(c->store, braze_runs_label, cursor, cn.id, &dir, &pos) != 0)
        return braze_bad_cursor(c);

    /* One more than a page, to know whether there is a page beyond this one. */
    run_filter_t f = {.state = -1, .result = -1, .not_result = RESULT_SKIPPED, .limit = BRAZE_PAGE + 1};
    f.asc = dir == BRAZE_NEWER;
    f.after = pos;
    run_t *runs;
    int n;
    if ((e = store_run_list(c->reader, c->key.workspace_id, cn.id, &f, &c->arena, &runs, &n)) != STORE_OK)
        return api_store_error(c, e, NULL);
    int shown = n < BRAZE_PAGE ? n : BRAZE_PAGE, beyond = n > BRAZE_PAGE;
    if (dir == BRAZE_NEWER) /* the `shown` runs just after pos, ascending: newest first */
        for (int i = 0, j = shown - 1; i < j; i++, j--) {
            run_t t = runs[i];
            runs[i] = runs[j];
            runs[j] = t;
        }

    /* Boundaries of this page: newest and oldest run_count shown, or where the cursor pointed. */
    int64_t top = shown ? runs[0].run_count : (dir == BRAZE_OLDER ? pos - 1 : pos);
    int64_t bottom = shown ? runs[shown - 1].run_count : (dir == BRAZE_NEWER ? pos + 1 : pos);
    int has_next, has_prev;
    if (dir == BRAZE_OLDER) {
        has_next = beyond;
        has_prev = cursor == NULL ? 0 : braze_runs_beyond(c, cn.id, BRAZE_NEWER, top);
    } else {
        has_prev = beyond;
        has_next = braze_runs_beyond(c, cn.id, BRAZE_OLDER, bottom);
    }
    if (has_next < 0 || has_prev < 0)
        return api_store_error(c, STORE_ERROR, NULL);

    char link[512] = "", path[96];
    snprintf(path, sizeof(path), "/cdi/integrations/%s/job_sync_status", cn.uuid);
    if ((has_prev &&
         braze_link_add(c, path, braze_runs_label, cn.id, BRAZE_NEWER, top, "prev", link, sizeof(link)) != 0) ||
        (has_next &&
         braze_link_add(c, path, braze_runs_label, cn.id, BRAZE_OLDER, bottom, "next", link, sizeof(link)) != 0))
        return http_error(c, 500, "internal", "could not sign a cursor", NULL);
    if (link[0] != '\0')
        http_add_header(c, "link", link);

    buf_t b = BUF_INIT(BRAZE_BODY_MAX);
    JW_LIT(&b, "{\"results\":[");
    for (int i = 0, listed = 0; i < shown; i++) {
        size_t mark = b.len;
        if (listed > 0)
            JW_LIT(&b, ",");
        if (braze_write_run(&b, &runs[i]))
            listed++;
        else if (!buf_failed(&b))
            b.len = mark;
    }
    JW_LIT(&b, "],\"message\":\"success\"}");
    return render_send_buf(c, 200, &b);
}

/* ---- trigger a sync ---- */

static void braze_on_synced(http_ctx_t *c, store_write_t *w, void *data)
{
    (void)data;
    if (w->err == STORE_NOT_FOUND) {
        http_error(c, 404, "integration_not_found", "Integration not found", NULL);
        return;
    }
    if (w->err != STORE_OK) {
        api_store_error(c, w->err, w->err_field);
        return;
    }
    if (w->trigger_outcome == TRIGGER_REFUSED) {
        http_error(c, 429, "job_in_progress", "Another job is in progress", NULL);
        return;
    }
    http_send_json(c, 202, json_pack("{s:s}", "message", "success"));
}

/* Starts a run (queued) unless one of the integration is queued or working: Braze answers that with
 * 429 whatever the connection's overlap policy, decided by the store's writer in the trigger's
 * transaction (refuse_active), so two racing requests cannot both start one. */
int braze_integration_sync(http_ctx_t *c)
{
    char uuid[IDS_UUID_LEN];
    connection_t cn;
    if (ids_uuid_normalize(c->params[0], uuid) != 0)
        return braze_bad_integration(c);
    store_err_t e = store_connection_get_uuid(c->reader, c->key.workspace_id, uuid, &c->arena, &cn);
    if (e == STORE_NOT_FOUND)
        return http_error(c, 404, "integration_not_found", "Integration not found", NULL);
    if (e != STORE_OK)
        return api_store_error(c, e, NULL);
    static const char fingerprint[] = "braze sync";
    store_write_t *w = api_trigger_begin(c, &cn, fingerprint, sizeof(fingerprint) - 1);
    if (w == NULL)
        return 0;
    w->trigger.refuse_active = 1;
    api_trigger_defaults(c, &w->trigger);
    return http_write_submit(c, w, braze_on_synced, NULL, NULL);
}

/* ---- the integration list ---- */

/* Appends one integration in the shape Braze documents (GET /cdi/integrations), from the connection
 * and its newest run (NULL when none). */
static void braze_write_integration(buf_t *b, const connection_t *cn, const char *app_group, const run_t *last)
{
    /* a skipped run is not a job Braze lists (job_sync_status leaves it out): no last job then */
    const char *status = last != NULL ? braze_job_status(last->state, last->result) : NULL;
    JW_LIT(b, "{\"integration_id\":");
    jw_str(b, cn->uuid);
    JW_LIT(b, ",\"app_group_id\":");
    jw_str(b, app_group);
    JW_LIT(b, ",\"integration_name\":");
    jw_str(b, cn->name);
    JW_LIT(b, ",\"integration_type\":");
    jw_str(b, cn->connector_type);
    JW_LIT(b, ",\"integration_status\":\"active\",\"contact_emails\":null,\"last_updated_at\":");
    jw_time(b, status != NULL ? last->watermark : 0);
    JW_LIT(b, ",\"warehouse_type\":null,\"last_job_start_time\":");
    jw_time(b, status == NULL ? 0 : last->started_at ? last->started_at : last->created_at);
    JW_LIT(b, ",\"last_job_status\":");
    jw_str(b, status);
    JW_LIT(b, ",\"next_scheduled_run\":");
    jw_time(b, cn->schedule != NULL ? cn->next_fire_at : 0);
    JW_LIT(b, "}");
}

/* 1 when the workspace has a connection beyond `from` (older: id < from; newer: id > from), 0 when
 * not, -1 when the store failed. */
static int braze_integrations_beyond(http_ctx_t *c, braze_dir_t dir, int64_t from)
{
    connection_t *cs;
    int n;
    store_err_t e = dir == BRAZE_NEWER
                        ? store_connection_list(c->reader, c->key.workspace_id, from, 1, &c->arena, &cs, &n)
                        : store_connection_list_before(c->reader, c->key.workspace_id, from, 1, &c->arena, &cs, &n);
    return e != STORE_OK ? -1 : n > 0;
}

/* Integrations in creation order, 10 a page; `next` walks on (ids above the page), `prev` back. */
int braze_integration_list(http_ctx_t *c)
{
    int64_t ws = c->key.workspace_id;
    const char *cursor = http_query(c, "cursor");
    braze_dir_t dir = BRAZE_NEWER;
    int64_t pos = 0; /* newer than nothing: from the first */
    if (cursor != NULL && braze_cursor_parse(c->store, braze_integrations_label, cursor, ws, &dir, &pos) != 0)
        return braze_bad_cursor(c);
    connection_t *cs;
    int n;
    store_err_t e = dir == BRAZE_NEWER
                        ? store_connection_list(c->reader, ws, pos, BRAZE_PAGE + 1, &c->arena, &cs, &n)
                        : store_connection_list_before(c->reader, ws, pos, BRAZE_PAGE + 1, &c->arena, &cs, &n);
    if (e != STORE_OK)
        return api_store_error(c, e, NULL);
    int shown = n < BRAZE_PAGE ? n : BRAZE_PAGE, beyond = n > BRAZE_PAGE;
    if (dir == BRAZE_OLDER) /* the `shown` connections just before pos, descending: creation order */
        for (int i = 0, j = shown - 1; i < j; i++, j--) {
            connection_t t = cs[i];
            cs[i] = cs[j];
            cs[j] = t;
        }
    /* first and last id of this page, or where the cursor pointed */
    int64_t first = shown ? cs[0].id : (dir == BRAZE_NEWER ? pos + 1 : pos);
    int64_t last = shown ? cs[shown - 1].id : (dir == BRAZE_NEWER ? pos : pos - 1);
    int has_next, has_prev;
    if (dir == BRAZE_NEWER) {
        has_next = beyond;
        has_prev = cursor == NULL ? 0 : braze_integrations_beyond(c, BRAZE_OLDER, first);
    } else {
        has_prev = beyond;
        has_next = braze_integrations_beyond(c, BRAZE_NEWER, last);
    }
    if (has_next < 0 || has_prev < 0)
        return api_store_error(c, STORE_ERROR, NULL);

    workspace_t wsp;
    run_t *runs = NULL;
    int nruns = 0;
    if ((e = store_workspace_get(c->reader, ws, &c->arena, &wsp)) != STORE_OK ||
        (shown > 0 && (e = store_runs_newest(c->reader, ws, cs[0].id, cs[shown - 1].id, shown, &c->arena, &runs,
                                             &nruns)) != STORE_OK))
        return api_store_error(c, e, NULL);

    char link[512] = "";
    if ((has_prev && braze_link_add(c, "/cdi/integrations", braze_integrations_label, ws, BRAZE_OLDER, first, "prev",
                                    link, sizeof(link)) != 0) ||
        (has_next && braze_link_add(c, "/cdi/integrations", braze_integrations_label, ws, BRAZE_NEWER, last, "next",
                                    link, sizeof(link)) != 0))
        return http_error(c, 500, "internal", "could not sign a cursor", NULL);
    if (link[0] != '\0')
        http_add_header(c, "link", link);

    buf_t b = BUF_INIT(BRAZE_BODY_MAX);
    JW_LIT(&b, "{\"results\":[");
    for (int i = 0; i < shown; i++) {
        const run_t *newest = NULL;
        for (int k = 0; k < nruns && newest == NULL; k++)
            if (runs[k].connection_id == cs[i].id)
                newest = &runs[k];
        if (i > 0)
            JW_LIT(&b, ",");
        braze_write_integration(&b, &cs[i], wsp.uuid, newest);
    }
    JW_LIT(&b, "],\"message\":\"success\"}");
    return render_send_buf(c, 200, &b);
}

/* ---- import ---- */

/* Braze job_status → canonical state and result. */
static int braze_state(const char *status, run_state_t *state, run_result_t *result)
{
    static const struct {
        const char *name;
        run_result_t result;
    } finished[] = {
        {"success", RESULT_SUCCESS},
        {"partial", RESULT_PARTIAL},
        {"error", RESULT_ERROR},
        {"config_error", RESULT_CONFIG_ERROR},
    };
    *state = RUN_FINISHED;
    *result = RESULT_NONE;
    if (strcmp(status, "running") == 0) {
        *state = RUN_WORKING;
        return 0;
    }
    for (size_t i = 0; i < sizeof(finished) / sizeof(finished[0]); i++)
        if (strcmp(status, finished[i].name) == 0) {
            *result = finished[i].result;
            return 0;
        }
    return -1;
}

/* A run's start time and its index in the document, to find runs that share a start time. */
typedef struct braze_start {
    int64_t at;
    int index;
} braze_start_t;

static int braze_start_cmp(const void *a, const void *b)
{
    const braze_start_t *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

/* Braze runs are named by their start time: two different runs of one document may not share one.
 * The same run twice (equal objects, as when pages are concatenated) is fine: it is recorded once.
 * Returns the lowest index that conflicts with an earlier one, or -1. */
static int braze_conflict(json_t *list, const store_import_t *runs, int count, arena_t *a)
{
    braze_start_t *s = arena_alloc(a, sizeof(*s) * (size_t)(count ? count : 1));
    int worst = -1;
    for (int i = 0; i < count; i++)
        s[i] = (braze_start_t){runs[i].run.created_at, i};
    qsort(s, (size_t)count, sizeof(*s), braze_start_cmp);
    for (int i = 1; i < count; i++) {
        int p = s[i - 1].index, q = s[i].index;
        if (s[i - 1].at == s[i].at && (worst < 0 || q < worst) &&
            !json_equal(json_array_get(list, (size_t)p), json_array_get(list, (size_t)q)))
            worst = q;
    }
    return worst;
}

/* Reads item i of the results into r; -1 with err naming the first bad field. */
static int braze_import_one(json_t *item, int i, arena_t *a, run_t *r, input_t *err)
{
    const char *status = NULL;
    int64_t synced = 0, failed = 0;
    if (!json_is_object(item))
        return import_fail(err, "results", i, NULL, "must be an object");
    if (import_string(err, item, "results", i, "job_status", 32, 1, &status) < 0)
        return -1;
    if (braze_state(status, &r->state, &r->result) != 0)
        return import_fail(err, "results", i, "job_status",
                           "must be one of running, success, partial, error, config_error");
    if (import_time(err, item, "results", i, "sync_start_time", 1, &r->created_at) < 0 ||
        import_time(err, item, "results", i, "sync_finish_time", 0, &r->completed_at) < 0)
        return -1;
    if (r->state != RUN_FINISHED && r->completed_at != 0)
        return import_fail(err, "results", i, "sync_finish_time", "must be null while job_status is running");
    if (r->completed_at != 0 && r->completed_at < r->created_at)
        return import_fail(err, "results", i, "sync_finish_time", "must not be before sync_start_time");
    /* at most half the range each, so that their sum (records_processed) cannot overflow */
    if (import_time(err, item, "results", i, "last_timestamp_synced", 0, &r->watermark) < 0 ||
        import_int(err, item, "results", i, "rows_synced", 0, INT64_MAX / 2, 0, &synced) < 0 ||
        import_int(err, item, "results", i, "rows_failed_with_errors", 0, INT64_MAX / 2, 0, &failed) < 0)
        return -1;
    r->started_at = r->created_at;
    r->counters[CTR_RECORDS_UPDATED] = synced;
    r->counters[CTR_RECORDS_FAILED] = failed;
    r->counters[CTR_RECORDS_PROCESSED] = synced + failed;
    /* Braze syncs have no id: the start time, normalised, names one within its integration */
    char iso[TIME_ISO_LEN], ext[sizeof("braze:") + TIME_ISO_LEN];
    time_format_iso(r->created_at, iso);
    snprintf(ext, sizeof(ext), "braze:%s", iso);
    r->external_id = arena_strdup(a, ext);
    return 0;
}

int braze_import_parse(json_t *doc, arena_t *a, store_import_t **out, int *n, input_t *err)
{
    json_t *list = import_array(err, doc, "results", IMPORT_MAX_RUNS);
    if (list == NULL)
        return -1;
    int count = (int)json_array_size(list), parsed = 0;
    store_import_t *runs = arena_alloc(a, sizeof(*runs) * (size_t)(count ? count : 1));
    while (parsed < count &&
           braze_import_one(json_array_get(list, (size_t)parsed), parsed, a, &runs[parsed].run, err) == 0)
        parsed++;
    /* a clash of start times before the first bad item is the first error of the document */
    int dup = braze_conflict(list, runs, parsed, a);
    if (dup >= 0)
        return import_fail(err, "results", dup, "sync_start_time",
                           "another sync of this document started at the same time; Braze syncs are told apart by it");
    if (parsed < count)
        return -1;
    *out = runs;
    *n = count;
    return 0;
}
