"""The runner, black-box: real child processes started by the real server.

Each test writes a small shell script into its tmp dir, creates a connection whose `command`
runs it, triggers runs through the API and watches them through the API (runs, events, jobs,
log) and the file system (pid files, marker files). No fixed long sleeps: every wait polls with
a deadline (run long-polls with ?wait= where it fits)."""

import json
import os
import re
import signal
import sqlite3
import subprocess
import time

import pytest

from conftest import free_port

SH = "/bin/sh"


# ---- helpers --------------------------------------------------------------------------------


def script(tmp_path, name, body):
    """Writes an executable /bin/sh script and returns its path."""
    p = tmp_path / name
    p.write_text("#!/bin/sh\n" + body)
    p.chmod(0o755)
    return str(p)


def make_conn(srv, command, **fields):
    fields.setdefault("name", "runner-%d" % time.monotonic_ns())
    fields["command"] = command
    return srv.create_connection(**fields)


def wait_for(pred, timeout, what, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(interval)


def wait_run(srv, run_id, pred, timeout, what):
    """Long-polls the run until pred(run) holds; returns the run."""
    deadline = time.monotonic() + timeout
    run = srv.get_run(run_id)
    while not pred(run):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("run %s: timed out after %ss waiting for %s; last:\n%s\n--- server log ---\n%s"
                                 % (run_id, timeout, what, json.dumps(run, indent=1), srv.log_tail(3000)))
        if run["state"] == "finished":  # a finished run answers at once: poll
            time.sleep(0.05)
            run = srv.get_run(run_id)
            continue
        w = max(1, min(5, int(left)))
        r = srv.request("GET", "/v1/runs/%s?wait=%d" % (run_id, w), headers={"If-None-Match": '"%s"' % run["version"]},
                        timeout=w + 10)
        if r.status == 200:
            run = r.json
        else:
            assert r.status == 304, r.describe()
    return run


def wait_finished(srv, run_id, timeout=20):
    return wait_run(srv, run_id, lambda r: r["state"] == "finished", timeout, "the run to finish")


def wait_working(srv, run_id, timeout=10):
    return wait_run(srv, run_id, lambda r: r["state"] == "working", timeout, "the run to be working")


def events(srv, run_id):
    out, cursor = [], None
    while True:
        path = "/v1/runs/%s/events?limit=100" % run_id + ("&cursor=%s" % cursor if cursor else "")
        page = srv.ok("GET", path, expect=200)
        out += page["data"]
        cursor = page.get("next_cursor")
        if not cursor:
            return out


def get_log(srv, run_id):
    r = srv.request("GET", "/v1/runs/%s/log" % run_id)
    assert r.status == 200, r.describe()
    return r


def read_pid(path, timeout=10):
    def get():
        try:
            with open(path) as f:
                s = f.read().strip()
            return int(s) if s else None
        except (OSError, ValueError):
            return None
    return wait_for(get, timeout, "pid file %s" % path)


def pid_alive(pid):
    """True while the process exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
        return stat[stat.rindex(")") + 2] not in "ZX"
    except (OSError, ValueError, IndexError):
        return False


def wait_dead(pid, timeout=5):
    wait_for(lambda: not pid_alive(pid), timeout, "process %d to be gone" % pid)


def kill_group(pid):
    for fn in (os.killpg, os.kill):
        try:
            fn(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


@pytest.fixture
def reaper():
    """Pids (process groups) to SIGKILL at teardown: children orphaned by a killed server."""
    pids = []
    yield pids
    for p in pids:
        kill_group(p)


def touch(path):
    with open(path, "a"):
        pass


# ---- outcomes -------------------------------------------------------------------------------


def test_success(server, tmp_path):
    sc = script(tmp_path, "ok.sh", """
echo "hello from stdout"
echo '{"step": "Loading data", "counters": {"records_processed": 42, "records_updated": 40}}' >&3
echo '{"watermark": "2026-01-02T03:04:05Z", "message": "all good"}' >&3
exit 0
""")
    c = make_conn(server, [SH, sc])
    assert c["command"] == [SH, sc], c
    run = server.trigger(c["id"], expect=201)
    run = wait_finished(server, run["id"])
    assert run["result"] == "success", run
    assert run["error"] is None, run
    assert run["attempt"] == 1, run
    assert run["started_at"] and run["completed_at"], run
    assert run["counters"]["records_processed"] == 42 and run["counters"]["records_updated"] == 40, run
    assert run["counters"]["records_failed"] == 0, run
    assert run["last_timestamp_synced"] == "2026-01-02T03:04:05.000Z", run
    assert run["message"] == "all good", run
    kinds = [e["kind"] for e in events(server, run["id"])]
    assert kinds[0] == "created" and kinds[-1] == "finished", kinds
    steps = [e["data"].get("current_step") for e in events(server, run["id"]) if e["kind"] == "updated"]
    assert "Loading data" in steps, steps
    assert b"hello from stdout" in get_log(server, run["id"]).raw


def test_partial_when_records_failed(server, tmp_path):
    sc = script(tmp_path, "partial.sh", """
echo '{"counters": {"records_processed": 10, "records_failed": 3}}' >&3
exit 0
""")
    c = make_conn(server, [SH, sc])
    run = wait_finished(server, server.trigger(c["id"], expect=201)["id"])
    assert run["result"] == "partial", run
    assert run["counters"]["records_failed"] == 3, run
    census = server.ok("GET", "/api/v1/sync_runs/%s" % run["id"], expect=200)
    assert census["data"]["status"] == "completed", census


def test_failure_exit_code_and_log_tail(server, tmp_path):
    lines = "".join("echo 'line %d of output'\n" % i for i in range(1, 41))
    sc = script(tmp_path, "fail.sh", lines + "echo 'fatal: the warehouse said no' >&2\nexit 3\n")
    c = make_conn(server, [SH, sc])
    run = wait_finished(server, server.trigger(c["id"], expect=201)["id"])
    assert run["result"] == "error", run
    err = run["error"]
    assert err is not None and err["code"] == "EXIT_CODE", run
    assert "3" in err["message"] and "exit" in err["message"], err
    detail = err["detail"] or ""
    assert "fatal: the warehouse said no" in detail, "stderr's last line is in the detail: %r" % detail
    assert "line 40 of output" in detail, detail
    assert "line 1 of output\n" not in detail, "only the last lines, not the whole log: %r" % detail
    log = get_log(server, run["id"]).raw
    assert b"line 1 of output" in log and b"fatal: the warehouse said no" in log


def test_spawn_failed(server, tmp_path):
    c = make_conn(server, [str(tmp_path / "does-not-exist")])
    run = wait_finished(server, server.trigger(c["id"], expect=201)["id"])
    assert run["result"] == "error", run
    assert run["error"]["code"] == "SPAWN_FAILED", run
    assert run["error"]["message"], run
    # not executable
    p = tmp_path / "noexec.sh"
    p.write_text("#!/bin/sh\nexit 0\n")
    p.chmod(0o644)
    c2 = make_conn(server, [str(p)])
    run2 = wait_finished(server, server.trigger(c2["id"], expect=201)["id"])
    assert run2["result"] == "error" and run2["error"]["code"] == "SPAWN_FAILED", run2
    # a workdir that does not exist
    c3 = make_conn(server, ["true"], workdir=str(tmp_path / "no-such-dir"))
    run3 = wait_finished(server, server.trigger(c3["id"], expect=201)["id"])
    assert run3["result"] == "error" and run3["error"]["code"] == "SPAWN_FAILED", run3


def test_timeout_kills_the_process_group(server, tmp_path):
    pidf, sleepf = tmp_path / "sh.pid", tmp_path / "sleep.pid"
    sc = script(tmp_path, "slow.sh", """
echo $$ > "%s"
echo "before the sleep"
sleep 30 &
echo $! > "%s"
wait
echo "not reached"
""" % (pidf, sleepf))
    c = make_conn(server, [SH, sc], timeout_seconds=1)
    assert c["timeout_seconds"] == 1, c
    t0 = time.monotonic()
    run = wait_finished(server, server.trigger(c["id"], expect=201)["id"], timeout=15)
    assert time.monotonic() - t0 < 12, "a 1 s timeout stops a plain sleep well before its 30 s"
    assert run["result"] == "timed_out", run
    assert run["error"] and run["error"]["code"] == "TIMEOUT", run
    sh_pid, sleep_pid = read_pid(str(pidf)), read_pid(str(sleepf))
    wait_dead(sh_pid)
    wait_dead(sleep_pid)  # the whole process group, not only the shell
    assert b"before the sleep" in get_log(server, run["id"]).raw


# ---- cancel ---------------------------------------------------------------------------------


def test_cancel_stops_the_process(server, tmp_path):
    pidf, quick = tmp_path / "pid", tmp_path / "quick"
    sc = script(tmp_path, "long.sh", 'echo $$ > "%s"\nif [ -e "%s" ]; then exit 0; fi\nexec sleep 30\n' % (pidf, quick))
    c = make_conn(server, [SH, sc])
    run = server.trigger(c["id"], expect=201)
    wait_working(server, run["id"])
    pid = read_pid(str(pidf))
    assert pid_alive(pid)
    r = server.ok("POST", "/v1/runs/%s/cancel" % run["id"], {"message": "stop it"}, expect=200)
    assert r["state"] == "finished" and r["result"] == "canceled", r
    wait_dead(pid, timeout=5)
    run = server.get_run(run["id"])
    assert run["result"] == "canceled", "the runner does not overwrite a canceled run:\n%s" % run
    assert run["message"] == "stop it", run
    # the connection runs its next run
    touch(quick)
    nxt = wait_finished(server, server.trigger(c["id"], expect=201)["id"])
    assert nxt["result"] == "success", nxt


def test_cancel_sigterm_trapped_gets_sigkill_after_grace(server, tmp_path):
    """A child that ignores SIGTERM is killed with SIGKILL after the server's grace (10 s)."""
    pidf, termf = tmp_path / "pid", tmp_path / "got-term"
    sc = script(tmp_path, "stubborn.sh", """
trap 'echo term >> "%s"' TERM
echo $$ > "%s"
while :; do sleep 0.1; done
""" % (termf, pidf))
    c = make_conn(server, [SH, sc])
    run = server.trigger(c["id"], expect=201)
    wait_working(server, run["id"])
    pid = read_pid(str(pidf))
    t0 = time.monotonic()
    server.ok("POST", "/v1/runs/%s/cancel" % run["id"], expect=200)
    wait_for(lambda: termf.exists(), 5, "the child to receive SIGTERM")
    assert pid_alive(pid), "a child that traps SIGTERM survives it"
    wait_dead(pid, timeout=20)
    took = time.monotonic() - t0
    assert 5 <= took <= 18, "SIGKILL comes after the grace period (10 s), took %.1f s" % took
    assert server.get_run(run["id"])["result"] == "canceled"


# ---- retry ----------------------------------------------------------------------------------


def test_retry_then_success(server, tmp_path):
    marker = tmp_path / "failed-once"
    sc = script(tmp_path, "flaky.sh", """
echo "attempt $SYNCRUN_ATTEMPT"
if [ ! -e "%s" ]; then
  touch "%s"
  echo "first attempt fails" >&2
  exit 7
fi
exit 0
""" % (marker, marker))
    c = make_conn(server, [SH, sc], retry={"max_attempts": 2, "backoff_seconds": 1})
    assert c["retry"] == {"max_attempts": 2, "backoff_seconds": 1}, c
    run = wait_finished(server, server.trigger(c["id"], expect=201)["id"], timeout=20)
    assert run["result"] == "success", run
    assert run["attempt"] == 2, run
    assert marker.exists()
    states = [e["data"].get("state") for e in events(server, run["id"]) if e["kind"] == "updated"]
    states = [s for s in states if s]
    assert states == ["working", "retrying", "working"], states
    log = get_log(server, run["id"]).raw
    assert b"attempt 1" in log and b"attempt 2" in log, log


def test_retry_exhausted(server, tmp_path):
    sc = script(tmp_path, "always.sh", "echo \"try $SYNCRUN_ATTEMPT\"\nexit 2\n")
    c = make_conn(server, [SH, sc], retry={"max_attempts": 2, "backoff_seconds": 1})
    run = wait_finished(server, server.trigger(c["id"], expect=201)["id"], timeout=20)
    assert run["result"] == "error" and run["error"]["code"] == "EXIT_CODE", run
    assert run["attempt"] == 2, run


# ---- overlap --------------------------------------------------------------------------------


def test_overlap_skip_while_running(server, tmp_path):
    release = tmp_path / "release"
    sc = script(tmp_path, "wait.sh", 'while [ ! -e "%s" ]; do sleep 0.05; done\n' % release)
    c = make_conn(server, [SH, sc], overlap="skip")
    a = server.trigger(c["id"], expect=201)
    wait_working(server, a["id"])
    b = server.trigger(c["id"], expect=201)
    assert b["id"] != a["id"]
    assert b["state"] == "finished" and b["result"] == "skipped", b
    touch(release)
    a = wait_finished(server, a["id"])
    assert a["result"] == "success", a
    assert server.get_run(b["id"])["result"] == "skipped"


def test_overlap_queue_runs_in_order(server, tmp_path):
    marks = tmp_path / "marks"
    sc = script(tmp_path, "q.sh", """
echo "start $SYNCRUN_RUN_ID" >> "%s"
sleep 0.3
echo "end $SYNCRUN_RUN_ID" >> "%s"
""" % (marks, marks))
    c = make_conn(server, [SH, sc], overlap="queue")
    ids = [server.trigger(c["id"], expect=201)["id"] for _ in range(3)]
    runs = [wait_finished(server, i, timeout=20) for i in ids]
    assert [r["result"] for r in runs] == ["success"] * 3, runs
    want = []
    for i in ids:
        want += ["start %d" % i, "end %d" % i]
    assert marks.read_text().split("\n")[:-1] == want, "one at a time, in trigger order"
    for prev, nxt in zip(runs, runs[1:]):
        assert nxt["started_at"] >= prev["completed_at"], (prev, nxt)


def test_overlap_replace(server, tmp_path):
    marks = tmp_path / "marks"
    sc = script(tmp_path, "r.sh", """
echo $$ > "%s/pid-$SYNCRUN_RUN_ID"
echo "start $SYNCRUN_RUN_ID" >> "%s"
if [ -e "%s/quick" ]; then exit 0; fi
exec sleep 30
""" % (tmp_path, marks, tmp_path))
    c = make_conn(server, [SH, sc], overlap="replace")
    assert c["overlap"] == "replace", c
    a = server.trigger(c["id"], expect=201)
    wait_working(server, a["id"])
    pid_a = read_pid(str(tmp_path / ("pid-%d" % a["id"])))
    touch(tmp_path / "quick")
    b = server.trigger(c["id"], expect=201)
    assert b["id"] != a["id"]
    old = server.get_run(a["id"])
    assert old["result"] == "canceled", old
    wait_dead(pid_a)
    b = wait_finished(server, b["id"])
    assert b["result"] == "success", b
    assert server.get_run(a["id"])["result"] == "canceled"
    assert marks.read_text().split("\n")[:-1] == ["start %d" % a["id"], "start %d" % b["id"]]


# ---- progress protocol ----------------------------------------------------------------------


def test_malformed_progress_lines_are_warnings(server, tmp_path):
    sc = script(tmp_path, "bad.sh", """
echo 'this is not json' >&3
echo '{"counters": {"rows": 5}}' >&3
echo '[1, 2]' >&3
echo '{"counters": {"records_processed": 7}}' >&3
exit 0
""")
    c = make_conn(server, [SH, sc])
    run = wait_finished(server, server.trigger(c["id"], expect=201)["id"])
    assert run["result"] == "success", run
    assert run["counters"]["records_processed"] == 7, run
    warnings = [e for e in events(server, run["id"]) if e["kind"] == "warning"]
    assert len(warnings) == 3, warnings
    assert any("this is not json" in json.dumps(w["data"]) for w in warnings), warnings
    assert any("rows" in json.dumps(w["data"]) for w in warnings), warnings


def test_jobs_and_tasks_from_progress(server, tmp_path):
    sc = script(tmp_path, "jobs.sh", """
echo '{"job": {"name": "extract", "state": "working", "connector_type": "snowflake", "phase": "read"}}' >&3
echo '{"task": {"job": "extract", "source_file_id": "f1", "state": "working"}}' >&3
echo '{"task": {"job": "extract", "source_file_id": "f2", "state": "working"}}' >&3
echo '{"task": {"job": "extract", "source_file_id": "f1", "state": "finished", "result": "success", "retry_attempts": 1}}' >&3
echo '{"task": {"job": "extract", "source_file_id": "f2", "state": "finished", "result": "error"}}' >&3
echo '{"job": {"name": "extract", "state": "finished", "result": "partial"}}' >&3
echo '{"job": {"name": "load", "state": "working"}}' >&3
echo '{"job": {"name": "load", "state": "finished", "result": "success"}}' >&3
echo '{"task": {"job": "nope", "source_file_id": "x", "state": "working"}}' >&3
""")
    c = make_conn(server, [SH, sc])
    run = wait_finished(server, server.trigger(c["id"], expect=201)["id"])
    assert run["result"] == "success", run
    jobs = server.ok("GET", "/v1/runs/%s/jobs" % run["id"], expect=200)["data"]
    assert [j["name"] for j in jobs] == ["extract", "load"], jobs
    ex, ld = jobs
    assert ex["state"] == "finished" and ex["result"] == "partial", ex
    assert ex["connector_type"] == "snowflake" and ex["phase"] == "read", ex
    assert ld["state"] == "finished" and ld["result"] == "success", ld
    tasks = {t["source_file_id"]: t for t in ex["tasks"]}
    assert set(tasks) == {"f1", "f2"}, ex["tasks"]
    assert tasks["f1"]["result"] == "success" and tasks["f1"]["retry_attempts"] == 1, tasks
    assert tasks["f2"]["result"] == "error", tasks
    assert ld.get("tasks", []) == [], ld
    kinds = [e["kind"] for e in events(server, run["id"])]
    assert kinds.count("job_created") == 2 and kinds.count("task_created") == 2, kinds
    assert kinds.count("warning") == 1, "a task of an unknown job is a warning: %s" % kinds


# ---- environment and token ------------------------------------------------------------------


def test_environment_and_run_token(server, tmp_path):
    out = tmp_path / "env.out"
    sc = script(tmp_path, "env.sh", """
{
  echo "RUN_ID=$SYNCRUN_RUN_ID"
  echo "URL=$SYNCRUN_URL"
  echo "TOKEN=$SYNCRUN_TOKEN"
  echo "MINE=$MY_SETTING"
  code=$(curl -s -o "%s/self.json" -w '%%{http_code}' -H "Authorization: Bearer $SYNCRUN_TOKEN" "$SYNCRUN_URL/v1/runs/$SYNCRUN_RUN_ID")
  echo "GET=$code"
  code=$(curl -s -o /dev/null -w '%%{http_code}' -X PATCH -H "Authorization: Bearer $SYNCRUN_TOKEN" \
     -H 'Content-Type: application/json' -d '{"message": "written by the command"}' "$SYNCRUN_URL/v1/runs/$SYNCRUN_RUN_ID")
  echo "PATCH=$code"
} > "%s"
""" % (tmp_path, out))
    c = make_conn(server, [SH, sc], env={"MY_SETTING": "forty-two"})
    run = wait_finished(server, server.trigger(c["id"], expect=201)["id"])
    assert run["result"] == "success", run
    env = dict(line.split("=", 1) for line in out.read_text().splitlines())
    assert env["RUN_ID"] == str(run["id"]), env
    assert env["URL"] == "http://127.0.0.1:%d" % server.port, env
    assert env["MINE"] == "forty-two", env
    assert env["TOKEN"].startswith("sr_"), env
    assert env["GET"] == "200", env
    self_run = json.loads((tmp_path / "self.json").read_text())
    assert self_run["id"] == run["id"] and self_run["state"] == "working", self_run
    assert env["PATCH"] == "200", env
    assert run["message"] == "written by the command", run
    # the token is revoked once the run is over
    tok = env["TOKEN"]
    first = server.request("GET", "/v1/runs/%s" % run["id"], token=tok).status
    wait_for(lambda: server.request("GET", "/v1/runs/%s" % run["id"], token=tok).status == 401, 5,
             "the run's token to be revoked")
    assert server.request("GET", "/v1/connections", token=tok).status == 401
    # revocation should be effective by the time the run is seen finished
    assert first == 401, "the run's token still worked (HTTP %s) right after the run was finished" % first


# ---- log ------------------------------------------------------------------------------------


def test_log_has_stdout_and_stderr(server, tmp_path):
    sc = script(tmp_path, "log.sh", """
echo "out 1"
echo "err 1" >&2
echo "out 2"
echo '{"message": "progress is not in the log"}' >&3
""")
    c = make_conn(server, [SH, sc])
    run = wait_finished(server, server.trigger(c["id"], expect=201)["id"])
    r = get_log(server, run["id"])
    assert r.raw == b"out 1\nerr 1\nout 2\n", r.raw
    assert r.headers["X-Log-Bytes-Total"] == str(len(r.raw)), r.describe()
    assert r.headers.get("X-Log-Bytes-Dropped") == "0", r.describe()


def test_log_keeps_the_tail_of_a_huge_output(server, tmp_path):
    body = 5 * 1024 * 1024
    total = body + len("THE END\n")
    # 5 MiB of 16-byte lines as fast as the machine can write them, then an end marker
    sc = script(tmp_path, "big.sh", """
yes 0123456789abcde | head -c %d
echo "THE END"
""" % body)
    c = make_conn(server, [SH, sc], log_max_bytes=65536)
    assert c["log_max_bytes"] == 65536, c
    run = server.trigger(c["id"], expect=201)
    # the server stays responsive while the command writes
    t0 = time.monotonic()
    while server.get_run(run["id"])["state"] != "finished":
        tr = time.monotonic()
        assert server.request("GET", "/healthz", token=None, timeout=5).status == 200
        assert time.monotonic() - tr < 2, "healthz answered slowly while a command writes a lot"
        assert time.monotonic() - t0 < 30, "the run did not finish"
        time.sleep(0.02)
    run = server.get_run(run["id"])
    assert run["result"] == "success", run
    r = get_log(server, run["id"])
    assert 0 < len(r.raw) <= 65536, len(r.raw)
    assert r.raw.endswith(b"0123456789abcde\nTHE END\n"), r.raw[-100:]
    assert set(r.raw[:-len(b"THE END\n")].split(b"\n")[1:-1]) == {b"0123456789abcde"}, "whole lines of the tail"
    assert r.headers["X-Log-Bytes-Total"] == str(total), \
        "X-Log-Bytes-Total counts every byte the command wrote:\n" + r.describe()
    assert int(r.headers["X-Log-Bytes-Dropped"]) == total - len(r.raw), r.describe()


# ---- server restarts ------------------------------------------------------------------------


def test_restart_after_kill_finishes_interrupted_runs(server_factory, tmp_path, reaper):
    srv = server_factory("kill")
    pidf = tmp_path / "pid"
    sc = script(tmp_path, "long.sh", 'echo $$ > "%s"\nexec sleep 60\n' % pidf)
    c = make_conn(srv, [SH, sc])
    run = srv.trigger(c["id"], expect=201)
    wait_working(srv, run["id"])
    pid = read_pid(str(pidf))
    reaper.append(pid)
    srv.kill()
    assert pid_alive(pid), "a SIGKILLed server leaves its child (its own process group) running"
    srv.start()
    got = wait_finished(srv, run["id"], timeout=5)
    assert got["result"] == "error", got
    assert got["error"]["code"] == "INTERRUPTED", got
    assert "interrupted by restart" in got["error"]["message"], got
    assert [e for e in events(srv, run["id"]) if e["kind"] == "finished"], events(srv, run["id"])
    # the connection works again
    pidf.unlink()
    sc2 = script(tmp_path, "short.sh", "exit 0\n")
    srv.ok("PATCH", "/v1/connections/%s" % c["id"], {"command": [SH, sc2]}, expect=200)
    run2 = wait_finished(srv, srv.trigger(c["id"], expect=201)["id"])
    assert run2["result"] == "success", run2


def start_and_first_answer(srv, path):
    """Starts srv (as Server.start does) and returns the first 200 answer to GET path: what a
    client polling the restarted server sees first."""
    assert srv.proc is None
    srv.port = free_port()
    with open(srv.stderr_path, "ab") as log:
        log.write(("\n==== serve on port %d ====\n" % srv.port).encode())
        log.flush()
        srv.proc = subprocess.Popen([srv.bin, "serve", "--db", srv.db, "--listen", "127.0.0.1:%d" % srv.port]
                                    + srv.extra_args, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        assert srv.proc.poll() is None, srv.log_tail()
        try:
            r = srv.request("GET", path, timeout=2)
            if r.status == 200:
                return r.json
        except OSError:
            pass
        time.sleep(0.001)
    raise AssertionError("the server did not answer %s\n%s" % (path, srv.log_tail()))


def test_restart_no_run_working_once_serving(server_factory, tmp_path, reaper):
    """The restart rule is applied before the server answers: a client that reads (or triggers)
    as soon as the restarted server answers never sees the dead run as working."""
    srv = server_factory("early")
    pidf = tmp_path / "pid"
    sc = script(tmp_path, "long.sh", 'echo $$ > "%s"\nexec sleep 60\n' % pidf)
    c = make_conn(srv, [SH, sc], overlap="attach")
    run = srv.trigger(c["id"], expect=201)
    wait_working(srv, run["id"])
    reaper.append(read_pid(str(pidf)))
    srv.kill()
    first = start_and_first_answer(srv, "/v1/runs/%s" % run["id"])
    assert first["state"] == "finished", \
        "the first answer of the restarted server shows the dead run as %s:\n%s" % (first["state"], first)


def test_clean_stop_finishes_runs_and_stops_children(server_factory, tmp_path, reaper):
    srv = server_factory("term")
    pidf = tmp_path / "pid"
    sc = script(tmp_path, "long.sh", 'echo $$ > "%s"\nexec sleep 60\n' % pidf)
    c = make_conn(srv, [SH, sc])
    run = srv.trigger(c["id"], expect=201)
    wait_working(srv, run["id"])
    pid = read_pid(str(pidf))
    reaper.append(pid)
    t0 = time.monotonic()
    code = srv.stop()
    assert code == 0, "SIGTERM stops the server cleanly (exit %s)\n%s" % (code, srv.log_tail())
    assert time.monotonic() - t0 < 5, "a child that obeys SIGTERM does not hold up the stop"
    wait_dead(pid, timeout=3)
    # read the run from the database without a server (which would finish it on start)
    out = srv.cli("runs", "list", c["id"], "--db", srv.db, "--json")
    rows = out["data"] if isinstance(out, dict) else out
    row = [r for r in rows if r["id"] == run["id"]][0]
    assert row["state"] == "finished" and row["result"] == "error", row
    assert row["error"]["code"] == "INTERRUPTED", row


# ---- scheduler, black-box -------------------------------------------------------------------


def test_schedule_catch_up_after_downtime(server_factory, tmp_path):
    srv = server_factory("sched")
    sc = script(tmp_path, "sched.sh", 'echo "scheduled run $SYNCRUN_RUN_ID"\n')
    c = make_conn(srv, [SH, sc], schedule="* * * * *", timezone="UTC")
    assert c["schedule"] == "* * * * *" and c["catchup"] == "latest", c
    # the scheduler computes the next time on its first look (every 2 s)
    got = wait_for(lambda: srv.ok("GET", "/v1/connections/%s" % c["id"], expect=200)["next_run_at"], 10,
                   "next_run_at to be computed")
    assert got.endswith(":00.000Z"), got
    srv.stop()
    now_ms = int(time.time() * 1000)
    first_missed = (now_ms // 60000 - 10) * 60000
    db = sqlite3.connect(srv.db)
    with db:
        n = db.execute("UPDATE connections SET next_fire_at = ? WHERE id = ?", (first_missed, c["id"])).rowcount
    db.close()
    assert n == 1
    lo = (int(time.time() * 1000) // 60000 * 60000 - first_missed) // 60000 + 1
    srv.start()

    def sched_runs():
        return srv.ok("GET", "/v1/connections/%s/runs?trigger=Scheduled&order=asc&limit=100" % c["id"],
                      expect=200)["data"]

    runs = wait_for(sched_runs, 10, "the catch-up run")
    run = wait_finished(srv, runs[0]["id"])
    assert run["result"] == "success", run
    # next_run_at moved past now: nothing more to catch up
    conn = wait_for(lambda: (lambda cn: cn if cn["next_run_at"] and cn["next_run_at"] > run["created_at"] else None)(
        srv.ok("GET", "/v1/connections/%s" % c["id"], expect=200)), 10, "next_run_at to move on")
    hi = (int(time.time() * 1000) // 60000 * 60000 - first_missed) // 60000 + 1
    runs = sched_runs()
    catchups = [r for r in runs if "Catch-up" in (r["trigger"]["detail"] or "")]
    assert len(catchups) == 1, "exactly one catch-up run, not a burst: %s" % [r["trigger"] for r in runs]
    # anything else is an on-time fire of a minute boundary passed during the test
    assert len(runs) - 1 <= hi - lo + 1, [r["trigger"] for r in runs]
    cu = catchups[0]
    assert cu["trigger"]["tag"] == "Scheduled", cu
    m = re.search(r"(\d+) scheduled time\(s\) were missed", cu["trigger"]["detail"])
    assert m and lo <= int(m.group(1)) <= hi, (lo, hi, cu["trigger"])
    sched_ms = first_missed + (int(m.group(1)) - 1) * 60000
    assert cu["scheduled_at"] == time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(sched_ms / 1000)), \
        "scheduled_at is the latest missed time: %s" % cu
    assert conn["next_run_at"] > cu["scheduled_at"], conn
