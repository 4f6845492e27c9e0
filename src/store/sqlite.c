/* SQLite store: opening and migrating the database, the statement table, and the writer's backend
 * (transactions for the group-commit writer of writer.c). Writes are in sqlite_write.c, reads in
 * sqlite_read.c. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/schema.h"
#include "store/sqlite_int.h"
#include "store/writer.h"
#include "util/log.h"

#define RUN_COLS                                                                                                       \
    "r.id, r.uuid, r.workspace_id, r.connection_id, c.uuid, r.run_count, r.state, r.result, r.created_at, "            \
    "r.updated_at, r.scheduled_at, r.started_at, r.completed_at, r.trigger_tag, r.trigger_detail, r.full_sync, "       \
    "r.current_step, r.source_record_count, r.source_record_updates, r.source_record_deletes, "                        \
    "r.source_record_invalids, r.records_processed, r.records_updated, r.records_failed, r.records_invalid, "          \
    "r.watermark, r.message, r.error_code, r.error_message, r.error_detail, r.attempt, r.version, "                    \
    "r.external_id, r.external, r.flags "                                                                              \
    "FROM runs r JOIN connections c ON c.id = r.connection_id AND c.deleted_at IS NULL "
#define CONN_COLS                                                                                                      \
    "id, uuid, workspace_id, name, source, destination, connector_type, overlap, run_count, created_at, updated_at, "  \
    "command, workdir, env, schedule, timezone, timeout_s, retry_max, retry_backoff_s, catchup, starting_deadline_s, " \
    "log_max_bytes, next_fire_at, retention_days, retention_keep_last, retention_failure_days, runs_pruned, "          \
    "expect_schedule, expect_timezone, expect_interval_s, expect_grace_s, min_duration_s, max_duration_s, "            \
    "wm_stall_runs, wm_max_age_s, last_run_at, expected_by, late_since, wm_last, wm_flat_runs FROM connections "
#define JOB_COLS "id, uuid, run_id, name, connector_type, phase, state, result, started_at, ended_at FROM jobs "
#define TASK_COLS                                                                                                      \
    "id, uuid, job_id, state, result, source_file_id, retry_attempts, started_at, ended_at, error_json, has_report, "  \
    "report_message, report_suggested_action, report_errors, report_warnings, report_other FROM tasks "
#define JOB_COLS_J                                                                                                     \
    "j.id, j.uuid, j.run_id, j.name, j.connector_type, j.phase, j.state, j.result, j.started_at, j.ended_at"
#define TASK_COLS_T                                                                                                    \
    "t.id, t.uuid, t.job_id, t.state, t.result, t.source_file_id, t.retry_attempts, t.started_at, t.ended_at, "        \
    "t.error_json, t.has_report, t.report_message, t.report_suggested_action, t.report_errors, t.report_warnings, "    \
    "t.report_other"
#define WEBHOOK_COLS                                                                                                   \
    "id, workspace_id, url, events, connection_id, secret, enabled, disabled_reason, failing_since, created_at, "      \
    "updated_at FROM webhooks "
#define DELIVERY_COLS                                                                                                  \
    "d.id, d.msg_id, d.webhook_id, d.workspace_id, d.alert_id, d.event, d.connection_id, d.run_id, d.occurred_at, "    \
    "d.data, d.payload, d.status, d.attempts, d.next_attempt_at, d.last_status_code, d.last_latency_ms, "              \
    "d.last_error, d.created_at, d.updated_at, d.delivered_at"
#define DELIVERY_INSERT                                                                                                \
    "INSERT INTO webhook_deliveries (msg_id, webhook_id, workspace_id, alert_id, event, connection_id, run_id, "       \
    "occurred_at, data, status, attempts, next_attempt_at, created_at, updated_at) "
#define PAGE_JOBS "runs r JOIN jobs j ON j.run_id = r.id "
#define PAGE_RUNS "r.connection_id = ?1 AND r.workspace_id = ?2 AND r.run_count BETWEEN ?3 AND ?4"
#define RUN_FILTERS                                                                                                    \
    " AND (?4 < 0 OR r.state = ?4) AND (?5 < 0 OR r.result = ?5) AND (?6 IS NULL OR r.trigger_tag = ?6)"               \
    " AND (?7 = 0 OR r.created_at >= ?7) AND (?8 = 0 OR r.created_at <= ?8) AND (?10 = 0 OR r.result <> ?10)"

static const char *const stmt_sql[ST_COUNT] = {
    [ST_WORKSPACE_INSERT] = "INSERT INTO workspaces (uuid, name, created_at) VALUES (?1, ?2, ?3)",
    [ST_WORKSPACE_COUNT] = "SELECT count(*) FROM workspaces",
    [ST_WORKSPACE_GET] = "SELECT id, uuid, name, created_at, retention_days, retention_keep_last, "
                         "retention_failure_days FROM workspaces WHERE id = ?1",
    [ST_KEY_INSERT] = "INSERT INTO api_keys (workspace_id, name, scope, token_hash, prefix, created_at, run_id) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_KEY_LOOKUP] =
        "SELECT id, workspace_id, scope, run_id FROM api_keys WHERE token_hash = ?1 AND revoked_at IS NULL",
    [ST_KEY_LIST] = "SELECT id, name, scope, prefix, created_at FROM api_keys "
                    "WHERE workspace_id = ?1 AND revoked_at IS NULL AND id > ?2 ORDER BY id LIMIT ?3",
    [ST_CONN_INSERT] =
        "INSERT INTO connections (uuid, workspace_id, name, source, destination, connector_type, "
        "overlap, created_at, updated_at, command, workdir, env, schedule, timezone, timeout_s, "
        "retry_max, retry_backoff_s, catchup, starting_deadline_s, log_max_bytes, next_fire_at, expect_schedule, "
        "expect_timezone, expect_interval_s, expect_grace_s, min_duration_s, max_duration_s, wm_stall_runs, "
        "wm_max_age_s) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, "
        "?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28)",
    [ST_CONN_GET] = "SELECT " CONN_COLS "WHERE id = ?1 AND workspace_id = ?2 AND deleted_at IS NULL",
    [ST_CONN_GET_UUID] = "SELECT " CONN_COLS "WHERE uuid = ?1 AND workspace_id = ?2 AND deleted_at IS NULL",
    [ST_CONN_GET_PING_KEY] = "SELECT " CONN_COLS "WHERE ping_key_hash = ?1 AND deleted_at IS NULL",
    [ST_CONN_SET_PING_KEY] = "UPDATE connections SET ping_key_hash = ?3, updated_at = ?4 "
                             "WHERE id = ?1 AND workspace_id = ?2 AND deleted_at IS NULL",
    [ST_CONN_LIST] = "SELECT " CONN_COLS "WHERE workspace_id = ?1 AND deleted_at IS NULL AND id > ?2 "
                     "ORDER BY id LIMIT ?3",
    [ST_CONN_COUNT] = "SELECT count(*) FROM connections WHERE workspace_id = ?1 AND deleted_at IS NULL",
    [ST_TOKEN_KEY_USABLE] = "SELECT scope FROM api_keys WHERE id = ?1 AND workspace_id = ?2 AND revoked_at IS NULL "
                            "AND run_id IS NULL",
    [ST_TOKEN_PURGE] = "DELETE FROM access_tokens WHERE key_id = ?1 AND expires_at <= ?2",
    [ST_TOKEN_TRIM] = "DELETE FROM access_tokens WHERE key_id = ?1 AND id <= (SELECT id FROM access_tokens "
                      "WHERE key_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
    [ST_TOKEN_INSERT] =
        "INSERT INTO access_tokens (key_id, token_hash, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
    [ST_TOKEN_LOOKUP] = "SELECT k.id, k.workspace_id, k.scope, t.expires_at FROM access_tokens t "
                        "JOIN api_keys k ON k.id = t.key_id WHERE t.token_hash = ?1 AND t.expires_at > ?2 "
                        "AND k.revoked_at IS NULL",
    [ST_CONN_UPDATE] = "UPDATE connections SET name = ?2, source = ?3, destination = ?4, connector_type = ?5, "
                       "overlap = ?6, updated_at = ?7, command = ?8, workdir = ?9, env = ?10, schedule = ?11, "
                       "timezone = ?12, timeout_s = ?13, retry_max = ?14, retry_backoff_s = ?15, catchup = ?16, "
                       "starting_deadline_s = ?17, log_max_bytes = ?18, next_fire_at = ?19, expect_schedule = ?20, "
                       "expect_timezone = ?21, expect_interval_s = ?22, expect_grace_s = ?23, min_duration_s = ?24, "
                       "max_duration_s = ?25, wm_stall_runs = ?26, wm_max_age_s = ?27 WHERE id = ?1",
    [ST_CONN_DELETE] = "UPDATE connections SET deleted_at = ?2, updated_at = ?2 WHERE id = ?1",
    [ST_CONN_BUMP] = "UPDATE connections SET run_count = run_count + 1 WHERE id = ?1 RETURNING run_count",
    [ST_RUN_GET] = "SELECT " RUN_COLS "WHERE r.id = ?1 AND r.workspace_id = ?2",
    [ST_RUN_GET_UUID] = "SELECT " RUN_COLS "WHERE r.uuid = ?1 AND r.workspace_id = ?2",
    [ST_RUN_ACTIVE] = "SELECT id FROM runs WHERE connection_id = ?1 AND state < 3 ORDER BY run_count LIMIT 1",
    [ST_RUN_BY_IDEM] = "SELECT id, idempotency_hash FROM runs WHERE connection_id = ?1 AND idempotency_key = ?2",
    [ST_RUN_INSERT] = "INSERT INTO runs (uuid, workspace_id, connection_id, run_count, state, result, created_at, "
                      "updated_at, scheduled_at, started_at, completed_at, trigger_tag, trigger_detail, full_sync, "
                      "idempotency_key, idempotency_hash) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    [ST_RUN_SAVE] = "UPDATE runs SET state = ?2, result = ?3, updated_at = ?4, started_at = ?5, completed_at = ?6, "
                    "current_step = ?7, source_record_count = ?8, source_record_updates = ?9, "
                    "source_record_deletes = ?10, source_record_invalids = ?11, records_processed = ?12, "
                    "records_updated = ?13, records_failed = ?14, records_invalid = ?15, watermark = ?16, "
                    "message = ?17, error_code = ?18, error_message = ?19, error_detail = ?20, attempt = ?21, "
                    "version = ?22 WHERE id = ?1",
    /* The same without the columns of the state: the partial indexes on state are not touched by
     * progress updates (same parameter numbers; the others are bound and unused). */
    [ST_RUN_SAVE_PROGRESS] = "UPDATE runs SET updated_at = ?4, current_step = ?7, source_record_count = ?8, "
                             "source_record_updates = ?9, source_record_deletes = ?10, source_record_invalids = ?11, "
                             "records_processed = ?12, records_updated = ?13, records_failed = ?14, "
                             "records_invalid = ?15, watermark = ?16, message = ?17, error_code = ?18, "
                             "error_message = ?19, error_detail = ?20, version = ?22 WHERE id = ?1",
    [ST_RUN_RANGE_ASC] = "SELECT " RUN_COLS "WHERE r.connection_id = ?1 AND r.workspace_id = ?2 "
                         "AND r.run_count BETWEEN ?3 AND ?4 ORDER BY r.run_count ASC",
    [ST_RUN_RANGE_DESC] = "SELECT " RUN_COLS "WHERE r.connection_id = ?1 AND r.workspace_id = ?2 "
                          "AND r.run_count BETWEEN ?3 AND ?4 ORDER BY r.run_count DESC",
    [ST_RUN_LIST_ASC] = "SELECT " RUN_COLS "WHERE r.connection_id = ?1 AND r.workspace_id = ?2 "
                        "AND r.run_count > ?3" RUN_FILTERS " ORDER BY r.run_count ASC LIMIT ?9",
    [ST_RUN_LIST_DESC] = "SELECT " RUN_COLS "WHERE r.connection_id = ?1 AND r.workspace_id = ?2 "
                         "AND r.run_count < ?3" RUN_FILTERS " ORDER BY r.run_count DESC LIMIT ?9",
    [ST_EVENT_INSERT] = "INSERT INTO run_events (run_id, at, kind, data) VALUES (?1, ?2, ?3, ?4)",
    [ST_EVENT_LIST] = "SELECT id, run_id, at, kind, data FROM run_events WHERE run_id = ?1 AND id > ?2 "
                      "ORDER BY id LIMIT ?3",
    [ST_JOB_INSERT] = "INSERT INTO jobs (uuid, run_id, name, connector_type, phase, state, result, started_at, "
                      "ended_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [ST_JOB_GET] = "SELECT " JOB_COLS "WHERE run_id = ?1 AND uuid = ?2",
    [ST_JOB_SAVE] = "UPDATE jobs SET name = ?2, connector_type = ?3, phase = ?4, state = ?5, result = ?6, "
                    "started_at = ?7, ended_at = ?8 WHERE id = ?1",
    [ST_TASK_INSERT] = "INSERT INTO tasks (uuid, job_id, state, result, source_file_id, retry_attempts, started_at, "
                       "ended_at, error_json, has_report, report_message, report_suggested_action, report_errors, "
                       "report_warnings, report_other) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    [ST_TASK_GET] = "SELECT " TASK_COLS "WHERE job_id = ?1 AND uuid = ?2",
    [ST_TASK_SAVE] = "UPDATE tasks SET state = ?2, result = ?3, source_file_id = ?4, retry_attempts = ?5, "
                     "started_at = ?6, ended_at = ?7, error_json = ?8, has_report = ?9, report_message = ?10, "
                     "report_suggested_action = ?11, report_errors = ?12, report_warnings = ?13, "
                     "report_other = ?14 WHERE id = ?1",
    /* Reads of the jobs of a page of runs (a run_count range, newest first): one statement for
     * the whole page, walked in index order, so LIMIT bounds the rows read. */
    [ST_UNITS_RANGE] = "SELECT r.id, " JOB_COLS_J ", " TASK_COLS_T " FROM " PAGE_JOBS
                       "LEFT JOIN tasks t ON t.job_id = j.id WHERE " PAGE_RUNS " AND j.id > ?5 "
                       "ORDER BY r.run_count DESC, j.id, t.id LIMIT ?6",
    [ST_JOBS_FIRST] = "SELECT r.id, " JOB_COLS_J " FROM runs r JOIN jobs j ON j.id IN (SELECT id FROM jobs "
                      "WHERE run_id = r.id AND (?5 >> result) & 1 ORDER BY id LIMIT ?6) WHERE " PAGE_RUNS
                      " ORDER BY r.run_count DESC, j.id",
    /* from the covering index jobs_run_result, grouped in its order */
    [ST_JOB_COUNTS] = "SELECT r.id, j.result, count(*) FROM " PAGE_JOBS "WHERE " PAGE_RUNS
                      " GROUP BY r.run_count, j.result ORDER BY r.run_count DESC",
    [ST_RUN_BY_EXTERNAL] = "SELECT id FROM runs WHERE connection_id = ?1 AND external_id = ?2",
    [ST_RUN_SET_EXTERNAL] = "UPDATE runs SET external_id = ?2, external = ?3 WHERE id = ?1",
    [ST_RUN_NEWEST_CREATED] = "SELECT created_at FROM runs WHERE connection_id = ?1 ORDER BY run_count DESC LIMIT 1",
    /* Renumbering in two steps: UNIQUE (connection_id, run_count) is checked row by row, so the
     * old numbers are first moved out of the way (negated). A renumbered run's version changes:
     * its renderings (and ETags) carry run_count. */
    [ST_RUNS_SEQUENCE_CLEAR] = "UPDATE runs SET run_count = -run_count WHERE connection_id = ?1",
    [ST_RUNS_SEQUENCE_BY_CREATION] =
        "UPDATE runs SET run_count = t.rn, version = runs.version + (t.rn <> -runs.run_count) "
        "FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) + (SELECT runs_pruned FROM connections "
        "WHERE id = ?1) AS rn FROM runs WHERE connection_id = ?1) AS t WHERE runs.id = t.id",
    [ST_SETTING_GET] = "SELECT value FROM settings WHERE name = ?1",
    [ST_KEY_REVOKE] = "UPDATE api_keys SET revoked_at = ?3 WHERE id = ?1 AND workspace_id = ?2 AND revoked_at IS NULL",
    /* Run at every start: reads the live run tokens (the partial index) and each one's run by its
     * key, never the finished runs (an IN list of them read every run of the database). */
    [ST_KEYS_REVOKE_ENDED_RUNS] = "UPDATE api_keys INDEXED BY api_keys_run SET revoked_at = ?1 "
                                  "WHERE run_id IS NOT NULL AND revoked_at IS NULL "
                                  "AND EXISTS (SELECT 1 FROM runs r WHERE r.id = api_keys.run_id AND r.state = 3)",
    [ST_LOG_GET] = "SELECT total, kept, skip_bytes FROM run_logs WHERE run_id = ?1",
    [ST_LOG_PUT] = "INSERT INTO run_logs (run_id, total, kept, skip_bytes) VALUES (?1, ?2, ?3, ?4) "
                   "ON CONFLICT (run_id) DO UPDATE SET total = excluded.total, kept = excluded.kept, "
                   "skip_bytes = excluded.skip_bytes",
    /* length() of a blob reads the record header, not the blob */
    [ST_LOG_CHUNK_LENS] = "SELECT id, length(data) FROM run_log_chunks WHERE run_id = ?1 ORDER BY id",
    [ST_LOG_CHUNK_DATA] = "SELECT data FROM run_log_chunks WHERE id = ?1",
    [ST_LOG_CHUNK_INSERT] = "INSERT INTO run_log_chunks (run_id, data) VALUES (?1, ?2)",
    [ST_LOG_CHUNK_LAST] = "SELECT id, length(data) FROM run_log_chunks WHERE run_id = ?1 ORDER BY id DESC LIMIT 1",
    [ST_LOG_CHUNK_SET] = "UPDATE run_log_chunks SET data = ?2 WHERE id = ?1",
    [ST_LOG_CHUNKS_DELETE] = "DELETE FROM run_log_chunks WHERE run_id = ?1 AND id <= ?2",
    [ST_LOG_CHUNKS_READ] = "SELECT data FROM run_log_chunks WHERE run_id = ?1 ORDER BY id",
    [ST_RUN_STATS] = "SELECT s.connection_id, s.result, s.duration_le, s.records_le, s.n, s.duration_ms_sum, "
                     "s.records_sum, s.last_completed_at FROM run_stats s JOIN connections c ON c.id = s.connection_id "
                     "WHERE c.workspace_id = ?1 AND s.connection_id BETWEEN ?2 AND ?3 AND s.n > 0 "
                     "ORDER BY s.connection_id LIMIT ?4",
    [ST_ACTIVE_COUNTS] = "SELECT connection_id, sum(state = 0), sum(state != 0) FROM runs "
                         "WHERE state < 3 AND workspace_id = ?1 GROUP BY connection_id",
    [ST_LOG_CHUNK_FIRST] = "SELECT id FROM run_log_chunks WHERE run_id = ?1 ORDER BY id LIMIT 1",
    [ST_LOG_CHUNKS_FROM] = "SELECT id, data FROM run_log_chunks WHERE run_id = ?1 AND id >= ?2 ORDER BY id",
    /* Driven from the connections that have a command (few), each looked up through the partial
     * indexes of queued and in-flight runs: the cost does not grow with the history. */
    [ST_RUNS_STARTABLE] =
        "SELECT " RUN_COLS "WHERE r.id IN (SELECT (SELECT q.id FROM runs q WHERE q.connection_id = m.id "
        "AND q.state = 0 ORDER BY q.run_count LIMIT 1) FROM connections m "
        "WHERE m.command IS NOT NULL AND m.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM runs b "
        "WHERE b.connection_id = m.id AND b.state IN (1, 2))) ORDER BY r.id LIMIT ?1",
    [ST_CONNS_SCHEDULED] =
        "SELECT " CONN_COLS "WHERE schedule IS NOT NULL AND deleted_at IS NULL AND id > ?1 ORDER BY id LIMIT ?2",
    [ST_RUNS_ACTIVE_MANAGED] = "SELECT " RUN_COLS "WHERE r.state IN (1, 2) AND c.command IS NOT NULL",
    /* the writer's transaction control, prepared once: it runs a few times per write */
    [ST_READ_BEGIN] = "BEGIN",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SAVEPOINT] = "SAVEPOINT w",
    [ST_RELEASE] = "RELEASE w",
    [ST_ROLLBACK_TO] = "ROLLBACK TO w",
    [ST_RUN_KEYS_ASC] = "SELECT id, version, state FROM runs WHERE connection_id = ?1 AND workspace_id = ?2 "
                        "AND run_count BETWEEN ?3 AND ?4 ORDER BY run_count ASC",
    [ST_RUN_KEYS_DESC] = "SELECT id, version, state FROM runs WHERE connection_id = ?1 AND workspace_id = ?2 "
                         "AND run_count BETWEEN ?3 AND ?4 ORDER BY run_count DESC",
    [ST_RUN_GET_EXTERNAL] =
        "SELECT " RUN_COLS "WHERE r.connection_id = ?1 AND r.external_id = ?2 AND r.workspace_id = ?3",
    /* Dialect connection lists (Census syncs, Braze integrations): a workspace's connections are
     * configuration, not history (few), so a page number may be an offset here. */
    [ST_CONN_PAGE] =
        "SELECT " CONN_COLS "WHERE workspace_id = ?1 AND deleted_at IS NULL ORDER BY id LIMIT ?2 OFFSET ?3",
    [ST_CONN_BEFORE] = "SELECT " CONN_COLS "WHERE workspace_id = ?1 AND deleted_at IS NULL AND id < ?2 "
                       "ORDER BY id DESC LIMIT ?3",
    /* The newest run (highest run_count) of each connection with an id in [?2, ?3]: driven from the
     * connections, each run found through UNIQUE (connection_id, run_count). */
    [ST_RUNS_NEWEST] = "SELECT " RUN_COLS "WHERE r.id IN (SELECT n.id FROM connections m CROSS JOIN runs n "
                       "ON n.connection_id = m.id AND n.run_count = m.run_count WHERE m.workspace_id = ?1 "
                       "AND m.deleted_at IS NULL AND m.id BETWEEN ?2 AND ?3) ORDER BY r.connection_id",
    [ST_ALERT_INSERT] = "INSERT INTO alerts (workspace_id, connection_id, run_id, event, at, data) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    /* the newest finished run before run_count ?2 whose result says how the connection is doing
     * (success, partial, error, config_error, timed_out: not canceled or skipped) */
    [ST_RUN_PREV_DECISIVE] = "SELECT id, result FROM runs WHERE connection_id = ?1 AND run_count < ?2 "
                             "AND state = 3 AND result IN (1, 2, 3, 4, 5) ORDER BY run_count DESC LIMIT 1",
    [ST_ALERT_LIST] = "SELECT id, workspace_id, connection_id, run_id, at, event, data FROM alerts "
                      "WHERE workspace_id = ?1 AND id > ?2 AND (?3 = 0 OR connection_id = ?3) ORDER BY id LIMIT ?4",
    /* Driven from the connections: each one's hours [?4, ?5) through the rollups' primary key. */
    [ST_RUN_ROLLUPS] = "SELECT u.connection_id, u.result, u.duration_le, sum(u.n), sum(u.duration_ms_sum), "
                       "sum(u.records_sum) FROM connections m CROSS JOIN run_rollups u ON u.connection_id = m.id "
                       "AND u.hour >= ?4 AND u.hour < ?5 WHERE m.workspace_id = ?1 AND m.deleted_at IS NULL "
                       "AND m.id BETWEEN ?2 AND ?3 GROUP BY u.connection_id, u.result, u.duration_le "
                       "HAVING sum(u.n) > 0 ORDER BY u.connection_id, u.result, u.duration_le LIMIT ?6",
    /* The ?4 newest runs of each connection: from the ?4-th newest run_count on (found by stepping
     * the (connection_id, run_count) index back from the newest), so gaps left by pruning do not
     * shorten the list. Walked in (connection id, run_count) index order, so no ORDER BY sorter: a
     * sorter of 30,000 whole rows spilled to a temp file (readers keep temp files on disk), half of an
     * overview's time on 1,000 connections. Only the columns a strip entry needs (store_runs_recent). */
    [ST_RUNS_RECENT] = "SELECT r.id, r.connection_id, r.run_count, r.state, r.result, r.created_at, r.updated_at, "
                       "r.started_at, r.completed_at, r.records_processed "
                       "FROM connections c CROSS JOIN runs r ON r.connection_id = c.id "
                       "AND r.run_count >= COALESCE((SELECT x.run_count FROM runs x WHERE x.connection_id = c.id "
                       "ORDER BY x.run_count DESC LIMIT 1 OFFSET ?4 - 1), 0) WHERE c.workspace_id = ?1 "
                       "AND c.deleted_at IS NULL AND c.id BETWEEN ?2 AND ?3 ORDER BY c.id, r.run_count LIMIT ?5",
    /* retention */
    [ST_WORKSPACE_SET_RETENTION] = "UPDATE workspaces SET retention_days = ?2, retention_keep_last = ?3, "
                                   "retention_failure_days = ?4 WHERE id = ?1",
    [ST_CONN_SET_RETENTION] = "UPDATE connections SET retention_days = ?2, retention_keep_last = ?3, "
                              "retention_failure_days = ?4 WHERE id = ?1",
    [ST_RETENTION_TARGETS] =
        "SELECT c.id, c.workspace_id FROM connections c JOIN workspaces w ON w.id = c.workspace_id "
        "WHERE c.deleted_at IS NULL AND c.id > ?1 AND (COALESCE(c.retention_days, w.retention_days, 0) > 0 "
        "OR COALESCE(c.retention_keep_last, w.retention_keep_last, 0) > 0) ORDER BY c.id LIMIT ?2",
    /* the oldest runs below run_count ?2, never the run with the table's highest id (SQLite would give
     * its id to the next run: a cached rendering of the pruned one would answer for it) */
    [ST_PRUNE_CANDIDATES] = "SELECT id, run_count, state, result, created_at, watermark IS NOT NULL FROM runs "
                            "WHERE connection_id = ?1 AND run_count > ?2 AND run_count < ?3 "
                            "AND id < (SELECT max(id) FROM runs) ORDER BY run_count LIMIT ?4",
    [ST_LATER_SUCCESS] = "SELECT 1 FROM runs WHERE connection_id = ?1 AND run_count > ?2 AND state = 3 AND result = 1 "
                         "LIMIT 1",
    [ST_LATER_WATERMARK] = "SELECT 1 FROM runs WHERE connection_id = ?1 AND run_count > ?2 AND watermark IS NOT NULL "
                           "LIMIT 1",
