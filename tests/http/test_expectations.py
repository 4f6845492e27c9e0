"""Expected runs, durations and watermarks (issue 12): a connection declares what it expects in its
"expect" object; syncrun marks it late and raises run.late when no run starts in time (and when a
run does not finish within the maximum), run.duration outside the bounds, watermark.backwards and
watermark.stalled on successful runs. Each check is an event on the run (its "flags" too).

No test asserts a wall-clock time: intervals are short and every wait polls with a deadline."""

import os
import subprocess
import time

import pytest

DEADLINE = 20.0


def poll(fn, what, deadline=DEADLINE):
    """fn() until it returns something true; fails after `deadline` seconds."""
    end = time.monotonic() + deadline
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > end:
            pytest.fail("timed out waiting for %s" % what)
        time.sleep(0.1)


def events(server, run_id, kind=None, token=None):
    kw = {} if token is None else {"token": token}
    evs = server.ok("GET", "/v1/runs/%s/events?limit=100" % run_id, expect=200, **kw)["data"]
    return [e for e in evs if kind is None or e["kind"] == kind]


def connection(server, cid, **kw):
    return server.ok("GET", "/v1/connections/%s" % cid, expect=200, **kw)


def working_run(server, cid):
    return server.trigger(cid, {"state": "working"})


def success_with_watermark(server, cid, wm):
    run = working_run(server, cid)
    server.ok("PATCH", "/v1/runs/%s" % run["id"], {"last_timestamp_synced": wm}, expect=200)
    return server.finish(run["id"])


def test_defaults_and_own_schedule(server):
    c = server.create_connection(name="plain")
    assert c["expect"] == {"schedule": None, "timezone": None, "interval_seconds": 0, "grace_seconds": 0,
                           "min_duration_seconds": 0, "max_duration_seconds": 0, "watermark_stall_runs": 0,
                           "watermark_max_age_seconds": 0}
    assert c["late"] is False and c["late_since"] is None and c["expected_by"] is None
    # a connection syncrun runs on a schedule expects its own schedule, with no expect fields
    s = server.create_connection(name="own", schedule="0 3 * * *", timezone="Europe/Berlin")
    assert s["expected_by"] is not None and s["late"] is False
    # expect: null turns everything off; the own schedule still counts
    p = server.ok("PATCH", "/v1/connections/%s" % s["id"], {"expect": None}, expect=200)
    assert p["expected_by"] is not None


def test_late_after_interval_and_grace_then_a_run_clears_it(server):
    c = server.create_connection(name="every-2s", expect={"interval_seconds": 2, "grace_seconds": 1})
    assert c["expect"]["interval_seconds"] == 2 and c["expect"]["grace_seconds"] == 1
    assert c["late"] is False and c["expected_by"] is not None
    late = poll(lambda: (lambda x: x if x["late"] else None)(connection(server, c["id"])), "the connection to be late")
    assert late["late_since"] is not None and late["expected_by"] is None
    # the run.late alert is visible in the API: /v1/alerts, connection-scoped (no run)
    alerts = poll(lambda: [a for a in server.ok("GET", "/v1/connections/%s/alerts" % c["id"], expect=200)["data"]
                           if a["event"] == "run.late"], "the run.late alert")
    assert alerts[0]["data"]["reason"] == "not_started"
    # listed as late in the metrics of the workspace
    text = server.request("GET", "/metrics").raw.decode()
    assert any(line.startswith("syncrun_connections_late ") and float(line.split()[1]) >= 1
               for line in text.splitlines()), text[-2000:]
    # once per missed expectation, not once per check: the checker looks every second
    server.ok("GET", "/v1/connections/%s" % c["id"], expect=200)
    time.sleep(2.5)
    again = [a for a in server.ok("GET", "/v1/connections/%s/alerts" % c["id"], expect=200)["data"]
             if a["event"] == "run.late"]
    assert len(again) == 1, again
    # a run clears it; the next deadline counts from that run
    run = server.trigger(c["id"])
    cleared = connection(server, c["id"])
    assert cleared["late"] is False and cleared["late_since"] is None and cleared["expected_by"] is not None
    server.finish(run["id"])


