"""What public clients, run unchanged against syncrun (tests/clients/run.sh), rely on beyond the
documented shapes — details that would break them silently:

- BlueConic's MCP server (blueconic/blueconic-mcp) loads /rest/v2/openapi.json without a token at
  startup and keeps an operation as a tool only when path, method AND operationId match its list:
  a renamed operationId leaves it with no connection tools at all.
- Bentley's iTwin CLI (iTwin/itwin-cli) parses a response body as JSON whenever a Content-Type is
  present: an empty 202/303 from starting a run must come without one.
- Bentley's synchronization-api-sample-app finds the latest run with
  runs.sort((a, b) => b.startDateTime.localeCompare(a.startDateTime)): every run needs a
  startDateTime, the one it has just started (still queued) too.
"""

import json

MCP_CONNECTION_TOOLS = {
    ("/connections", "get", "getAllConnections"),
    ("/connections/{connection}", "get", "getOneConnection"),
    ("/connections/{connection}/runs", "get", "getConnectionRuns"),
}


def test_blueconic_openapi_has_the_mcp_servers_connection_tools(server):
    # as the MCP server asks: no Authorization, prettyPrint, Accept JSON
    r = server.request("GET", "/rest/v2/openapi.json?prettyPrint=true", token=None,
                       headers={"Accept": "application/json", "User-Agent": "BlueConic-MCP-Client/1.1.2"})
    assert r.status == 200, r
    spec = r.json
    found = {(path, method, op.get("operationId"))
             for path, item in spec["paths"].items() for method, op in item.items() if isinstance(op, dict)}
    assert MCP_CONNECTION_TOOLS <= found, sorted(found)
    # its tools fill {connection} from the argument of that name, and call /rest/v2 + path
    for path, _, _ in MCP_CONNECTION_TOOLS:
        if "{connection}" in path:
            names = [p["name"] for p in spec["paths"][path]["get"].get("parameters", []) if p.get("in") == "path"]
            assert names == ["connection"], (path, names)


def test_itwin_run_start_answers_without_content_type_or_with_json(server):
    cn = server.create_connection(name="itwin-cli-contract")
    for attempt in range(2):  # 202 (a new run), then 303 (the run already queued)
        r = server.request("POST", "/synchronization/imodels/storageconnections/%s/run" % cn["uuid"],
                           headers={"Content-Type": "application/json"})
        assert r.status in (202, 303), r
        ctype = r.headers.get("content-type")
        if ctype is None:
            continue
        assert ctype.startswith("application/json"), r
        json.loads(r.raw)  # what the CLI does with a Content-Type: it must not throw


def test_itwin_runs_all_have_a_start_time_the_sample_app_sorts_by(server):
    # a connection without a command: the run the app starts stays queued (as while a runner is busy)
    cn = server.create_connection(name="sample-app-latest-run")
    done = server.trigger(cn["id"], {}, expect=201)
    server.ok("PATCH", "/v1/runs/%d" % done["id"], body={"state": "working"}, expect=200)
    server.ok("POST", "/v1/runs/%d/finish" % done["id"], body={"result": "success"}, expect=200)
    base = "/synchronization/imodels/storageConnections/%s/run" % cn["uuid"]
    r = server.request("POST", base)
    assert r.status == 202, r
    queued_id = r.headers["location"].rsplit("/", 1)[1]
    runs = server.ok("GET", base + "s", expect=200, headers={"Prefer": "return=representation"})["runs"]
    assert [x["state"] for x in runs] == ["Queued", "Completed"], runs
    assert all("startDateTime" in x for x in runs), runs
    # the app's getLatestRun: newest startDateTime first is the run it just started
    latest = sorted(runs, key=lambda x: x["startDateTime"], reverse=True)[0]
    assert latest["id"] == queued_id
    one = server.ok("GET", base + "s/" + queued_id, expect=200)["run"]
    assert one["startDateTime"] == runs[0]["startDateTime"] and "endDateTime" not in one
