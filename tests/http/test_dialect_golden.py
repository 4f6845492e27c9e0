"""The Braze, BlueConic and iTwin run answers, byte for byte, on a fixed data set.

The data (every state and result, runs with and without jobs, tasks with and without errors and
reports, imported runs with their vendor fields, texts that need escaping, a run past the
representation's limits) is written straight into a fresh database with fixed ids and times, so
every answer is reproducible. tests/http/golden/dialects.json holds the answers captured from the
renderers as they were (jansson trees) before they moved to the JSON writer and the render cache:
each request is made twice (the second answer comes from the render cache) and both must equal
the capture. SYNCRUN_GOLDEN_WRITE=1 rewrites the file from the binary under test.
"""

import hashlib
import json
import os
import random
import sqlite3

from conftest import Server, syncrun_bin

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden", "dialects.json")
T0 = 1735689600000  # 2025-01-01T00:00:00Z
ITWIN = "/synchronization/imodels/manifestconnections"
REP = {"Prefer": "return=representation"}
HOST = {"Host": "golden.example"}
BODY_KEPT = 65536  # larger answers are kept as their length and SHA-256

# (state, result): queued, working, retrying, then finished with every result (model/run.h)
KINDS = [(0, 0), (1, 0), (2, 0), (3, 1), (3, 2), (3, 3), (3, 4), (3, 5), (3, 6), (3, 7)]
TEXTS = [None, "plain", 'quotes " and \\ backslash', "<b>tags</b> & 'amps'", "caf\u00e9 \u2603 \U0001f680",
         "tab\there\nnewline", "x" * 5000 + "\u00e9" * 10]
TASK_ERRORS = [
    '{"errorCode":"FILE_LOCKED","description":"The source file is locked","canUserFix":true}',
    '{"bridgeExitCode":3,"description":"exit \\"3\\"\\n\\u001F","errorCode":"BRIDGE_CRASH"}',
    '{"description":"caf\u00e9","errorCode":"E","details":{"a":[1,-2,{}],"b":null,"c":false}}',
    # not as the writers store them (spaces, an escaped non-ASCII character, a real): rendered as
    # jansson re-dumps them
    '{ "errorCode" : "SPACED", "description":"\\u00e9\\/", "ratio": 0.5 }',
    '{"errorCode":"DUP","errorCode":"DUP2"}',
    "[1,2]",
    "not json",
]


def uid(rng):
    return "%08x-%04x-4%03x-8%03x-%012x" % (rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(12),
                                            rng.getrandbits(12), rng.getrandbits(48))


