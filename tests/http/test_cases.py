"""Declarative HTTP cases, in the spirit of curl's tests/data.

Every tests/http/cases/*.json file is a list of steps run in order against one server (one
pytest test per file). Each file gets a workspace of its own (so lists start empty), with
an admin, a runs:write and a runs:read key; `other_ws` is the admin key of another
workspace.

A step:

    {"name": "what this checks",
     "request": {"method": "POST", "path": "/v1/connections/${conn}/runs",
                 "headers": {"Idempotency-Key": "k1"},
                 "body": {...} | "raw_body": "text sent as is" | "raw_body_b64": "...",
                 "auth": "admin" (default) | "read" | "write" | "other_ws" | "none" | "bogus"
                         | "basic_user" | "basic_pass" | "basic_read_user" | "basic_other_pass",
                 "basic": ["user", "password"]},          # explicit Basic credentials
     "expect": {"status": 201 | [400, 409],
                "json": {...},             # subset match, nested; lists match element-wise
                "json_types": {"data.0.id": "int", "completed_at": "timestamp|null"},
                "headers": {"ETag": "\"${v}\"", "Allow": {"contains": ["GET"]},
                            "WWW-Authenticate": {"prefix": "Bearer"}, "X-Nope": null},
                "body_empty": true},
     "save": {"conn": "json.id", "etag": "headers.etag"},
     "repeat": 3}

`${var}` is replaced in paths, headers, bodies and expected values (a string that is exactly
"${var}" becomes the variable's value with its type). `${repeat:x:201}` is "x" * 201.
Variables given from the start: admin_token, read_token, write_token, other_token,
workspace_id, other_workspace_id.

Matchers usable anywhere in expected JSON: {"$type": "int|null"}, {"$in": [..]},
{"$ne": v}, {"$gt": n}, {"$re": "regex"}, {"$len": n}, {"$absent": true}, {"$any": true}.
Types: int, number, string, bool, null, object, array, timestamp (ISO 8601 UTC with
milliseconds), uuid, any.

A failing step does not stop the file: every step runs (a step whose variable could not be
saved earlier is reported and skipped) and the test fails listing every failed step with its
request, what was expected and the actual response.
"""

import base64
import glob
import json
import os
import re

import pytest

from conftest import basic, make_server

CASES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases")
CASE_FILES = sorted(glob.glob(os.path.join(CASES_DIR, "*.json")))

TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
VAR_RE = re.compile(r"\$\{([^}]+)\}")
MISSING = object()


class MissingVar(Exception):
    pass


# ---- substitution -----------------------------------------------------------------------


def _lookup(name, env):
    if name.startswith("repeat:"):
        _, ch, n = name.split(":", 2)
        return ch * int(n)
    if name not in env or env[name] is MISSING:
        raise MissingVar(name)
    return env[name]


def subst(value, env):
    if isinstance(value, str):
        m = VAR_RE.fullmatch(value)
        if m:
            return _lookup(m.group(1), env)
        return VAR_RE.sub(lambda mm: str(_lookup(mm.group(1), env)), value)
    if isinstance(value, list):
        return [subst(v, env) for v in value]
    if isinstance(value, dict):
        return {subst(k, env): subst(v, env) for k, v in value.items()}
    return value


# ---- matching ---------------------------------------------------------------------------


def type_ok(value, spec):
    for t in spec.split("|"):
        t = t.strip()
        if t == "any":
            return True
        if t == "int" and isinstance(value, int) and not isinstance(value, bool):
            return True
        if t == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
            return True
        if t == "string" and isinstance(value, str):
            return True
        if t == "bool" and isinstance(value, bool):
            return True
        if t == "null" and value is None:
            return True
        if t == "object" and isinstance(value, dict):
            return True
        if t == "array" and isinstance(value, list):
            return True
        if t == "timestamp" and isinstance(value, str) and TS_RE.match(value):
            return True
        if t == "uuid" and isinstance(value, str) and UUID_RE.match(value):
            return True
    return False


def _is_matcher(exp):
    return isinstance(exp, dict) and len(exp) >= 1 and all(isinstance(k, str) and k.startswith("$") for k in exp)


def _same(a, b):
    # JSON equality where 1 != true and 1 == 1.0 is not accepted either
    if type(a) is bool or type(b) is bool:
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return type(a) is type(b) and a == b
    return a == b


