"""Braze Cloud Data Ingestion dialect: GET /cdi/integrations/{id}/job_sync_status (seed 002).

10 results per page, newest first, opaque signed cursors in a Link header; Braze's error shape
{"message": ...}; the braze import format read back through the dialect."""

import base64
import os
import re
import uuid

import pytest

from conftest import make_server

KEYS = ["job_status", "sync_start_time", "sync_finish_time", "last_timestamp_synced", "rows_synced",
        "rows_failed_with_errors"]
LINK_RE = re.compile(r'^<(/cdi/integrations/([0-9a-f-]{36})/job_sync_status\?cursor=([A-Za-z0-9_-]+))>; rel="(prev|next)"$')


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    """A server whose Braze routes are not rate limited (these tests make hundreds of requests)."""
    s = make_server(tmp_path_factory, "braze", start=False)
    s.extra_args = ["--rate-limit", "braze=0/60"]
    s.start()
    yield s
    s.stop()


def path_of(conn_uuid, cursor=None):
    p = "/cdi/integrations/%s/job_sync_status" % conn_uuid
    return p if cursor is None else p + "?cursor=" + cursor


def links(r):
    """{"prev": path, "next": path} from the Link header (asserting its exact form), or {}."""
    if "link" not in r.headers:
        return {}
    raw = r.headers["link"]
    out = {}
    for part in raw.split(","):
        m = LINK_RE.match(part)
        assert m, "Link part %r of %r is not in the seed's form" % (part, raw)
        assert m.group(4) not in out, raw
        out[m.group(4)] = m.group(1)
    if set(out) == {"prev", "next"}:
        assert raw.index('rel="prev"') < raw.index('rel="next"'), "prev comes first, as in the seed"
    return out


def page(s, path, token=None):
    kw = {} if token is None else {"token": token}
    r = s.request("GET", path, **kw)
    assert r.status == 200, r.describe()
    assert list(r.json) == ["results", "message"] and r.json["message"] == "success", r.json
    for item in r.json["results"]:
        assert list(item) == KEYS, item
    return r


def new_conn(s, token=None, **fields):
    kw = {} if token is None else {"token": token}
    return s.create_connection(**dict(fields, **kw))


def add_runs(s, conn_id, n, result="success"):
    """n finished runs, oldest first; returns their native run objects."""
    out = []
    c = s.connect()
    try:
        for _ in range(n):
            r = s.request("POST", "/v1/connections/%s/runs" % conn_id, {"state": "working"}, conn=c)
            assert r.status == 201, r.describe()
            f = s.request("POST", "/v1/runs/%s/finish" % r.json["id"],
                          {"result": result, "counters": {"records_updated": r.json["run_count"]}}, conn=c)
            assert f.status == 200, f.describe()
            out.append(f.json)
    finally:
        c.close()
    return out


def start_times(r):
    return [x["sync_start_time"] for x in r.json["results"]]


def walk(s, conn_uuid):
    """Follows next from the first page to the end; returns the pages (responses)."""
    pages = [page(s, path_of(conn_uuid))]
    while "next" in links(pages[-1]):
        assert len(pages) < 100
        pages.append(page(s, links(pages[-1])["next"]))
    return pages


# ---- listing and pagination ------------------------------------------------------------------


def test_no_runs(srv):
    cn = new_conn(srv, name="empty")
    r = page(srv, path_of(cn["uuid"]))
    assert r.json == {"results": [], "message": "success"}
    assert "link" not in r.headers


@pytest.mark.parametrize("n", [1, 10])
def test_ten_or_fewer_has_no_link(srv, n):
    cn = new_conn(srv, name="few-%d" % n)
    runs = add_runs(srv, cn["id"], n)
    r = page(srv, path_of(cn["uuid"]))
    assert "link" not in r.headers, r.describe()
    assert len(r.json["results"]) == n
    assert [x["rows_synced"] for x in r.json["results"]] == [x["run_count"] for x in runs][::-1]


