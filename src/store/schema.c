/* The schema, as migrations. Times are INTEGER milliseconds since the epoch; enums are
 * stored as their model integers (model/run.h fixes their values). */
#include "store/schema.h"

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
};

const size_t schema_migration_count = sizeof(schema_migrations) / sizeof(schema_migrations[0]);
