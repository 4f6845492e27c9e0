"""HTTPS served by syncrun itself, and the scheme of the links it builds (issue 10).

`syncrun serve --tls-cert FILE --tls-key FILE` serves HTTPS (h2o + OpenSSL) with a self-signed
certificate this test makes; links (iTwin `_links`) use https then, and behind a proxy with
`--trust-proxy` the scheme the proxy reports (X-Forwarded-Proto or Forwarded: proto=)."""

import socket
import ssl
import subprocess

import pytest

from test_runner import SH, make_conn, script, wait_finished

ITWIN = "/synchronization/imodels/manifestconnections/"


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    crt, key = d / "server.crt", d / "server.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(crt)],
                   check=True, capture_output=True)
    return str(crt), str(key)


@pytest.fixture
def tls_server(server_factory, cert):
    srv = server_factory("tls", start=False)
    srv.extra_args = ["--tls-cert", cert[0], "--tls-key", cert[1]]
    ctx = ssl.create_default_context(cafile=cert[0])
    srv.ssl_context = ctx
    srv.start()
    return srv


def test_https_with_a_self_signed_certificate(tls_server, cert):
    srv = tls_server
    c = srv.create_connection(name="over-tls")
    run = srv.trigger(c["id"], expect=201)
    assert srv.get_run(run["id"])["id"] == run["id"]
    conn = srv.connect()
    try:
        conn.connect()
        assert conn.sock.version() in ("TLSv1.2", "TLSv1.3"), conn.sock.version()
    finally:
        conn.close()
    page = srv.ok("GET", ITWIN + c["uuid"] + "/runs", expect=200)
    assert page["_links"]["self"]["href"].startswith("https://127.0.0.1:%d/" % srv.port), page["_links"]
    census = srv.ok("GET", "/api/v1/syncs/%s/sync_runs" % c["id"], expect=200)
    assert census["data"][0]["id"] == run["id"]


def test_plain_http_on_the_tls_port_gets_no_answer(tls_server):
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=5) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except (ConnectionResetError, socket.timeout):
            pass
    assert b"HTTP/1.1 200" not in data, data[:200]
    assert tls_server.request("GET", "/healthz", token=None).status == 200  # and it still serves TLS


def test_a_command_gets_an_https_url(tls_server, cert, tmp_path):
    out = tmp_path / "url"
    sc = script(tmp_path, "url.sh", 'echo "$SYNCRUN_URL" > "%s"\n'
                'curl -s -o /dev/null -w "%%{http_code}" --cacert "%s" -H "Authorization: Bearer $SYNCRUN_TOKEN" '
                '"$SYNCRUN_URL/v1/runs/$SYNCRUN_RUN_ID" >> "%s"\n' % (out, cert[0], out))
    c = make_conn(tls_server, [SH, sc])
    run = wait_finished(tls_server, tls_server.trigger(c["id"], expect=201)["id"])
    assert run["result"] == "success", run
    url, code = out.read_text().split("\n")
    assert url == "https://127.0.0.1:%d" % tls_server.port and code == "200", (url, code)


@pytest.mark.parametrize("args, cert_ok, message", [
    (["--tls-cert", "CERT"], True, "--tls-cert and --tls-key go together"),
    (["--tls-cert", "/nonexistent.pem", "--tls-key", "KEY"], True, "cannot read the certificate"),
    (["--tls-cert", "CERT", "--tls-key", "CERT"], True, "cannot read the private key"),
])
def test_bad_tls_options_are_refused_clearly(server_factory, cert, args, cert_ok, message):
    srv = server_factory("tls-bad", start=False)
    argv = [a.replace("CERT", cert[0]).replace("KEY", cert[1]) for a in args]
    p = subprocess.run([srv.bin, "serve", "--db", srv.db, "--listen", "127.0.0.1:0"] + argv, capture_output=True,
                       timeout=20)
    assert p.returncode != 0
    assert message in p.stderr.decode(), p.stderr.decode()


def links(srv, c, headers):
    return srv.ok("GET", ITWIN + c["uuid"] + "/runs", expect=200, headers=headers)["_links"]["self"]["href"]


def test_forwarded_proto_is_ignored_unless_trusted(server):
    c = server.create_connection(name="proxy-untrusted")
    for h in ({"X-Forwarded-Proto": "https"}, {"Forwarded": "for=1.2.3.4;proto=https"}):
        assert links(server, c, h).startswith("http://"), h


@pytest.mark.parametrize("headers, scheme", [
    ({"X-Forwarded-Proto": "https"}, "https"),
    ({"X-Forwarded-Proto": "HTTPS, http"}, "https"),
    ({"X-Forwarded-Proto": "http"}, "http"),
    ({"X-Forwarded-Proto": "gopher"}, "http"),
    ({"Forwarded": "for=192.0.2.60;proto=https;by=203.0.113.43"}, "https"),
    ({"Forwarded": "proto=\"https\", proto=http"}, "https"),
    ({"Forwarded": "for=192.0.2.60"}, "http"),
    ({}, "http"),
])
def test_trusted_proxy_sets_the_scheme_of_links(server_factory, headers, scheme):
    srv = server_factory("proxy", start=False)
    srv.extra_args = ["--trust-proxy"]
    srv.start()
    c = srv.create_connection(name="proxy")
    assert links(srv, c, headers).startswith(scheme + "://127.0.0.1:%d/" % srv.port), headers