def test_eleven(srv):
    cn = new_conn(srv, name="eleven")
    runs = add_runs(srv, cn["id"], 11)
    first = page(srv, path_of(cn["uuid"]))
    assert set(links(first)) == {"next"}, "no prev without a cursor"
    assert len(first.json["results"]) == 10
    assert [x["rows_synced"] for x in first.json["results"]] == list(range(11, 1, -1))
    second = page(srv, links(first)["next"])
    assert set(links(second)) == {"prev"}, "the last page has no next"
    assert [x["rows_synced"] for x in second.json["results"]] == [1]
    back = page(srv, links(second)["prev"])
    assert back.json == first.json
    assert links(back) == {"next": links(first)["next"]}, "the newest page again: no prev"
    assert links(first)["next"].startswith(path_of(cn["uuid"]) + "?cursor=")
    assert links(second)["prev"].startswith(path_of(cn["uuid"]) + "?cursor=")
    assert len(runs) == 11


def test_twenty_five_walk_next_then_prev(srv):
    cn = new_conn(srv, name="twenty-five")
    add_runs(srv, cn["id"], 25)
    pages = walk(srv, cn["uuid"])
    assert [len(p.json["results"]) for p in pages] == [10, 10, 5]
    assert set(links(pages[0])) == {"next"}
    assert set(links(pages[1])) == {"prev", "next"}
    assert set(links(pages[2])) == {"prev"}
    seen = [x["rows_synced"] for p in pages for x in p.json["results"]]
    assert seen == list(range(25, 0, -1)), "all runs, newest first, no duplicates"
    # and back with prev: the same pages, newest first inside each
    back = [pages[-1]]
    while "prev" in links(back[-1]):
        back.append(page(srv, links(back[-1])["prev"]))
    assert [p.json for p in back] == [p.json for p in pages][::-1]
    for p in back:
        counts = [x["rows_synced"] for x in p.json["results"]]
        assert counts == sorted(counts, reverse=True)


def test_runs_added_between_pages(srv):
    cn = new_conn(srv, name="moving")
    add_runs(srv, cn["id"], 25)
    first = page(srv, path_of(cn["uuid"]))
    add_runs(srv, cn["id"], 3)  # 26, 27, 28 arrive while the client pages
    second = page(srv, links(first)["next"])
    add_runs(srv, cn["id"], 2)  # 29, 30
    third = page(srv, links(second)["next"])
    seen = [x["rows_synced"] for p in (first, second, third) for x in p.json["results"]]
    assert seen == list(range(25, 0, -1)), "nothing repeats, nothing disappears"
    assert "next" not in links(third)
    # prev from the second page: the 10 just newer, and a prev to the runs that arrived
    up = page(srv, links(second)["prev"])
    assert [x["rows_synced"] for x in up.json["results"]] == list(range(25, 15, -1))
    assert set(links(up)) == {"prev", "next"}
    top = page(srv, links(up)["prev"])
    assert [x["rows_synced"] for x in top.json["results"]] == [30, 29, 28, 27, 26]
    assert set(links(top)) == {"next"}, "no newer runs: no prev"
    # the first page now starts with the new runs
    assert [x["rows_synced"] for x in page(srv, path_of(cn["uuid"])).json["results"]][:5] == [30, 29, 28, 27, 26]


def test_skipped_runs_are_not_listed(srv):
    cn = new_conn(srv, name="skips", overlap="skip")
    base = "/v1/connections/%s/runs" % cn["id"]
    active = srv.trigger(cn["id"], {"state": "working"})
    for _ in range(12):
        sk = srv.trigger(cn["id"])
        assert sk["result"] == "skipped"
    srv.finish(active["id"], "success")
    r = page(srv, path_of(cn["uuid"]))
    assert len(r.json["results"]) == 1 and r.json["results"][0]["job_status"] == "success"
    assert "link" not in r.headers, "12 skipped + 1 listed: 10 or fewer listed syncs"
    add_runs(srv, cn["id"], 10)  # 11 listed now, with skipped ones in between
    pages = walk(srv, cn["uuid"])
    assert [len(p.json["results"]) for p in pages] == [10, 1]
    assert srv.ok("GET", base + "?limit=100")["data"][-1]["id"] == active["id"]


