"""BlueConic dialect: GET /connections/{connection}/runs (seed 000) and ?format=blueconic import."""

import copy
import json
import os
import re
import uuid

import pytest

from conftest import REPO, basic

EXAMPLE = os.path.join(os.path.dirname(REPO), "shared", "seeds", "examples", "blueconic-connection-runs.json")
if not os.path.exists(EXAMPLE):
    EXAMPLE = "/work/shared/seeds/examples/blueconic-connection-runs.json"

RUN_KEYS = ["endDate", "goalStatistics", "message", "runCount", "runId", "startDate", "state"]
BODY_KEYS = ["itemsPerPage", "runs", "startIndex", "totalPages", "totalResults"]
TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
ERROR_END = "</ul></div><div>Review the run log for more information.</div>"


def load_example():
    with open(EXAMPLE) as f:
        return json.load(f)


def runs_path(conn_uuid, **q):
    qs = "&".join("%s=%s" % kv for kv in q.items())
    return "/connections/%s/runs%s" % (conn_uuid, "?" + qs if qs else "")


def bc(srv, conn_uuid, expect=200, **kw):
    q = kw.pop("q", {})
    r = srv.request("GET", runs_path(conn_uuid, **q), **kw)
    assert r.status == expect, "%s -> %s" % (q, r.describe())
    return r


def stats(run):
    """goalStatistics as (SUCCESS, FAILED, TOTAL) ints, after checking the exact shape."""
    gs = run["goalStatistics"]
    assert [g["id"] for g in gs] == ["SUCCESS", "FAILED", "TOTAL"], gs
    for g in gs:
        assert list(g) == ["id", "values"], g
        assert isinstance(g["values"], list) and len(g["values"]) == 1, g
        assert isinstance(g["values"][0], str) and g["values"][0].isdigit(), g
    return tuple(int(g["values"][0]) for g in gs)


