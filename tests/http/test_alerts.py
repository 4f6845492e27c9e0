"""Alerts (issue 12): the writer raises run.failed and run.recovered in the transaction that finishes
a run; they are listed by GET /v1/alerts and GET /v1/connections/{id}/alerts (oldest first, keyset
pages), and a run-scoped alert is also an event on the run's trail. Webhooks deliver from this list."""

import uuid

import pytest


def alerts(srv, conn_id=None, token=None, **query):
    path = "/v1/connections/%s/alerts" % conn_id if conn_id is not None else "/v1/alerts"
    if query:
        path += "?" + "&".join("%s=%s" % kv for kv in query.items())
    kw = {"token": token} if token else {}
    return srv.ok("GET", path, expect=200, **kw)


def run_once(srv, conn_id, result, **extra):
    run = srv.trigger(conn_id, {"state": "working"})
    return srv.finish(run["id"], result, **extra)


@pytest.fixture
def conn(server):
    return server.create_connection(name="alerts-%s" % uuid.uuid4().hex[:8])


def test_failure_then_recovery(server, conn):
    ok = run_once(server, conn["id"], "success")
    failed = run_once(server, conn["id"], "error", error={"code": "AUTH", "message": "token expired"})
    again = run_once(server, conn["id"], "timed_out")
    recovered = run_once(server, conn["id"], "success")
    quiet = run_once(server, conn["id"], "success")
    got = alerts(server, conn["id"])["data"]
    assert [(a["event"], a["run_id"]) for a in got] == [
        ("run.failed", failed["id"]),
        ("run.failed", again["id"]),
        ("run.recovered", recovered["id"]),
    ], got
    assert got[0]["connection_id"] == conn["id"]
    assert got[0]["data"] == {"result": "error", "error_code": "AUTH", "error_message": "token expired"}
    assert got[2]["data"] == {"previous_run_id": again["id"], "previous_result": "timed_out"}
    assert ok["id"] not in [a["run_id"] for a in got] and quiet["id"] not in [a["run_id"] for a in got]
    # the alert is an event on the run's trail too, naming the alert
    events = server.ok("GET", "/v1/runs/%s/events" % failed["id"], expect=200)["data"]
    kinds = [e["kind"] for e in events]
    assert kinds[-1] == "run.failed" and kinds[-2] == "finished", kinds
    assert events[-1]["data"]["alert_id"] == got[0]["id"]


def test_canceled_and_skipped_runs_neither_fail_nor_recover(server, conn):
    run_once(server, conn["id"], "error")
    run = server.trigger(conn["id"], {"state": "working"})
    server.ok("POST", "/v1/runs/%s/cancel" % run["id"], {}, expect=200)
    run_once(server, conn["id"], "success")
    got = [a["event"] for a in alerts(server, conn["id"])["data"]]
    # the cancel is neither a failure nor a recovery; the success after it still recovers from the error
    assert got == ["run.failed", "run.recovered"], got


def test_first_success_is_no_recovery_and_partial_is_no_failure(server, conn):
    run_once(server, conn["id"], "partial")
    run_once(server, conn["id"], "success")
    assert alerts(server, conn["id"])["data"] == []


def test_pages_and_bad_input(server, conn):
    for _ in range(3):
        run_once(server, conn["id"], "error")
    first = alerts(server, conn["id"], limit=2)
    assert len(first["data"]) == 2 and first["next_cursor"]
    rest = alerts(server, conn["id"], limit=2, cursor=first["next_cursor"])
    assert len(rest["data"]) == 1 and rest["next_cursor"] is None
    ids = [a["id"] for a in first["data"] + rest["data"]]
    assert ids == sorted(ids) and len(set(ids)) == 3
    r = server.request("GET", "/v1/alerts?limit=0")
    assert r.status == 400 and r.json["error"]["field"] == "limit", r.describe()
    r = server.request("GET", "/v1/alerts?cursor=nope")
    assert r.status == 400 and r.json["error"]["field"] == "cursor", r.describe()
    r = server.request("GET", "/v1/connections/999999/alerts")
    assert r.status == 404, r.describe()


def test_workspaces_see_only_their_alerts(server, keys, conn):
    run_once(server, conn["id"], "error")
    assert alerts(server, token=keys["other"])["data"] == []
    r = server.request("GET", "/v1/connections/%s/alerts" % conn["id"], token=keys["other"])
    assert r.status == 404, r.describe()
    mine = alerts(server, token=keys["read"])["data"]
    assert any(a["connection_id"] == conn["id"] for a in mine)


def test_interrupted_run_raises_failed(fresh_server):
    srv = fresh_server
    c = srv.create_connection(name="managed", command=["sleep", "30"])
    run = srv.trigger(c["id"])
    deadline = 50
    import time
    while srv.get_run(run["id"])["state"] != "working" and deadline:
        time.sleep(0.1)
        deadline -= 1
    srv.kill()
    srv.start()
    got = alerts(srv, c["id"])["data"]
    assert [(a["event"], a["run_id"]) for a in got] == [("run.failed", run["id"])], got
    assert got[0]["data"]["error_code"] == "INTERRUPTED"
