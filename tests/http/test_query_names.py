"""Query parameter names are percent-decoded like their values (issue 10): `requests`, `httpx`,
JS `URLSearchParams`, Java and Go send iTwin's `$top` as `%24top`, and a name may be written with
any escape (`per%5Fpage`). Before, such a parameter was silently ignored: the wrong page."""

import urllib.parse

import pytest

ITWIN = "/synchronization/imodels/manifestconnections/"


@pytest.fixture(scope="module")
def conn(server):
    c = server.create_connection(name="query-names")
    for _ in range(3):
        server.finish(server.trigger(c["id"], expect=201)["id"], "success")
    return c


def test_itwin_top_and_skip_as_clients_encode_them(server, conn):
    # what requests/httpx/URLSearchParams produce for {"$top": 1, "$skip": 1}
    q = urllib.parse.urlencode({"$top": 1, "$skip": 1})
    assert q == "%24top=1&%24skip=1"
    r = server.request("GET", ITWIN + conn["uuid"] + "/runs?" + q)
    assert r.status == 200, r.describe()
    assert len(r.json["runs"]) == 1, r.describe()
    plain = server.ok("GET", ITWIN + conn["uuid"] + "/runs?$top=1&$skip=1", expect=200)
    assert r.json["runs"] == plain["runs"]


def test_bad_encoded_name_value_is_still_checked(server, conn):
    r = server.request("GET", ITWIN + conn["uuid"] + "/runs?%24top=0")
    assert r.status == 422, r.describe()


def test_census_per_page_with_an_escaped_name(server, conn):
    body = server.ok("GET", "/api/v1/syncs/%s/sync_runs?per%%5Fpage=1&p%%61ge=2" % conn["id"], expect=200)
    assert body["pagination"]["per_page"] == 1 and body["pagination"]["page"] == 2, body["pagination"]
    assert len(body["data"]) == 1


def test_native_limit_with_an_escaped_name(server, conn):
    body = server.ok("GET", "/v1/connections/%s/runs?%%6Cimit=2" % conn["id"], expect=200)
    assert len(body["data"]) == 2, body
