"""Black-box HTTP test harness for syncrun.

Starts the real binary (`$SYNCRUN_BIN`, default `<repo>/build/syncrun`) on a free loopback
port with its own database in a temp dir, and talks to it over plain HTTP/1.1 with the
standard library only.

    srv = Server(bin, tmpdir); srv.init(); srv.start()
    r = srv.request("GET", "/v1/connections")          # admin token by default
    status, headers, body, raw = r                     # Resp is a 4-tuple
    srv.request("GET", "/v1/connections", token=None)  # no Authorization header
    srv.request("GET", "/x", auth=("user", "pass"))    # HTTP Basic
    srv.kill(); srv.start()                            # crash + restart on the same db
"""

import base64
import collections
import http.client
import json
import os
import signal
import socket
import subprocess
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_BIN = os.path.join(REPO, "build", "syncrun")

READY_TIMEOUT = 10.0
STOP_GRACE = 5.0
CLI_TIMEOUT = 20.0
REQUEST_TIMEOUT = 15.0

_ADMIN = object()  # sentinel: "use the server's admin token"


def syncrun_bin():
    return os.environ.get("SYNCRUN_BIN") or DEFAULT_BIN


def free_port():
    """A free loopback port (bind port 0, read it back, release it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Headers(dict):
    """Response headers with case-insensitive names (stored lower-case; a repeated header's
    values are joined with ", ")."""

    def __init__(self, pairs=()):
        super().__init__()
        self.pairs = list(pairs)
        for k, v in self.pairs:
            k = k.lower()
            self[k] = v if k not in self else self[k] + ", " + v

    def __getitem__(self, k):
        return super().__getitem__(k.lower())

    def __contains__(self, k):
        return super().__contains__(k.lower())

    def get(self, k, default=None):
        return super().get(k.lower(), default)


Resp = collections.namedtuple("Resp", "status headers json raw")


def _describe_resp(r):
    body = r.raw[:2000].decode("utf-8", "replace")
    hdrs = "\n".join("  %s: %s" % kv for kv in r.headers.pairs)
    return "HTTP %s\n%s\n  body: %s" % (r.status, hdrs, body)


Resp.describe = _describe_resp
Resp.__str__ = _describe_resp


def encode_body(body):
    if body is None:
        return None
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body).encode("utf-8")


def basic(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


class CliError(AssertionError):
    pass


class Server:
    """One syncrun process with its own database."""

    def __init__(self, binary, workdir):
        self.bin = binary
        self.dir = str(workdir)
        os.makedirs(self.dir, exist_ok=True)
        self.db = os.path.join(self.dir, "syncrun.db")
        self.stderr_path = os.path.join(self.dir, "server.log")
        self.extra_args = []  # more `syncrun serve` options, e.g. ["--rate-limit", "itwin=5/60"]
        self.ssl_context = None  # an ssl.SSLContext: talk HTTPS (for servers started with --tls-cert)
        self.proc = None
        self.port = None
        self.workspace_id = None
        self.admin_token = None

    # ---- command line -------------------------------------------------------------------

    def cli(self, *args):
        """Runs `syncrun ARGS...`, returns the parsed JSON it prints (fails loudly)."""
        argv = [self.bin] + [str(a) for a in args]
        try:
            p = subprocess.run(argv, capture_output=True, timeout=CLI_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise CliError("%s: timed out after %ss" % (" ".join(argv), CLI_TIMEOUT))
        if p.returncode != 0:
            raise CliError(
                "%s: exit %d\nstdout: %s\nstderr: %s"
                % (" ".join(argv), p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace"))
            )
        try:
            return json.loads(p.stdout)
        except ValueError:
            raise CliError("%s: stdout is not JSON: %r" % (" ".join(argv), p.stdout[:500]))

    def init(self):
        out = self.cli("init", "--db", self.db, "--json")
        assert isinstance(out.get("workspace_id"), int), out
        assert isinstance(out.get("token"), str) and out["token"], out
        self.workspace_id, self.admin_token = out["workspace_id"], out["token"]
        return out

    def new_workspace(self, name="other"):
        """{"workspace_id": N, "token": "..."} of a new workspace (admin key)."""
        out = self.cli("workspace", "create", name, "--db", self.db, "--json")
        assert isinstance(out.get("workspace_id"), int) and isinstance(out.get("token"), str), out
        return out

    def new_key(self, scope, workspace_id=None):
        """Token of a new key of `scope` (runs:read, runs:write, admin)."""
        ws = self.workspace_id if workspace_id is None else workspace_id
        out = self.cli("key", "create", "--db", self.db, "--workspace", ws, "--scope", scope, "--json")
        assert isinstance(out.get("token"), str) and out["token"], out
        return out["token"]

    # ---- process ------------------------------------------------------------------------

    def log_tail(self, n=4000):
        try:
            with open(self.stderr_path, "rb") as f:
                data = f.read()
            return data[-n:].decode("utf-8", "replace")
        except OSError:
            return "(no log)"

    def start(self):
        assert self.proc is None, "already running"
        last = None
        for _attempt in range(3):  # a port picked by free_port() may be taken in between
            self.port = free_port()
            log = open(self.stderr_path, "ab")
            log.write(("\n==== serve on port %d ====\n" % self.port).encode())
            log.flush()
            self.proc = subprocess.Popen(
                [self.bin, "serve", "--db", self.db, "--listen", "127.0.0.1:%d" % self.port] + self.extra_args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
            log.close()
            deadline = time.monotonic() + READY_TIMEOUT
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    r = self.request("GET", "/healthz", token=None, timeout=2)
                    if r.status == 200:
                        return self
                except OSError:
                    pass
                time.sleep(0.02)
            code = self.proc.poll()
            if code is None:  # alive but never ready: do not retry
                self._stop(signal.SIGKILL)
                pytest.fail("syncrun serve not ready after %ss\n--- server log ---\n%s" % (READY_TIMEOUT, self.log_tail()))
            self.proc = None
            last = code
            if "in use" not in self.log_tail(600).lower():
                break
        pytest.fail("syncrun serve exited with %s before answering /healthz\n--- server log ---\n%s" % (last, self.log_tail()))

    def _stop(self, sig):
        p, self.proc = self.proc, None
        if p is None:
            return None
        if p.poll() is None:
            try:
                p.send_signal(sig)
            except ProcessLookupError:
                pass
            try:
                p.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return p.returncode

    def stop(self):
        """SIGTERM, then SIGKILL after 5 s. Returns the exit status."""
        return self._stop(signal.SIGTERM)

    def kill(self):
        """SIGKILL at once (a crash)."""
        return self._stop(signal.SIGKILL)

    def restart(self):
        self.stop()
        return self.start()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    # ---- HTTP ---------------------------------------------------------------------------

    def connect(self, timeout=REQUEST_TIMEOUT):
        if self.ssl_context is not None:
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout, context=self.ssl_context)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def auth_headers(self, token=_ADMIN, auth=None):
        if auth is not None:
            return {"Authorization": basic(*auth)}
        if token is _ADMIN:
            token = self.admin_token
        if token is None:
            return {}
        return {"Authorization": "Bearer " + token}

    def request(self, method, path, body=None, token=_ADMIN, headers=None, auth=None, timeout=REQUEST_TIMEOUT, conn=None):
        """One request. `body`: dict/list (sent as JSON), str or bytes (sent as is).
        `token`: a Bearer token (default: the admin token; None: no credentials).
        `auth`: (user, password) for HTTP Basic instead. `conn`: reuse a keep-alive
        http.client connection. Returns Resp(status, headers, json-or-None, raw)."""
        h = self.auth_headers(token, auth)
        data = encode_body(body)
        if data is not None:
            h["Content-Type"] = "application/json"
        for k, v in (headers or {}).items():
            for existing in list(h):
                if existing.lower() == k.lower():
                    del h[existing]
            if v is not None:
                h[k] = v
        own = conn is None
        c = self.connect(timeout) if own else conn
        try:
            try:
                c.request(method, path, body=data, headers=h)
            except (BrokenPipeError, ConnectionResetError):
                # the server may answer (e.g. 413) and close before reading a large body:
                # its answer is still in our receive buffer
                if data is None or len(data) < 65536:
                    raise
            resp = c.getresponse()
            raw = resp.read()
            hdrs = Headers(resp.getheaders())
            status = resp.status
        finally:
            if own:
                c.close()
        parsed = None
        if raw:
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
        return Resp(status, hdrs, parsed, raw)

    # ---- conveniences -------------------------------------------------------------------

    def ok(self, method, path, body=None, expect=(200, 201), **kw):
        """request() that asserts the status and returns the JSON body."""
        r = self.request(method, path, body, **kw)
        exp = (expect,) if isinstance(expect, int) else tuple(expect)
        assert r.status in exp, "%s %s %s\n-> expected %s, got\n%s" % (method, path, body, exp, r.describe())
        return r.json

    def create_connection(self, token=_ADMIN, **fields):
        fields.setdefault("name", "conn")
        return self.ok("POST", "/v1/connections", fields, expect=201, token=token)

    def trigger(self, conn_id, body=None, token=_ADMIN, expect=(200, 201), headers=None):
        return self.ok("POST", "/v1/connections/%s/runs" % conn_id, body if body is not None else {},
                       expect=expect, token=token, headers=headers)

    def get_run(self, run_id, token=_ADMIN):
        return self.ok("GET", "/v1/runs/%s" % run_id, expect=200, token=token)

    def finish(self, run_id, result="success", token=_ADMIN, **extra):
        body = dict(extra, result=result)
        return self.ok("POST", "/v1/runs/%s/finish" % run_id, body, expect=200, token=token)


def make_server(tmp_path_factory, name="srv", start=True):
    binary = syncrun_bin()
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        pytest.fail("syncrun binary not found at %s (set SYNCRUN_BIN or run `make`)" % binary)
    srv = Server(binary, tmp_path_factory.mktemp(name))
    srv.init()
    if start:
        srv.start()
    return srv


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A running server with an initialised workspace, shared by one test module."""
    srv = make_server(tmp_path_factory, "mod")
    yield srv
    srv.stop()


@pytest.fixture
def fresh_server(tmp_path_factory):
    """A running server on an empty database, for one test."""
    srv = make_server(tmp_path_factory, "fresh")
    yield srv
    srv.stop()


@pytest.fixture
def server_factory(tmp_path_factory):
    """Creates servers (not started when start=False); all are stopped at teardown."""
    made = []

    def factory(name="srv", start=True):
        s = make_server(tmp_path_factory, name, start)
        made.append(s)
        return s

    yield factory
    for s in made:
        s.stop()


@pytest.fixture(scope="module")
def keys(server):
    """Extra keys of the module server's workspace and a second workspace's admin key."""
    other = server.new_workspace("other-ws")
    return {
        "admin": server.admin_token,
        "read": server.new_key("runs:read"),
        "write": server.new_key("runs:write"),
        "other": other["token"],
        "other_workspace_id": other["workspace_id"],
    }