def test_pings_count_as_runs_and_are_watched_too(server):
    """Runs syncrun does not execute: a ping's start clears late, and its run must end in time."""
    c = server.create_connection(name="pinged", expect={"interval_seconds": 2, "max_duration_seconds": 1})
    key = server.ok("POST", "/v1/connections/%s/ping-key" % c["id"], expect=201)["ping_key"]
    poll(lambda: connection(server, c["id"])["late"], "the connection to be late")
    r = server.request("GET", "/ping/%s/start" % key, token=None)
    assert r.status == 200, r.describe()
    assert connection(server, c["id"])["late"] is False
    run_id = r.headers["syncrun-run-id"]
    ev = poll(lambda: events(server, run_id, "run.late"), "run.late on the pinged run")
    assert ev[0]["data"]["reason"] == "not_finished"
    assert server.request("GET", "/ping/%s" % key, token=None).status == 200
    assert server.get_run(run_id)["flags"] == ["run.late", "run.duration"]


def test_cli_shows_late_connections_and_run_flags(server):
    c = server.create_connection(name="cli-late", expect={"interval_seconds": 1})
    poll(lambda: connection(server, c["id"])["late"], "the connection to be late")
    listed = [x for x in server.cli("connection", "list", "--db", server.db, "--json") if x["id"] == c["id"]]
    assert listed[0]["late"] is True and listed[0]["late_since"] is not None
    table = subprocess.run([server.bin, "connection", "list", "--db", server.db], capture_output=True, timeout=20)
    assert table.returncode == 0, table.stderr
    row = [line for line in table.stdout.decode().splitlines() if "cli-late" in line]
    assert row and "late since" in row[0], table.stdout

    server.ok("PATCH", "/v1/connections/%s" % c["id"], {"expect": {"min_duration_seconds": 60}}, expect=200)
    run = working_run(server, c["id"])
    server.finish(run["id"])
    runs = server.cli("runs", "list", c["id"], "--db", server.db, "--json")
    assert runs[0]["flags"] == ["run.duration"], runs
    table = subprocess.run([server.bin, "runs", "list", str(c["id"]), "--db", server.db], capture_output=True,
                           timeout=20)
    assert table.returncode == 0, table.stderr
    assert "FLAGS" in table.stdout.decode() and "run.duration" in table.stdout.decode(), table.stdout


def test_started_but_not_finished_within_the_maximum(server):
    c = server.create_connection(name="max-1s", expect={"max_duration_seconds": 1})
    run = working_run(server, c["id"])
    ev = poll(lambda: events(server, run["id"], "run.late"), "run.late on the run")
    assert ev[0]["data"]["reason"] == "not_finished" and ev[0]["data"]["max_duration_seconds"] == 1
    got = server.get_run(run["id"])
    assert got["state"] == "working" and got["flags"] == ["run.late"]
    time.sleep(1.5)  # once per run, however long it keeps running
    assert len(events(server, run["id"], "run.late")) == 1
    # slower than the maximum when it ends, too: run.duration
    done = server.finish(run["id"])
    assert done["flags"] == ["run.late", "run.duration"]
    d = events(server, run["id"], "run.duration")
    assert d[0]["data"]["reason"] == "too_slow" and d[0]["data"]["max_duration_seconds"] == 1
    assert d[0]["data"]["duration_seconds"] > 1
    # a run that starts queued is watched from when it starts, not from when it was queued
    q = server.trigger(c["id"])
    assert q["state"] == "queued"
    time.sleep(1.5)
    assert events(server, q["id"], "run.late") == []
    server.ok("PATCH", "/v1/runs/%s" % q["id"], {"state": "working"}, expect=200)
    poll(lambda: events(server, q["id"], "run.late"), "run.late on the run once it started")
    server.finish(q["id"], result="error")


