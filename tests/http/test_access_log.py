"""serve --access-log (issue 12, part): one JSON line per request, with the route template (never
the path, which may hold a ping key), status, duration, bytes, key id (never the token) and a
request id that the answer echoes in X-Request-Id."""

import json
import subprocess
import time

import pytest


def lines(path, n, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        with open(path) as f:
            got = [json.loads(line) for line in f if line.strip()]
        if len(got) >= n or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


@pytest.fixture
def logged(server_factory, tmp_path):
    srv = server_factory("access", start=False)
    path = str(tmp_path / "access.log")
    srv.extra_args = ["--access-log", path]
    srv.start()
    return srv, path


def test_a_line_per_request(logged):
    srv, path = logged
    start = len(lines(path, 0))  # the readiness probes
    c = srv.create_connection(name="access")
    key = srv.ok("POST", "/v1/connections/%s/ping-key" % c["id"], expect=201)["ping_key"]
    r = srv.request("GET", "/v1/connections", headers={"X-Request-Id": "req-42.a_b"})
    assert r.status == 200 and r.headers["X-Request-Id"] == "req-42.a_b"
    assert srv.request("GET", "/nothing/here").status == 404
    assert srv.request("GET", "/ping/" + key, token=None).status == 200
    bad = srv.request("GET", "/v1/connections", headers={"X-Request-Id": "no spaces allowed"})
    got = lines(path, start + 6)[start:]
    assert len(got) == 6, got
    create, _rotate, listed, missing, pinged, unsafe = got
    assert create["method"] == "POST" and create["route"] == "/v1/connections" and create["status"] == 201
    assert listed["request_id"] == "req-42.a_b" and listed["status"] == 200
    assert isinstance(listed["key_id"], int) and listed["bytes"] == len(r.raw)
    assert listed["duration_ms"] >= 0 and listed["time"].endswith("Z")
    assert missing["route"] is None and missing["status"] == 404 and missing["key_id"] is None
    assert pinged["route"] == "/ping/:key" and pinged["key_id"] is None
    text = open(path).read()
    assert key not in text, "the ping key (in the path) is never logged"
    assert srv.admin_token not in text, "a token is never logged"
    assert bad.headers["X-Request-Id"] != "no spaces allowed"
    assert unsafe["request_id"] == bad.headers["X-Request-Id"]
    assert all(set(line) == {"time", "method", "route", "status", "duration_ms", "bytes", "key_id", "request_id"}
               for line in got)


def test_to_stderr(server_factory):
    srv = server_factory("access-stderr", start=False)
    srv.extra_args = ["--access-log", "-"]
    srv.start()
    srv.request("GET", "/v1/connections")
    time.sleep(0.2)
    logged = [line for line in open(srv.stderr_path) if line.startswith('{"time":')]
    assert logged and json.loads(logged[-1])["route"] == "/v1/connections"


def test_an_unwritable_access_log_stops_the_start(server_factory, tmp_path):
    srv = server_factory("access-bad", start=False)
    p = subprocess.run([srv.bin, "serve", "--db", srv.db, "--listen", "127.0.0.1:0", "--access-log",
                        str(tmp_path / "no" / "such" / "dir" / "access.log")], capture_output=True, timeout=20)
    assert p.returncode != 0 and b"cannot open the access log" in p.stderr, p.stderr