def match(actual, exp, path, problems):
    """Appends (path, message) for every mismatch of `actual` against expectation `exp`."""
    if _is_matcher(exp):
        for op, arg in exp.items():
            if op == "$absent":
                if arg and actual is not MISSING:
                    problems.append((path, "must be absent, got %s" % json.dumps(actual)))
                continue
            if actual is MISSING:
                problems.append((path, "missing (expected %s)" % json.dumps(exp)))
                return
            if op == "$type":
                if not type_ok(actual, arg):
                    problems.append((path, "expected type %s, got %s" % (arg, json.dumps(actual))))
            elif op == "$in":
                if not any(_same(actual, a) for a in arg):
                    problems.append((path, "expected one of %s, got %s" % (json.dumps(arg), json.dumps(actual))))
            elif op == "$ne":
                if _same(actual, arg):
                    problems.append((path, "expected anything but %s" % json.dumps(arg)))
            elif op == "$gt":
                if not (isinstance(actual, (int, float)) and not isinstance(actual, bool) and actual > arg):
                    problems.append((path, "expected a number > %s, got %s" % (arg, json.dumps(actual))))
            elif op == "$re":
                if not (isinstance(actual, str) and re.search(arg, actual)):
                    problems.append((path, "expected a string matching /%s/, got %s" % (arg, json.dumps(actual))))
            elif op == "$len":
                if not (isinstance(actual, (list, str, dict)) and len(actual) == arg):
                    n = len(actual) if isinstance(actual, (list, str, dict)) else "n/a"
                    problems.append((path, "expected length %s, got %s" % (arg, n)))
            elif op == "$any":
                pass
            else:
                problems.append((path, "bad matcher %s in the case file" % op))
        return
    if actual is MISSING:
        problems.append((path, "missing (expected %s)" % json.dumps(exp)))
        return
    if isinstance(exp, dict):
        if not isinstance(actual, dict):
            problems.append((path, "expected an object, got %s" % json.dumps(actual)[:200]))
            return
        for k, v in exp.items():
            match(actual.get(k, MISSING), v, "%s.%s" % (path, k) if path else k, problems)
        return
    if isinstance(exp, list):
        if not isinstance(actual, list):
            problems.append((path, "expected an array, got %s" % json.dumps(actual)[:200]))
            return
        if len(actual) != len(exp):
            problems.append((path, "expected %d elements, got %d" % (len(exp), len(actual))))
            return
        for i, (a, e) in enumerate(zip(actual, exp)):
            match(a, e, "%s.%d" % (path, i), problems)
        return
    if not _same(actual, exp):
        problems.append((path, "expected %s, got %s" % (json.dumps(exp), json.dumps(actual))))


def dig(obj, path):
    """`data.0.id` inside obj, or MISSING."""
    if path in ("", "."):
        return obj
    cur = obj
    for part in path.split("."):
        if isinstance(cur, dict):
            cur = cur.get(part, MISSING)
        elif isinstance(cur, list) and re.fullmatch(r"-?\d+", part) and -len(cur) <= int(part) < len(cur):
            cur = cur[int(part)]
        else:
            return MISSING
        if cur is MISSING:
            return MISSING
    return cur


def header_ok(actual, exp):
    if exp is None:
        return actual is None
    if actual is None:
        return False
    if exp == "*":
        return True
    if isinstance(exp, str):
        return actual.strip() == exp
    if isinstance(exp, dict):
        ok = True
        if "prefix" in exp:
            ok &= actual.strip().lower().startswith(exp["prefix"].lower())
        if "contains" in exp:
            items = {x.strip().upper() for x in actual.split(",")}
            ok &= all(c.upper() in items for c in exp["contains"])
        if "re" in exp:
            ok &= re.search(exp["re"], actual) is not None
        if "in" in exp:
            ok &= actual.strip() in exp["in"]
        return ok
    return False


# ---- running ----------------------------------------------------------------------------


def credentials(mode, env, explicit_basic=None):
    if explicit_basic is not None:
        return {"Authorization": basic(*explicit_basic)}
    tok = {
        "admin": env["admin_token"],
        "read": env["read_token"],
        "write": env["write_token"],
        "other_ws": env["other_token"],
    }
    if mode in tok:
        return {"Authorization": "Bearer " + tok[mode]}
    if mode == "none":
        return {}
    if mode == "bogus":
        return {"Authorization": "Bearer sr_thisIsNotARealToken0000000000000000"}
    if mode == "basic_user":
        return {"Authorization": basic(env["admin_token"], "")}
    if mode == "basic_pass":
        return {"Authorization": basic("", env["admin_token"])}
    if mode == "basic_read_user":
        return {"Authorization": basic(env["read_token"], "")}
    if mode == "basic_other_pass":
        return {"Authorization": basic("", env["other_token"])}
    raise ValueError("unknown auth mode %r" % mode)


