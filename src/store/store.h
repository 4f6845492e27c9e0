/* The store: the only module that speaks SQL. One writer thread applies writes in
 * batches (group commit: one transaction and one fsync for many requests) and reports
 * each write when it is durable; readers use their own connections and never wait
 * for the writer (SQLite WAL).
 *
 * Ownership: strings a caller passes in must stay valid until the write is done.
 * Everything a read returns is allocated in the caller's arena. */
#ifndef SYNCRUN_STORE_STORE_H
#define SYNCRUN_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "model/retention.h"
#include "model/run.h"
#include "model/webhook.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/ids.h"

typedef struct store store_t;
typedef struct store_reader store_reader_t;

typedef enum store_err {
    STORE_OK = 0,
    STORE_NOT_FOUND,   /* no such object in this workspace */
    STORE_FINISHED,    /* the run is finished and immutable */
    STORE_BAD_STATE,   /* the state machine refuses this change (field says which) */
    STORE_IDEM_REUSED, /* Idempotency-Key reused with a different request */
    STORE_EXISTS,      /* a unique value is taken (field says which) */
    STORE_ERROR        /* the database failed; see the log */
} store_err_t;

const char *store_strerror(store_err_t e);

/* Opens (creating if needed) the database at path, applies pending migrations and starts the
 * writer thread. Returns 0, or -1 with a message in err. */
int store_open(const char *path, store_t **out, char *err, size_t errlen);
/* Finishes every submitted write, stops the writer and closes the database. */
void store_close(store_t *s);
/* Number of workspaces (0 on a fresh database). */
int64_t store_workspace_count(store_t *s);
/* 0 when the database can take writes now: its file is writable, it is at this syncrun's schema
 * version and a write transaction can begin (or the writer holds one). Otherwise -1 with the reason
 * in why. Uses its own short-lived connection and waits for no lock, so any thread may call it. */
int store_ready(store_t *s, char *why, size_t whylen);

/* Changes whenever this store has revoked an API key, before that write is reported done: a
 * cache of keys (http/auth.c) that sees the same value has seen every revocation made here. */
uint64_t store_keys_generation(store_t *s);

/* A secret of this database (random, made at creation), for signing cursors. */
void store_secret(store_t *s, unsigned char out[32]);

/* Called on the writer thread after each commit with the ids of the runs it changed. */
typedef void (*store_change_cb)(void *ctx, const int64_t *run_ids, size_t n);
/* Adds a subscriber (at most STORE_HOOKS_MAX); returns 0, or -1 when full. */
int store_add_change_hook(store_t *s, store_change_cb cb, void *ctx);
/* Removes it; when this returns, cb is not running and will not be called again. */
void store_remove_change_hook(store_t *s, store_change_cb cb, void *ctx);
enum { STORE_HOOKS_MAX = 4 };
/* Sets the one subscriber told (on the writer thread, after the commit) that a batch made webhook
 * deliveries due: new ones, a test, a redelivery. NULL removes it; when this returns, the old one is not
 * running and will not be called again. */
void store_set_delivery_hook(store_t *s, void (*cb)(void *ctx), void *ctx);

/* ---- writes ----
 *
 * The contract of every write, whatever the backend (sqlite.c now, pg next). A write is applied
 * inside the writer's batch transaction, all or nothing: when it fails (w->err != STORE_OK) nothing
 * of it is recorded and the rest of the batch still commits. Its results (out:) are valid in done().
 * What the errors mean:
 *   STORE_NOT_FOUND    the object the write addresses (w->id, or the one err_field names) does not
 *                      exist in w->workspace_id: never there, in another workspace, deleted. A
 *                      workspace sees nothing of another one: a wrong workspace is a not-found.
 *   STORE_FINISHED     the run is finished; a finished run never changes (only its log may grow and
 *                      events be added).
 *   STORE_BAD_STATE    the request is not allowed by the rules (state machine, a missing required
 *                      value); err_field names the field at fault.
 *   STORE_IDEM_REUSED  the Idempotency-Key was used for a different request (err_field
 *                      "Idempotency-Key"); the same request again is not an error (TRIGGER_REPLAYED).
 *   STORE_EXISTS       a unique value is taken (err_field names it when known).
 *   STORE_ERROR        the database failed, or the batch's transaction was lost (then every write of
 *                      the batch gets it, committed none); logged. err_field NULL.
 * err_field is NULL unless an op below says otherwise. A repeated write is not deduplicated unless the
 * op says so (idempotency keys, pings with a rid, imports by external_id, the checker's seen_at). */

