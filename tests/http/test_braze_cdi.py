"""Braze CDI routes around the seed's job_sync_status: trigger a sync, list integrations.

braze-docs _docs/_api/endpoints/cdi/: POST /cdi/integrations/{id}/sync answers 202
{"message": "success"}, 400 Invalid integration ID, 404 Integration not found, 429 Another job is
in progress; GET /cdi/integrations pages 10 integrations with a Link header (no prev without a
cursor, no next on the last page, no Link at all for 10 or fewer). The typical client (the Braze MCP
server's list_integrations / get_integration_job_sync_status tools, a scheduler's hook) triggers,
polls job_sync_status until the newest job is not running, and lists integrations."""

import re
import threading

import pytest

from conftest import make_server

INTEGRATION_KEYS = ["integration_id", "app_group_id", "integration_name", "integration_type", "integration_status",
                    "contact_emails", "last_updated_at", "warehouse_type", "last_job_start_time", "last_job_status",
                    "next_scheduled_run"]
LINK_RE = re.compile(r'^<(/cdi/integrations\?cursor=([A-Za-z0-9_-]+))>; rel="(prev|next)"$')


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = make_server(tmp_path_factory, "braze-cdi", start=False)
    s.extra_args = ["--rate-limit", "braze=0/60"]
    s.start()
    yield s
    s.stop()


def sync(s, uuid, **kw):
    return s.request("POST", "/cdi/integrations/%s/sync" % uuid, **kw)


def links(r):
    if "link" not in r.headers:
        return {}
    out = {}
    for part in r.headers["link"].split(","):
        m = LINK_RE.match(part)
        assert m, "Link part %r is not in Braze's form" % part
        out[m.group(3)] = m.group(1)
    return out


def test_trigger_poll_list_sequence(srv):
    cn = srv.create_connection(name="cdi users", connector_type="snowflake", overlap="queue")
    r = sync(srv, cn["uuid"], headers={"Content-Type": "application/json"})
    assert r.status == 202 and r.json == {"message": "success"}, r.describe()
    # while that job is queued or running: 429, whatever the overlap policy (queue here)
    again = sync(srv, cn["uuid"])
    assert again.status == 429 and again.json == {"message": "Another job is in progress"}, again.describe()
    run = srv.ok("GET", "/v1/connections/%d/runs" % cn["id"], expect=200)["data"]
    assert len(run) == 1 and run[0]["state"] == "queued"
    rid = run[0]["id"]
    for i in range(10):
        st = srv.ok("GET", "/cdi/integrations/%s/job_sync_status" % cn["uuid"], expect=200)
        newest = st["results"][0]
        if newest["job_status"] != "running":
            break
        if i == 1:
            srv.ok("PATCH", "/v1/runs/%d" % rid, {"state": "working", "last_timestamp_synced": "2026-01-02T03:04:05.000Z",
                                                   "counters": {"records_updated": 9}}, expect=200)
        if i == 2:
            srv.finish(rid, "success")
    assert newest["job_status"] == "success" and newest["rows_synced"] == 9
    # the job ended: a new sync may start
    assert sync(srv, cn["uuid"]).status == 202
    listed = srv.ok("GET", "/cdi/integrations", expect=200)
    item = [i for i in listed["results"] if i["integration_id"] == cn["uuid"]][0]
    assert list(item) == INTEGRATION_KEYS
    assert item["integration_name"] == "cdi users" and item["integration_type"] == "snowflake"
    assert item["last_job_status"] == "running"  # the second sync, queued


@pytest.mark.parametrize("overlap", ["skip", "queue", "attach", "replace"])
def test_429_whatever_the_overlap_policy(srv, overlap):
    cn = srv.create_connection(name="ov " + overlap, overlap=overlap)
    run = srv.trigger(cn["id"], {"state": "working"})
    r = sync(srv, cn["uuid"])
    assert r.status == 429 and r.json == {"message": "Another job is in progress"}, r.describe()
    runs = srv.ok("GET", "/v1/connections/%d/runs" % cn["id"], expect=200)["data"]
    assert [x["id"] for x in runs] == [run["id"]] and runs[0]["state"] == "working", "nothing created or canceled"


