"""A managed command's own token (SYNCRUN_TOKEN) reaches its run only, and dies with it (issue 9,
defect 6). Before: it could read and write every run of the workspace, trigger runs, and a crash
during the run left it valid for ever (it still triggered runs after a restart)."""

import hashlib
import sqlite3

from test_runner import SH, make_conn, read_pid, reaper, script, wait_finished, wait_for, wait_working  # noqa: F401


def codes(out_path):
    return dict(line.split("=", 1) for line in out_path.read_text().splitlines())


def test_the_token_reaches_its_own_run_only(server, tmp_path):
    other_conn = server.create_connection(name="someone-else")
    other_run = server.trigger(other_conn["id"], expect=201)
    out = tmp_path / "codes"
    sc = script(tmp_path, "probe.sh", r"""
req() { curl -s -o /dev/null -w '%%{http_code}' -H "Authorization: Bearer $SYNCRUN_TOKEN" "$@"; }
{
  echo "own_get=$(req "$SYNCRUN_URL/v1/runs/$SYNCRUN_RUN_ID")"
  echo "own_patch=$(req -X PATCH -H 'Content-Type: application/json' -d '{"message":"mine"}' "$SYNCRUN_URL/v1/runs/$SYNCRUN_RUN_ID")"
  echo "own_events=$(req "$SYNCRUN_URL/v1/runs/$SYNCRUN_RUN_ID/events")"
  echo "own_job=$(req -X POST -H 'Content-Type: application/json' -d '{"name":"extract"}' "$SYNCRUN_URL/v1/runs/$SYNCRUN_RUN_ID/jobs")"
  echo "other_get=$(req "$SYNCRUN_URL/v1/runs/$OTHER_RUN")"
  echo "other_uuid=$(req "$SYNCRUN_URL/v1/runs/$OTHER_UUID")"
  echo "other_patch=$(req -X PATCH -H 'Content-Type: application/json' -d '{"message":"not yours"}' "$SYNCRUN_URL/v1/runs/$OTHER_RUN")"
  echo "other_finish=$(req -X POST -H 'Content-Type: application/json' -d '{"result":"error"}' "$SYNCRUN_URL/v1/runs/$OTHER_RUN/finish")"
  echo "other_cancel=$(req -X POST "$SYNCRUN_URL/v1/runs/$OTHER_RUN/cancel")"
  echo "trigger=$(req -X POST -H 'Content-Type: application/json' -d '{}' "$SYNCRUN_URL/v1/connections/$OTHER_CONN/runs")"
  echo "list=$(req "$SYNCRUN_URL/v1/connections")"
  echo "census=$(req "$SYNCRUN_URL/api/v1/sync_runs/$OTHER_RUN")"
} > "%s"
""" % out)
    c = make_conn(server, [SH, sc], env={"OTHER_RUN": str(other_run["id"]), "OTHER_UUID": other_run["uuid"],
                                         "OTHER_CONN": str(other_conn["id"])})
    run = wait_finished(server, server.trigger(c["id"], expect=201)["id"])
    assert run["result"] == "success", run
    got = codes(out)
    assert got == {
        "own_get": "200", "own_patch": "200", "own_events": "200", "own_job": "201",
        "other_get": "404", "other_uuid": "404", "other_patch": "404", "other_finish": "404", "other_cancel": "404",
        "trigger": "403", "list": "403", "census": "403",
    }, got
    assert run["message"] == "mine", run
    other = server.get_run(other_run["id"])
    assert other["state"] != "finished" and other["message"] is None, other
    assert server.ok("GET", "/v1/connections/%s" % other_conn["id"], expect=200)["run_count"] == 1


def test_a_crash_during_the_run_revokes_its_token_at_recovery(server_factory, tmp_path, reaper):
    srv = server_factory("token-crash")
    pidf, tokf = tmp_path / "pid", tmp_path / "token"
    sc = script(tmp_path, "long.sh", 'echo "$SYNCRUN_TOKEN" > "%s"\necho $$ > "%s"\nexec sleep 60\n' % (tokf, pidf))
    c = make_conn(srv, [SH, sc])
    victim = srv.create_connection(name="victim")
    run = srv.trigger(c["id"], expect=201)
    wait_working(srv, run["id"])
    reaper.append(read_pid(str(pidf)))
    token = wait_for(lambda: tokf.exists() and tokf.read_text().strip(), 5, "the token file")
    assert srv.request("GET", "/v1/runs/%s" % run["id"], token=token).status == 200
    srv.kill()
    srv.start()
    assert wait_finished(srv, run["id"], timeout=5)["error"]["code"] == "INTERRUPTED"
    for method, path, body in (("GET", "/v1/runs/%s" % run["id"], None),
                               ("PATCH", "/v1/runs/%s" % run["id"], {"message": "late"}),
                               ("POST", "/v1/connections/%s/runs" % victim["id"], {})):
        r = srv.request(method, path, body, token=token)
        assert r.status == 401, "%s %s with the dead run's token:\n%s" % (method, path, r.describe())
    assert srv.ok("GET", "/v1/connections/%s" % victim["id"], expect=200)["run_count"] == 0