def run_step(srv, step, env):
    """Runs one step; returns (request description, resp, problems)."""
    req = step["request"]
    method = req.get("method", "GET")
    path = subst(req["path"], env)
    headers = credentials(req.get("auth", "admin"), env, subst(req.get("basic"), env))
    body = None
    if "body" in req:
        body = json.dumps(subst(req["body"], env)).encode()
        headers["Content-Type"] = "application/json"
    elif "raw_body" in req:
        body = subst(req["raw_body"], env).encode("utf-8")
        headers["Content-Type"] = "application/json"
    elif "raw_body_b64" in req:
        body = base64.b64decode(req["raw_body_b64"])
        headers["Content-Type"] = "application/json"
    for k, v in subst(req.get("headers", {}), env).items():
        for existing in list(headers):
            if existing.lower() == k.lower():
                del headers[existing]
        if v is not None:
            headers[k] = v
    desc = "%s %s  auth=%s" % (method, path, req.get("auth", "admin") if "basic" not in req else "basic%r" % (req["basic"],))
    if len(headers) > (1 if "Authorization" in headers else 0):
        desc += "\n    headers: %s" % {k: v for k, v in headers.items() if k != "Authorization"}
    if body is not None:
        shown = body[:600].decode("utf-8", "replace")
        desc += "\n    body: %s%s" % (shown, "..." if len(body) > 600 else "")

    resp = srv.request(method, path, body=body, token=None, headers=headers)

    problems = []
    exp = subst(step.get("expect", {}), env)
    if "status" in exp:
        want = exp["status"] if isinstance(exp["status"], list) else [exp["status"]]
        if resp.status not in want:
            problems.append(("status", "expected %s, got %d" % (" or ".join(map(str, want)), resp.status)))
    if "json" in exp or "json_types" in exp:
        if resp.json is None and resp.raw.strip() != b"null":
            problems.append(("body", "expected a JSON body, got %r" % resp.raw[:300]))
        else:
            if "json" in exp:
                match(resp.json, exp["json"], "", problems)
            for p, t in exp.get("json_types", {}).items():
                v = dig(resp.json, p)
                if v is MISSING:
                    problems.append((p, "missing (expected type %s)" % t))
                elif not type_ok(v, t):
                    problems.append((p, "expected type %s, got %s" % (t, json.dumps(v))))
    for name, want in exp.get("headers", {}).items():
        got = resp.headers.get(name)
        if not header_ok(got, want):
            problems.append(("header %s" % name, "expected %s, got %r" % (json.dumps(want), got)))
    if exp.get("body_empty") and resp.raw:
        problems.append(("body", "expected no body, got %r" % resp.raw[:300]))
    if exp.get("content_type_json"):
        ct = resp.headers.get("Content-Type") or ""
        if not ct.lower().startswith("application/json"):
            problems.append(("header Content-Type", "expected application/json, got %r" % ct))

    for var, p in step.get("save", {}).items():
        if p.startswith("headers."):
            v = resp.headers.get(p[len("headers."):], MISSING)
        elif p == "status":
            v = resp.status
        else:
            v = dig(resp.json, p[len("json."):] if p.startswith("json.") else p)
        if v is MISSING:
            problems.append(("save %s" % var, "%s not in the response" % p))
        env[var] = v
    return desc, resp, problems


def describe_failure(fname, idx, step, desc, resp, problems):
    lines = ["%s step %d %r:" % (fname, idx + 1, step.get("name", "")), "  request: " + desc]
    if step.get("expect"):
        lines.append("  expected: %s" % json.dumps(step["expect"])[:1500])
    lines.append("  problems:")
    lines += ["    - %s: %s" % (p, m) for p, m in problems]
    if resp is not None:
        lines.append("  actual: " + resp.describe().replace("\n", "\n    "))
    return "\n".join(lines)


@pytest.fixture(scope="module")
def case_server(tmp_path_factory):
    srv = make_server(tmp_path_factory, "cases")
    other = srv.new_workspace("cases-other")
    srv.other = other
    yield srv
    srv.stop()


@pytest.mark.parametrize("case_file", CASE_FILES, ids=[os.path.basename(f)[:-5] for f in CASE_FILES])
def test_case(case_server, case_file):
    srv = case_server
    if not srv.alive():  # an earlier file crashed it (reported there): go on with a restarted server
        srv.proc = None
        srv.start()
    with open(case_file, encoding="utf-8") as f:
        steps = json.load(f)
    assert isinstance(steps, list) and steps, "%s: must be a non-empty list of steps" % case_file
    fname = os.path.relpath(case_file, os.path.dirname(CASES_DIR))
    ws = srv.new_workspace(os.path.basename(case_file))
    env = {
        "admin_token": ws["token"],
        "workspace_id": ws["workspace_id"],
        "read_token": srv.new_key("runs:read", ws["workspace_id"]),
        "write_token": srv.new_key("runs:write", ws["workspace_id"]),
        "other_token": srv.other["token"],
        "other_workspace_id": srv.other["workspace_id"],
    }
    failures = []
    for idx, step in enumerate(steps):
        if "request" not in step:  # a comment-only step
            continue
        for _rep in range(int(step.get("repeat", 1))):
            try:
                desc, resp, problems = run_step(srv, step, env)
            except MissingVar as e:
                failures.append("%s step %d %r: skipped, variable ${%s} was not saved by an earlier step"
                                % (fname, idx + 1, step.get("name", ""), e.args[0]))
                for var in step.get("save", {}):
                    env[var] = MISSING
                break
            except OSError as e:
                failures.append("%s step %d %r: request failed: %r (server alive: %s)\n%s"
                                % (fname, idx + 1, step.get("name", ""), e, srv.alive(), srv.log_tail(1500)))
                if not srv.alive():
                    pytest.fail("\n\n".join(failures) + "\n\nserver died; stopping this file", pytrace=False)
                break
            if problems:
                failures.append(describe_failure(fname, idx, step, desc, resp, problems))
                break
    if failures:
        pytest.fail("%d failed step(s):\n\n" % len(failures) + "\n\n".join(failures), pytrace=False)
