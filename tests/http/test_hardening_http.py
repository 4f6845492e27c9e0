"""Hostile and careless clients at the HTTP layer (issue 9): ambiguous request framing, UUID
spelling, readiness, clients that never read, dead long-polls, the file-descriptor limit and
signals during shutdown. Each test fails on the code before its fix."""

import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import tempfile
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


# ---- helpers for servers started by hand ---------------------------------------------------------


def bin_path():
    from conftest import syncrun_bin

    return syncrun_bin()


def spawn(db, log_path, extra=(), preexec_fn=None, ready_path="/healthz", timeout=10.0):
    """Starts `syncrun serve` on a free port; returns (proc, port) once `ready_path` answers, or
    (proc, None) if the process exited first."""
    from conftest import free_port

    port = free_port()
    binary = bin_path()
    if preexec_fn is not None:
        # Another user (nobody) runs it, and the checkout may sit in a directory only we can reach
        # (a clone into `mktemp -d` is 0700): run a copy from the database's directory, which the
        # test made reachable.
        binary = os.path.join(os.path.dirname(db), "syncrun")
        if not os.path.exists(binary):
            shutil.copy2(bin_path(), binary)
    log = open(log_path, "ab")
    proc = subprocess.Popen(
        [binary, "serve", "--db", db, "--listen", "127.0.0.1:%d" % port] + list(extra),
        stdin=subprocess.DEVNULL, stdout=log, stderr=log, preexec_fn=preexec_fn,
    )
    log.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return proc, None
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=1)
            s.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % ready_path.encode())
            data, _ = recv_all(s, timeout=2)
            s.close()
            if responses(data):
                return proc, port
        except OSError:
            pass
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    pytest.fail("syncrun serve not ready after %ss" % timeout)


def get(port, path, timeout=5.0, headers=""):
    """One GET on a new connection: (status, body bytes)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s\r\n" % (path.encode(), headers.encode()))
        data, _ = recv_all(s, timeout=timeout)
    finally:
        s.close()
    st = responses(data)
    return (st[0] if st else None), data.split(b"\r\n\r\n", 1)[-1]


def stop(proc, sig=signal.SIGTERM, timeout=10):
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


# ---- defect 13: a database that cannot take writes is not "ready" --------------------------------


def test_readyz_ready(server):
    r = server.request("GET", "/readyz", token=None)
    assert r.status == 200 and r.json == {"status": "ready"}, r.describe()


NOBODY = 65534


def _read_only_setup(tmp):
    """A database the server process will not be able to write, and how to start it: as root, the
    server runs as nobody on a root-owned file (root writes any file); otherwise the file is 0444."""
    d = os.path.join(tmp, "ro")
    os.makedirs(d)
    db = os.path.join(d, "syncrun.db")
    subprocess.run([bin_path(), "init", "--db", db, "--json"], check=True, capture_output=True)
    if os.geteuid() == 0:
        os.chmod(d, 0o777)  # nobody may create the -wal and -shm files, not write the database
        os.chmod(db, 0o644)

        def drop():
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)

        return db, drop
    os.chmod(db, 0o444)
    return db, None


@pytest.fixture
def open_tmp():
    """A temporary directory another user (nobody) can reach: pytest's own are 0700."""
    d = tempfile.mkdtemp(prefix="syncrun-hardening-")
    os.chmod(d, 0o777)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_serve_refuses_a_read_only_database(open_tmp):
    tmp = open_tmp
    db, preexec = _read_only_setup(tmp)
    log = os.path.join(tmp, "server.log")
    proc, port = spawn(db, log, preexec_fn=preexec)
    if port is not None:
        st, body = get(port, "/readyz")
        stop(proc)
        pytest.fail("serve started on a read-only database (/readyz: %s %r)" % (st, body))
    assert proc.returncode == 1, proc.returncode
    out = open(log, "rb").read().decode(errors="replace")
    assert "cannot take writes" in out and "read-only" in out, out


def test_readyz_turns_503_when_the_database_becomes_read_only(open_tmp):
    tmp = open_tmp
    d = os.path.join(tmp, "rw")
    os.makedirs(d)
    os.chmod(d, 0o777)
    db = os.path.join(d, "syncrun.db")
    subprocess.run([bin_path(), "init", "--db", db, "--json"], check=True, capture_output=True)
    preexec = None
    if os.geteuid() == 0:
        os.chown(db, NOBODY, NOBODY)

        def preexec():
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)

    proc, port = spawn(db, os.path.join(tmp, "server.log"), preexec_fn=preexec)
    assert port is not None, open(os.path.join(tmp, "server.log")).read()
    try:
        assert get(port, "/readyz")[0] == 200
        os.chmod(db, 0o444)
        st, body = get(port, "/readyz")
        assert st == 503, (st, body)
        j = json.loads(body)
        assert j["status"] == "not_ready" and "read-only" in j["reason"], j
        assert get(port, "/healthz")[0] == 200, "liveness is not readiness"
        os.chmod(db, 0o644)
        assert get(port, "/readyz")[0] == 200
    finally:
        stop(proc)