typedef enum store_op {
    OP_WORKSPACE_CREATE,  /* in: name, key_scope=admin; out: workspace_id, workspace_uuid, token, key_id.
                             Names need not be unique; any refusal of the insert says err_field "name" */
    OP_KEY_CREATE,        /* in: workspace_id, key_scope, key_name, id (0, or the run the key is limited to);
                             out: token, key_id. NOT_FOUND: no such workspace (or run) */
    OP_CONNECTION_CREATE, /* in: workspace_id, conn (name, source, destination, connector_type, overlap); out: conn.
                             NOT_FOUND: no such workspace */
    OP_CONNECTION_UPDATE, /* in: workspace_id, id, mask of CONN_F_*, conn; out: conn. Merges the masked fields into
                             the row as it is in the transaction. NOT_FOUND: no such connection (or deleted) */
    OP_CONNECTION_DELETE, /* in: workspace_id, id. NOT_FOUND: no such connection (or deleted already) */
    OP_RUN_TRIGGER,       /* in: workspace_id, id (connection), trigger; out: run, trigger_outcome (policy.h decides:
                             idempotency first, then the overlap policy against the run in progress). NOT_FOUND:
                             no such connection. IDEM_REUSED: the key names a run made by a different request */
    OP_RUN_UPDATE,        /* in: workspace_id, id (run), mask of RUN_F_*, run fields; out: run. NOT_FOUND: no such
                             run. FINISHED. BAD_STATE (err_field "state"): the state machine refuses the change */
    OP_RUN_FINISH,        /* in: workspace_id, id (run), mask (counters, message, error), run.result...; out: run.
                             NOT_FOUND, FINISHED, BAD_STATE (err_field "result": none, unknown, or skipped for a run
                             that started) */
    OP_RUN_CANCEL,        /* in: workspace_id, id (run), mask RUN_F_MESSAGE + run.message (a reason); out: run.
                             NOT_FOUND, FINISHED */
    OP_JOB_CREATE,        /* in: workspace_id, id (run), job; out: job. NOT_FOUND (the run), FINISHED (the run),
                             BAD_STATE (err_field "result" or "state": a finished job needs a result, only it) */
    OP_JOB_UPDATE,        /* in: workspace_id, id (run), job.uuid, mask of JOB_F_*; out: job. NOT_FOUND (the run; or
                             err_field "job"), FINISHED (the run), BAD_STATE (err_field "state": the job is finished;
                             "result") */
    OP_TASK_CREATE,       /* in: workspace_id, id (run), job.uuid, task; out: task. As OP_JOB_UPDATE for the run and
                             the job; BAD_STATE as OP_JOB_CREATE */
    OP_TASK_UPDATE,       /* in: workspace_id, id (run), job.uuid, task.uuid, mask of TASK_F_*; out: task. As
                             OP_TASK_CREATE, and NOT_FOUND (err_field "task") */
    OP_RUN_RECORD,        /* in: workspace_id, id (connection), run with every field (history: demo, import); out: run.
                             Runs must be recorded in creation order: run_count follows. NOT_FOUND: no such
                             connection. BAD_STATE (err_field "result" or "created_at"). EXISTS: its external_id
                             is the connection's already */
    OP_RUN_EVENT,         /* in: workspace_id, id (run), event_kind, event_json: adds an event, changes no field.
                             Allowed on finished runs. NOT_FOUND. BAD_STATE (err_field "event"): no kind, or the
                             data is not JSON */
    OP_LOG_APPEND,        /* in: workspace_id, id (run), log_data/log_len; log_replace = 1 replaces the kept log.
                             The log keeps the connection's last log_max_bytes. Allowed on finished runs.
                             NOT_FOUND: no such run */
    OP_KEY_REVOKE,        /* in: workspace_id, key_id. NOT_FOUND: no such live key (unknown, revoked already) */
    OP_RUNS_INTERRUPT,    /* every working/retrying run of a connection with a command → finished/error
                             "interrupted by restart" (all workspaces), and the run tokens of ended runs revoked;
                             out: affected. Fails only with STORE_ERROR */
    OP_RUN_IMPORT,        /* in: workspace_id, id (connection), imports[nimports]; out: imported, import_existing.
                             All or nothing; runs whose external_id the connection has are left as they are (also
                             a second one in the same import). NOT_FOUND: no such connection. BAD_STATE (err_field
                             "external_id", "result" or "created_at"); a job or task refused: err_field "jobs" */
    OP_ACCESS_TOKEN_CREATE, /* in: workspace_id, key_id: a key of the workspace, not revoked, not limited to
                               a run (else STORE_NOT_FOUND); out: token, an access token of that key that
                               ends in STORE_ACCESS_TOKEN_TTL_S or when the key is revoked; key_scope */
    OP_PING_KEY_ROTATE,     /* in: workspace_id, id (connection); out: token (the new ping key; only its hash is
                               kept, the old key stops working). NOT_FOUND: no such connection */
    OP_WORKSPACE_RETENTION, /* in: workspace_id, mask of CONN_F_RET_*, retention (0 = none); out: retention.
                               NOT_FOUND: no such workspace */
    OP_RUNS_PRUNE,          /* in: workspace_id, id (connection): removes at most STORE_PRUNE_BATCH of its oldest
                               runs that its retention policy lets go (model/retention.h), with their events,
                               logs, jobs, tasks and own keys; statistics stay. out: affected (runs removed).
                               NOT_FOUND: no such connection */
    OP_PING,                /* in: workspace_id, id (connection), ping, log_data/log_len; out: run, trigger_outcome.
                               NOT_FOUND: no such connection; (err_field "run"): a log ping with no run to address.
                               An end ping for a run that ended already changes nothing (pings are retried). */
    /* The expectation checker's writes (exec/expect_check.c); each changes something only if the row
     * is still as the checker saw it, so a repeated or stale one does nothing (and succeeds, affected 0),
     * also when the row is gone: */
    OP_CONNECTION_LATE,    /* in: workspace_id, id (connection), seen_at (its expected_by as read): marks it late
                              (late_since = expected_by) and raises run.late; out: affected (1 when it did) */
    OP_RUN_OVERDUE,        /* in: workspace_id, id (run), seen_at (its max_by as read): the run, still not finished
                              past its maximum duration, is flagged and raises run.late; out: affected */
    OP_CONNECTION_EXPECT,  /* in: workspace_id, id (connection): gives a connection that expects runs and has no
                              deadline (made before expectations existed) one, from its newest run or now */
    OP_WEBHOOK_CREATE,     /* in: workspace_id, webhook (url, events, connection_id, secret); out: webhook.
                              NOT_FOUND (err_field "connection_id"): no such connection */
    OP_WEBHOOK_UPDATE,     /* in: workspace_id, id (webhook), mask of WEBHOOK_F_*, webhook; out: webhook. Enabling
                              clears disabled_reason and failing_since. NOT_FOUND: no such webhook; (err_field
                              "connection_id"): no such connection */
    OP_WEBHOOK_DELETE,     /* in: workspace_id, id (webhook); its deliveries not yet delivered become dead.
                              NOT_FOUND: no such webhook (or deleted already) */
    OP_WEBHOOK_TEST,       /* in: workspace_id, id (webhook); out: delivery, a webhook.test delivery due now.
                              NOT_FOUND. BAD_STATE (err_field "enabled"): the webhook is disabled */
    OP_DELIVERY_REDELIVER, /* in: workspace_id, id (webhook), attempt.delivery_id; out: delivery, due again now.
                              NOT_FOUND (the webhook or the delivery). BAD_STATE (err_field "enabled"): the webhook
                              is disabled */
    OP_DELIVERY_ATTEMPT,   /* in: attempt (the dispatcher's result of one attempt; all workspaces); out: delivery
                              (its new status). A failure disables the webhook when it has failed since
                              attempt.disable_after_ms or longer. NOT_FOUND: the delivery (or its webhook) is gone */
    OP_DELIVERIES_PRUNE,   /* in: attempt.at (a time): deletes at most STORE_PRUNE_DELIVERIES_BATCH deliveries
                              (all workspaces) delivered or given up before it, with their attempts; out: affected */
    OP_CENSUS_RENDER,      /* renders at most STORE_CENSUS_RENDER_BATCH queued finished runs in Census's shape and
                              keeps the renderings (census_runs, sqlite_census.c); out: affected (runs taken
                              from the queue) */
} store_op_t;

