"""Workspace isolation: another workspace's key gets 404 for every id of this one, exactly as
for ids that do not exist, changes nothing, and its own lists are empty."""

import pytest


@pytest.fixture(scope="module")
def world(server):
    s = server
    conn = s.create_connection(name="ws1 conn", overlap="queue")
    fin = s.trigger(conn["id"], {"state": "working"}, expect=201)
    s.finish(fin["id"], "success")
    run = s.trigger(conn["id"], {"state": "working"}, expect=201)
    job = s.ok("POST", "/v1/runs/%s/jobs" % run["id"], {"name": "j"}, expect=201)
    task = s.ok("POST", "/v1/runs/%s/jobs/%s/tasks" % (run["id"], job["id"]), {"source_file_id": "f"}, expect=201)
    other = s.new_workspace("ws2")
    other_read = s.new_key("runs:read", other["workspace_id"])
    run = s.get_run(run["id"])
    return dict(conn=conn, run=run, fin=fin, job=job, task=task, other=other["token"], other_read=other_read)


def native_requests(w):
    c, cu = w["conn"]["id"], w["conn"]["uuid"]
    r, ru, f = w["run"]["id"], w["run"]["uuid"], w["fin"]["id"]
    j, t = w["job"]["id"], w["task"]["id"]
    return [
        ("GET", "/v1/connections/%s" % c, None),
        ("GET", "/v1/connections/%s" % cu, None),
        ("PATCH", "/v1/connections/%s" % c, {"name": "stolen"}),
        ("PATCH", "/v1/connections/%s" % cu, {"name": "stolen"}),
        ("DELETE", "/v1/connections/%s" % c, None),
        ("DELETE", "/v1/connections/%s" % cu, None),
        ("GET", "/v1/connections/%s/runs" % c, None),
        ("GET", "/v1/connections/%s/runs" % cu, None),
        ("POST", "/v1/connections/%s/runs" % c, {}),
        ("GET", "/v1/runs/%s" % r, None),
        ("GET", "/v1/runs/%s" % ru, None),
        ("GET", "/v1/runs/%s?wait=30" % r, None),
        ("GET", "/v1/runs/%s" % f, None),
        ("PATCH", "/v1/runs/%s" % r, {"current_step": "stolen"}),
        ("POST", "/v1/runs/%s/finish" % r, {"result": "error"}),
        ("POST", "/v1/runs/%s/cancel" % r, {}),
        ("GET", "/v1/runs/%s/events" % r, None),
        ("GET", "/v1/runs/%s/events" % ru, None),
        ("GET", "/v1/runs/%s/jobs" % r, None),
        ("POST", "/v1/runs/%s/jobs" % r, {"name": "stolen"}),
        ("PATCH", "/v1/runs/%s/jobs/%s" % (r, j), {"state": "finished", "result": "error"}),
        ("POST", "/v1/runs/%s/jobs/%s/tasks" % (r, j), {"source_file_id": "stolen"}),
        ("PATCH", "/v1/runs/%s/jobs/%s/tasks/%s" % (r, j, t), {"retry_attempts": 7}),
    ]


def census_requests(w):
    return [
        ("GET", "/api/v1/syncs/%s/sync_runs" % w["conn"]["id"], None),
        ("GET", "/api/v1/syncs/%s/sync_runs?page=1&per_page=100&order=asc" % w["conn"]["id"], None),
        ("GET", "/api/v1/sync_runs/%s" % w["run"]["id"], None),
        ("GET", "/api/v1/sync_runs/%s" % w["fin"]["id"], None),
    ]


def test_other_workspace_admin_gets_404_everywhere(server, world):
    failures = []
    for method, path, body in native_requests(world):
        r = server.request(method, path, body, token=world["other"], timeout=10)
        if r.status != 404 or not r.json or (r.json.get("error") or {}).get("code") != "not_found":
            failures.append("%s %s -> expected 404 not_found, got\n%s" % (method, path, r.describe()))
    for method, path, body in census_requests(world):
        r = server.request(method, path, body, token=world["other"])
        if r.status != 404 or not r.json or r.json.get("status") != "error" or not isinstance(r.json.get("message"), str):
            failures.append("%s %s -> expected 404 {status: error, message}, got\n%s" % (method, path, r.describe()))
    assert not failures, "\n\n".join(failures)


def test_other_workspace_read_key_gets_404_not_403(server, world):
    failures = []
    for method, path, body in native_requests(world) + census_requests(world):
        if method != "GET":
            continue
        r = server.request(method, path, body, token=world["other_read"], timeout=10)
        if r.status != 404:
            failures.append("%s %s -> expected 404, got\n%s" % (method, path, r.describe()))
    for method, path in [("GET", "/api/v1/sync_runs/%s" % world["run"]["id"])]:
        r = server.request(method, path, auth=("", world["other"]))
        if r.status != 404:
            failures.append("Basic %s %s -> expected 404, got\n%s" % (method, path, r.describe()))
    assert not failures, "\n\n".join(failures)


def test_nothing_changed_in_the_first_workspace(server, world):
    test_other_workspace_admin_gets_404_everywhere(server, world)  # make sure the writes were attempted
    conn = server.ok("GET", "/v1/connections/%s" % world["conn"]["id"], expect=200)
    assert conn["name"] == "ws1 conn" and conn["run_count"] == 2, conn
    run = server.get_run(world["run"]["id"])
    assert run["version"] == world["run"]["version"] and run["state"] == "working", run
    assert run["current_step"] != "stolen"
    jobs = server.ok("GET", "/v1/runs/%s/jobs" % world["run"]["id"], expect=200)["data"]
    assert len(jobs) == 1 and jobs[0]["state"] == world["job"]["state"], jobs
    assert len(jobs[0]["tasks"]) == 1 and jobs[0]["tasks"][0]["retry_attempts"] == world["task"]["retry_attempts"]


def test_other_workspace_lists_are_its_own(server, world):
    r = server.request("GET", "/v1/connections?limit=100", token=world["other"])
    assert r.status == 200 and r.json["data"] == [] and r.json["next_cursor"] is None, r.describe()
    mine = server.create_connection(token=world["other"], name="ws2 conn")
    assert mine["id"] != world["conn"]["id"] and mine["run_count"] == 0
    run = server.trigger(mine["id"], {}, token=world["other"], expect=201)
    lst = server.request("GET", "/v1/connections?limit=100", token=world["other"]).json["data"]
    assert [c["id"] for c in lst] == [mine["id"]]
    census = server.ok("GET", "/api/v1/syncs/%s/sync_runs" % mine["id"], token=world["other"], expect=200)
    assert census["pagination"]["total_records"] == 1 and [d["id"] for d in census["data"]] == [run["id"]]
    # and the first workspace cannot see the second one's
    for path in ["/v1/connections/%s" % mine["id"], "/v1/runs/%s" % run["id"], "/api/v1/sync_runs/%s" % run["id"],
                 "/api/v1/syncs/%s/sync_runs" % mine["id"]]:
        r = server.request("GET", path)
        assert r.status == 404, "%s seen from the first workspace:\n%s" % (path, r.describe())
    first = server.ok("GET", "/v1/connections?limit=100", expect=200)["data"]
    assert mine["id"] not in [c["id"] for c in first]
