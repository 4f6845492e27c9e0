"""Text that reaches the store and the answers is always whole, valid JSON (issue 9, defects 2 and 3).

- A finish whose error detail is valid and at its limit (65,536 characters that each take the most
  room once escaped: control characters, or 4-byte UTF-8) is stored whole: its `finished` event
  used to be cut by the capped buffer and read back as `{}`.
- A managed command's output becomes the run's error detail clipped to the API's limit and with
  every malformed UTF-8 byte replaced: a large output used to empty the detail (and the event),
  and raw bytes made GET /v1/runs/{id} and both Census routes answer JSON that does not parse."""

import json
import sqlite3

import pytest

from test_runner import SH, make_conn, script, wait_finished

DETAIL_MAX = 65536


def events(srv, run_id):
    return srv.ok("GET", "/v1/runs/%s/events?limit=100" % run_id, expect=200)["data"]


def assert_events_valid_json(srv):
    db = sqlite3.connect("file:%s?mode=ro" % srv.db, uri=True)
    try:
        bad = db.execute("SELECT count(*) FROM run_events WHERE json_valid(data) = 0").fetchone()[0]
        empty = db.execute("SELECT count(*) FROM run_events WHERE data = '{}'").fetchone()[0]
    finally:
        db.close()
    assert bad == 0, "%d events hold text that is not JSON" % bad
    assert empty == 0, "%d events hold an empty object" % empty


@pytest.mark.parametrize("char", ["\x01", "\U0001F600", "\"", "\u00e9"], ids=["control", "4-byte", "quote", "2-byte"])
def test_finish_with_detail_at_its_limit_is_stored_whole(server, char):
    c = server.create_connection(name="detail-%d" % ord(char))
    run = server.trigger(c["id"], expect=201)
    detail = char * DETAIL_MAX
    message = char * 4096
    r = server.request("POST", "/v1/runs/%s/finish" % run["id"],
                       {"result": "error", "message": message,
                        "error": {"code": "E" * 200, "message": message, "detail": detail}})
    assert r.status == 200, r.describe()
    assert r.json["error"]["detail"] == detail
    got = server.get_run(run["id"])
    assert got["error"]["detail"] == detail and got["message"] == message
    fin = [e for e in events(server, run["id"]) if e["kind"] == "finished"]
    assert len(fin) == 1, fin
    data = fin[0]["data"]
    assert data.get("result") == "error", "the finished event was cut: %r" % str(data)[:200]
    assert data["error"]["detail"] == detail
    assert data["error"]["message"] == message
    assert data["message"] == message
    assert_events_valid_json(server)


def test_one_character_past_the_limit_is_refused_and_changes_nothing(server):
    c = server.create_connection(name="detail-over")
    run = server.trigger(c["id"], expect=201)
    r = server.request("POST", "/v1/runs/%s/finish" % run["id"],
                       {"result": "error", "error": {"detail": "\x01" * (DETAIL_MAX + 1)}})
    assert r.status == 400, r.describe()
    assert r.json["error"]["field"] == "error.detail", r.describe()
    assert server.get_run(run["id"])["state"] != "finished"
    assert [e["kind"] for e in events(server, run["id"])] == ["created"]


def test_command_output_becomes_a_valid_clipped_error_detail(server, tmp_path):
    # 300,000 bytes on one line, malformed UTF-8 among them, a NUL, then the last line
    sc = script(tmp_path, "bad.sh", r"""
head -c 300000 /dev/zero | tr '\0' 'x'
printf 'bad \377\376 cut \342\202 nul \000 end\n'
printf 'fatal: \303\251chec \360\237\230\200\n' >&2
exit 2
""")
    c = make_conn(server, [SH, sc], log_max_bytes=1048576)
    run = wait_finished(server, server.trigger(c["id"], expect=201)["id"])
    assert run["result"] == "error", run
    detail = run["error"]["detail"]
    assert detail is not None and len(detail) == DETAIL_MAX, len(detail or "")
    assert detail.endswith("bad \ufffd\ufffd cut \ufffd\ufffd nul \ufffd end\nfatal: \u00e9chec \U0001F600\n"), detail[-80:]
    for path in ("/v1/runs/%s" % run["id"], "/api/v1/sync_runs/%s" % run["id"],
                 "/api/v1/syncs/%s/sync_runs" % c["id"]):
        r = server.request("GET", path)
        assert r.status == 200, r.describe()
        assert r.json is not None, "%s: the answer is not JSON: %r" % (path, r.raw[-200:])
    census = server.ok("GET", "/api/v1/sync_runs/%s" % run["id"], expect=200)["data"]
    assert census["error_detail"] == detail
    assert_events_valid_json(server)
    fin = [e for e in events(server, run["id"]) if e["kind"] == "finished"]
    assert fin and fin[0]["data"]["error"]["detail"] == detail
