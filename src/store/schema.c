/* The schema, as migrations. Times are INTEGER milliseconds since the epoch; enums are
 * stored as their model integers (model/run.h fixes their values). */
#include "store/schema.h"

#include "store/store.h"

/* Migration 10's run statistics: the bucket of a run's duration (completion less start, or less
 * creation when it never started) and of its records_processed, by the lists in store.h. */
#define RS_DURATION_MS(R)                                                                                              \
    "MAX(0, COALESCE(" R ".completed_at, " R ".updated_at) - COALESCE(" R ".started_at, " R ".created_at))"
#define RS_DURATION_WHEN(R, s)  " WHEN " RS_DURATION_MS(R) " <= " #s "000 THEN " #s
#define RS_DURATION_WHEN_NEW(s) RS_DURATION_WHEN("NEW", s)
#define RS_DURATION_WHEN_OLD(s) RS_DURATION_WHEN("OLD", s)
#define RS_RECORDS_WHEN(R, k)   " WHEN " R ".records_processed <= " #k " THEN " #k
#define RS_RECORDS_WHEN_NEW(k)  RS_RECORDS_WHEN("NEW", k)
#define RS_RECORDS_WHEN_OLD(k)  RS_RECORDS_WHEN("OLD", k)
#define RS_KEY(R, D, K)                                                                                                \
    R ".connection_id, " R                                                                                             \
      ".result, (CASE" STORE_RUN_DURATION_LE(D) " ELSE -1 END), (CASE" STORE_RUN_RECORDS_LE(K) " ELSE -1 END)"
/* Adds (sign "+") or takes away (sign "-") the run R's contribution. */
#define RS_UPSERT(R, D, K, sign)                                                                                       \
    "INSERT INTO run_stats (connection_id, result, duration_le, records_le, n, duration_ms_sum, records_sum, "         \
    "last_completed_at) VALUES (" RS_KEY(R, D, K) ", " sign "1, " sign                                                 \
    RS_DURATION_MS(                                                                                                    \
        R) ", " sign R ".records_processed, COALESCE(" R ".completed_at, " R ".updated_at)) "                          \
           "ON CONFLICT (connection_id, result, duration_le, records_le) DO UPDATE SET n = n + excluded.n, "           \
           "duration_ms_sum = duration_ms_sum + excluded.duration_ms_sum, records_sum = records_sum + "                \
           "excluded.records_sum, "                                                                                    \
           "last_completed_at = MAX(last_completed_at, excluded.last_completed_at);"
#define RS_ADD_NEW RS_UPSERT("NEW", RS_DURATION_WHEN_NEW, RS_RECORDS_WHEN_NEW, "")
#define RS_SUB_OLD RS_UPSERT("OLD", RS_DURATION_WHEN_OLD, RS_RECORDS_WHEN_OLD, "-")

/* Migration 12's rollups: runs finished in one UTC hour (of completion, or of the last update when
 * none is recorded) per connection, result and duration bucket (STORE_ROLLUP_DURATION_LE_MS). */
#define RR_HOUR(R)               "(COALESCE(" R ".completed_at, " R ".updated_at) / 3600000 * 3600000)"
#define RR_DURATION_WHEN(R, ms)  " WHEN " RS_DURATION_MS(R) " <= " #ms " THEN " #ms
#define RR_DURATION_WHEN_NEW(ms) RR_DURATION_WHEN("NEW", ms)
#define RR_DURATION_WHEN_OLD(ms) RR_DURATION_WHEN("OLD", ms)
#define RR_KEY(R, D)                                                                                                   \
    R ".connection_id, " RR_HOUR(R) ", " R ".result, (CASE" STORE_ROLLUP_DURATION_LE_MS(D) " ELSE -1 END)"
