"""iTwin Synchronization: starting runs, storage connections and the connection routes, as the
iTwin clients call them (Bentley's synchronization-api-sample-app and the iTwin CLI):

    POST /synchronization/imodels/manifestConnections/{id}/runs      202 + Location | 303 + Location
    POST /synchronization/imodels/storageconnections/{id}/run        (the same, storage-shaped)
    GET  /synchronization/imodels/storageconnections/{id}/runs[/{runId}]
    GET  /synchronization/imodels/{manifest,storage}connections[/{id}]
"""

import threading
import uuid
from urllib.parse import urlsplit

import pytest

BASE = "/synchronization/imodels/"


def path_of(location):
    u = urlsplit(location)
    return u.path + ("?" + u.query if u.query else "")


@pytest.fixture(scope="module")
def srv(server):
    return server


def conn(srv, overlap="queue", name="itwin-runs"):
    return srv.create_connection(name=name, overlap=overlap)


def post_run(srv, cn_uuid, kind="manifestConnections", **kw):
    tail = "/runs" if kind.lower().startswith("manifest") else "/run"
    return srv.request("POST", BASE + kind + "/" + cn_uuid + tail, **kw)


@pytest.mark.parametrize("kind", ["manifestconnections", "manifestConnections", "MANIFESTCONNECTIONS"])
def test_path_case_does_not_matter(srv, kind):
    cn = conn(srv)
    srv.trigger(cn["id"])
    r = srv.request("GET", BASE + kind + "/" + cn["uuid"] + "/runs")
    assert r.status == 200, r
    assert len(r.json["runs"]) == 1


def test_native_paths_stay_case_sensitive(srv):
    assert srv.request("GET", "/V1/connections").status == 404


@pytest.mark.parametrize("overlap", ["queue", "skip", "attach", "replace"])
def test_create_run_202_then_303_to_the_active_run(srv, overlap):
    cn = conn(srv, overlap=overlap)
    r = post_run(srv, cn["uuid"], body={})
    assert r.status == 202, r
    assert r.raw == b""
    loc = r.headers["location"]
    assert loc.startswith("http://127.0.0.1:%d%smanifestconnections/%s/runs/" % (srv.port, BASE, cn["uuid"])), loc
    run = srv.ok("GET", path_of(loc), expect=200)["run"]
    assert run["state"] == "Queued" and run["result"] == "Undetermined"
    assert run["connectionId"] == cn["uuid"]
    # while it is queued (or working) no second run starts, whatever the overlap policy
    r2 = post_run(srv, cn["uuid"])
    assert r2.status == 303, r2
    assert r2.headers["location"] == loc
    native = srv.ok("GET", "/v1/connections/%s/runs" % cn["id"], expect=200)["data"]
    assert [x["uuid"] for x in native] == [run["id"]]
    assert native[0]["trigger"]["tag"] == "API"
    # once it ends, the next request starts a new run
    srv.finish(run["id"])
    r3 = post_run(srv, cn["uuid"])
    assert r3.status == 202, r3
    assert r3.headers["location"] != loc


def test_storage_run_route(srv):
    cn = conn(srv)
    r = post_run(srv, cn["uuid"], kind="storageConnections")
    assert r.status == 202, r
    loc = r.headers["location"]
    assert "/storageconnections/%s/runs/" % cn["uuid"] in loc
    run = srv.ok("GET", path_of(loc), expect=200)["run"]
    assert run["state"] == "Queued"
    r2 = post_run(srv, cn["uuid"], kind="storageconnections")
    assert r2.status == 303 and r2.headers["location"] == loc
    # the manifest route sees the same run
    r3 = post_run(srv, cn["uuid"], kind="manifestconnections")
    assert r3.status == 303 and r3.headers["location"].endswith("/manifestconnections/%s/runs/%s" % (cn["uuid"], run["id"]))


def test_racing_creates_start_one_run(srv):
    cn = conn(srv, overlap="skip")
    results = []

    def go():
        r = post_run(srv, cn["uuid"])
        results.append((r.status, r.headers.get("location")))

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(s for s, _ in results) == [202] + [303] * 7, results
    assert len({loc for _, loc in results}) == 1
    assert srv.ok("GET", "/v1/connections/%s" % cn["id"], expect=200)["run_count"] == 1


def test_create_run_errors(srv, keys):
    cn = conn(srv)
    r = post_run(srv, str(uuid.uuid4()))
    assert r.status == 404 and r.json["error"]["code"] == "ManifestConnectionNotFound", r
    r = post_run(srv, str(uuid.uuid4()), kind="storageconnections")
    assert r.status == 404 and r.json["error"]["code"] == "StorageConnectionNotFound", r
    r = post_run(srv, "not-a-uuid")
    assert r.status == 422 and r.json["error"]["details"][0]["target"] == "connectionId", r
    r = post_run(srv, cn["uuid"], token=keys["read"])
    assert r.status == 403 and r.json["error"]["code"] == "InsufficientPermissions", r
    r = post_run(srv, cn["uuid"], token=None)
    assert r.status == 401 and r.json["error"]["code"] == "HeaderNotFound", r
    r = post_run(srv, cn["uuid"], token=keys["other"])
    assert r.status == 404, r
    assert srv.ok("GET", "/v1/connections/%s" % cn["id"], expect=200)["run_count"] == 0