#define PRUNED_RUNS "(SELECT id FROM runs WHERE connection_id = ?1 AND run_count BETWEEN ?2 AND ?3)"
    [ST_PRUNE_EVENTS] = "DELETE FROM run_events WHERE run_id IN " PRUNED_RUNS,
    [ST_PRUNE_LOG_CHUNKS] = "DELETE FROM run_log_chunks WHERE run_id IN " PRUNED_RUNS,
    [ST_PRUNE_LOGS] = "DELETE FROM run_logs WHERE run_id IN " PRUNED_RUNS,
    [ST_PRUNE_TASKS] = "DELETE FROM tasks WHERE job_id IN (SELECT id FROM jobs WHERE run_id IN " PRUNED_RUNS ")",
    [ST_PRUNE_JOBS] = "DELETE FROM jobs WHERE run_id IN " PRUNED_RUNS,
    [ST_PRUNE_TOKENS] =
        "DELETE FROM access_tokens WHERE key_id IN (SELECT id FROM api_keys WHERE run_id IN " PRUNED_RUNS ")",
    [ST_PRUNE_KEYS] = "DELETE FROM api_keys WHERE run_id IN " PRUNED_RUNS,
    /* an alert outlives its run: it keeps what it said, without the link */
    [ST_PRUNE_ALERTS] = "UPDATE alerts SET run_id = NULL WHERE run_id IN " PRUNED_RUNS,
    [ST_PRUNE_RUNS] = "DELETE FROM runs WHERE connection_id = ?1 AND run_count BETWEEN ?2 AND ?3",