# ---- defect 11: a second signal during the shutdown hurries nothing and kills nothing ------------


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
        return stat[stat.rindex(")") + 2] not in "ZX"
    except (OSError, ValueError, IndexError):
        return False


def test_second_sigterm_during_shutdown(server_factory, tmp_path):
    srv = server_factory("sig")
    pidf = tmp_path / "pid"
    sc = tmp_path / "slow-stop.sh"
    # The command takes a moment to stop, so the shutdown is still under way at the second signal.
    sc.write_text('#!/bin/sh\necho $$ > "%s"\ntrap \'sleep 1.5; exit 143\' TERM\nsleep 60 &\nwait\n' % pidf)
    sc.chmod(0o755)
    c = srv.create_connection(name="slow-stop", command=["/bin/sh", str(sc)])
    run = srv.trigger(c["id"], expect=201)
    assert wait_until(lambda: pidf.exists() and pidf.read_text().strip(), 10), "the command did not start"
    pid = int(pidf.read_text())
    proc = srv.proc
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    assert proc.poll() is None, "the shutdown should still be waiting for the command"
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(20)
    finally:
        srv.proc = None
        if proc.poll() is None:
            proc.kill()
    assert code == 0, "a second SIGTERM during the shutdown killed the server (exit %s)\n%s" % (code, srv.log_tail())
    assert wait_until(lambda: not _pid_alive(pid), 5), "the command was orphaned"
    out = srv.cli("runs", "list", c["id"], "--db", srv.db, "--json")
    rows = out["data"] if isinstance(out, dict) else out
    row = [r for r in rows if r["id"] == run["id"]][0]
    assert row["state"] == "finished" and row["error"]["code"] == "INTERRUPTED", row


# ---- defect 7: clients that never read are cut; well-behaved clients are served ------------------

MiB = 1024 * 1024
TCP_STATE_ESTABLISHED = 1


def tcp_state(s):
    """The kernel's TCP state of socket s (1 = established; 7 = closed, 8 = close-wait)."""
    return s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)[0]


def _big_log_run(port, token, mib):
    """A run whose log holds `mib` MiB (appended 1 MiB at a time); returns its id."""
    import http.client

    def call(method, path, body=None, ctype="application/json"):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        h = {"Authorization": "Bearer " + token}
        if body is not None:
            h["Content-Type"] = ctype
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        assert r.status in (200, 201, 204), (method, path, r.status, data[:300])
        return json.loads(data) if data else None

    cn = call("POST", "/v1/connections", json.dumps({"name": "biglog", "log_max_bytes": 64 * MiB}))
    run = call("POST", "/v1/connections/%s/runs" % cn["id"], "{}")
    line = (b"x" * 1023 + b"\n") * 1024
    for _ in range(mib):
        call("POST", "/v1/runs/%s/log" % run["id"], line, "text/plain")
    return run["id"]


def test_clients_that_never_read_are_cut(server_factory):
    srv = server_factory("noread", start=False)
    srv.extra_args = ["--threads", "1", "--max-connections", "4", "--write-timeout", "1"]
    srv.start()
    run_id = _big_log_run(srv.port, srv.admin_token, 8)
    req = ("GET /v1/runs/%s/log HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n" % (run_id, srv.admin_token)).encode()
    stuck = []
    try:
        for _ in range(6):  # more than the cap: the last ones wait in the backlog
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # and never read
            s.connect(("127.0.0.1", srv.port))
            s.sendall(req)
            stuck.append(s)
        # a well-behaved client is answered (its connection waits until stuck ones are cut)
        r = srv.request("GET", "/v1/runs/%s" % run_id, timeout=20)
        assert r.status == 200, r.describe()
        # the server closed every stuck connection: none is still established
        gone = wait_until(lambda: all(tcp_state(s) != TCP_STATE_ESTABLISHED for s in stuck), 20, 0.1)
        assert gone, "connections of clients that never read are still open: states %s" % [tcp_state(s) for s in stuck]
        assert srv.alive()
        # a client that does read gets the whole log
        r = srv.request("GET", "/v1/runs/%s/log" % run_id, timeout=30)
        assert r.status == 200 and len(r.raw) == 8 * MiB, (r.status, len(r.raw))
    finally:
        for s in stuck:
            s.close()


