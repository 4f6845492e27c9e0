"""Retention (issue 12): a workspace policy with per-connection overrides, pruning in the background
(`serve --prune-interval 1` here), and every list — native, Census, Braze, BlueConic, iTwin — still
right after a prune: totals count the runs kept, pages are full, cursors go on, run_count numbers
are never reused, and the statistics (rollups, metrics) still count the pruned runs."""

import re
import sqlite3
import time

import pytest

from conftest import make_server

DAY = 86400000
HOUR = 3600000
ITWIN = "/synchronization/imodels/manifestconnections/"


def iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)


def census_run(i, created, status="completed", duration=1000, records=1):
    return {"id": i, "created_at": iso(created), "updated_at": iso(created + duration),
            "completed_at": iso(created + duration), "status": status, "sync_id": 1, "records_processed": records,
            "records_failed": 0, "error_code": "E" if status == "failed" else None,
            "error_message": "boom" if status == "failed" else None, "error_detail": None, "canceled": False,
            "full_sync": False}


def record(srv, conn_id, runs):
    srv.ok("POST", "/v1/connections/%s/runs:import?format=census" % conn_id, {"status": "success", "data": runs},
           expect=200)


def wait_for(pred, what, timeout=20.0):
    """Waits (bounded) for the background pruner; the assertion is on the state, not on the time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    pytest.fail("not reached within %ss: %s" % (timeout, what))


def conn(srv, cid):
    return srv.ok("GET", "/v1/connections/%s" % cid, expect=200)


def native_all(srv, cid):
    out, cursor = [], None
    while True:
        q = "?order=asc&limit=7" + ("&cursor=" + cursor if cursor else "")
        body = srv.ok("GET", "/v1/connections/%s/runs%s" % (cid, q), expect=200)
        out += body["data"]
        cursor = body["next_cursor"]
        if not cursor:
            return out


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = make_server(tmp_path_factory, "retention", start=False)
    s.extra_args = ["--prune-interval", "1", "--rate-limit", "braze=0/60"]
    s.start()
    yield s
    s.stop()


def test_default_keeps_everything_and_policy_round_trip(srv):
    assert srv.ok("GET", "/v1/workspace/retention", expect=200) == {"days": None, "keep_last": None,
                                                                     "failure_days": None}
    c = srv.create_connection(name="default")
    assert c["retention_days"] is None and c["retention_keep_last"] is None and c["runs_pruned"] == 0
    now = int(time.time() * 1000)
    record(srv, c["id"], [census_run(i, now - 400 * DAY + i * HOUR) for i in range(1, 6)])
    # another connection with its own policy is pruned: a pass has run, and left this one alone
    d = srv.create_connection(name="own policy", retention_keep_last=1)
    assert d["retention_keep_last"] == 1
    record(srv, d["id"], [census_run(i, now - 400 * DAY + i * HOUR) for i in range(1, 4)])
    wait_for(lambda: conn(srv, d["id"])["runs_pruned"] == 2, "connection d pruned to its newest run")
    assert conn(srv, c["id"])["runs_pruned"] == 0
    assert [r["run_count"] for r in native_all(srv, c["id"])] == [1, 2, 3, 4, 5]
    # the workspace policy: PATCH merges the fields sent, null clears one
    p = srv.ok("PATCH", "/v1/workspace/retention", {"days": 30, "failure_days": 90}, expect=200)
    assert p == {"days": 30, "keep_last": None, "failure_days": 90}
    p = srv.ok("PATCH", "/v1/workspace/retention", {"keep_last": 1000}, expect=200)
    assert p == {"days": 30, "keep_last": 1000, "failure_days": 90}
    # a connection that says 0 opts out of the workspace's age limit
    srv.ok("PATCH", "/v1/connections/%s" % c["id"], {"retention_days": 0, "retention_keep_last": 0}, expect=200)
    p = srv.ok("PATCH", "/v1/workspace/retention", {"days": None, "keep_last": None, "failure_days": None},
               expect=200)
    assert p == {"days": None, "keep_last": None, "failure_days": None}
    assert srv.ok("GET", "/v1/workspace/retention", expect=200) == p


@pytest.mark.parametrize("body,field", [
    ({"days": 0}, "days"), ({"days": -1}, "days"), ({"days": "7"}, "days"), ({"keep_last": 1.5}, "keep_last"),
    ({"failure_days": 36501}, "failure_days"), ({"weeks": 2}, "weeks"),
])
def test_bad_workspace_policy_is_400_and_changes_nothing(srv, body, field):
    before = srv.ok("GET", "/v1/workspace/retention", expect=200)
    r = srv.request("PATCH", "/v1/workspace/retention", body)
    assert r.status == 400, r.describe()
    assert r.json["error"]["field"] == field
    assert srv.ok("GET", "/v1/workspace/retention", expect=200) == before


def test_policy_needs_admin(srv):
    read = srv.new_key("runs:read")
    assert srv.request("GET", "/v1/workspace/retention", token=read).status == 403
    assert srv.request("PATCH", "/v1/workspace/retention", {"days": 1}, token=read).status == 403
    assert srv.request("GET", "/v1/workspace/retention", token=None).status == 401


@pytest.mark.parametrize("body,field", [
    ({"retention_days": -1}, "retention_days"), ({"retention_keep_last": "x"}, "retention_keep_last"),
    ({"retention_failure_days": 99999}, "retention_failure_days"),
])
def test_bad_connection_override_is_400(srv, body, field):
    c = srv.create_connection(name="bad override")
    r = srv.request("PATCH", "/v1/connections/%s" % c["id"], body)
    assert r.status == 400 and r.json["error"]["field"] == field, r.describe()
    assert conn(srv, c["id"]) == c


@pytest.fixture(scope="module")
def pruned(srv):
    """30 runs (run_count 1..30) 100 days old, then a policy keeping the last 10: runs 21..30 stay."""
    c = srv.create_connection(name="pruned")
    now = int(time.time() * 1000)
    runs = []
    for i in range(1, 31):
        runs.append(census_run(i, now - 100 * DAY + i * HOUR, "failed" if i % 4 == 0 else "completed",
                               duration=1000 * i, records=i))
    record(srv, c["id"], runs)
    before = native_all(srv, c["id"])
    run = before[0]["id"]
    srv.ok("POST", "/v1/runs/%s/log" % run, b"a log line\n", expect=204)
    srv.ok("PATCH", "/v1/connections/%s" % c["id"], {"retention_keep_last": 10}, expect=200)
    wait_for(lambda: conn(srv, c["id"])["runs_pruned"] == 20, "the 20 oldest runs pruned")
    return {"conn": conn(srv, c["id"]), "before": before, "now": now}


def test_native_after_prune(srv, pruned):
    c, before = pruned["conn"], pruned["before"]
    assert c["run_count"] == 30 and c["runs_pruned"] == 20
    kept = native_all(srv, c["id"])
    assert [r["run_count"] for r in kept] == list(range(21, 31))
    assert [r["id"] for r in kept] == [r["id"] for r in before[20:]]
    gone = before[0]["id"]
    assert srv.request("GET", "/v1/runs/%s" % gone).status == 404
    assert srv.request("GET", "/v1/runs/%s/events" % gone).status == 404
    # their events, logs, jobs are gone from the database too; the runs kept still have theirs
    db = sqlite3.connect(srv.db)
    try:
        ids = [r["id"] for r in before[:20]]
        marks = ",".join("?" * len(ids))
        for table in ("run_events", "run_log_chunks", "run_logs", "jobs"):
            n = db.execute("SELECT count(*) FROM %s WHERE run_id IN (%s)" % (table, marks), ids).fetchone()[0]
            assert n == 0, table
        assert db.execute("SELECT count(*) FROM run_events WHERE run_id = ?", (kept[0]["id"],)).fetchone()[0] > 0
    finally:
        db.close()
    # run_count numbers are never reused
    new = srv.trigger(c["id"], {"state": "working"}, expect=201)
    assert new["run_count"] == 31
    srv.finish(new["id"], "success")


def test_statistics_survive_the_prune(srv, pruned):
    c = pruned["conn"]
    s = srv.ok("GET", "/v1/connections/%s/stats?since=%d" % (c["id"], pruned["now"] - 200 * DAY), expect=200)
    assert s["runs"] >= 30 and s["by_result"]["error"] == 7
    assert s["records_processed"] >= sum(range(1, 31))
    text = srv.request("GET", "/metrics").raw.decode()
    m = re.search(r'^syncrun_runs_pruned_total (\S+)$', text, re.M)
    assert m and float(m.group(1)) >= 20
    m = re.search(r'^syncrun_runs_finished_total\{connection_id="%d",[^}]*result="error"\} (\S+)$' % c["id"], text,
                  re.M)
    assert m and float(m.group(1)) == 7


def test_census_totals_and_pages_after_prune(srv, pruned):
    c = pruned["conn"]
    kept = native_all(srv, c["id"])
    total = len(kept)
    seen = []
    for page in (1, 2, 3):
        body = srv.ok("GET", "/api/v1/syncs/%s/sync_runs?per_page=4&page=%d" % (c["id"], page), expect=200)
        pg = body["pagination"]
        assert pg["total_records"] == total and pg["last_page"] == (total + 3) // 4 and pg["page"] == page
        assert len(body["data"]) == (4 if page < pg["last_page"] else total - 4 * (pg["last_page"] - 1))
        seen += [r["id"] for r in body["data"]]
    assert seen == [r["id"] for r in reversed(kept)]
    asc = srv.ok("GET", "/api/v1/syncs/%s/sync_runs?per_page=100&order=asc" % c["id"], expect=200)
    assert [r["id"] for r in asc["data"]] == [r["id"] for r in kept]
    past = srv.ok("GET", "/api/v1/syncs/%s/sync_runs?per_page=4&page=9" % c["id"], expect=200)
    assert past["data"] == [] and past["pagination"]["total_records"] == total


def test_blueconic_totals_and_pages_after_prune(srv, pruned):
    c = pruned["conn"]
    kept = native_all(srv, c["id"])
    seen = []
    for start in range(0, len(kept), 4):
        body = srv.ok("GET", "/rest/v2/connections/%s/runs?count=4&startIndex=%d" % (c["uuid"], start), expect=200)
        assert body["totalResults"] == len(kept) and body["totalPages"] == (len(kept) + 3) // 4
        assert len(body["runs"]) == min(4, len(kept) - start)
        seen += [r["runCount"] for r in body["runs"]]
    assert seen == [r["run_count"] for r in reversed(kept)]
    body = srv.ok("GET", "/rest/v2/connections/%s/runs?count=4&startIndex=%d" % (c["uuid"], len(kept)), expect=200)
    assert body["runs"] == []


def test_itwin_pages_after_prune(srv, pruned):
    c = pruned["conn"]
    kept = native_all(srv, c["id"])
    seen, path = [], ITWIN + c["uuid"] + "/runs?$top=4"
    while path:
        r = srv.request("GET", path)
        assert r.status == 200, r.describe()
        runs = r.json["runs"]
        assert runs, "no empty page before the end"
        seen += [x["id"] for x in runs]
        nxt = r.json["_links"].get("next")
        path = nxt["href"].split(str(srv.port), 1)[1] if nxt else None
    assert seen == [r["uuid"] for r in reversed(kept)]
    r = srv.request("GET", ITWIN + c["uuid"] + "/runs?$top=4&$skip=%d" % len(kept))
    assert r.status == 200 and r.json["runs"] == []


def test_braze_cursors_after_prune(srv, pruned):
    c = pruned["conn"]
    kept = [r for r in native_all(srv, c["id"]) if r["result"] != "skipped"]
    n, path = 0, "/cdi/integrations/%s/job_sync_status" % c["uuid"]
    while path:
        r = srv.request("GET", path)
        assert r.status == 200, r.describe()
        n += len(r.json["results"])
        link = r.headers.get("link") or ""
        m = re.search(r'<([^>]+)>; rel="next"', link)
        path = m.group(1) if m else None
    assert n == len(kept)


def live_run(srv, cid, result, watermark=None, jobs=False):
    run = srv.trigger(cid, {"state": "working"}, expect=201)
    if jobs:
        job = srv.ok("POST", "/v1/runs/%s/jobs" % run["id"], {"name": "job", "state": "working"}, expect=201)
        srv.ok("POST", "/v1/runs/%s/jobs/%s/tasks" % (run["id"], job["id"]), {"source_file_id": "f"}, expect=201)
    if watermark is not None:
        srv.ok("PATCH", "/v1/runs/%s" % run["id"], {"last_timestamp_synced": watermark}, expect=200)
    return srv.finish(run["id"], result)


def test_always_keeps_last_watermark_and_last_success(srv):
    c = srv.create_connection(name="keeps watermark")
    first = live_run(srv, c["id"], "success", jobs=True)
    live_run(srv, c["id"], "success", watermark="2026-01-31T12:00:00Z")  # the last watermark
    live_run(srv, c["id"], "success")
    live_run(srv, c["id"], "error")
    live_run(srv, c["id"], "error")
    srv.ok("PATCH", "/v1/connections/%s" % c["id"], {"retention_keep_last": 1}, expect=200)
    wait_for(lambda: conn(srv, c["id"])["runs_pruned"] == 1, "run 1 pruned, run 2 (the last watermark) kept")
    assert [r["run_count"] for r in native_all(srv, c["id"])] == [2, 3, 4, 5]
    db = sqlite3.connect(srv.db)  # the pruned run's jobs and tasks went with it
    try:
        assert db.execute("SELECT count(*) FROM jobs WHERE run_id = ?", (first["id"],)).fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM tasks WHERE job_id NOT IN (SELECT id FROM jobs)").fetchone()[0] == 0
    finally:
        db.close()

    d = srv.create_connection(name="keeps success")
    for result in ("success", "success", "error", "error"):
        live_run(srv, d["id"], result)
    srv.ok("PATCH", "/v1/connections/%s" % d["id"], {"retention_keep_last": 1}, expect=200)
    wait_for(lambda: conn(srv, d["id"])["runs_pruned"] == 1, "run 1 pruned, run 2 (the last success) kept")
    assert [r["result"] for r in native_all(srv, d["id"])] == ["success", "error", "error"]


def test_failures_kept_longer(srv):
    now = int(time.time() * 1000)
    c = srv.create_connection(name="failures longer")
    runs = [census_run(i, now - (11 - i) * DAY) for i in range(1, 4)]  # 10, 9, 8 days old
    runs += [census_run(4, now - 3 * DAY, "failed"), census_run(5, now - 2 * DAY), census_run(6, now - HOUR)]
    record(srv, c["id"], runs)
    srv.ok("PATCH", "/v1/connections/%s" % c["id"],
           {"retention_days": 1, "retention_failure_days": 7}, expect=200)
    wait_for(lambda: conn(srv, c["id"])["runs_pruned"] == 3, "runs 1-3 pruned, the failure of 3 days ago kept")
    assert [r["run_count"] for r in native_all(srv, c["id"])] == [4, 5, 6]


def test_workspace_policy_applies_and_connection_opts_out(srv):
    other = srv.new_workspace("ret-other")
    tok = other["token"]
    now = int(time.time() * 1000)
    a = srv.ok("POST", "/v1/connections", {"name": "a"}, expect=201, token=tok)
    b = srv.ok("POST", "/v1/connections", {"name": "b", "retention_days": 0}, expect=201, token=tok)
    for x in (a, b):
        srv.ok("POST", "/v1/connections/%s/runs:import?format=census" % x["id"],
               {"status": "success", "data": [census_run(i, now - (20 - i) * DAY) for i in range(1, 6)]},
               expect=200, token=tok)
    srv.ok("PATCH", "/v1/workspace/retention", {"days": 10}, expect=200, token=tok)
    wait_for(lambda: srv.ok("GET", "/v1/connections/%s" % a["id"], expect=200, token=tok)["runs_pruned"] == 4,
             "the workspace policy prunes a")
    assert srv.ok("GET", "/v1/connections/%s" % b["id"], expect=200, token=tok)["runs_pruned"] == 0
    # the first workspace's policy is its own
    assert srv.ok("GET", "/v1/workspace/retention", expect=200)["days"] is None


def test_import_after_prune_never_reuses_run_counts(srv, pruned):
    """Imported history older than the runs kept is numbered after the pruned ones."""
    c = srv.create_connection(name="import after prune")
    now = int(time.time() * 1000)
    record(srv, c["id"], [census_run(i, now - 30 * DAY + i * HOUR) for i in range(1, 6)])
    srv.ok("PATCH", "/v1/connections/%s" % c["id"], {"retention_keep_last": 2}, expect=200)
    wait_for(lambda: conn(srv, c["id"])["runs_pruned"] == 3, "3 pruned")
    srv.ok("PATCH", "/v1/connections/%s" % c["id"], {"retention_keep_last": 0}, expect=200)
    record(srv, c["id"], [census_run(100, now - 40 * DAY)])
    counts = [r["run_count"] for r in native_all(srv, c["id"])]
    assert counts == [4, 5, 6] and conn(srv, c["id"])["runs_pruned"] == 3


def test_cli_shows_and_sets_the_policy(srv):
    ws = srv.new_workspace("cli-ret")
    args = ["--db", srv.db, "--workspace", ws["workspace_id"], "--json"]
    assert srv.cli("workspace", "retention", *args) == {"days": None, "keep_last": None, "failure_days": None}
    out = srv.cli("workspace", "retention", "--days", "14", "--failure-days", "60", *args)
    assert out == {"days": 14, "keep_last": None, "failure_days": 60}
    assert srv.ok("GET", "/v1/workspace/retention", expect=200, token=ws["token"]) == out
    out = srv.cli("workspace", "retention", "--failure-days", "none", *args)
    assert out == {"days": 14, "keep_last": None, "failure_days": None}
    c = srv.cli("connection", "create", "--name", "cli kept", "--retention-keep-last", "3", *args)
    assert c["retention_keep_last"] == 3 and c["retention_days"] is None
