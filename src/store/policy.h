/* The store's core: the domain rules of the writes, as pure functions over plain structs (the row as
 * read inside the writer's transaction, and the request). A backend (sqlite_write.c, later pg) reads
 * the rows a rule needs, asks the rule, and writes what it decided; it decides nothing itself. No I/O,
 * no clock, no SQL here: `now` is the writer's time of the write, passed in. Not for callers outside
 * src/store/. */
#ifndef SYNCRUN_STORE_POLICY_H
#define SYNCRUN_STORE_POLICY_H

#include "store/store.h"
#include "util/buf.h"

/* ---- events: the data of a run's audit-trail events (JSON objects built straight into a buffer) ---- */

/* EVENT_MAX holds the largest event valid input can make: a finish with every text field at its limit
 * (step, error code; message, error message; error detail), each character escaped at its longest, plus
 * the fixed members. An event that does not fit (it cannot, by these limits) fails the write: a cut
 * document is never stored (the buffer stays failed). */
#define POLICY_EVENT_MAX                                                                                               \
    (2 * RUN_JSON_STR_MAX(RUN_NAME_MAX) + 2 * RUN_JSON_STR_MAX(RUN_TEXT_MAX) + RUN_JSON_STR_MAX(RUN_DETAIL_MAX) +      \
     16 * 1024)
/* Starts an event object in ev (an empty BUF_INIT(POLICY_EVENT_MAX)): "{". */
void policy_event_open(buf_t *ev);
/* Opens the member `key` of the event object being built. */
void policy_event_key(buf_t *ev, const char *key);
/* The data of a run's first event (created, skipped, recorded): how it was triggered. Open (no "}"). */
void policy_event_trigger(buf_t *ev, const run_t *r);

/* ---- triggers: idempotency and overlap (OP_RUN_TRIGGER, OP_PING's start) ---- */

/* A run with the trigger's Idempotency-Key exists and was made by a request with fingerprint
 * found_hash (NULL when none was kept): STORE_OK when this trigger is the same request again (answer
 * that run, TRIGGER_REPLAYED), STORE_IDEM_REUSED when the key was used for a different one. */
store_err_t policy_trigger_idempotent(const store_trigger_t *t, const char *found_hash);

/* What a trigger does, given whether the connection has a run queued or working. */
typedef struct policy_trigger {
    trigger_outcome_t outcome;
    int insert;        /* a new run is made, in `state` with `result`, its first event `event` */
    int cancel_active; /* the run in progress is canceled first (policy_run_replaced) */
    int attach_event;  /* the run in progress gets an "attached" event (outcome ATTACHED) */
    run_state_t state; /* insert only */
    run_result_t result;
    const char *event; /* "created" or "skipped" */
} policy_trigger_t;

/* Decides a trigger t of a connection with overlap policy `overlap`; has_active: a run of it is queued,
 * working or retrying. refuse_active wins over attach_active, which wins over the policy. Queue and a
 * requested RUN_WORKING: the new run waits queued behind the active one. */
void policy_trigger_decide(const store_trigger_t *t, overlap_policy_t overlap, int has_active, policy_trigger_t *out);
/* The run in progress r, canceled by a newer trigger under overlap policy replace, at now. */
void policy_run_replaced(run_t *r, int64_t now);
/* The fields of a run inserted at `created` in state/result, as the trigger t says: the new row. */
void policy_run_new(run_t *r, const store_trigger_t *t, run_state_t state, run_result_t result, int64_t created);

/* ---- run updates and finishes ---- */

/* Merges an OP_RUN_UPDATE (req's fields named by mask, RUN_F_ERROR ignored) into the live run r as
 * read: a state change must be allowed (model/run.h), RETRYING -> WORKING begins the next attempt,
 * any state past QUEUED sets started_at (once) to now. Records the changes in the open event ev.
 * STORE_BAD_STATE (*field "state"): r is left as it was in every field the state rules touch.
 * Does not set version or updated_at (the save does). */
store_err_t policy_run_update(run_t *r, const run_t *req, unsigned mask, int64_t now, buf_t *ev, const char **field);
/* 1 when an update changed neither state, started_at nor attempt (a progress update: the backend may
 * write fewer columns). */
int policy_run_state_kept(const run_t *before, const run_t *after);
/* Finishes the live run r with result (OP_RUN_FINISH, OP_RUN_CANCEL, an end ping) at now, merging
 * req's counters, message and error named by mask; the step is cleared. ev: an empty event buffer,
 * filled (open) with the result and the merged fields. STORE_BAD_STATE (*field "result"): the
 * result is not allowed (none, unknown, or skipped for a run that started); r unchanged. */
store_err_t policy_run_finish(run_t *r, const run_t *req, unsigned mask, run_result_t result, int64_t now, buf_t *ev,
                              const char **field);
/* The run r (working or retrying, with a command of the server's) interrupted by a restart, at now. */
void policy_run_interrupted(run_t *r, int64_t now);

/* ---- jobs and tasks: their small state machine ---- */

/* Moves a unit (job or task) to state `to` with result res at now: a finished unit never changes, a
 * finished one needs a result and one not finished has none; started/ended follow the state.
 * Returns 0, or -1 (nothing changed) when the change is not allowed. */
int policy_unit_state(run_state_t *state, run_result_t *result, int64_t *started, int64_t *ended, run_state_t to,
                      run_result_t res, int64_t now);
