"""Pings (issue 12): healthchecks.io's protocol for scripts that can use neither `syncrun exec` nor
the API. The ping key is a separate secret of a connection, made and rotated by an admin; a ping
creates and finishes runs like any other trigger (overlap policy, events), its body becomes the
run's log."""

import subprocess
import uuid

import pytest


def rotate(srv, conn_id, **kw):
    return srv.ok("POST", "/v1/connections/%s/ping-key" % conn_id, expect=201, **kw)


def ping(srv, key, action="", rid=None, body=None, method=None):
    path = "/ping/%s%s%s" % (key, "/" + action if action else "", "?rid=%s" % rid if rid else "")
    return srv.request(method or ("POST" if body is not None else "GET"), path, body, token=None)


def runs(srv, conn_id):
    return srv.ok("GET", "/v1/connections/%s/runs?limit=100" % conn_id, expect=200)["data"]


@pytest.fixture
def pc(server):
    """A fresh connection with a ping key: (connection, key)."""
    c = server.create_connection(name="ping-%s" % uuid.uuid4().hex[:8])
    return c, rotate(server, c["id"])["ping_key"]


def test_rotate_gives_a_key_and_a_url(server, pc):
    c, key = pc
    assert key.startswith("pk_") and len(key) == 43, key
    again = rotate(server, c["id"])
    assert again["ping_key"] != key
    assert again["ping_url"] == "http://127.0.0.1:%d/ping/%s" % (server.port, again["ping_key"])
    r = ping(server, key)
    assert r.status == 404 and r.raw == b"not found\n", "a rotated key stops working: %s" % r.describe()
    assert ping(server, again["ping_key"]).status == 200
    assert c["uuid"] not in again["ping_key"]


def test_success_ping_alone_records_a_run(server, pc):
    c, key = pc
    r = ping(server, key)
    assert r.status == 200 and r.raw == b"OK", r.describe()
    assert r.headers["Ping-Body-Limit"] == "100000"
    run = server.get_run(r.headers["syncrun-run-id"])
    assert run["state"] == "finished" and run["result"] == "success", run
    assert run["trigger"]["tag"] == "Ping", run
    assert [x["id"] for x in runs(server, c["id"])] == [run["id"]]


def test_start_then_success_with_rid_and_logs(server, pc):
    c, key = pc
    rid = str(uuid.uuid4())
    r = ping(server, key, "start", rid=rid, body="starting\n")
    assert r.status == 200, r.describe()
    run_id = r.headers["syncrun-run-id"]
    assert server.get_run(run_id)["state"] == "working"
    assert ping(server, key, "start", rid=rid).headers["syncrun-run-id"] == run_id, "a repeated start: one run"
    assert ping(server, key, "log", rid=rid, body="halfway\n").status == 200
    r = ping(server, key, "0", rid=rid.upper(), body="done\n")
    assert r.status == 200 and r.headers["syncrun-run-id"] == run_id, r.describe()
    run = server.get_run(run_id)
    assert run["result"] == "success", run
    log = server.request("GET", "/v1/runs/%s/log" % run_id).raw
    assert log == b"starting\nhalfway\ndone\n", log
    # an end ping sent again (a retry) changes nothing
    before = server.get_run(run_id)["version"]
    assert ping(server, key, rid=rid).status == 200
    assert server.get_run(run_id)["version"] == before
    assert len(runs(server, c["id"])) == 1


def test_fail_and_exit_status(server, pc):
    c, key = pc
    run_id = ping(server, key, "start").headers["syncrun-run-id"]
    assert ping(server, key, "fail").status == 200
    run = server.get_run(run_id)
    assert run["result"] == "error" and run["error"]["code"] == "PING_FAIL", run
    rid = str(uuid.uuid4())
    run_id = ping(server, key, "start", rid=rid).headers["syncrun-run-id"]
    assert ping(server, key, "3", rid=rid).status == 200
    run = server.get_run(run_id)
    assert run["result"] == "error" and run["error"]["code"] == "EXIT_CODE", run
    assert "status 3" in run["error"]["message"], run


def test_log_without_a_run_in_progress(server, pc):
    c, key = pc
    r = ping(server, key, "log", body="nobody listens\n")
    assert r.status == 404 and b"send /start first" in r.raw, r.describe()
    assert runs(server, c["id"]) == []


@pytest.mark.parametrize("action, query", [("256", ""), ("-1", ""), ("starts", ""), ("", "?rid=not-a-uuid")])
def test_bad_pings_change_nothing(server, pc, action, query):
    c, key = pc
    r = server.request("GET", "/ping/%s%s%s" % (key, "/" + action if action else "", query), token=None)
    assert r.status == 400, r.describe()
    assert r.headers["Content-Type"].startswith("text/plain")
    assert runs(server, c["id"]) == []


def test_unknown_key(server):
    r = ping(server, "pk_" + "x" * 40)
    assert r.status == 404 and r.raw == b"not found\n"


def test_body_past_the_limit_is_cut(server, pc):
    c, key = pc
    body = b"a" * 100000 + b"b" * 5000
    r = ping(server, key, "start", body=body)
    assert r.status == 200
    log = server.request("GET", "/v1/runs/%s/log" % r.headers["syncrun-run-id"]).raw
    assert log == b"a" * 100000, len(log)


def test_a_ping_never_ends_a_run_it_did_not_start(server, pc):
    c, key = pc
    api_run = server.trigger(c["id"], {"state": "working"}, expect=201)
    r = ping(server, key)  # overlap "skip": recorded as skipped, the API's run goes on
    assert r.status == 200
    skipped = server.get_run(r.headers["syncrun-run-id"])
    assert skipped["result"] == "skipped", skipped
    assert server.get_run(api_run["id"])["state"] == "working"


def test_overlap_applies_to_starts(server, pc):
    c, key = pc
    first = ping(server, key, "start").headers["syncrun-run-id"]
    second = ping(server, key, "start").headers["syncrun-run-id"]
    assert server.get_run(second)["result"] == "skipped"
    assert ping(server, key).headers["syncrun-run-id"] == first
    assert server.get_run(first)["result"] == "success"


def test_only_an_admin_of_the_workspace_rotates(server, keys, pc):
    c, key = pc
    for tok in (keys["read"], keys["write"]):
        assert server.request("POST", "/v1/connections/%s/ping-key" % c["id"], token=tok).status == 403
    assert server.request("POST", "/v1/connections/%s/ping-key" % c["id"], token=keys["other"]).status == 404
    assert ping(server, key).status == 200, "the key still works"


def test_with_curl_as_a_cron_script_would(server, pc):
    c, key = pc
    base = "http://127.0.0.1:%d/ping/%s" % (server.port, key)
    rid = str(uuid.uuid4())
    subprocess.run(["curl", "-fsS", "-m", "10", "--retry", "3", "-o", "/dev/null", "%s/start?rid=%s" % (base, rid)],
                   check=True)
    out = subprocess.run(["curl", "-fsS", "-m", "10", "--data-raw", "rows: 120\n", "%s/0?rid=%s" % (base, rid)],
                         check=True, capture_output=True)
    assert out.stdout == b"OK"
    run = runs(server, c["id"])[0]
    assert run["result"] == "success", run
    assert server.request("GET", "/v1/runs/%s/log" % run["id"]).raw == b"rows: 120\n"