def build(db_path, ws):
    rng = random.Random(14)
    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("BEGIN")
    conns = []

    def conn(cid, name, nruns, pruned=0, source="warehouse.users", dest="braze", connector=None):
        u = uid(rng)
        db.execute("INSERT INTO connections (id, uuid, workspace_id, name, source, destination, connector_type, "
                   "run_count, runs_pruned, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                   (cid, u, ws, name, source, dest, connector, nruns, pruned, T0 - 86400000, T0 - 86400000))
        conns.append(u)
        return u

    run_id = [0]
    job_id = [0]
    task_id = [0]

    def run(cid, rc, state, result, t, external_id=None, external=None, texts=True):
        run_id[0] += 1
        rid = run_id[0]
        started = t + 500 if state != 0 and result != 7 else None
        completed = t + 60000 + rc if state == 3 else None
        pick = (lambda: rng.choice(TEXTS)) if texts else (lambda: None)
        err_code = rng.choice([None, "E_SOURCE", "E<&>"]) if result in (3, 4, 5) or rng.random() < 0.1 else None
        db.execute("INSERT INTO runs (id, uuid, workspace_id, connection_id, run_count, state, result, created_at, "
                   "updated_at, scheduled_at, started_at, completed_at, trigger_tag, trigger_detail, full_sync, "
                   "current_step, source_record_count, source_record_updates, source_record_deletes, "
                   "source_record_invalids, records_processed, records_updated, records_failed, records_invalid, "
                   "watermark, message, error_code, error_message, error_detail, attempt, version, external_id, "
                   "external) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                   (rid, uid(rng), ws, cid, rc, state, result, t, completed or t + 1000,
                    t - 100 if rng.random() < 0.5 else None, started, completed,
                    rng.choice(["Manual", "Scheduled", None]), pick(), rng.randrange(2),
                    rng.choice([None, "MasterFile", "Preprocessor", "Loading data"]),
                    rng.randrange(0, 3000000), rng.randrange(0, 1000), rng.randrange(0, 100),
                    rng.randrange(0, 10), rng.randrange(0, 1200000), rng.randrange(0, 1000000),
                    rng.randrange(0, 50), rng.randrange(0, 7), t - 3600000 if rng.random() < 0.5 else None,
                    pick(), err_code, pick() if err_code else rng.choice([None, None, "only a message"]),
                    pick() if err_code else None, 1, 3 if state == 3 else 2, external_id, external))
        return rid

    def job(rid, state, result, ntasks, t, errors=True):
        job_id[0] += 1
        jid = job_id[0]
        db.execute("INSERT INTO jobs (id, uuid, run_id, name, connector_type, phase, state, result, started_at, "
                   "ended_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                   (jid, uid(rng), rid, rng.choice(TEXTS + ["Export <profiles> & \"VIP\""]),
                    rng.choice(["MSTN", "REVIT", "salesforce", None]), rng.choice([None, "MasterFile"]), state, result,
                    t + 10 if state != 0 else None, t + 5000 if state == 3 else None))
        for k in range(ntasks):
            task_id[0] += 1
            tres = result if k == 0 else (1 if state == 3 else 0)
            report = rng.random() < 0.3
            db.execute("INSERT INTO tasks (id, uuid, job_id, state, result, source_file_id, retry_attempts, "
                       "started_at, ended_at, error_json, has_report, report_message, report_suggested_action, "
                       "report_errors, report_warnings, report_other) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                       (task_id[0], uid(rng), jid, state, tres, rng.choice([None, "file-1.dgn", "caf\u00e9.dwg"]),
                        rng.randrange(3), t + 20 if state != 0 else None, t + 4000 if state == 3 else None,
                        rng.choice(TASK_ERRORS) if errors and (tres in (3, 4, 5) or rng.random() < 0.2) else None,
                        1 if report else 0, rng.choice([None, "3 elements skipped", "<w> & \"q\""]) if report else None,
                        rng.choice(["Warning", "Info", "Nonsense", None]) if report else None,
                        rng.randrange(3) if report else 0, rng.randrange(20) if report else 0,
                        rng.randrange(5) if report else 0))
        return jid

    # 1: every kind three times over, jobs on two of three (none on queued or skipped runs)
    kinds = KINDS * 3
    conn(1, "Warehouse <users> & \"VIP\" \u2192 Braze", len(kinds))
    for i, (state, result) in enumerate(kinds):
        t = T0 + i * 3600000
        rid = run(1, i + 1, state, result, t)
        if i % 3 != 2 and state != 0 and result != 7:
            for _ in range(rng.randint(1, 3)):
                jres = result if state == 3 else 0
                job(rid, 3 if state == 3 else 1, jres, rng.randint(0, 4), t)
    # 2: imported from BlueConic (message kept; one with "goals": 0), among native runs
    conn(2, "BlueConic import", 6, connector="blueconic")
    bc = [('{"format":"blueconic","message":"<div class=\\"bcpTask\\">Import</div><ul><li>Received 1,200 '
           'records.</li></ul>"}', 3, 1),
          ('{"format":"blueconic","goals":0}', 3, 1),
          ('{"format":"blueconic","message":"<div class=\\"bcpError\\">x</div>"}', 3, 3),
          ('{"format":"blueconic","message":"caf\\u00e9"}', 1, 0)]
    for i, (ext, state, result) in enumerate(bc):
        rid = run(2, i + 1, state, result, T0 + i * 1000, "20250101000000_" + uid(rng), ext, texts=False)
        if i == 2:
            for k in range(12):  # more failed goals than a message names
                job(rid, 3, 3 if k % 2 else 1, 0, T0, errors=False)
    run(2, 5, 3, 1, T0 + 9000)
    run(2, 6, 3, 3, T0 + 9500)
    # 3: imported from iTwin (vendor ids of the run, its jobs and tasks), among native runs
    conn(3, "iTwin import", 4, connector="MSTN")
    for i in range(3):
        rid_text = "vendor-run-%d" % i
        rid = run(3, i + 1, 3, [1, 3, 6][i], T0 + i * 1000, rid_text, None, texts=False)
        ids = {}
        for k in range(2):
            jid = job(rid, 3, 1, 2, T0)
            ju = db.execute("SELECT uuid FROM jobs WHERE id = ?", (jid,)).fetchone()[0]
            if k == 0:
                ids[ju] = "vendor-job-%d-%d" % (i, k)
            for (tu,) in db.execute("SELECT uuid FROM tasks WHERE job_id = ?", (jid,)).fetchall():
                ids[tu] = "vendor-task-%s" % tu[:8]
        db.execute("UPDATE runs SET external = ? WHERE id = ?",
                   (json.dumps({"format": "itwin", "ids": ids}, separators=(",", ":")), rid))
    run(3, 4, 3, 1, T0 + 9000, "not-itwin", '{"format":"blueconic"}')
    # 4: no runs; 5: pruned prefix; 6: a run past the representation's limits (2,000 tasks)
    conn(4, "Empty", 0, source=None, dest=None)
    conn(5, "Pruned", 5, pruned=2)
    for i in range(3, 6):
        run(5, i, 3, 1, T0 + i * 1000)
    conn(6, "Big", 3)
    run(6, 1, 3, 1, T0)
    rid = run(6, 2, 3, 3, T0 + 1000)
    for _ in range(3):
        job(rid, 3, 3, 700, T0)
    rid = run(6, 3, 3, 1, T0 + 2000)
    job(rid, 3, 1, 2, T0)
    db.execute("COMMIT")
    db.close()
    return conns