#define RR_UPSERT(R, D, sign)                                                                                          \
    "INSERT INTO run_rollups (connection_id, hour, result, duration_le, n, duration_ms_sum, records_sum) "             \
    "VALUES (" RR_KEY(R, D) ", " sign "1, " sign                                                                       \
    RS_DURATION_MS(R) ", " sign R ".records_processed) "                                                               \
                      "ON CONFLICT (connection_id, hour, result, duration_le) DO UPDATE SET n = n + excluded.n, "      \
                      "duration_ms_sum = duration_ms_sum + excluded.duration_ms_sum, "                                 \
                      "records_sum = records_sum + excluded.records_sum;"
#define RR_ADD_NEW RR_UPSERT("NEW", RR_DURATION_WHEN_NEW, "")
#define RR_SUB_OLD RR_UPSERT("OLD", RR_DURATION_WHEN_OLD, "-")
/* The fields a finished run's rollup (and run_stats) depend on: when one changes, the old
 * contribution is taken away and the new one added. */
#define RS_COUNTED_CHANGED                                                                                             \
    "  NEW.result IS NOT OLD.result OR NEW.completed_at IS NOT OLD.completed_at"                                       \
    "  OR NEW.started_at IS NOT OLD.started_at OR NEW.created_at IS NOT OLD.created_at"                                \
    "  OR NEW.updated_at IS NOT OLD.updated_at AND NEW.completed_at IS NULL"                                           \
    "  OR NEW.records_processed IS NOT OLD.records_processed"