def test_storage_runs_list_and_get(srv):
    cn = conn(srv)
    ids = []
    for _ in range(3):
        loc = post_run(srv, cn["uuid"], kind="storageconnections").headers["location"]
        run = srv.ok("GET", path_of(loc), expect=200)["run"]
        srv.finish(run["id"])
        ids.append(run["id"])
    r = srv.request("GET", BASE + "storageConnections/%s/runs?$top=2" % cn["uuid"])
    assert r.status == 200, r
    assert [x["id"] for x in r.json["runs"]] == ids[::-1][:2]
    assert "/storageconnections/%s/runs?$skip=2&$top=2" % cn["uuid"] in r.json["_links"]["next"]["href"]
    one = srv.ok("GET", BASE + "storageconnections/%s/runs/%s" % (cn["uuid"], ids[0]), expect=200)["run"]
    assert one["id"] == ids[0] and one["state"] == "Completed" and one["result"] == "Success"
    r = srv.request("GET", BASE + "storageconnections/%s/runs/%s" % (cn["uuid"], uuid.uuid4()))
    assert r.status == 404 and r.json["error"]["code"] == "StorageConnectionRunNotFound", r


def test_connection_get(srv):
    cn = conn(srv, name="Bridge A")
    r = srv.request("GET", BASE + "manifestConnections/" + cn["uuid"])
    assert r.status == 200, r
    c = r.json["connection"]
    assert c["id"] == cn["uuid"] and c["displayName"] == "Bridge A" and c["authenticationType"] == "Service"
    uuid.UUID(c["iModelId"])
    assert "_links" not in c  # no run yet
    loc = post_run(srv, cn["uuid"]).headers["location"]
    c = srv.ok("GET", BASE + "storageconnections/" + cn["uuid"].upper(), expect=200)["connection"]
    assert path_of(c["_links"]["lastRun"]["href"]).endswith(path_of(loc).split("/runs/")[1])
    assert "/storageconnections/" in c["_links"]["lastRun"]["href"]
    r = srv.request("GET", BASE + "manifestconnections/" + str(uuid.uuid4()))
    assert r.status == 404 and r.json["error"]["code"] == "ManifestConnectionNotFound"


def test_connection_list_paging(fresh_server):
    srv = fresh_server
    made = [srv.create_connection(name="c%d" % i) for i in range(5)]
    r = srv.request("GET", BASE + "storageconnections")
    assert r.status == 200, r
    assert [c["id"] for c in r.json["connections"]] == [m["uuid"] for m in made]
    imodel = r.json["connections"][0]["iModelId"]
    assert {c["iModelId"] for c in r.json["connections"]} == {imodel}
    page = srv.ok("GET", BASE + "manifestConnections?imodelId=%s&%%24top=2&%%24skip=2" % imodel, expect=200)
    assert [c["displayName"] for c in page["connections"]] == ["c2", "c3"]
    links = page["_links"]
    assert "$skip=4&$top=2" in links["next"]["href"] and "$skip=0&$top=2" in links["prev"]["href"]
    assert [c["displayName"] for c in srv.ok("GET", path_of(links["next"]["href"]), expect=200)["connections"]] == ["c4"]
    last = srv.ok("GET", BASE + "storageconnections?$skip=4&$top=2", expect=200)
    assert "next" not in last["_links"]
    assert srv.ok("GET", BASE + "storageconnections?$skip=9", expect=200)["connections"] == []
    other = srv.ok("GET", BASE + "storageconnections?imodelId=%s" % uuid.uuid4(), expect=200)
    assert other["connections"] == []
    r = srv.request("GET", BASE + "storageconnections?$top=0&$skip=-1")
    assert r.status == 422, r
    assert sorted(d["target"] for d in r.json["error"]["details"]) == ["$skip", "$top"]


def test_typical_client_sequence(srv):
    """The sample app / CLI: start a run, poll it until it ends, list the runs."""
    cn = conn(srv)
    r = post_run(srv, cn["uuid"], kind="storageconnections")
    assert r.status == 202
    run_path = path_of(r.headers["location"])
    run_id = run_path.rsplit("/", 1)[1]
    states = []
    for step in range(10):
        run = srv.ok("GET", run_path, expect=200)["run"]
        states.append(run["state"])
        if run["state"] == "Completed":
            break
        # the sync reports its progress through the native API as it would from a runner
        if step == 0:
            srv.ok("PATCH", "/v1/runs/%s" % run_id, {"state": "working"}, expect=200)
        elif step == 1:
            srv.finish(run_id)
    assert states == ["Queued", "Executing", "Completed"], states
    runs = srv.ok("GET", BASE + "storageconnections/%s/runs" % cn["uuid"], expect=200)["runs"]
    assert runs[0] == {"id": run_id, "state": "Completed", "result": "Success"}