def test_duration_bounds(server):
    c = server.create_connection(name="bounds", expect={"min_duration_seconds": 30, "max_duration_seconds": 3600})
    fast = working_run(server, c["id"])
    done = server.finish(fast["id"])
    assert done["flags"] == ["run.duration"]
    ev = events(server, fast["id"], "run.duration")
    assert len(ev) == 1 and ev[0]["data"]["reason"] == "too_fast" and ev[0]["data"]["min_duration_seconds"] == 30
    assert server.get_run(fast["id"])["flags"] == ["run.duration"]
    # a failure is a failure, not a suspiciously fast run
    failed = working_run(server, c["id"])
    assert server.finish(failed["id"], result="error")["flags"] == []
    # within the bounds: nothing
    server.ok("PATCH", "/v1/connections/%s" % c["id"], {"expect": {"min_duration_seconds": 0}}, expect=200)
    ok = working_run(server, c["id"])
    assert server.finish(ok["id"])["flags"] == []
    assert events(server, ok["id"], "run.duration") == []


T = ["2026-01-01T10:00:00.000Z", "2026-01-01T11:00:00.000Z", "2026-01-01T10:30:00.000Z"]


def test_watermark_backwards_and_stalled(server):
    c = server.create_connection(name="wm", expect={"watermark_stall_runs": 2})
    first = success_with_watermark(server, c["id"], T[0])
    second = success_with_watermark(server, c["id"], T[1])
    back = success_with_watermark(server, c["id"], T[2])  # earlier than the previous success
    flat = success_with_watermark(server, c["id"], T[2])  # the 2nd success in a row without advancing
    assert first["flags"] == [] and second["flags"] == []
    assert back["flags"] == ["watermark.backwards"]
    b = events(server, back["id"], "watermark.backwards")
    assert b[0]["data"]["last_timestamp_synced"] == T[2] and b[0]["data"]["previous_last_timestamp_synced"] == T[1]
    assert flat["flags"] == ["watermark.stalled"]
    s = events(server, flat["id"], "watermark.stalled")
    assert s[0]["data"]["reason"] == "not_advancing" and s[0]["data"]["runs_without_advance"] == 2
    # failures and runs without a watermark are not compared
    failed = working_run(server, c["id"])
    server.ok("PATCH", "/v1/runs/%s" % failed["id"], {"last_timestamp_synced": T[0]}, expect=200)
    assert server.finish(failed["id"], result="error")["flags"] == []
    plain = working_run(server, c["id"])
    assert server.finish(plain["id"])["flags"] == []
    # an advance starts over
    assert success_with_watermark(server, c["id"], "2026-01-02T00:00:00Z")["flags"] == []
    # the alerts are in the workspace's list too, with their runs
    got = server.ok("GET", "/v1/connections/%s/alerts" % c["id"], expect=200)["data"]
    assert {(a["event"], a["run_id"]) for a in got} >= {("watermark.backwards", back["id"]),
                                                        ("watermark.stalled", flat["id"])}


