/* Native API: a connection's run statistics over a window (GET /v1/connections/{id}/stats) and the
 * workspace overview the dashboard draws (GET /v1/overview). Both are answered from the hourly
 * rollups the database keeps as runs finish (store_run_rollups) and from indexes, with a fixed
 * number of statements whatever the number of connections or runs. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/render.h"
#include "model/quantile.h"
#include "util/jsonw.h"
#include "util/timeutil.h"

enum {
    OVERVIEW_LIMIT_MAX = 1000, /* connections per overview page (and the default) */
    OVERVIEW_RECENT = 30,      /* runs in each connection's strip */
};
#define HOUR_MS INT64_C(3600000)
#define DAY_MS  (24 * HOUR_MS)
/* An overview page: 1,000 connections, each with a few names, its newest run and 30 strip entries
 * (in practice under 3 KiB a connection). */
#define OVERVIEW_BODY_MAX ((size_t)256 * 1024 * 1024)

#define LE_VALUE(v) v,
static const int64_t duration_le[] = {STORE_ROLLUP_DURATION_LE_MS(LE_VALUE)};
#define NDUR ((int)(sizeof(duration_le) / sizeof(duration_le[0])))

/* What the rollups of one connection add up to over a window. */
typedef struct window_sums {
    int64_t by_result[RUN_RESULT_COUNT];
    int64_t dur[NDUR + 1]; /* runs per duration bucket (skipped runs left out); last = +Inf */
    int64_t dur_inf_ms;    /* the durations summed in the +Inf bucket */
    int64_t records, runs;
} window_sums_t;

static int bucket_of(int64_t le)
{
    for (int i = 0; i < NDUR; i++)
        if (duration_le[i] == le)
            return i;
    return NDUR; /* -1: +Inf */
}

static void sums_add(window_sums_t *s, const run_rollup_t *u)
{
    if ((unsigned)u->result < RUN_RESULT_COUNT)
        s->by_result[u->result] += u->n;
    s->runs += u->n;
    s->records += u->records_sum;
    if (u->result == RESULT_SKIPPED) /* never ran: no duration */
        return;
    int b = bucket_of(u->duration_le);
    s->dur[b] += u->n;
    if (b == NDUR)
        s->dur_inf_ms += u->duration_ms_sum;
}

static void write_quantile(buf_t *b, const window_sums_t *s, double q)
{
    int64_t v = quantile_estimate(duration_le, NDUR, s->dur, s->dur_inf_ms, q);
    if (v < 0)
        JW_LIT(b, "null");
    else
        jw_int(b, v);
}

/* The stats object of one connection over [since, until). */
static void write_stats(buf_t *b, int64_t conn_id, int64_t since, int64_t until, const window_sums_t *s)
{
    JW_LIT(b, "{\"connection_id\":");
    jw_int(b, conn_id);
    JW_LIT(b, ",\"since\":");
    jw_int(b, since);
    JW_LIT(b, ",\"until\":");
    jw_int(b, until);
    JW_LIT(b, ",\"runs\":");
    jw_int(b, s->runs);
    JW_LIT(b, ",\"by_result\":{");
    for (int r = RESULT_SUCCESS; r < RUN_RESULT_COUNT; r++) {
        if (r > RESULT_SUCCESS)
            JW_LIT(b, ",");
        jw_str(b, run_result_name((run_result_t)r));
        JW_LIT(b, ":");
        jw_int(b, s->by_result[r]);
    }
    /* the share of the runs that ran (skipped ones did not) that succeeded */
    int64_t ran = s->runs - s->by_result[RESULT_SKIPPED];
    JW_LIT(b, "},\"success_rate\":");
    if (ran > 0)
        buf_addf(b, "%.10g", round((double)s->by_result[RESULT_SUCCESS] / (double)ran * 10000) / 10000);
    else
        JW_LIT(b, "null");
    JW_LIT(b, ",\"duration_ms\":{\"p50\":");
    write_quantile(b, s, 0.5);
    JW_LIT(b, ",\"p95\":");
    write_quantile(b, s, 0.95);
    JW_LIT(b, "},\"records_processed\":");
    jw_int(b, s->records);
    JW_LIT(b, "}");
}