#undef PRUNED_RUNS
    [ST_CONN_SET_PRUNED] = "UPDATE connections SET runs_pruned = ?2 WHERE id = ?1",
    /* expectations: the checker's reads walk the partial indexes of migration 14 */
    [ST_CONN_EXPECT_SET] = "UPDATE connections SET expected_by = ?2, late_since = NULL, "
                           "last_run_at = COALESCE(?3, last_run_at) WHERE id = ?1",
    [ST_CONN_MARK_LATE] = "UPDATE connections SET late_since = expected_by WHERE id = ?1 AND workspace_id = ?2 "
                          "AND expected_by = ?3 AND late_since IS NULL AND deleted_at IS NULL",
    [ST_CONN_WM_SET] = "UPDATE connections SET wm_last = ?2, wm_flat_runs = ?3 WHERE id = ?1",
    [ST_CONNS_DUE] = "SELECT id, workspace_id, expected_by FROM connections WHERE expected_by <= ?1 "
                     "AND late_since IS NULL AND deleted_at IS NULL ORDER BY expected_by LIMIT ?2",
    [ST_CONNS_EXPECT_UNSET] = "SELECT id, workspace_id, 0 FROM connections WHERE expected_by IS NULL "
                              "AND late_since IS NULL AND deleted_at IS NULL AND id > ?1 AND (expect_interval_s > 0 "
                              "OR expect_schedule IS NOT NULL OR schedule IS NOT NULL) ORDER BY id LIMIT ?2",
    [ST_CONN_LATE_COUNT] =
        "SELECT count(*) FROM connections WHERE workspace_id = ?1 AND late_since IS NOT NULL AND deleted_at IS NULL",
    [ST_RUN_SET_MAX_BY] = "UPDATE runs SET max_by = ?2 WHERE id = ?1",
    /* a run past its maximum is flagged once: the claim succeeds only while max_by is as read */
    [ST_RUN_OVERDUE_CLAIM] = "UPDATE runs SET max_by = NULL, flags = flags | ?3, version = version + 1, "
                             "updated_at = ?4 WHERE id = ?1 AND max_by = ?2 AND state < 3",
    [ST_RUN_ADD_FLAGS] = "UPDATE runs SET flags = flags | ?2 WHERE id = ?1",
    [ST_RUNS_OVERDUE] = "SELECT id, workspace_id, max_by FROM runs WHERE max_by <= ?1 AND state < 3 "
                        "ORDER BY max_by LIMIT ?2",
    [ST_WEBHOOK_INSERT] = "INSERT INTO webhooks (workspace_id, url, events, connection_id, secret, created_at, "
                          "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
    [ST_WEBHOOK_GET] = "SELECT " WEBHOOK_COLS "WHERE id = ?1 AND workspace_id = ?2 AND deleted_at IS NULL",
    [ST_WEBHOOK_LIST] = "SELECT " WEBHOOK_COLS "WHERE workspace_id = ?1 AND deleted_at IS NULL AND id > ?2 "
                        "ORDER BY id LIMIT ?3",
    [ST_WEBHOOK_SAVE] = "UPDATE webhooks SET url = ?3, events = ?4, connection_id = ?5, enabled = ?6, "
                        "disabled_reason = ?7, failing_since = ?8, updated_at = ?9 "
                        "WHERE id = ?1 AND workspace_id = ?2 AND deleted_at IS NULL",
    [ST_WEBHOOK_DELETE] = "UPDATE webhooks SET deleted_at = ?3, updated_at = ?3, enabled = 0 "
                          "WHERE id = ?1 AND workspace_id = ?2 AND deleted_at IS NULL",
    [ST_DELIVERIES_KILL] = "UPDATE webhook_deliveries SET status = 3, next_attempt_at = NULL, last_error = ?2, "
                           "updated_at = ?3 WHERE webhook_id = ?1 AND status IN (0, 2)",
    /* One delivery per enabled webhook of the workspace that wants the event and watches the
     * connection (?4 NULL: a workspace-wide alert reaches only webhooks without a filter). */
    [ST_DELIVERY_FANOUT] = DELIVERY_INSERT
    "SELECT 'msg_' || lower(hex(randomblob(16))), w.id, w.workspace_id, ?2, ?3, ?4, ?5, ?6, ?7, 0, 0, ?8, ?8, ?8 "
    "FROM webhooks w WHERE w.workspace_id = ?1 AND w.enabled = 1 AND w.deleted_at IS NULL "
    "AND (w.connection_id IS NULL OR w.connection_id = ?4) "
    "AND (w.events IS NULL OR EXISTS (SELECT 1 FROM json_each(w.events) WHERE json_each.value = ?3))",
    [ST_DELIVERY_TEST] =
        DELIVERY_INSERT "VALUES ('msg_' || lower(hex(randomblob(16))), ?1, ?2, NULL, '" WEBHOOK_EVENT_TEST
                        "', NULL, NULL, ?3, ?4, 0, 0, ?3, ?3, ?3)",
    [ST_DELIVERY_GET] = "SELECT " DELIVERY_COLS " FROM webhook_deliveries d WHERE d.id = ?1 AND d.workspace_id = ?2 "
                        "AND d.webhook_id = ?3",
    [ST_DELIVERY_GET_ID] = "SELECT " DELIVERY_COLS " FROM webhook_deliveries d WHERE d.id = ?1",
    [ST_DELIVERY_LIST] = "SELECT " DELIVERY_COLS " FROM webhook_deliveries d WHERE d.webhook_id = ?1 "
                         "AND d.workspace_id = ?2 AND (?3 = 0 OR d.id < ?3) AND (?4 < 0 OR d.status = ?4) "
                         "ORDER BY d.id DESC LIMIT ?5",
    [ST_DELIVERY_REDELIVER] = "UPDATE webhook_deliveries SET status = 0, next_attempt_at = ?2, updated_at = ?2 "
                              "WHERE id = ?1",
    [ST_DELIVERY_SAVE] = "UPDATE webhook_deliveries SET status = ?2, attempts = attempts + 1, next_attempt_at = ?3, "
                         "last_status_code = ?4, last_latency_ms = ?5, last_error = ?6, "
                         "payload = COALESCE(payload, ?7), updated_at = ?8, "
                         "delivered_at = CASE WHEN ?2 = 1 THEN ?8 ELSE delivered_at END WHERE id = ?1",
    [ST_ATTEMPT_INSERT] =
        "INSERT INTO webhook_attempts (delivery_id, at, status_code, latency_ms, error) VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_ATTEMPT_LIST] = "SELECT a.id, a.delivery_id, a.at, a.status_code, a.latency_ms, a.error "
                        "FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id "
                        "WHERE a.delivery_id = ?1 AND d.workspace_id = ?2 ORDER BY a.id DESC LIMIT ?3",
    [ST_DELIVERIES_DUE] = "SELECT " DELIVERY_COLS ", w.url, w.secret FROM webhook_deliveries d "
                          "JOIN webhooks w ON w.id = d.webhook_id WHERE d.status IN (0, 2) "
                          "AND d.next_attempt_at <= ?1 AND w.enabled = 1 AND w.deleted_at IS NULL "
                          "ORDER BY d.next_attempt_at LIMIT ?2",
    [ST_DELIVERY_NEXT_DUE] = "SELECT d.next_attempt_at FROM webhook_deliveries d JOIN webhooks w "
                             "ON w.id = d.webhook_id WHERE d.status IN (0, 2) AND w.enabled = 1 "
                             "AND w.deleted_at IS NULL ORDER BY d.next_attempt_at LIMIT 1",
    [ST_DELIVERY_COUNTS] = "SELECT d.status, count(*) FROM webhook_deliveries d WHERE d.status IN (0, 2) "
                           "AND d.workspace_id = ?1 GROUP BY d.status",
