#!/usr/bin/env python3
"""Writes seed inputs for the HTTP fuzz targets from the declarative HTTP test cases
(tests/http/cases/*.json) into OUT/<target>/: the requests the suite knows to be interesting, in
each target's input format, with harness.h's placeholders for keys and ids. The committed corpora
were made from them with libFuzzer's merge, which keeps only inputs that add coverage:

    python3 fuzz/seeds.py /tmp/seeds
    build-fuzz/fuzz_http -merge=1 fuzz/corpus/http /tmp/seeds/http     (and so on per target)
"""
import base64
import glob
import json
import os
import re
import sys

BODY_ROUTES = [  # fuzz_http_body.c's table: (method, path regex)
    ("POST", r"/v1/connections$"),
    ("PATCH", r"/v1/connections/[^/]+$"),
    ("POST", r"/v1/connections/[^/]+/runs$"),
    ("POST", r"/v1/connections/[^/]+/runs:import\?format=census"),
    ("POST", r"/v1/connections/[^/]+/runs:import\?format=braze"),
    ("POST", r"/v1/connections/[^/]+/runs:import\?format=blueconic"),
    ("POST", r"/v1/connections/[^/]+/runs:import\?format=itwin"),
    ("PATCH", r"/v1/runs/[^/]+$"),
    ("POST", r"/v1/runs/[^/]+/finish$"),
    ("POST", r"/v1/runs/[^/]+/cancel$"),
    ("POST", r"/v1/runs/[^/]+/log$"),
    ("POST", r"/v1/runs/[^/]+/jobs$"),
    ("PATCH", r"/v1/runs/[^/]+/jobs/[^/]+$"),
    ("POST", r"/v1/runs/[^/]+/jobs/[^/]+/tasks$"),
    ("PATCH", r"/v1/runs/[^/]+/jobs/[^/]+/tasks/[^/]+$"),
    ("POST", r"/api/v1/syncs/[^/]+/trigger$"),
    ("POST", r"/cdi/integrations/[^/]+/sync$"),
]
QUERY_PATHS = [  # fuzz_http_query.c's table
    "/v1/connections", "/v1/connections/1/runs", "/v1/connections/@CONNUUID@/runs", "/v1/runs/1",
    "/v1/runs/@RUN@", "/v1/runs/1/events", "/v1/runs/1/log", "/v1/runs/1/jobs", "/api/v1/syncs/1/sync_runs",
    "/api/v1/sync_runs/1", "/connections/4/runs", "/synchronization/imodels/manifestconnections/5/runs",
    "/synchronization/imodels/manifestconnections/5/runs/400", "/cdi/integrations/@CONNUUID@/job_sync_status",
    "/api/v1/syncs", "/cdi/integrations",
]
AUTH = {
    None: "Bearer @TOKEN@", "admin": "Bearer @TOKEN@", "write": "Bearer @TOKEN@", "read": "Bearer @ROTOKEN@",
    "other_ws": "Bearer @OTHER@", "none": None, "bogus": "Bearer bogus-token",
    "basic_pass": "Basic @B64TOKEN@", "basic_user": "Basic @B64TOKEN@", "basic_read_user": "Basic @B64TOKEN@",
    "basic_other_pass": "Basic @B64TOKEN@",
}


def value(name):
    if name.startswith("repeat:"):
        _, s, n = name.split(":")
        return s * int(n)
    if "uuid" in name:
        return "@RUNUUID@" if name.startswith("r") else "@CONNUUID@"
    if re.fullmatch(r"(run\d*|r\d*|rs|re|rt|rc)", name):
        return "@RUN@"
    if re.fullmatch(r"(c\d*|conn.*|cx.*|skc)", name):
        return "2"
    return "1"


def subst(s):
    return re.sub(r"\$\{([^}]*)\}", lambda m: value(m.group(1)), s)


def main(out):
    n = 0
    targets = ("http", "http_body", "http_query", "http_auth")
    for t in targets:
        os.makedirs(os.path.join(out, t), exist_ok=True)

    def put(target, data):
        nonlocal n
        n += 1
        with open(os.path.join(out, target, "seed-%04d" % n), "wb") as f:
            f.write(data)

    for path in sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "tests", "http", "cases", "*.json"))):
        for case in json.load(open(path)):
            r = case["request"]
            method, target = r["method"], subst(r["path"])
            body = b""
            if "body" in r:
                body = subst(json.dumps(r["body"], ensure_ascii=False)).encode()
            elif "raw_body" in r:
                body = subst(r["raw_body"]).encode()
            elif "raw_body_b64" in r:
                body = base64.b64decode(r["raw_body_b64"])
            auth = AUTH.get(r.get("auth"), "Bearer @TOKEN@")
            head = "%s %s HTTP/1.1\r\nHost: fuzz\r\n" % (method, target)
            if auth:
                head += "Authorization: %s\r\n" % auth
            for k, v in (r.get("headers") or {}).items():
                head += "%s: %s\r\n" % (k, subst(str(v)))
            if body or method in ("POST", "PATCH"):
                head += "Content-Length: %d\r\n" % len(body)
            put("http", head.encode() + b"\r\n" + body)
            for i, (m, rx) in enumerate(BODY_ROUTES):
                if m == method and re.match(rx, target) and (body or method != "GET"):
                    put("http_body", bytes([i]) + body)
                    break
            if method == "GET" and "?" in target:
                p, q = target.split("?", 1)
                for i, qp in enumerate(QUERY_PATHS):
                    if re.fullmatch(re.sub(r"/(\d+|@[A-Z]+@)(?=/|$)", "/[^/]+", qp), p):
                        put("http_query", bytes([i]) + q.encode())
                        break
            if auth and r.get("auth"):
                put("http_auth", bytes([n % 8]) + auth.encode())
    print("wrote %d seeds under %s" % (n, out))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/seeds")