/* One bit per field a client can send: an update changes exactly the fields its mask names, merged
 * into the row as it is inside the writer's transaction (two concurrent updates of different
 * fields both stick). */
enum {
    CONN_F_NAME = 1 << 0,
    CONN_F_SOURCE = 1 << 1,
    CONN_F_DESTINATION = 1 << 2,
    CONN_F_CONNECTOR_TYPE = 1 << 3,
    CONN_F_OVERLAP = 1 << 4,
    CONN_F_COMMAND = 1 << 5,   /* command_json */
    CONN_F_SCHEDULE = 1 << 6,  /* schedule; this and the next three reset next_fire_at */
    CONN_F_TIMEOUT = 1 << 7,   /* timeout_s */
    CONN_F_NEXT_FIRE = 1 << 8, /* next_fire_at (the scheduler's own bookkeeping) */
    CONN_F_TIMEZONE = 1 << 9,
    CONN_F_CATCHUP = 1 << 10,
    CONN_F_DEADLINE = 1 << 11, /* starting_deadline_s */
    CONN_F_WORKDIR = 1 << 12,
    CONN_F_ENV = 1 << 13, /* env_json */
    CONN_F_RETRY_MAX = 1 << 14,
    CONN_F_RETRY_BACKOFF = 1 << 15, /* retry_backoff_s */
    CONN_F_LOG_MAX = 1 << 16,       /* log_max_bytes */
    CONN_F_RET_DAYS = 1 << 17,      /* retention_days (OP_WORKSPACE_RETENTION: retention.days) */
    CONN_F_RET_KEEP_LAST = 1 << 18, /* retention_keep_last */
    CONN_F_RET_FAILURE_DAYS = 1 << 19,
    /* expectations (model/expect.h); the first four reset the deadline: it counts from the change */
    CONN_F_EXPECT_SCHEDULE = 1 << 20,
    CONN_F_EXPECT_TIMEZONE = 1 << 21,
    CONN_F_EXPECT_INTERVAL = 1 << 22,
    CONN_F_EXPECT_GRACE = 1 << 23,
    CONN_F_MIN_DURATION = 1 << 24,
    CONN_F_MAX_DURATION = 1 << 25,
    CONN_F_WM_STALL_RUNS = 1 << 26,
    CONN_F_WM_MAX_AGE = 1 << 27,
};

/* Runs one OP_RUNS_PRUNE removes at most: a transaction a request may wait behind stays short
 * (measured on the benchmark's 1.2 M runs, interleaved across 1,000 connections: about 50 ms of
 * deletes a batch of 200, fsync aside, on a loaded 2-core machine). */
enum { STORE_PRUNE_BATCH = 100 };

/* Runs one OP_CENSUS_RENDER renders at most (about 5 ms of the writer's time). */
enum { STORE_CENSUS_RENDER_BATCH = 200 };

/* The run log keeps the last this many bytes unless the connection says otherwise. */
#define STORE_LOG_DEFAULT_BYTES (1024 * 1024)

enum {
    RUN_F_STATE = 1 << 0,
    RUN_F_STEP = 1 << 1,
    RUN_F_WATERMARK = 1 << 2,
    RUN_F_MESSAGE = 1 << 3,
    RUN_F_ERROR = 1 << 4,    /* error_code, error_message, error_detail */
    RUN_F_COUNTER0 = 1 << 8, /* RUN_F_COUNTER0 << c for counter c */
};

enum {
    JOB_F_STATE = 1 << 0, /* state (+ result when finished) */
    JOB_F_NAME = 1 << 1,
    JOB_F_CONNECTOR = 1 << 2,
    JOB_F_PHASE = 1 << 3,
};

enum {
    TASK_F_STATE = 1 << 0, /* state (+ result when finished) */
    TASK_F_SOURCE_FILE = 1 << 1,
    TASK_F_RETRIES = 1 << 2,
    TASK_F_ERROR = 1 << 3,
    TASK_F_REPORT = 1 << 4,
};

typedef enum trigger_outcome {
    TRIGGER_CREATED,  /* a new run */
    TRIGGER_SKIPPED,  /* a new run, recorded finished/skipped because another was in progress */
    TRIGGER_ATTACHED, /* no new run: `run` is the one in progress (overlap policy attach) */
    TRIGGER_REPLAYED, /* no new run: `run` was created earlier with the same Idempotency-Key */
    TRIGGER_REFUSED,  /* no new run: refuse_active was set and `run` is the one in progress */
} trigger_outcome_t;

/* A ping (healthchecks.io's protocol) of a script that uses neither the API nor `syncrun exec`. */
typedef enum ping_kind {
    PING_SUCCESS, /* the run addressed ends: success (or a new run is recorded as one) */
    PING_START,   /* a run starts (working), through the overlap policy */
    PING_FAIL,    /* the run addressed ends: error */
    PING_EXIT,    /* the run addressed ends by exit status: 0 success, else error */
    PING_LOG,     /* the body is added to the log of the run addressed; nothing else changes */
} ping_kind_t;

