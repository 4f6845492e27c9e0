"""Newest first means newest by creation time (issue 10): history imported into a connection that
already has runs sorts by its own timestamps in every dialect and in the native list, and
per_page=1 is the newest run. Before, imported runs were appended after the existing ones, so a
2021 run came out as the "newest"."""

import copy

import pytest

def census_doc(times):
    """A Census list document with one run per creation time (the seed's run as the model)."""
    run = {"id": 0, "created_at": None, "updated_at": None, "completed_at": None, "status": "completed",
           "sync_id": 1, "source_record_count": 10, "records_processed": 10, "records_updated": 10,
           "records_failed": 0, "records_invalid": 0, "error_code": None, "error_message": None,
           "error_detail": None, "canceled": False, "full_sync": False, "scheduled_execution_time": None,
           "sync_trigger_reason": {"ui_tag": "API", "ui_detail": "imported"}}
    data = []
    for i, t in enumerate(times):
        r = copy.deepcopy(run)
        r["id"] = 9000 + i
        r["created_at"] = r["updated_at"] = r["completed_at"] = t
        data.append(r)
    return {"status": "success", "data": data}


@pytest.fixture(scope="module")
def mixed(server):
    """A connection with two runs made now, then three runs of 2021 imported (out of order)."""
    c = server.create_connection(name="creation-order")
    native = []
    for _ in range(2):
        native.append(server.trigger(c["id"], expect=201))
        server.finish(native[-1]["id"], "success")
    before = server.get_run(native[0]["id"])
    doc = census_doc(["2021-10-20T02:51:07.546Z", "2021-10-18T02:51:07.546Z", "2021-10-19T02:51:07.546Z"])
    r = server.request("POST", "/v1/connections/%s/runs:import?format=census" % c["id"], doc)
    assert r.status == 200, r.describe()
    return c, native, before


def test_census_newest_first_by_creation(server, mixed):
    c, native, _ = mixed
    page = server.ok("GET", "/api/v1/syncs/%s/sync_runs?per_page=1" % c["id"], expect=200)
    assert [x["id"] for x in page["data"]] == [native[1]["id"]], page["data"]
    full = server.ok("GET", "/api/v1/syncs/%s/sync_runs?per_page=100" % c["id"], expect=200)["data"]
    created = [x["created_at"] for x in full]
    assert created == sorted(created, reverse=True), created
    asc = server.ok("GET", "/api/v1/syncs/%s/sync_runs?per_page=100&order=asc" % c["id"], expect=200)["data"]
    assert [x["created_at"] for x in asc] == sorted(created), asc
    assert asc[0]["created_at"] == "2021-10-18T02:51:07.546Z"
    assert full[0]["id"] == native[1]["id"] and full[1]["id"] == native[0]["id"]


def test_native_list_by_creation(server, mixed):
    c, native, _ = mixed
    data = server.ok("GET", "/v1/connections/%s/runs?limit=100" % c["id"], expect=200)["data"]
    created = [x["created_at"] for x in data]
    assert created == sorted(created, reverse=True), created
    assert data[0]["id"] == native[1]["id"]
    assert [x["run_count"] for x in data] == [5, 4, 3, 2, 1], "run_count follows creation: %s" % data


def test_itwin_braze_blueconic_by_creation(server, mixed):
    c, native, _ = mixed
    it = server.ok("GET", "/synchronization/imodels/manifestconnections/%s/runs" % c["uuid"], expect=200)["runs"]
    assert it[0]["id"] == native[1]["uuid"], it[0]
    assert len(it) == 5
    bz = server.ok("GET", "/cdi/integrations/%s/job_sync_status" % c["uuid"], expect=200)["results"]
    starts = [x["sync_start_time"] for x in bz]
    assert starts == sorted(starts, reverse=True), starts
    bc = server.ok("GET", "/connections/%s/runs" % c["uuid"], expect=200)["runs"]
    starts = [x["startDate"] for x in bc]
    assert starts == sorted(starts, reverse=True), starts
    assert [x["runCount"] for x in bc] == [5, 4, 3, 2, 1], bc


def test_a_renumbered_run_gets_a_new_version(server, mixed):
    """run_count is in the run's rendering: its ETag must change with it."""
    c, native, before = mixed
    after = server.get_run(native[0]["id"])
    assert after["run_count"] != before["run_count"]
    assert after["version"] != before["version"], (before, after)


def test_importing_in_order_renumbers_nothing(server):
    c = server.create_connection(name="in-order")
    doc = census_doc(["2021-10-18T02:51:07.546Z"])
    server.ok("POST", "/v1/connections/%s/runs:import?format=census" % c["id"], doc, expect=200)
    first = server.ok("GET", "/v1/connections/%s/runs" % c["id"], expect=200)["data"][0]
    run = server.trigger(c["id"], expect=201)
    server.finish(run["id"], "success")
    doc = census_doc(["2021-10-18T02:51:07.546Z"])  # the same run again: nothing new
    doc["data"][0]["id"] = 9000
    server.ok("POST", "/v1/connections/%s/runs:import?format=census" % c["id"], doc, expect=200)
    again = server.get_run(first["id"])
    assert again["version"] == first["version"] and again["run_count"] == 1