def requests(conns, runs):
    c = conns
    out = []
    for u in c:
        out += [("/cdi/integrations/%s/job_sync_status" % u, {}),
                ("/rest/v2/connections/%s/runs?count=100" % u, {}),
                ("/rest/v2/connections/%s/runs?startIndex=3&count=5" % u, {}),
                ("/rest/v2/connections/%s" % u, {}),
                ("%s/%s/runs" % (ITWIN, u), {}),
                ("%s/%s/runs?$skip=2&$top=5" % (ITWIN, u), {}),
                ("%s/%s/runs" % (ITWIN, u), REP),
                ("%s/%s/runs?$skip=1&$top=3" % (ITWIN, u), REP)]
    out += [("/rest/v2/connections?count=100", {}), ("/rest/v2/connections/%s/runs" % c[0], {}),
            ("%s/%s/runs?$skip=1" % (ITWIN, c[5]), REP), ("%s/%s/runs/vendor-run-1" % (ITWIN, c[2]), {})]
    for conn_uuid, run_uuid in runs:
        out.append(("%s/%s/runs/%s" % (ITWIN, conn_uuid, run_uuid), {}))
        out.append(("%s/%s/runs/%s" % (ITWIN, conn_uuid, run_uuid), REP))
    return out


def answer(srv, path, hdrs):
    r = srv.request("GET", path, headers=dict(HOST, **hdrs))
    keep = {k: r.headers.get(k) for k in ("content-type", "preference-applied", "syncrun-truncated")}
    body = r.raw.decode("utf-8")
    if len(r.raw) > BODY_KEPT:  # the representations past the limits: their digest
        body = "%d bytes, sha256 %s" % (len(r.raw), hashlib.sha256(r.raw).hexdigest())
    return {"status": r.status, "headers": keep, "body": body}


def braze_walk(srv, u):
    """The bodies of every job_sync_status page of integration u (or of the integration list), following
    next then prev links."""
    bodies, path = [], "/cdi/integrations/%s/job_sync_status" % u if u else "/cdi/integrations"
    for rel in ("next", "prev"):
        for _ in range(10):
            r = srv.request("GET", path)
            bodies.append(r.raw.decode("utf-8"))
            links = dict((p.split('rel="')[1].rstrip('"'), p.split(">")[0].lstrip("<"))
                         for p in (r.headers.get("link") or "").split(",") if 'rel="' in p)
            if rel not in links:
                break
            path = links[rel]
    return bodies


def test_dialect_answers_match_the_captured_bytes(tmp_path):
    srv = Server(syncrun_bin(), tmp_path)
    srv.init()
    conns = build(srv.db, srv.workspace_id)
    db = sqlite3.connect(srv.db)
    runs = db.execute("SELECT c.uuid, r.uuid FROM runs r JOIN connections c ON c.id = r.connection_id "
                      "ORDER BY r.id").fetchall()
    db.close()
    srv.start()
    try:
        got = {}
        for path, hdrs in requests(conns, runs):
            key = path + (" " + json.dumps(hdrs) if hdrs else "")
            first = answer(srv, path, hdrs)
            again = answer(srv, path, hdrs)  # the second from the render cache
            assert again == first, key
            got[key] = first
        for i, u in enumerate(conns):
            got["braze walk %d" % i] = braze_walk(srv, u)
        # the integration list names the workspace, whose UUID is new in every database
        ws_uuid = srv.ok("GET", "/v1/whoami")["workspace"]["uuid"]
        got["braze integrations"] = [r.replace(ws_uuid, "WORKSPACE") for r in braze_walk(srv, None)]
        # a renamed connection: BlueConic's built messages name it
        srv.ok("PATCH", "/v1/connections/1", {"name": "Renamed <conn>"})
        got["renamed"] = answer(srv, "/rest/v2/connections/%s/runs?count=100" % conns[0], {})
    finally:
        srv.stop()
    if os.environ.get("SYNCRUN_GOLDEN_WRITE") == "1":
        os.makedirs(os.path.dirname(GOLDEN), exist_ok=True)
        with open(GOLDEN, "w") as f:
            json.dump(got, f, indent=0, sort_keys=True, ensure_ascii=False)
            f.write("\n")
    with open(GOLDEN) as f:
        want = json.load(f)
    assert sorted(got) == sorted(want)
    for k in want:
        assert got[k] == want[k], k