typedef struct store_ping {
    ping_kind_t kind;
    int exit_status;  /* PING_EXIT: 0..255 */
    const char *rid;  /* NULL, or the client's UUID pairing a start with its end */
    const char *what; /* how the ping arrived ("GET /ping/…/start"), for the trigger detail */
} store_ping_t;

typedef struct store_trigger {
    const char *tag, *detail; /* sync_trigger_reason ui_tag / ui_detail */
    int full_sync;
    int64_t scheduled_at;         /* 0 = now */
    run_state_t initial_state;    /* RUN_QUEUED or RUN_WORKING */
    const char *idempotency_key;  /* NULL = none */
    const char *idempotency_hash; /* fingerprint of the request, to detect reuse */
    int64_t next_fire_at;         /* when set, the connection's next_fire_at is set with the trigger */
    int attach_active;            /* 1: while a run is queued or working, attach to it (TRIGGER_ATTACHED)
                                     whatever the connection's overlap policy, as a dialect's API demands */
    int refuse_active;            /* 1: while a run is queued or working, create nothing and answer
                                     TRIGGER_REFUSED, whatever the overlap policy (Braze CDI's 429) */
} store_trigger_t;

/* One run of a vendor's history: every field as the vendor recorded it. run.external_id is required;
 * jobs (each with its tasks) are recorded under the run with their states, results and times. */
typedef struct store_import {
    run_t run;
    job_t *jobs;
    int njobs;
} store_import_t;

/* A webhook of a workspace: where alerts are POSTed. */
typedef struct webhook {
    int64_t id, workspace_id;
    const char *url;
    const char *events;          /* a JSON array of event names; NULL = every event */
    int64_t connection_id;       /* 0 = every connection of the workspace */
    const char *secret;          /* "whsec_" + base64: read only by the dispatcher, shown once at creation */
    const char *disabled_reason; /* why it was disabled automatically, or NULL */
    int64_t failing_since;       /* the first failed attempt since the last success, or 0 */
    int64_t created_at, updated_at;
    int enabled;
} webhook_t;

enum {
    WEBHOOK_F_URL = 1 << 0,
    WEBHOOK_F_EVENTS = 1 << 1,
    WEBHOOK_F_CONNECTION = 1 << 2,
    WEBHOOK_F_ENABLED = 1 << 3,
};

enum { STORE_PRUNE_DELIVERIES_BATCH = 500 };

/* A URL is at most this many bytes. */
enum { WEBHOOK_URL_MAX = 2048, WEBHOOK_MSG_ID_LEN = 40 };

/* One alert to send to one webhook, and the state of its sending. */
typedef struct webhook_delivery {
    int64_t id, webhook_id, workspace_id;
    char msg_id[WEBHOOK_MSG_ID_LEN]; /* "msg_" + 32 hex: the webhook-id header, the same on every attempt */
    int64_t alert_id;                /* 0 for a webhook.test */
    const char *event;
    int64_t connection_id, run_id; /* 0 when none */
    int64_t occurred_at;           /* when the alert was raised */
    const char *data;              /* the alert's data, a JSON object's text */
    const char *payload;           /* the body as first sent (retries send the same), or NULL before */
    delivery_status_t status;
    int attempts;
    int64_t next_attempt_at; /* pending or failed: when the next attempt is due */
    int64_t last_latency_ms; /* -1 = no attempt yet */
    const char *last_error;  /* NULL, or why the last attempt failed */
    int64_t created_at, updated_at, delivered_at;
    const char *url, *secret; /* the webhook's (store_deliveries_due only) */
    int last_status_code;     /* 0 = none (no answer) */
} webhook_delivery_t;

/* One attempt of a delivery. */
typedef struct webhook_attempt {
    int64_t id, delivery_id;
    int64_t at;         /* when it started */
    int64_t latency_ms; /* until the answer, or the failure */
    const char *error;  /* NULL when delivered (2xx), else why not */
    /* OP_DELIVERY_ATTEMPT only: */
    const char *payload;      /* the body sent: kept, so retries send the same */
    int64_t next_attempt_at;  /* failed: when to retry; 0 = give up (dead) */
    int64_t disable_after_ms; /* failed: disable the webhook once it has failed this long */
    int status_code;          /* the answer's status, 0 when there was none */
} webhook_attempt_t;

typedef struct store_write store_write_t;
struct store_write {
    store_op_t op;
    int64_t workspace_id;
    int64_t id; /* the connection or run the op addresses */
    unsigned mask;

    const char *name; /* workspace name, or key name */
    scope_t key_scope;
    connection_t conn;
    store_trigger_t trigger;
    run_t run;
    job_t job;
    task_t task;
    webhook_t webhook;                   /* OP_WEBHOOK_* */
    webhook_attempt_t attempt;           /* OP_DELIVERY_ATTEMPT, OP_DELIVERY_REDELIVER (delivery_id) */
    const char *event_kind, *event_json; /* OP_RUN_EVENT */
    const char *log_data;                /* OP_LOG_APPEND */
    size_t log_len;
    int log_replace;
    store_ping_t ping;       /* OP_PING */
    retention_t retention;   /* OP_WORKSPACE_RETENTION */
    int64_t seen_at;         /* OP_CONNECTION_LATE, OP_RUN_OVERDUE */
    store_import_t *imports; /* OP_RUN_IMPORT: sorted here by created_at */
    int nimports;

    /* results, valid in done() */
    store_err_t err;
    const char *err_field; /* static string naming the field an error is about, or NULL */
    trigger_outcome_t trigger_outcome;
    int64_t key_id;
    webhook_delivery_t delivery;   /* OP_WEBHOOK_TEST, OP_DELIVERY_REDELIVER, OP_DELIVERY_ATTEMPT */
    int imported, import_existing; /* OP_RUN_IMPORT: runs recorded, runs already there */
    int affected;                  /* OP_RUNS_INTERRUPT, OP_RUNS_PRUNE, OP_CONNECTION_LATE, OP_RUN_OVERDUE */
    char workspace_uuid[IDS_UUID_LEN];
    char token[IDS_TOKEN_LEN];
    arena_t arena; /* owns the strings of the results; freed by store_write_release */