/* finished deliveries (delivered, dead) older than ?1, a batch at a time; both statements pick the
 * same rows inside one transaction */
#define PRUNED_DELIVERIES                                                                                              \
    "(SELECT id FROM webhook_deliveries WHERE status IN (1, 3) AND updated_at < ?1 ORDER BY updated_at, id LIMIT ?2)"
    [ST_ATTEMPTS_PRUNE] = "DELETE FROM webhook_attempts WHERE delivery_id IN " PRUNED_DELIVERIES,
    [ST_DELIVERIES_PRUNE] = "DELETE FROM webhook_deliveries WHERE id IN " PRUNED_DELIVERIES,
#undef PRUNED_DELIVERIES
    /* Census's stored renderings (migration 18, sqlite_census.c) */
    [ST_CENSUS_RUNS_ASC] = "SELECT run_count, body FROM census_runs WHERE connection_id = ?1 AND run_count BETWEEN ?2 "
                           "AND ?3 AND format = ?4 ORDER BY run_count ASC",
    [ST_CENSUS_RUNS_DESC] = "SELECT run_count, body FROM census_runs WHERE connection_id = ?1 AND run_count BETWEEN "
                            "?2 AND ?3 AND format = ?4 ORDER BY run_count DESC",
    [ST_CENSUS_TODO] = "SELECT connection_id, run_count, run_id FROM census_runs_todo "
                       "ORDER BY connection_id, run_count, run_id LIMIT ?1",
    [ST_CENSUS_TODO_DONE] = "DELETE FROM census_runs_todo WHERE connection_id = ?1 AND run_count = ?2 AND run_id = ?3",
    [ST_CENSUS_RUN] = "SELECT " RUN_COLS "WHERE r.id = ?1",
    [ST_CENSUS_PUT] = "INSERT OR REPLACE INTO census_runs (connection_id, run_count, run_id, format, body) "
                      "VALUES (?1, ?2, ?3, ?4, ?5)",
};

