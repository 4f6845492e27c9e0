/* Names, parsing and the run state machine. */
#include "model/run.h"

#include <string.h>

static const char *const state_names[RUN_STATE_COUNT] = {"queued", "working", "retrying", "finished"};
static const char *const result_names[RUN_RESULT_COUNT] = {NULL,           "success",   "partial",  "error",
                                                           "config_error", "timed_out", "canceled", "skipped"};
static const char *const overlap_names[OVERLAP_COUNT] = {"skip", "queue", "attach", "replace"};
static const char *const catchup_names[CATCHUP_COUNT] = {"latest", "none"};
static const char *const scope_names[SCOPE_COUNT] = {"runs:read", "runs:write", "admin", "metrics:read"};
static const char *const counter_names[CTR_COUNT] = {
    "source_record_count", "source_record_updates", "source_record_deletes", "source_record_invalids",
    "records_processed",   "records_updated",       "records_failed",        "records_invalid"};

#define TASK_ERROR_TEXT                                                                                                \
    "phase", "system", "details", "message", "category", "errorCode", "description", "kbArticleLink", "descriptionKey"
const char *const task_error_text_fields[] = {TASK_ERROR_TEXT, NULL};
const char *const task_error_fields[] = {TASK_ERROR_TEXT, "canUserFix", "bridgeExitCode", NULL};
const char *const report_suggested_actions[] = {"Error", "Warning", "Info", NULL};

static int parse_name(const char *const *names, int n, const char *s)
{
    if (s == NULL)
        return -1;
    for (int i = 0; i < n; i++)
        if (names[i] != NULL && strcmp(names[i], s) == 0)
            return i;
    return -1;
}

const char *run_state_name(run_state_t s)
{
    return (unsigned)s < RUN_STATE_COUNT ? state_names[s] : "unknown";
}

const char *run_result_name(run_result_t r)
{
    return (unsigned)r < RUN_RESULT_COUNT ? result_names[r] : NULL;
}

const char *overlap_name(overlap_policy_t o)
{
    return (unsigned)o < OVERLAP_COUNT ? overlap_names[o] : "unknown";
}

const char *scope_name(scope_t s)
{
    return (unsigned)s < SCOPE_COUNT ? scope_names[s] : "unknown";
}

const char *counter_name(counter_t c)
{
    return (unsigned)c < CTR_COUNT ? counter_names[c] : "unknown";
}

int run_state_parse(const char *s)
{
    return parse_name(state_names, RUN_STATE_COUNT, s);
}

int run_result_parse(const char *s)
{
    return parse_name(result_names, RUN_RESULT_COUNT, s);
}

int overlap_parse(const char *s)
{
    return parse_name(overlap_names, OVERLAP_COUNT, s);
}

const char *catchup_name(catchup_policy_t c)
{
    return (unsigned)c < CATCHUP_COUNT ? catchup_names[c] : "unknown";
}

int catchup_parse(const char *s)
{
    return parse_name(catchup_names, CATCHUP_COUNT, s);
}

int scope_parse(const char *s)
{
    return parse_name(scope_names, SCOPE_COUNT, s);
}

int counter_parse(const char *s)
{
    return parse_name(counter_names, CTR_COUNT, s);
}

int report_action_parse(const char *s)
{
    return parse_name(report_suggested_actions, 3, s);
}

int scope_allows(scope_t have, scope_t need)
{
    if (have == SCOPE_METRICS_READ || need == SCOPE_METRICS_READ)
        return have == need || have == SCOPE_ADMIN;
    return have >= need;
}

int run_transition_allowed(run_state_t from, run_state_t to)
{
    if (from == RUN_FINISHED)
        return -1;
    switch (to) {
    case RUN_QUEUED:
        return from == RUN_QUEUED ? 0 : -1; /* a run that started never goes back to the queue */
    case RUN_WORKING:
        return 0;
    case RUN_RETRYING:
        return from == RUN_QUEUED ? -1 : 0; /* only a run that was working can retry */
    default:
        return -1; /* finishing has its own rule */
    }
}

int run_finish_allowed(const run_t *r, run_result_t result)
{
    if (r->state == RUN_FINISHED || result == RESULT_NONE || (unsigned)result >= RUN_RESULT_COUNT)
        return -1;
    if (result == RESULT_SKIPPED && r->state != RUN_QUEUED)
        return -1;
    return 0;
}

const char *census_status(run_state_t s, run_result_t r)
{
    switch (s) {
    case RUN_QUEUED:
        return "queued";
    case RUN_WORKING:
    case RUN_RETRYING:
        return "working";
    default:
        break;
    }
    switch (r) {
    case RESULT_SUCCESS:
    case RESULT_PARTIAL:
        return "completed";
    case RESULT_SKIPPED:
        return "skipped";
    default:
        return "failed";
    }
}
