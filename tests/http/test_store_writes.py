"""The store's write path seen from outside: concurrent connection updates merge field by field
(issue 9, defect 4), and run logs keep their tail and cap semantics (defect 9)."""

import threading


def test_concurrent_patches_of_different_fields_both_stick(fresh_server):
    """Two PATCHes of different fields of one connection, sent at the same time, both take
    effect: the writer merges the fields each one sent into the row as it is, instead of
    rebuilding a group of fields from a read taken before the other one committed."""
    srv = fresh_server
    c = srv.create_connection(name="patch-fields")["id"]
    rounds = 60
    start = threading.Barrier(2)  # the two PATCHes of a round leave together
    step = threading.Barrier(3)  # the check of a round runs after both were answered
    errors, lost = [], []

    def patcher(field, base):
        http = srv.connect()
        try:
            for k in range(rounds):
                start.wait(10)
                r = srv.request("PATCH", "/v1/connections/%s" % c, {field: base + k}, conn=http)
                if r.status != 200:
                    errors.append(r.describe())
                step.wait(10)
                step.wait(10)
        finally:
            http.close()

    def checker():
        for k in range(rounds):
            step.wait(10)
            got = srv.ok("GET", "/v1/connections/%s" % c, expect=200)
            if (got["timeout_seconds"], got["log_max_bytes"]) != (100 + k, 4096 + k):
                lost.append((k, got["timeout_seconds"], got["log_max_bytes"]))
            step.wait(10)

    threads = [
        threading.Thread(target=patcher, args=("timeout_seconds", 100)),
        threading.Thread(target=patcher, args=("log_max_bytes", 4096)),
        threading.Thread(target=checker),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[:3]
    assert not lost, "%d of %d rounds lost an update, e.g. %s" % (len(lost), rounds, lost[:3])


def test_patch_changes_only_the_fields_sent(fresh_server):
    """A field of a group (retry.max_attempts, schedule) changes alone; its neighbours keep their
    values; an invalid PATCH changes nothing."""
    srv = fresh_server
    c = srv.create_connection(name="partial", timeout_seconds=60, retry={"max_attempts": 3, "backoff_seconds": 7},
                              log_max_bytes=2048, schedule="*/5 * * * *", timezone="Europe/Berlin")["id"]
    got = srv.ok("PATCH", "/v1/connections/%s" % c, {"retry": {"max_attempts": 5}}, expect=200)
    assert got["retry"] == {"max_attempts": 5, "backoff_seconds": 7}
    assert got["timeout_seconds"] == 60 and got["log_max_bytes"] == 2048
    got = srv.ok("PATCH", "/v1/connections/%s" % c, {"schedule": "0 * * * *"}, expect=200)
    assert got["schedule"] == "0 * * * *" and got["timezone"] == "Europe/Berlin"
    got = srv.ok("PATCH", "/v1/connections/%s" % c, {"timezone": None}, expect=200)
    assert got["timezone"] == "UTC" and got["schedule"] == "0 * * * *"
    r = srv.request("PATCH", "/v1/connections/%s" % c, {"timeout_seconds": 30, "log_max_bytes": 1})
    assert r.status == 400, r.describe()
    got = srv.ok("GET", "/v1/connections/%s" % c, expect=200)
    assert got["timeout_seconds"] == 60 and got["log_max_bytes"] == 2048


def _model_append(kept, total, cap, add):
    """The tail rules of a run log: the last `cap` bytes; after a cut, from the first newline
    within 4 KiB of the cut."""
    buf = (kept + add)[-cap:]
    if len(kept) + len(add) > cap:
        nl = buf.find(b"\n", 0, 4096)
        if nl >= 0:
            buf = buf[nl + 1:]
    return buf, total + len(add)


def test_run_log_keeps_its_tail_rules(fresh_server):
    """Appends of every size (one byte, many lines, more than the cap) to a run log read back
    as the rules say, through GET /v1/runs/{id}/log and its byte counters, also after the cap
    changes and after a restart."""
    import random
    srv = fresh_server
    c = srv.create_connection(name="log-rules", log_max_bytes=5000)["id"]
    run = srv.trigger(c, {"state": "working"}, expect=201)
    path = "/v1/runs/%s/log" % run["id"]
    rnd = random.Random(9)
    kept, total, cap = b"", 0, 5000

    def check(step):
        r = srv.request("GET", path)
        assert r.status == 200, r.describe()
        assert r.raw == kept, "step %s: %d bytes, the rules say %d" % (step, len(r.raw), len(kept))
        assert int(r.headers["X-Log-Bytes-Total"]) == total
        assert int(r.headers["X-Log-Bytes-Dropped"]) == total - len(kept)

    for step in range(120):
        if step == 60:
            cap = 70000
            srv.ok("PATCH", "/v1/connections/%s" % c, {"log_max_bytes": cap}, expect=200)
        if step == 90:
            cap = 2048
            srv.ok("PATCH", "/v1/connections/%s" % c, {"log_max_bytes": cap}, expect=200)
        n = rnd.choice([1, 17, 300, 4000, 9000, 90000]) if cap > 5000 else rnd.choice([1, 17, 300, 4000, 9000])
        line = rnd.choice([8, 60, 5000])
        add = bytes(rnd.choice(b"abcdef") if rnd.randrange(line) else 10 for _ in range(n))
        srv.ok("POST", path, add, expect=204)
        kept, total = _model_append(kept, total, cap, add)
        if step % 7 == 0:
            check(step)
    check("end")
    srv.restart()
    check("after restart")
