"""GET /metrics (issue 12, part): Prometheus text exposition, checked by `promtool check metrics`
and scraped by a real Prometheus (Debian's package) whose query must return the expected values.
The process's series for every scraper; a key's workspace's run series only for that key (admin
or metrics:read); `serve --metrics-public` opens the process series to anyone."""

import json
import os
import re
import signal
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from conftest import free_port


def metrics(srv, token):
    r = srv.request("GET", "/metrics", token=token)
    return r


def samples(text):
    """{(name, frozenset(labels)): value} of an exposition text."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line)
        assert m, "not a sample line: %r" % line
        labels = frozenset(re.findall(r'([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def value(s, name, **labels):
    want = set(labels.items())
    found = [v for (n, ls), v in s.items() if n == name and want <= set(ls)]
    assert len(found) == 1, "%s%s: %d samples" % (name, labels, len(found))
    return found[0]


@pytest.fixture(scope="module")
def world(server):
    mkey = server.new_key("metrics:read")
    c = server.create_connection(name='metrics "one"')
    for result, records in (("success", 5), ("success", 500), ("error", 0)):
        run = server.trigger(c["id"], {"state": "working"}, expect=201)
        server.ok("PATCH", "/v1/runs/%s" % run["id"], {"counters": {"records_processed": records}}, expect=200)
        server.finish(run["id"], result)
    live = server.trigger(c["id"], {"state": "working"}, expect=201)
    server.trigger(c["id"], expect=201)  # overlap skip: a skipped run
    return {"key": mkey, "conn": c, "live": live}


def test_keys_and_scopes(server, keys, world):
    assert metrics(server, None).status == 401
    assert metrics(server, keys["read"]).status == 403
    assert metrics(server, keys["write"]).status == 403
    assert metrics(server, keys["admin"]).status == 200
    r = metrics(server, world["key"])
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    # a metrics:read key reads nothing else
    assert server.request("GET", "/v1/connections", token=world["key"]).status == 403
    assert server.request("GET", "/v1/runs/%s" % world["live"]["id"], token=world["key"]).status == 403


def test_workspace_series(server, world):
    s = samples(metrics(server, world["key"]).raw.decode())
    cid = str(world["conn"]["id"])
    assert value(s, "syncrun_runs_finished_total", connection_id=cid, result="success") == 2
    assert value(s, "syncrun_runs_finished_total", connection_id=cid, result="error") == 1
    assert value(s, "syncrun_runs_finished_total", connection_id=cid, result="skipped") == 1
    assert value(s, "syncrun_runs", connection_id=cid, state="working") == 1
    assert value(s, "syncrun_runs", connection_id=cid, state="queued") == 0
    assert value(s, "syncrun_run_duration_seconds_count", connection_id=cid) == 4
    assert value(s, "syncrun_run_records_processed_sum", connection_id=cid) == 505
    assert value(s, "syncrun_run_records_processed_bucket", connection_id=cid, le="10") == 3  # 5, 0, and the skip
    assert value(s, "syncrun_run_records_processed_bucket", connection_id=cid, le="+Inf") == 4
    assert 0 <= value(s, "syncrun_connection_seconds_since_last_success", connection_id=cid) < 3600
    name = [dict(ls)["connection"] for (n, ls) in s if n == "syncrun_runs_finished_total" and dict(ls).get(
        "connection_id") == cid][0]
    assert name == 'metrics \\"one\\"', name  # the label value, escaped as the format says
    assert value(s, "syncrun_http_requests_total", route="/v1/runs/:id/finish", method="POST", code="200") >= 3
    assert value(s, "syncrun_store_writes_total", outcome="ok") > 0


def test_another_workspace_sees_none_of_these_runs(server, world):
    other = server.new_workspace("metrics-other")
    tok = server.new_key("metrics:read", other["workspace_id"])
    text = metrics(server, tok).raw.decode()
    assert 'connection_id="%s"' % world["conn"]["id"] not in text
    assert "metrics \\\"one\\\"" not in text


def test_promtool_checks_the_exposition(server, world):
    p = subprocess.run(["promtool", "check", "metrics"], input=metrics(server, world["key"]).raw,
                       capture_output=True, timeout=30)
    assert p.returncode == 0, p.stdout.decode() + p.stderr.decode()


def test_metrics_public(server_factory):
    srv = server_factory("metrics-public", start=False)
    srv.extra_args = ["--metrics-public"]
    srv.start()
    c = srv.create_connection(name="public")
    srv.finish(srv.trigger(c["id"], {"state": "working"}, expect=201)["id"], "success")
    r = metrics(srv, None)
    assert r.status == 200
    assert b"syncrun_http_requests_total" in r.raw and b"syncrun_runs_finished_total" not in r.raw
    assert b"syncrun_runs_finished_total" in metrics(srv, srv.admin_token).raw
    assert metrics(srv, "bogus").status == 401  # a key sent is still checked


def test_a_real_prometheus_scrapes_and_queries(server, world, tmp_path):
    port = free_port()
    (tmp_path / "token").write_text(world["key"])
    (tmp_path / "prometheus.yml").write_text("""
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: syncrun
    metrics_path: /metrics
    authorization:
      credentials_file: %s
    static_configs:
      - targets: ["127.0.0.1:%d"]
