"""GET /synchronization/imodels/connections: Bentley's list of an iModel's connections of every kind,
the first call of iTwin's synchronization-api-sample-app (ConnectionsService.getConnections, which
finds its connection there by displayName). Found by running that app's client against syncrun."""

import uuid
from urllib.parse import urlsplit

BASE = "/synchronization/imodels/"


def test_connections_list_is_the_storage_list_linked_to_itself(fresh_server):
    srv = fresh_server
    made = [srv.create_connection(name="conn-%d" % i) for i in range(3)]
    storage = srv.ok("GET", BASE + "storageconnections", expect=200)
    imodel = storage["connections"][0]["iModelId"]
    # as the sample app's generated client sends it: camel case nowhere, imodelId as a query parameter
    r = srv.request("GET", BASE + "connections?imodelId=%s" % imodel)
    assert r.status == 200, r
    assert [(c["id"], c["displayName"]) for c in r.json["connections"]] == [(m["uuid"], m["name"]) for m in made]
    assert r.json["connections"] == storage["connections"]
    page = srv.ok("GET", BASE + "Connections?imodelId=%s&%%24top=2" % imodel, expect=200)
    assert [c["displayName"] for c in page["connections"]] == ["conn-0", "conn-1"]
    nxt = urlsplit(page["_links"]["next"]["href"])
    assert nxt.path == "/synchronization/imodels/connections", page["_links"]
    assert urlsplit(page["_links"]["self"]["href"]).path == "/synchronization/imodels/connections"
    rest = srv.ok("GET", nxt.path + "?" + nxt.query, expect=200)
    assert [c["displayName"] for c in rest["connections"]] == ["conn-2"] and "next" not in rest["_links"]
    assert srv.ok("GET", BASE + "connections?imodelId=%s" % uuid.uuid4(), expect=200)["connections"] == []
    r = srv.request("GET", BASE + "connections?$top=0")
    assert r.status == 422 and [d["target"] for d in r.json["error"]["details"]] == ["$top"], r
    r = srv.request("GET", BASE + "connections", headers={"Authorization": "Bearer nope"})
    assert r.status == 401, r