    /* called on the writer thread once the write is durable (or failed); may be NULL */
    void (*done)(store_write_t *w);
    void *ctx;

    store_write_t *next_; /* private: the writer's queue */
};

/* Queues w; w->done runs on the writer thread when it is durable. w must stay alive until then. */
void store_submit(store_t *s, store_write_t *w);
/* Submits w and waits for it; returns w->err. For the CLI and tests. */
store_err_t store_exec(store_t *s, store_write_t *w);
/* Frees what the results of w hold. */
void store_write_release(store_write_t *w);

/* ---- reads: each thread uses its own reader ----
 *
 * The contract of every read, whatever the backend. A read never waits for the writer and never
 * changes anything. Everything it returns is allocated in the caller's arena.
 *   STORE_OK         found; a list may be empty (n = 0), also when the connection or run it is scoped
 *                    to does not exist or is another workspace's (the scoping is a filter).
 *   STORE_NOT_FOUND  a read of one object (a _get, a lookup, store_log_get/open, store_event_list's run)
 *                    finds none in the workspace: unknown, another workspace's, deleted (connections),
 *                    revoked or expired (keys).
 *   STORE_BAD_STATE  store_log_next only: the log was cut past the cursor since it was opened.
 *   STORE_ERROR      the database failed, or the read would pass a documented cap (a range wider than
 *                    STORE_RUN_RANGE_MAX, more than STORE_RUN_STATS_MAX rows, ...): refused, never cut.
 *                    Logged.
 * Every read is one statement or a fixed number of them, whatever the size of the answer (set queries,
 * never one statement per row): on a network database each statement is a round trip. */

store_reader_t *store_reader_open(store_t *s);
void store_reader_close(store_reader_t *r);
/* Groups the reads between begin and end into one read transaction (one snapshot, and one WAL
 * read lock instead of one per statement). Reads work without them too. */
void store_reader_begin(store_reader_t *r);
void store_reader_end(store_reader_t *r);

typedef struct workspace {
    int64_t id;
    char uuid[IDS_UUID_LEN];
    const char *name;
    int64_t created_at;
    retention_t retention; /* 0 fields: no limit */
} workspace_t;

/* The workspace with this id; STORE_NOT_FOUND when there is none. */
store_err_t store_workspace_get(store_reader_t *r, int64_t id, arena_t *a, workspace_t *out);

typedef struct api_key_info {
    int64_t key_id, workspace_id;
    scope_t scope;
    int64_t run_id;     /* 0, or the one run this key may address (a managed command's own token) */
    int64_t expires_at; /* 0, or when this token ends (an access token of the key): ms since epoch */
} api_key_info_t;

/* Lifetime of an OAuth access token (OP_ACCESS_TOKEN_CREATE), BlueConic's expires_in, and the live
 * tokens a key keeps: a new one beyond that ends the key's oldest (the table stays bounded however
 * often a client asks). */
enum { STORE_ACCESS_TOKEN_TTL_S = 3600, STORE_ACCESS_TOKENS_PER_KEY = 1000 };

typedef struct api_key_row {
    int64_t id;
    const char *name;
    scope_t scope;
    const char *prefix; /* the first characters of the token, to recognise it */
    int64_t created_at;
} api_key_row_t;

/* Finds the key whose token is `token`, or whose live access token it is (out->expires_at set);
 * STORE_NOT_FOUND when none (or revoked, or expired). */
store_err_t store_key_lookup(store_reader_t *r, const char *token, api_key_info_t *out);
/* The workspace's live keys with id > after_id, in id order, at most limit; *more says whether there
 * are further keys (page on from the last id). */
store_err_t store_key_list(store_reader_t *r, int64_t ws, int64_t after_id, int limit, arena_t *a, api_key_row_t **out,
                           int *n, int *more);

store_err_t store_connection_get(store_reader_t *r, int64_t ws, int64_t id, arena_t *a, connection_t *out);
store_err_t store_connection_get_uuid(store_reader_t *r, int64_t ws, const char *uuid, arena_t *a, connection_t *out);
/* The connection whose ping key is `key` (any workspace: the key is the credential);
 * STORE_NOT_FOUND when none (unknown, rotated away, or the connection deleted). */
store_err_t store_connection_get_ping_key(store_reader_t *r, const char *key, arena_t *a, connection_t *out);
/* Connections with id > after_id, in id order, at most limit. */
store_err_t store_connection_list(store_reader_t *r, int64_t ws, int64_t after_id, int limit, arena_t *a,
                                  connection_t **out, int *n);

/* A connection that a retention policy applies to (its own or its workspace's). */
typedef struct retention_target {
    int64_t connection_id, workspace_id;
} retention_target_t;
/* Connections (all workspaces, not deleted) with id > after_id whose effective retention removes
 * anything, in id order, at most limit; *more says whether there are further ones. */
store_err_t store_retention_targets(store_reader_t *r, int64_t after_id, int limit, arena_t *a,
                                    retention_target_t **out, int *n, int *more);

/* Connections of the workspace (not deleted): one indexed count. */
store_err_t store_connection_count(store_reader_t *r, int64_t ws, int64_t *n);

store_err_t store_run_get(store_reader_t *r, int64_t ws, int64_t id, arena_t *a, run_t *out);
store_err_t store_run_get_uuid(store_reader_t *r, int64_t ws, const char *uuid, arena_t *a, run_t *out);
/* The run of connection conn_id imported with the vendor id external_id. */
store_err_t store_run_get_external(store_reader_t *r, int64_t ws, int64_t conn_id, const char *external_id, arena_t *a,
                                   run_t *out);