""" % (tmp_path / "token", server.port))
    log = open(tmp_path / "prometheus.log", "wb")
    p = subprocess.Popen(["prometheus", "--config.file=%s" % (tmp_path / "prometheus.yml"),
                          "--storage.tsdb.path=%s" % (tmp_path / "data"), "--web.listen-address=127.0.0.1:%d" % port],
                         stdout=log, stderr=log, start_new_session=True)
    try:
        q = 'syncrun_runs_finished_total{job="syncrun",result="success",connection_id="%s"}' % world["conn"]["id"]
        url = "http://127.0.0.1:%d/api/v1/query?query=%s" % (port, urllib.parse.quote(q))
        deadline = time.monotonic() + 60
        got = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=5) as resp:
                    body = json.loads(resp.read())
                res = body["data"]["result"]
                if res:
                    got = float(res[0]["value"][1])
                    break
            except OSError:
                pass
            time.sleep(0.5)
        log.flush()
        assert got == 2, "Prometheus did not get the series in 60 s (got %r)\n%s" % (
            got, (tmp_path / "prometheus.log").read_text()[-3000:])
        with urllib.request.urlopen("http://127.0.0.1:%d/api/v1/targets" % port, timeout=5) as resp:
            targets = json.loads(resp.read())["data"]["activeTargets"]
        assert targets and targets[0]["health"] == "up", targets
    finally:
        os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        log.close()


def test_imported_history_is_counted_with_its_own_durations(server, world):
    """Runs recorded by an import are inserted finished and then given their fields: the statistics
    follow the fields as saved, not the first insert."""
    c = server.create_connection(name="metrics-import")
    run = {"id": 77, "created_at": "2021-10-20T10:00:00.000Z", "updated_at": "2021-10-20T10:00:20.000Z",
           "completed_at": "2021-10-20T10:00:20.000Z", "status": "completed", "sync_id": 1,
           "records_processed": 1234, "records_failed": 0, "error_code": None, "error_message": None,
           "error_detail": None, "canceled": False, "full_sync": False}
    failed = dict(run, id=78, status="failed", records_processed=0, error_code="X", error_message="x",
                  completed_at="2021-10-20T12:00:00.000Z", updated_at="2021-10-20T12:00:00.000Z")
    server.ok("POST", "/v1/connections/%s/runs:import?format=census" % c["id"],
              {"status": "success", "data": [run, failed]}, expect=200)
    s = samples(metrics(server, world["key"]).raw.decode())
    cid = str(c["id"])
    assert value(s, "syncrun_runs_finished_total", connection_id=cid, result="success") == 1
    assert value(s, "syncrun_runs_finished_total", connection_id=cid, result="error") == 1
    assert value(s, "syncrun_run_duration_seconds_bucket", connection_id=cid, le="15") == 0
    assert value(s, "syncrun_run_duration_seconds_bucket", connection_id=cid, le="30") == 1
    assert value(s, "syncrun_run_duration_seconds_bucket", connection_id=cid, le="3600") == 1
    assert value(s, "syncrun_run_duration_seconds_bucket", connection_id=cid, le="7200") == 2  # le: at most
    assert value(s, "syncrun_run_duration_seconds_sum", connection_id=cid) == 20 + 7200
    assert value(s, "syncrun_run_records_processed_sum", connection_id=cid) == 1234
