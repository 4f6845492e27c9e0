/* `serve --demo`: fills an empty database with a demo workspace, a few connections and a few
 * hundred realistic runs of the past days, deterministically (fixed seed). */
#include "cli/demo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/timeutil.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
    /* xorshift64*: deterministic and good enough for sample data */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

static int64_t rnd_range(int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static const struct demo_connection {
    const char *name, *source, *destination, *connector_type;
    overlap_policy_t overlap;
    int runs;
    int64_t every_ms;
} connections[] = {
    {"Snowflake users → Braze", "snowflake.analytics.users", "braze", NULL, OVERLAP_SKIP, 120, 3600000},
    {"BigQuery orders → Salesforce", "bigquery.sales.orders", "salesforce", NULL, OVERLAP_QUEUE, 96, 1800000},
    {"Postgres accounts → HubSpot", "postgres.public.accounts", "hubspot", NULL, OVERLAP_SKIP, 60, 7200000},
    {"Daily CDP profile import", "s3://cdp-exports/profiles/", "blueconic", NULL, OVERLAP_ATTACH, 30, 86400000},
    {"Plant model synchronization", "projectwise://plant/models", "itwin", "MSTN", OVERLAP_SKIP, 40, 10800000},
};

static const struct demo_error {
    const char *code, *message, *detail;
    run_result_t result;
} errors[] = {
    {"JSON_ARRAY_ERROR", "The array field being used does not appear to be valid JSON...",
     "Please make sure the field \"custom_field:Users\" with value \"jim\" is formatted as a JSON Array...",
     RESULT_ERROR},
    {"DESTINATION_RATE_LIMITED", "The destination rejected requests: rate limit exceeded",
     "HTTP 429 from the destination API after 5 retries; lower the batch size or sync less often.", RESULT_ERROR},
    {"WAREHOUSE_QUERY_TIMEOUT", "The source query did not finish within 15 minutes",
     "Query 01b2c3d4 on warehouse ANALYTICS_WH was canceled by statement_timeout.", RESULT_TIMED_OUT},
    {"MISSING_REQUIRED_SETTING", "Missing required setting: importMatching",
     "Set the matching rule of the connection before running it.", RESULT_CONFIG_ERROR},
};

static const char *const steps[] = {"Checking source and destination configuration", "Unloading data from warehouse",
                                    "Loading data into destination service", "Committing data to destination service"};

/* Fills w with one past run of connection ci number i (0 = oldest) of n. */
static void demo_run(store_write_t *w, int64_t conn_id, const struct demo_connection *dc, int i, int n, int64_t now)
{
    run_t *r = &w->run;
    memset(w, 0, sizeof(*w));
    w->op = OP_RUN_RECORD;
    w->workspace_id = 0; /* set by the caller */
    w->id = conn_id;
    int64_t scheduled = now - (int64_t)(n - i) * dc->every_ms;
    r->scheduled_at = scheduled;
    r->created_at = scheduled + rnd_range(5, 900);
    r->started_at = r->created_at + rnd_range(200, 4000);
    int manual = rnd() % 10 == 0;
    r->trigger_tag = manual ? "Manual" : "Scheduled";
    r->trigger_detail =
        manual ? "Manually triggered by data-team@example.com" : "Triggered by the connection's schedule";
    r->full_sync = rnd() % 12 == 0;
    int64_t source = rnd_range(5000, 250000);
    int64_t changed = source / rnd_range(5, 40);
    r->counters[CTR_SOURCE_RECORD_COUNT] = source;
    r->counters[CTR_SOURCE_RECORD_UPDATES] = changed;
    r->counters[CTR_SOURCE_RECORD_DELETES] = rnd_range(0, changed / 50 + 1);
    r->watermark = r->created_at - rnd_range(60000, 600000);
    int roll = (int)(rnd() % 100);
    if (i == n - 1 && dc->overlap != OVERLAP_ATTACH) {
        /* the newest run of most connections is still in progress */
        r->state = RUN_WORKING;
        r->current_step = steps[rnd() % 4];
        r->counters[CTR_RECORDS_PROCESSED] = changed / 3;
        r->counters[CTR_RECORDS_UPDATED] = changed / 3;
        return;
    }
    r->state = RUN_FINISHED;
    r->completed_at = r->started_at + rnd_range(20000, 900000);
    int64_t invalid = roll < 30 ? rnd_range(0, changed / 100 + 1) : 0;
    r->counters[CTR_SOURCE_RECORD_INVALIDS] = invalid;
    r->counters[CTR_RECORDS_INVALID] = invalid;
    r->counters[CTR_RECORDS_PROCESSED] = changed - invalid;
    if (roll < 72) {
        r->result = RESULT_SUCCESS;
        r->counters[CTR_RECORDS_UPDATED] = changed - invalid;
    } else if (roll < 84) {
        int64_t failed = rnd_range(1, changed / 20 + 1);
        r->result = RESULT_PARTIAL;
        r->counters[CTR_RECORDS_FAILED] = failed;
        r->counters[CTR_RECORDS_UPDATED] = changed - invalid - failed;
        r->message = "Some records were rejected by the destination";
    } else if (roll < 94) {
        const struct demo_error *e = &errors[rnd() % 4];
        r->result = e->result;
        r->error_code = e->code;
        r->error_message = e->message;
        r->error_detail = e->detail;
        r->counters[CTR_RECORDS_PROCESSED] = 0;
    } else if (roll < 97) {
        r->result = RESULT_CANCELED;
        r->message = "Canceled by data-team@example.com";
        r->completed_at = r->started_at + rnd_range(1000, 60000);
    } else {
        r->result = RESULT_SKIPPED;
        r->started_at = 0;
        r->completed_at = r->created_at;
        r->watermark = 0;
        memset(r->counters, 0, sizeof(r->counters));
        r->message = "An earlier run of this sync was still in progress";
    }
}

int demo_seed(store_t *s, char token[IDS_TOKEN_LEN], int *nconnections, int *nruns)
{
    store_write_t ws = {0};
    ws.op = OP_WORKSPACE_CREATE;
    ws.name = "demo";
    if (store_exec(s, &ws) != STORE_OK) {
        store_write_release(&ws);
        return -1;
    }
    memcpy(token, ws.token, IDS_TOKEN_LEN);
    int64_t wsid = ws.workspace_id;
    store_write_release(&ws);

    size_t nconn = sizeof(connections) / sizeof(connections[0]);
    int total = 0;
    for (size_t c = 0; c < nconn; c++)
        total += connections[c].runs;
    store_write_t *runs = calloc((size_t)total, sizeof(*runs));
    if (runs == NULL)
        return -1;
    int64_t now = time_now_ms();
    int64_t conn_ids[sizeof(connections) / sizeof(connections[0])];
    for (size_t c = 0; c < nconn; c++) {
        const struct demo_connection *dc = &connections[c];
        store_write_t cw = {0};
        cw.op = OP_CONNECTION_CREATE;
        cw.workspace_id = wsid;
        cw.conn.name = dc->name;
        cw.conn.source = dc->source;
        cw.conn.destination = dc->destination;
        cw.conn.connector_type = dc->connector_type;
        cw.conn.overlap = dc->overlap;
        store_err_t e = store_exec(s, &cw);
        conn_ids[c] = cw.conn.id;
        store_write_release(&cw);
        if (e != STORE_OK) {
            free(runs);
            return -1;
        }
    }
    int k = 0, rc = 0;
    for (size_t c = 0; c < nconn; c++) {
        const struct demo_connection *dc = &connections[c];
        for (int i = 0; i < dc->runs; i++, k++) {
            demo_run(&runs[k], conn_ids[c], dc, i, dc->runs, now);
            runs[k].workspace_id = wsid;
            /* One writer applies writes in order: submitting them all lets group commit batch them;
             * waiting for the last one waits for all. */
            if (k < total - 1)
                store_submit(s, &runs[k]);
        }
    }
    if (store_exec(s, &runs[total - 1]) != STORE_OK)
        rc = -1;
    for (int i = 0; i < total; i++) {
        if (runs[i].err != STORE_OK)
            rc = -1;
        store_write_release(&runs[i]);
    }
    free(runs);
    *nconnections = (int)nconn;
    *nruns = total;
    return rc;
}
