/* The canonical model: connections, runs, jobs and tasks, the run state machine,
 * and the names every dialect maps from. Pure: no I/O. */
#ifndef SYNCRUN_MODEL_RUN_H
#define SYNCRUN_MODEL_RUN_H

#include <stdint.h>

typedef enum run_state { RUN_QUEUED, RUN_WORKING, RUN_RETRYING, RUN_FINISHED, RUN_STATE_COUNT } run_state_t;

/* RESULT_NONE exactly while the run is not finished. */
typedef enum run_result {
    RESULT_NONE,
    RESULT_SUCCESS,
    RESULT_PARTIAL,
    RESULT_ERROR,
    RESULT_CONFIG_ERROR,
    RESULT_TIMED_OUT,
    RESULT_CANCELED,
    RESULT_SKIPPED,
    RUN_RESULT_COUNT
} run_result_t;

/* replace: cancel the run in progress and start the new one (as Kubernetes CronJobs offer). */
typedef enum overlap_policy {
    OVERLAP_SKIP,
    OVERLAP_QUEUE,
    OVERLAP_ATTACH,
    OVERLAP_REPLACE,
    OVERLAP_COUNT
} overlap_policy_t;

/* What the scheduler does with scheduled times missed while syncrun was down. */
typedef enum catchup_policy { CATCHUP_LATEST, CATCHUP_NONE, CATCHUP_COUNT } catchup_policy_t;

/* runs:read < runs:write < admin nest; metrics:read stands apart: it reads /metrics only (so a
 * Prometheus server's token can read no run), and admin may read /metrics too. */
typedef enum scope { SCOPE_RUNS_READ, SCOPE_RUNS_WRITE, SCOPE_ADMIN, SCOPE_METRICS_READ, SCOPE_COUNT } scope_t;

/* Limits of text fields, in characters (UTF-8 code points): names, codes and steps; messages; a
 * run's error detail. Every writer of these fields (API, dialect imports, progress lines, the
 * runner) holds to them, and the store sizes the documents it builds from them. */
enum { RUN_NAME_MAX = 200, RUN_TEXT_MAX = 4096, RUN_DETAIL_MAX = 65536 };

/* The most bytes a JSON string of n characters can take: each character escaped as \u00XX, and
 * the quotes. (4-byte UTF-8 characters take fewer: 4.) */
#define RUN_JSON_STR_MAX(n) (6 * (size_t)(n) + 2)

/* The Census record counters, stored once and named per dialect. */
typedef enum counter {
    CTR_SOURCE_RECORD_COUNT,
    CTR_SOURCE_RECORD_UPDATES,
    CTR_SOURCE_RECORD_DELETES,
    CTR_SOURCE_RECORD_INVALIDS,
    CTR_RECORDS_PROCESSED,
    CTR_RECORDS_UPDATED,
    CTR_RECORDS_FAILED,
    CTR_RECORDS_INVALID,
    CTR_COUNT
} counter_t;

typedef struct connection {
    int64_t id, workspace_id;
    char uuid[37];
    const char *name, *source, *destination, *connector_type;
    overlap_policy_t overlap;
    int64_t run_count; /* runs recorded so far; the newest run's run_count */
    int64_t created_at, updated_at;
    /* Optional: what syncrun runs itself. NULL command = runs are reported by someone else. */
    const char *command_json; /* JSON array of strings: the argv (no shell) */
    const char *workdir;
    const char *env_json;    /* JSON object of strings: extra environment */
    const char *schedule;    /* cron expression (model/cron.h), NULL = not scheduled */
    const char *timezone;    /* IANA zone of the schedule, NULL = UTC */
    int64_t timeout_s;       /* 0 = none */
    int64_t retry_max;       /* attempts after the first one */
    int64_t retry_backoff_s; /* wait before attempt n+1: backoff * 2^(n-1) */
    catchup_policy_t catchup;
    int64_t starting_deadline_s; /* a missed time older than this is not caught up; 0 = no limit */
    int64_t log_max_bytes;       /* the run log keeps the last this many bytes */
    int64_t next_fire_at;        /* the scheduler's next time for this connection; 0 = not computed */
    /* Retention overrides (model/retention.h): -1 = the workspace's, 0 = no limit. */
    int64_t retention_days, retention_keep_last, retention_failure_days;
    int64_t runs_pruned; /* run_counts 1..runs_pruned were pruned: the runs kept are runs_pruned+1..run_count */
    /* What the connection expects of its runs (model/expect.h); 0/NULL = nothing. Without an
     * expected schedule or interval, a connection with a schedule expects its own. */
    const char *expect_schedule; /* cron expression */
    const char *expect_timezone; /* its IANA zone, NULL = UTC */
    int64_t expect_interval_s, expect_grace_s;
    int64_t min_duration_s, max_duration_s;
    int64_t wm_stall_runs, wm_max_age_s;
    /* The checks' state, kept by the store (0 = none) */
    int64_t last_run_at; /* creation of the newest run: what the next is expected after */
    int64_t expected_by; /* the next run must start by then */
    int64_t late_since;  /* late since then (the deadline missed) */
    int64_t wm_last;     /* the previous successful run's watermark */
    int64_t wm_flat_runs;
} connection_t;

