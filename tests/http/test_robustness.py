"""Limits and hostile input: 413 above 1 MiB, malformed HTTP and garbage bytes on the socket
must not kill or wedge the server, slow clients do not block others, clean shutdown."""

import json
import socket
import time

MiB = 1024 * 1024


def raw_exchange(srv, data, read_timeout=3.0, close_write=False):
    """Sends raw bytes, returns whatever comes back before the server closes or goes quiet."""
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    try:
        try:
            s.sendall(data)
            if close_write:
                s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        s.settimeout(read_timeout)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
            if len(out) > 1 << 20:
                break
        return out
    finally:
        s.close()


def status_of(raw):
    try:
        return int(raw.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None


def assert_healthy(srv, what):
    assert srv.alive(), "the server died after %s\n--- log ---\n%s" % (what, srv.log_tail())
    r = srv.request("GET", "/healthz", token=None, timeout=5)
    assert r.status == 200 and r.json == {"status": "ok"}, "after %s: %s" % (what, r.describe())


def count_connections(srv):
    return len(srv.ok("GET", "/v1/connections?limit=100", expect=200)["data"])


def padded_body(size):
    """A valid {"name": "big"} object padded with spaces to exactly `size` bytes."""
    core = b'{"name": "big"'
    return core + b" " * (size - len(core) - 1) + b"}"


def test_body_over_1mib_is_413(server):
    before = count_connections(server)
    r = server.request("POST", "/v1/connections", padded_body(MiB + 1), timeout=20)
    assert r.status == 413, r.describe()
    r = server.request("POST", "/v1/connections", b'{"name": "' + b"x" * (2 * MiB) + b'"}', timeout=20)
    assert r.status == 413, r.describe()
    assert count_connections(server) == before, "a 413 creates nothing"
    assert_healthy(server, "a 2 MiB body")


def test_body_of_exactly_1mib_is_accepted(server):
    body = padded_body(MiB)
    assert len(body) == MiB and json.loads(body) == {"name": "big"}
    r = server.request("POST", "/v1/connections", body, timeout=20)
    assert r.status == 201, "1 MiB is not larger than 1 MiB:\n" + r.describe()


def test_large_body_on_run_routes_is_413(server):
    c = server.create_connection(name="big-run")["id"]
    run = server.trigger(c, {}, expect=201)
    msg = b'{"message": "' + b"m" * (MiB + 10) + b'"}'
    r = server.request("PATCH", "/v1/runs/%s" % run["id"], msg, timeout=20)
    assert r.status == 413, r.describe()
    assert server.get_run(run["id"])["version"] == run["version"]


def test_chunked_body_over_1mib_is_413(server):
    head = (b"POST /v1/connections HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + server.admin_token.encode() +
            b"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    chunk = b" " * 65536
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(18)) + b"0\r\n\r\n"
    out = raw_exchange(server, head + b'1\r\n{\r\n' + body, read_timeout=10)
    assert status_of(out) == 413, "got %r" % out[:300]
    assert_healthy(server, "a chunked 1.1 MiB body")


def test_declared_length_over_limit_is_refused_without_reading_it(server):
    head = (b"POST /v1/connections HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + server.admin_token.encode() +
            b"\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{\"name\"" % (50 * MiB))
    out = raw_exchange(server, head, read_timeout=8)
    assert status_of(out) == 413, "a declared 50 MiB body is refused from its header: got %r" % out[:300]
    assert_healthy(server, "a declared 50 MiB body")


GARBAGE = [
    ("random bytes", bytes(range(256)) * 8),
    ("empty lines only", b"\r\n\r\n\r\n\r\n"),
    ("bad HTTP version", b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n"),
    ("no version", b"GET /healthz\r\n\r\n"),
    ("lowercase garbage method", b"FROB /v1/connections HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("header without colon", b"GET /healthz HTTP/1.1\r\nHost x\r\nnocolon\r\n\r\n"),
    ("NUL in the path", b"GET /v1/runs/\x00\x01 HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("huge header", b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n"),
    ("huge request line", b"GET /" + b"a" * 200000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("many headers", b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(5000)) + b"\r\n"),
    ("negative content-length", b"POST /v1/connections HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n{}"),
    ("non-numeric content-length", b"POST /v1/connections HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}"),
    ("two content-lengths", b"POST /v1/connections HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\n{}"),
    ("content-length and chunked", b"POST /v1/connections HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                                   b"Transfer-Encoding: chunked\r\n\r\nzz\r\n"),
    ("bad chunk size", b"POST /v1/connections HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzzzz\r\n{}\r\n0\r\n\r\n"),
    ("truncated body then close", b"POST /v1/connections HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"na"),
    ("truncated headers then close", b"GET /v1/connections HTTP/1.1\r\nHost: x\r\nAuthoriz"),
    ("TLS client hello", bytes.fromhex("16030100a5010000a10303") + b"\x00" * 160),
    ("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"),
    ("absolute URI", b"GET http://evil.example/healthz HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("invalid percent-encoding", b"GET /v1/runs/%zz%%% HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer x\r\n\r\n"),
    ("bad basic auth", b"GET /v1/connections HTTP/1.1\r\nHost: x\r\nAuthorization: Basic =====\xff\xfe\r\n\r\n"),
    ("basic without colon", b"GET /v1/connections HTTP/1.1\r\nHost: x\r\nAuthorization: Basic bm9jb2xvbg==\r\n\r\n"),
    ("huge bearer token", b"GET /v1/connections HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + b"t" * 60000 + b"\r\n\r\n"),
]


def test_garbage_does_not_kill_the_server(server):
    answered = {}
    for name, data in GARBAGE:
        out = raw_exchange(server, data, read_timeout=2, close_write=True)
        answered[name] = status_of(out)
        assert_healthy(server, name)
    # any HTTP answer to garbage must be an error, never a success
    lenient = ("absolute URI", "huge header", "many headers", "huge request line")  # legal, if large
    wrong = {k: v for k, v in answered.items() if v is not None and 200 <= v < 300 and k not in lenient}
    assert not wrong, "garbage answered with success: %s" % wrong


def test_garbage_json_bodies_do_not_crash(server):
    c = server.create_connection(name="fuzz", overlap="queue")["id"]
    run = server.trigger(c, {}, expect=201)
    bodies = [b"{", b"}", b"[[[[[[[[[[", b"[" * 100000 + b"]" * 100000, b'{"a":' * 50000, b"\x00\x00",
              b'{"name": "\\ud800"}', b'{"name": "\\u0000"}', b'{"counters": {"records_processed": 1e400}}',
              b'{"counters": {"records_processed": -0}}', b'{"counters": {"records_processed": 18446744073709551616}}',
              b'{"state": "working", "state": "queued"}', b'{"current_step": ' + b'"' + b"\\\\" * 1000 + b'"}',
              b"\xef\xbb\xbf{}", b'{"counters": null}', b'{"message": {"nested": [1, {"x": null}]}}']
    for b in bodies:
        for method, path in [("POST", "/v1/connections"), ("PATCH", "/v1/runs/%s" % run["id"]),
                             ("POST", "/v1/runs/%s/jobs" % run["id"]), ("POST", "/v1/connections/%s/runs" % c)]:
            r = server.request(method, path, b, timeout=10)
            assert r.status < 500, "%s %s %r -> %s" % (method, path, b[:60], r.describe())
    assert_healthy(server, "garbage JSON")


def test_slow_client_does_not_block_others(server):
    s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    s2 = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")   # never finished
        s2.sendall(b"POST /v1/connections HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{")  # body never sent
        for _ in range(5):
            r = server.request("GET", "/healthz", token=None, timeout=5)
            assert r.status == 200
        r = server.request("GET", "/v1/connections", timeout=5)
        assert r.status == 200
    finally:
        s.close()
        s2.close()


def test_many_idle_connections(server):
    socks = []
    try:
        for _ in range(200):
            socks.append(socket.create_connection(("127.0.0.1", server.port), timeout=5))
        r = server.request("GET", "/healthz", token=None, timeout=5)
        assert r.status == 200
    finally:
        for s in socks:
            s.close()
    assert_healthy(server, "200 idle connections")


def test_keep_alive_and_pipelining(server):
    conn = server.connect()
    try:
        for _ in range(50):
            r = server.request("GET", "/v1/connections?limit=1", conn=conn)
            assert r.status == 200
    finally:
        conn.close()
    req = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    out = raw_exchange(server, req + req + b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                       read_timeout=3)
    assert out.count(b"HTTP/1.1 200") == 3, "three pipelined requests, three answers: %r" % out[:600]


def test_sigterm_stops_cleanly_and_data_survives(server_factory):
    srv = server_factory("term")
    c = srv.create_connection(name="before-term")
    run = srv.trigger(c["id"], {"state": "working"}, expect=201)
    t0 = time.monotonic()
    code = srv.stop()
    assert time.monotonic() - t0 < 5.0, "SIGTERM did not stop the server within 5 s"
    assert code == 0, "exit status after SIGTERM: %s\n%s" % (code, srv.log_tail())
    srv.start()
    assert srv.ok("GET", "/v1/connections/%s" % c["id"], expect=200)["name"] == "before-term"
    assert srv.get_run(run["id"])["state"] == "working"


def test_sigint_stops_cleanly(server_factory):
    import signal
    srv = server_factory("int")
    p = srv.proc
    p.send_signal(signal.SIGINT)
    try:
        code = p.wait(5)
    except Exception:  # noqa: BLE001
        code = None
    srv.proc = p if code is None else None
    assert code == 0, "exit status after SIGINT: %s" % code
