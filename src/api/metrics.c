/* GET /metrics: Prometheus text exposition. The process's own series (HTTP requests and latency by
 * route, the store's writer) for every scraper; with a key (admin or metrics:read), also the runs of
 * that key's workspace, from the statistics the database keeps as runs finish (run_stats) and the
 * active-runs index: a scrape reads a few rows per connection, never the run history. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/render.h"
#include "exec/scheduler.h"
#include "util/metrics.h"
#include "util/timeutil.h"

/* Connections given series of their own, at most (label cardinality); the rest are counted in
 * syncrun_metrics_connections_omitted. */
enum { METRICS_CONNECTIONS_MAX = 500 };
#define METRICS_BODY_MAX (64 * 1024 * 1024)

#define LE_VALUE(v) v,
static const int64_t duration_le[] = {STORE_RUN_DURATION_LE(LE_VALUE)};
static const int64_t records_le[] = {STORE_RUN_RECORDS_LE(LE_VALUE)};
#define NDUR ((int)(sizeof(duration_le) / sizeof(duration_le[0])))
#define NREC ((int)(sizeof(records_le) / sizeof(records_le[0])))

/* Per connection, what its run_stat rows add up to. */
typedef struct conn_sums {
    int64_t by_result[RUN_RESULT_COUNT];
    int64_t dur[NDUR + 1], rec[NREC + 1]; /* per bucket; last = +Inf */
    int64_t dur_ms_sum, rec_sum, n;
    int64_t last_success;
    int64_t queued, working;
} conn_sums_t;

static int bucket_of(const int64_t *le, int nle, int64_t v)
{
    for (int i = 0; i < nle; i++)
        if (le[i] == v)
            return i;
    return nle; /* -1: +Inf */
}

static void conn_labels(buf_t *lab, const connection_t *cn)
{
    char id[24];
    snprintf(id, sizeof(id), "%" PRId64, cn->id);
    buf_reset(lab);
    metrics_label(lab, "connection_id", id);
    metrics_label(lab, "connection", cn->name);
}