typedef struct run {
    int64_t id, workspace_id, connection_id, run_count;
    char uuid[37];
    char connection_uuid[37];
    run_state_t state;
    run_result_t result;
    int64_t created_at, updated_at, scheduled_at, started_at, completed_at; /* ms since epoch; 0 = unset */
    const char *trigger_tag, *trigger_detail;
    int full_sync;
    const char *current_step;
    int64_t counters[CTR_COUNT];
    int64_t watermark; /* last_timestamp_synced; 0 = unset */
    const char *message;
    const char *error_code, *error_message, *error_detail;
    int attempt;
    int64_t version; /* bumped by every change; the ETag */
    /* Runs imported from a vendor keep that vendor's id (unique per connection: re-importing
     * the same history changes nothing) and, as JSON text, the vendor fields a dialect renders
     * back verbatim ({"format": "...", ...}). NULL for runs syncrun recorded itself. */
    const char *external_id;
    const char *external;
    unsigned flags; /* RUN_FLAG_* (model/expect.h): what the checks found */
} run_t;

typedef struct task {
    int64_t id, job_id;
    char uuid[37];
    run_state_t state;
    run_result_t result;
    const char *source_file_id;
    int retry_attempts;
    int64_t started_at, ended_at;
    const char *error_json; /* iTwin task-error object as JSON text, or NULL */
    const char *report_message, *report_suggested_action;
    int64_t report_errors, report_warnings, report_other;
    int has_report;
} task_t;

typedef struct job {
    int64_t id, run_id;
    char uuid[37];
    run_state_t state;
    run_result_t result;
    const char *name, *connector_type, *phase;
    int64_t started_at, ended_at;
    task_t *tasks;
    int ntasks;
    int tasks_more; /* a read listed only the first ntasks of the job's tasks */
} job_t;

/* The iTwin task-error object (seed 004): its text fields, and all its fields (the text ones plus
 * canUserFix, a boolean, and bridgeExitCode, an integer). NULL-terminated. */
extern const char *const task_error_text_fields[];
extern const char *const task_error_fields[];
/* A synchronization report's suggested actions (seed 004's enum), NULL-terminated; the parse
 * returns the index or -1. */
extern const char *const report_suggested_actions[];
int report_action_parse(const char *s);

/* Names as they appear in the native API; *_parse returns -1 for an unknown name. */
const char *run_state_name(run_state_t s);
const char *run_result_name(run_result_t r);
const char *overlap_name(overlap_policy_t o);
const char *scope_name(scope_t s);
const char *counter_name(counter_t c);
int run_state_parse(const char *s);
int run_result_parse(const char *s);
int overlap_parse(const char *s);
int scope_parse(const char *s);
const char *catchup_name(catchup_policy_t c);
int catchup_parse(const char *s);
int counter_parse(const char *s);

/* 1 when a key holding scope `have` may do what needs `need` (admin > runs:write > runs:read). */
int scope_allows(scope_t have, scope_t need);

/* The state machine. A state may move to working/retrying (a progress update) only while not
 * finished, and a run becomes finished only through run_finish_allowed. Returns 0 if allowed. */
int run_transition_allowed(run_state_t from, run_state_t to);
/* A finishing result must be set (not RESULT_NONE); skipped is only for runs that never started. */
int run_finish_allowed(const run_t *r, run_result_t result);

/* Census: status string of a run ("queued", "working", "completed", "failed", "skipped"). */
const char *census_status(run_state_t s, run_result_t r);

#endif
