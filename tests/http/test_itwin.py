"""The Bentley iTwin Synchronization dialect (seed 004): manifest connection runs.

    GET /synchronization/imodels/manifestconnections/{connectionId}/runs[?$skip=&$top=]
    GET /synchronization/imodels/manifestconnections/{connectionId}/runs/{runId}
"""

import copy
import json
import os
import socket
import time
import uuid

import pytest

from conftest import make_server

SEEDS = "/work/shared/seeds/examples"
BASE = "/synchronization/imodels/manifestconnections/"
STATES = {"NotStarted", "Idle", "WaitingToExecute", "WaitingToRetry", "Executing", "Finalizing", "Completed", "Queued"}
RESULTS = {"Undetermined", "Success", "Error", "PartialSuccess", "Skipped", "Canceled", "TimedOut"}


def example(name):
    with open(os.path.join(SEEDS, name)) as f:
        return json.load(f)


def runs_path(conn_uuid, query=""):
    return BASE + conn_uuid + "/runs" + query


def href(srv, conn_uuid, skip, top):
    return "http://127.0.0.1:%d%sruns?$skip=%d&$top=%d" % (srv.port, BASE + conn_uuid + "/", skip, top)


def get(srv, path, prefer=None, **kw):
    headers = dict(kw.pop("headers", {}) or {})
    if prefer is not None:
        headers["Prefer"] = prefer
    return srv.request("GET", path, headers=headers, **kw)


def new_conn(srv, n_runs=0, name="itwin"):
    cn = srv.create_connection(name=name, overlap="queue")
    runs = [srv.trigger(cn["id"]) for _ in range(n_runs)]
    return cn, runs


def do_import(srv, conn_id, doc, expect=200):
    return srv.ok("POST", "/v1/connections/%s/runs:import?format=itwin" % conn_id, doc, expect=expect)


@pytest.fixture(scope="module")
def srv(server):
    return server


@pytest.fixture(scope="module")
def five(srv):
    """A connection with 5 runs (run_count 1..5), the newest first in the dialect."""
    cn, runs = new_conn(srv, 5, "five")
    return cn, runs


# ---- list: paging -------------------------------------------------------------------------


def test_default_page_newest_first(srv, five):
    cn, runs = five
    r = get(srv, runs_path(cn["uuid"]))
    assert r.status == 200, r
    assert r.headers["content-type"].startswith("application/json")
    assert [x["id"] for x in r.json["runs"]] == [x["uuid"] for x in reversed(runs)]
    for x in r.json["runs"]:
        assert set(x) == {"id", "state", "result"}
        assert x["state"] == "Queued" and x["result"] == "Undetermined"
    assert r.json["_links"] == {"self": {"href": href(srv, cn["uuid"], 0, 100)}}
    assert "preference-applied" not in r.headers


@pytest.mark.parametrize("top,n", [("1", 1), ("2", 2), ("1000", 5)])
def test_top_valid(srv, five, top, n):
    cn, runs = five
    r = get(srv, runs_path(cn["uuid"], "?$top=" + top))
    assert r.status == 200, r
    assert [x["id"] for x in r.json["runs"]] == [x["uuid"] for x in reversed(runs)][:n]


def test_links_first_middle_last(srv, five):
    cn, runs = five
    ids = [x["uuid"] for x in reversed(runs)]
    first = get(srv, runs_path(cn["uuid"], "?$top=2")).json
    assert [x["id"] for x in first["runs"]] == ids[0:2]
    assert first["_links"] == {"self": {"href": href(srv, cn["uuid"], 0, 2)},
                               "next": {"href": href(srv, cn["uuid"], 2, 2)}}
    mid = get(srv, runs_path(cn["uuid"], "?$skip=2&$top=2")).json
    assert [x["id"] for x in mid["runs"]] == ids[2:4]
    assert mid["_links"] == {"self": {"href": href(srv, cn["uuid"], 2, 2)},
                             "prev": {"href": href(srv, cn["uuid"], 0, 2)},
                             "next": {"href": href(srv, cn["uuid"], 4, 2)}}
    last = get(srv, runs_path(cn["uuid"], "?$skip=4&$top=2")).json
    assert [x["id"] for x in last["runs"]] == ids[4:5]
    assert last["_links"] == {"self": {"href": href(srv, cn["uuid"], 4, 2)},
                              "prev": {"href": href(srv, cn["uuid"], 2, 2)}}
    # a page that ends exactly at the last run has no next
    exact = get(srv, runs_path(cn["uuid"], "?$skip=3&$top=2")).json
    assert [x["id"] for x in exact["runs"]] == ids[3:5]
    assert "next" not in exact["_links"]
    # skip not a multiple of top: prev clamps at 0
    odd = get(srv, runs_path(cn["uuid"], "?$skip=1&$top=2")).json
    assert odd["_links"]["prev"] == {"href": href(srv, cn["uuid"], 0, 2)}


