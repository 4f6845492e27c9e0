"""The web dashboard's server side (issue 13): the files served at / and /ui/, their headers,
GET /v1/whoami, and the signed-in link `serve --demo` prints. The pages themselves are tested in
a real browser by tests/browser/dashboard.test.mjs (make browser)."""

import os
import re
import time

import pytest

from conftest import REPO, Server, syncrun_bin

FILES = {
    "/": "text/html",
    "/ui": "text/html",
    "/ui/index.html": "text/html",
    "/ui/app.js": "text/javascript",
    "/ui/app.css": "text/css",
    "/ui/uplot.js": "text/javascript",
    "/ui/uplot.css": "text/css",
}


def test_files_are_served_with_their_type_and_strict_headers(server):
    with open(os.path.join(REPO, "web", "app.js"), "rb") as f:
        app_js = f.read()
    for path, ctype in FILES.items():
        r = server.request("GET", path, token=None)
        assert r.status == 200, r.describe()
        assert r.headers["content-type"].split(";")[0] == ctype, r.describe()
        csp = r.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self';" in csp and "connect-src 'self'" in csp, csp
        assert "unsafe" not in csp and "http" not in csp and "*" not in csp, csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["cache-control"] == "no-cache"
        assert re.fullmatch(r'"[0-9a-f]{16}"', r.headers["etag"]), r.describe()
        if path == "/ui/app.js":
            assert r.raw == app_js, "the served app.js is not web/app.js (rebuild: make)"


def test_a_file_is_revalidated_with_its_etag(server):
    r = server.request("GET", "/ui/app.css", token=None)
    again = server.request("GET", "/ui/app.css", token=None, headers={"If-None-Match": r.headers["etag"]})
    assert again.status == 304 and again.raw == b"" and again.headers["etag"] == r.headers["etag"], again.describe()
    other = server.request("GET", "/ui/app.css", token=None, headers={"If-None-Match": '"0000000000000000"'})
    assert other.status == 200 and other.raw == r.raw, other.describe()
    # each file has its own tag
    tags = {server.request("GET", p, token=None).headers["etag"] for p in ("/ui/app.js", "/ui/app.css", "/ui/uplot.js")}
    assert len(tags) == 3, tags


def test_the_page_names_its_files_by_version_and_those_are_cached_for_good(server):
    # index.html names each file as /ui/<file>?v=<its ETag>; that URL is immutable (a load of the
    # page asks for nothing else again), the same file without or with another version is not
    page = server.request("GET", "/", token=None)
    assert page.headers["cache-control"] == "no-cache", page.describe()
    refs = dict(re.findall(r'"/ui/([a-z.]+)\?v=([0-9a-f]{16})"', page.raw.decode()))
    assert set(refs) == {"app.js", "app.css", "uplot.js", "uplot.css"}, page.raw.decode()
    for name, version in refs.items():
        r = server.request("GET", "/ui/%s?v=%s" % (name, version), token=None)
        assert r.status == 200 and r.headers["etag"] == '"%s"' % version, r.describe()
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable", r.describe()
        assert r.raw == server.request("GET", "/ui/" + name, token=None).raw
        for other in ("", "?v=0000000000000000", "?v=" + version.upper(), "?v=%s&v=x" % version[:-1]):
            r = server.request("GET", "/ui/%s%s" % (name, other), token=None)
            assert r.status == 200 and r.headers["cache-control"] == "no-cache", (other, r.describe())
    # index.html's own tag is of what it serves (the versions are in it)
    again = server.request("GET", "/", token=None, headers={"If-None-Match": page.headers["etag"]})
    assert again.status == 304, again.describe()


def test_the_page_loads_nothing_from_another_host(server):
    page = server.request("GET", "/", token=None).raw.decode()
    refs = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert refs, page
    for ref in refs:
        assert ref.startswith("/ui/") or ref.startswith("data:") or ref.startswith("#"), "index.html loads %r" % ref
    assert "<script>" not in page and "<style" not in page and "style=" not in page, "inline script or style"
    assert not re.search(r"\son[a-z]+=", page), "an inline event handler in index.html"


def test_unknown_files_are_404_and_never_a_path(server):
    for path in ("/ui/secret.txt", "/ui/..%2f..%2fsyncrun.db", "/ui/app.js.map", "/ui/%00"):
        r = server.request("GET", path, token=None)
        assert r.status == 404, r.describe()
        assert r.json["error"]["code"] == "not_found", r.describe()


def test_whoami_tells_the_scope_and_workspace_of_each_key(server):
    for scope, can_write in (("runs:read", False), ("runs:write", True), ("admin", True), ("metrics:read", False)):
        tok = server.new_key(scope)
        r = server.request("GET", "/v1/whoami", token=tok)
        if scope == "metrics:read":  # a metrics key reads /metrics only
            assert r.status == 403, r.describe()
            continue
        assert r.status == 200, r.describe()
        assert r.json["scope"] == scope and r.json["can_write"] is can_write, r.json
        assert r.json["workspace"]["id"] == server.workspace_id and r.json["run_id"] is None, r.json
    assert server.request("GET", "/v1/whoami", token=None).status == 401
    assert server.request("GET", "/v1/whoami", token="sr_nothing").status == 401


@pytest.fixture
def demo(tmp_path):
    s = Server(syncrun_bin(), tmp_path)
    s.extra_args = ["--demo"]
    s.start()
    yield s
    s.stop()


def test_demo_prints_a_dashboard_link_that_signs_in(demo):
    deadline = time.monotonic() + 10
    m = None
    while m is None and time.monotonic() < deadline:
        m = re.search(r"dashboard: http://127\.0\.0\.1:(\d+)/#token=(sr_[A-Za-z0-9_-]+)", demo.log_tail(20000))
        time.sleep(0.05)
    assert m, demo.log_tail()
    assert int(m.group(1)) == demo.port
    r = demo.request("GET", "/v1/whoami", token=m.group(2))
    assert r.status == 200 and r.json["scope"] == "admin" and r.json["workspace"]["name"] == "demo", r.describe()
    assert demo.request("GET", "/", token=None).status == 200
