"""GET /v1/connections/{id}/stats and GET /v1/overview (issues 12 and 13): statistics from the hourly
rollups the database keeps as runs finish. Runs are recorded with known durations (a Census import
sets created_at and completed_at), and the counts and percentiles are checked against what the
rollups' buckets say about them (percentiles interpolated inside a bucket, as documented)."""

import time

import pytest

HOUR = 3600000
# STORE_ROLLUP_DURATION_LE_MS in src/store/store.h
LE = [100, 250, 500, 1000, 2500, 5000, 10000, 15000, 30000, 60000, 120000, 300000, 600000, 900000, 1800000,
      3600000, 7200000, 21600000, 43200000, 86400000]
RESULTS = ["success", "partial", "error", "config_error", "timed_out", "canceled", "skipped"]


def iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)


def quantile(durations, q):
    """What the server estimates: linear interpolation inside the bucket the rank falls in."""
    counts = [0] * (len(LE) + 1)
    inf_sum = 0
    for d in durations:
        i = next((k for k, le in enumerate(LE) if d <= le), len(LE))
        counts[i] += 1
        if i == len(LE):
            inf_sum += d
    total = sum(counts)
    if total == 0:
        return None
    rank = q * total
    below = 0
    for i, c in enumerate(counts[:-1]):
        if c > 0 and below + c >= rank:
            lo = LE[i - 1] if i > 0 else 0
            return round(lo + (LE[i] - lo) * (rank - below) / c)
        below += c
    return round(max(inf_sum / counts[-1], LE[-1]))


def census_run(i, created, duration, status="completed", records=0, **extra):
    r = {"id": i, "created_at": iso(created), "updated_at": iso(created + duration),
         "completed_at": iso(created + duration), "status": status, "sync_id": 1, "records_processed": records,
         "records_failed": 0, "error_code": None, "error_message": None, "error_detail": None, "canceled": False,
         "full_sync": False}
    r.update(extra)
    return r


def record(srv, conn_id, runs, token=None):
    kw = {} if token is None else {"token": token}
    srv.ok("POST", "/v1/connections/%s/runs:import?format=census" % conn_id, {"status": "success", "data": runs},
           expect=200, **kw)


# (status, duration ms, records, extra): finished within the last 24 h
RECENT = [
    ("completed", 80, 10, {}),
    ("completed", 1200, 20, {}),
    ("completed", 3000, 30, {}),
    ("completed", 3400, 40, {}),
    ("completed", 12000, 50, {}),
    ("completed", 40000, 60, {}),
    ("failed", 700, 0, {"error_code": "X", "error_message": "boom"}),
    ("failed", 95000, 0, {"error_code": "X", "error_message": "boom"}),
    ("failed", 5000, 0, {"canceled": True}),
    ("skipped", 0, 0, {}),
]


@pytest.fixture(scope="module")
def world(server, keys):
    now = int(time.time() * 1000)
    c = server.create_connection(name="stats one")
    # two runs long ago (outside 24 h, inside 7 d and 30 d), then the recent ones
    old = [census_run(1, now - 3 * 24 * HOUR, 500_000, records=1000),
           census_run(2, now - 20 * 24 * HOUR, 100_000_000, records=7)]
    recent = []
    base = now - 6 * HOUR
    for i, (status, dur, rec, extra) in enumerate(RECENT):
        recent.append(census_run(10 + i, base + i * 60000, dur, status, rec, **extra))
    record(server, c["id"], sorted(old + recent, key=lambda r: r["created_at"]))
    empty = server.create_connection(name="stats empty")
    # a run still working: in the overview's strip, not in the statistics
    live_conn = server.create_connection(name="stats live")
    live = server.trigger(live_conn["id"], {"state": "working"}, expect=201)
    other = server.create_connection(token=keys["other"], name="other ws")
    record(server, other["id"], [census_run(1, now - HOUR, 1000)], token=keys["other"])
    return {"conn": c, "empty": empty, "live_conn": live_conn, "live": live, "other": other, "now": now}


def stats(srv, cid, query="", token=None, expect=200):
    kw = {} if token is None else {"token": token}
    return srv.ok("GET", "/v1/connections/%s/stats%s" % (cid, query), expect=expect, **kw)