/* The series of the workspace's runs. -1 (answered) on a store error. */
static int write_workspace(http_ctx_t *c, buf_t *b)
{
    const int64_t ws = c->key.workspace_id;
    connection_t *conns = NULL;
    int n = 0, nstats = 0, nactive = 0;
    int64_t total = 0;
    run_stat_t *stats = NULL;
    run_active_count_t *active = NULL;
    store_err_t e = store_connection_list(c->reader, ws, 0, METRICS_CONNECTIONS_MAX + 1, &c->arena, &conns, &n);
    if (e == STORE_OK && n > METRICS_CONNECTIONS_MAX)
        e = store_connection_count(c->reader, ws, &total);
    if (n > METRICS_CONNECTIONS_MAX)
        n = METRICS_CONNECTIONS_MAX;
    if (e == STORE_OK && n > 0)
        e = store_run_stats(c->reader, ws, conns[0].id, conns[n - 1].id, &c->arena, &stats, &nstats);
    if (e == STORE_OK)
        e = store_active_counts(c->reader, ws, &c->arena, &active, &nactive);
    int64_t late = 0;
    if (e == STORE_OK)
        e = store_connections_late_count(c->reader, ws, &late);
    if (e != STORE_OK) {
        api_store_error(c, e, NULL);
        return -1;
    }
    conn_sums_t *sums = arena_alloc(&c->arena, sizeof(*sums) * (size_t)(n > 0 ? n : 1));
    memset(sums, 0, sizeof(*sums) * (size_t)(n > 0 ? n : 1));
    /* conns and stats are both in connection id order */
    for (int i = 0, k = 0; i < nstats; i++) {
        while (k < n && conns[k].id < stats[i].connection_id)
            k++;
        if (k == n)
            break;
        if (conns[k].id != stats[i].connection_id)
            continue;
        conn_sums_t *s = &sums[k];
        const run_stat_t *st = &stats[i];
        if ((unsigned)st->result < RUN_RESULT_COUNT)
            s->by_result[st->result] += st->n;
        s->dur[bucket_of(duration_le, NDUR, st->duration_le)] += st->n;
        s->rec[bucket_of(records_le, NREC, st->records_le)] += st->n;
        s->dur_ms_sum += st->duration_ms_sum;
        s->rec_sum += st->records_sum;
        s->n += st->n;
        if (st->result == RESULT_SUCCESS && st->last_completed_at > s->last_success)
            s->last_success = st->last_completed_at;
    }
    for (int i = 0; i < nactive; i++)
        for (int k = 0; k < n; k++)
            if (conns[k].id == active[i].connection_id) {
                sums[k].queued = active[i].queued;
                sums[k].working = active[i].working;
                break;
            }

    buf_t lab = BUF_INIT(4096), l2 = BUF_INIT(4096);
    const double now = (double)time_now_ms() / 1000;
    metrics_head(b, "syncrun_runs_finished_total", "counter",
                 "Runs finished, by connection and result (kept when runs are pruned).");
    for (int k = 0; k < n; k++)
        for (int r = RESULT_SUCCESS; r < RUN_RESULT_COUNT; r++) {
            conn_labels(&lab, &conns[k]);
            metrics_label(&lab, "result", run_result_name((run_result_t)r));
            metrics_sample(b, "syncrun_runs_finished_total", buf_str(&lab), (double)sums[k].by_result[r]);
        }
    metrics_head(b, "syncrun_runs", "gauge", "Runs queued or working (working includes retrying), by connection.");
    for (int k = 0; k < n; k++) {
        conn_labels(&lab, &conns[k]);
        buf_reset(&l2);
        buf_adds(&l2, buf_str(&lab));
        metrics_label(&l2, "state", "queued");
        metrics_sample(b, "syncrun_runs", buf_str(&l2), (double)sums[k].queued);
        metrics_label(&lab, "state", "working");
        metrics_sample(b, "syncrun_runs", buf_str(&lab), (double)sums[k].working);
    }
    metrics_head(b, "syncrun_run_duration_seconds", "histogram",
                 "Duration of finished runs (completion less start), by connection.");
    for (int k = 0; k < n; k++) {
        conn_labels(&lab, &conns[k]);
        int64_t cum = 0;
        for (int i = 0; i <= NDUR; i++) {
            cum += sums[k].dur[i];
            buf_reset(&l2);
            buf_adds(&l2, buf_str(&lab));
            char le[24];
            snprintf(le, sizeof(le), "%" PRId64, i < NDUR ? duration_le[i] : 0);
            metrics_label(&l2, "le", i < NDUR ? le : "+Inf");
            metrics_sample(b, "syncrun_run_duration_seconds_bucket", buf_str(&l2), (double)cum);
        }
        metrics_sample(b, "syncrun_run_duration_seconds_sum", buf_str(&lab), (double)sums[k].dur_ms_sum / 1000);
        metrics_sample(b, "syncrun_run_duration_seconds_count", buf_str(&lab), (double)sums[k].n);
    }
    metrics_head(b, "syncrun_run_records_processed", "histogram", "records_processed of finished runs, by connection.");
    for (int k = 0; k < n; k++) {
        conn_labels(&lab, &conns[k]);
        int64_t cum = 0;
        for (int i = 0; i <= NREC; i++) {
            cum += sums[k].rec[i];
            buf_reset(&l2);
            buf_adds(&l2, buf_str(&lab));
            char le[24];
            snprintf(le, sizeof(le), "%" PRId64, i < NREC ? records_le[i] : 0);
            metrics_label(&l2, "le", i < NREC ? le : "+Inf");
            metrics_sample(b, "syncrun_run_records_processed_bucket", buf_str(&l2), (double)cum);
        }
        metrics_sample(b, "syncrun_run_records_processed_sum", buf_str(&lab), (double)sums[k].rec_sum);
        metrics_sample(b, "syncrun_run_records_processed_count", buf_str(&lab), (double)sums[k].n);
    }
    metrics_head(b, "syncrun_connection_last_success_timestamp_seconds", "gauge",
                 "When the connection's newest successful run completed (connections with one).");
    for (int k = 0; k < n; k++)
        if (sums[k].last_success > 0) {
            conn_labels(&lab, &conns[k]);
            metrics_sample(b, "syncrun_connection_last_success_timestamp_seconds", buf_str(&lab),
                           (double)sums[k].last_success / 1000);
        }
    metrics_head(b, "syncrun_connection_seconds_since_last_success", "gauge",
                 "Seconds since the connection's newest successful run completed (connections with one).");
    for (int k = 0; k < n; k++)
        if (sums[k].last_success > 0) {
            conn_labels(&lab, &conns[k]);
            metrics_sample(b, "syncrun_connection_seconds_since_last_success", buf_str(&lab),
                           now - (double)sums[k].last_success / 1000);
        }
    metrics_head(b, "syncrun_connections_late", "gauge",
                 "Connections of the workspace that are late: no run started within the expected time and grace.");
    metrics_sample(b, "syncrun_connections_late", "", (double)late);
    metrics_head(b, "syncrun_metrics_connections_omitted", "gauge",
                 "Connections of the workspace past the first 500 (by id), which have no series of their own.");
    metrics_sample(b, "syncrun_metrics_connections_omitted", "",
                   (double)(total > METRICS_CONNECTIONS_MAX ? total - METRICS_CONNECTIONS_MAX : 0));
    buf_release(&lab);
    buf_release(&l2);
    int64_t waiting[DELIVERY_STATUS_COUNT];
    if ((e = store_delivery_counts(c->reader, ws, waiting)) != STORE_OK) {
        api_store_error(c, e, NULL);
        return -1;
    }
    metrics_head(b, "syncrun_webhook_deliveries_waiting", "gauge",
                 "Webhook deliveries of the workspace still to send: pending (not tried yet) or failed (a retry is "
                 "due).");
    metrics_sample(b, "syncrun_webhook_deliveries_waiting", "status=\"pending\"", (double)waiting[DELIVERY_PENDING]);
    metrics_sample(b, "syncrun_webhook_deliveries_waiting", "status=\"failed\"", (double)waiting[DELIVERY_FAILED]);
    return 0;
}

int api_metrics(http_ctx_t *c)
{
    buf_t b = BUF_INIT(METRICS_BODY_MAX);
    http_metrics_write(&b, api_routes, api_route_count);
    store_metrics_write(c->store, &b);
    scheduler_metrics_write(&b);
    if (c->key.workspace_id != 0 && write_workspace(c, &b) != 0) {
        buf_release(&b);
        return 0;
    }
    if (buf_failed(&b)) {
        buf_release(&b);
        return http_error(c, 500, "response_too_large", "the metrics grew past their size limit", NULL);
    }
    char *body = arena_alloc(&c->arena, b.len + 1);
    memcpy(body, b.data, b.len);
    size_t len = b.len;
    buf_release(&b);
    return http_send_raw(c, 200, "text/plain; version=0.0.4; charset=utf-8", body, len);
}