def test_skip_past_end_and_huge(srv, five):
    cn, _ = five
    for skip in ("5", "6", "2147483647"):
        r = get(srv, runs_path(cn["uuid"], "?$skip=" + skip))
        assert r.status == 200, r
        assert r.json["runs"] == []
        assert "next" not in r.json["_links"]
        assert r.json["_links"]["self"] == {"href": href(srv, cn["uuid"], int(skip), 100)}


def test_host_header_in_links(srv, five):
    cn, _ = five
    r = get(srv, runs_path(cn["uuid"], "?$top=1"), headers={"Host": "sync.example.com:8443"})
    assert r.json["_links"]["self"]["href"] == \
        "http://sync.example.com:8443%s%s/runs?$skip=0&$top=1" % (BASE, cn["uuid"])


def test_no_host_header_falls_back_to_listen_address(srv, five):
    cn, _ = five
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    try:
        s.sendall(("GET %s HTTP/1.0\r\nAuthorization: Bearer %s\r\n\r\n"
                   % (runs_path(cn["uuid"], "?$top=1"), srv.admin_token)).encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    body = json.loads(data.split(b"\r\n\r\n", 1)[1])
    assert body["_links"]["self"]["href"] == href(srv, cn["uuid"], 0, 1)


def test_empty_connection(srv):
    cn, _ = new_conn(srv, 0)
    r = get(srv, runs_path(cn["uuid"]))
    assert r.status == 200
    assert r.json == {"runs": [], "_links": {"self": {"href": href(srv, cn["uuid"], 0, 100)}}}


def test_uppercase_connection_uuid(srv, five):
    cn, runs = five
    r = get(srv, runs_path(cn["uuid"].upper(), "?$top=1"))
    assert r.status == 200, r
    assert r.json["runs"][0]["id"] == runs[-1]["uuid"]


# ---- list: 422 -----------------------------------------------------------------------------

def detail(target):
    msg = "Provided connectionId value is not valid." if target == "connectionId" else "Page size is out of limits."
    return {"code": "InvalidValue", "message": msg, "target": target}


def err422(*targets):
    return {"error": {"code": "InvalidManifestConnectionRunsRequest", "message": "Cannot perform operation.",
                      "details": [detail(t) for t in targets]}}


@pytest.mark.parametrize("query,targets", [
    ("?$top=0", ["$top"]),
    ("?$top=1001", ["$top"]),
    ("?$top=-1", ["$top"]),
    ("?$top=abc", ["$top"]),
    ("?$top=", ["$top"]),
    ("?$top=1.5", ["$top"]),
    ("?$skip=-1", ["$skip"]),
    ("?$skip=2147483648", ["$skip"]),
    ("?$skip=99999999999999999999999", ["$skip"]),
    ("?$skip=abc", ["$skip"]),
    ("?$skip=%zz", ["$skip"]),
    ("?$skip=-1&$top=0", ["$skip", "$top"]),
])
def test_bad_paging(srv, five, query, targets):
    cn, _ = five
    r = get(srv, runs_path(cn["uuid"], query))
    assert r.status == 422, r
    assert r.json == err422(*targets)


def test_bad_connection_id(srv):
    for cid in ("not-a-uuid", "123", "5a9c04ef-b1e2-4b70-bee1-2689075fc17"):
        r = get(srv, runs_path(cid))
        assert r.status == 422, r
        assert r.json == err422("connectionId")


def test_422_matches_seed_example(srv):
    r = get(srv, runs_path("nope", "?$skip=-5&$top=5000"))
    assert r.status == 422
    assert r.json == example("itwin-error-422.json")


def test_422_wins_over_404(srv):
    r = get(srv, runs_path(str(uuid.uuid4()), "?$top=0"))
    assert r.status == 422 and r.json == err422("$top")


# ---- 404 / isolation -----------------------------------------------------------------------

def test_404_matches_seed_example(srv):
    r = get(srv, runs_path(str(uuid.uuid4())))
    assert r.status == 404, r
    assert r.json == example("itwin-error-404.json")


def test_other_workspace_connection_is_404(srv, keys, five):
    cn, _ = five
    r = get(srv, runs_path(cn["uuid"]), token=keys["other"])
    assert r.status == 404 and r.json == example("itwin-error-404.json")
    r = get(srv, runs_path(cn["uuid"]) + "/" + five[1][0]["uuid"], token=keys["other"])
    assert r.status == 404 and r.json == example("itwin-error-404.json")


def test_deleted_connection_is_404(srv):
    cn, _ = new_conn(srv, 1)
    srv.ok("DELETE", "/v1/connections/%s" % cn["id"], expect=204)
    r = get(srv, runs_path(cn["uuid"]))
    assert r.status == 404 and r.json == example("itwin-error-404.json")


# ---- auth ----------------------------------------------------------------------------------

def test_401_missing_matches_seed(srv, five):
    cn, _ = five
    r = get(srv, runs_path(cn["uuid"]), token=None)
    assert r.status == 401, r
    assert r.json == example("itwin-error-401.json")


@pytest.mark.parametrize("value", ["Bearer nope", "Bearer ", "Basic !!!", "Token abc", "garbage"])
def test_401_invalid(srv, five, value):
    cn, _ = five
    r = get(srv, runs_path(cn["uuid"]), token=None, headers={"Authorization": value})
    assert r.status == 401, r
    assert r.json["error"]["code"] == "InvalidHeaderValue"
    assert set(r.json) == {"error"} and set(r.json["error"]) == {"code", "message"}


def test_basic_and_bearer(srv, keys, five):
    cn, runs = five
    assert get(srv, runs_path(cn["uuid"]), token=keys["read"]).status == 200
    assert get(srv, runs_path(cn["uuid"]), auth=(keys["read"], "")).status == 200
    assert get(srv, runs_path(cn["uuid"]), auth=("x", keys["read"])).status == 200
    r = get(srv, runs_path(cn["uuid"]) + "/" + runs[0]["uuid"], auth=("", keys["read"]))
    assert r.status == 200


def test_unknown_path_under_prefix_is_itwin_shaped(srv):
    r = get(srv, "/synchronization/imodels/nothing")
    assert r.status == 404
    assert set(r.json["error"]) == {"code", "message"}


# ---- Prefer --------------------------------------------------------------------------------

@pytest.mark.parametrize("prefer,applied,full", [
    (None, None, False),
    ("return=minimal", "return=minimal", False),
    ("return=representation", "return=representation", True),
    ("RETURN = \"representation\"", "return=representation", True),
    ("respond-async, return=representation; foo=bar", "return=representation", True),
    ("garbage", None, False),
    ("return=everything", None, False),
    ("", None, False),
])
def test_prefer(srv, five, prefer, applied, full):
    cn, runs = five
    r = get(srv, runs_path(cn["uuid"], "?$top=1"), prefer=prefer)
    assert r.status == 200, r
    assert r.headers.get("preference-applied") == applied
    run = r.json["runs"][0]
    if full:
        assert run["id"] == runs[-1]["uuid"]
        assert run["connectionId"] == cn["uuid"]
        assert run["jobs"] == [] and run["error"] is None
        assert "endDateTime" not in run and "phase" not in run
    else:
        assert set(run) == {"id", "state", "result"}


# ---- state mapping -------------------------------------------------------------------------

@pytest.mark.parametrize("result,itwin", [
    ("success", "Success"), ("partial", "PartialSuccess"), ("error", "Error"), ("config_error", "Error"),
    ("timed_out", "TimedOut"), ("canceled", "Canceled"),
])
def test_finished_mapping(srv, result, itwin):
    cn, runs = new_conn(srv, 1)
    srv.ok("PATCH", "/v1/runs/%s" % runs[0]["id"], {"state": "working"})
    srv.finish(runs[0]["id"], result)
    r = get(srv, runs_path(cn["uuid"]), prefer="return=representation").json["runs"][0]
    assert (r["state"], r["result"]) == ("Completed", itwin)
    assert r["startDateTime"].endswith("Z") and r["endDateTime"].endswith("Z")


def test_live_and_skipped_mapping(srv):
    cn = srv.create_connection(name="live", overlap="skip")
    a = srv.trigger(cn["id"])                      # queued
    b = srv.trigger(cn["id"])                      # skipped (overlap)
    r = {x["id"]: x for x in get(srv, runs_path(cn["uuid"])).json["runs"]}
    assert (r[a["uuid"]]["state"], r[a["uuid"]]["result"]) == ("Queued", "Undetermined")
    assert (r[b["uuid"]]["state"], r[b["uuid"]]["result"]) == ("Completed", "Skipped")
    srv.ok("PATCH", "/v1/runs/%s" % a["id"], {"state": "working"})
    assert get(srv, runs_path(cn["uuid"]) + "/" + a["uuid"]).json["run"]["state"] == "Executing"
    srv.ok("PATCH", "/v1/runs/%s" % a["id"], {"state": "retrying"})
    one = get(srv, runs_path(cn["uuid"]) + "/" + a["uuid"]).json["run"]
    assert (one["state"], one["result"]) == ("WaitingToRetry", "Undetermined")


# ---- representation with jobs and tasks ----------------------------------------------------

TASK_ERROR = {"phase": "Processing", "system": "Connector", "details": "bad ref", "message": "failed",
              "category": "Input", "errorCode": "E42", "canUserFix": True, "description": "A reference is missing",
              "kbArticleLink": "https://example.com/kb/42", "bridgeExitCode": -3, "descriptionKey": "missing_ref"}


@pytest.fixture(scope="module")
def with_jobs(srv):
    cn, runs = new_conn(srv, 1, "jobs")
    run = runs[0]
    srv.ok("PATCH", "/v1/runs/%s" % run["id"], {"state": "working", "current_step": "MasterFile"})
    j1 = srv.ok("POST", "/v1/runs/%s/jobs" % run["id"],
                {"name": "a", "connector_type": "MSTN", "phase": "MasterFile", "state": "working"}, expect=201)
    j2 = srv.ok("POST", "/v1/runs/%s/jobs" % run["id"], {"name": "b", "connector_type": "NotAConnector"},
                expect=201)
    t1 = srv.ok("POST", "/v1/runs/%s/jobs/%s/tasks" % (run["id"], j1["id"]),
                {"source_file_id": "file-1", "state": "finished", "result": "error", "retry_attempts": 2,
                 "error": TASK_ERROR,
                 "report": {"message": "2 errors", "suggested_action": "Error", "errors": 2, "warnings": 1,
                            "other": 0}}, expect=201)
    t2 = srv.ok("POST", "/v1/runs/%s/jobs/%s/tasks" % (run["id"], j1["id"]),
                {"state": "working", "report": {"errors": 0, "warnings": 3, "other": 4}}, expect=201)
    srv.ok("PATCH", "/v1/runs/%s/jobs/%s" % (run["id"], j1["id"]), {"state": "finished", "result": "partial"})
    srv.finish(run["id"], "partial", error={"code": "SomeKey", "message": "Something broke"})
    return cn, run, j1, j2, t1, t2


def test_representation_jobs_tasks(srv, with_jobs):
    cn, run, j1, j2, t1, t2 = with_jobs
    r = get(srv, runs_path(cn["uuid"]), prefer="return=representation")
    assert r.status == 200 and r.headers["preference-applied"] == "return=representation"
    x = r.json["runs"][0]
    # a finished run has no current step (cleared on finish), hence no phase
    assert list(x) == ["id", "connectionId", "state", "result", "startDateTime", "endDateTime", "error", "jobs"]
    assert x["id"] == run["uuid"] and x["connectionId"] == cn["uuid"]
    assert (x["state"], x["result"]) == ("Completed", "PartialSuccess")
    assert x["error"] == {"errorKey": "SomeKey", "description": "Something broke"}
    a, b = x["jobs"]
    assert a["id"] == j1["id"] and (a["state"], a["result"]) == ("Completed", "PartialSuccess")
    assert a["connectorType"] == "MSTN" and "startDateTime" in a and "endDateTime" in a
    assert set(a) == {"id", "state", "result", "connectorType", "startDateTime", "endDateTime", "tasks"}
    # a connector type outside the seed's enum is left out, never emitted
    assert b["id"] == j2["id"] and "connectorType" not in b
    assert (b["state"], b["result"], b["tasks"]) == ("Queued", "Undetermined", [])
    ta, tb = a["tasks"]
    assert ta["id"] == t1["id"]
    assert (ta["state"], ta["result"], ta["sourceFileId"], ta["retryAttempts"]) == ("Completed", "Error", "file-1", 2)
    assert ta["error"] == TASK_ERROR
    assert ta["details"] == {"synchronizationReport": {
        "message": "2 errors", "suggestedAction": "Error", "totalErrorsCount": 2, "totalWarningsCount": 1,
        "totalOtherIssuesCount": 0}}
    assert tb["id"] == t2["id"] and (tb["state"], tb["result"]) == ("Executing", "Undetermined")
    assert "error" not in tb and "sourceFileId" not in tb and "endDateTime" not in tb
    assert tb["retryAttempts"] == 0
    assert tb["details"] == {"synchronizationReport": {
        "totalErrorsCount": 0, "totalWarningsCount": 3, "totalOtherIssuesCount": 4}}


def test_phase_only_from_enum(srv):
    cn, runs = new_conn(srv, 1)
    srv.ok("PATCH", "/v1/runs/%s" % runs[0]["id"], {"state": "working", "current_step": "MasterFile"})
    x = get(srv, runs_path(cn["uuid"]), prefer="return=representation").json["runs"][0]
    assert x["phase"] == "MasterFile" and x["state"] == "Executing" and "endDateTime" not in x
    srv.ok("PATCH", "/v1/runs/%s" % runs[0]["id"], {"current_step": "Running sync"})
    x = get(srv, runs_path(cn["uuid"]), prefer="return=representation").json["runs"][0]
    assert "phase" not in x


def test_all_emitted_enums_are_seed_values(srv, with_jobs, five):
    for cn in (with_jobs[0], five[0]):
        for x in get(srv, runs_path(cn["uuid"]), prefer="return=representation").json["runs"]:
            assert x["state"] in STATES and x["result"] in RESULTS
            for j in x["jobs"]:
                assert j["state"] in STATES and j["result"] in RESULTS
                for t in j["tasks"]:
                    assert t["state"] in STATES and t["result"] in RESULTS


# ---- single run ----------------------------------------------------------------------------

def test_single_run(srv, with_jobs):
    cn, run, *_ = with_jobs
    r = get(srv, runs_path(cn["uuid"]) + "/" + run["uuid"])
    assert r.status == 200, r
    full = get(srv, runs_path(cn["uuid"]), prefer="return=representation").json["runs"][0]
    assert r.json == {"run": full}
    assert "preference-applied" not in r.headers
    r = get(srv, runs_path(cn["uuid"]) + "/" + run["uuid"].upper(), prefer="return=representation")
    assert r.status == 200 and r.json == {"run": full}
    assert r.headers["preference-applied"] == "return=representation"


def test_single_run_not_found(srv, five, with_jobs):
    cn, runs = five
    not_found = {"error": {"code": "ManifestConnectionRunNotFound",
                           "message": "Requested ManifestConnectionRun is not available."}}
    for rid in (str(uuid.uuid4()), "whatever", str(runs[0]["id"]), with_jobs[1]["uuid"]):
        r = get(srv, runs_path(cn["uuid"]) + "/" + rid)
        assert r.status == 404, (rid, r)
        assert r.json == not_found
    r = get(srv, runs_path(str(uuid.uuid4())) + "/" + runs[0]["uuid"])
    assert r.status == 404 and r.json == example("itwin-error-404.json")
    r = get(srv, runs_path("bad") + "/" + runs[0]["uuid"])
    assert r.status == 422 and r.json == err422("connectionId")
    r = get(srv, runs_path(cn["uuid"]) + "/" + runs[0]["uuid"], token=None)
    assert r.status == 401 and r.json == example("itwin-error-401.json")


# ---- import and round trip -----------------------------------------------------------------

def test_round_trip_minimal_example(srv):
    doc = example("itwin-runs-minimal.json")
    cn, _ = new_conn(srv, 0, "round-trip")
    out = do_import(srv, cn["id"], doc)
    assert out == {"format": "itwin", "imported": 1, "existing": 0}
    r = get(srv, runs_path(cn["uuid"]))
    assert r.status == 200
    assert r.json["runs"] == doc["runs"]
    assert json.dumps(r.json["runs"], sort_keys=True) == json.dumps(doc["runs"], sort_keys=True)
    # _links differ unavoidably:
    # - the host is the one the client addressed (here 127.0.0.1:port), not api.bentley.com over https;
    # - the example's prev ($skip=100) and next ($skip=200) do not follow from its own $skip=0: page 1 has no prev.
    assert r.json["_links"] == {"self": {"href": href(srv, cn["uuid"], 0, 100)}}
    # the imported run answers to its vendor id on the single-run route
    one = get(srv, runs_path(cn["uuid"]) + "/" + doc["runs"][0]["id"])
    assert one.status == 200 and one.json["run"]["id"] == doc["runs"][0]["id"]
    # re-import: idempotent
    assert do_import(srv, cn["id"], doc) == {"format": "itwin", "imported": 0, "existing": 1}
    assert get(srv, runs_path(cn["uuid"])).json["runs"] == doc["runs"]


def test_import_minimal_keeps_order(srv):
    ids = [str(uuid.uuid4()) for _ in range(4)]
    doc = {"runs": [{"id": ids[0], "state": "Executing", "result": "Undetermined"},
                    {"id": ids[1], "state": "Completed", "result": "Error"},
                    {"id": ids[2], "state": "Completed", "result": "Canceled"},
                    {"id": ids[3], "state": "Queued", "result": "Undetermined"}],
           "_links": {"self": {"href": "https://api.bentley.com/x"}}}
    cn, _ = new_conn(srv, 0)
    assert do_import(srv, cn["id"], doc)["imported"] == 4
    assert get(srv, runs_path(cn["uuid"])).json["runs"] == doc["runs"]
    page = get(srv, runs_path(cn["uuid"], "?$skip=1&$top=2")).json["runs"]
    assert page == doc["runs"][1:3]


def test_import_representation_round_trip(srv):
    run_id = "run-" + uuid.uuid4().hex
    doc = {"runs": [{
        "id": run_id, "connectionId": "whatever", "state": "Completed", "result": "PartialSuccess",
        "phase": "ReferenceFile", "startDateTime": "2024-01-02T03:04:05.000Z",
        "endDateTime": "2024-01-02T03:14:05.000Z", "error": {"errorKey": "K", "description": "D"},
        "jobs": [{"id": "job-1", "state": "Completed", "result": "Success", "connectorType": "REVIT",
                  "startDateTime": "2024-01-02T03:04:06.000Z", "endDateTime": "2024-01-02T03:10:00.000Z",
                  "tasks": [{"id": "task-1", "state": "Completed", "result": "Error", "sourceFileId": "f-1",
                             "retryAttempts": 3, "startDateTime": "2024-01-02T03:04:07.000Z",
                             "endDateTime": "2024-01-02T03:05:00.000Z", "error": TASK_ERROR,
                             "details": {"synchronizationReport": {
                                 "message": "m", "suggestedAction": "Warning", "totalErrorsCount": 1,
                                 "totalWarningsCount": 2, "totalOtherIssuesCount": 3}}}]}]}]}
    cn, _ = new_conn(srv, 0)
    assert do_import(srv, cn["id"], doc)["imported"] == 1
    got = get(srv, runs_path(cn["uuid"]), prefer="return=representation").json["runs"][0]
    want = copy.deepcopy(doc["runs"][0])
    want["connectionId"] = cn["uuid"]  # the connection it was imported into
    assert got == want
    assert get(srv, runs_path(cn["uuid"]) + "/" + run_id).json["run"] == want
    # the native API sees the canonical run
    native = srv.ok("GET", "/v1/connections/%s/runs" % cn["id"])["data"][0]
    assert (native["state"], native["result"], native["current_step"]) == ("finished", "partial", "ReferenceFile")
    assert native["started_at"] == "2024-01-02T03:04:05.000Z"
    assert native["completed_at"] == "2024-01-02T03:14:05.000Z"
    assert native["error"]["code"] == "K" and native["error"]["message"] == "D"


def test_imported_ids_do_not_leak_into_other_connections(srv):
    doc = {"runs": [{"id": "shared-id", "state": "Completed", "result": "Success"}]}
    a, _ = new_conn(srv, 0)
    b, brun = new_conn(srv, 1)
    do_import(srv, a["id"], doc)
    assert get(srv, runs_path(b["uuid"]) + "/shared-id").status == 404
    assert get(srv, runs_path(a["uuid"]) + "/shared-id").status == 200
    # the same history can be imported into a second connection
    assert do_import(srv, b["id"], doc)["imported"] == 1


@pytest.mark.parametrize("doc,field", [
    ({}, "runs"),
    ({"runs": {}}, "runs"),
    ({"runs": [{"id": "a", "state": "Completed", "result": "Success"}, 5]}, "runs[1]"),
    ({"runs": [{"state": "Completed", "result": "Success"}]}, "runs[0].id"),
    ({"runs": [{"id": "", "state": "Completed", "result": "Success"}]}, "runs[0].id"),
    ({"runs": [{"id": 7, "state": "Completed", "result": "Success"}]}, "runs[0].id"),
    ({"runs": [{"id": "a", "state": "Completed", "result": "Success"},
               {"id": "b", "state": "Completed", "result": "Success"},
               {"id": "c", "state": "Done", "result": "Success"}]}, "runs[2].state"),
    ({"runs": [{"id": "a", "result": "Success"}]}, "runs[0].state"),
    ({"runs": [{"id": "a", "state": "Completed", "result": "Great"}]}, "runs[0].result"),
    ({"runs": [{"id": "a", "state": "Completed"}]}, "runs[0].result"),
    ({"runs": [{"id": "a", "state": "Completed", "result": "Undetermined"}]}, "runs[0].result"),
    ({"runs": [{"id": "a", "state": "Completed", "result": "Success", "startDateTime": "yesterday"}]},
     "runs[0].startDateTime"),
    ({"runs": [{"id": "a", "state": "Completed", "result": "Success", "phase": "Middle"}]}, "runs[0].phase"),
    ({"runs": [{"id": "a", "state": "Completed", "result": "Success", "error": "x"}]}, "runs[0].error"),
    ({"runs": [{"id": "a", "state": "Completed", "result": "Success", "error": {"errorKey": 1}}]},
     "runs[0].error.errorKey"),
    ({"runs": [{"id": "a", "state": "Completed", "result": "Success", "jobs": {}}]}, "runs[0].jobs"),
    ({"runs": [{"id": "a", "state": "Completed", "result": "Success", "jobs": [{"state": "Nope"}]}]},
     "runs[0].jobs[0].state"),
    ({"runs": [{"id": "a", "state": "Completed", "result": "Success",
                "jobs": [{"state": "Queued", "tasks": [{"state": "Queued", "retryAttempts": -1}]}]}]},
     "runs[0].jobs[0].tasks[0].retryAttempts"),
    ({"runs": [{"id": "a", "state": "Completed", "result": "Success",
                "jobs": [{"state": "Queued", "tasks": [{"state": "Queued", "error": {"canUserFix": "yes"}}]}]}]},
     "runs[0].jobs[0].tasks[0].error.canUserFix"),
    ({"runs": [{"id": "a", "state": "Completed", "result": "Success",
                "jobs": [{"state": "Queued", "tasks": [{"state": "Queued", "details": {
                    "synchronizationReport": {"suggestedAction": "Panic"}}}]}]}]},
     "runs[0].jobs[0].tasks[0].details.synchronizationReport"),
])
def test_import_errors(srv, doc, field):
    cn, _ = new_conn(srv, 0)
    r = srv.request("POST", "/v1/connections/%s/runs:import?format=itwin" % cn["id"], doc)
    assert r.status == 422, r
    assert r.json["error"]["field"] == field, r
    # nothing recorded
    assert srv.ok("GET", "/v1/connections/%s" % cn["id"])["run_count"] == 0
    assert get(srv, runs_path(cn["uuid"])).json["runs"] == []


def test_import_error_names_the_field_with_422(srv):
    cn, _ = new_conn(srv, 0)
    doc = {"runs": [{"id": "a", "state": "Completed", "result": "Success"},
                    {"id": "b", "state": "Completed", "result": "Success"},
                    {"id": "c", "state": 5, "result": "Success"}]}
    r = srv.request("POST", "/v1/connections/%s/runs:import?format=itwin" % cn["id"], doc)
    assert r.status == 422, r
    assert r.json["error"]["field"] == "runs[2].state"
    assert "runs[2].state" in r.json["error"]["message"]


# ---- 429 -----------------------------------------------------------------------------------

def test_rate_limit_429(tmp_path_factory):
    s = make_server(tmp_path_factory, "itwin429", start=False)
    s.extra_args = ["--rate-limit", "itwin=3/60"]
    s.start()
    try:
        cn = s.create_connection(name="rl")
        path = runs_path(cn["uuid"])
        for _ in range(3):
            assert s.request("GET", path).status == 200
        r = s.request("GET", path)
        assert r.status == 429, r
        assert r.json == example("itwin-error-429.json")
        assert int(r.headers["retry-after"]) >= 1
        # the native API is not limited by the itwin limit
        assert s.request("GET", "/v1/connections/%s" % cn["id"]).status == 200
    finally:
        s.stop()


# ---- bounded representation answers -------------------------------------------------------


def big_runs(n_runs, n_jobs, n_tasks, tag):
    """An iTwin list of n_runs runs, newest first, each with n_jobs jobs of n_tasks tasks."""
    task = {"state": "Completed", "result": "Success"}
    return {"runs": [{"id": "%s-%d" % (tag, i), "state": "Completed", "result": "Success",
                      "startDateTime": "2025-01-01T00:%02d:%02dZ" % (59 - i // 60, 59 - i % 60),
                      "jobs": [{"id": "%s-%d-%d" % (tag, i, j), "state": "Completed", "result": "Success",
                                "tasks": [task] * n_tasks} for j in range(n_jobs)]}
                     for i in range(n_runs)]}


def units(run):
    return sum(max(1, len(j["tasks"])) for j in run["jobs"])


def test_representation_page_is_bounded_and_links_the_rest(srv):
    """$top=1000 with the representation used to build every job and task of every run; a page now
    stops before the run that would pass 2,000 tasks, and _links.next continues from there."""
    cn, _ = new_conn(srv, 0, "big-page")
    do_import(srv, cn["id"], big_runs(5, 1, 600, "bp"))
    r = get(srv, runs_path(cn["uuid"], "?$top=1000"), prefer="return=representation")
    assert r.status == 200, r.describe()
    assert r.headers.get("Preference-Applied") == "return=representation"
    assert "syncrun-truncated" not in r.headers
    runs = r.json["runs"]
    assert len(r.raw) < 1024 * 1024, len(r.raw)
    assert [x["id"] for x in runs] == ["bp-0", "bp-1", "bp-2"]
    assert all(len(x["jobs"][0]["tasks"]) == 600 for x in runs)
    assert r.json["_links"]["next"]["href"] == href(srv, cn["uuid"], 3, 1000)
    r = srv.request("GET", r.json["_links"]["next"]["href"].split(str(srv.port), 1)[1],
                    headers={"Prefer": "return=representation"})
    assert r.status == 200, r.describe()
    assert [x["id"] for x in r.json["runs"]] == ["bp-3", "bp-4"]
    assert "next" not in r.json["_links"]
    # the minimal answer is not shortened
    r = get(srv, runs_path(cn["uuid"], "?$top=1000"))
    assert len(r.json["runs"]) == 5 and "next" not in r.json["_links"]


def test_one_run_past_the_limit_says_so(srv):
    """A run with 3,000 tasks is shown with its first 2,000 and a header saying it was cut (no
    Preference-Applied); the native job list pages through all of them."""
    cn, _ = new_conn(srv, 0, "big-run")
    do_import(srv, cn["id"], big_runs(1, 3, 1000, "br"))
    for path in (runs_path(cn["uuid"]), runs_path(cn["uuid"], "/br-0")):
        r = get(srv, path, prefer="return=representation")
        assert r.status == 200, r.describe()
        assert r.headers.get("syncrun-truncated") == "jobs", r.describe()
        assert "Preference-Applied" not in r.headers
        run = r.json["runs"][0] if "runs" in r.json else r.json["run"]
        assert run["id"] == "br-0" and len(run["jobs"]) == 2 and units(run) == 2000
    native = srv.ok("GET", "/v1/connections/%s/runs" % cn["id"], expect=200)["data"][0]
    page = srv.ok("GET", "/v1/runs/%s/jobs" % native["id"], expect=200)
    assert len(page["data"]) == 2 and page["next_cursor"], len(page["data"])
    page2 = srv.ok("GET", "/v1/runs/%s/jobs?cursor=%s" % (native["id"], page["next_cursor"]), expect=200)
    assert len(page2["data"]) == 1 and page2["next_cursor"] is None
    assert all(len(j["tasks"]) == 1000 and "tasks_more" not in j for j in page["data"] + page2["data"])