def test_concurrent_syncs_start_one_job(srv):
    cn = srv.create_connection(name="race", overlap="queue")
    statuses = []

    def go():
        statuses.append(sync(srv, cn["uuid"]).status)

    ts = [threading.Thread(target=go) for _ in range(10)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert sorted(statuses) == [202] + [429] * 9, statuses
    assert len(srv.ok("GET", "/v1/connections/%d/runs" % cn["id"], expect=200)["data"]) == 1


def test_sync_errors(srv):
    cn = srv.create_connection(name="errs")
    other = srv.new_workspace("braze-other")
    for bad in ("nope", "123", "00000000-0000-0000-0000-00000000000g"):
        r = sync(srv, bad)
        assert r.status == 400 and r.json == {"message": "Invalid integration ID"}, r.describe()
    r = sync(srv, "00000000-0000-0000-0000-000000000000")
    assert r.status == 404 and r.json == {"message": "Integration not found"}, r.describe()
    r = sync(srv, cn["uuid"], token=other["token"])
    assert r.status == 404 and r.json == {"message": "Integration not found"}, r.describe()
    r = sync(srv, cn["uuid"], token=None)
    assert r.status == 401 and list(r.json) == ["message"], r.describe()
    r = sync(srv, cn["uuid"], token=srv.new_key("runs:read"))
    assert r.status == 403 and list(r.json) == ["message"], r.describe()
    assert srv.ok("GET", "/v1/connections/%d/runs" % cn["id"], expect=200)["data"] == []


def test_integration_list_pages_with_link(server_factory):
    s = server_factory("braze-list")
    made = [s.create_connection(name="i%02d" % i) for i in range(23)]
    s.request("DELETE", "/v1/connections/%d" % made[4]["id"])
    alive = [m["uuid"] for m in made if m is not made[4]]
    r = s.request("GET", "/cdi/integrations")
    assert r.status == 200 and r.json["message"] == "success"
    assert [i["integration_id"] for i in r.json["results"]] == alive[:10]
    assert set(links(r)) == {"next"}, "no prev without a cursor"
    seen = [i["integration_id"] for i in r.json["results"]]
    pages = [r]
    while "next" in links(pages[-1]):
        pages.append(s.request("GET", links(pages[-1])["next"]))
        assert pages[-1].status == 200
        seen += [i["integration_id"] for i in pages[-1].json["results"]]
    assert seen == alive and len(pages) == 3
    assert set(links(pages[-1])) == {"prev"}, "no next on the last page"
    back = s.request("GET", links(pages[-1])["prev"])
    assert [i["integration_id"] for i in back.json["results"]] == alive[10:20]
    assert set(links(back)) == {"prev", "next"}
    first = s.request("GET", links(back)["prev"])
    assert [i["integration_id"] for i in first.json["results"]] == alive[:10]
    assert set(links(first)) == {"next"}


def test_integration_list_small_has_no_link_and_bad_cursors(server_factory):
    s = server_factory("braze-small")
    cn = s.create_connection(name="only", schedule="0 3 * * *")
    r = s.request("GET", "/cdi/integrations")
    assert r.status == 200 and "link" not in r.headers
    for bad in ("x", "c2tpcDow", "A" * 46, "A" * 300):
        r = s.request("GET", "/cdi/integrations?cursor=" + bad)
        assert r.status == 400 and r.json == {"message": "Invalid cursor"}, r.describe()
    # a job_sync_status cursor does not walk the integration list
    for _ in range(12):
        s.finish(s.trigger(cn["id"])["id"], "success")
    st = s.request("GET", "/cdi/integrations/%s/job_sync_status" % cn["uuid"])
    cur = re.search(r"cursor=([A-Za-z0-9_-]+)", st.headers["link"]).group(1)
    r = s.request("GET", "/cdi/integrations?cursor=" + cur)
    assert r.status == 400 and r.json == {"message": "Invalid cursor"}, r.describe()
    # nor does another workspace's
    other = s.new_workspace("braze-small-other")
    for i in range(11):
        s.create_connection(name="o%d" % i, token=other["token"])
    o = s.request("GET", "/cdi/integrations", token=other["token"])
    cur = re.search(r"cursor=([A-Za-z0-9_-]+)", o.headers["link"]).group(1)
    r = s.request("GET", "/cdi/integrations?cursor=" + cur)
    assert r.status == 400 and r.json == {"message": "Invalid cursor"}, r.describe()


def test_integration_fields_from_the_newest_run(server_factory):
    s = server_factory("braze-fields")
    cn = s.create_connection(name="fields", connector_type="bigquery")
    item = s.ok("GET", "/cdi/integrations", expect=200)["results"][0]
    assert (item["last_job_start_time"], item["last_job_status"], item["last_updated_at"]) == (None, None, None)
    run = s.trigger(cn["id"], {"state": "working"})
    s.ok("PATCH", "/v1/runs/%d" % run["id"], {"last_timestamp_synced": "2026-02-03T04:05:06.000Z"}, expect=200)
    s.finish(run["id"], "partial")
    item = s.ok("GET", "/cdi/integrations", expect=200)["results"][0]
    assert item["last_job_status"] == "partial"
    assert item["last_job_start_time"] == run["started_at"]
    assert item["last_updated_at"] == "2026-02-03T04:05:06.000Z"
    assert item["integration_type"] == "bigquery" and item["integration_status"] == "active"
