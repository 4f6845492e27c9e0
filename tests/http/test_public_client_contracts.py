"""What public clients, run unchanged against syncrun (tests/clients/run.sh), rely on beyond the
documented shapes — details that would break them silently:

- BlueConic's MCP server (blueconic/blueconic-mcp) loads /rest/v2/openapi.json without a token at
  startup and keeps an operation as a tool only when path, method AND operationId match its list:
  a renamed operationId leaves it with no connection tools at all.
- Bentley's iTwin CLI (iTwin/itwin-cli) parses a response body as JSON whenever a Content-Type is
  present: an empty 202/303 from starting a run must come without one.
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