/* A run range or key range (below) spans at most this many run_counts; a wider one is refused
 * (STORE_ERROR, logged): callers page. */
enum { STORE_RUN_RANGE_MAX = 1000 };

/* Runs of a connection with lo <= run_count <= hi, ascending or descending (page arithmetic). */
store_err_t store_run_range(store_reader_t *r, int64_t ws, int64_t conn_id, int64_t lo, int64_t hi, int asc, arena_t *a,
                            run_t **out, int *n);

/* What identifies a run's current rendering: enough to look it up in a cache of renderings. */
typedef struct run_key {
    int64_t id, version;
    run_state_t state;
} run_key_t;

/* The keys of the runs store_run_range would return, in the same order, without reading the rows. */
store_err_t store_run_keys(store_reader_t *r, int64_t ws, int64_t conn_id, int64_t lo, int64_t hi, int asc, arena_t *a,
                           run_key_t **out, int *n);

/* Census's stored renderings (model/census_run.h) of the finished runs of a connection with
 * lo <= run_count <= hi, ascending or descending, each passed to fn (body: len bytes, valid during
 * the call) in that order. Runs without one (live, or not rendered yet) are skipped: the caller
 * finds them as the run_counts fn was not called for. Not scoped by workspace: conn_id is a
 * connection the caller has read in its workspace. One statement. */
store_err_t store_census_runs(store_reader_t *r, int64_t conn_id, int64_t lo, int64_t hi, int asc,
                              void (*fn)(void *ctx, int64_t run_count, const char *body, size_t len), void *ctx);

typedef struct run_filter {
    int state;            /* -1 = any */
    int result;           /* -1 = any */
    int not_result;       /* 0 (RESULT_NONE) = none; else leave out runs with this result (RESULT_SKIPPED) */
    const char *trigger;  /* ui_tag, NULL = any */
    int64_t since, until; /* created_at bounds in ms, inclusive; 0 = unbounded */
    int asc;              /* order by run_count */
    int64_t after;        /* keyset cursor: run_count strictly after this in the order; 0 = start */
    int limit;
} run_filter_t;

/* Runs of a connection matching f. Keyset-paginated: cost does not grow with the position. */
store_err_t store_run_list(store_reader_t *r, int64_t ws, int64_t conn_id, const run_filter_t *f, arena_t *a,
                           run_t **out, int *n);

typedef struct run_event {
    int64_t id, run_id, at;
    const char *kind;
    const char *data; /* JSON object text */
} run_event_t;

/* The kept tail of a run's log (arena copy, not NUL-terminated; len 0 when none) and the bytes it
 * had in all. */
store_err_t store_log_get(store_reader_t *r, int64_t ws, int64_t run_id, arena_t *a, const char **data, size_t *len,
                          int64_t *total);
/* Appends the writer's metrics (writes by outcome, batch sizes and durations; webhook delivery attempts
 * by outcome and their latency) in Prometheus text. */
void store_metrics_write(store_t *s, buf_t *b);

/* ---- run statistics (maintained by the database as runs finish; kept when runs are pruned) ---- */

/* Upper bounds of the run-duration buckets, in seconds, and of the records-processed buckets (X-macro
 * lists: the schema's triggers and the metrics renderer are made from the same lists). */
#define STORE_RUN_DURATION_LE(X) X(1) X(5) X(15) X(30) X(60) X(120) X(300) X(600) X(1800) X(3600) X(7200) X(21600)
#define STORE_RUN_RECORDS_LE(X)  X(0) X(10) X(100) X(1000) X(10000) X(100000) X(1000000) X(10000000)
/* Upper bounds of the rollups' duration buckets, in milliseconds (finer than the metrics' seconds:
 * percentiles are interpolated inside a bucket, so its width is their error bound). Not
 * clang-formatted: it does not settle on one layout of this list. */
/* clang-format off */
#define STORE_ROLLUP_DURATION_LE_MS(X) \
    X(100) X(250) X(500) X(1000) X(2500) X(5000) X(10000) X(15000) X(30000) X(60000) X(120000) X(300000) \
    X(600000) X(900000) X(1800000) X(3600000) X(7200000) X(21600000) X(43200000) X(86400000)
/* clang-format on */

/* Finished runs of one connection with one result, one duration bucket and one records bucket.
 * duration_le / records_le: the bucket's upper bound, or -1 for the last (+Inf) bucket. */
typedef struct run_stat {
    int64_t connection_id;
    run_result_t result;
    int64_t duration_le, records_le;
    int64_t n, duration_ms_sum, records_sum;
    int64_t last_completed_at; /* the newest completion counted here */
} run_stat_t;

/* The run_stat rows (with n > 0) of the connections of workspace ws whose ids are in [first_id,
 * last_id], ordered by connection. Cost: the rows read, not the runs. At most STORE_RUN_STATS_MAX
 * rows: more is refused (STORE_ERROR, logged), never cut. */
enum { STORE_RUN_STATS_MAX = 200000 };
store_err_t store_run_stats(store_reader_t *r, int64_t ws, int64_t first_id, int64_t last_id, arena_t *a,
                            run_stat_t **out, int *n);
/* Finished runs of one connection with one result and one duration bucket, summed over a window of
 * whole hours (the rollups: one row per connection, UTC hour of completion, result and bucket).
 * duration_le: the bucket's upper bound in ms (STORE_ROLLUP_DURATION_LE_MS), or -1 for +Inf. */
typedef struct run_rollup {
    int64_t connection_id;
    run_result_t result;
    int64_t duration_le;
    int64_t n, duration_ms_sum, records_sum;
} run_rollup_t;
/* The rollups of the connections of workspace ws (not deleted) with ids in [first_id, last_id], of
 * the hours starting in [since, until) (ms), summed per connection, result and bucket, ordered by
 * connection. One statement, seeking each connection's hours: the cost is the rollup rows of the
 * window, never the runs. More than STORE_RUN_STATS_MAX rows is refused (STORE_ERROR, logged). */