/* WAL frames (pages) after a commit past which the checkpointer copies the WAL into the database:
 * SQLite's own auto-checkpoint threshold, which it would otherwise apply inside the writer's commit.
 * A checkpoint on another thread copies what the WAL held when it began; the WAL starts over only
 * when one has copied everything before the writer's next transaction. Under writes that never
 * pause that may not happen, so past CHECKPOINT_FRAMES_MAX the writer checkpoints itself, between
 * two batches (what SQLite does at every CHECKPOINT_FRAMES): the WAL stays bounded. */
enum { CHECKPOINT_FRAMES = 1000, CHECKPOINT_FRAMES_MAX = 4 * CHECKPOINT_FRAMES };

struct store {
    char *path;
    dbconn_t writer; /* the writer thread's connection */
    store_writer_t *wr;
    unsigned char secret[32];
    /* The checkpointer: copies the WAL into the database file and fsyncs it on its own thread and
     * connection, so the writer's batches never wait for it (a passive checkpoint takes no lock a
     * commit needs). Woken by the writer's WAL hook. */
    pthread_t ckpt_thread;
    sqlite3 *ckpt_db;
    pthread_mutex_t ckpt_mu;
    pthread_cond_t ckpt_cv;
    int ckpt_due, ckpt_stop;
};

store_writer_t *store_writer_of(store_t *s)
{
    return s->wr;
}

