"""BlueConic as its clients call it (BlueConic's MCP server, generated REST v2 clients):

    POST /rest/v2/oauth/token            client-credentials grant, a syncrun key as OAuth client
    GET  /rest/v2/openapi.json           (public) what syncrun serves of BlueConic's API
    GET  /rest/v2/connections[/{id}]     connections with their last run
    GET  /rest/v2/connections/{id}/runs  the run history (also at the root paths)
"""

import base64
import json
import os
import re
import threading
import urllib.parse

import pytest

from conftest import REPO

jsonschema = pytest.importorskip("jsonschema")

with open(os.path.join(REPO, "docs", "blueconic-openapi.json"), "rb") as _f:
    BC_DOC_BYTES = _f.read()
BC_DOC = json.loads(BC_DOC_BYTES)
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def valid(schema_name, instance):
    schema = {"$ref": "#/components/schemas/" + schema_name}
    v = jsonschema.Draft202012Validator(schema, resolver=jsonschema.RefResolver(base_uri="", referrer=BC_DOC))
    errs = list(v.iter_errors(instance))
    assert not errs, "%s: %s\n%s" % (schema_name, [e.message for e in errs[:5]], json.dumps(instance)[:2000])


@pytest.fixture(scope="module")
def srv(server):
    return server


@pytest.fixture(scope="module")
def client(srv):
    """A read key as an OAuth client."""
    out = srv.cli("key", "create", "--scope", "runs:read", "--oauth", "--json", "--db", srv.db,
                  "--workspace", srv.workspace_id)
    assert out["client_id"] == "syncrun-key-%d" % out["key_id"] and out["client_secret"] == out["token"]
    return out


def token_request(srv, body, basic=None, headers=None):
    h = dict(FORM)
    if basic is not None:
        h["Authorization"] = "Basic " + base64.b64encode(("%s:%s" % basic).encode()).decode()
    h.update(headers or {})
    return srv.request("POST", "/rest/v2/oauth/token", body=urllib.parse.urlencode(body), token=None, headers=h)


def get_token(srv, client):
    r = token_request(srv, {"grant_type": "client_credentials", "scope": "read:connections"},
                      basic=(client["client_id"], client["client_secret"]))
    assert r.status == 200, r
    valid("TokenSuccessResponse", r.json)
    return r.json["access_token"]


