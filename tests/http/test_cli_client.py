"""The client commands over HTTP: `syncrun exec`, `trigger --wait`, `runs watch`, `runs log`.

Each runs the real CLI as a subprocess against a real server (SYNCRUN_URL/SYNCRUN_TOKEN set)."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import free_port

CLI_TIMEOUT = 30


def env_for(srv, url=None):
    e = dict(os.environ)
    e["SYNCRUN_URL"] = url or "http://127.0.0.1:%d" % srv.port
    e["SYNCRUN_TOKEN"] = srv.admin_token
    return e


def run_cli(srv, *args, url=None, timeout=CLI_TIMEOUT):
    return subprocess.run([srv.bin] + [str(a) for a in args], capture_output=True, timeout=timeout,
                          env=env_for(srv, url))


def popen_cli(srv, *args):
    return subprocess.Popen([srv.bin] + [str(a) for a in args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env_for(srv))


def progress(*objs):
    """Shell commands writing progress lines on fd 3."""
    return "; ".join("echo '%s' >&3" % json.dumps(o) for o in objs)


def sh(script):
    return ["--", "sh", "-c", script]


def latest_run(srv, conn):
    return srv.ok("GET", "/v1/connections/%s/runs?limit=1" % conn)["data"][0]


def run_log(srv, run_id):
    r = srv.request("GET", "/v1/runs/%s/log" % run_id)
    assert r.status == 200, r.describe()
    return r.raw, r.headers


def wait_for(pred, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("condition not met within %ss" % timeout)


# ---- exec ----------------------------------------------------------------------------------


def test_exec_success_output_progress_and_log(server):
    conn = server.create_connection(name="exec-ok")["id"]
    script = ("echo out-line-1; echo err-line-1 >&2; "
              + progress({"step": "Loading"}, {"counters": {"records_processed": 42}},
                         {"job": {"name": "extract", "state": "working"}},
                         {"task": {"job": "extract", "source_file_id": "f1", "state": "finished", "result": "success"}},
                         {"job": {"name": "extract", "state": "finished", "result": "success"}},
                         {"message": "almost there"})
              + "; echo \"id=$SYNCRUN_RUN_ID uuid=$SYNCRUN_RUN_UUID\"; echo out-line-2")
    p = run_cli(server, "exec", conn, *sh(script))
    out, err = p.stdout.decode(), p.stderr.decode()
    assert p.returncode == 0, err
    assert "out-line-1" in out and "out-line-2" in out and "err-line-1" not in out, out
    assert "err-line-1" in err, err
    run = latest_run(server, conn)
    assert run["state"] == "finished" and run["result"] == "success", run
    assert run["trigger"]["tag"] == "Exec" and "sh -c" in run["trigger"]["detail"], run
    assert run["counters"]["records_processed"] == 42 and run["message"] == "almost there", run
    assert "id=%d uuid=%s" % (run["id"], run["uuid"]) in out
    log, _ = run_log(server, run["id"])
    assert b"out-line-1" in log and b"err-line-1" in log and b"out-line-2" in log, log
    jobs = server.ok("GET", "/v1/runs/%d/jobs" % run["id"])["data"]
    assert len(jobs) == 1 and jobs[0]["name"] == "extract" and jobs[0]["result"] == "success", jobs
    assert len(jobs[0]["tasks"]) == 1 and jobs[0]["tasks"][0]["source_file_id"] == "f1", jobs


def test_exec_coalesces_chatty_progress(server):
    conn = server.create_connection(name="exec-chatty")["id"]
    script = "i=0; while [ $i -lt 300 ]; do echo \"{\\\"counters\\\":{\\\"records_processed\\\":$i}}\" >&3; i=$((i+1)); done"
    p = run_cli(server, "exec", conn, *sh(script))
    assert p.returncode == 0, p.stderr
    run = latest_run(server, conn)
    assert run["counters"]["records_processed"] == 299 and run["result"] == "success", run
    # one PATCH per line would make ~300 versions
    assert run["version"] < 60, run


def test_exec_partial(server):
    conn = server.create_connection(name="exec-partial")["id"]
    p = run_cli(server, "exec", conn, *sh(progress({"counters": {"records_processed": 10, "records_failed": 2}})))
    assert p.returncode == 0, p.stderr
    run = latest_run(server, conn)
    assert run["result"] == "partial" and run["counters"]["records_failed"] == 2, run


def test_exec_failure_passes_exit_code_and_tail(server):
    conn = server.create_connection(name="exec-fail")["id"]
    p = run_cli(server, "exec", conn, *sh("for i in $(seq 1 30); do echo line-$i; done; echo boom >&2; exit 7"))
    assert p.returncode == 7, p.stderr
    run = latest_run(server, conn)
    assert run["result"] == "error", run
    assert run["error"]["code"] == "EXIT_CODE" and "7" in run["error"]["message"], run
    detail = run["error"]["detail"]
    assert "boom" in detail and "line-30" in detail and "line-5\n" not in detail, detail


def test_exec_killed_by_signal(server):
    conn = server.create_connection(name="exec-killed")["id"]
    p = run_cli(server, "exec", conn, *sh("kill -9 $$"))
    assert p.returncode == 128 + 9, p.stderr
    run = latest_run(server, conn)
    assert run["result"] == "error" and run["error"]["code"] == "KILLED", run


def test_exec_command_not_found(server):
    conn = server.create_connection(name="exec-404")["id"]
    p = run_cli(server, "exec", conn, "--", "/nonexistent/definitely-not-here")
    assert p.returncode == 127, p.stderr
    assert b"cannot start" in p.stderr
    run = latest_run(server, conn)
    assert run["result"] == "error" and run["error"]["code"] == "SPAWN_FAILED", run


def test_exec_skipped_when_a_run_is_in_progress(server, tmp_path):
    conn = server.create_connection(name="exec-skip", overlap="skip")["id"]
    server.trigger(conn, {"state": "working"}, expect=201)
    marker = tmp_path / "ran"
    p = run_cli(server, "exec", conn, *sh("touch %s" % marker))
    assert p.returncode == 3, p.stderr
    assert b"skipped" in p.stderr and b"not run" in p.stderr, p.stderr
    assert not marker.exists()
    assert latest_run(server, conn)["result"] == "skipped"


def test_exec_attached_does_not_run(server, tmp_path):
    conn = server.create_connection(name="exec-attach", overlap="attach")["id"]
    server.trigger(conn, {"state": "working"}, expect=201)
    marker = tmp_path / "ran"
    p = run_cli(server, "exec", conn, *sh("touch %s" % marker))
    assert p.returncode == 3, p.stderr
    assert not marker.exists()


def test_exec_survives_server_restart(server_factory):
    srv = server_factory("exec-restart")
    conn = srv.create_connection(name="restart")["id"]
    port = srv.port
    ticks = "for i in $(seq 1 15); do echo tick-$i; sleep 0.2; done"
    p = popen_cli(srv, "exec", conn, *sh("echo before; " + ticks + "; " + progress({"step": "after restart"})
                                         + "; echo after; exit 0"))
    try:
        wait_for(lambda: srv.ok("GET", "/v1/connections/%s/runs" % conn)["data"])
        srv.stop()
        time.sleep(0.6)
        mod = sys.modules[type(srv).__module__]
        orig = mod.free_port
        mod.free_port = lambda: port
        try:
            srv.start()
        finally:
            mod.free_port = orig
        out, err = p.communicate(timeout=CLI_TIMEOUT)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, err
    assert b"before" in out and b"tick-15" in out and b"after" in out
    assert b"cannot reach" in err and b"keeps running" in err, err
    run = latest_run(srv, conn)
    assert run["state"] == "finished" and run["result"] == "success", run
    log, _ = run_log(srv, run["id"])
    assert b"before" in log and b"tick-7" in log and b"after" in log, log


def test_exec_forwards_sigint_and_cancels(server, tmp_path):
    conn = server.create_connection(name="exec-int")["id"]
    marker = tmp_path / "got-int"
    p = popen_cli(server, "exec", conn, *sh("trap 'touch %s; exit 130' INT; echo ready; while :; do sleep 0.1; done"
                                            % marker))
    try:
        assert _first_line(p).strip() == "ready"
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=CLI_TIMEOUT)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 130, err
    assert marker.exists()
    run = latest_run(server, conn)
    assert run["result"] == "canceled", run


def test_exec_output_beyond_log_cap(server):
    conn = server.create_connection(name="exec-big")["id"]
    server.ok("PATCH", "/v1/connections/%s" % conn, {"log_max_bytes": 4096})
    script = "yes 0123456789abcdefghij | head -c 3000000; echo; echo THE-END"
    p = run_cli(server, "exec", conn, *sh(script))
    assert p.returncode == 0, p.stderr
    assert len(p.stdout) > 3000000 and p.stdout.endswith(b"THE-END\n")
    run = latest_run(server, conn)
    assert run["result"] == "success", run
    log, headers = run_log(server, run["id"])
    assert len(log) <= 4096 and log.endswith(b"THE-END\n"), log[-200:]
    assert int(headers["X-Log-Bytes-Dropped"]) > 0
    r = run_cli(server, "runs", "log", run["id"])
    assert r.returncode == 0 and r.stdout == log
    assert b"dropped" in r.stderr, r.stderr


# ---- trigger, watch, log -------------------------------------------------------------------


def _first_line(p):
    line = p.stdout.readline().decode()
    assert line, p.stderr.read()
    return line


@pytest.mark.parametrize("result,code", [("success", 0), ("error", 1)])
def test_trigger_wait_exit_code(server, result, code):
    conn = server.create_connection(name="trig-%s" % result)["id"]
    p = popen_cli(server, "trigger", conn, "--wait")
    try:
        line = _first_line(p)
        assert line.startswith("Triggered run"), line
        run = latest_run(server, conn)
        assert run["trigger"]["tag"] == "Manual" and "from the command line" in run["trigger"]["detail"], run
        time.sleep(0.3)
        server.finish(run["id"], result)
        p.wait(CLI_TIMEOUT)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == code, p.stderr.read()


def test_trigger_json_and_skipped(server):
    conn = server.create_connection(name="trig-skip", overlap="skip")["id"]
    p = run_cli(server, "trigger", conn, "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["state"] == "queued"
    p = run_cli(server, "trigger", conn)
    assert p.returncode == 3 and b"skipped: another run of this connection is in progress" in p.stdout, p


@pytest.mark.parametrize("result,code", [("success", 0), ("partial", 0), ("error", 1), ("canceled", 1)])
def test_runs_watch_exit_code(server, result, code):
    conn = server.create_connection(name="watch-%s" % result)["id"]
    run = server.trigger(conn, {"state": "working"}, expect=201)
    p = popen_cli(server, "runs", "watch", run["id"])
    try:
        _first_line(p)
        server.ok("PATCH", "/v1/runs/%d" % run["id"], {"current_step": "Step two", "counters": {"records_processed": 7}})
        time.sleep(0.2)
        server.finish(run["id"], result)
        out, err = p.communicate(timeout=CLI_TIMEOUT)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == code, err
    assert b"Step two" in out and result.encode() in out, out


def test_runs_watch_finished_run_and_json(server):
    conn = server.create_connection(name="watch-done")["id"]
    run = server.trigger(conn, {"state": "working"}, expect=201)
    server.finish(run["id"], "success")
    p = run_cli(server, "runs", "watch", run["id"], "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout.splitlines()[-1])["result"] == "success"
    p = run_cli(server, "runs", "watch", "999999")
    assert p.returncode == 1 and b"HTTP 404" in p.stderr, p


def test_runs_log(server):
    conn = server.create_connection(name="log")["id"]
    run = server.trigger(conn, {"state": "working"}, expect=201)
    r = server.request("POST", "/v1/runs/%d/log" % run["id"], b"hello log\n")
    assert r.status == 204, r.describe()
    p = run_cli(server, "runs", "log", run["id"])
    assert p.returncode == 0 and p.stdout == b"hello log\n", p
    assert b"dropped" not in p.stderr


def test_unreachable_server(server, tmp_path):
    url = "http://127.0.0.1:%d" % free_port()
    for args in (["runs", "watch", "1"], ["runs", "log", "1"], ["trigger", "1"]):
        p = run_cli(server, *args, url=url)
        assert p.returncode == 4, (args, p)
        assert b"cannot reach " + url.encode() in p.stderr and b"Connection refused" in p.stderr, p.stderr
        assert b"syncrun serve" in p.stderr
    marker = tmp_path / "ran"
    p = run_cli(server, "exec", "1", *sh("touch %s" % marker), url=url)
    assert p.returncode == 4 and not marker.exists(), p


def test_usage_errors(server):
    assert run_cli(server, "runs", "watch").returncode == 2
    assert run_cli(server, "runs", "watch", "../x").returncode == 2
    assert run_cli(server, "exec", "1").returncode == 2
    assert run_cli(server, "exec", "1", "--json-progress-fd", "1", "--", "true").returncode == 2
    assert run_cli(server, "trigger").returncode == 2
    h = run_cli(server, "runs", "watch", "--help")
    assert h.returncode == 0 and b"exit codes" in h.stdout