# The render cache of a loop holds at most this many renderings (api/rcache.c: half its slots).
CACHE_ENTRIES = 32768


def test_pages_whose_cached_runs_are_evicted_while_rendering(tmp_path):
    """A page's cached runs are found first, then its other runs are rendered and cached, which
    evicts the oldest entries once the cache is full: a run found cached must still be written
    (once, a 500 "internal" answer: it was neither in the cache nor among the rows read)."""
    nruns = CACHE_ENTRIES + 3000
    srv = Server(syncrun_bin(), tmp_path / "a")
    srv.init()
    db = sqlite3.connect(srv.db, isolation_level=None)
    db.execute("BEGIN")
    db.execute("INSERT INTO connections (id, uuid, workspace_id, name, run_count, created_at, updated_at) "
               "VALUES (1, '0192b3c4-0000-7000-8000-00000000000a', ?, 'many', ?, ?, ?)",
               (srv.workspace_id, nruns, T0, T0))
    db.executemany("INSERT INTO runs (uuid, workspace_id, connection_id, run_count, state, result, created_at, "
                   "updated_at, started_at, completed_at, version) VALUES (?, ?, 1, ?, 3, 1, ?, ?, ?, ?, 3)",
                   (("0192b3c4-%04x-7000-8000-%012x" % (i >> 48, i & 0xFFFFFFFFFFFF), srv.workspace_id, i,
                     T0 + i * 1000, T0 + i * 1000 + 500, T0 + i * 1000 + 10, T0 + i * 1000 + 500)
                    for i in range(1, nruns + 1)))
    db.execute("COMMIT")
    db.close()
    fresh = Server(syncrun_bin(), tmp_path / "b")  # the same data, nothing cached: the answers to expect
    os.makedirs(fresh.dir, exist_ok=True)
    with open(srv.db, "rb") as f, open(fresh.db, "wb") as g:
        g.write(f.read())
    fresh.admin_token = srv.admin_token
    u = "0192b3c4-0000-7000-8000-00000000000a"
    itwin_page = "%s/%s/runs?$skip=0&$top=1000" % (ITWIN, u)
    rep_page = "%s/%s/runs?$skip=1000&$top=1000" % (ITWIN, u)
    bc_page = "/rest/v2/connections/%s/runs?startIndex=2000&count=100" % u
    srv.start()
    fresh.start()
    try:
        conn = srv.connect()  # one connection: one loop, one cache
        get = lambda path, hdrs={}: srv.request("GET", path, headers=dict(HOST, **hdrs), conn=conn)
        # the older halves of the three pages are cached first, so they are the oldest entries
        cached = 0
        for path, hdrs, n in [("%s/%s/runs?$skip=500&$top=500" % (ITWIN, u), {}, 500),
                              ("%s/%s/runs?$skip=1500&$top=500" % (ITWIN, u), REP, 500),
                              ("/rest/v2/connections/%s/runs?startIndex=2050&count=50" % u, {}, 50)]:
            assert get(path, hdrs).status == 200
            cached += n
        # then runs older than all three pages, until the cache is one short of full
        skip = 2100
        while cached < CACHE_ENTRIES - 1:
            top = min(1000, CACHE_ENTRIES - 1 - cached)
            assert get("%s/%s/runs?$skip=%d&$top=%d" % (ITWIN, u, skip, top)).status == 200
            skip += top
            cached += top
        # each page: its newer half is rendered first, evicting old entries, its older half was cached
        for path, hdrs in [(itwin_page, {}), (rep_page, REP), (bc_page, {})]:
            r = get(path, hdrs)
            want = fresh.request("GET", path, headers=dict(HOST, **hdrs))
            assert r.status == 200, r
            assert r.raw == want.raw, path
        conn.close()
    finally:
        srv.stop()
        fresh.stop()