def test_stats_default_window_counts_and_percentiles(server, keys, world):
    s = stats(server, world["conn"]["id"], token=keys["read"])
    assert set(s) == {"connection_id", "since", "until", "runs", "by_result", "success_rate", "duration_ms",
                      "records_processed"}
    assert s["connection_id"] == world["conn"]["id"]
    assert s["until"] % HOUR == 0 and s["until"] - s["since"] == 24 * HOUR
    assert s["since"] <= world["now"] <= s["until"]
    assert s["runs"] == len(RECENT)
    assert s["by_result"] == {"success": 6, "partial": 0, "error": 2, "config_error": 0, "timed_out": 0,
                              "canceled": 1, "skipped": 1}
    assert list(s["by_result"]) == RESULTS
    assert s["success_rate"] == round(6 / 9, 4)  # skipped runs never ran
    ran = [d for st, d, _, _ in RECENT if st != "skipped"]
    assert s["duration_ms"] == {"p50": quantile(ran, 0.5), "p95": quantile(ran, 0.95)}
    # the estimates lie inside the right buckets: the median of 9 is 3400 (2500 < x <= 5000)
    assert 2500 < s["duration_ms"]["p50"] <= 5000 and 60000 < s["duration_ms"]["p95"] <= 120000
    assert s["records_processed"] == sum(r for _, _, r, _ in RECENT)


def test_stats_windows_by_time_and_ms(server, world):
    cid, now = world["conn"]["id"], world["now"]
    wide = stats(server, cid, "?since=%d" % (now - 25 * 24 * HOUR))
    assert wide["runs"] == len(RECENT) + 2 and wide["records_processed"] == 210 + 1007
    assert wide["since"] == (now - 25 * 24 * HOUR) // HOUR * HOUR
    # RFC 3339 bounds, aligned to whole hours: only the run of 3 days ago
    since, until = now - 4 * 24 * HOUR, now - 2 * 24 * HOUR
    s = stats(server, cid, "?since=%s&until=%s" % (iso(since), iso(until)))
    assert s["since"] == since // HOUR * HOUR and s["until"] == -(-until // HOUR) * HOUR
    assert s["runs"] == 1 and s["by_result"]["success"] == 1 and s["success_rate"] == 1
    assert s["duration_ms"] == {"p50": quantile([500_000], 0.5), "p95": quantile([500_000], 0.95)}
    # the run of 20 days ago lasted longer than the last bucket: the estimate is its mean
    s = stats(server, cid, "?since=%d&until=%d" % (now - 21 * 24 * HOUR, now - 17 * 24 * HOUR))  # it ended ~18.8 days ago
    assert s["runs"] == 1 and s["duration_ms"] == {"p50": 100_000_000, "p95": 100_000_000}


def test_stats_of_a_connection_without_runs(server, world):
    s = stats(server, world["empty"]["id"])
    assert s["runs"] == 0 and s["success_rate"] is None and s["duration_ms"] == {"p50": None, "p95": None}
    assert s["records_processed"] == 0 and set(s["by_result"].values()) == {0}
    # addressed by UUID too
    assert stats(server, world["empty"]["uuid"])["connection_id"] == world["empty"]["id"]


@pytest.mark.parametrize("query,field", [
    ("?since=yesterday", "since"), ("?until=12x", "until"), ("?since=-5", "since"), ("?since=0", "since"),
    ("?until=2026-13-01T00:00:00Z", "until"),
    ("?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z", "until"),
    ("?since=99999999999999", "since"),
])
def test_stats_bad_window_is_400_naming_the_field(server, world, query, field):
    r = server.request("GET", "/v1/connections/%s/stats%s" % (world["conn"]["id"], query))
    assert r.status == 400, r.describe()
    assert r.json["error"]["field"] == field


def test_stats_workspace_isolation_and_scopes(server, keys, world):
    assert server.request("GET", "/v1/connections/%s/stats" % world["other"]["id"]).status == 404
    assert server.request("GET", "/v1/connections/%s/stats" % world["conn"]["id"], token=keys["other"]).status == 404
    assert server.request("GET", "/v1/connections/%s/stats" % world["conn"]["id"], token=None).status == 401
    mine = stats(server, world["other"]["id"], token=keys["other"])
    assert mine["runs"] == 1
    assert server.request("GET", "/v1/connections/999999/stats").status == 404


# GET /v1/overview: the fields of each connection, and the positions in a strip entry (an array)
CONNECTION_FIELDS = ("id", "name", "source", "destination", "next_run_at", "expected_by", "late", "late_since")
RUN_COUNT, STATE, RESULT, DURATION, RECORDS = 1, 2, 3, 5, 6


