"""Census page/per_page/order over 53 runs, and native cursor paging over the same runs."""

import pytest

N = 53


@pytest.fixture(scope="module")
def runs53(server):
    c = server.create_connection(name="census-53", overlap="queue")["id"]
    ids = []
    conn = server.connect()
    try:
        for i in range(N):
            body = {"state": "working"} if i == 0 else {}
            r = server.request("POST", "/v1/connections/%s/runs" % c, body, conn=conn)
            assert r.status == 201, r.describe()
            ids.append(r.json["id"])
    finally:
        conn.close()
    # a few finished ones, for variety (the order is by creation, not by finishing)
    for rid in ids[5:10]:
        server.ok("POST", "/v1/runs/%s/cancel" % rid, expect=200)
    return c, ids


def census_page(srv, c, **q):
    qs = "&".join("%s=%s" % kv for kv in q.items())
    r = srv.request("GET", "/api/v1/syncs/%s/sync_runs%s" % (c, "?" + qs if qs else ""))
    assert r.status == 200, "%s -> %s" % (q, r.describe())
    return r.json


@pytest.mark.parametrize("per_page", [1, 7, 10, 25, 52, 53, 100])
@pytest.mark.parametrize("order", ["desc", "asc"])
def test_every_page(server, runs53, per_page, order):
    c, ids = runs53
    last = -(-N // per_page)
    seen = []
    for page in range(1, last + 2):
        body = census_page(server, c, page=page, per_page=per_page, order=order)
        p = body["pagination"]
        want = {"total_records": N, "per_page": per_page, "page": page, "last_page": last,
                "prev_page": page - 1 if page > 1 else None,
                "next_page": page + 1 if page < last else None}
        assert body["status"] == "success"
        assert p == want, "page %d per_page %d order %s: pagination %s, expected %s" % (page, per_page, order, p, want)
        got = [d["id"] for d in body["data"]]
        if page <= last:
            assert len(got) == (per_page if page < last else N - per_page * (last - 1)), (page, got)
        else:
            assert got == [], "a page past the end is empty"
        seen += got
    assert len(seen) == len(set(seen)), "a run appears on two pages"
    assert sorted(seen) == sorted(ids), "the pages together are exactly all runs"
    assert seen == (ids if order == "asc" else ids[::-1]), "ordered by creation"


def test_page_zero_is_page_one_and_defaults(server, runs53):
    c, ids = runs53
    p0 = census_page(server, c, page=0)
    p1 = census_page(server, c, page=1)
    d = census_page(server, c)
    assert p0 == p1 == d
    assert d["pagination"]["per_page"] == 25 and d["pagination"]["page"] == 1
    assert [x["id"] for x in d["data"]] == ids[::-1][:25]
    desc = census_page(server, c, order="desc", per_page=100)
    assert [x["id"] for x in desc["data"]] == ids[::-1]


def test_census_statuses_in_list(server, runs53):
    c, ids = runs53
    data = census_page(server, c, per_page=100, order="asc")["data"]
    st = {d["id"]: (d["status"], d["canceled"]) for d in data}
    assert st[ids[0]] == ("working", False)
    assert st[ids[1]] == ("queued", False)
    for rid in ids[5:10]:
        assert st[rid] == ("failed", True), (rid, st[rid])


@pytest.mark.parametrize("order", ["desc", "asc"])
def test_native_cursor_paging(server, runs53, order):
    c, ids = runs53
    seen, cursor, pages = [], None, 0
    while True:
        path = "/v1/connections/%s/runs?limit=10&order=%s" % (c, order) + ("&cursor=%s" % cursor if cursor else "")
        body = server.ok("GET", path, expect=200)
        seen += [r["id"] for r in body["data"]]
        cursor = body["next_cursor"]
        pages += 1
        assert pages <= 7, "too many pages"
        if cursor is None:
            break
    assert pages == 6
    assert seen == (ids if order == "asc" else ids[::-1])


def test_native_cursor_is_stable_under_inserts(server):
    """A keyset cursor: runs created while paging (newest first) neither repeat nor hide old ones."""
    c = server.create_connection(name="keyset", overlap="queue")["id"]
    ids = [server.trigger(c, {}, expect=201)["id"] for _ in range(12)]
    page1 = server.ok("GET", "/v1/connections/%s/runs?limit=5" % c, expect=200)
    extra = [server.trigger(c, {}, expect=201)["id"] for _ in range(4)]
    seen, cursor = [r["id"] for r in page1["data"]], page1["next_cursor"]
    while cursor:
        body = server.ok("GET", "/v1/connections/%s/runs?limit=5&cursor=%s" % (c, cursor), expect=200)
        seen += [r["id"] for r in body["data"]]
        cursor = body["next_cursor"]
    assert len(seen) == len(set(seen)), "duplicates across pages: %s" % seen
    assert seen == ids[::-1], "exactly the runs older than page 1's first, in order (new ones %s excluded)" % extra
    # Census counts the new ones
    assert server.ok("GET", "/api/v1/syncs/%s/sync_runs" % c, expect=200)["pagination"]["total_records"] == 16
