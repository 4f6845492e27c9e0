"""`syncrun connection update|rm`: the CLI changes and deletes a connection as PATCH and DELETE do, on
the database a running server serves (the server sees the change at once), and refuses bad input
without writing anything."""
import subprocess

CLI_TIMEOUT = 20


def run(server, *args):
    p = subprocess.run([server.bin] + [str(a) for a in args] + ["--db", server.db], capture_output=True,
                       timeout=CLI_TIMEOUT)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def test_update_changes_only_the_options_given(server):
    c = server.create_connection(name="cli-upd", source="warehouse", destination="crm", connector_type="census")
    out = server.cli("connection", "update", c["id"], "--name", "cli-upd-2", "--overlap", "queue",
                     "--retention-keep-last", "7", "--db", server.db, "--json")
    assert out["id"] == c["id"] and out["name"] == "cli-upd-2" and out["overlap"] == "queue"
    got = server.ok("GET", "/v1/connections/%s" % c["id"], expect=200)
    assert got["name"] == "cli-upd-2" and got["overlap"] == "queue" and got["retention_keep_last"] == 7
    # untouched fields keep their values
    assert (got["source"], got["destination"], got["connector_type"]) == ("warehouse", "crm", "census")
    assert got["retention_days"] is None

    # by UUID; an empty text clears the field, "inherit" returns to the workspace's policy
    rc, stdout, stderr = run(server, "connection", "update", c["uuid"], "--source", "", "--retention-keep-last",
                             "inherit")
    assert rc == 0, stderr
    assert "Updated connection %d" % c["id"] in stdout and "cli-upd-2" in stdout
    got = server.ok("GET", "/v1/connections/%s" % c["id"], expect=200)
    assert got["source"] is None and got["destination"] == "crm" and got["retention_keep_last"] is None


def test_update_refuses_bad_input_and_changes_nothing(server):
    c = server.create_connection(name="cli-bad", source="s")
    before = server.ok("GET", "/v1/connections/%s" % c["id"], expect=200)
    cases = [
        ((), 2, "nothing to change"),
        (("--name", ""), 2, "--name"),
        (("--overlap", "sometimes"), 2, "--overlap"),
        (("--retention-days", "-1"), 2, "--retention-days"),
        (("--limit", "5"), 2, "--limit"),
    ]
    for extra, code, word in cases:
        rc, _, stderr = run(server, "connection", "update", c["id"], *extra)
        assert rc == code and word in stderr, (extra, rc, stderr)
    rc, _, stderr = run(server, "connection", "update", "--name", "x")
    assert rc == 2 and "CONNECTION is missing" in stderr, stderr
    rc, _, stderr = run(server, "connection", "update", "999999", "--name", "x")
    assert rc == 1 and "has no connection 999999" in stderr, stderr
    assert server.ok("GET", "/v1/connections/%s" % c["id"], expect=200) == before


def test_rm_deletes_the_connection_for_the_api(server):
    c = server.create_connection(name="cli-rm")
    run_id = server.ok("POST", "/v1/connections/%s/runs" % c["id"], {}, expect=201)["id"]
    out = server.cli("connection", "rm", c["id"], "--db", server.db, "--json")
    assert out == {"id": c["id"], "deleted": True}
    assert server.request("GET", "/v1/connections/%s" % c["id"]).status == 404
    assert server.request("GET", "/v1/runs/%s" % run_id).status == 404
    listed = server.cli("connection", "list", "--db", server.db, "--json")
    assert c["id"] not in [x["id"] for x in listed]
    # a second rm finds nothing, and says where to look
    rc, _, stderr = run(server, "connection", "rm", c["id"])
    assert rc == 1 and "syncrun connection list" in stderr, stderr
    rc, _, stderr = run(server, "connection", "rm", c["id"], "--name", "x")
    assert rc == 2 and "--name is an option of" in stderr, stderr
