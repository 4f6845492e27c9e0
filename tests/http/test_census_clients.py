"""Census clients against syncrun: the routes they call around the seeds' sync-run reads.

What the public Census clients call (read from their source, not copied):
- Airflow (sutrolabs/airflow-provider-census): CensusHook.trigger_sync POSTs
  /api/v1/syncs/{id}/trigger with no body and a Bearer token, reads data.sync_run_id; the
  CensusSensor/CensusTrigger poll GET /api/v1/sync_runs/{id} until data.status is "completed" or
  "failed" and print data.error_message (or error_detail) on failure.
- Dagster (dagster-census): HTTP Basic ("bearer", key) and Content-Type application/json;version=2;
  GET /syncs/{id} -> source_attributes.connection_id / destination_attributes.connection_id ->
  GET /sources/{id} (name, type) and /destinations/{id} (name); POST /syncs/{id}/trigger with the
  JSON body {"force_full_sync": bool}; polls /sync_runs/{id} while data.status is queued or working;
  slices records_* and full_sync; lists GET /syncs and follows pagination.last_page with ?page=N,
  reading id, label, source/destination connection_id and mappings[].to.
- Prefect (prefect-census): POST /api/v1/syncs/{id}/trigger without a body, polls
  /api/v1/sync_runs/{id} until completed or failed.
"""

import threading

import pytest

from conftest import make_server

SYNC_KEYS = ["id", "label", "schedule_frequency", "schedule_day", "schedule_hour", "schedule_minute",
             "cron_expression", "created_at", "updated_at", "operation", "paused", "status",
             "lead_union_insert_to", "trigger_on_dbt_cloud_rebuild", "field_behavior", "field_normalization",
             "mirror_strategy", "failed_run_notifications_enabled", "failed_record_notifications_enabled",
             "failed_record_notifications_threshold_percent", "source_attributes", "destination_attributes",
             "mappings"]
SEED_STEPS = {"Checking for columns to remove from the sync", "Checking for fields to create in destination",
              "Checking source and destination configuration", "Unloading data from warehouse",
              "Loading data into destination service", "Committing data to destination service",
              "Committing sync to warehouse", "Running sync"}


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = make_server(tmp_path_factory, "census-clients", start=False)
    s.extra_args = ["--rate-limit", "census=0/60"]
    s.start()
    yield s
    s.stop()


def trigger(s, sync_id, query="", **kw):
    r = s.request("POST", "/api/v1/syncs/%s/trigger%s" % (sync_id, query), **kw)
    assert r.status == 200, r.describe()
    assert list(r.json) == ["status", "data"] and r.json["status"] == "success", r.json
    assert list(r.json["data"]) == ["sync_run_id"] and isinstance(r.json["data"]["sync_run_id"], int), r.json
    return r.json["data"]["sync_run_id"]


def sync_run(s, run_id, **kw):
    r = s.request("GET", "/api/v1/sync_runs/%s" % run_id, **kw)
    assert r.status == 200, r.describe()
    return r.json["data"]


def drive(s, run_id, result="success", **finish):
    """What the sync's reporter does: start the run, report a step and counters, finish it."""
    s.ok("PATCH", "/v1/runs/%s" % run_id, {"state": "working", "current_step": "Loading data into destination service",
                                            "counters": {"source_record_count": 5, "records_processed": 5,
                                                         "records_updated": 4, "records_failed": 1,
                                                         "source_record_invalids": 2}}, expect=200)
    s.finish(run_id, result, **finish)


def poll_until_done(s, run_id, on_each=None, limit=20, **kw):
    """The Airflow sensor / Prefect loop: read until completed or failed."""
    for i in range(limit):
        data = sync_run(s, run_id, **kw)
        assert data["id"] == run_id
        if data["status"] in ("completed", "failed"):
            return data
        assert data["status"] in ("queued", "working"), data
        if on_each is not None:
            on_each(i)
    pytest.fail("run %s never ended" % run_id)


def test_airflow_sequence_trigger_poll_list(srv):
    cn = srv.create_connection(name="airflow sync", source="warehouse.users", destination="crm.Contact")
    run_id = trigger(srv, cn["id"])  # no body, Bearer token, as CensusHook.trigger_sync
    data = poll_until_done(srv, run_id, on_each=lambda i: drive(srv, run_id) if i == 1 else None)
    assert data["status"] == "completed" and data["sync_id"] == cn["id"]
    assert data["sync_trigger_reason"]["ui_tag"] == "API"
    listed = srv.ok("GET", "/api/v1/syncs/%d/sync_runs" % cn["id"], expect=200)
    assert [d["id"] for d in listed["data"]] == [run_id]


