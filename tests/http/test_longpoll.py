"""GET /v1/runs/{id}?wait=SECONDS long-poll and If-None-Match.

Timing is only bounded (an answer must come within its deadline plus a margin), never
measured, except that a wait that must run to its deadline may not end long before it."""

import threading
import time

MARGIN = 6.0


def new_run(srv, body=None):
    c = srv.create_connection(name="lp", overlap="queue")["id"]
    return srv.trigger(c, body or {}, expect=201)


def later(delay, fn, *args):
    out = {}

    def go():
        time.sleep(delay)
        try:
            out["resp"] = fn(*args)
        except Exception as e:  # noqa: BLE001 - reported by the test
            out["error"] = e

    t = threading.Thread(target=go)
    t.start()
    return t, out


def etag(v):
    return '"%s"' % v


def test_wait_with_if_none_match_wakes_on_patch(server):
    run = new_run(server)
    t, out = later(0.5, server.request, "PATCH", "/v1/runs/%s" % run["id"], {"state": "working"})
    t0 = time.monotonic()
    r = server.request("GET", "/v1/runs/%s?wait=20" % run["id"], headers={"If-None-Match": etag(run["version"])},
                       timeout=20 + MARGIN)
    elapsed = time.monotonic() - t0
    t.join(10)
    assert out.get("resp") is not None and out["resp"].status == 200, out
    assert r.status == 200, r.describe()
    assert r.json["state"] == "working" and r.json["version"] > run["version"], r.json
    assert r.headers.get("ETag") == etag(r.json["version"])
    assert elapsed < 20, "the change must end the wait, not the deadline (took %.1fs)" % elapsed


def test_wait_without_if_none_match_wakes_on_change(server):
    run = new_run(server)
    t, out = later(0.5, server.request, "PATCH", "/v1/runs/%s" % run["id"], {"current_step": "Running sync"})
    r = server.request("GET", "/v1/runs/%s?wait=20" % run["id"], timeout=20 + MARGIN)
    t.join(10)
    assert r.status == 200, r.describe()
    assert r.json["current_step"] == "Running sync", \
        "the wait must return the changed run, not the run as it was:\n" + r.describe()


def test_wait_wakes_on_finish(server):
    run = new_run(server, {"state": "working"})
    t, out = later(0.5, server.request, "POST", "/v1/runs/%s/finish" % run["id"], {"result": "success"})
    r = server.request("GET", "/v1/runs/%s?wait=20" % run["id"], headers={"If-None-Match": etag(run["version"])},
                       timeout=20 + MARGIN)
    t.join(10)
    assert r.status == 200 and r.json["state"] == "finished" and r.json["result"] == "success", r.describe()


def test_if_none_match_current_without_wait_is_304_at_once(server):
    run = new_run(server)
    r = server.request("GET", "/v1/runs/%s" % run["id"], headers={"If-None-Match": etag(run["version"])}, timeout=5)
    assert r.status == 304 and r.raw == b"", r.describe()


def test_deadline_with_if_none_match_is_304(server):
    run = new_run(server)
    t0 = time.monotonic()
    r = server.request("GET", "/v1/runs/%s?wait=1" % run["id"], headers={"If-None-Match": etag(run["version"])},
                       timeout=1 + MARGIN)
    elapsed = time.monotonic() - t0
    assert r.status == 304 and r.raw == b"", r.describe()
    assert elapsed >= 0.8, "a 304 at the deadline, not before it (answered after %.2fs)" % elapsed


def test_deadline_without_if_none_match_is_200_unchanged(server):
    run = new_run(server)
    r = server.request("GET", "/v1/runs/%s?wait=1" % run["id"], timeout=1 + MARGIN)
    assert r.status == 200, r.describe()
    assert r.json["version"] == run["version"] and r.json["state"] == "queued"


def test_stale_if_none_match_answers_at_once(server):
    run = new_run(server)
    p = server.ok("PATCH", "/v1/runs/%s" % run["id"], {"current_step": "x"}, expect=200)
    r = server.request("GET", "/v1/runs/%s?wait=30" % run["id"], headers={"If-None-Match": etag(run["version"])},
                       timeout=MARGIN + 4)
    assert r.status == 200 and r.json["version"] == p["version"], r.describe()


def test_finished_run_is_answered_at_once(server):
    run = new_run(server, {"state": "working"})
    f = server.finish(run["id"], "success")
    r = server.request("GET", "/v1/runs/%s?wait=60" % run["id"], timeout=MARGIN + 4)
    assert r.status == 200 and r.json["state"] == "finished", r.describe()
    r = server.request("GET", "/v1/runs/%s?wait=60" % run["id"], headers={"If-None-Match": etag(f["version"])},
                       timeout=MARGIN + 4)
    assert r.status == 304, r.describe()


def test_change_of_another_run_does_not_wake(server):
    a = new_run(server)
    b = new_run(server)
    t, out = later(0.3, server.request, "PATCH", "/v1/runs/%s" % b["id"], {"current_step": "other"})
    r = server.request("GET", "/v1/runs/%s?wait=2" % a["id"], headers={"If-None-Match": etag(a["version"])},
                       timeout=2 + MARGIN)
    t.join(10)
    assert out["resp"].status == 200
    assert r.status == 304, "run A did not change:\n" + r.describe()


def test_many_waiters_all_wake_and_server_stays_responsive(server):
    run = new_run(server)
    n = 12
    results, lock = [], threading.Lock()

    def waiter():
        r = server.request("GET", "/v1/runs/%s?wait=8" % run["id"], headers={"If-None-Match": etag(run["version"])},
                           timeout=8 + MARGIN)
        with lock:
            results.append(r)

    threads = [threading.Thread(target=waiter) for _ in range(n)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    # the server answers other requests while the waiters wait
    h = server.request("GET", "/healthz", token=None, timeout=5)
    assert h.status == 200
    p = server.request("PATCH", "/v1/runs/%s" % run["id"], {"state": "working"}, timeout=5)
    assert p.status == 200, p.describe()
    for t in threads:
        t.join(8 + MARGIN + 2)
    assert len(results) == n
    bad = [r for r in results if r.status != 200 or r.json["state"] != "working"]
    assert not bad, "%d of %d waiters did not get the change, e.g.\n%s" % (len(bad), n, bad[0].describe())


def test_wait_on_unknown_run_is_404_at_once(server):
    r = server.request("GET", "/v1/runs/999999999?wait=30", timeout=MARGIN + 4)
    assert r.status == 404, r.describe()