store_err_t store_run_rollups(store_reader_t *r, int64_t ws, int64_t first_id, int64_t last_id, int64_t since,
                              int64_t until, arena_t *a, run_rollup_t **out, int *n);
/* Up to per_conn newest runs (highest run_count) of each connection of workspace ws with an id in
 * [first_id, last_id], ordered by connection and then run_count ascending. One statement, through
 * the (connection_id, run_count) index; at most per_conn * (last_id - first_id + 1) rows, and at
 * most cap (more is refused: STORE_ERROR, logged). Only the fields of a strip entry are filled (id,
 * connection_id, run_count, state, result, created_at, updated_at, started_at, completed_at, the
 * records_processed counter); the rest are zero and NULL. */
store_err_t store_runs_recent(store_reader_t *r, int64_t ws, int64_t first_id, int64_t last_id, int per_conn, int cap,
                              arena_t *a, run_t **out, int *n);
/* Runs queued and working (or retrying) per connection of workspace ws, from the active-runs index. */
typedef struct run_active_count {
    int64_t connection_id;
    int64_t queued, working;
} run_active_count_t;
store_err_t store_active_counts(store_reader_t *r, int64_t ws, arena_t *a, run_active_count_t **out, int *n);

/* A position in a run's log, for sending it a piece at a time (GET /v1/runs/{id}/log) without a
 * copy of the whole log: what store_log_open saw (total, kept) is what the pieces add up to. */
typedef struct store_log_cursor {
    int64_t run_id;
    int64_t total, kept; /* the log when opened: bytes written in all, bytes kept */
    int64_t next_chunk;  /* the chunk read next */
    int64_t offset;      /* bytes of that chunk already read (for the first, the bytes cut off) */
    int64_t left;        /* bytes still to read */
} store_log_cursor_t;

/* Opens the kept log of run run_id of workspace ws at its first byte. STORE_NOT_FOUND: no such run. */
store_err_t store_log_open(store_reader_t *r, int64_t ws, int64_t run_id, store_log_cursor_t *cur);
/* Copies the next bytes (at most cap, fewer only at the end) into buf, *n set. STORE_BAD_STATE when
 * the log was cut past the cursor since it was opened (a log that grows faster than its reader
 * reads): the rest cannot be read as it was. */
store_err_t store_log_next(store_reader_t *r, store_log_cursor_t *cur, char *buf, size_t cap, size_t *n);

/* ---- alerts: what a change means for the people who watch a connection ----
 * Raised by the writer inside the transaction of the change (a run failing, a run not coming), kept
 * in order, and delivered by webhooks. */

/* The alert events, as they are named in the API and in webhooks. */
#define ALERT_RUN_FAILED          "run.failed"          /* a run ended error, config_error or timed_out */
#define ALERT_RUN_RECOVERED       "run.recovered"       /* the first success after failures */
#define ALERT_RUN_LATE            "run.late"            /* an expected run did not start (or finish) in time */
#define ALERT_RUN_DURATION        "run.duration"        /* a run ended faster or slower than its bounds */
#define ALERT_WATERMARK_STALLED   "watermark.stalled"   /* successful runs stopped moving the watermark */
#define ALERT_WATERMARK_BACKWARDS "watermark.backwards" /* a success went back behind the previous one */

typedef struct alert {
    int64_t id, workspace_id, connection_id;
    int64_t run_id; /* 0: about the connection, no run */
    int64_t at;     /* ms since epoch */
    const char *event;
    const char *data; /* JSON object text: what was found */
} alert_t;

/* Alerts of workspace ws with id > after_id, oldest first, at most limit; conn_id > 0 keeps those of
 * one connection. */
store_err_t store_alert_list(store_reader_t *r, int64_t ws, int64_t conn_id, int64_t after_id, int limit, arena_t *a,
                             alert_t **out, int *n);

/* Queued runs of connections that have a command and no working/retrying run, oldest first, one per
 * connection (all workspaces): what the runner may start now. */
store_err_t store_runs_startable(store_reader_t *r, int limit, arena_t *a, run_t **out, int *n);
/* Connections with a schedule (all workspaces) with id > after_id, in id order, at most limit; *more
 * says whether there are further ones (page on from the last id). */
store_err_t store_connections_scheduled(store_reader_t *r, int64_t after_id, int limit, arena_t *a, connection_t **out,
                                        int *n, int *more);

/* The events of run run_id of workspace ws with id > after_id, oldest first, at most limit.
 * STORE_NOT_FOUND: no such run. */
store_err_t store_event_list(store_reader_t *r, int64_t ws, int64_t run_id, int64_t after_id, int limit, arena_t *a,
                             run_event_t **out, int *n);
/* ---- expectations: what the checker reads (partial indexes: due rows only, never the history) ---- */

/* A connection past its deadline or a run past its maximum duration: id, workspace and the time
 * (expected_by, max_by) to hand back in OP_CONNECTION_LATE / OP_RUN_OVERDUE. */
typedef struct store_due {
    int64_t id, workspace_id, at;
} store_due_t;

/* Connections (all workspaces) not late whose expected_by <= now, oldest deadline first, at most limit. */
store_err_t store_connections_due(store_reader_t *r, int64_t now, int limit, arena_t *a, store_due_t **out, int *n);
/* Runs not finished whose max_by <= now, oldest first, at most limit. */
store_err_t store_runs_overdue(store_reader_t *r, int64_t now, int limit, arena_t *a, store_due_t **out, int *n);
/* Connections with id > after_id that expect runs but have no deadline (none computed yet), in id
 * order, at most limit (id and workspace; `at` 0). */
store_err_t store_connections_expect_unset(store_reader_t *r, int64_t after_id, int limit, arena_t *a,
                                           store_due_t **out, int *n);
/* Late connections of workspace ws: one indexed count. */
store_err_t store_connections_late_count(store_reader_t *r, int64_t ws, int64_t *n);

