"""A webhook's URL host is resolved off the event loop (issue 12's webhooks, a defect found after):
while a name's lookup stands still, as behind a slow DNS server, the other requests of the same loop
are answered; the create is answered once the lookup ends, by the addresses it found; a client that
leaves meanwhile leaves nothing behind.

The slow resolver is tests/http/shims/gated_resolver.c, preloaded into the server: a lookup of
slow.example waits for a gate file, then answers the address the file holds."""
import os
import socket
import subprocess
import threading

import pytest

from conftest import make_server, syncrun_bin

HERE = os.path.dirname(os.path.abspath(__file__))
NAME = "slow.example"
GUARD = 20  # seconds: only a bound on a hang, never a measured time


def _wait_file(path, what):
    deadline = threading.Event()
    for _ in range(GUARD * 100):
        if os.path.exists(path):
            return
        deadline.wait(0.01)
    pytest.fail("%s never happened" % what)


@pytest.fixture(scope="module")
def gated(tmp_path_factory, request):
    if "tsan" in os.path.basename(os.path.dirname(os.path.abspath(syncrun_bin()))):
        pytest.skip("a ThreadSanitizer binary intercepts getaddrinfo itself, ahead of a preloaded one")
    d = tmp_path_factory.mktemp("gated")
    lib = str(d / "gated_resolver.so")
    subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-o", lib, os.path.join(HERE, "shims", "gated_resolver.c"),
                    "-ldl"], check=True)
    gate = str(d / "gate")
    env = {"LD_PRELOAD": lib, "GATED_RESOLVER_NAME": NAME, "GATED_RESOLVER_GATE": gate,
           "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        srv = make_server(tmp_path_factory, "gated", start=False)
        srv.extra_args = ["--threads", "1"]  # one loop: a blocked loop would block every request
        srv.start()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    yield srv, gate
    srv.stop()


def _close_gate(gate):
    for p in (gate, gate + ".entered"):
        if os.path.exists(p):
            os.unlink(p)


def _open_gate(gate, address):
    with open(gate + ".tmp", "w") as f:
        f.write(address + "\n")
    os.rename(gate + ".tmp", gate)


def _create_in_background(srv, url):
    out = {}

    def go():
        out["resp"] = srv.request("POST", "/v1/webhooks", {"url": url}, timeout=GUARD)

    t = threading.Thread(target=go)
    t.start()
    return t, out


@pytest.mark.parametrize("address,status", [("127.0.0.1", 400), ("8.8.8.8", 201)])
def test_other_requests_are_answered_while_a_name_resolves(gated, address, status):
    srv, gate = gated
    _close_gate(gate)
    before = len(srv.ok("GET", "/v1/webhooks", expect=200)["data"])
    t, out = _create_in_background(srv, "https://%s/hooks/%s" % (NAME, address))
    _wait_file(gate + ".entered", "the lookup of %s" % NAME)

    # the loop that took the create answers others meanwhile (it used to wait in getaddrinfo)
    assert srv.request("GET", "/healthz", token=None, timeout=GUARD).status == 200
    assert len(srv.ok("GET", "/v1/webhooks", expect=200)["data"]) == before
    assert t.is_alive() and "resp" not in out

    _open_gate(gate, address)
    t.join(GUARD)
    assert not t.is_alive(), "the create was never answered"
    r = out["resp"]
    assert r.status == status, r.raw[:500]
    hooks = srv.ok("GET", "/v1/webhooks", expect=200)["data"]
    if status == 400:
        assert r.json["error"]["field"] == "url" and "loopback" in r.json["error"]["message"], r.json
        assert len(hooks) == before  # refused: nothing written
    else:
        assert r.json["url"] == "https://%s/hooks/%s" % (NAME, address) and r.json["secret"], r.json
        assert len(hooks) == before + 1


def test_an_update_is_judged_by_the_resolved_addresses(gated):
    srv, gate = gated
    _close_gate(gate)
    _open_gate(gate, "8.8.4.4")
    h = srv.ok("POST", "/v1/webhooks", {"url": "https://%s/u" % NAME}, expect=201)
    _close_gate(gate)
    _open_gate(gate, "10.1.2.3")
    r = srv.request("PATCH", "/v1/webhooks/%s" % h["id"], {"url": "https://%s/private" % NAME})
    assert r.status == 400 and r.json["error"]["field"] == "url" and "private" in r.json["error"]["message"], r.json
    assert srv.ok("GET", "/v1/webhooks/%s" % h["id"], expect=200)["url"] == "https://%s/u" % NAME


def test_a_client_that_leaves_during_the_lookup_leaves_nothing(gated):
    srv, gate = gated
    _close_gate(gate)
    before = len(srv.ok("GET", "/v1/webhooks", expect=200)["data"])
    body = b'{"url":"https://%s/left"}' % NAME.encode()
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=GUARD)
    s.sendall(b"POST /v1/webhooks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + srv.admin_token.encode() +
              b"\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    _wait_file(gate + ".entered", "the lookup of %s" % NAME)
    s.close()
    # let h2o see the close before the lookup answers
    assert srv.request("GET", "/healthz", token=None, timeout=GUARD).status == 200
    _open_gate(gate, "8.8.8.8")
    # the lookup's answer arrives for a request that is gone (or is written for a client that left)
    for _ in range(3):
        assert srv.request("GET", "/healthz", token=None, timeout=GUARD).status == 200
    assert srv.proc.poll() is None, srv.log_tail()
    assert len(srv.ok("GET", "/v1/webhooks", expect=200)["data"]) <= before + 1