const char *const schema_migrations[] = {
    /* 1: workspaces, keys, connections, runs, events, jobs, tasks */
    ("CREATE TABLE workspaces ("
     "  id INTEGER PRIMARY KEY,"
     "  uuid TEXT NOT NULL UNIQUE,"
     "  name TEXT NOT NULL,"
     "  created_at INTEGER NOT NULL);"
     "CREATE TABLE api_keys ("
     "  id INTEGER PRIMARY KEY,"
     "  workspace_id INTEGER NOT NULL REFERENCES workspaces(id),"
     "  name TEXT,"
     "  scope INTEGER NOT NULL,"
     "  token_hash TEXT NOT NULL UNIQUE," /* SHA-256 of the token; the token itself is never stored */
     "  prefix TEXT NOT NULL,"
     "  created_at INTEGER NOT NULL,"
     "  revoked_at INTEGER);"
     "CREATE TABLE connections ("
     "  id INTEGER PRIMARY KEY,"
     "  uuid TEXT NOT NULL UNIQUE,"
     "  workspace_id INTEGER NOT NULL REFERENCES workspaces(id),"
     "  name TEXT NOT NULL,"
     "  source TEXT,"
     "  destination TEXT,"
     "  connector_type TEXT,"
     "  overlap INTEGER NOT NULL DEFAULT 0,"
     "  run_count INTEGER NOT NULL DEFAULT 0," /* the gapless per-connection sequence; also the total */
     "  created_at INTEGER NOT NULL,"
     "  updated_at INTEGER NOT NULL,"
     "  deleted_at INTEGER);"
     "CREATE INDEX connections_workspace ON connections(workspace_id, id) WHERE deleted_at IS NULL;"
     "CREATE TABLE runs ("
     "  id INTEGER PRIMARY KEY,"
     "  uuid TEXT NOT NULL UNIQUE,"
     "  workspace_id INTEGER NOT NULL,"
     "  connection_id INTEGER NOT NULL REFERENCES connections(id),"
     "  run_count INTEGER NOT NULL,"
     "  state INTEGER NOT NULL,"
     "  result INTEGER NOT NULL DEFAULT 0,"
     "  created_at INTEGER NOT NULL,"
     "  updated_at INTEGER NOT NULL,"
     "  scheduled_at INTEGER,"
     "  started_at INTEGER,"
     "  completed_at INTEGER,"
     "  trigger_tag TEXT,"
     "  trigger_detail TEXT,"
     "  full_sync INTEGER NOT NULL DEFAULT 0,"
     "  current_step TEXT,"
     "  source_record_count INTEGER NOT NULL DEFAULT 0,"
     "  source_record_updates INTEGER NOT NULL DEFAULT 0,"
     "  source_record_deletes INTEGER NOT NULL DEFAULT 0,"
     "  source_record_invalids INTEGER NOT NULL DEFAULT 0,"
     "  records_processed INTEGER NOT NULL DEFAULT 0,"
     "  records_updated INTEGER NOT NULL DEFAULT 0,"
     "  records_failed INTEGER NOT NULL DEFAULT 0,"
     "  records_invalid INTEGER NOT NULL DEFAULT 0,"
     "  watermark INTEGER,"
     "  message TEXT,"
     "  error_code TEXT,"
     "  error_message TEXT,"
     "  error_detail TEXT,"
     "  attempt INTEGER NOT NULL DEFAULT 1,"
     "  version INTEGER NOT NULL DEFAULT 1,"
     "  idempotency_key TEXT,"
     "  idempotency_hash TEXT,"
     "  UNIQUE (connection_id, run_count));" /* the page index: a page is a run_count range */
     "CREATE INDEX runs_active ON runs(connection_id, run_count) WHERE state < 3;"
     "CREATE UNIQUE INDEX runs_idempotency ON runs(connection_id, idempotency_key) WHERE idempotency_key IS NOT NULL;"
     "CREATE TABLE run_events ("
     "  id INTEGER PRIMARY KEY,"
     "  run_id INTEGER NOT NULL REFERENCES runs(id),"
     "  at INTEGER NOT NULL,"
     "  kind TEXT NOT NULL,"
     "  data TEXT NOT NULL);"
     "CREATE INDEX run_events_run ON run_events(run_id, id);"
     "CREATE TABLE jobs ("
     "  id INTEGER PRIMARY KEY,"
     "  uuid TEXT NOT NULL UNIQUE,"
     "  run_id INTEGER NOT NULL REFERENCES runs(id),"
     "  name TEXT,"
     "  connector_type TEXT,"
     "  phase TEXT,"
     "  state INTEGER NOT NULL,"
     "  result INTEGER NOT NULL DEFAULT 0,"
     "  started_at INTEGER,"
     "  ended_at INTEGER);"
     "CREATE INDEX jobs_run ON jobs(run_id, id);"
     "CREATE TABLE tasks ("
     "  id INTEGER PRIMARY KEY,"
     "  uuid TEXT NOT NULL UNIQUE,"
     "  job_id INTEGER NOT NULL REFERENCES jobs(id),"
     "  state INTEGER NOT NULL,"
     "  result INTEGER NOT NULL DEFAULT 0,"
     "  source_file_id TEXT,"
     "  retry_attempts INTEGER NOT NULL DEFAULT 0,"
     "  started_at INTEGER,"
     "  ended_at INTEGER,"
     "  error_json TEXT,"
     "  has_report INTEGER NOT NULL DEFAULT 0,"
     "  report_message TEXT,"
     "  report_suggested_action TEXT,"
     "  report_errors INTEGER NOT NULL DEFAULT 0,"
     "  report_warnings INTEGER NOT NULL DEFAULT 0,"
     "  report_other INTEGER NOT NULL DEFAULT 0);"
     "CREATE INDEX tasks_job ON tasks(job_id, id);"),

    /* 2: imported history (vendor ids, verbatim vendor fields) and server settings */
    ("ALTER TABLE runs ADD COLUMN external_id TEXT;"
     "ALTER TABLE runs ADD COLUMN external TEXT;"
     "CREATE UNIQUE INDEX runs_external ON runs(connection_id, external_id) WHERE external_id IS NOT NULL;"
     "CREATE TABLE settings ("
     "  name TEXT PRIMARY KEY,"
     "  value BLOB NOT NULL);"
     "INSERT INTO settings (name, value) VALUES ('cursor_secret', randomblob(32));"),

    /* 3: connections that syncrun runs itself (command, schedule, limits) and run logs */
    ("ALTER TABLE connections ADD COLUMN command TEXT;"
     "ALTER TABLE connections ADD COLUMN workdir TEXT;"
     "ALTER TABLE connections ADD COLUMN env TEXT;"
     "ALTER TABLE connections ADD COLUMN schedule TEXT;"
     "ALTER TABLE connections ADD COLUMN timezone TEXT;"
     "ALTER TABLE connections ADD COLUMN timeout_s INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE connections ADD COLUMN retry_max INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE connections ADD COLUMN retry_backoff_s INTEGER NOT NULL DEFAULT 30;"
     "ALTER TABLE connections ADD COLUMN catchup INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE connections ADD COLUMN starting_deadline_s INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE connections ADD COLUMN log_max_bytes INTEGER NOT NULL DEFAULT 1048576;"
     "ALTER TABLE connections ADD COLUMN next_fire_at INTEGER;"
     "CREATE INDEX connections_scheduled ON connections(id) WHERE schedule IS NOT NULL AND deleted_at IS NULL;"
     "CREATE INDEX runs_queued ON runs(id) WHERE state = 0;"
     "CREATE TABLE run_logs ("
     "  run_id INTEGER PRIMARY KEY REFERENCES runs(id),"
     "  data BLOB NOT NULL,"        /* the last log_max_bytes bytes of the run's output */
     "  total INTEGER NOT NULL);"), /* total: bytes written in all, kept or not */

    /* 4: indexes the runner's queries need on a large history (without them, start-up scanned
     * every run: 0.5 s on a million runs) */
    ("CREATE INDEX runs_inflight ON runs(connection_id) WHERE state IN (1, 2);"
     "CREATE INDEX runs_queued_connection ON runs(connection_id, run_count) WHERE state = 0;"
     "CREATE INDEX connections_managed ON connections(id) WHERE command IS NOT NULL AND deleted_at IS NULL;"),

    /* 5: a managed command's token is limited to its run (run_id), and revoked when the run ends,
     * also when a crash ended it. The tokens earlier versions made ("run #N", runs:write) are
     * revoked here when their run is over: they could write to any run of the workspace, and those
     * of runs interrupted by a crash were never revoked. */
    ("ALTER TABLE api_keys ADD COLUMN run_id INTEGER REFERENCES runs(id);"
     "CREATE INDEX api_keys_run ON api_keys(run_id) WHERE run_id IS NOT NULL AND revoked_at IS NULL;"
     "UPDATE api_keys SET revoked_at = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) "
     "WHERE revoked_at IS NULL AND scope = 1 AND name GLOB 'run #[0-9]*' AND EXISTS ("
     "  SELECT 1 FROM runs r WHERE r.id = CAST(substr(api_keys.name, 6) AS INTEGER)"
     "  AND r.workspace_id = api_keys.workspace_id AND r.state = 3 AND r.created_at <= api_keys.created_at);"),

    /* 6: a page's jobs counted by result from the index alone (BlueConic goalStatistics): 5x fewer
     * pages read than through the table, on runs with thousands of jobs */
    ("CREATE INDEX IF NOT EXISTS jobs_run_result ON jobs(run_id, result);"),

    /* 7: run logs as chunks, so an append writes what it appends instead of rewriting the log.
     * run_logs keeps the header: total (bytes written in all), kept (bytes kept) and skip_bytes
     * (bytes of the oldest chunk cut off). sqlite.c runs a data step after this SQL: it moves
     * each run_logs.data into chunks and drops the column. */
    ("CREATE TABLE run_log_chunks ("
     "  id INTEGER PRIMARY KEY,"
     "  run_id INTEGER NOT NULL REFERENCES runs(id),"
     "  data BLOB NOT NULL);" /* at most 64 KiB each, in append order */
     "CREATE INDEX run_log_chunks_run ON run_log_chunks(run_id, id);"
     "ALTER TABLE run_logs ADD COLUMN kept INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE run_logs ADD COLUMN skip_bytes INTEGER NOT NULL DEFAULT 0;"),

    /* 8: OAuth access tokens issued for an API key (client-credentials grant, BlueConic's
     * /rest/v2/oauth/token): only their SHA-256 is stored; they end at expires_at or when their key
     * is revoked. */
    ("CREATE TABLE access_tokens ("
     "  id INTEGER PRIMARY KEY,"
     "  key_id INTEGER NOT NULL REFERENCES api_keys(id),"
     "  token_hash TEXT NOT NULL UNIQUE,"
     "  created_at INTEGER NOT NULL,"
     "  expires_at INTEGER NOT NULL);"
     "CREATE INDEX access_tokens_key ON access_tokens(key_id, expires_at);"),

    /* 9: pings (healthchecks.io's protocol): a connection's ping key, kept only as its SHA-256 */
    ("ALTER TABLE connections ADD COLUMN ping_key_hash TEXT;"
     "CREATE UNIQUE INDEX connections_ping_key ON connections(ping_key_hash) WHERE ping_key_hash IS NOT NULL;"),

    /* 10: run statistics per connection, kept by the database itself as runs finish (a finished run
     * inserted, a run becoming finished, a finished run's counted fields changed), so metrics and
     * statistics read a few rows per connection instead of its history, and survive pruning. */
    ("CREATE TABLE run_stats ("
     "  connection_id INTEGER NOT NULL,"
     "  result INTEGER NOT NULL,"
     "  duration_le INTEGER NOT NULL," /* seconds, -1 = +Inf */
     "  records_le INTEGER NOT NULL,"  /* records_processed, -1 = +Inf */
     "  n INTEGER NOT NULL,"
     "  duration_ms_sum INTEGER NOT NULL,"
     "  records_sum INTEGER NOT NULL,"
     "  last_completed_at INTEGER NOT NULL,"
     "  PRIMARY KEY (connection_id, result, duration_le, records_le)) WITHOUT ROWID;"
     "CREATE TRIGGER run_stats_insert AFTER INSERT ON runs WHEN NEW.state = 3 BEGIN " RS_ADD_NEW " END;"
     "CREATE TRIGGER run_stats_finish AFTER UPDATE ON runs WHEN NEW.state = 3 AND OLD.state != 3 BEGIN " RS_ADD_NEW
     " END;"
     "CREATE TRIGGER run_stats_change AFTER UPDATE ON runs WHEN NEW.state = 3 AND OLD.state = 3 AND "
     "(" RS_COUNTED_CHANGED ") BEGIN " RS_SUB_OLD RS_ADD_NEW " END;"
     "INSERT INTO run_stats (connection_id, result, duration_le, records_le, n, duration_ms_sum, records_sum, "
     "  last_completed_at) "
     "SELECT " RS_KEY("NEW", RS_DURATION_WHEN_NEW, RS_RECORDS_WHEN_NEW) ", count(*), sum(" RS_DURATION_MS(
         "NEW") "), sum(NEW.records_processed), max(COALESCE(NEW.completed_at, NEW.updated_at)) FROM runs AS NEW "
                "WHERE NEW.state = 3 GROUP BY 1, 2, 3, 4;"),

    /* 11: alerts (store.h): what a change meant for the people who watch a connection, raised in the
     * change's transaction. run_id is NULL for an alert about the connection itself. */
    ("CREATE TABLE alerts ("
     "  id INTEGER PRIMARY KEY,"
     "  workspace_id INTEGER NOT NULL REFERENCES workspaces(id),"
     "  connection_id INTEGER NOT NULL REFERENCES connections(id),"
     "  run_id INTEGER REFERENCES runs(id),"
     "  event TEXT NOT NULL,"
     "  at INTEGER NOT NULL,"
     "  data TEXT NOT NULL);"
     "CREATE INDEX alerts_workspace ON alerts(workspace_id, id);"
     "CREATE INDEX alerts_connection ON alerts(connection_id, id);"
     "CREATE INDEX alerts_run ON alerts(run_id) WHERE run_id IS NOT NULL;"),

    /* 12: hourly rollups of finished runs per connection (counts by result, a duration histogram,
     * records), kept by the database itself as runs finish, like run_stats, and kept when runs are
     * pruned: statistics over any window of whole hours (GET /v1/connections/{id}/stats, the
     * overview) read a few rows per connection and hour, never the runs. Hourly rows serve the
     * dashboard's 24 h window exactly and its 7 d and 30 d windows with at most 720 rows per
     * connection and bucket; a daily table would not answer a 24 h window ending now. */
    ("CREATE TABLE run_rollups ("
     "  connection_id INTEGER NOT NULL,"
     "  hour INTEGER NOT NULL," /* start of the UTC hour the run finished in, ms */
     "  result INTEGER NOT NULL,"
     "  duration_le INTEGER NOT NULL," /* ms, -1 = +Inf */
     "  n INTEGER NOT NULL,"
     "  duration_ms_sum INTEGER NOT NULL,"
     "  records_sum INTEGER NOT NULL,"
     "  PRIMARY KEY (connection_id, hour, result, duration_le)) WITHOUT ROWID;"
     "CREATE TRIGGER run_rollups_insert AFTER INSERT ON runs WHEN NEW.state = 3 BEGIN " RR_ADD_NEW " END;"
     "CREATE TRIGGER run_rollups_finish AFTER UPDATE ON runs WHEN NEW.state = 3 AND OLD.state != 3 BEGIN " RR_ADD_NEW
     " END;"
     "CREATE TRIGGER run_rollups_change AFTER UPDATE ON runs WHEN NEW.state = 3 AND OLD.state = 3 AND "
     "(" RS_COUNTED_CHANGED ") BEGIN " RR_SUB_OLD RR_ADD_NEW " END;"
     "INSERT INTO run_rollups (connection_id, hour, result, duration_le, n, duration_ms_sum, records_sum) "
     "SELECT " RR_KEY("NEW", RR_DURATION_WHEN_NEW) ", count(*), sum(" RS_DURATION_MS(
         "NEW") "), "
                "sum(NEW.records_processed) FROM runs AS NEW WHERE NEW.state = 3 GROUP BY 1, 2, 3, 4;"),

    /* 13: retention (model/retention.h). A workspace's policy (NULL: none) and a connection's
     * overrides (NULL: the workspace's; 0: no limit). runs_pruned: the run_counts 1..runs_pruned of
     * the connection were pruned (its oldest runs, as a prefix, so the runs kept are the gapless
     * range runs_pruned + 1 .. run_count that the dialects page by). The index finds a run's own
     * keys also once they are revoked, when its run is pruned. */
    ("ALTER TABLE workspaces ADD COLUMN retention_days INTEGER;"
     "ALTER TABLE workspaces ADD COLUMN retention_keep_last INTEGER;"
     "ALTER TABLE workspaces ADD COLUMN retention_failure_days INTEGER;"
     "ALTER TABLE connections ADD COLUMN retention_days INTEGER;"
     "ALTER TABLE connections ADD COLUMN retention_keep_last INTEGER;"
     "ALTER TABLE connections ADD COLUMN retention_failure_days INTEGER;"
     "ALTER TABLE connections ADD COLUMN runs_pruned INTEGER NOT NULL DEFAULT 0;"
     "CREATE INDEX api_keys_run_all ON api_keys(run_id) WHERE run_id IS NOT NULL;"),

    /* 14: what a connection expects of its runs (a schedule or an interval with a grace, duration
     * bounds, watermark checks) and the state the checks keep: the newest run's arrival
     * (last_run_at), the time by which the next must start (expected_by), since when it is late
     * (late_since), the previous successful watermark (wm_last) and the successful runs since it
     * last advanced (wm_flat_runs). A run keeps the flags the checks found and, while it runs with a
     * maximum duration, the time it must have finished by (max_by). The partial indexes are what the
     * checker reads every second: due connections and overdue runs, never the history. */
    ("ALTER TABLE connections ADD COLUMN expect_schedule TEXT;"
     "ALTER TABLE connections ADD COLUMN expect_timezone TEXT;"
     "ALTER TABLE connections ADD COLUMN expect_interval_s INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE connections ADD COLUMN expect_grace_s INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE connections ADD COLUMN min_duration_s INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE connections ADD COLUMN max_duration_s INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE connections ADD COLUMN wm_stall_runs INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE connections ADD COLUMN wm_max_age_s INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE connections ADD COLUMN last_run_at INTEGER;"
     "ALTER TABLE connections ADD COLUMN expected_by INTEGER;"
     "ALTER TABLE connections ADD COLUMN late_since INTEGER;"
     "ALTER TABLE connections ADD COLUMN wm_last INTEGER;"
     "ALTER TABLE connections ADD COLUMN wm_flat_runs INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE runs ADD COLUMN flags INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE runs ADD COLUMN max_by INTEGER;"
     "CREATE INDEX connections_expected ON connections(expected_by) "
     "  WHERE expected_by IS NOT NULL AND late_since IS NULL AND deleted_at IS NULL;"
     "CREATE INDEX connections_late ON connections(workspace_id) WHERE late_since IS NOT NULL AND deleted_at IS NULL;"
     "CREATE INDEX runs_max_by ON runs(max_by) WHERE max_by IS NOT NULL AND state < 3;"),

    /* 15: webhooks (alerts POSTed to a URL, signed per Standard Webhooks) and their deliveries, one per
     * alert and webhook, made in the alert's transaction; every attempt is kept. The secret is kept as
     * given: the sender signs with it (SECURITY.md). */
    ("CREATE TABLE webhooks ("
     "  id INTEGER PRIMARY KEY,"
     "  workspace_id INTEGER NOT NULL REFERENCES workspaces(id),"
     "  url TEXT NOT NULL,"
     "  events TEXT,"                                      /* JSON array of event names; NULL = every event */
     "  connection_id INTEGER REFERENCES connections(id)," /* NULL = every connection */
     "  secret TEXT NOT NULL,"
     "  enabled INTEGER NOT NULL DEFAULT 1,"
     "  disabled_reason TEXT,"
     "  failing_since INTEGER,"
     "  created_at INTEGER NOT NULL,"
     "  updated_at INTEGER NOT NULL,"
     "  deleted_at INTEGER);"
     "CREATE INDEX webhooks_workspace ON webhooks(workspace_id, id) WHERE deleted_at IS NULL;"
     "CREATE TABLE webhook_deliveries ("
     "  id INTEGER PRIMARY KEY,"
     "  msg_id TEXT NOT NULL UNIQUE," /* the webhook-id header */
     "  webhook_id INTEGER NOT NULL REFERENCES webhooks(id),"
     "  workspace_id INTEGER NOT NULL,"
     "  alert_id INTEGER," /* NULL for webhook.test */
     "  event TEXT NOT NULL,"
     "  connection_id INTEGER,"
     "  run_id INTEGER,"
     "  occurred_at INTEGER NOT NULL,"
     "  data TEXT NOT NULL,"
     "  payload TEXT," /* the body as first sent; retries send it again */
     "  status INTEGER NOT NULL DEFAULT 0,"
     "  attempts INTEGER NOT NULL DEFAULT 0,"
     "  next_attempt_at INTEGER,"
     "  last_status_code INTEGER,"
     "  last_latency_ms INTEGER,"
     "  last_error TEXT,"
     "  created_at INTEGER NOT NULL,"
     "  updated_at INTEGER NOT NULL,"
     "  delivered_at INTEGER);"
     "CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries(webhook_id, id);"
     "CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE status IN (0, 2);"
     "CREATE TABLE webhook_attempts ("
     "  id INTEGER PRIMARY KEY,"
     "  delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries(id),"
     "  at INTEGER NOT NULL,"
     "  status_code INTEGER,"
     "  latency_ms INTEGER NOT NULL,"
     "  error TEXT);"
     "CREATE INDEX webhook_attempts_delivery ON webhook_attempts(delivery_id, id);"),

    /* 16: finished deliveries (delivered, dead) by age, so that deleting those past their keep time
     * reads them, not every delivery (tests/unit/test_store_plans.c) */
    ("CREATE INDEX webhook_deliveries_finished ON webhook_deliveries(updated_at, id) WHERE status IN (1, 3);"),

    /* 17: the overview's strips (the 30 newest runs of each connection, ST_RUNS_RECENT) read from
     * this index alone: the (connection_id, run_count) key and every column a strip entry needs. A
     * read through the unique key fetched each of the 30,000 runs of 1,000 connections from the
     * table, scattered over it (a third of GET /v1/overview's time on bench/gen.py's data set).
     * About 60 bytes a run; a run's update rewrites its entry (tests/unit/test_store_plans.c). */
    ("CREATE INDEX runs_strip ON runs(connection_id, run_count, state, result, created_at, updated_at, started_at, "
     "completed_at, records_processed);"),

    /* 18: Census's rendering of each finished run (model/census_run.h), kept beside the runs in page
     * order, so a page of Census sync runs is one range read of ready bytes instead of a row lookup
     * and a rendering per run (src/store/sqlite_census.c). The database keeps it honest by itself,
     * for every writer (the server, imports, tools that write with sqlite3): a run that becomes
     * finished, or is inserted finished, is queued in census_runs_todo, where the server's renderer
     * (src/exec/renderer.c) takes it from; any change to a finished run, or its deletion (retention),
     * deletes its rendering (and queues it again while it exists). The queue is in page order too:
     * a batch of renderings then writes a few neighbouring pages, not one page per run. Runs
     * finished before this migration are queued here: the renderer works through them after
     * start-up. */
    ("CREATE TABLE census_runs ("
     "  connection_id INTEGER NOT NULL,"
     "  run_count INTEGER NOT NULL,"
     "  run_id INTEGER NOT NULL,"
     "  format INTEGER NOT NULL," /* CENSUS_RUN_FORMAT it was rendered with; others are never served */
     "  body BLOB NOT NULL,"
     "  PRIMARY KEY (connection_id, run_count)) WITHOUT ROWID;"
     "CREATE TABLE census_runs_todo ("
     "  connection_id INTEGER NOT NULL,"
     "  run_count INTEGER NOT NULL,"
     "  run_id INTEGER NOT NULL,"
     "  PRIMARY KEY (connection_id, run_count, run_id)) WITHOUT ROWID;"
     "CREATE TRIGGER census_runs_insert AFTER INSERT ON runs WHEN NEW.state = 3 BEGIN "
     "  INSERT OR IGNORE INTO census_runs_todo VALUES (NEW.connection_id, NEW.run_count, NEW.id); END;"
     "CREATE TRIGGER census_runs_finish AFTER UPDATE ON runs WHEN NEW.state = 3 AND OLD.state != 3 BEGIN "
     "  INSERT OR IGNORE INTO census_runs_todo VALUES (NEW.connection_id, NEW.run_count, NEW.id); END;"
     "CREATE TRIGGER census_runs_change AFTER UPDATE ON runs WHEN OLD.state = 3 BEGIN "
     "  DELETE FROM census_runs WHERE connection_id = OLD.connection_id AND run_count = OLD.run_count;"
     "  INSERT OR IGNORE INTO census_runs_todo SELECT NEW.connection_id, NEW.run_count, NEW.id "
     "  WHERE NEW.state = 3; END;"
     "CREATE TRIGGER census_runs_delete AFTER DELETE ON runs WHEN OLD.state = 3 BEGIN "
     "  DELETE FROM census_runs WHERE connection_id = OLD.connection_id AND run_count = OLD.run_count; END;"
     "INSERT INTO census_runs_todo SELECT connection_id, run_count, id FROM runs WHERE state = 3;"),

    /* 19: migration 17's runs_strip goes again. It holds columns every progress update and finish
     * sets (updated_at, records_processed, state), so each of those writes rewrote its entry: more
     * pages dirtied per commit, and durable ingestion fell by a third (bench: 3,036 -> 2,001
     * lifecycles/s back to back on an empty database), for about 80 ms of GET /v1/overview's server
     * time. The strips read runs through (connection_id, run_count) again. A partial index over
     * finished runs only (immutable, so written once) would give both; tests/unit/test_store_plans.c
     * now checks that a progress update rewrites no index entry. */
    "DROP INDEX IF EXISTS runs_strip;",
};

const size_t schema_migration_count = sizeof(schema_migrations) / sizeof(schema_migrations[0]);