def test_migration_revokes_the_unscoped_run_tokens_of_ended_runs(server_factory):
    """Databases of earlier versions hold 'run #N' runs:write tokens that were never revoked; the
    migration revokes those of ended runs, and leaves other keys alone."""
    srv = server_factory("legacy", start=False)
    srv.start()
    c = srv.create_connection(name="legacy")
    ended = srv.trigger(c["id"], expect=201)
    srv.finish(ended["id"], "success")
    live = srv.trigger(c["id"], expect=201, body={})
    srv.stop()

    def add_key(db, name, token, scope=1):
        db.execute("INSERT INTO api_keys (workspace_id, name, scope, token_hash, prefix, created_at) "
                   "VALUES (?, ?, ?, ?, ?, (SELECT max(created_at) FROM runs) + 1)",
                   (srv.workspace_id, name, scope, hashlib.sha256(token.encode()).hexdigest(), token[:10]))

    db = sqlite3.connect(srv.db)
    with db:  # back to the schema of version 4, then keys as version 4 made them
        db.execute("CREATE INDEX runs_strip ON runs(connection_id, run_count)")  # undo migration 19 (a drop)
        for t in ("census_runs_insert", "census_runs_finish", "census_runs_change", "census_runs_delete"):
            db.execute("DROP TRIGGER %s" % t)  # undo migration 18 (Census renderings)
        db.execute("DROP TABLE census_runs_todo")
        db.execute("DROP TABLE census_runs")
        db.execute("DROP INDEX runs_strip")  # undo migration 17
        db.execute("DROP INDEX webhook_deliveries_finished")  # undo migration 16
        db.execute("DROP TABLE webhook_attempts")  # undo migration 15 (webhooks)
        db.execute("DROP TABLE webhook_deliveries")
        db.execute("DROP TABLE webhooks")
        for i in ("connections_expected", "connections_late", "runs_max_by"):  # undo migration 14 (expectations)
            db.execute("DROP INDEX %s" % i)
        for col in ("expect_schedule", "expect_timezone", "expect_interval_s", "expect_grace_s", "min_duration_s",
                    "max_duration_s", "wm_stall_runs", "wm_max_age_s", "last_run_at", "expected_by", "late_since",
                    "wm_last", "wm_flat_runs"):
            db.execute("ALTER TABLE connections DROP COLUMN %s" % col)
        for col in ("flags", "max_by"):
            db.execute("ALTER TABLE runs DROP COLUMN %s" % col)
        db.execute("DROP INDEX api_keys_run_all")  # undo migration 13 (retention)
        for col in ("retention_days", "retention_keep_last", "retention_failure_days"):
            db.execute("ALTER TABLE workspaces DROP COLUMN %s" % col)
            db.execute("ALTER TABLE connections DROP COLUMN %s" % col)
        db.execute("ALTER TABLE connections DROP COLUMN runs_pruned")
        for t in ("run_rollups_insert", "run_rollups_finish", "run_rollups_change"):  # undo migration 12
            db.execute("DROP TRIGGER %s" % t)
        db.execute("DROP TABLE run_rollups")
        db.execute("DROP TABLE alerts")  # undo migration 11
        for t in ("run_stats_insert", "run_stats_finish", "run_stats_change"):  # undo migration 10
            db.execute("DROP TRIGGER %s" % t)
        db.execute("DROP TABLE run_stats")
        db.execute("DROP INDEX connections_ping_key")  # undo migration 9 (ping keys)
        db.execute("ALTER TABLE connections DROP COLUMN ping_key_hash")
        db.execute("DROP TABLE access_tokens")  # undo migration 8 (OAuth access tokens)
        db.execute("DROP TABLE run_log_chunks")  # undo migration 7 (no log was written)
        db.execute("ALTER TABLE run_logs DROP COLUMN kept")
        db.execute("ALTER TABLE run_logs DROP COLUMN skip_bytes")
        db.execute("ALTER TABLE run_logs ADD COLUMN data BLOB NOT NULL DEFAULT x''")
        db.execute("DROP INDEX api_keys_run")  # undo migration 5
        db.execute("ALTER TABLE api_keys DROP COLUMN run_id")
        db.execute("PRAGMA user_version = 4")
        add_key(db, "run #%d" % ended["id"], "sr_legacy_ended_run_token_000000000000")
        add_key(db, "run #%d" % live["id"], "sr_legacy_live_run_token_0000000000000")
        add_key(db, "run #%d" % ended["id"], "sr_legacy_same_name_read_key_00000000", scope=0)
    db.close()
    srv.start()
    r = srv.request("GET", "/v1/connections", token="sr_legacy_ended_run_token_000000000000")
    assert r.status == 401, r.describe()
    # a run still open keeps its key (and a runs:read key that only shares the name is a user's)
    assert srv.request("GET", "/v1/connections", token="sr_legacy_live_run_token_0000000000000").status == 200
    assert srv.request("GET", "/v1/connections", token="sr_legacy_same_name_read_key_00000000").status == 200
