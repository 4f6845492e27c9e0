"""Overlap policies: skip (201, a new run finished/skipped), queue (201, a new run that stays
queued), attach (200, the run in progress, no new run)."""

import re

TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def trig(srv, conn, body=None):
    r = srv.request("POST", "/v1/connections/%s/runs" % conn, body if body is not None else {})
    return r


def run_count(srv, conn):
    return srv.ok("GET", "/v1/connections/%s" % conn, expect=200)["run_count"]


def kinds(srv, run_id):
    return [e["kind"] for e in srv.ok("GET", "/v1/runs/%s/events?limit=100" % run_id, expect=200)["data"]]


def test_skip_while_queued_working_retrying(server):
    c = server.create_connection(name="skip", overlap="skip")["id"]
    a = trig(server, c)
    assert a.status == 201 and a.json["state"] == "queued", a.describe()
    a = a.json

    b = trig(server, c, {"state": "working", "trigger": {"tag": "Manual", "detail": "x"}})
    assert b.status == 201, "skip policy answers 201 with a new, skipped run:\n" + b.describe()
    b = b.json
    assert b["id"] != a["id"]
    assert b["state"] == "finished" and b["result"] == "skipped", b
    assert b["run_count"] == 2 and TS.match(b["completed_at"] or ""), b
    assert "skipped" in kinds(server, b["id"]), kinds(server, b["id"])
    assert server.get_run(a["id"])["state"] == "queued", "the run in progress is not touched"
    assert server.get_run(a["id"])["version"] == a["version"]

    server.ok("PATCH", "/v1/runs/%s" % a["id"], {"state": "working"}, expect=200)
    r = trig(server, c)
    assert r.status == 201 and r.json["result"] == "skipped", r.describe()
    server.ok("PATCH", "/v1/runs/%s" % a["id"], {"state": "retrying"}, expect=200)
    r = trig(server, c)
    assert r.status == 201 and r.json["result"] == "skipped", "retrying is in progress too:\n" + r.describe()

    census = server.ok("GET", "/api/v1/sync_runs/%s" % b["id"], expect=200)
    assert census["data"]["status"] == "skipped" and census["data"]["canceled"] is False, census

    server.finish(a["id"], "success")
    r = trig(server, c)
    assert r.status == 201 and r.json["state"] == "queued" and r.json["result"] is None, \
        "nothing in progress any more: a normal run\n" + r.describe()
    assert run_count(server, c) == 5
    lst = server.ok("GET", "/v1/connections/%s/runs?result=skipped" % c, expect=200)["data"]
    assert len(lst) == 3


def test_skip_does_not_look_at_other_connections(server):
    c1 = server.create_connection(name="skip-1")["id"]
    c2 = server.create_connection(name="skip-2")["id"]
    assert trig(server, c1).json["state"] == "queued"
    r = trig(server, c2)
    assert r.status == 201 and r.json["state"] == "queued", r.describe()


def test_queue(server):
    c = server.create_connection(name="queue", overlap="queue")["id"]
    a = trig(server, c, {"state": "working"})
    assert a.status == 201 and a.json["state"] == "working", a.describe()
    b = trig(server, c, {"state": "working"})
    assert b.status == 201, b.describe()
    assert b.json["id"] != a.json["id"]
    assert b.json["state"] == "queued" and b.json["result"] is None, "queue: the new run stays queued\n" + b.describe()
    c3 = trig(server, c)
    assert c3.status == 201 and c3.json["state"] == "queued", c3.describe()
    assert run_count(server, c) == 3
    assert [r["id"] for r in server.ok("GET", "/v1/connections/%s/runs?state=queued" % c, expect=200)["data"]] == \
        [c3.json["id"], b.json["id"]]
    assert server.get_run(a.json["id"])["state"] == "working"


def test_attach(server):
    c = server.create_connection(name="attach", overlap="attach")["id"]
    a = trig(server, c)
    assert a.status == 201, a.describe()
    a = a.json
    r = trig(server, c, {"state": "working"})
    assert r.status == 200, "attach answers 200 with the run in progress\n" + r.describe()
    assert r.json["id"] == a["id"] and r.json["uuid"] == a["uuid"], r.json
    assert run_count(server, c) == 1, "attach creates no run"
    assert len(server.ok("GET", "/v1/connections/%s/runs" % c, expect=200)["data"]) == 1
    assert "attached" in kinds(server, a["id"]), kinds(server, a["id"])

    server.ok("PATCH", "/v1/runs/%s" % a["id"], {"state": "working", "current_step": "Running sync"}, expect=200)
    r = trig(server, c)
    assert r.status == 200 and r.json["id"] == a["id"] and r.json["state"] == "working", r.describe()
    assert r.json["current_step"] == "Running sync", "the answer is the current run"

    server.finish(a["id"], "success")
    r = trig(server, c)
    assert r.status == 201 and r.json["id"] != a["id"] and r.json["run_count"] == 2, \
        "nothing in progress: a new run\n" + r.describe()


def test_overlap_change_applies_to_next_trigger(server):
    c = server.create_connection(name="switch")["id"]
    a = trig(server, c).json
    server.ok("PATCH", "/v1/connections/%s" % c, {"overlap": "attach"}, expect=200)
    r = trig(server, c)
    assert r.status == 200 and r.json["id"] == a["id"], r.describe()
    server.ok("PATCH", "/v1/connections/%s" % c, {"overlap": "queue"}, expect=200)
    r = trig(server, c)
    assert r.status == 201 and r.json["state"] == "queued" and r.json["id"] != a["id"], r.describe()