const char *store_strerror(store_err_t e)
{
    switch (e) {
    case STORE_OK:
        return "ok";
    case STORE_NOT_FOUND:
        return "not found";
    case STORE_FINISHED:
        return "the run is finished and cannot change";
    case STORE_BAD_STATE:
        return "the state machine does not allow this change";
    case STORE_IDEM_REUSED:
        return "the Idempotency-Key was used for a different request";
    case STORE_EXISTS:
        return "already exists";
    case STORE_ERROR:
        return "database error";
    }
    return "unknown error";
}

const char *db_stmt_sql(stmt_id_t id)
{
    return (unsigned)id < ST_COUNT ? stmt_sql[id] : NULL;
}

sqlite3_stmt *db_stmt(dbconn_t *c, stmt_id_t id)
{
    if (c->in_batch && sqlite3_get_autocommit(c->db) && id != ST_ROLLBACK) {
        log_error("sqlite transaction lost (rolled back after an error); statement %d refused", (int)id);
        return NULL;
    }
    sqlite3_stmt *st = c->stmts[id];
    c->statements++;
    if (st == NULL) {
        if (sqlite3_prepare_v3(c->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
            log_error("sqlite prepare failed stmt=%d err=\"%s\"", (int)id, sqlite3_errmsg(c->db));
            return NULL;
        }
        c->stmts[id] = st;
    } else {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    return st;
}

void db_close(dbconn_t *c)
{
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(c->stmts[i]);
    memset(c->stmts, 0, sizeof(c->stmts));
    sqlite3_close(c->db);
    c->db = NULL;
}

void db_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s == NULL)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

void db_bind_time(sqlite3_stmt *st, int i, int64_t ms)
{
    if (ms == 0)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_int64(st, i, ms);
}

const char *db_col_text(sqlite3_stmt *st, int i, arena_t *a)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t == NULL ? NULL : arena_strndup(a, (const char *)t, (size_t)sqlite3_column_bytes(st, i));
}

static void col_uuid(sqlite3_stmt *st, int i, char out[IDS_UUID_LEN])
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(out, IDS_UUID_LEN, "%s", t ? (const char *)t : "");
}

/* A retention column: its value, or `null_value` when NULL. */
static int64_t col_retention(sqlite3_stmt *st, int i, int64_t null_value)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? null_value : sqlite3_column_int64(st, i);
}

void db_row_workspace(sqlite3_stmt *st, arena_t *a, workspace_t *w)
{
    memset(w, 0, sizeof(*w));
    w->id = sqlite3_column_int64(st, 0);
    col_uuid(st, 1, w->uuid);
    w->name = db_col_text(st, 2, a);
    w->created_at = sqlite3_column_int64(st, 3);
    w->retention.days = col_retention(st, 4, 0);
    w->retention.keep_last = col_retention(st, 5, 0);
    w->retention.failure_days = col_retention(st, 6, 0);
}

void db_row_run(sqlite3_stmt *st, arena_t *a, run_t *r)
{
    memset(r, 0, sizeof(*r));
    r->id = sqlite3_column_int64(st, 0);
    col_uuid(st, 1, r->uuid);
    r->workspace_id = sqlite3_column_int64(st, 2);
    r->connection_id = sqlite3_column_int64(st, 3);
    col_uuid(st, 4, r->connection_uuid);
    r->run_count = sqlite3_column_int64(st, 5);
    r->state = (run_state_t)sqlite3_column_int(st, 6);
    r->result = (run_result_t)sqlite3_column_int(st, 7);
    r->created_at = sqlite3_column_int64(st, 8);
    r->updated_at = sqlite3_column_int64(st, 9);
    r->scheduled_at = sqlite3_column_int64(st, 10);
    r->started_at = sqlite3_column_int64(st, 11);
    r->completed_at = sqlite3_column_int64(st, 12);
    r->trigger_tag = db_col_text(st, 13, a);
    r->trigger_detail = db_col_text(st, 14, a);
    r->full_sync = sqlite3_column_int(st, 15);
    r->current_step = db_col_text(st, 16, a);
    for (int i = 0; i < CTR_COUNT; i++)
        r->counters[i] = sqlite3_column_int64(st, 17 + i);
    r->watermark = sqlite3_column_int64(st, 25);
    r->message = db_col_text(st, 26, a);
    r->error_code = db_col_text(st, 27, a);
    r->error_message = db_col_text(st, 28, a);
    r->error_detail = db_col_text(st, 29, a);
    r->attempt = sqlite3_column_int(st, 30);
    r->version = sqlite3_column_int64(st, 31);
    r->external_id = db_col_text(st, 32, a);
    r->external = db_col_text(st, 33, a);
    r->flags = (unsigned)sqlite3_column_int(st, 34);
}

void db_row_connection(sqlite3_stmt *st, arena_t *a, connection_t *c)
{
    memset(c, 0, sizeof(*c));
    c->id = sqlite3_column_int64(st, 0);
    col_uuid(st, 1, c->uuid);
    c->workspace_id = sqlite3_column_int64(st, 2);
    c->name = db_col_text(st, 3, a);
    c->source = db_col_text(st, 4, a);
    c->destination = db_col_text(st, 5, a);
    c->connector_type = db_col_text(st, 6, a);
    c->overlap = (overlap_policy_t)sqlite3_column_int(st, 7);
    c->run_count = sqlite3_column_int64(st, 8);
    c->created_at = sqlite3_column_int64(st, 9);
    c->updated_at = sqlite3_column_int64(st, 10);
    c->command_json = db_col_text(st, 11, a);
    c->workdir = db_col_text(st, 12, a);
    c->env_json = db_col_text(st, 13, a);
    c->schedule = db_col_text(st, 14, a);
    c->timezone = db_col_text(st, 15, a);
    c->timeout_s = sqlite3_column_int64(st, 16);
    c->retry_max = sqlite3_column_int64(st, 17);
    c->retry_backoff_s = sqlite3_column_int64(st, 18);
    c->catchup = (catchup_policy_t)sqlite3_column_int(st, 19);
    c->starting_deadline_s = sqlite3_column_int64(st, 20);
    c->log_max_bytes = sqlite3_column_int64(st, 21);
    c->next_fire_at = sqlite3_column_int64(st, 22);
    c->retention_days = col_retention(st, 23, RETENTION_INHERIT);
    c->retention_keep_last = col_retention(st, 24, RETENTION_INHERIT);
    c->retention_failure_days = col_retention(st, 25, RETENTION_INHERIT);
    c->runs_pruned = sqlite3_column_int64(st, 26);
    c->expect_schedule = db_col_text(st, 27, a);
    c->expect_timezone = db_col_text(st, 28, a);
    c->expect_interval_s = sqlite3_column_int64(st, 29);
    c->expect_grace_s = sqlite3_column_int64(st, 30);
    c->min_duration_s = sqlite3_column_int64(st, 31);
    c->max_duration_s = sqlite3_column_int64(st, 32);
    c->wm_stall_runs = sqlite3_column_int64(st, 33);
    c->wm_max_age_s = sqlite3_column_int64(st, 34);
    c->last_run_at = sqlite3_column_int64(st, 35);
    c->expected_by = sqlite3_column_int64(st, 36);
    c->late_since = sqlite3_column_int64(st, 37);
    c->wm_last = sqlite3_column_int64(st, 38);
    c->wm_flat_runs = sqlite3_column_int64(st, 39);
}

void db_row_job(sqlite3_stmt *st, arena_t *a, job_t *j)
{
    db_row_job_at(st, 0, a, j);
}

void db_row_job_at(sqlite3_stmt *st, int b, arena_t *a, job_t *j)
{
    memset(j, 0, sizeof(*j));
    j->id = sqlite3_column_int64(st, b + 0);
    col_uuid(st, b + 1, j->uuid);
    j->run_id = sqlite3_column_int64(st, b + 2);
    j->name = db_col_text(st, b + 3, a);
    j->connector_type = db_col_text(st, b + 4, a);
    j->phase = db_col_text(st, b + 5, a);
    j->state = (run_state_t)sqlite3_column_int(st, b + 6);
    j->result = (run_result_t)sqlite3_column_int(st, b + 7);
    j->started_at = sqlite3_column_int64(st, b + 8);
    j->ended_at = sqlite3_column_int64(st, b + 9);
}

