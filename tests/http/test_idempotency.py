"""Idempotency-Key on trigger: a retry with the same key and body returns the same run (201,
Idempotent-Replayed: true); the same key with another body is 422 idempotency_key_reused."""

import threading


def post(srv, conn, body, key, token=None):
    kw = {} if token is None else {"token": token}
    return srv.request("POST", "/v1/connections/%s/runs" % conn, body, headers={"Idempotency-Key": key}, **kw)


def run_count(srv, conn, token=None):
    kw = {} if token is None else {"token": token}
    return srv.ok("GET", "/v1/connections/%s" % conn, expect=200, **kw)["run_count"]


def test_replay_and_reuse(server):
    c = server.create_connection(name="idem")["id"]  # overlap skip: a non-replayed retry would be skipped
    body = {"trigger": {"tag": "API", "detail": "nightly"}, "full_sync": True}
    first = post(server, c, body, "key-1")
    assert first.status == 201, first.describe()
    assert (first.headers.get("Idempotent-Replayed") or "").lower() != "true", "the first answer is not a replay"
    run = first.json
    assert run["state"] == "queued"

    for _ in range(3):
        again = post(server, c, body, "key-1")
        assert again.status == 201, again.describe()
        assert again.headers.get("Idempotent-Replayed") == "true", again.describe()
        assert again.json["id"] == run["id"] and again.json["uuid"] == run["uuid"], again.json
        assert again.json["state"] == "queued" and again.json["result"] is None, \
            "a replay is the original run, not a skipped one\n" + again.describe()
    assert run_count(server, c) == 1, "replays create nothing"

    other = post(server, c, {"full_sync": False}, "key-1")
    assert other.status == 422, other.describe()
    assert other.json and other.json["error"]["code"] == "idempotency_key_reused", other.describe()
    assert run_count(server, c) == 1, "a 422 changes nothing"

    fresh = post(server, c, body, "key-2")
    assert fresh.status == 201 and fresh.json["id"] != run["id"], fresh.describe()
    assert fresh.json["result"] == "skipped", "a new key is a new trigger (skipped: run 1 in progress)"
    assert (fresh.headers.get("Idempotent-Replayed") or "").lower() != "true"

    # still the same run after it changed and finished
    server.ok("PATCH", "/v1/runs/%s" % run["id"], {"state": "working"}, expect=200)
    server.finish(run["id"], "success")
    again = post(server, c, body, "key-1")
    assert again.status == 201 and again.json["id"] == run["id"], again.describe()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert run_count(server, c) == 2


def test_key_is_per_workspace(server):
    c1 = server.create_connection(name="idem-ws1")["id"]
    other = server.new_workspace("idem-ws2")
    c2 = server.create_connection(token=other["token"], name="idem-ws2")["id"]
    r1 = post(server, c1, {}, "shared-key")
    assert r1.status == 201, r1.describe()
    r2 = post(server, c2, {}, "shared-key", token=other["token"])
    assert r2.status == 201, "another workspace's key namespace is its own\n" + r2.describe()
    assert r2.json["id"] != r1.json["id"] and r2.json["connection_id"] == c2
    assert (r2.headers.get("Idempotent-Replayed") or "").lower() != "true"


def test_concurrent_retries_create_one_run(server):
    c = server.create_connection(name="idem-race", overlap="queue")["id"]
    results, lock = [], threading.Lock()
    barrier = threading.Barrier(12)

    def worker():
        barrier.wait()
        r = post(server, c, {"full_sync": True}, "race-key")
        with lock:
            results.append(r)

    threads = [threading.Thread(target=worker) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 12
    bad = [r for r in results if r.status != 201]
    assert not bad, "every retry answers 201:\n" + "\n".join(r.describe() for r in bad[:3])
    ids = {r.json["id"] for r in results}
    assert len(ids) == 1, "all retries return the same run, got %s" % sorted(ids)
    replayed = [r for r in results if r.headers.get("Idempotent-Replayed") == "true"]
    assert len(replayed) == 11, "exactly one original answer, %d replays" % len(replayed)
    assert run_count(server, c) == 1