def test_token_basic_and_form(srv, client):
    r = token_request(srv, {"grant_type": "client_credentials", "scope": "read:segments read:connections"},
                      basic=(client["client_id"], client["client_secret"]))
    assert r.status == 200, r
    assert r.json["token_type"] == "Bearer" and r.json["expires_in"] == 3600
    assert r.headers["cache-control"] == "no-store"
    tok = r.json["access_token"]
    assert tok not in (client["client_secret"],)
    r2 = token_request(srv, {"grant_type": "client_credentials", "client_id": client["client_id"],
                             "client_secret": client["client_secret"]},
                       headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"})
    assert r2.status == 200, r2
    assert r2.json["access_token"] != tok
    for t in (tok, r2.json["access_token"]):
        assert srv.request("GET", "/rest/v2/connections", token=t).status == 200


def test_any_key_is_a_client(srv):
    token = srv.new_key("runs:write")
    keys = srv.cli("key", "list", "--json", "--db", srv.db)
    key_id = next(k["id"] for k in keys if token.startswith(k["prefix"]))
    r = token_request(srv, {"grant_type": "client_credentials"}, basic=("syncrun-key-%d" % key_id, token))
    assert r.status == 200, r


@pytest.mark.parametrize("case", ["wrong secret", "other key's id", "bad id", "no credentials", "access token as secret",
                                  "secret only"])
def test_token_invalid_client(srv, client, case):
    other = srv.cli("key", "create", "--scope", "runs:read", "--oauth", "--json", "--db", srv.db,
                    "--workspace", srv.workspace_id)
    body, basic = {"grant_type": "client_credentials"}, None
    if case == "wrong secret":
        basic = (client["client_id"], other["client_secret"])
    elif case == "other key's id":
        basic = (other["client_id"], client["client_secret"])
    elif case == "bad id":
        basic = ("syncrun-key-x1", client["client_secret"])
    elif case == "access token as secret":
        basic = (client["client_id"], get_token(srv, client))
    elif case == "secret only":
        body["client_secret"] = client["client_secret"]
    r = token_request(srv, body, basic=basic)
    assert r.status == 401, r
    assert r.json == {"error": "invalid_client", "error_description": "Client authentication failed"}
    assert r.headers["www-authenticate"].startswith("Basic")
    valid("TokenErrorResponse", r.json)


def test_token_bad_requests(srv, client):
    cred = (client["client_id"], client["client_secret"])
    r = token_request(srv, {"grant_type": "password", "username": "u", "password": "p"}, basic=cred)
    assert r.status == 400 and r.json["error"] == "unsupported_grant_type", r
    r = token_request(srv, {"scope": "read:connections"}, basic=cred)
    assert r.status == 400 and r.json["error"] == "invalid_request", r
    r = srv.request("POST", "/rest/v2/oauth/token", body={"grant_type": "client_credentials"}, token=None,
                    headers={"Authorization": "Basic " + base64.b64encode(("%s:%s" % cred).encode()).decode()})
    assert r.status == 400 and r.json["error"] == "invalid_request", r  # JSON, not a form
    r = token_request(srv, {"grant_type": "client_credentials%zz"}, basic=cred)
    assert r.status == 400, r
    r = srv.request("GET", "/rest/v2/oauth/token", token=None)
    assert r.status == 405 and r.headers["allow"] == "POST", r


def test_access_token_has_the_keys_scope(srv, client):
    tok = get_token(srv, client)
    cn = srv.create_connection(name="scoped")
    assert srv.request("GET", "/v1/connections/%d" % cn["id"], token=tok).status == 200
    r = srv.request("POST", "/v1/connections/%d/runs" % cn["id"], body={}, token=tok)
    assert r.status == 403, r  # a read key's token cannot trigger
    other_ws = srv.new_workspace("oauth-other")
    r = srv.request("GET", "/rest/v2/connections/%s" % cn["uuid"], token=other_ws["token"])
    assert r.status == 404


def test_access_token_is_stored_as_a_hash(srv, client):
    tok = get_token(srv, client)
    srv.stop()  # checkpoints the WAL into the main file
    try:
        for suffix in ("", "-wal"):
            p = srv.db + suffix
            if os.path.exists(p):
                with open(p, "rb") as f:
                    assert tok.encode() not in f.read()
    finally:
        srv.start()
    assert srv.request("GET", "/rest/v2/connections", token=tok).status == 200  # survives a restart


def test_openapi_json_is_public_and_describes_the_routes(srv):
    r = srv.request("GET", "/rest/v2/openapi.json?prettyPrint=true", token=None,
                    headers={"Accept": "application/json"})
    assert r.status == 200, r
    assert r.headers["content-type"] == "application/json"
    assert r.raw == BC_DOC_BYTES
    assert BC_DOC["openapi"].startswith("3.")
    assert BC_DOC["servers"][0]["url"] == "/rest/v2"
    assert sorted(BC_DOC["paths"]) == ["/connections", "/connections/{connection}", "/connections/{connection}/runs",
                                       "/oauth/token"]
    flows = BC_DOC["components"]["securitySchemes"]["oauth2"]["flows"]
    assert flows["clientCredentials"]["tokenUrl"] == "/rest/v2/oauth/token"
    for name, s in BC_DOC["components"]["schemas"].items():
        jsonschema.Draft202012Validator.check_schema(s)


def test_connections_list_and_get(fresh_server):
    srv = fresh_server
    a = srv.create_connection(name="Import profiles", source="warehouse", destination="blueconic",
                              connector_type="connection_content_collector")
    b = srv.create_connection(name="No runs yet")
    run = srv.trigger(a["id"], {"state": "working"})
    srv.finish(run["id"], counters={"source_record_count": 19})
    r = srv.request("GET", "/rest/v2/connections")
    assert r.status == 200, r
    valid("ConnectionList", r.json)
    body = r.json
    assert (body["itemsPerPage"], body["startIndex"], body["totalPages"], body["totalResults"]) == (10, 0, 1, 2)
    got_a, got_b = body["connections"]
    assert got_a["id"] == a["uuid"] and got_a["name"] == "Import profiles"
    assert got_a["description"] == "warehouse \u2192 blueconic" and got_a["pluginId"] == "connection_content_collector"
    assert got_a["creationDate"] == a["created_at"] and got_a["scheduleMode"] == "SCHEDULED"
    assert got_a["lastRun"]["state"] == "FINISHED" and got_a["lastRun"]["runCount"] == 1
    assert "lastRun" not in got_b and got_b["description"] == "" and "pluginId" not in got_b
    # the last run is the same object the run history shows first
    hist = srv.ok("GET", "/rest/v2/connections/%s/runs" % a["uuid"], expect=200)
    assert hist["runs"][0] == got_a["lastRun"]
    one = srv.ok("GET", "/rest/v2/connections/%s" % a["uuid"].upper(), expect=200)
    valid("Connection", one)
    assert one == got_a
    assert srv.ok("GET", "/connections/%s" % a["uuid"], expect=200) == one  # the root paths too
    page = srv.ok("GET", "/rest/v2/connections?startIndex=1&count=1", expect=200)
    assert [c["id"] for c in page["connections"]] == [b["uuid"]] and page["totalPages"] == 2
    assert srv.ok("GET", "/connections?startIndex=5", expect=200)["connections"] == []
    for bad in ("count=0", "count=101", "startIndex=-1", "startIndex=x"):
        r = srv.request("GET", "/rest/v2/connections?" + bad)
        assert r.status == 400 and r.json["errorCode"] == "INVALID_PARAMETER", r
        valid("Error", r.json)
    for bad in ("00000000-0000-4000-8000-000000000000", "%d" % a["id"], "nope"):
        r = srv.request("GET", "/rest/v2/connections/" + bad)
        assert r.status == 404 and r.json["errorCode"] == "NOT_FOUND", r
    r = srv.request("GET", "/rest/v2/connections", token=None)
    assert r.status == 401 and r.json["errorCode"] == "UNAUTHORIZED"


def test_run_ids_are_unique_and_never_change(srv):
    """Runs created in one second got one runId, and a queued run's id changed when it started."""
    cn = srv.create_connection(name="ids", overlap="queue")
    runs = [srv.trigger(cn["id"]) for _ in range(5)]  # within one second, all queued
    first = srv.ok("GET", "/rest/v2/connections/%s/runs" % cn["uuid"], expect=200)["runs"]
    ids = {r["runCount"]: r["runId"] for r in first}
    assert len(set(ids.values())) == 5, ids
    assert all(r["state"] == "STARTING" for r in first)
    for r in first:
        assert re.fullmatch(r"[0-9]{14}_[0-9a-f-]{36}", r["runId"]), r["runId"]
        valid("ConnectionStatus", r)
    srv.ok("PATCH", "/v1/runs/%d" % runs[0]["id"], {"state": "working"}, expect=200)
    srv.finish(runs[0]["id"])
    again = srv.ok("GET", "/rest/v2/connections/%s/runs" % cn["uuid"], expect=200)["runs"]
    assert {r["runCount"]: r["runId"] for r in again} == ids
    assert next(r for r in again if r["runCount"] == 1)["state"] == "FINISHED"


def test_typical_client_sequence(srv, client):
    """BlueConic's MCP server: token (HTTP Basic + scopes) -> openapi.json -> connections -> runs."""
    cn = srv.create_connection(name="mcp")
    run = srv.trigger(cn["id"], {"state": "working"})
    srv.finish(run["id"])
    tok = get_token(srv, client)
    spec = srv.ok("GET", "/rest/v2/openapi.json?prettyPrint=true", expect=200, token=None)
    assert "/connections/{connection}/runs" in spec["paths"]
    conns = srv.ok("GET", "/rest/v2/connections?startIndex=0&count=100", expect=200, token=tok,
                   headers={"Accept": "application/json, text/plain;q=0.9, */*;q=0.8"})
    mine = next(c for c in conns["connections"] if c["id"] == cn["uuid"])
    one = srv.ok("GET", "/rest/v2/connections/%s" % mine["id"], expect=200, token=tok)
    runs = srv.ok("GET", "/rest/v2/connections/%s/runs?count=10" % mine["id"], expect=200, token=tok)
    valid("ConnectionRunList", runs)
    assert runs["runs"][0]["runId"] == one["lastRun"]["runId"]
    assert runs["runs"][0]["state"] == "FINISHED"


def test_concurrent_token_requests(srv, client):
    got = []

    def go():
        got.append(token_request(srv, {"grant_type": "client_credentials"},
                                 basic=(client["client_id"], client["client_secret"])))

    ts = [threading.Thread(target=go) for _ in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert [r.status for r in got] == [200] * 8
    assert len({r.json["access_token"] for r in got}) == 8


def test_revoking_the_key_ends_its_access_tokens(srv):
    import time
    c = srv.cli("key", "create", "--scope", "runs:read", "--oauth", "--json", "--db", srv.db,
                "--workspace", srv.workspace_id)
    tok = get_token(srv, c)
    assert srv.request("GET", "/rest/v2/connections", token=tok).status == 200
    srv.cli("key", "revoke", c["key_id"], "--db", srv.db, "--workspace", srv.workspace_id, "--json")
    # another process revoked it: the server's key cache may answer for up to 5 s
    deadline = time.monotonic() + 10
    while srv.request("GET", "/rest/v2/connections", token=tok).status != 401:
        assert time.monotonic() < deadline, "the revoked key's access token still works after 10 s"
        time.sleep(0.2)
    r = token_request(srv, {"grant_type": "client_credentials"}, basic=(c["client_id"], c["client_secret"]))
    assert r.status == 401 and r.json["error"] == "invalid_client", r