void db_row_task(sqlite3_stmt *st, arena_t *a, task_t *t)
{
    db_row_task_at(st, 0, a, t);
}

void db_row_task_at(sqlite3_stmt *st, int b, arena_t *a, task_t *t)
{
    memset(t, 0, sizeof(*t));
    t->id = sqlite3_column_int64(st, b + 0);
    col_uuid(st, b + 1, t->uuid);
    t->job_id = sqlite3_column_int64(st, b + 2);
    t->state = (run_state_t)sqlite3_column_int(st, b + 3);
    t->result = (run_result_t)sqlite3_column_int(st, b + 4);
    t->source_file_id = db_col_text(st, b + 5, a);
    t->retry_attempts = sqlite3_column_int(st, b + 6);
    t->started_at = sqlite3_column_int64(st, b + 7);
    t->ended_at = sqlite3_column_int64(st, b + 8);
    t->error_json = db_col_text(st, b + 9, a);
    t->has_report = sqlite3_column_int(st, b + 10);
    t->report_message = db_col_text(st, b + 11, a);
    t->report_suggested_action = db_col_text(st, b + 12, a);
    t->report_errors = sqlite3_column_int64(st, b + 13);
    t->report_warnings = sqlite3_column_int64(st, b + 14);
    t->report_other = sqlite3_column_int64(st, b + 15);
}

store_err_t db_one_row(dbconn_t *c, sqlite3_stmt *st, arena_t *a, void (*fn)(sqlite3_stmt *, arena_t *, void *),
                       void *out)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        fn(st, a, out);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return STORE_OK;
    if (rc == SQLITE_DONE)
        return STORE_NOT_FOUND;
    log_error("sqlite read failed err=\"%s\"", sqlite3_errmsg(c->db));
    return STORE_ERROR;
}

void db_row_run_v(sqlite3_stmt *st, arena_t *a, void *r)
{
    db_row_run(st, a, r);
}

void db_row_workspace_v(sqlite3_stmt *st, arena_t *a, void *w)
{
    db_row_workspace(st, a, w);
}

void db_row_connection_v(sqlite3_stmt *st, arena_t *a, void *c)
{
    db_row_connection(st, a, c);
}

store_err_t db_connection_get(dbconn_t *c, int64_t ws, int64_t id, arena_t *a, connection_t *out)
{
    sqlite3_stmt *st = db_stmt(c, ST_CONN_GET);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, ws);
    return db_one_row(c, st, a, db_row_connection_v, out);
}

store_err_t db_run_get(dbconn_t *c, int64_t ws, int64_t id, arena_t *a, run_t *out)
{
    sqlite3_stmt *st = db_stmt(c, ST_RUN_GET);
    if (st == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, ws);
    return db_one_row(c, st, a, db_row_run_v, out);
}

