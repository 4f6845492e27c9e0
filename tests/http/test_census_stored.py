"""Census pages read the renderings of finished runs that the store keeps beside them (migration 18,
src/store/sqlite_census.c; made in the background by src/exec/renderer.c): a page is then the same
bytes as rendering each of its runs, before and after the renderings exist, and stays right when
runs change order (history imported out of order renumbers them), when runs go (retention), and
when a kept rendering is of another format."""

import sqlite3
import time

import pytest
from conftest import make_server

PREFIX = b'{"status":"success","data":'
DAY = 86400 * 1000


def wait_for(pred, what, timeout=20.0):
    """Waits (bounded) for the background renderer; the assertion is on the state, not on the time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    pytest.fail("not reached within %ss: %s" % (timeout, what))


def db_query(srv, sql, args=()):
    db = sqlite3.connect("file:%s?mode=ro" % srv.db, uri=True, timeout=5)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def db_write(srv, sql, args=()):
    db = sqlite3.connect(srv.db, timeout=10)
    try:
        with db:
            db.execute(sql, args)
    finally:
        db.close()


def wait_rendered(srv):
    wait_for(lambda: db_query(srv, "SELECT count(*) FROM census_runs_todo")[0][0] == 0, "every finished run rendered")


def stored(srv, conn_id):
    return db_query(srv, "SELECT run_count, run_id FROM census_runs WHERE connection_id = ? ORDER BY run_count",
                    (conn_id,))


def run_bytes(srv, run_id):
    """The run as GET /api/v1/sync_runs/{id} renders it (from its row), as bytes."""
    r = srv.request("GET", "/api/v1/sync_runs/%s" % run_id)
    assert r.status == 200, r.describe()
    assert r.raw.startswith(PREFIX) and r.raw.endswith(b"}\n"), r.describe()
    return r.raw[len(PREFIX):-2]


def check_page(srv, conn_id, query="per_page=100"):
    """The page's data is, byte for byte, each of its runs as rendered alone, in the page's order."""
    r = srv.request("GET", "/api/v1/syncs/%s/sync_runs?%s" % (conn_id, query))
    assert r.status == 200, r.describe()
    ids = [d["id"] for d in r.json["data"]]
    start = r.raw.index(b',"data":[') + len(b',"data":[')
    assert r.raw[start:] == b",".join(run_bytes(srv, i) for i in ids) + b"]}\n", r.describe()
    return ids


def census_run(i, created_ms, status="completed"):
    t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created_ms / 1000)) + ".000Z"
    return {"id": 7000 + i, "created_at": t, "updated_at": t, "completed_at": t, "status": status,
            "records_processed": i, "sync_trigger_reason": {"ui_tag": "API", "ui_detail": "imported %d" % i}}


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = make_server(tmp_path_factory, "census-stored", start=False)
    s.extra_args = ["--prune-interval", "1"]
    s.start()
    yield s
    s.stop()


def test_pages_are_the_runs_rendered_alone_before_and_after_rendering(srv):
    c = srv.create_connection(name="stored", overlap="queue")["id"]
    runs = [srv.trigger(c, expect=201)["id"] for _ in range(6)]
    srv.finish(runs[0], "success")
    srv.finish(runs[1], "error")  # no error of its own: Census's texts
    srv.finish(runs[2], "error", error={"code": "E_DEST", "message": "HTTP 429 \"slow down\"", "detail": "é\u2028"})
    srv.ok("POST", "/v1/runs/%s/cancel" % runs[3], expect=200)
    srv.ok("PATCH", "/v1/runs/%s" % runs[4], {"state": "working", "message": "loading"}, expect=200)
    # runs[4] works and runs[5] is queued: live runs are rendered by the page, around stored ones
    check_page(srv, c)
    wait_rendered(srv)
    assert [rid for _, rid in stored(srv, c)] == runs[:4], "the finished runs are kept rendered, the live ones not"
    for q in ("per_page=100", "per_page=2&page=2", "per_page=3&order=asc", "per_page=1&page=6"):
        check_page(srv, c, q)
    srv.finish(runs[4], "partial")
    wait_rendered(srv)
    assert [rid for _, rid in stored(srv, c)] == runs[:5]
    check_page(srv, c)


def test_a_page_reads_the_kept_rendering_of_its_format_only(srv):
    c = srv.create_connection(name="stored-format")["id"]
    run = srv.trigger(c, expect=201)["id"]
    srv.finish(run, "success")
    wait_rendered(srv)
    assert [rid for _, rid in stored(srv, c)] == [run]
    db_write(srv, "UPDATE census_runs SET body = CAST(? AS BLOB) WHERE run_id = ?", ('{"id":%d,"kept":1}' % run, run))
    page = srv.ok("GET", "/api/v1/syncs/%s/sync_runs" % c, expect=200)
    assert page["data"] == [{"id": run, "kept": 1}], "the page is the kept rendering, not a new one"
    db_write(srv, "UPDATE census_runs SET format = format + 1 WHERE run_id = ?", (run,))
    assert check_page(srv, c) == [run], "a rendering of another format is never served"


def test_history_imported_out_of_order_moves_the_kept_renderings(srv):
    """Importing older history renumbers the connection's runs (run_count follows creation): the
    renderings kept at the old positions must not be served at the new ones."""
    c = srv.create_connection(name="stored-import")["id"]
    native = []
    for _ in range(2):
        native.append(srv.trigger(c, expect=201)["id"])
        srv.finish(native[-1], "success")
    wait_rendered(srv)
    assert len(stored(srv, c)) == 2
    now = int(time.time() * 1000)
    doc = {"status": "success", "data": [census_run(i, now - (10 - i) * DAY) for i in (3, 1, 2)]}
    srv.ok("POST", "/v1/connections/%s/runs:import?format=census" % c, doc, expect=200)
    ids = check_page(srv, c)
    assert ids[:2] == native[::-1] and len(ids) == 5
    wait_rendered(srv)
    kept = stored(srv, c)
    assert [rc for rc, _ in kept] == [1, 2, 3, 4, 5]
    assert [rid for _, rid in kept] == ids[::-1], "each position holds its own run's rendering"
    assert check_page(srv, c) == ids
    assert check_page(srv, c, "per_page=2&page=2&order=asc") == ids[::-1][2:4]


def test_pruned_runs_take_their_renderings_with_them(srv):
    c = srv.create_connection(name="stored-pruned")["id"]
    now = int(time.time() * 1000)
    doc = {"status": "success", "data": [census_run(i, now - 100 * DAY + i * 1000) for i in range(1, 9)]}
    srv.ok("POST", "/v1/connections/%s/runs:import?format=census" % c, doc, expect=200)
    wait_rendered(srv)
    assert len(stored(srv, c)) == 8
    srv.ok("PATCH", "/v1/connections/%s" % c, {"retention_keep_last": 3}, expect=200)
    wait_for(lambda: srv.ok("GET", "/v1/connections/%s" % c, expect=200)["runs_pruned"] == 5, "5 runs pruned")
    assert [rc for rc, _ in stored(srv, c)] == [6, 7, 8]
    assert len(check_page(srv, c)) == 3


def writes_ok(srv):
    r = srv.request("GET", "/metrics")
    assert r.status == 200, r.describe()
    for line in r.raw.decode().splitlines():
        if line.startswith('syncrun_store_writes_total{outcome="ok"}'):
            return float(line.split()[-1])
    pytest.fail("no syncrun_store_writes_total in /metrics")


def test_an_idle_server_makes_no_rendering_writes(tmp_path_factory):
    """The renderer sleeps until a commit changes runs: it used to ask the writer for an (empty) batch
    four times a second for as long as the server ran."""
    s = make_server(tmp_path_factory, "census-idle")
    try:
        c = s.create_connection(name="idle")["id"]
        s.finish(s.trigger(c, expect=201)["id"], "success")
        wait_rendered(s)
        # nothing changes from here on: after at most a last look, the writer's count of applied writes
        # stays where it is (it grew by about four a second before)
        for _ in range(10):
            before = writes_ok(s)
            time.sleep(1.0)
            after = writes_ok(s)
            if after == before:
                break
        assert after == before, "an idle server kept writing"
        # and a run that finishes later is still rendered without a request asking for it
        run = s.trigger(c, expect=201)["id"]
        s.finish(run, "error")
        wait_rendered(s)
        assert [rid for _, rid in stored(s, c)][-1] == run
    finally:
        s.stop()