def test_job_status_mapping_and_fields(srv):
    cn = new_conn(srv, name="mapping", overlap="skip")
    made = {}
    for result in ["success", "partial", "error", "config_error", "timed_out", "canceled"]:
        run = srv.trigger(cn["id"], {"state": "working"})
        srv.ok("PATCH", "/v1/runs/%s" % run["id"], {"last_timestamp_synced": "2024-03-01T10:00:00.123Z"})
        made[result] = srv.finish(run["id"], result, counters={"records_updated": 7, "records_failed": 3})
    retry = srv.trigger(cn["id"], {"state": "working"})
    srv.trigger(cn["id"])  # skipped while `retry` works
    made["retrying"] = srv.ok("PATCH", "/v1/runs/%s" % retry["id"], {"state": "retrying"})
    srv.ok("PATCH", "/v1/connections/%s" % cn["id"], {"overlap": "queue"})
    made["queued"] = srv.trigger(cn["id"])
    assert made["queued"]["state"] == "queued"

    got = page(srv, path_of(cn["uuid"])).json["results"]
    order = ["queued", "retrying", "canceled", "timed_out", "config_error", "error", "partial", "success"]
    want_status = {"queued": "running", "retrying": "running", "canceled": "error", "timed_out": "error",
                   "config_error": "config_error", "error": "error", "partial": "partial", "success": "success"}
    assert [g["job_status"] for g in got] == [want_status[k] for k in order]
    for g, k in zip(got, order):
        run = srv.get_run(made[k]["id"])
        assert g["sync_start_time"] == (run["started_at"] or run["created_at"]), (k, g, run)
        if want_status[k] == "running":
            assert g["sync_finish_time"] is None, (k, g)
            assert g["last_timestamp_synced"] is None
            assert g["rows_synced"] == 0 and g["rows_failed_with_errors"] == 0
        else:
            assert g["sync_finish_time"] == run["completed_at"] and g["sync_finish_time"] is not None
            assert g["last_timestamp_synced"] == "2024-03-01T10:00:00.123Z"
            assert g["rows_synced"] == 7 and g["rows_failed_with_errors"] == 3
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", g["sync_start_time"]), g
    # a queued run has no started_at: its start time is its creation time
    assert srv.get_run(made["queued"]["id"])["started_at"] is None


# ---- errors ----------------------------------------------------------------------------------


def test_integration_id_errors(srv, tmp_path_factory):
    want = {"message": "Invalid integration ID"}
    cn = new_conn(srv, name="ids")
    for bad in ["123", str(cn["id"]), "not-a-uuid", cn["uuid"][:-1], cn["uuid"] + "0", "%20"]:
        r = srv.request("GET", path_of(bad))
        assert (r.status, r.json) == (400, want), (bad, r.describe())
    unknown = srv.request("GET", path_of(str(uuid.uuid4())))
    assert (unknown.status, unknown.json) == (400, want), unknown.describe()
    other = srv.new_workspace("braze-other")
    theirs = new_conn(srv, token=other["token"], name="theirs")
    add_runs_as = srv.request("GET", path_of(theirs["uuid"]), token=other["token"])
    assert add_runs_as.status == 200
    r = srv.request("GET", path_of(theirs["uuid"]))
    assert (r.status, r.json) == (400, want), "another workspace's integration is an unknown one"
    assert r.raw == unknown.raw
    # a UUID in upper case names the same integration
    assert srv.request("GET", path_of(cn["uuid"].upper())).status == 200