/* Opens one connection with the settings every connection needs. */
static int db_open(const char *path, int flags, dbconn_t *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    if (sqlite3_open_v2(path, &c->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s", c->db ? sqlite3_errmsg(c->db) : "out of memory");
        sqlite3_close(c->db);
        c->db = NULL;
        return -1;
    }
    /* Debian's SQLite waits 0 ms for a lock by default; the CLI and the server share the file. */
    sqlite3_busy_timeout(c->db, 10000);
    /* Durability: WAL with synchronous=FULL fsyncs the WAL at every commit, so an acknowledged
     * write survives kill -9 and power loss. */
    /* Readers map the file (reads of cached pages are memory reads, not pread calls: a third of a
     * list request's time on a large history) and keep a larger page cache. Pages are touched
     * only as they are read, so an idle server stays small. */
    const char *pragmas = (flags & SQLITE_OPEN_READONLY) ? "PRAGMA foreign_keys = ON;"
                                                           "PRAGMA mmap_size = 4294967296;"
                                                           "PRAGMA cache_size = -16384;"
                                                         : "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                                                           "PRAGMA foreign_keys = ON;"
                                                           /* a batch dirties many pages (random UUID
                                                            * index inserts): a cache that holds them
                                                            * avoids spilling to the WAL mid-batch.
                                                            * Pages are allocated as used. */
                                                           "PRAGMA cache_size = -65536;"
                                                           /* statement journals of the per-write
                                                            * savepoints stay in memory, not in temp
                                                            * files */
                                                           "PRAGMA temp_store = MEMORY;";
    char *msg = NULL;
    if (sqlite3_exec(c->db, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(c->db));
        sqlite3_free(msg);
        db_close(c);
        return -1;
    }
    return 0;
}

/* Migrations that need more than SQL: a step run after the migration's SQL, inside its
 * transaction (indexed by migration number - 1). */
static int (*const migration_steps[])(sqlite3 *db) = {
    [6] = db_log_migrate_chunks,
};

static int migrate(dbconn_t *c, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int version = 0;
    if (sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if ((size_t)version > schema_migration_count) {
        snprintf(err, errlen, "the database is at schema version %d, newer than this syncrun (%zu); upgrade syncrun",
                 version, schema_migration_count);
        return -1;
    }
    for (size_t i = (size_t)version; i < schema_migration_count; i++) {
        char *msg = NULL;
        char bump[64];
        snprintf(bump, sizeof(bump), "PRAGMA user_version = %zu;", i + 1);
        /* Each migration and its version bump commit together, or not at all. */
        if (sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(c->db, schema_migrations[i], NULL, NULL, &msg) != SQLITE_OK ||
            (i < sizeof(migration_steps) / sizeof(migration_steps[0]) && migration_steps[i] != NULL &&
             migration_steps[i](c->db) != SQLITE_OK) ||
            sqlite3_exec(c->db, bump, NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(c->db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
            snprintf(err, errlen, "migration %zu failed: %s", i + 1, msg ? msg : sqlite3_errmsg(c->db));
            sqlite3_free(msg);
            sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
    }
    return 0;
}

/* Runs one of the writer's transaction-control statements; logs a failure. */
static int exec_stmt(dbconn_t *c, stmt_id_t id)
{
    sqlite3_stmt *st = db_stmt(c, id);
    int rc = st ? sqlite3_step(st) : SQLITE_ERROR;
    if (st != NULL)
        sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return SQLITE_OK;
    log_error("sqlite statement %d failed err=\"%s\"", (int)id, sqlite3_errmsg(c->db));
    return rc;
}

/* The writer's backend (writer.h) on the writer's connection. */
static int sqlite_batch_begin(void *be)
{
    dbconn_t *c = be;
    c->deliveries_due = 0;
    int ok = exec_stmt(c, ST_BEGIN) == SQLITE_OK;
    c->in_batch = ok;
    return ok ? 0 : -1;
}

/* Each write runs inside its own savepoint. */
static int sqlite_write_begin(void *be)
{
    return exec_stmt(be, ST_SAVEPOINT) == SQLITE_OK ? 0 : -1;
}

static store_err_t sqlite_write_apply(void *be, store_write_t *w, store_note_run_fn note, void *ctx)
{
    return db_apply_write(be, w, note, ctx);
}

/* SQLite rolls a transaction back by itself on some errors (autocommit is then on again). */
static int sqlite_write_end(void *be, int failed)
{
    dbconn_t *c = be;
    if (failed && (sqlite3_get_autocommit(c->db) || exec_stmt(c, ST_ROLLBACK_TO) != SQLITE_OK))
        return -1;
    if (sqlite3_get_autocommit(c->db) || exec_stmt(c, ST_RELEASE) != SQLITE_OK)
        return -1;
    return 0;
}

static int sqlite_batch_commit(void *be)
{
    dbconn_t *c = be;
    int rc = exec_stmt(c, ST_COMMIT);
    c->in_batch = 0;
    return rc == SQLITE_OK ? 0 : -1;
}

static void sqlite_batch_rollback(void *be)
{
    dbconn_t *c = be;
    c->in_batch = 0;
    if (!sqlite3_get_autocommit(c->db))
        exec_stmt(c, ST_ROLLBACK);
    c->deliveries_due = 0;
}

static int sqlite_batch_deliveries_due(void *be)
{
    return ((dbconn_t *)be)->deliveries_due;
}

static const store_backend_t sqlite_backend = {
    .batch_begin = sqlite_batch_begin,
    .write_begin = sqlite_write_begin,
    .write_apply = sqlite_write_apply,
    .write_end = sqlite_write_end,
    .batch_commit = sqlite_batch_commit,
    .batch_rollback = sqlite_batch_rollback,
    .batch_deliveries_due = sqlite_batch_deliveries_due,
};

/* The writer's WAL hook (after each commit, on the writer thread, outside any transaction): wakes the
 * checkpointer once the WAL holds CHECKPOINT_FRAMES, checkpoints itself past CHECKPOINT_FRAMES_MAX.
 * Setting it turns SQLite's auto-checkpoint off for the writer. */
static int wal_hook(void *ctx, sqlite3 *db, const char *name, int frames)
{
    store_t *s = ctx;
    if (frames >= CHECKPOINT_FRAMES_MAX) {
        /* busy (the checkpointer is at work) is fine: the next commit tries again */
        int rc = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            log_warn("writer: checkpoint failed err=\"%s\"", sqlite3_errmsg(db));
    } else if (frames >= CHECKPOINT_FRAMES) {
        pthread_mutex_lock(&s->ckpt_mu);
        s->ckpt_due = 1;
        pthread_cond_signal(&s->ckpt_cv);
        pthread_mutex_unlock(&s->ckpt_mu);
    }
    return SQLITE_OK;
}

static void *checkpointer_main(void *arg)
{
    store_t *s = arg;
    pthread_mutex_lock(&s->ckpt_mu);
    for (;;) {
        while (!s->ckpt_due && !s->ckpt_stop)
            pthread_cond_wait(&s->ckpt_cv, &s->ckpt_mu);
        if (s->ckpt_stop)
            break;
        s->ckpt_due = 0;
        pthread_mutex_unlock(&s->ckpt_mu);
        /* passive: copies what no reader still needs, never waits for a lock; what is left is
         * copied by the next one */
        int rc = sqlite3_wal_checkpoint_v2(s->ckpt_db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            log_warn("checkpointer: checkpoint failed err=\"%s\"", sqlite3_errmsg(s->ckpt_db));
        pthread_mutex_lock(&s->ckpt_mu);
    }
    pthread_mutex_unlock(&s->ckpt_mu);
    return NULL;
}

/* Opens the checkpointer's connection (here, not on its thread, so that its I/O is done when
 * store_open returns) and starts its thread. Returns 0, or -1 with a message in err. */
static int checkpointer_start(store_t *s, char *err, size_t errlen)
{
    pthread_mutex_init(&s->ckpt_mu, NULL);
    pthread_cond_init(&s->ckpt_cv, NULL);
    if (sqlite3_open_v2(s->path, &s->ckpt_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
        sqlite3_exec(s->ckpt_db, "PRAGMA synchronous = FULL", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open the checkpointer's connection: %s",
                 s->ckpt_db ? sqlite3_errmsg(s->ckpt_db) : "out of memory");
        goto fail;
    }
    if (pthread_create(&s->ckpt_thread, NULL, checkpointer_main, s) != 0) {
        snprintf(err, errlen, "cannot start the checkpointer thread");
        goto fail;
    }
    return 0;
fail:
    sqlite3_close(s->ckpt_db);
    s->ckpt_db = NULL;
    pthread_mutex_destroy(&s->ckpt_mu);
    pthread_cond_destroy(&s->ckpt_cv);
    return -1;
}

/* Stops the checkpointer and closes its connection. */
static void checkpointer_stop(store_t *s)
{
    pthread_mutex_lock(&s->ckpt_mu);
    s->ckpt_stop = 1;
    pthread_cond_signal(&s->ckpt_cv);
    pthread_mutex_unlock(&s->ckpt_mu);
    pthread_join(s->ckpt_thread, NULL);
    sqlite3_close(s->ckpt_db);
    s->ckpt_db = NULL;
    pthread_mutex_destroy(&s->ckpt_mu);
    pthread_cond_destroy(&s->ckpt_cv);
}

int store_open(const char *path, store_t **out, char *err, size_t errlen)
{
    store_t *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->path = strdup(path);
    if (s->path == NULL || db_open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &s->writer, err, errlen) != 0)
        goto fail;
    if (migrate(&s->writer, err, errlen) != 0) {
        db_close(&s->writer);
        goto fail;
    }
    sqlite3_stmt *st = db_stmt(&s->writer, ST_SETTING_GET);
    sqlite3_bind_text(st, 1, "cursor_secret", -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_bytes(st, 0) != (int)sizeof(s->secret)) {
        snprintf(err, errlen, "the database has no cursor secret; is it a syncrun database?");
        sqlite3_reset(st);
        db_close(&s->writer);
        goto fail;
    }
    memcpy(s->secret, sqlite3_column_blob(st, 0), sizeof(s->secret));
    sqlite3_reset(st);
    if (checkpointer_start(s, err, errlen) != 0) {
        db_close(&s->writer);
        goto fail;
    }
    sqlite3_wal_hook(s->writer.db, wal_hook, s);
    if (store_writer_start(&sqlite_backend, &s->writer, &s->wr) != 0) {
        snprintf(err, errlen, "cannot start the writer thread");
        checkpointer_stop(s);
        db_close(&s->writer);
        goto fail;
    }
    *out = s;
    return 0;
fail:
    free(s->path);
    free(s);
    return -1;
}

void store_close(store_t *s)
{
    if (s == NULL)
        return;
    store_writer_stop(s->wr);
    checkpointer_stop(s);
    db_close(&s->writer); /* the last connection: checkpoints what is left */
    free(s->path);
    free(s);
}

void store_secret(store_t *s, unsigned char out[32])
{
    memcpy(out, s->secret, sizeof(s->secret));
}

store_reader_t *store_reader_open(store_t *s)
{
    store_reader_t *r = calloc(1, sizeof(*r));
    char err[256];
    if (r == NULL)
        return NULL;
    if (db_open(s->path, SQLITE_OPEN_READONLY, &r->c, err, sizeof(err)) != 0) {
        log_error("cannot open a reader on %s: %s", s->path, err);
        free(r);
        return NULL;
    }
    return r;
}

void store_reader_close(store_reader_t *r)
{
    if (r == NULL)
        return;
    db_close(&r->c);
    free(r);
}

int64_t store_workspace_count(store_t *s)
{
    store_reader_t *r = store_reader_open(s);
    int64_t n = -1;
    sqlite3_stmt *st = r ? db_stmt(&r->c, ST_WORKSPACE_COUNT) : NULL;
    if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    store_reader_close(r);
    return n;
}

int store_ready(store_t *s, char *why, size_t whylen)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc = -1, version = -1;
    /* SQLite opens a file it may not write read-only without saying so, and may hand this
     * connection a descriptor another connection of the process opened earlier: ask the system. */
    if (faccessat(AT_FDCWD, s->path, W_OK, AT_EACCESS) != 0) {
        snprintf(why, whylen, "the database file is read-only for this process: %s", strerror(errno));
        goto out;
    }
    if (sqlite3_open_v2(s->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        snprintf(why, whylen, "cannot open the database: %s", db ? sqlite3_errmsg(db) : "out of memory");
        goto out;
    }
    if (sqlite3_db_readonly(db, "main") != 0) {
        snprintf(why, whylen, "the database file is read-only for this process");
        goto out;
    }
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    if (version != (int)schema_migration_count) {
        snprintf(why, whylen, "the database is at schema version %d, this syncrun needs %zu", version,
                 schema_migration_count);
        goto out;
    }
    /* BEGIN IMMEDIATE takes the write lock without writing. Busy means the writer holds it. */
    int brc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (brc != SQLITE_OK && brc != SQLITE_BUSY) {
        snprintf(why, whylen, "the database cannot begin a write: %s", sqlite3_errmsg(db));
        goto out;
    }
    if (brc == SQLITE_OK)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    rc = 0;
out:
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}
