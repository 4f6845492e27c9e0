/* Fuzzes the run-history import parsers (POST /v1/connections/{id}/runs:import?format=...) and
 * the native body readers of api/input.h. The first byte picks census, braze, blueconic, itwin,
 * or the body readers; the rest is the request body, loaded as the server loads it. Properties on
 * success: every run has an external_id, states and results are in range and consistent (a
 * result exactly when finished), for runs, jobs and tasks; on failure, a field and a message. */
#include <jansson.h>

#include "api/import.h"
#include "api/input.h"
#include "fuzz.h"
#include "store/store.h"

static void check_unit(run_state_t state, run_result_t result)
{
    FUZZ_CHECK(state >= 0 && state < RUN_STATE_COUNT);
    FUZZ_CHECK(result >= 0 && result < RUN_RESULT_COUNT);
    FUZZ_CHECK((state == RUN_FINISHED) == (result != RESULT_NONE));
}

static void check_import(const import_format_t *f, json_t *doc)
{
    arena_t a = ARENA_INIT;
    store_import_t *runs = NULL;
    int n = -1;
    input_t err;
    input_init(&err, doc);
    if (f->parse(doc, &a, &runs, &n, &err) == 0) {
        FUZZ_CHECK(n >= 0 && n <= IMPORT_MAX_RUNS);
        FUZZ_CHECK(n == 0 || runs != NULL);
        for (int i = 0; i < n; i++) {
            const run_t *r = &runs[i].run;
            FUZZ_CHECK(r->external_id != NULL && r->external_id[0] != '\0');
            check_unit(r->state, r->result);
            for (int c = 0; c < CTR_COUNT; c++)
                FUZZ_CHECK(r->counters[c] >= 0);
            FUZZ_CHECK(runs[i].njobs >= 0 && (runs[i].njobs == 0 || runs[i].jobs != NULL));
            for (int j = 0; j < runs[i].njobs; j++) {
                const job_t *job = &runs[i].jobs[j];
                check_unit(job->state, job->result);
                FUZZ_CHECK(job->ntasks >= 0 && (job->ntasks == 0 || job->tasks != NULL));
                for (int k = 0; k < job->ntasks; k++)
                    check_unit(job->tasks[k].state, job->tasks[k].result);
            }
        }
    } else {
        FUZZ_CHECK(err.field != NULL && err.message[0] != '\0');
    }
    arena_release(&a);
}

/* A PATCH /v1/runs/{id}-shaped body through the readers the native API uses. */
static void check_input(json_t *doc)
{
    static const char *const known[] = {"state",     "current_step", "message", "watermark", "counters",
                                        "full_sync", "attempt",      "detail",  NULL};
    input_t in;
    input_init(&in, doc);
    if (!json_is_object(doc))
        return;
    const char *s = NULL;
    int64_t v = 0;
    int b = 0, e = 0;
    unsigned mask = 0;
    int64_t counters[CTR_COUNT] = {0};
    json_t *obj = NULL;
    int rc[8];
    rc[0] = input_known(&in, known);
    input_init(&in, doc);
    rc[1] = input_string(&in, "current_step", IN_NAME_MAX, 1, 1, &s);
    FUZZ_CHECK(rc[1] != 1 || s == NULL || s[0] != '\0');
    input_init(&in, doc);
    rc[2] = input_string(&in, "message", IN_TEXT_MAX, 0, 0, &s);
    input_init(&in, doc);
    rc[3] = input_int(&in, "attempt", 0, 1000, &v);
    FUZZ_CHECK(rc[3] != 1 || (v >= 0 && v <= 1000));
    input_init(&in, doc);
    rc[4] = input_bool(&in, "full_sync", &b);
    input_init(&in, doc);
    rc[5] = input_time(&in, "watermark", 1, &v);
    input_init(&in, doc);
    rc[6] = input_enum(&in, "state", run_state_parse, "queued, working, retrying, finished", &e);
    FUZZ_CHECK(rc[6] != 1 || (e >= 0 && e < RUN_STATE_COUNT));
    input_init(&in, doc);
    rc[7] = input_counters(&in, "counters", counters, &mask);
    for (int c = 0; c < CTR_COUNT; c++)
        FUZZ_CHECK(!(mask & (RUN_F_COUNTER0 << c)) || counters[c] >= 0);
    input_init(&in, doc);
    if (input_object(&in, "detail", &obj) == 1) {
        input_t child;
        input_init(&child, obj);
        if (input_string(&child, "code", IN_NAME_MAX, 1, 0, &s) < 0) {
            FUZZ_CHECK(input_adopt(&in, &child, "detail") == -1);
            FUZZ_CHECK(in.field != NULL);
        }
    }
    for (int i = 0; i < 8; i++)
        FUZZ_CHECK(rc[i] >= -1 && rc[i] <= 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"census", "braze", "blueconic", "itwin"};
    if (size == 0)
        return 0;
    unsigned pick = data[0] % 5;
    json_error_t je;
    json_t *doc = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, &je);
    if (doc == NULL)
        return 0;
    if (pick < 4) {
        const import_format_t *f = import_format_find(names[pick]);
        FUZZ_CHECK(f != NULL);
        check_import(f, doc);
    } else {
        check_input(doc);
    }
    json_decref(doc);
    return 0;
}
