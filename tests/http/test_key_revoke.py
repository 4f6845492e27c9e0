"""`syncrun key revoke`: a leaked key can be ended (SECURITY.md). A running server stops accepting
it within its key cache's 5 seconds; revoking twice, or another workspace's key, is refused."""

import subprocess
import time

from conftest import CLI_TIMEOUT


def cli(srv, *args):
    return subprocess.run([srv.bin] + [str(a) for a in args], capture_output=True, timeout=CLI_TIMEOUT)


def test_revoke_ends_a_key(server):
    tok = server.new_key("runs:read")
    keys = server.cli("key", "list", "--db", server.db, "--workspace", server.workspace_id, "--json")
    key_id = next(k["id"] for k in keys if tok.startswith(k["prefix"]))
    assert server.request("GET", "/v1/connections", token=tok).status == 200
    out = server.cli("key", "revoke", key_id, "--db", server.db, "--workspace", server.workspace_id, "--json")
    assert out == {"key_id": key_id, "revoked": True}, out
    deadline = time.monotonic() + 10
    while server.request("GET", "/v1/connections", token=tok).status != 401:
        assert time.monotonic() < deadline, "the revoked key still works after 10 s"
        time.sleep(0.2)
    keys = server.cli("key", "list", "--db", server.db, "--workspace", server.workspace_id, "--json")
    assert key_id not in [k["id"] for k in keys]
    again = cli(server, "key", "revoke", key_id, "--db", server.db, "--workspace", server.workspace_id)
    assert again.returncode == 1 and b"no live key" in again.stderr, again.stderr


def test_another_workspaces_key_is_not_found(server):
    other = server.new_workspace("revoke-other")
    tok = server.new_key("runs:read", other["workspace_id"])
    keys = server.cli("key", "list", "--db", server.db, "--workspace", other["workspace_id"], "--json")
    key_id = next(k["id"] for k in keys if tok.startswith(k["prefix"]))
    p = cli(server, "key", "revoke", key_id, "--db", server.db, "--workspace", server.workspace_id)
    assert p.returncode == 1, p.stderr
    assert server.request("GET", "/v1/connections", token=tok).status == 200


def test_usage_errors(server):
    for args, msg in ((["key", "revoke"], b"which key?"), (["key", "revoke", "x1"], b"positive integer"),
                      (["key", "revoke", "1", "2"], b"unexpected argument")):
        p = cli(server, *args, "--db", server.db)
        assert p.returncode == 2 and msg in p.stderr, (args, p.stderr)