def test_dagster_sequence_with_basic_auth_and_json_body(srv):
    cn = srv.create_connection(name="dagster sync", source="snowflake.orders", destination="braze.users",
                               connector_type="snowflake")
    auth = ("bearer", srv.admin_token)  # HTTPBasicAuth("bearer", api_key)
    hdrs = {"Content-Type": "application/json;version=2"}
    sync = srv.request("GET", "/api/v1/syncs/%d" % cn["id"], token=None, auth=auth, headers=hdrs)
    assert sync.status == 200, sync.describe()
    src_id = sync.json["data"]["source_attributes"]["connection_id"]
    dst_id = sync.json["data"]["destination_attributes"]["connection_id"]
    source = srv.request("GET", "/api/v1/sources/%d" % src_id, token=None, auth=auth, headers=hdrs)
    dest = srv.request("GET", "/api/v1/destinations/%d" % dst_id, token=None, auth=auth, headers=hdrs)
    assert source.status == 200 and dest.status == 200, (source.describe(), dest.describe())
    assert source.json["data"]["name"] == "snowflake.orders" and source.json["data"]["type"] == "snowflake"
    assert dest.json["data"]["name"] == "braze.users"
    run_id = trigger(srv, cn["id"], token=None, auth=auth, headers=hdrs, body='{"force_full_sync": true}')
    data = poll_until_done(srv, run_id, on_each=lambda i: drive(srv, run_id) if i == 0 else None,
                           token=None, auth=auth)
    assert data["full_sync"] is True
    for k in ("source_record_count", "records_processed", "records_updated", "records_failed", "records_invalid"):
        assert isinstance(data[k], int), k
    # the workspace walk: page 1, then pages 2..last_page
    first = srv.request("GET", "/api/v1/syncs", token=None, auth=auth, headers=hdrs)
    assert first.status == 200, first.describe()
    ids = [d["id"] for d in first.json["data"]]
    for p in range(2, first.json["pagination"]["last_page"] + 1):
        ids += [d["id"] for d in srv.ok("GET", "/api/v1/syncs?page=%d" % p, expect=200)["data"]]
    assert cn["id"] in ids
    for d in first.json["data"]:
        assert d["label"] and isinstance(d["mappings"], list)


def test_prefect_sequence_failed_run_has_error_to_print(srv):
    cn = srv.create_connection(name="prefect sync")
    run_id = trigger(srv, cn["id"])
    srv.ok("PATCH", "/v1/runs/%d" % run_id, {"state": "working"}, expect=200)
    srv.finish(run_id, "timed_out")
    data = poll_until_done(srv, run_id)
    assert data["status"] == "failed"
    assert data["error_code"] == "timed_out" and "timed out" in data["error_message"]


@pytest.mark.parametrize("how", ["query", "body"])
def test_force_full_sync(srv, how):
    cn = srv.create_connection(name="full " + how)
    if how == "query":
        run_id = trigger(srv, cn["id"], "?force_full_sync=true")
    else:
        run_id = trigger(srv, cn["id"], body={"force_full_sync": True})
    assert sync_run(srv, run_id)["full_sync"] is True
    srv.finish(run_id, "success")
    plain = trigger(srv, cn["id"], "?force_full_sync=false")
    assert sync_run(srv, plain)["full_sync"] is False


def test_trigger_bad_input_changes_nothing(srv):
    cn = srv.create_connection(name="bad input")
    for path, body in [("?force_full_sync=maybe", None), ("", {"force_full_sync": "yes"}), ("", {"full": True}),
                       ("", "not json")]:
        r = srv.request("POST", "/api/v1/syncs/%d/trigger%s" % (cn["id"], path), body=body)
        assert r.status == 400, r.describe()
        assert r.json["status"] == "error" and r.json["message"], r.json
    assert srv.ok("GET", "/api/v1/syncs/%d/sync_runs" % cn["id"], expect=200)["pagination"]["total_records"] == 0


def test_overlap_policies(srv):
    """skip: the skipped run's id (Census records skipped runs); attach: the running run's id;
    queue: a new queued run's id."""
    skip = srv.create_connection(name="ov skip", overlap="skip")
    first = trigger(srv, skip["id"])
    second = trigger(srv, skip["id"])
    assert second != first and sync_run(srv, second)["status"] == "skipped"
    attach = srv.create_connection(name="ov attach", overlap="attach")
    a1 = trigger(srv, attach["id"])
    assert trigger(srv, attach["id"]) == a1
    queue = srv.create_connection(name="ov queue", overlap="queue")
    q1 = trigger(srv, queue["id"])
    q2 = trigger(srv, queue["id"])
    assert q2 != q1 and sync_run(srv, q2)["status"] == "queued"