def test_overview_shape_and_contents(server, keys, world):
    o = server.ok("GET", "/v1/overview", expect=200, token=keys["read"])
    assert set(o) == {"window", "since", "until", "connections", "more"}
    assert o["window"] == "24h" and o["until"] - o["since"] == 24 * HOUR and o["more"] is False
    by_id = {e["connection"]["id"]: e for e in o["connections"]}
    assert world["other"]["id"] not in by_id  # another workspace's connection
    ids = [e["connection"]["id"] for e in o["connections"]]
    assert ids == sorted(ids)

    e = by_id[world["conn"]["id"]]
    # the connection as the page draws it: those fields of GET /v1/connections/{id}, same values
    full = server.ok("GET", "/v1/connections/%s" % world["conn"]["id"], expect=200)
    assert e["connection"] == {k: full[k] for k in CONNECTION_FIELDS}
    latest = e["latest_run"]
    run = server.get_run(latest["id"])
    assert latest == {k: run[k] for k in ("id", "run_count", "state", "result", "created_at")}
    assert latest["run_count"] == 12
    # strip entries are arrays: [id, run_count, state, result, created_at, duration_ms, records_processed]
    assert [r[RUN_COUNT] for r in e["recent"]] == list(range(1, 13))  # 12 runs: all, oldest first
    strip = e["recent"][-1]
    assert strip[:5] == [latest["id"], 12, "finished", "skipped", latest["created_at"]] and len(strip) == 7
    assert e["recent"][-2][DURATION] == 5000 and e["recent"][-2][RESULT] == "canceled"
    assert e["recent"][0][DURATION] == 100_000_000 and e["recent"][0][RECORDS] == 7
    s = dict(e["stats"])
    assert s == stats(server, world["conn"]["id"], "?since=%d&until=%d" % (o["since"], o["until"]))

    assert by_id[world["empty"]["id"]]["latest_run"] is None and by_id[world["empty"]["id"]]["recent"] == []
    assert by_id[world["empty"]["id"]]["stats"]["runs"] == 0
    live = by_id[world["live_conn"]["id"]]
    assert live["latest_run"]["id"] == world["live"]["id"] and live["latest_run"]["state"] == "working"
    assert live["recent"][0][STATE] == "working" and live["recent"][0][RESULT] is None
    assert live["recent"][0][DURATION] is None and live["stats"]["runs"] == 0


def test_overview_windows(server, world):
    cid = world["conn"]["id"]
    for window, days, runs in (("7d", 7, len(RECENT) + 1), ("30d", 30, len(RECENT) + 2)):
        o = server.ok("GET", "/v1/overview?window=" + window, expect=200)
        assert o["window"] == window and o["until"] - o["since"] == days * 24 * HOUR
        e = next(e for e in o["connections"] if e["connection"]["id"] == cid)
        assert e["stats"]["runs"] == runs


def test_overview_strip_keeps_the_30_newest(server):
    c = server.create_connection(name="many runs")
    now = int(time.time() * 1000)
    record(server, c["id"], [census_run(i, now - HOUR + i * 1000, 10) for i in range(1, 41)])
    o = server.ok("GET", "/v1/overview?after=%d&limit=1" % (c["id"] - 1), expect=200)
    (e,) = o["connections"]
    assert e["connection"]["id"] == c["id"]
    assert [r[RUN_COUNT] for r in e["recent"]] == list(range(11, 41))
    assert e["latest_run"]["run_count"] == 40 and e["stats"]["runs"] == 40


def test_overview_pages_by_connection_id(server, world):
    everything = server.ok("GET", "/v1/overview", expect=200)["connections"]
    ids = [e["connection"]["id"] for e in everything]
    seen, after = [], 0
    while True:
        o = server.ok("GET", "/v1/overview?limit=2&after=%d" % after, expect=200)
        seen += [e["connection"]["id"] for e in o["connections"]]
        if not o["more"]:
            break
        after = seen[-1]
    assert seen == ids and len(ids) >= 4


@pytest.mark.parametrize("query,field", [
    ("?window=1h", "window"), ("?window=", "window"), ("?limit=0", "limit"), ("?limit=1001", "limit"),
    ("?after=-1", "after"), ("?after=x", "after"),
])
def test_overview_bad_input_is_400(server, query, field):
    r = server.request("GET", "/v1/overview" + query)
    assert r.status == 400, r.describe()
    assert r.json["error"]["field"] == field


def test_overview_isolation_and_auth(server, keys, world):
    o = server.ok("GET", "/v1/overview", expect=200, token=keys["other"])
    assert [e["connection"]["id"] for e in o["connections"]] == [world["other"]["id"]]
    assert o["connections"][0]["stats"]["runs"] == 1
    assert server.request("GET", "/v1/overview", token=None).status == 401


def test_rollups_follow_a_run_finished_live(server):
    """A run finished through the API is counted at once, in the hour it finished."""
    c = server.create_connection(name="live finish")
    run = server.trigger(c["id"], {"state": "working"}, expect=201)
    server.ok("PATCH", "/v1/runs/%s" % run["id"], {"counters": {"records_processed": 42}}, expect=200)
    server.finish(run["id"], "partial")
    s = stats(server, c["id"])
    assert s["runs"] == 1 and s["by_result"]["partial"] == 1 and s["records_processed"] == 42
    assert s["success_rate"] == 0 and s["duration_ms"]["p50"] is not None
