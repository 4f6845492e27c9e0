"""An acknowledged write survives kill -9 and a restart.

Concurrent writers trigger, update and finish runs, recording every acknowledged answer;
the server is SIGKILLed mid-write, restarted on the same database, and every acknowledged
run must be readable in (at least) its acknowledged state. A write in flight at the kill may
or may not have landed, so a run may be one step further than its last acknowledgement,
never behind it."""

import threading
import time

WRITERS = 8
RUN_FOR = 1.5


def test_acknowledged_writes_survive_sigkill(server_factory):
    srv = server_factory("durable")
    conns = [srv.create_connection(name="dur-%d" % i)["id"] for i in range(WRITERS)]
    extra_conn = srv.create_connection(name="dur-extra", overlap="queue")
    acked = {}  # run id -> dict(stage, version, conn, k)
    lock = threading.Lock()
    stop = threading.Event()
    started = threading.Barrier(WRITERS + 1)

    def writer(i):
        c = conns[i]
        try:
            http = srv.connect(timeout=10)
        except OSError:
            started.wait()
            return
        started.wait()
        k = 0
        try:
            while not stop.is_set():
                k += 1
                r = srv.request("POST", "/v1/connections/%s/runs" % c, {"state": "working"}, conn=http)
                if r.status != 201:
                    return
                rid = r.json["id"]
                with lock:
                    acked[rid] = {"stage": "created", "version": r.json["version"], "conn": c, "k": k}
                r = srv.request("PATCH", "/v1/runs/%s" % rid,
                                {"current_step": "Running sync", "counters": {"records_processed": k}}, conn=http)
                if r.status != 200:
                    return
                with lock:
                    acked[rid].update(stage="patched", version=r.json["version"])
                r = srv.request("POST", "/v1/runs/%s/finish" % rid,
                                {"result": "partial", "counters": {"records_failed": 1}, "message": "m%d" % k}, conn=http)
                if r.status != 200:
                    return
                with lock:
                    acked[rid].update(stage="finished", version=r.json["version"])
        except Exception:  # noqa: BLE001 - the kill ends every writer with a socket error
            return
        finally:
            http.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for t in threads:
        t.start()
    started.wait()
    time.sleep(RUN_FOR)
    with lock:
        n_before_kill = len(acked)
    srv.kill()
    stop.set()
    for t in threads:
        t.join(30)
    assert n_before_kill > 0, "no write was acknowledged before the kill\n" + srv.log_tail()

    srv.start()
    problems = []
    per_conn = {}
    http = srv.connect()
    try:
        for rid, a in sorted(acked.items()):
            per_conn[a["conn"]] = per_conn.get(a["conn"], 0) + 1
            r = srv.request("GET", "/v1/runs/%s" % rid, conn=http)
            if r.status != 200:
                problems.append("run %s (acknowledged %s) -> %s" % (rid, a["stage"], r.describe()))
                continue
            run = r.json
            if run["version"] < a["version"]:
                problems.append("run %s: version %s < acknowledged %s" % (rid, run["version"], a["version"]))
            if a["stage"] == "finished":
                ok = (run["state"] == "finished" and run["result"] == "partial" and run["message"] == "m%d" % a["k"]
                      and run["counters"]["records_processed"] == a["k"] and run["counters"]["records_failed"] == 1)
            elif a["stage"] == "patched":
                ok = (run["state"] in ("working", "finished") and run["counters"]["records_processed"] == a["k"]
                      and run["current_step"] in ("Running sync", None))
            else:
                ok = run["state"] in ("working", "finished")
            if not ok:
                problems.append("run %s acknowledged %s, after restart: %s" % (rid, a["stage"], run))
            c = srv.request("GET", "/api/v1/sync_runs/%s" % rid, conn=http)
            if c.status != 200:
                problems.append("Census run %s -> %s" % (rid, c.describe()))
        for c, n in per_conn.items():
            conn = srv.request("GET", "/v1/connections/%s" % c, conn=http).json
            if conn is None or conn["run_count"] < n:
                problems.append("connection %s: run_count %s < %d acknowledged runs" % (c, conn and conn["run_count"], n))
    finally:
        http.close()
    assert not problems, "%d of %d acknowledged runs lost or behind:\n%s" % (
        len(problems), len(acked), "\n".join(problems[:10]))

    # the restarted server is fully writable
    assert srv.ok("GET", "/v1/connections/%s" % extra_conn["id"], expect=200)["name"] == "dur-extra"
    run = srv.trigger(extra_conn["id"], {}, expect=201)
    srv.finish(run["id"], "success")


def test_acknowledged_connection_and_key_writes_survive_sigkill(server_factory):
    srv = server_factory("durable2")
    made = [srv.create_connection(name="k%d" % i)["id"] for i in range(20)]
    srv.ok("PATCH", "/v1/connections/%s" % made[0], {"name": "renamed"}, expect=200)
    srv.ok("DELETE", "/v1/connections/%s" % made[1], expect=204)
    read_key = srv.new_key("runs:read")  # created by the CLI while the server runs
    assert srv.request("GET", "/v1/connections", token=read_key).status == 200
    srv.kill()
    srv.start()
    lst = srv.ok("GET", "/v1/connections?limit=100", expect=200)["data"]
    ids = {c["id"] for c in lst}
    assert ids == set(made) - {made[1]}
    assert srv.ok("GET", "/v1/connections/%s" % made[0], expect=200)["name"] == "renamed"
    assert srv.request("GET", "/v1/connections", token=read_key).status == 200