def test_idempotency_key(srv):
    cn = srv.create_connection(name="idem", overlap="queue")
    h = {"Idempotency-Key": "airflow-try-1"}
    a = trigger(srv, cn["id"], headers=h)
    b = srv.request("POST", "/api/v1/syncs/%d/trigger" % cn["id"], headers=h)
    assert b.status == 200 and b.json["data"]["sync_run_id"] == a
    assert b.headers.get("idempotent-replayed") == "true"
    other = srv.request("POST", "/api/v1/syncs/%d/trigger?force_full_sync=true" % cn["id"], headers=h)
    assert other.status == 422 and other.json["status"] == "error", other.describe()
    assert srv.ok("GET", "/api/v1/syncs/%d/sync_runs" % cn["id"], expect=200)["pagination"]["total_records"] == 1


def test_concurrent_triggers_of_attach_name_one_run(srv):
    cn = srv.create_connection(name="attach race", overlap="attach")
    ids, errs = [], []

    def go():
        try:
            ids.append(trigger(srv, cn["id"]))
        except AssertionError as e:  # pragma: no cover - reported below
            errs.append(e)

    ts = [threading.Thread(target=go) for _ in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errs and len(set(ids)) == 1, (ids, errs)


def test_failed_runs_always_carry_error_code_and_message(srv):
    cn = srv.create_connection(name="failures", overlap="queue")
    cases = {}
    for result in ("error", "config_error", "timed_out"):
        rid = trigger(srv, cn["id"])
        srv.finish(rid, result)
        cases[result] = rid
    cx = trigger(srv, cn["id"])
    srv.ok("POST", "/v1/runs/%d/cancel" % cx, {}, expect=200)
    cases["canceled"] = cx
    own = trigger(srv, cn["id"])
    srv.finish(own, "error", error={"code": "JSON_ARRAY_ERROR", "message": "bad array"})
    for result, rid in cases.items():
        d = sync_run(srv, rid)
        assert d["status"] == "failed" and d["error_code"] == result, d
        assert isinstance(d["error_message"], str) and d["error_message"], d
    assert "canceled" in sync_run(srv, cx)["error_message"] and sync_run(srv, cx)["canceled"] is True
    d = sync_run(srv, own)
    assert (d["error_code"], d["error_message"]) == ("JSON_ARRAY_ERROR", "bad array")
    ok = trigger(srv, cn["id"])
    srv.finish(ok, "success")
    d = sync_run(srv, ok)
    assert d["error_code"] is None and d["error_message"] is None
    # the list renders the same
    rows = {r["id"]: r for r in srv.ok("GET", "/api/v1/syncs/%d/sync_runs?per_page=100" % cn["id"], expect=200)["data"]}
    assert rows[cx]["error_code"] == "canceled" and rows[cx]["error_message"] == sync_run(srv, cx)["error_message"]


def test_records_invalid_is_source_record_invalids(srv):
    cn = srv.create_connection(name="invalids")
    rid = trigger(srv, cn["id"])
    srv.ok("PATCH", "/v1/runs/%d" % rid, {"counters": {"source_record_invalids": 7}}, expect=200)
    d = sync_run(srv, rid)
    assert d["source_record_invalids"] == 7 and d["records_invalid"] == 7


@pytest.mark.parametrize("step,shown", [
    ("Running Sync", "Running sync"),
    ("Unloading data from warehouse", "Unloading data from warehouse"),
    ("extracting rows from snowflake", "Unloading data from warehouse"),
    ("commit batch", "Committing data to destination service"),
    ("step 4 of 9", "Running sync"),
])
def test_current_step_shows_only_seed_values(srv, step, shown):
    cn = srv.create_connection(name="steps " + step)
    rid = trigger(srv, cn["id"])
    srv.ok("PATCH", "/v1/runs/%d" % rid, {"state": "working", "current_step": step}, expect=200)
    d = sync_run(srv, rid)
    assert d["current_step"] == shown and d["current_step"] in SEED_STEPS
    assert srv.ok("GET", "/api/v1/syncs/%d/sync_runs" % cn["id"], expect=200)["data"][0]["current_step"] == shown


def test_sync_list_paging_and_shape(server_factory):
    s = server_factory("census-syncs")
    made = [s.create_connection(name="s%d" % i, source="src%d" % i, destination="dst%d" % i) for i in range(5)]
    sched = s.create_connection(name="scheduled", schedule="0 3 * * *")
    expr = s.create_connection(name="weekdays", schedule="0 9 * * 1-5")
    paris = s.create_connection(name="paris", schedule="0 3 * * *", timezone="Europe/Paris")
    made += [sched, expr, paris]
    failing = made[1]["id"]
    rid = s.trigger(failing)["id"]
    s.finish(rid, "error")
    done = made[2]["id"]
    s.finish(s.trigger(done)["id"], "success")
    s.request("DELETE", "/v1/connections/%d" % made[0]["id"])
    alive = [m["id"] for m in made[1:]]

    desc = s.ok("GET", "/api/v1/syncs?per_page=2", expect=200)
    assert desc["pagination"] == {"total_records": 7, "per_page": 2, "prev_page": None, "page": 1, "next_page": 2,
                                  "last_page": 4}
    got = []
    for p in (1, 2, 3, 4):
        got += [d["id"] for d in s.ok("GET", "/api/v1/syncs?per_page=2&page=%d" % p, expect=200)["data"]]
    assert got == sorted(alive, reverse=True), "newest first by default, deleted ones left out"
    asc = []
    for p in (1, 2, 3, 4):
        asc += [d["id"] for d in s.ok("GET", "/api/v1/syncs?per_page=2&order=asc&page=%d" % p, expect=200)["data"]]
    assert asc == sorted(alive)
    past = s.ok("GET", "/api/v1/syncs?per_page=2&page=9", expect=200)
    assert past["data"] == [] and past["pagination"]["prev_page"] == 4

    by_id = {d["id"]: d for d in s.ok("GET", "/api/v1/syncs?per_page=100", expect=200)["data"]}
    for d in by_id.values():
        assert list(d) == SYNC_KEYS, list(d)
        assert d["source_attributes"]["connection_id"] == d["id"] == d["destination_attributes"]["connection_id"]
    assert by_id[failing]["status"] == "Failing"
    assert by_id[done]["status"] == "Up to Date"
    assert by_id[made[3]["id"]]["status"] == "Ready"
    assert by_id[made[3]["id"]]["label"] == "s3"
    assert by_id[made[3]["id"]]["source_attributes"]["object"]["name"] == "src3"
    assert by_id[made[3]["id"]]["destination_attributes"]["object"] == "dst3"
    assert (by_id[made[3]["id"]]["schedule_frequency"], by_id[made[3]["id"]]["cron_expression"]) == ("never", None)
    d = by_id[sched["id"]]
    assert (d["schedule_frequency"], d["schedule_day"], d["schedule_hour"], d["schedule_minute"],
            d["cron_expression"]) == ("daily", None, 3, 0, None)
    d = by_id[expr["id"]]
    assert (d["schedule_frequency"], d["schedule_hour"], d["cron_expression"]) == ("expression", None, "0 9 * * 1-5")
    d = by_id[paris["id"]]
    assert (d["schedule_frequency"], d["cron_expression"]) == ("expression", "0 3 * * *"), "Census runs in UTC"
    one = s.ok("GET", "/api/v1/syncs/%d" % failing, expect=200)
    assert one == {"status": "success", "data": by_id[failing]}


def test_errors_in_census_shape(srv):
    cn = srv.create_connection(name="errs")
    other = srv.new_workspace("census-other")
    for method, path in [("POST", "/api/v1/syncs/999999/trigger"), ("POST", "/api/v1/syncs/abc/trigger"),
                         ("GET", "/api/v1/syncs/999999"), ("GET", "/api/v1/syncs/0"),
                         ("GET", "/api/v1/sources/999999"), ("GET", "/api/v1/destinations/999999")]:
        r = srv.request(method, path)
        assert r.status == 404 and r.json["status"] == "error" and r.json["message"].endswith("not found"), r.describe()
    # another workspace's key does not see this sync
    for method, path in [("POST", "/api/v1/syncs/%d/trigger" % cn["id"]), ("GET", "/api/v1/syncs/%d" % cn["id"]),
                         ("GET", "/api/v1/sources/%d" % cn["id"])]:
        r = srv.request(method, path, token=other["token"])
        assert r.status == 404 and r.json["status"] == "error", r.describe()
    for q in ("per_page=0", "per_page=101", "page=x", "order=up"):
        r = srv.request("GET", "/api/v1/syncs?" + q)
        assert r.status == 400 and r.json["status"] == "error", r.describe()
    for method, path in [("POST", "/api/v1/syncs/%d/trigger" % cn["id"]), ("GET", "/api/v1/syncs")]:
        r = srv.request(method, path, token=None)
        assert r.status == 401 and r.json["status"] == "error", r.describe()
    read = srv.new_key("runs:read")
    r = srv.request("POST", "/api/v1/syncs/%d/trigger" % cn["id"], token=read)
    assert r.status == 403 and r.json["status"] == "error", r.describe()