def test_watermark_older_than_the_maximum_age(server):
    c = server.create_connection(name="wm-age", expect={"watermark_max_age_seconds": 3600})
    old = success_with_watermark(server, c["id"], "2020-01-01T00:00:00Z")
    assert old["flags"] == ["watermark.stalled"]
    ev = events(server, old["id"], "watermark.stalled")
    assert ev[0]["data"]["reason"] == "too_old" and ev[0]["data"]["watermark_max_age_seconds"] == 3600
    fresh = success_with_watermark(server, c["id"], time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    assert fresh["flags"] == []


BAD = [
    ({"expect": 5}, "expect"),
    ({"expect": {"schedule": "not cron"}}, "expect.schedule"),
    ({"expect": {"schedule": "0 3 * * *", "timezone": "Mars/Olympus"}}, "expect.timezone"),
    ({"expect": {"schedule": "0 3 * * *", "interval_seconds": 60}}, "expect.interval_seconds"),
    ({"expect": {"interval_seconds": -1}}, "expect.interval_seconds"),
    ({"expect": {"interval_seconds": "60"}}, "expect.interval_seconds"),
    ({"expect": {"grace_seconds": 10 ** 12}}, "expect.grace_seconds"),
    ({"expect": {"min_duration_seconds": 60, "max_duration_seconds": 30}}, "expect.min_duration_seconds"),
    ({"expect": {"watermark_stall_runs": 1.5}}, "expect.watermark_stall_runs"),
    ({"expect": {"watermark_max_age_seconds": True}}, "expect.watermark_max_age_seconds"),
    ({"expect": {"grace": 5}}, "expect.grace"),
]


@pytest.mark.parametrize("body,field", BAD)
def test_bad_input_is_refused_naming_the_field(server, body, field):
    r = server.request("POST", "/v1/connections", dict(body, name="bad"))
    assert r.status == 400 and r.json["error"]["field"] == field, r.describe()
    c = server.create_connection(name="patched", expect={"max_duration_seconds": 100})
    r = server.request("PATCH", "/v1/connections/%s" % c["id"], body)
    assert r.status == 400 and r.json["error"]["field"] == field, r.describe()
    assert connection(server, c["id"])["expect"]["max_duration_seconds"] == 100  # unchanged


def test_patch_merges_members_and_checks_bounds_with_the_stored_ones(server):
    c = server.create_connection(name="merge", expect={"schedule": "*/5 * * * *", "grace_seconds": 30,
                                                       "max_duration_seconds": 100})
    p = server.ok("PATCH", "/v1/connections/%s" % c["id"], {"expect": {"grace_seconds": 60}}, expect=200)
    assert p["expect"]["schedule"] == "*/5 * * * *" and p["expect"]["grace_seconds"] == 60
    # the interval replaces the schedule (and the other way round)
    p = server.ok("PATCH", "/v1/connections/%s" % c["id"], {"expect": {"interval_seconds": 600}}, expect=200)
    assert p["expect"]["schedule"] is None and p["expect"]["interval_seconds"] == 600
    p = server.ok("PATCH", "/v1/connections/%s" % c["id"], {"expect": {"schedule": "0 * * * *"}}, expect=200)
    assert p["expect"]["schedule"] == "0 * * * *" and p["expect"]["interval_seconds"] == 0
    r = server.request("PATCH", "/v1/connections/%s" % c["id"], {"expect": {"min_duration_seconds": 101}})
    assert r.status == 400 and r.json["error"]["field"] == "expect.min_duration_seconds", r.describe()


def test_workspaces_are_isolated(server, keys):
    c = server.create_connection(name="mine-late", expect={"interval_seconds": 1})
    poll(lambda: connection(server, c["id"])["late"], "the connection to be late")
    other = keys["other"]
    assert server.request("GET", "/v1/connections/%s" % c["id"], token=other).status == 404
    r = server.request("PATCH", "/v1/connections/%s" % c["id"], {"expect": None}, token=other)
    assert r.status == 404
    assert connection(server, c["id"])["late"] is True
    got = server.ok("GET", "/v1/alerts", expect=200, token=other)["data"]
    assert all(a["connection_id"] != c["id"] for a in got)
    # the other workspace's metrics count none of our late connections
    mtok = server.new_key("metrics:read", keys["other_workspace_id"])
    text = server.request("GET", "/metrics", token=mtok).raw.decode()
    assert "syncrun_connections_late 0" in text.splitlines(), text[-2000:]


def test_scheduler_lag_is_a_metric(server):
    text = server.request("GET", "/metrics").raw.decode()
    assert "# TYPE syncrun_scheduler_lag_seconds histogram" in text
    assert "syncrun_scheduler_lag_seconds_count" in text
    assert "# TYPE syncrun_connection_last_success_timestamp_seconds gauge" in text


def test_a_restart_does_not_raise_again(server_factory):
    srv = server_factory("restart")
    c = srv.create_connection(name="late-once", expect={"interval_seconds": 1})
    poll(lambda: connection(srv, c["id"])["late"], "the connection to be late")
    srv.kill()
    srv.start()
    time.sleep(2.5)  # the checker has looked at least twice since the restart
    got = [a for a in srv.ok("GET", "/v1/connections/%s/alerts" % c["id"], expect=200)["data"]
           if a["event"] == "run.late"]
    assert len(got) == 1, got