static int64_t floor_hour(int64_t ms)
{
    return time_floor_div(ms, HOUR_MS) * HOUR_MS;
}

static int64_t ceil_hour(int64_t ms)
{
    return -floor_hour(-ms);
}

int native_connection_stats(http_ctx_t *c)
{
    connection_t cn;
    int64_t since, until;
    if (api_query_time(c, "since", 1, &since) != 0 || api_query_time(c, "until", 1, &until) != 0 ||
        api_load_connection(c, 0, &cn) != 0)
        return 0;
    /* the rollups are hourly: the window widens to whole hours */
    int has_until = until != 0;
    until = ceil_hour(has_until ? until : time_now_ms());
    since = since != 0 ? floor_hour(since) : until - DAY_MS;
    if (since >= until)
        return http_error(c, 400, "invalid_query",
                          has_until ? "until must be later than since" : "since must be earlier than now",
                          has_until ? "until" : "since");
    run_rollup_t *rows;
    int n;
    store_err_t e = store_run_rollups(c->reader, c->key.workspace_id, cn.id, cn.id, since, until, &c->arena, &rows, &n);
    if (e != STORE_OK)
        return api_store_error(c, e, NULL);
    window_sums_t s;
    memset(&s, 0, sizeof(s));
    for (int i = 0; i < n; i++)
        sums_add(&s, &rows[i]);
    buf_t b = BUF_INIT(64 * 1024);
    write_stats(&b, cn.id, since, until, &s);
    return render_send_buf(c, 200, &b);
}

static int parse_window(const char *v, int64_t *ms)
{
    static const struct {
        const char *name;
        int64_t ms;
    } windows[] = {{"24h", DAY_MS}, {"7d", 7 * DAY_MS}, {"30d", 30 * DAY_MS}};
    for (size_t i = 0; i < sizeof(windows) / sizeof(windows[0]); i++)
        if (strcmp(v, windows[i].name) == 0) {
            *ms = windows[i].ms;
            return 0;
        }
    return -1;
}

/* One strip entry, an array (30 a connection, 1,000 connections: no key names): [id, run_count,
 * state, result, created_at, duration_ms, records_processed]. */
static void write_recent(buf_t *b, const run_t *r)
{
    JW_LIT(b, "[");
    jw_int(b, r->id);
    JW_LIT(b, ",");
    jw_int(b, r->run_count);
    JW_LIT(b, ",");
    jw_str(b, run_state_name(r->state));
    JW_LIT(b, ",");
    jw_str(b, run_result_name(r->result));
    JW_LIT(b, ",");
    jw_time(b, r->created_at);
    JW_LIT(b, ",");
    if (r->state == RUN_FINISHED) {
        /* as the rollups count it: completion (or last update) less start (or creation) */
        int64_t end = r->completed_at ? r->completed_at : r->updated_at;
        int64_t d = end - (r->started_at ? r->started_at : r->created_at);
        jw_int(b, d > 0 ? d : 0);
    } else {
        JW_LIT(b, "null");
    }
    JW_LIT(b, ",");
    jw_int(b, r->counters[CTR_RECORDS_PROCESSED]);
    JW_LIT(b, "]");
}

/* The newest run as the overview shows it (GET /v1/runs/{id} has the rest). */
static void write_latest(buf_t *b, const run_t *r)
{
    JW_LIT(b, "{\"id\":");
    jw_int(b, r->id);
    JW_LIT(b, ",\"run_count\":");
    jw_int(b, r->run_count);
    JW_LIT(b, ",\"state\":");
    jw_str(b, run_state_name(r->state));
    JW_LIT(b, ",\"result\":");
    jw_str(b, run_result_name(r->result));
    JW_LIT(b, ",\"created_at\":");
    jw_time(b, r->created_at);
    JW_LIT(b, "}");
}

/* The connection as the overview shows it: the fields of GET /v1/connections/{id} that the page
 * draws, with the same values (next_run_at as runconfig.c, the expectation fields as
 * expectations.c render them). */
