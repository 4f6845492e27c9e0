"""Webhooks (issue 12): alerts POSTed to a URL, signed as Standard Webhooks specifies, delivered off
the request path by the dispatcher, retried with backoff, every attempt recorded, redelivered on
request, disabled after failing for a while, kept across a crash; private targets refused unless
`serve --webhooks-allow-private`.

The receiver is a real HTTP server on loopback that checks every signature with its own
implementation of the Standard Webhooks algorithm (hmac/hashlib/base64 from the standard library),
and answers as each test tells it (200, 500, or too late)."""

import base64
import hashlib
import hmac
import http.server
import json
import queue
import threading
import time
import uuid

import pytest

from conftest import make_server

WAIT = 15.0  # seconds a delivery may take to arrive in these tests (retries are fast here)


def sw_sign(secret, msg_id, ts, body):
    """Standard Webhooks: v1,base64(HMAC-SHA256(base64decode(secret without whsec_), id.ts.body))."""
    key = base64.b64decode(secret.split("_", 1)[1])
    mac = hmac.new(key, b"%s.%s.%s" % (msg_id.encode(), ts.encode(), body), hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def sw_verify(secret, headers, body):
    msg_id, ts, sigs = headers.get("webhook-id"), headers.get("webhook-timestamp"), headers.get("webhook-signature")
    assert msg_id and ts and sigs, headers
    assert abs(int(ts) - time.time()) < 300, "timestamp too far from now: %s" % ts
    want = sw_sign(secret, msg_id, ts, body)
    return any(hmac.compare_digest(want, s) for s in sigs.split(" "))


def test_signature_matches_the_spec_vector():
    # the example of the Standard Webhooks specification, to show sw_sign is the spec's algorithm
    assert (sw_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330",
                    b'{"test": 2432232314}') == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")


class Receiver:
    """A webhook endpoint on 127.0.0.1. `plan` holds what to answer next (an int status, or
    ("sleep", seconds)); when empty it answers 200. Every request is queued in `got`."""

    def __init__(self):
        self.got = queue.Queue()
        self.plan = []
        self.lock = threading.Lock()
        rx = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(n)
                with rx.lock:
                    step = rx.plan.pop(0) if rx.plan else 200
                rx.got.put({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                            "body": body, "answered": step})
                if isinstance(step, tuple):
                    time.sleep(step[1])
                    step = 200
                try:
                    self.send_response(step)
                    self.send_header("content-length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path="/hook"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def next(self, timeout=WAIT):
        try:
            return self.got.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no delivery arrived within %ss" % timeout)

    def none(self, seconds=1.0):
        try:
            r = self.got.get(timeout=seconds)
        except queue.Empty:
            return True
        raise AssertionError("unexpected delivery: %r" % r)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


FAST = ["--webhooks-allow-private", "--webhooks-retry-base", "100", "--webhooks-timeout", "1"]


def start_server(tmp_path_factory, name, args):
    srv = make_server(tmp_path_factory, name, start=False)
    srv.extra_args = list(args)
    srv.start()
    return srv


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = start_server(tmp_path_factory, "webhooks", FAST)
    yield s
    s.stop()


@pytest.fixture
def rx():
    r = Receiver()
    yield r
    r.close()


def add_hook(srv, url, expect=201, **fields):
    return srv.ok("POST", "/v1/webhooks", dict(fields, url=url), expect=expect)


def fail_run(srv, conn_id, message="token expired"):
    run = srv.trigger(conn_id, {"state": "working"})
    return srv.finish(run["id"], "error", error={"code": "AUTH", "message": message})


def ok_run(srv, conn_id):
    run = srv.trigger(conn_id, {"state": "working"})
    return srv.finish(run["id"], "success")


def deliveries(srv, hook_id, **q):
    path = "/v1/webhooks/%s/deliveries" % hook_id
    if q:
        path += "?" + "&".join("%s=%s" % kv for kv in q.items())
    return srv.ok("GET", path, expect=200)["data"]


def wait_for(pred, what, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def conn(srv, **kw):
    kw.setdefault("name", "orders-%s" % uuid.uuid4().hex[:6])
    return srv.create_connection(**kw)


def test_failed_and_recovered_runs_are_delivered_signed(srv, rx):
    c = conn(srv, source="Snowflake", destination="Salesforce")
    hook = add_hook(srv, rx.url(), events=["run.failed", "run.recovered"], connection_id=c["id"])
    assert hook["secret"].startswith("whsec_") and len(base64.b64decode(hook["secret"][6:])) >= 24
    assert hook["events"] == ["run.failed", "run.recovered"] and hook["connection_id"] == c["id"]
    # the secret is shown once: never again
    got = srv.ok("GET", "/v1/webhooks/%s" % hook["id"], expect=200)
    assert "secret" not in got and "secret" not in json.dumps(srv.ok("GET", "/v1/webhooks", expect=200))

    failed = fail_run(srv, c["id"])
    r = rx.next()
    assert r["headers"]["content-type"] == "application/json"
    assert r["headers"]["user-agent"].startswith("syncrun")
    assert sw_verify(hook["secret"], r["headers"], r["body"]), r
    assert not sw_verify("whsec_" + base64.b64encode(b"x" * 32).decode(), r["headers"], r["body"])
    p = json.loads(r["body"])
    assert p["type"] == "run.failed"
    assert p["timestamp"].endswith("Z")
    d = p["data"]
    assert d["workspace_id"] == srv.workspace_id
    assert d["connection"] == srv.ok("GET", "/v1/connections/%s" % c["id"], expect=200)
    assert d["run"] == srv.get_run(failed["id"])
    assert d["alert"]["result"] == "error" and d["alert"]["error_message"] == "token expired"
    assert c["name"] in d["summary"] and "failed" in d["summary"] and "token expired" in d["summary"], d["summary"]
    assert "#%d" % failed["run_count"] in d["summary"]

    recovered = ok_run(srv, c["id"])
    r2 = rx.next()
    assert sw_verify(hook["secret"], r2["headers"], r2["body"])
    p2 = json.loads(r2["body"])
    assert p2["type"] == "run.recovered" and p2["data"]["run"]["id"] == recovered["id"]
    assert r2["headers"]["webhook-id"] != r["headers"]["webhook-id"]
    rx.none(0.5)  # a plain success after that raises nothing... (none was triggered)

    ds = wait_for(lambda: [x for x in deliveries(srv, hook["id"]) if x["status"] == "delivered"]
                  if len(deliveries(srv, hook["id"], status="delivered")) == 2 else None, "two delivered")
    assert [x["event"] for x in ds] == ["run.recovered", "run.failed"]  # newest first
    x = ds[1]
    assert x["attempts"] == 1 and x["last_response_code"] == 200 and x["last_latency_ms"] >= 0
    assert x["message_id"] == r["headers"]["webhook-id"] and x["run_id"] == failed["id"]
    assert x["next_attempt_at"] is None and x["delivered_at"] is not None


def test_event_and_connection_filters(srv, rx):
    a, b = conn(srv), conn(srv)
    only_recovered = add_hook(srv, rx.url("/rec"), events=["run.recovered"])
    only_b = add_hook(srv, rx.url("/b"), connection_id=b["uuid"])
    fail_run(srv, a["id"])  # neither: a failure, of a
    fail_run(srv, b["id"])  # only_b
    r = rx.next()
    assert r["path"] == "/b" and json.loads(r["body"])["data"]["connection"]["id"] == b["id"]
    ok_run(srv, a["id"])  # recovered: only_recovered
    r = rx.next()
    assert r["path"] == "/rec" and json.loads(r["body"])["type"] == "run.recovered"
    rx.none(0.5)
    for h in (only_recovered, only_b):
        srv.ok("DELETE", "/v1/webhooks/%s" % h["id"], expect=204)


def test_retries_with_backoff_then_delivers(srv, rx):
    c = conn(srv)
    hook = add_hook(srv, rx.url(), connection_id=c["id"])
    rx.plan = [500, 503, ("sleep", 2.5)]  # two errors, a timeout (the server waits 1 s), then 200
    fail_run(srv, c["id"])
    seen = [rx.next() for _ in range(4)]
    ids = {s["headers"]["webhook-id"] for s in seen}
    assert len(ids) == 1, "the webhook-id is the same on every attempt"
    assert len({s["body"] for s in seen}) == 1, "every attempt sends the same body"
    for s in seen:
        assert sw_verify(hook["secret"], s["headers"], s["body"])
    d = wait_for(lambda: [x for x in deliveries(srv, hook["id"]) if x["status"] == "delivered"], "delivered")[0]
    assert d["attempts"] == 4 and d["last_response_code"] == 200 and d["last_error"] is None
    full = srv.ok("GET", "/v1/webhooks/%s/deliveries/%s" % (hook["id"], d["id"]), expect=200)
    log = full["attempt_log"]
    assert [a["response_code"] for a in log] == [500, 503, None, 200], log
    assert "HTTP 500" in log[0]["error"] and "within" in log[2]["error"] and log[3]["error"] is None
    assert [a["at"] for a in log] == sorted(a["at"] for a in log)
    assert full["payload"]["type"] == "run.failed"
    srv.ok("DELETE", "/v1/webhooks/%s" % hook["id"], expect=204)


def test_a_failing_delivery_shows_its_next_retry(srv, rx):
    c = conn(srv)
    hook = add_hook(srv, rx.url(), connection_id=c["id"])
    rx.plan = [500] * 100
    fail_run(srv, c["id"])
    rx.next()
    d = wait_for(lambda: [x for x in deliveries(srv, hook["id"], status="failed") if x["attempts"] >= 1], "failed")[0]
    assert d["status"] == "failed" and d["next_attempt_at"] is not None and d["last_response_code"] == 500
    assert srv.ok("GET", "/v1/webhooks/%s" % hook["id"], expect=200)["failing_since"] is not None
    # disabling gives up what was still to send, with the reason
    srv.ok("PATCH", "/v1/webhooks/%s" % hook["id"], {"enabled": False}, expect=200)
    d = wait_for(lambda: deliveries(srv, hook["id"], status="dead"), "dead")[0]
    assert "disabled" in d["last_error"] and d["next_attempt_at"] is None
    with rx.lock:
        rx.plan = []


def test_redeliver_and_test_event(srv, rx):
    c = conn(srv)
    hook = add_hook(srv, rx.url(), connection_id=c["id"])
    fail_run(srv, c["id"])
    first = rx.next()
    d = wait_for(lambda: deliveries(srv, hook["id"], status="delivered"), "delivered")[0]
    again = srv.ok("POST", "/v1/webhooks/%s/deliveries/%s/redeliver" % (hook["id"], d["id"]), expect=202)
    assert again["id"] == d["id"] and again["status"] == "pending"
    second = rx.next()
    assert second["headers"]["webhook-id"] == first["headers"]["webhook-id"] and second["body"] == first["body"]
    assert sw_verify(hook["secret"], second["headers"], second["body"])
    wait_for(lambda: [x for x in deliveries(srv, hook["id"], status="delivered") if x["attempts"] == 2], "two attempts")

    t = srv.ok("POST", "/v1/webhooks/%s/test" % hook["id"], expect=202)
    assert t["event"] == "webhook.test"
    r = rx.next()
    p = json.loads(r["body"])
    assert p["type"] == "webhook.test" and p["data"]["run"] is None and p["data"]["connection"] is None
    assert sw_verify(hook["secret"], r["headers"], r["body"])
    srv.ok("POST", "/v1/webhooks/%s/deliveries/999999/redeliver" % hook["id"], expect=404)
    srv.ok("PATCH", "/v1/webhooks/%s" % hook["id"], {"enabled": False}, expect=200)
    err = srv.ok("POST", "/v1/webhooks/%s/test" % hook["id"], expect=409)
    assert err["error"]["field"] == "enabled"
    srv.ok("DELETE", "/v1/webhooks/%s" % hook["id"], expect=204)
    srv.ok("GET", "/v1/webhooks/%s" % hook["id"], expect=404)


def test_validation(srv, rx):
    for body, field in [
        ({"url": "ftp://127.0.0.1/x"}, "url"),
        ({"url": "file:///etc/passwd"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "http://"}, "url"),
        ({"url": "http://example.com/" + "a" * 3000}, "url"),
        ({"url": 5}, "url"),
        ({}, "url"),
        ({"url": rx.url(), "events": ["run.exploded"]}, "events"),
        ({"url": rx.url(), "events": []}, "events"),
        ({"url": rx.url(), "events": "run.failed"}, "events"),
        ({"url": rx.url(), "connection_id": 987654}, "connection_id"),
        ({"url": rx.url(), "secret": "mine"}, "secret"),
    ]:
        err = srv.ok("POST", "/v1/webhooks", body, expect=400)
        assert err["error"]["field"] == field, (body, err)
    assert "run.exploded" in srv.ok("POST", "/v1/webhooks", {"url": rx.url(), "events": ["run.exploded"]},
                                    expect=400)["error"]["message"]
    hooks = srv.ok("GET", "/v1/webhooks", expect=200)["data"]
    assert all(h["url"] != "ftp://127.0.0.1/x" for h in hooks)
    h = add_hook(srv, rx.url(), events=["*"])
    assert h["events"] == ["*"]
    err = srv.ok("PATCH", "/v1/webhooks/%s" % h["id"], {"url": "gopher://x"}, expect=400)
    assert err["error"]["field"] == "url"
    srv.ok("PATCH", "/v1/webhooks/nope", {"enabled": True}, expect=404)
    srv.ok("GET", "/v1/webhooks/%s/deliveries?status=lost" % h["id"], expect=400)
    srv.ok("DELETE", "/v1/webhooks/%s" % h["id"], expect=204)
    srv.ok("DELETE", "/v1/webhooks/%s" % h["id"], expect=404)


def test_only_admin_keys_manage_webhooks(srv, rx):
    write = srv.new_key("runs:write")
    srv.ok("GET", "/v1/webhooks", token=write, expect=403)
    srv.ok("POST", "/v1/webhooks", {"url": rx.url()}, token=write, expect=403)


def test_workspace_isolation(srv, rx):
    other = srv.new_workspace("webhooks-b")
    tb = other["token"]
    c = conn(srv)
    hook = add_hook(srv, rx.url(), connection_id=c["id"])
    fail_run(srv, c["id"])
    rx.next()
    d = wait_for(lambda: deliveries(srv, hook["id"]), "a delivery")[0]
    assert srv.ok("GET", "/v1/webhooks", token=tb, expect=200)["data"] == []
    for method, path in [("GET", "/v1/webhooks/%s" % hook["id"]),
                         ("PATCH", "/v1/webhooks/%s" % hook["id"]),
                         ("DELETE", "/v1/webhooks/%s" % hook["id"]),
                         ("POST", "/v1/webhooks/%s/test" % hook["id"]),
                         ("GET", "/v1/webhooks/%s/deliveries" % hook["id"]),
                         ("GET", "/v1/webhooks/%s/deliveries/%s" % (hook["id"], d["id"])),
                         ("POST", "/v1/webhooks/%s/deliveries/%s/redeliver" % (hook["id"], d["id"]))]:
        srv.ok(method, path, {"enabled": False} if method == "PATCH" else None, token=tb, expect=404)
    # B's webhook on A's connection is refused; B's own alerts never reach A's webhook
    srv.ok("POST", "/v1/webhooks", {"url": rx.url(), "connection_id": c["id"]}, token=tb, expect=400)
    cb = srv.create_connection(token=tb, name="b-conn")
    run = srv.trigger(cb["id"], {"state": "working"}, token=tb)
    srv.finish(run["id"], "error", token=tb)
    all_a = add_hook(srv, rx.url("/all-a"))
    run = srv.trigger(cb["id"], {"state": "working"}, token=tb)
    srv.finish(run["id"], "error", token=tb)
    rx.none(1.0)
    assert srv.ok("GET", "/v1/webhooks/%s" % hook["id"], expect=200)["enabled"] is True
    for h in (hook, all_a):
        srv.ok("DELETE", "/v1/webhooks/%s" % h["id"], expect=204)


def test_metrics_count_deliveries(srv, rx):
    c = conn(srv)
    hook = add_hook(srv, rx.url(), connection_id=c["id"])

    def counter(outcome):
        text = srv.request("GET", "/metrics").raw.decode()
        for line in text.splitlines():
            if line.startswith('syncrun_webhook_deliveries_total{outcome="%s"}' % outcome):
                return float(line.split()[-1])
        raise AssertionError("no series for %s" % outcome)

    before_ok, before_failed = counter("delivered"), counter("failed")
    rx.plan = [500]
    fail_run(srv, c["id"])
    rx.next()
    rx.next()
    wait_for(lambda: counter("delivered") == before_ok + 1, "delivered counted")
    assert counter("failed") == before_failed + 1
    text = srv.request("GET", "/metrics").raw.decode()
    assert "syncrun_webhook_delivery_duration_seconds_count" in text
    assert "syncrun_webhook_deliveries_waiting" in text
    srv.ok("DELETE", "/v1/webhooks/%s" % hook["id"], expect=204)


def test_auto_disable_after_failing_long_enough(tmp_path_factory, rx):
    s = start_server(tmp_path_factory, "wh-disable", FAST + ["--webhooks-disable-after", "2"])
    try:
        c = s.create_connection(name="flaky")
        hook = s.ok("POST", "/v1/webhooks", {"url": rx.url(), "connection_id": c["id"]}, expect=201)
        rx.plan = [500] * 1000
        fail_run(s, c["id"])
        h = wait_for(lambda: (lambda x: x if not x["enabled"] else None)(
            s.ok("GET", "/v1/webhooks/%s" % hook["id"], expect=200)), "disabled")
        assert "disabled automatically" in h["disabled_reason"] and "HTTP 500" in h["disabled_reason"]
        d = s.ok("GET", "/v1/webhooks/%s/deliveries" % hook["id"], expect=200)["data"][0]
        assert d["status"] == "dead" and d["attempts"] >= 2
        # while disabled, alerts make no delivery; enabling again clears the reason
        fail_run(s, c["id"])
        time.sleep(0.5)
        assert len(s.ok("GET", "/v1/webhooks/%s/deliveries" % hook["id"], expect=200)["data"]) == 1
        with rx.lock:
            rx.plan = []
        h = s.ok("PATCH", "/v1/webhooks/%s" % hook["id"], {"enabled": True}, expect=200)
        assert h["enabled"] is True and h["disabled_reason"] is None and h["failing_since"] is None
    finally:
        s.stop()


def test_pending_delivery_survives_a_crash(tmp_path_factory, rx):
    # the receiver is down (connection refused) until the server has been killed and restarted
    down = Receiver()
    url = down.url()
    down.close()
    s = start_server(tmp_path_factory, "wh-crash", FAST)
    try:
        c = s.create_connection(name="durable")
        hook = s.ok("POST", "/v1/webhooks", {"url": url, "connection_id": c["id"]}, expect=201)
        fail_run(s, c["id"])
        wait_for(lambda: s.ok("GET", "/v1/webhooks/%s/deliveries?status=failed" % hook["id"], expect=200)["data"],
                 "a failed attempt")
        s.kill()
        # a receiver on the same port again, then the server again
        up = http_server_on(url, rx)
        try:
            s.start()
            r = rx.next()
            assert sw_verify(hook["secret"], r["headers"], r["body"])
            assert json.loads(r["body"])["type"] == "run.failed"
        finally:
            up.shutdown()
            up.server_close()
    finally:
        s.stop()


def http_server_on(url, rx):
    """Serves rx's handler on the port of url (rebinding a port just released)."""
    port = int(url.split(":")[2].split("/")[0])
    handler = rx.httpd.RequestHandlerClass
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/x", "http://10.1.2.3/x", "http://169.254.169.254/latest/meta-data",
    "http://[::1]:9/x", "http://localhost:9/x", "http://[::ffff:127.0.0.1]/x", "http://100.64.0.1/x",
    "http://192.168.1.1/x", "http://0.0.0.0/x", "http://[fd00::1]/x", "http://[fe80::1]/x", "http://2130706433/x",
])
def test_private_targets_refused_by_default(default_srv, url):
    err = default_srv.ok("POST", "/v1/webhooks", {"url": url}, expect=400)
    assert err["error"]["field"] == "url" and "webhooks-allow-private" in err["error"]["message"], err


@pytest.fixture(scope="module")
def default_srv(tmp_path_factory):
    s = make_server(tmp_path_factory, "wh-default")
    yield s
    s.stop()


def test_private_target_refused_when_delivering(tmp_path_factory, rx):
    """A webhook made while private targets were allowed is still checked at delivery time, on the
    address actually connected to (a name could resolve elsewhere by then)."""
    s = start_server(tmp_path_factory, "wh-rebind", FAST)
    try:
        c = s.create_connection(name="rebind")
        hook = s.ok("POST", "/v1/webhooks", {"url": rx.url().replace("127.0.0.1", "localhost"),
                                             "connection_id": c["id"]}, expect=201)
        s.stop()
        s.extra_args = ["--webhooks-retry-base", "100"]
        s.start()
        fail_run(s, c["id"])
        d = wait_for(lambda: s.ok("GET", "/v1/webhooks/%s/deliveries?status=failed" % hook["id"],
                                  expect=200)["data"], "a refused attempt")[0]
        assert "refused to connect" in d["last_error"] and "loopback" in d["last_error"], d
        assert d["last_response_code"] is None
        rx.none(0.5)
    finally:
        s.stop()


def test_cli_add_list_deliveries_rm(srv, rx):
    c = conn(srv)
    h = srv.cli("webhook", "add", rx.url("/cli"), "--allow-private", "--events", "run.failed", "--connection",
                c["uuid"], "--db", srv.db, "--workspace", srv.workspace_id, "--json")
    assert h["secret"].startswith("whsec_") and h["events"] == ["run.failed"] and h["connection_id"] == c["id"]
    listed = srv.cli("webhook", "list", "--db", srv.db, "--workspace", srv.workspace_id, "--json")
    assert [x for x in listed if x["id"] == h["id"]] == [srv.ok("GET", "/v1/webhooks/%s" % h["id"], expect=200)]
    assert all("secret" not in x for x in listed)
    fail_run(srv, c["id"])  # the running server's dispatcher sends what the CLI added
    r = rx.next()
    assert r["path"] == "/cli" and sw_verify(h["secret"], r["headers"], r["body"])
    ds = wait_for(lambda: srv.cli("webhook", "deliveries", h["id"], "--status", "delivered", "--db", srv.db,
                                  "--workspace", srv.workspace_id, "--json"), "delivered")
    assert ds[0]["event"] == "run.failed" and ds[0]["attempts"] == 1
    assert srv.cli("webhook", "rm", h["id"], "--db", srv.db, "--workspace", srv.workspace_id, "--json") == {
        "webhook_id": h["id"], "deleted": True}
    srv.ok("GET", "/v1/webhooks/%s" % h["id"], expect=404)
    with pytest.raises(AssertionError):  # a loopback URL without --allow-private is refused
        srv.cli("webhook", "add", rx.url(), "--db", srv.db, "--workspace", srv.workspace_id, "--json")


def test_late_connection_is_delivered_without_a_run(srv, rx):
    """run.late (raised by the expectation checker through alert_raise, about the connection: no run)
    reaches the webhooks that want it, with "run": null."""
    hook = add_hook(srv, rx.url("/late"), events=["run.late"])  # before the connection: no race
    c = srv.create_connection(name="late-%s" % uuid.uuid4().hex[:6], expect={"interval_seconds": 1})
    r = rx.next()
    p = json.loads(r["body"])
    assert r["path"] == "/late" and p["type"] == "run.late", p
    assert p["data"]["run"] is None and p["data"]["connection"]["id"] == c["id"]
    assert c["name"] in p["data"]["summary"]
    assert sw_verify(hook["secret"], r["headers"], r["body"])
    d = wait_for(lambda: deliveries(srv, hook["id"], status="delivered"), "delivered")[0]
    assert d["run_id"] is None and d["alert_id"] == p["data"]["alert"]["alert_id"]
    srv.ok("DELETE", "/v1/webhooks/%s" % hook["id"], expect=204)


def test_redirects_are_not_followed(srv, rx):
    c = conn(srv)
    hook = add_hook(srv, rx.url("/moved"), connection_id=c["id"])
    rx.plan = [302]  # the receiver answers 302 (no Location needed: it must not be followed anyway)
    fail_run(srv, c["id"])
    first, second = rx.next(), rx.next()
    assert first["path"] == second["path"] == "/moved"
    full = wait_for(lambda: [x for x in deliveries(srv, hook["id"], status="delivered")], "delivered")[0]
    log = srv.ok("GET", "/v1/webhooks/%s/deliveries/%s" % (hook["id"], full["id"]), expect=200)["attempt_log"]
    assert log[0]["response_code"] == 302 and "redirects are not followed" in log[0]["error"], log
    srv.ok("DELETE", "/v1/webhooks/%s" % hook["id"], expect=204)


def test_a_hanging_receiver_does_not_hold_up_the_others(tmp_path_factory, rx):
    """Attempts run side by side: while one receiver holds its requests open (attempts time out after
    30 s here), another webhook's delivery still arrives; so do the hanging one's other deliveries."""
    s = start_server(tmp_path_factory, "wh-parallel", ["--webhooks-allow-private", "--webhooks-timeout", "30"])
    release = threading.Event()
    slow = Receiver()
    slow.plan = [("wait", release)] * 3
    orig = slow.httpd.RequestHandlerClass.do_POST

    def do_post(handler):
        with slow.lock:
            step = slow.plan[0] if slow.plan else None
        if step is not None and step[0] == "wait":
            with slow.lock:
                slow.plan.pop(0)
            n = int(handler.headers.get("content-length", "0"))
            body = handler.rfile.read(n)
            slow.got.put({"path": handler.path, "headers": {k.lower(): v for k, v in handler.headers.items()},
                          "body": body, "answered": "held"})
            step[1].wait(20)
            handler.send_response(200)
            handler.send_header("content-length", "0")
            handler.end_headers()
            return
        orig(handler)

    slow.httpd.RequestHandlerClass.do_POST = do_post
    try:
        a, b = s.create_connection(name="slow"), s.create_connection(name="fast")
        s.ok("POST", "/v1/webhooks", {"url": slow.url(), "connection_id": a["id"]}, expect=201)
        s.ok("POST", "/v1/webhooks", {"url": rx.url("/fast"), "connection_id": b["id"]}, expect=201)
        for _ in range(3):
            fail_run(s, a["id"])
        held = [slow.next() for _ in range(3)]  # three requests held open at once
        assert len({h["headers"]["webhook-id"] for h in held}) == 3
        fail_run(s, b["id"])
        r = rx.next()  # arrives while the three are still held
        assert r["path"] == "/fast" and json.loads(r["body"])["data"]["connection"]["id"] == b["id"]
    finally:
        release.set()
        slow.close()
        s.stop()


def test_finished_deliveries_are_pruned_after_the_keep_time(tmp_path_factory, rx):
    s = start_server(tmp_path_factory, "wh-keep", FAST + ["--webhooks-keep", "1"])
    try:
        c = s.create_connection(name="kept")
        done = s.ok("POST", "/v1/webhooks", {"url": rx.url(), "connection_id": c["id"]}, expect=201)
        down = Receiver()
        closed_url = down.url()
        down.close()
        failing = s.ok("POST", "/v1/webhooks", {"url": closed_url, "connection_id": c["id"]}, expect=201)
        fail_run(s, c["id"])
        rx.next()
        d = wait_for(lambda: s.ok("GET", "/v1/webhooks/%s/deliveries?status=delivered" % done["id"],
                                  expect=200)["data"], "delivered")[0]
        wait_for(lambda: s.ok("GET", "/v1/webhooks/%s/deliveries?status=failed" % failing["id"],
                              expect=200)["data"], "a failed attempt")
        time.sleep(1.2)  # past the keep time; pruning runs at start (then hourly)
        s.restart()  # the dispatcher prunes as it starts, beside the requests
        wait_for(lambda: s.ok("GET", "/v1/webhooks/%s/deliveries" % done["id"], expect=200)["data"] == [],
                 "the delivered delivery to be pruned")
        s.ok("GET", "/v1/webhooks/%s/deliveries/%s" % (done["id"], d["id"]), expect=404)
        # a delivery still being retried is kept, whatever its age
        assert s.ok("GET", "/v1/webhooks/%s/deliveries" % failing["id"], expect=200)["data"]
    finally:
        s.stop()