/* A new job j (uuid, ids left to the caller) from the request req at now. STORE_BAD_STATE with *field
 * "result" (a finished job without one, or a result for one not finished) or "state". */
store_err_t policy_job_create(job_t *j, const job_t *req, int64_t now, const char **field);
/* Merges the fields mask (JOB_F_*) names from req into job j as read. STORE_BAD_STATE: *field "state"
 * (j is finished) or "result". */
store_err_t policy_job_update(job_t *j, const job_t *req, unsigned mask, int64_t now, const char **field);
/* The same for tasks (TASK_F_*); a new task takes its source file and retries whatever the mask. */
store_err_t policy_task_create(task_t *t, const task_t *req, unsigned mask, int64_t now, const char **field);
store_err_t policy_task_update(task_t *t, const task_t *req, unsigned mask, int64_t now, const char **field);

/* ---- connections ---- */

/* Merges the fields mask (CONN_F_*) names from req into cur as read, at now (a new own schedule,
 * timezone, catch-up or deadline starts over: next_fire_at 0; CONN_F_NEXT_FIRE sets it). Retention is
 * policy_connection_retention's. */
void policy_connection_merge(connection_t *cur, const connection_t *req, unsigned mask, int64_t now);
/* 1 when an update with this mask restarts the connection's expectation (its deadline counts from now). */
int policy_connection_expect_reset(unsigned mask);
/* The retention overrides (days, keep_last, failure_days; RETENTION_INHERIT = none) cur keeps after
 * the CONN_F_RET_* fields of mask are set from req. Returns 0 when mask names none (nothing to write). */
int policy_connection_retention(const connection_t *cur, const connection_t *req, unsigned mask, int64_t out[3]);

/* ---- recorded history (OP_RUN_RECORD, OP_RUN_IMPORT) ---- */

/* Checks a run of the past: a finished run has a result and only a finished one, both known, and it
 * was created. STORE_BAD_STATE with *field "result" or "created_at". */
store_err_t policy_record_check(const run_t *in, const char **field);
/* Fills what a recorded run may leave out: updated_at (its completion, else its creation), attempt 1. */
void policy_record_defaults(run_t *rec);
/* Prepares an import: every run needs an external_id (else STORE_BAD_STATE, *field "external_id");
 * sorts them oldest first (created_at, then external_id), the order run_count follows. A run whose
 * external_id the connection has already (also one earlier in the same import) is left as it is: the
 * backend looks each one up before recording it. */
store_err_t policy_import_order(store_import_t *im, int n, const char **field);
/* ---- pings ---- */

/* The idempotency key that pairs a ping's start with its end: "ping:" + rid (cut to fit out). */
void policy_ping_key(const char *rid, char *out, size_t outlen);
/* The trigger of a run a ping makes (a start, or an end with no run to end): tag "Ping", working at
 * once, through the overlap policy; with a rid (idem: its policy_ping_key), idempotent, so a repeated
 * start makes one run. */
void policy_ping_trigger(const store_ping_t *p, const char *idem, store_trigger_t *t);
/* Whether a run in progress found without a rid may be ended by a ping: only a run a ping started. */
int policy_ping_owns(const run_t *r);
/* The result an end ping gives, and (not a success) the error it records into req (mask RUN_F_ERROR;
 * the message in msg, of msglen bytes, which must outlive req's use). */
run_result_t policy_ping_result(const store_ping_t *p, run_t *req, unsigned *mask, char *msg, size_t msglen);

/* ---- run logs: what is kept ---- */

/* Bytes a connection keeps of a run's log. */
size_t policy_log_cap(const connection_t *cn);
/* After a cut, the kept log starts after a newline found this near the cut. */
enum { POLICY_LOG_LINE_SCAN = 4096 };
/* Appending n bytes to a log that keeps `kept` bytes, with cap: the log would be len = kept + n
 * bytes; the first `start` are dropped (0: none). When start > 0, a newline in [start, scan_to) moves
 * the cut to just after it (the caller looks, then calls policy_log_cut_at). */
typedef struct policy_log_cut {
    int64_t len, start, scan_to;
} policy_log_cut_t;
void policy_log_cut(int64_t kept, size_t n, size_t cap, policy_log_cut_t *out);
/* The cut moved to just after a newline at offset nl (-1: none found, the cut stays). */
void policy_log_cut_at(policy_log_cut_t *c, int64_t nl);

/* ---- alerts a finish raises ---- */

/* Whether a result is a failure (run.failed). */
int policy_result_failed(run_result_t r);
/* Whether a success after a previous decisive result prev means recovery (run.recovered). */
int policy_recovered(run_result_t result, run_result_t prev);

/* ---- webhooks ---- */

/* A failed attempt `at` of a delivery of webhook h, recorded at now: h is failing since that attempt
 * unless it was already (h->failing_since set). Returns 1 when h, enabled, has now failed for
 * at->disable_after_ms (> 0) or longer: it is to be disabled. */
int policy_webhook_failing(webhook_t *h, const webhook_attempt_t *at, int64_t now);
/* The status a delivery in status `was` takes after the attempt at: delivered when it succeeded; else
 * dead when the webhook was just disabled, the delivery was killed while the attempt was under way,
 * or no retry is planned (at->next_attempt_at 0); else failed, due again at *next (0 otherwise). */
delivery_status_t policy_delivery_after(const webhook_attempt_t *at, delivery_status_t was, int disabled,
                                        int64_t *next);

#endif