static void write_connection(buf_t *b, const connection_t *cn)
{
    JW_LIT(b, "{\"id\":");
    jw_int(b, cn->id);
    JW_LIT(b, ",\"name\":");
    jw_str(b, cn->name);
    JW_LIT(b, ",\"source\":");
    jw_str(b, cn->source);
    JW_LIT(b, ",\"destination\":");
    jw_str(b, cn->destination);
    JW_LIT(b, ",\"next_run_at\":");
    jw_time(b, cn->schedule ? cn->next_fire_at : 0);
    JW_LIT(b, ",\"expected_by\":");
    jw_time(b, cn->late_since ? 0 : cn->expected_by);
    JW_LIT(b, ",\"late\":");
    jw_bool(b, cn->late_since != 0);
    JW_LIT(b, ",\"late_since\":");
    jw_time(b, cn->late_since);
    JW_LIT(b, "}");
}

int native_overview(http_ctx_t *c)
{
    const int64_t ws = c->key.workspace_id;
    int64_t span, after, limit;
    const char *wv = http_query(c, "window");
    if (wv == NULL)
        wv = "24h";
    if (parse_window(wv, &span) != 0)
        return http_error(c, 400, "invalid_query", "window must be one of 24h, 7d, 30d", "window");
    if (api_query_int(c, "after", 0, INT64_MAX, 0, &after) != 0 ||
        api_query_int(c, "limit", 1, OVERVIEW_LIMIT_MAX, OVERVIEW_LIMIT_MAX, &limit) != 0)
        return 0;
    const int64_t until = ceil_hour(time_now_ms()), since = until - span;

    /* three statements: the page of connections, their newest runs, their rollups */
    connection_t *conns;
    int nconn = 0, nrecent = 0, nroll = 0;
    run_t *recent = NULL;
    run_rollup_t *roll = NULL;
    store_err_t e = store_connection_list(c->reader, ws, after, (int)limit + 1, &c->arena, &conns, &nconn);
    const int more = nconn > limit;
    if (more)
        nconn = (int)limit;
    if (e == STORE_OK && nconn > 0)
        e = store_runs_recent(c->reader, ws, conns[0].id, conns[nconn - 1].id, OVERVIEW_RECENT, nconn * OVERVIEW_RECENT,
                              &c->arena, &recent, &nrecent);
    if (e == STORE_OK && nconn > 0)
        e = store_run_rollups(c->reader, ws, conns[0].id, conns[nconn - 1].id, since, until, &c->arena, &roll, &nroll);
    if (e != STORE_OK)
        return api_store_error(c, e, NULL);

    buf_t b = BUF_INIT(OVERVIEW_BODY_MAX);
    JW_LIT(&b, "{\"window\":");
    jw_str(&b, wv);
    JW_LIT(&b, ",\"since\":");
    jw_int(&b, since);
    JW_LIT(&b, ",\"until\":");
    jw_int(&b, until);
    JW_LIT(&b, ",\"connections\":[");
    /* recent and roll are in connection id order, like conns: walk them along */
    int ri = 0, ui = 0;
    for (int k = 0; k < nconn; k++) {
        const connection_t *cn = &conns[k];
        if (k > 0)
            JW_LIT(&b, ",");
        JW_LIT(&b, "{\"connection\":");
        write_connection(&b, cn);
        while (ri < nrecent && recent[ri].connection_id < cn->id)
            ri++;
        int rj = ri;
        while (rj < nrecent && recent[rj].connection_id == cn->id)
            rj++;
        JW_LIT(&b, ",\"latest_run\":");
        if (rj > ri)
            write_latest(&b, &recent[rj - 1]);
        else
            JW_LIT(&b, "null");
        JW_LIT(&b, ",\"recent\":[");
        for (int i = ri; i < rj; i++) {
            if (i > ri)
                JW_LIT(&b, ",");
            write_recent(&b, &recent[i]);
        }
        ri = rj;
        window_sums_t s;
        memset(&s, 0, sizeof(s));
        while (ui < nroll && roll[ui].connection_id < cn->id)
            ui++;
        for (; ui < nroll && roll[ui].connection_id == cn->id; ui++)
            sums_add(&s, &roll[ui]);
        JW_LIT(&b, "],\"stats\":");
        write_stats(&b, cn->id, since, until, &s);
        JW_LIT(&b, "}");
    }
    JW_LIT(&b, "],\"more\":");
    jw_bool(&b, more);
    JW_LIT(&b, "}");
    return render_send_buf(c, 200, &b);
}