def test_idle_keep_alive_is_closed(server_factory):
    """--idle-timeout: a keep-alive connection with no next request is closed by the server."""
    srv = server_factory("idle", start=False)
    srv.extra_args = ["--idle-timeout", "1"]
    srv.start()
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        data, closed = recv_all(s, timeout=10)
        assert responses(data) == [200] and b"connection: keep-alive" in data.lower(), data
        assert closed, "an idle keep-alive connection stayed open past --idle-timeout"
    finally:
        s.close()
    bad = subprocess.run([bin_path(), "serve", "--db", srv.db, "--write-timeout", "0"], capture_output=True)
    assert bad.returncode == 2 and b"--write-timeout" in bad.stderr, bad


# ---- defect 8: a long-poll whose client left frees its slot at once ------------------------------


def test_dead_long_polls_free_their_slots(server_factory):
    srv = server_factory("deadpoll", start=False)
    srv.extra_args = ["--threads", "1", "--max-connections", "4"]
    srv.start()
    cn = srv.create_connection(name="poll")
    run = srv.trigger(cn["id"])
    req = ("GET /v1/runs/%s?wait=60 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nIf-None-Match: \"%s\"\r\n\r\n"
           % (run["id"], srv.admin_token, run["version"])).encode()
    for _round in range(3):  # each round would hold every slot for 60 s if the slots were not freed
        polls = []
        for _ in range(4):
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
            s.sendall(req)
            polls.append(s)
        time.sleep(0.3)  # parked
        for s in polls:
            s.close()
        r = srv.request("GET", "/v1/runs/%s" % run["id"], timeout=10)
        assert r.status == 200, r.describe()
    # a long-poll whose client stays still waits for the change, and gets it
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=15)
    try:
        s.sendall(req)
        time.sleep(0.3)
        srv.ok("PATCH", "/v1/runs/%s" % run["id"], {"message": "changed"})
        data, _ = recv_all(s, timeout=10)
        assert responses(data)[:1] == [200] and b"changed" in data, data[:500]
    finally:
        s.close()


# ---- defect 10: at the open-file limit the server neither spins nor stops answering --------------


def _cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def test_fd_limit_clamps_and_does_not_spin(server_factory):
    srv = server_factory("fdlimit", start=False)
    log = srv.stderr_path

    def low_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128))

    proc, port = spawn(srv.db, log, ["--threads", "2", "--max-connections", "1000", "--idle-timeout", "1"],
                       preexec_fn=low_limit)
    assert port is not None, open(log).read()
    flood = []
    try:
        text = open(log, "rb").read().decode(errors="replace")
        assert "max_connections lowered from 1000 to" in text and "RLIMIT_NOFILE" in text, text
        for _ in range(200):  # more than the descriptors the process may open
            flood.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        time.sleep(0.3)
        before, t0 = _cpu_seconds(proc.pid), time.monotonic()
        time.sleep(2.0)
        used, spent = _cpu_seconds(proc.pid) - before, time.monotonic() - t0
        assert used < 0.2 * spent, "the server spun: %.2f s of CPU in %.2f s" % (used, spent)
        st, body = get(port, "/healthz", timeout=30)
        assert st == 200, (st, body)
        assert proc.poll() is None
    finally:
        for s in flood:
            s.close()
        stop(proc)


def test_emfile_pauses_the_listener(server_factory):
    """Descriptors run out after start (the cap fits the limit at start, but the limit is lowered
    under the running server): accept fails with EMFILE, and the listener must pause rather than
    spin; once connections close, it accepts again."""
    srv = server_factory("emfile", start=False)
    srv.extra_args = ["--threads", "2", "--idle-timeout", "1"]
    srv.start()
    pid = srv.proc.pid
    # /healthz answers once one loop runs; the server holds all its descriptors once every loop
    # runs and the background threads started (the retention thread logs last)
    assert wait_until(lambda: "retention: pruning every" in srv.log_tail(), 10), srv.log_tail()
    nfds = len(os.listdir("/proc/%d/fd" % pid))
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (nfds + 6, nfds + 6))
    flood = []
    try:
        for _ in range(30):
            flood.append(socket.create_connection(("127.0.0.1", srv.port), timeout=5))
        time.sleep(0.3)
        before, t0 = _cpu_seconds(pid), time.monotonic()
        time.sleep(2.0)
        used, spent = _cpu_seconds(pid) - before, time.monotonic() - t0
        assert used < 0.1 * spent, "the server spun on EMFILE: %.2f s of CPU in %.2f s" % (used, spent)
        assert wait_until(lambda: "pausing the listener" in srv.log_tail(), 5), srv.log_tail()
        try:
            r = srv.request("GET", "/healthz", token=None, timeout=30)
        except OSError as e:
            # Seen twice on a loaded machine (refused, reset) and never alone: say whether the
            # server is still running and what it logged, so that the next failure explains itself.
            pytest.fail("GET /healthz failed: %r; server alive: %s; its log:\n%s" % (e, srv.alive(), srv.log_tail()))
        assert r.status == 200, r.describe()
    finally:
        for s in flood:
            s.close()