def same_json(a, b, path="$"):
    """Equal values AND equal JSON types (1 != 1.0 != True), and the same key order."""
    assert type(a) is type(b), "%s: %r (%s) vs %r (%s)" % (path, a, type(a).__name__, b, type(b).__name__)
    if isinstance(a, dict):
        assert list(a) == list(b), "%s: keys %s vs %s" % (path, list(a), list(b))
        for k in a:
            same_json(a[k], b[k], "%s.%s" % (path, k))
    elif isinstance(a, list):
        assert len(a) == len(b), "%s: %d items vs %d" % (path, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            same_json(x, y, "%s[%d]" % (path, i))
    else:
        assert a == b, "%s: %r vs %r" % (path, a, b)


def check_error(r, status, code, parameter=None):
    assert r.status == status, r.describe()
    want = ["errorCode", "message"] + (["parameter"] if parameter else [])
    assert list(r.json) == want, r.describe()
    assert r.json["errorCode"] == code, r.describe()
    assert isinstance(r.json["message"], str) and r.json["message"]
    if parameter:
        assert r.json["parameter"] == parameter, r.describe()


def new_conn(srv, **kw):
    kw.setdefault("name", "bc-%s" % uuid.uuid4().hex[:8])
    return srv.create_connection(**kw)


def add_runs(srv, conn_id, n):
    conn = srv.connect()
    try:
        for _ in range(n):
            r = srv.request("POST", "/v1/connections/%s/runs" % conn_id, {}, conn=conn)
            assert r.status == 201, r.describe()
    finally:
        conn.close()


# ---- pagination ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sized(server):
    """Connections with 0, 10, 11 and 25 runs (overlap queue: every trigger is a new queued run)."""
    out = {}
    for n in (0, 10, 11, 25):
        c = new_conn(server, overlap="queue", name="bc-%d" % n)
        add_runs(server, c["id"], n)
        out[n] = c
    return out


@pytest.mark.parametrize("n", [0, 10, 11, 25])
@pytest.mark.parametrize("count", [None, 1, 7, 10, 100])
def test_pages_cover_every_run_newest_first(server, sized, n, count):
    c = sized[n]
    per = count or 10
    pages = 0 if n == 0 else -(-n // per)
    seen = []
    for start in range(0, n + per + 1, per):
        q = {"startIndex": start}
        if count is not None:
            q["count"] = count
        body = bc(server, c["uuid"], q=q).json
        assert list(body) == BODY_KEYS
        assert body["itemsPerPage"] == per and body["startIndex"] == start
        assert body["totalResults"] == n and body["totalPages"] == pages
        for run in body["runs"]:
            assert list(run) == RUN_KEYS
        got = [run["runCount"] for run in body["runs"]]
        assert got == list(range(n - start, max(0, n - start - per), -1)), (start, got)
        seen += got
    assert seen == list(range(n, 0, -1)), "the pages together are every run, newest first, once"


def test_defaults_are_start_0_count_10(server, sized):
    c = sized[25]
    d = bc(server, c["uuid"]).json
    assert d == bc(server, c["uuid"], q={"startIndex": 0, "count": 10}).json
    assert d["itemsPerPage"] == 10 and d["startIndex"] == 0 and d["totalPages"] == 3
    assert [r["runCount"] for r in d["runs"]] == list(range(25, 15, -1))


def test_empty_connection(server, sized):
    d = bc(server, sized[0]["uuid"]).json
    same_json(d, {"itemsPerPage": 10, "runs": [], "startIndex": 0, "totalPages": 0, "totalResults": 0})


@pytest.mark.parametrize("start", [11, 12, 1000, 9223372036854775807])
def test_start_past_the_end_is_empty(server, sized, start):
    d = bc(server, sized[11]["uuid"], q={"startIndex": start}).json
    assert d["runs"] == [] and d["totalResults"] == 11 and d["totalPages"] == 2 and d["startIndex"] == start


def test_start_not_on_a_page_boundary(server, sized):
    d = bc(server, sized[25]["uuid"], q={"startIndex": 3, "count": 5}).json
    assert [r["runCount"] for r in d["runs"]] == [22, 21, 20, 19, 18]
    d = bc(server, sized[25]["uuid"], q={"startIndex": 23, "count": 5}).json
    assert [r["runCount"] for r in d["runs"]] == [2, 1]


@pytest.mark.parametrize(
    "param,value",
    [
        ("startIndex", "-1"),
        ("startIndex", "abc"),
        ("startIndex", "1.5"),
        ("startIndex", ""),
        ("startIndex", "99999999999999999999999"),
        ("count", "0"),
        ("count", "101"),
        ("count", "-5"),
        ("count", "ten"),
        ("count", ""),
        ("count", "1e2"),
    ],
)
def test_bad_parameters_are_400_naming_them(server, sized, param, value):
    r = server.request("GET", runs_path(sized[10]["uuid"], **{param: value}))
    check_error(r, 400, "INVALID_PARAMETER", param)
    assert param in r.json["message"]


def test_count_limits(server, sized):
    assert len(bc(server, sized[25]["uuid"], q={"count": 1}).json["runs"]) == 1
    d = bc(server, sized[25]["uuid"], q={"count": 100}).json
    assert len(d["runs"]) == 25 and d["totalPages"] == 1


# ---- one run in every state ---------------------------------------------------------------


def only_run(srv, conn):
    body = bc(srv, conn["uuid"]).json
    return body["runs"][0]


def run_of(srv, setup, name=None, overlap="skip"):
    """A new connection with one run set up by `setup(run_id)`; returns (conn, native run, bc run)."""
    c = new_conn(srv, overlap=overlap, **({"name": name} if name else {}))
    run = srv.trigger(c["id"], {"state": "working"})
    setup(run["id"])
    native = srv.get_run(run["id"])
    return c, native, only_run(srv, c)


def check_common(c, native, run):
    assert list(run) == RUN_KEYS
    assert run["runCount"] == native["run_count"]
    start = native["started_at"] or native["created_at"]
    assert run["startDate"] == start
    assert TS_RE.match(run["startDate"])
    # runId: BlueConic's shape, from the run's creation time and its own UUID (never changes)
    digits = re.sub(r"\D", "", native["created_at"])[:14]
    assert run["runId"] == "%s_%s" % (digits, native["uuid"])
    assert run["endDate"] == native["completed_at"]
    assert isinstance(run["message"], str)


FINISHED_CASES = [
    ("success", "FINISHED", (1, 0, 1), False),
    ("partial", "FINISHED", (1, 0, 1), False),
    ("error", "FINISHED", (0, 1, 1), True),
    ("config_error", "FINISHED", (0, 1, 1), True),
    ("timed_out", "FINISHED", (0, 1, 1), True),
    ("canceled", "STOPPED", (0, 1, 1), False),
]


@pytest.mark.parametrize("result,state,goals,is_error", FINISHED_CASES)
def test_finished_states(server, result, state, goals, is_error):
    c, native, run = run_of(server, lambda rid: server.finish(rid, result))
    check_common(c, native, run)
    assert run["state"] == state
    assert TS_RE.match(run["endDate"])
    assert stats(run) == goals, "a run without jobs is its own one goal"
    m = run["message"]
    if is_error:
        assert m.startswith('<div class="bcpError"><div class="bcpTask">%s</div><ul><li>' % c["name"]), m
        assert m.endswith(ERROR_END), m
    else:
        assert m.startswith('<div class="bcpTask">%s</div><ul><li>' % c["name"]), m
        assert m.endswith("</li></ul>") and "bcpError" not in m, m


def test_success_message_shows_counters(server):
    counters = {"source_record_count": 199836, "records_processed": 1200, "records_updated": 1000,
                "records_failed": 3, "records_invalid": 2}
    c, native, run = run_of(server, lambda rid: server.finish(rid, "success", counters=counters,
                                                               message="the delta file is used"))
    assert run["message"] == (
        '<div class="bcpTask">%s</div><ul><li>Received 199,836 records, processed 1,200, updated 1,000, '
        "3 failed, 2 invalid.</li><li>the delta file is used</li></ul>" % c["name"]
    )


def test_canceled_is_stopped(server):
    c, native, run = run_of(server, lambda rid: server.ok("POST", "/v1/runs/%s/cancel" % rid, {}, expect=200))
    assert run["state"] == "STOPPED" and run["endDate"] == native["completed_at"]
    assert "stopped" in run["message"]


def test_working_run(server):
    c, native, run = run_of(server, lambda rid: None)
    check_common(c, native, run)
    assert run["state"] == "RUNNING" and run["endDate"] is None
    assert stats(run) == (0, 0, 1)
    assert run["message"].startswith('<div class="bcpTask">')


def test_retrying_run(server):
    c, native, run = run_of(server, lambda rid: server.ok("PATCH", "/v1/runs/%s" % rid, {"state": "retrying"},
                                                          expect=200))
    assert native["state"] == "retrying"
    assert run["state"] == "RUNNING" and run["endDate"] is None


def test_queued_run_starts_at_creation(server):
    c = new_conn(server)
    native = server.trigger(c["id"], {})
    assert native["state"] == "queued" and native["started_at"] is None
    run = only_run(server, c)
    check_common(c, native, run)
    assert run["state"] == "STARTING" and run["endDate"] is None
    assert run["startDate"] == native["created_at"]


def test_skipped_run_is_finished_with_a_message(server):
    c = new_conn(server, overlap="skip")
    server.trigger(c["id"], {"state": "working"})
    skipped = server.trigger(c["id"], {})
    assert skipped["result"] == "skipped"
    run = only_run(server, c)
    assert run["runCount"] == 2
    assert run["state"] == "FINISHED" and run["endDate"] == skipped["completed_at"]
    assert "skipped" in run["message"] and "bcpError" not in run["message"]
    assert stats(run) == (0, 0, 1)


# ---- goals: the run's jobs ----------------------------------------------------------------


def test_goal_statistics_count_jobs(server):
    c = new_conn(server)
    run = server.trigger(c["id"], {"state": "working"})
    jobs = [("finished", "success"), ("finished", "partial"), ("finished", "error"),
            ("finished", "config_error"), ("finished", "timed_out"), ("finished", "canceled"),
            ("finished", "skipped"), ("working", None), ("queued", None)]
    for i, (st, res) in enumerate(jobs):
        body = {"name": "goal <%d>" % i, "state": st}
        if res:
            body["result"] = res
        server.ok("POST", "/v1/runs/%s/jobs" % run["id"], body, expect=201)
    bcrun = only_run(server, c)
    assert stats(bcrun) == (2, 4, 9)
    assert bcrun["state"] == "RUNNING"
    # finished with an error: the failed goals are named (escaped) in the error block
    server.finish(run["id"], "error", error={"code": "x", "message": "Missing required setting: importMatching"})
    bcrun = only_run(server, c)
    assert stats(bcrun) == (2, 4, 9), "the run's own result does not count once it has jobs"
    m = bcrun["message"]
    assert m.startswith('<div class="bcpError"><div class="bcpTask">%s</div><ul>'
                        "<li>Missing required setting: importMatching</li>" % c["name"]), m
    assert "<li>goal &lt;2&gt;: goal error</li>" in m and "goal &lt;0&gt;" not in m, m
    assert m.endswith(ERROR_END)


def test_jobs_of_a_successful_run(server):
    c = new_conn(server)
    run = server.trigger(c["id"], {"state": "working"})
    server.ok("POST", "/v1/runs/%s/jobs" % run["id"], {"state": "finished", "result": "success"}, expect=201)
    server.ok("POST", "/v1/runs/%s/jobs" % run["id"], {"state": "finished", "result": "skipped"}, expect=201)
    server.finish(run["id"], "success")
    assert stats(only_run(server, c)) == (1, 0, 2)


# ---- HTML escaping ------------------------------------------------------------------------


def test_every_user_string_is_escaped(server):
    name = '<script>alert("x")</script> & co'
    esc_name = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co"
    c, native, run = run_of(
        server,
        lambda rid: server.finish(rid, "error", message="it's <b>bold</b>",
                                  error={"code": "e", "message": "<img src=x onerror='y'>", "detail": "a & b \"c\""}),
        name=name,
    )
    m = run["message"]
    assert m == (
        '<div class="bcpError"><div class="bcpTask">%s</div><ul>'
        "<li>&lt;img src=x onerror=&#39;y&#39;&gt;</li><li>a &amp; b &quot;c&quot;</li>"
        "<li>it&#39;s &lt;b&gt;bold&lt;/b&gt;</li>" % esc_name + ERROR_END
    ), m
    assert "<script" not in m and "<img" not in m and "<b>" not in m
    # a working run: the connection name only
    c2 = new_conn(server, name=name)
    server.trigger(c2["id"], {"state": "working"})
    m2 = only_run(server, c2)["message"]
    assert m2.startswith('<div class="bcpTask">%s</div>' % esc_name) and "<script" not in m2


def test_long_error_text_is_clipped_not_refused(server):
    detail = "é<" * 30000  # 90,000 bytes, escapes to far more
    c, native, run = run_of(server, lambda rid: server.finish(rid, "error", error={"code": "e", "detail": detail}))
    m = run["message"]
    assert m.endswith(ERROR_END) and len(m.encode()) < 64 * 1024
    assert "&lt;" in m and "<<" not in m


# ---- ids, workspaces and auth --------------------------------------------------------------


def test_unknown_foreign_and_malformed_ids_are_the_same_404(server, keys):
    mine = new_conn(server)
    server.trigger(mine["id"], {})
    other = server.create_connection(token=keys["other"], name="theirs")
    answers = []
    for path_id, token in [
        (str(uuid.uuid4()), server.admin_token),  # no such connection
        (other["uuid"], server.admin_token),  # another workspace's connection
        (mine["uuid"], keys["other"]),  # mine, seen from another workspace
        (str(mine["id"]), server.admin_token),  # the integer id is not a BlueConic id
        ("not-a-uuid", server.admin_token),
        (mine["uuid"] + "0", server.admin_token),
        (mine["uuid"][:-1], server.admin_token),
    ]:
        r = server.request("GET", runs_path(path_id), token=token)
        check_error(r, 404, "NOT_FOUND")
        answers.append(r.raw)
    assert len(set(answers)) == 1, answers
    # the UUID is case-insensitive
    assert bc(server, mine["uuid"].upper()).json["totalResults"] == 1
    # the other workspace sees its own
    assert bc(server, other["uuid"], token=keys["other"]).json["totalResults"] == 0


def test_auth(server, keys):
    c = new_conn(server)
    path = runs_path(c["uuid"])
    r = server.request("GET", path, token=None)
    check_error(r, 401, "UNAUTHORIZED")
    assert r.headers.get("WWW-Authenticate", "").startswith("Bearer")
    for h in ["Bearer", "Bearer ", "Bearer nope", "Basic", "Basic !!!", "Basic " + "x" * 5000, "Token abc",
              basic("sr_nope", "")]:
        check_error(server.request("GET", path, headers={"Authorization": h}), 401, "UNAUTHORIZED")
    for tok in (keys["read"], keys["write"], keys["admin"]):
        assert server.request("GET", path, token=tok).status == 200
    assert server.request("GET", path, auth=(keys["read"], "")).status == 200
    assert server.request("GET", path, auth=("", keys["read"])).status == 200
    assert server.request("GET", path, auth=("x", keys["read"])).status == 200
    check_error(server.request("GET", path, auth=("x", "y")), 401, "UNAUTHORIZED")


def test_other_methods_and_paths_answer_in_blueconic_shape(server):
    c = new_conn(server)
    r = server.request("POST", runs_path(c["uuid"]), {})
    check_error(r, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in r.headers.get("Allow", "")
    check_error(server.request("GET", "/connections/%s/nope" % c["uuid"]), 404, "NOT_FOUND")


def test_rate_limit_429(server_factory):
    srv = server_factory("bc-rl", start=False)
    srv.extra_args = ["--rate-limit", "blueconic=2/60"]
    srv.start()
    c = new_conn(srv)
    for _ in range(2):
        assert srv.request("GET", runs_path(c["uuid"])).status == 200
    r = srv.request("GET", runs_path(c["uuid"]))
    check_error(r, 429, "TOO_MANY_REQUESTS")
    assert int(r.headers["Retry-After"]) >= 1
    assert srv.request("GET", "/v1/connections").status == 200, "other dialects are not limited"


# ---- import and round trip ------------------------------------------------------------------


def do_import(srv, conn, doc, expect=200):
    r = srv.request("POST", "/v1/connections/%s/runs:import?format=blueconic" % conn["id"], doc)
    assert r.status == expect, r.describe()
    return r


def test_round_trip_equals_the_seed_example(fresh_server):
    srv = fresh_server
    example = load_example()
    c = new_conn(srv, name="Import profiles into BlueConic")
    r = do_import(srv, c, example)
    assert r.json["imported"] == 2 and r.json["existing"] == 0, r.describe()
    got = bc(srv, c["uuid"]).json
    # No differences to document: same keys, key order, values and JSON types.
    same_json(got, example)
    assert got == example
    # a second import records nothing
    r = do_import(srv, c, example)
    assert r.json["imported"] == 0 and r.json["existing"] == 2, r.describe()
    same_json(bc(srv, c["uuid"]).json, example)
    # paging over the imported runs
    one = bc(srv, c["uuid"], q={"startIndex": 1, "count": 1}).json
    assert one["totalPages"] == 2 and one["runs"] == example["runs"][1:]
    # the canonical view: results from the message, goals as jobs
    runs = srv.ok("GET", "/v1/connections/%s/runs?order=asc" % c["id"], expect=200)["data"]
    assert [(x["state"], x["result"]) for x in runs] == [("finished", "error"), ("finished", "success")]
    assert runs[1]["started_at"] == runs[1]["created_at"] == "2025-09-24T13:46:48.107Z"
    assert runs[1]["completed_at"] == "2025-09-24T13:47:37.909Z"
    jobs = srv.ok("GET", "/v1/runs/%s/jobs" % runs[1]["id"], expect=200)["data"]
    assert sorted(j["result"] for j in jobs) == ["skipped", "success"]
    assert all(j["state"] == "finished" for j in jobs)
    jobs = srv.ok("GET", "/v1/runs/%s/jobs" % runs[0]["id"], expect=200)["data"]
    assert sorted(j["result"] for j in jobs) == ["error", "skipped"]


def imported_run(**over):
    run = {"endDate": "2025-09-24T13:47:37.909Z",
           "goalStatistics": [{"id": "SUCCESS", "values": ["3"]}, {"id": "FAILED", "values": ["1"]},
                              {"id": "TOTAL", "values": ["5"]}],
           "message": "<div class=\"bcpTask\">T</div><ul><li>ok</li></ul>",
           "runCount": 1, "runId": "20250924134648_" + str(uuid.uuid4()),
           "startDate": "2025-09-24T13:46:48.107Z", "state": "FINISHED"}
    run.update(over)
    return {k: v for k, v in run.items() if v is not _DROP}


_DROP = object()


def test_imported_states_and_goals_render_back(server):
    c = new_conn(server)
    t = ["2025-01-0%dT10:00:00.000Z" % d for d in range(1, 7)]
    runs = [
        imported_run(startDate=t[0], endDate="2025-01-01T10:05:00.000Z", state="STOPPED"),
        imported_run(startDate=t[1], endDate=None, state="RUNNING", runId="r-running"),
        imported_run(startDate=t[2], endDate=None, state="QUEUED", runId="r-queued"),
        imported_run(startDate=t[3], goalStatistics=[{"id": "SUCCESS", "values": ["0"]},
                                                     {"id": "FAILED", "values": ["0"]},
                                                     {"id": "TOTAL", "values": ["0"]}],
                     endDate="2025-01-04T10:00:01.000Z"),
        imported_run(startDate=t[4], goalStatistics=_DROP, endDate="2025-01-05T10:00:01.000Z"),
        imported_run(startDate=t[5], goalStatistics=[{"id": "FAILED", "values": ["2"]}],
                     message="<div class=\"bcpError\">x</div>", endDate="2025-01-06T10:00:01.000Z"),
    ]
    r = do_import(server, c, {"itemsPerPage": 10, "runs": runs[::-1], "startIndex": 0})
    assert r.json["imported"] == 6
    native = server.ok("GET", "/v1/connections/%s/runs?order=asc" % c["id"], expect=200)["data"]
    assert [(x["state"], x["result"]) for x in native] == [
        ("finished", "canceled"), ("working", None), ("queued", None),
        ("finished", "success"), ("finished", "success"), ("finished", "error")]
    assert native[2]["started_at"] is None and native[2]["created_at"] == t[2]
    got = bc(server, c["uuid"]).json["runs"][::-1]
    assert [g["state"] for g in got] == ["STOPPED", "RUNNING", "STARTING", "FINISHED", "FINISHED", "FINISHED"]
    for g, want in zip(got, runs):
        assert g["runId"] == want["runId"] and g["message"] == want["message"]
        assert g["startDate"] == want["startDate"] and g["endDate"] == want.get("endDate")
    assert stats(got[0]) == (3, 1, 5)
    assert stats(got[3]) == (0, 0, 0), "no goals stays no goals"
    assert stats(got[4]) == (1, 0, 1), "no goalStatistics: the run is its own goal"
    assert stats(got[5]) == (0, 2, 2), "TOTAL defaults to SUCCESS + FAILED"


BAD_IMPORTS = [
    ({"items": []}, "runs"),
    ({"runs": {}}, "runs"),
    ({"runs": [1]}, "runs[0]"),
    ({"runs": [imported_run(runId=_DROP)]}, "runs[0].runId"),
    ({"runs": [imported_run(runId="")]}, "runs[0].runId"),
    ({"runs": [imported_run(runId=7)]}, "runs[0].runId"),
    ({"runs": [imported_run(), imported_run(startDate="yesterday")]}, "runs[1].startDate"),
    ({"runs": [imported_run(startDate=_DROP)]}, "runs[0].startDate"),
    ({"runs": [imported_run(endDate=5)]}, "runs[0].endDate"),
    ({"runs": [imported_run(endDate="2025-09-24T13:00:00.000Z")]}, "runs[0].endDate"),
    ({"runs": [imported_run(state="RUNNING")]}, "runs[0].endDate"),
    ({"runs": [imported_run(state="DONE")]}, "runs[0].state"),
    ({"runs": [imported_run(state=None)]}, "runs[0].state"),
    ({"runs": [imported_run(message=["x"])]}, "runs[0].message"),
    ({"runs": [imported_run(runCount="2")]}, "runs[0].runCount"),
    ({"runs": [imported_run(goalStatistics={})]}, "runs[0].goalStatistics"),
    ({"runs": [imported_run(goalStatistics=["x"])]}, "runs[0].goalStatistics[0]"),
    ({"runs": [imported_run(), imported_run(goalStatistics=[{"id": "SUCCESS", "values": ["x"]}])]},
     "runs[1].goalStatistics[0].values"),
    ({"runs": [imported_run(goalStatistics=[{"id": "SUCCESS", "values": "1"}])]}, "runs[0].goalStatistics[0].values"),
    ({"runs": [imported_run(goalStatistics=[{"id": "SUCCESS", "values": [1]}])]}, "runs[0].goalStatistics[0].values"),
    ({"runs": [imported_run(goalStatistics=[{"id": "SUCCESS", "values": ["1", "2"]}])]},
     "runs[0].goalStatistics[0].values"),
    ({"runs": [imported_run(goalStatistics=[{"id": "SUCCESS", "values": ["-1"]}])]},
     "runs[0].goalStatistics[0].values"),
    ({"runs": [imported_run(goalStatistics=[{"id": "SUCCESS", "values": []}])]}, "runs[0].goalStatistics[0].values"),
    ({"runs": [imported_run(goalStatistics=[{"id": "SUCCESS"}])]}, "runs[0].goalStatistics[0].values"),
    ({"runs": [imported_run(goalStatistics=[{"id": "SUCCESS", "values": ["99999"]}])]},
     "runs[0].goalStatistics[0].values"),
    ({"runs": [imported_run(goalStatistics=[{"id": "BOGUS", "values": ["1"]}])]}, "runs[0].goalStatistics[0].id"),
    ({"runs": [imported_run(goalStatistics=[{"values": ["1"]}])]}, "runs[0].goalStatistics[0].id"),
    ({"runs": [imported_run(goalStatistics=[{"id": "FAILED", "values": ["1"]}, {"id": "FAILED", "values": ["1"]}])]},
     "runs[0].goalStatistics[1].id"),
    ({"runs": [imported_run(goalStatistics=[{"id": "SUCCESS", "values": ["2"]}, {"id": "FAILED", "values": ["1"]},
                                            {"id": "TOTAL", "values": ["2"]}])]},
     "runs[0].goalStatistics[2].values"),
]


@pytest.mark.parametrize("doc,field", BAD_IMPORTS, ids=[f for _, f in BAD_IMPORTS])
def test_import_errors_name_the_field_and_record_nothing(server, doc, field):
    c = new_conn(server)
    r = do_import(server, c, doc, expect=422)
    assert r.json["error"]["field"] == field, r.describe()
    assert field in r.json["error"]["message"]
    assert server.ok("GET", "/v1/connections/%s" % c["id"], expect=200)["run_count"] == 0
    assert bc(server, c["uuid"]).json["totalResults"] == 0


def test_import_of_a_bad_document_after_a_good_one_changes_nothing(server):
    c = new_conn(server)
    good = load_example()
    do_import(server, c, good)
    bad = copy.deepcopy(good)
    bad["runs"].append(imported_run(state="NOPE"))
    do_import(server, c, bad, expect=422)
    assert bc(server, c["uuid"]).json["totalResults"] == 2


# ---- runs with many goals (no silent caps) ----------------------------------------------------


def goals_run(success, failed, total, **over):
    run = {"endDate": "2025-09-24T13:47:37.909Z",
           "goalStatistics": [{"id": "SUCCESS", "values": [str(success)]}, {"id": "FAILED", "values": [str(failed)]},
                              {"id": "TOTAL", "values": [str(total)]}],
           "message": "<div class=\"bcpTask\">T</div><ul><li>ok</li></ul>",
           "runId": "20250924134648_" + str(uuid.uuid4()), "startDate": "2025-09-24T13:46:48.107Z",
           "state": "FINISHED"}
    run.update(over)
    return run


def test_goal_statistics_of_5000_goals_are_counted_whole(server):
    """Statistics used to come from a job list that stopped at 1,000: 5,000 goals read 1000/0/1000."""
    c = new_conn(server)
    do_import(server, c, {"runs": [goals_run(3000, 1500, 5000)]})
    assert stats(only_run(server, c)) == (3000, 1500, 5000)
    # the native job list pages through all of them, oldest first, and says when there are more
    run = server.ok("GET", "/v1/connections/%s/runs" % c["id"], expect=200)["data"][0]
    ids, results, cursor, pages = [], {}, None, 0
    while True:
        q = "?limit=100" + ("&cursor=" + cursor if cursor else "")
        page = server.ok("GET", "/v1/runs/%s/jobs%s" % (run["id"], q), expect=200)
        assert len(page["data"]) == 100, len(page["data"])
        ids += [j["id"] for j in page["data"]]
        for j in page["data"]:
            results[j["result"]] = results.get(j["result"], 0) + 1
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 50 and len(set(ids)) == 5000
    assert results == {"success": 3000, "error": 1500, "skipped": 500}


def test_many_failed_goals_are_named_then_counted(server):
    """A run syncrun recorded, with more failed goals than the message names: the rest is counted."""
    c = new_conn(server)
    doc = {"runs": [{"id": "r-1", "state": "Completed", "result": "Error", "startDateTime": "2025-01-01T00:00:00Z",
                     "error": {"errorKey": "E", "description": "broke"},
                     "jobs": [{"id": "j-%d" % i, "state": "Completed", "result": "Error"} for i in range(25)]
                     + [{"id": "ok-%d" % i, "state": "Completed", "result": "Success"} for i in range(5)]}]}
    r = server.request("POST", "/v1/connections/%s/runs:import?format=itwin" % c["id"], doc)
    assert r.status == 200, r.describe()
    bcrun = only_run(server, c)
    assert stats(bcrun) == (5, 25, 30)
    m = bcrun["message"]
    assert m.count("goal error</li>") == 10, m
    assert "<li>15 more goals failed.</li>" in m, m


def test_a_page_of_runs_with_many_goals(server):
    """A full page of 100 runs with 1,000 goals each: every run's statistics are whole."""
    c = new_conn(server)
    for part in range(4):  # an import document holds at most 100,000 goals
        do_import(server, c, {"runs": [goals_run(600, 300, 1000, startDate="2025-09-24T13:%02d:%02d.000Z"
                                                 % (part, i % 60), runId="%d-%d" % (part, i))
                                       for i in range(25)]})
    page = bc(server, c["uuid"], q={"count": 100}).json
    assert len(page["runs"]) == 100 and page["totalResults"] == 100
    assert all(stats(x) == (600, 300, 1000) for x in page["runs"])
