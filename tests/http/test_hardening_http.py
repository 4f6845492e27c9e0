"""Hostile and careless clients at the HTTP layer (issue 9): ambiguous request framing, UUID
spelling, readiness, clients that never read, dead long-polls, the file-descriptor limit and
signals during shutdown. Each test fails on the code before its fix."""

import json
import os
import re
import resource
import signal
import socket
import subprocess
import time

import pytest

from conftest import make_server


def recv_all(s, limit=1 << 20, timeout=5.0):
    """Reads until the server closes the connection (or `timeout` of quiet). Returns (data, closed)."""
    s.settimeout(timeout)
    out = b""
    while len(out) < limit:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            return out, False
        except OSError:
            return out, True
        if not chunk:
            return out, True
        out += chunk
    return out, False


def responses(data):
    """The status codes of the HTTP responses in `data`, in order."""
    return [int(m) for m in re.findall(rb"(?:^|\n)HTTP/1\.1 (\d{3}) ", data)]


def wait_until(pred, timeout, step=0.05):
    """Polls pred() until it is true or `timeout` seconds pass; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(step)


# ---- defect 14: ambiguous framing is refused and the connection closed ---------------------------


def _smuggle(srv, framing, body):
    follow = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    head = (
        "POST /v1/connections HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
        "Content-Type: application/json\r\n" % srv.admin_token
    ).encode() + framing + b"\r\n"
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    try:
        s.sendall(head + body + follow)
        return recv_all(s)
    finally:
        s.close()


def _chunked(payload):
    return b"%x\r\n%s\r\n0\r\n\r\n" % (len(payload), payload)


@pytest.mark.parametrize(
    "name,framing,body",
    [
        pytest.param("te+cl", b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n", _chunked(b'{"name": "smuggled-1"}'), id="te+cl"),
        pytest.param("cl+te", b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n", _chunked(b'{"name": "smuggled-2"}'), id="cl+te"),
        pytest.param("cl+cl", b"Content-Length: 22\r\nContent-Length: 5\r\n", b'{"name": "smuggled-3"}', id="cl+cl"),
        pytest.param("te+te", b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", _chunked(b'{"name": "smuggled-4"}'), id="te+te"),
    ],
)
def test_ambiguous_framing_is_refused_and_closed(server, name, framing, body):
    data, closed = _smuggle(server, framing, body)
    assert responses(data) == [400], "%s: want one 400 and nothing for the pipelined request, got\n%r" % (name, data)
    head = data.split(b"\r\n\r\n", 1)[0].lower()
    assert b"\r\nconnection: close" in head, head
    assert closed, "%s: the server kept the connection open" % name
    body = json.loads(data.split(b"\r\n\r\n", 1)[1])
    assert body["error"]["code"] == "invalid_request", body
    names = [c["name"] for c in server.ok("GET", "/v1/connections?limit=100")["data"]]
    assert not any(n.startswith("smuggled") for n in names), names


def test_single_framing_still_works(server):
    """The check refuses only ambiguity: one Content-Length, or chunked alone, are served."""
    data, _ = _smuggle(server, b"Transfer-Encoding: chunked\r\n", _chunked(b'{"name": "chunked-ok"}'))
    assert responses(data)[:2] == [201, 200], data
    payload = b'{"name": "cl-ok"}'
    data, _ = _smuggle(server, b"Content-Length: %d\r\n" % len(payload), payload)
    assert responses(data)[:2] == [201, 200], data


# ---- defect 15: a UUID names the same thing in any case -----------------------------------------


def test_upper_case_uuids_on_native_routes(server):
    cn = server.create_connection(name="upper-uuid")
    run = server.trigger(cn["id"])
    job = server.ok("POST", "/v1/runs/%s/jobs" % run["id"], {"name": "j"}, expect=201)
    task = server.ok("POST", "/v1/runs/%s/jobs/%s/tasks" % (run["id"], job["id"]), {"source_file_id": "f"}, expect=201)
    up = lambda u: u.upper()  # noqa: E731
    assert server.ok("GET", "/v1/connections/%s" % up(cn["uuid"]))["id"] == cn["id"]
    assert server.ok("GET", "/v1/connections/%s/runs" % up(cn["uuid"]))["data"][0]["uuid"] == run["uuid"]
    got = server.ok("GET", "/v1/runs/%s" % up(run["uuid"]))
    assert got["uuid"] == run["uuid"], got
    server.ok("GET", "/v1/runs/%s/events" % up(run["uuid"]))
    j = server.ok("PATCH", "/v1/runs/%s/jobs/%s" % (up(run["uuid"]), up(job["id"])), {"phase": "p"})
    assert j["id"] == job["id"], j
    t = server.ok("PATCH", "/v1/runs/%s/jobs/%s/tasks/%s" % (run["id"], up(job["id"]), up(task["id"])), {"retry_attempts": 1})
    assert t["id"] == task["id"], t
    # mixed case too, and a malformed id is still 404
    mixed = run["uuid"][:10].upper() + run["uuid"][10:]
    assert server.ok("GET", "/v1/runs/%s" % mixed)["uuid"] == run["uuid"]
    assert server.request("GET", "/v1/runs/%s" % (run["uuid"][:-1] + "g")).status == 404