def test_cursor_tampering(srv):
    want = (400, {"message": "Invalid cursor"})
    a = new_conn(srv, name="cursor-a")
    b = new_conn(srv, name="cursor-b")
    add_runs(srv, a["id"], 12)
    add_runs(srv, b["id"], 12)
    good = links(page(srv, path_of(a["uuid"])))["next"].split("cursor=")[1]
    other = links(page(srv, path_of(b["uuid"])))["next"].split("cursor=")[1]
    assert page(srv, path_of(a["uuid"], good)).json["results"]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    bad = []
    for i in [0, 1, 5, len(good) // 2, len(good) - 2, len(good) - 1]:
        c = good[i]
        bad.append(good[:i] + alphabet[(alphabet.index(c) + 1) % 64] + good[i + 1:])
    bad += [good[:-1], good[:-4], good[: len(good) // 2], good + "A", good + "AAAA", other, "",
            base64.urlsafe_b64encode(os.urandom(34)).decode().rstrip("="),
            base64.urlsafe_b64encode(os.urandom(34)).decode().rstrip("="),
            "c2tpcDow", "c2tpcDoxMDA=", "%2F%2F", "not a cursor", "x" * 5000]
    for cur in bad:
        r = srv.request("GET", path_of(a["uuid"]) + "?cursor=" + cur.replace(" ", "%20"))
        assert (r.status, r.json) == want, (cur, r.describe())
    # the other integration's cursor still works there
    assert page(srv, path_of(b["uuid"], other)).json["results"]
    # a bad integration id wins over a bad cursor
    r = srv.request("GET", path_of("nope") + "?cursor=" + good)
    assert (r.status, r.json) == (400, {"message": "Invalid integration ID"})


def test_auth(srv):
    cn = new_conn(srv, name="auth")
    add_runs(srv, cn["id"], 2)
    p = path_of(cn["uuid"])
    none = srv.request("GET", p, token=None)
    assert none.status == 401 and list(none.json) == ["message"] and isinstance(none.json["message"], str)
    for hdr in ["Bearer", "Bearer nope", "Basic !!!", "Basic " + base64.b64encode(b"x:y").decode(), "Token abc"]:
        r = srv.request("GET", p, token=None, headers={"Authorization": hdr})
        assert r.status == 401 and list(r.json) == ["message"], (hdr, r.describe())
    bearer = page(srv, p)
    read = srv.new_key("runs:read")
    assert page(srv, p, token=read).json == bearer.json
    assert srv.request("GET", p, auth=(srv.admin_token, "")).json == bearer.json
    assert srv.request("GET", p, auth=("", read)).json == bearer.json


def test_unknown_paths_speak_braze(srv):
    cn = new_conn(srv, name="paths")
    for path in ["/cdi/nothing", "/cdi/integrations/%s" % cn["uuid"], "/cdi/integrations/%s/job_sync_status/x" % cn["uuid"]]:
        r = srv.request("GET", path)
        assert r.status == 404 and list(r.json) == ["message"], (path, r.describe())
    r = srv.request("POST", path_of(cn["uuid"]), {})
    assert r.status == 405 and list(r.json) == ["message"], r.describe()


def test_rate_limit(server_factory):
    s = server_factory("braze-rl", start=False)
    s.extra_args = ["--rate-limit", "braze=3/60"]
    s.start()
    cn = s.create_connection(name="rl")
    p = path_of(cn["uuid"])
    for i in range(3):
        r = s.request("GET", p)
        assert r.status == 200, r.describe()
        assert r.headers["x-ratelimit-limit"] == "3"
        assert r.headers["x-ratelimit-remaining"] == str(2 - i)
        assert int(r.headers["x-ratelimit-reset"]) > 0
    r = s.request("GET", p)
    assert r.status == 429, r.describe()
    assert list(r.json) == ["message"] and "rate limit" in r.json["message"].lower()
    assert int(r.headers["retry-after"]) >= 1
    for h in ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"]:
        assert h in r.headers, h
    assert r.headers["x-ratelimit-remaining"] == "0"
    # per key: another key still has its requests; the native API is not limited
    assert s.request("GET", p, token=s.new_key("runs:read")).status == 200
    assert s.request("GET", "/v1/connections").status == 200


def test_default_rate_limit_is_100_per_minute(server_factory):
    s = server_factory("braze-rl-default")
    cn = s.create_connection(name="rl-default")
    r = s.request("GET", path_of(cn["uuid"]))
    assert r.status == 200 and r.headers["x-ratelimit-limit"] == "100"


# ---- import ----------------------------------------------------------------------------------


def braze_doc():
    rows = []
    statuses = ["success", "partial", "error", "config_error", "success", "success", "error", "partial",
                "success", "success", "config_error", "running"]
    for i, st in enumerate(statuses):
        start = "2024-05-%02dT0%d:15:30.%03dZ" % (i + 1, i % 10, i * 7)
        rows.append({
            "job_status": st,
            "sync_start_time": start,
            "sync_finish_time": None if st == "running" else "2024-05-%02dT0%d:20:00.000Z" % (i + 1, i % 10),
            "last_timestamp_synced": None if i % 4 == 3 or st == "running" else "2024-04-30T23:59:59.%03dZ" % i,
            "rows_synced": 0 if st == "running" else 100 * i,
            "rows_failed_with_errors": 0 if st in ("success", "running") else i + 1,
        })
    rows.reverse()  # Braze lists newest first
    return {"results": rows, "message": "success"}


def test_import_round_trip(srv):
    cn = new_conn(srv, name="imported")
    doc = braze_doc()
    url = "/v1/connections/%s/runs:import?format=braze" % cn["id"]
    out = srv.ok("POST", url, doc, expect=200)
    assert out == {"format": "braze", "imported": 12, "existing": 0}, out
    pages = walk(srv, cn["uuid"])
    got = [x for p in pages for x in p.json["results"]]
    assert got == doc["results"], "field for field, newest first"
    assert set(links(pages[0])) == {"next"}
    # canonical fields
    native = srv.ok("GET", "/v1/connections/%s/runs?limit=100&order=asc" % cn["id"])["data"]
    first = doc["results"][-1]
    assert native[0]["state"] == "finished" and native[0]["result"] == first["job_status"]
    assert native[0]["created_at"] == native[0]["started_at"] == first["sync_start_time"]
    assert native[0]["completed_at"] == first["sync_finish_time"]
    assert native[1]["counters"]["records_processed"] == 100 + 2
    assert native[-1]["state"] == "working" and native[-1]["completed_at"] is None
    # re-import: nothing changes
    again = srv.ok("POST", url, doc, expect=200)
    assert again == {"format": "braze", "imported": 0, "existing": 12}, again
    assert [x for p in walk(srv, cn["uuid"]) for x in p.json["results"]] == got


def test_import_normalises_start_times(srv):
    cn = new_conn(srv, name="imported-tz")
    url = "/v1/connections/%s/runs:import?format=braze" % cn["id"]
    doc = {"results": [{"job_status": "success", "sync_start_time": "2024-01-02T03:04:05+01:00",
                        "sync_finish_time": "2024-01-02T02:05:00Z", "rows_synced": 1, "rows_failed_with_errors": 0,
                        "last_timestamp_synced": None}], "message": "success"}
    assert srv.ok("POST", url, doc, expect=200)["imported"] == 1
    got = page(srv, path_of(cn["uuid"])).json["results"]
    assert got[0]["sync_start_time"] == "2024-01-02T02:04:05.000Z"
    same = {"results": [dict(doc["results"][0], sync_start_time="2024-01-02T02:04:05.000Z")]}
    assert srv.ok("POST", url, same, expect=200) == {"format": "braze", "imported": 0, "existing": 1}


@pytest.mark.parametrize("mutate, field", [
    (lambda d: d["results"][3].update(sync_start_time="yesterday"), "results[3].sync_start_time"),
    (lambda d: d["results"][3].pop("sync_start_time"), "results[3].sync_start_time"),
    (lambda d: d["results"][2].update(job_status="skipped"), "results[2].job_status"),
    (lambda d: d["results"][5].update(rows_synced=-1), "results[5].rows_synced"),
    (lambda d: d["results"][5].update(rows_failed_with_errors="3"), "results[5].rows_failed_with_errors"),
    (lambda d: d["results"][4].update(last_timestamp_synced=12), "results[4].last_timestamp_synced"),
    (lambda d: d["results"][0].update(sync_finish_time="2024-05-01T00:00:00.000Z"), "results[0].sync_finish_time"),
    (lambda d: d["results"][6].update(sync_finish_time="2020-01-01T00:00:00.000Z"), "results[6].sync_finish_time"),
    (lambda d: d["results"].__setitem__(7, "run"), "results[7]"),
    (lambda d: d["results"][8].update(sync_start_time=d["results"][9]["sync_start_time"]), "results[9].sync_start_time"),
    (lambda d: d.pop("results"), "results"),
    (lambda d: d.update(results={}), "results"),
])
def test_import_invalid(srv, mutate, field):
    cn = new_conn(srv, name="bad-import")
    doc = braze_doc()
    # two errors: the first one is named
    doc["results"][11]["job_status"] = "nope"
    mutate(doc)
    r = srv.request("POST", "/v1/connections/%s/runs:import?format=braze" % cn["id"], doc)
    assert r.status in (400, 422), r.describe()
    if field.startswith("results["):
        assert r.status == 422, r.describe()
    assert r.json["error"]["field"] == field, r.describe()
    assert field in r.json["error"]["message"] or field == "results"
    assert page(srv, path_of(cn["uuid"])).json["results"] == [], "nothing recorded"
    assert srv.ok("GET", "/v1/connections/%s" % cn["id"])["run_count"] == 0


def test_import_same_run_twice_in_one_document(srv):
    cn = new_conn(srv, name="dup-import")
    doc = braze_doc()
    doc["results"].append(dict(doc["results"][0]))
    out = srv.ok("POST", "/v1/connections/%s/runs:import?format=braze" % cn["id"], doc, expect=200)
    assert out["imported"] == 12
    assert len([x for p in walk(srv, cn["uuid"]) for x in p.json["results"]]) == 12