/* ---- jobs and tasks of a page of runs: a fixed number of statements, whatever the page holds ---- */

/* The jobs of one run of a page, in creation order. */
typedef struct store_run_jobs {
    int64_t run_id;
    job_t *jobs;
    int njobs;
    int more; /* the read stopped inside this run: it has jobs (or tasks of its last job) not listed */
} store_run_jobs_t;

typedef struct store_jobs_query {
    int64_t conn_id, lo, hi; /* the runs of this connection with lo <= run_count <= hi, newest first */
    int64_t after_job;       /* keyset position: only jobs with a greater id (0 = from the first) */
    int max_jobs;            /* at most this many jobs in all */
    int max_units;           /* at most this many tasks in all, a job without tasks counting as one */
    int64_t max_bytes;       /* at most about this many bytes of their texts (ids, names, errors,
                                reports); 0 = no limit. The first row is read whatever its size. */
} store_jobs_query_t;

/* The jobs of the runs q names, each with its tasks, in page order (runs newest first, jobs and tasks
 * in creation order); runs without jobs are not listed. One statement. The read stops at q's
 * limits: then *more is 1, the last run listed has more = 1 when the stop fell inside it, and its
 * last job has tasks_more = 1 when the stop fell among that job's tasks. Runs of the page after the
 * last one listed may have jobs that were not read. */
store_err_t store_jobs_read(store_reader_t *r, int64_t ws, const store_jobs_query_t *q, arena_t *a,
                            store_run_jobs_t **out, int *n, int *more);

/* The first per_run jobs (without tasks) of each run of connection conn_id with lo <= run_count <=
 * hi whose result is in the bit mask `results` (1 << RESULT_*), in page order; a run's more = 1 when
 * it has further such jobs. One statement. */
store_err_t store_jobs_first(store_reader_t *r, int64_t ws, int64_t conn_id, int64_t lo, int64_t hi, unsigned results,
                             int per_run, arena_t *a, store_run_jobs_t **out, int *n);

/* A run's jobs counted by result (SQL aggregates: never a capped list). */
typedef struct store_job_counts {
    int64_t run_id;
    int64_t by_result[RUN_RESULT_COUNT];
} store_job_counts_t;

/* The job counts of each run of connection conn_id with lo <= run_count <= hi that has jobs, in page
 * order. One statement. */
store_err_t store_job_counts(store_reader_t *r, int64_t ws, int64_t conn_id, int64_t lo, int64_t hi, arena_t *a,
                             store_job_counts_t **out, int *n);

/* Every job of a run with every task, or STORE_ERROR (logged) when they pass
 * STORE_JOB_LIST_UNITS: for small runs (tests, the CLI); handlers page with store_jobs_read. */
enum { STORE_JOB_LIST_UNITS = 100000 };
store_err_t store_job_list(store_reader_t *r, int64_t ws, int64_t run_id, arena_t *a, job_t **out, int *n);

/* Statements this reader has run (a debug counter: tests assert a page costs a fixed number). */
uint64_t store_reader_statements(store_reader_t *r);

/* ---- dialect connection lists (Census syncs, Braze integrations) ----
 * A workspace's connections are configuration, not history: few, so a page may be an offset. */

/* Connections in id (creation) order, skipping the first `offset`, at most limit. */
store_err_t store_connection_page(store_reader_t *r, int64_t ws, int64_t offset, int limit, arena_t *a,
                                  connection_t **out, int *n);
/* Connections with id < before_id, in descending id order, at most limit. */
store_err_t store_connection_list_before(store_reader_t *r, int64_t ws, int64_t before_id, int limit, arena_t *a,
                                         connection_t **out, int *n);
/* The newest run (highest run_count) of each connection with lo_id <= id <= hi_id that has runs, in
 * connection id order, at most limit: one set query for a page of connections. */
store_err_t store_runs_newest(store_reader_t *r, int64_t ws, int64_t lo_id, int64_t hi_id, int limit, arena_t *a,
                              run_t **out, int *n);

/* ---- webhooks ---- */

store_err_t store_webhook_get(store_reader_t *r, int64_t ws, int64_t id, arena_t *a, webhook_t *out);
/* The workspace's webhooks (not deleted) with id > after_id, in id order, at most limit. */
store_err_t store_webhook_list(store_reader_t *r, int64_t ws, int64_t after_id, int limit, arena_t *a, webhook_t **out,
                               int *n);
/* Deliveries of webhook webhook_id of workspace ws, newest first, with id < before_id (0 = from the
 * newest), of one status (-1 = any), at most limit. */
store_err_t store_delivery_list(store_reader_t *r, int64_t ws, int64_t webhook_id, int64_t before_id, int status,
                                int limit, arena_t *a, webhook_delivery_t **out, int *n);
store_err_t store_delivery_get(store_reader_t *r, int64_t ws, int64_t webhook_id, int64_t id, arena_t *a,
                               webhook_delivery_t *out);
/* The attempts of a delivery (of workspace ws), oldest first, at most limit (the newest when more). */
store_err_t store_attempt_list(store_reader_t *r, int64_t ws, int64_t delivery_id, int limit, arena_t *a,
                               webhook_attempt_t **out, int *n);
/* Deliveries due at now (pending or failed, next_attempt_at <= now) of enabled webhooks, all
 * workspaces, soonest first, at most limit; each with its webhook's url and secret. */
store_err_t store_deliveries_due(store_reader_t *r, int64_t now, int limit, arena_t *a, webhook_delivery_t **out,
                                 int *n);
/* When the next delivery falls due (ms), or 0 when none waits. */
store_err_t store_delivery_next_due(store_reader_t *r, int64_t *at);
/* The workspace's deliveries waiting to be sent, by status (counts[DELIVERY_PENDING] and
 * counts[DELIVERY_FAILED]; the others 0). */
store_err_t store_delivery_counts(store_reader_t *r, int64_t ws, int64_t counts[DELIVERY_STATUS_COUNT]);

#endif
