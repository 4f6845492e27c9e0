"""Many clients at once: every acknowledged write is there afterwards, overlap rules hold
under races."""

import threading

import pytest

THREADS = 16
PER_THREAD = 50


def test_concurrent_trigger_and_finish(fresh_server):
    srv = fresh_server
    conns = [srv.create_connection(name="cc-%d" % i)["id"] for i in range(THREADS)]
    acked = {}  # run id -> (connection, counters)
    errors = []
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS)

    def worker(i):
        c = conns[i]
        http = srv.connect(timeout=30)
        barrier.wait()
        try:
            for k in range(PER_THREAD):
                r = srv.request("POST", "/v1/connections/%s/runs" % c, {"state": "working"}, conn=http)
                if r.status != 201 or r.json["state"] != "working":
                    errors.append("trigger %d/%d: %s" % (i, k, r.describe()))
                    return
                rid = r.json["id"]
                counters = {"records_processed": k + 1, "records_updated": i}
                r = srv.request("POST", "/v1/runs/%s/finish" % rid, {"result": "success", "counters": counters}, conn=http)
                if r.status != 200:
                    errors.append("finish %d/%d: %s" % (i, k, r.describe()))
                    return
                with lock:
                    acked[rid] = (c, counters)
        except Exception as e:  # noqa: BLE001
            errors.append("worker %d: %r" % (i, e))
        finally:
            http.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, "\n".join(errors[:5])
    assert len(acked) == THREADS * PER_THREAD, "run ids must be unique"

    http = srv.connect()
    try:
        for rid, (c, counters) in acked.items():
            r = srv.request("GET", "/v1/runs/%s" % rid, conn=http)
            assert r.status == 200, r.describe()
            run = r.json
            assert run["connection_id"] == c and run["state"] == "finished" and run["result"] == "success", run
            for k, v in counters.items():
                assert run["counters"][k] == v, (rid, run["counters"], counters)
        for c in conns:
            conn = srv.request("GET", "/v1/connections/%s" % c, conn=http).json
            assert conn["run_count"] == PER_THREAD, conn
            census = srv.request("GET", "/api/v1/syncs/%s/sync_runs?per_page=100" % c, conn=http).json
            assert census["pagination"]["total_records"] == PER_THREAD
            got = sorted(d["id"] for d in census["data"])
            assert got == sorted(rid for rid, (cc, _) in acked.items() if cc == c)
            counts = sorted(d["records_processed"] for d in census["data"])
            assert counts == list(range(1, PER_THREAD + 1)), "run_count sequence / counters"
            runs = srv.request("GET", "/v1/connections/%s/runs?limit=100&order=asc" % c, conn=http).json["data"]
            assert [r["run_count"] for r in runs] == list(range(1, PER_THREAD + 1)), "run_count is gapless"
    finally:
        http.close()


@pytest.mark.parametrize("overlap", ["skip", "attach"])
def test_concurrent_triggers_respect_overlap(fresh_server, overlap):
    srv = fresh_server
    c = srv.create_connection(name="race-" + overlap, overlap=overlap)["id"]
    n = 24
    results, lock = [], threading.Lock()
    barrier = threading.Barrier(n)

    def worker():
        barrier.wait()
        r = srv.request("POST", "/v1/connections/%s/runs" % c, {}, timeout=30)
        with lock:
            results.append(r)

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == n
    live = [r for r in results if r.status == 201 and r.json["state"] != "finished"]
    assert len(live) == 1, "exactly one run may be in progress, got %d: %s" % (
        len(live), [r.json["id"] for r in live])
    lst = srv.ok("GET", "/v1/connections/%s/runs?limit=100&state=queued" % c, expect=200)["data"]
    assert len(lst) == 1
    if overlap == "skip":
        assert all(r.status == 201 for r in results)
        skipped = [r for r in results if r.json["result"] == "skipped"]
        assert len(skipped) == n - 1
        assert srv.ok("GET", "/v1/connections/%s" % c, expect=200)["run_count"] == n
    else:
        assert sorted(r.status for r in results) == [200] * (n - 1) + [201]
        assert {r.json["id"] for r in results} == {live[0].json["id"]}
        assert srv.ok("GET", "/v1/connections/%s" % c, expect=200)["run_count"] == 1


def test_concurrent_patches_of_one_run(fresh_server):
    """Every acknowledged PATCH bumps the version once; no update is lost."""
    srv = fresh_server
    c = srv.create_connection(name="patch-race")["id"]
    run = srv.trigger(c, {"state": "working"}, expect=201)
    n, per = 8, 20
    errors = []

    def worker(i):
        http = srv.connect()
        try:
            for k in range(per):
                r = srv.request("PATCH", "/v1/runs/%s" % run["id"], {"current_step": "w%d-%d" % (i, k)}, conn=http)
                if r.status != 200:
                    errors.append(r.describe())
        finally:
            http.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors[:3]
    after = srv.get_run(run["id"])
    assert after["version"] == run["version"] + n * per, (run["version"], after["version"])
    ev = srv.ok("GET", "/v1/runs/%s/events?limit=100" % run["id"], expect=200)
    kinds, cursor = [e["kind"] for e in ev["data"]], ev["next_cursor"]
    while cursor:
        ev = srv.ok("GET", "/v1/runs/%s/events?limit=100&cursor=%s" % (run["id"], cursor), expect=200)
        kinds += [e["kind"] for e in ev["data"]]
        cursor = ev["next_cursor"]
    assert kinds.count("updated") == n * per
