#!/usr/bin/python3
"""Deterministic benchmark data for syncrun and its peers (stdlib only).

    gen.py --syncrun build/syncrun --db OUT.db [--quick] [--seed N]

Creates the database with `syncrun init` (so the schema is the real one, through the
migrations), then bulk-inserts connections and runs with sqlite3:

  full:  1,000 connections sharing 1,000,000 runs, plus one connection with 200,000 runs
  quick:   100 connections sharing    20,000 runs, plus one connection with   5,000 runs

Runs are created in time order across all connections (ids increase with created_at);
each connection's run_count is the gapless sequence 1..n and connections.run_count = n,
which is what syncrun's Census pages rely on. Finally a syncrun server renders every finished
run's Census form (census_runs), as it keeps them while it runs. Every tenth connection (ids 10, 20, …) has jobs
and tasks on its runs (1-3 jobs of 1-4 tasks each, results that agree with the run's, task errors
and synchronization reports on some), for the BlueConic and iTwin pages; they are drawn from a
second random stream, so the runs are the same as without them. Writes OUT.db.json with what the
benchmark needs (token, ids, UUIDs, counts). Run events are not generated (no read path here uses
them).
"""
import argparse
import json
import random
import socket
import sqlite3
import subprocess
import sys
import time
import uuid

T0 = 1704067200000  # 2024-01-01T00:00:00Z in ms

RESULTS = [  # (result, weight): model/run.h values
    (1, 850),  # success
    (2, 50),  # partial
    (3, 50),  # error
    (5, 15),  # timed_out
    (4, 5),  # config_error
    (6, 10),  # canceled
    (7, 20),  # skipped
]
ERRORS = {
    3: [
        ("JSON_ARRAY_ERROR", "The array field being used does not appear to be valid JSON...",
         'Please make sure the field "custom_field:Users" with value "jim" is formatted as a JSON Array...'),
        ("DESTINATION_RATE_LIMITED", "The destination rejected requests: rate limit exceeded",
         "HTTP 429 from the destination API after 5 retries; lower the batch size or sync less often."),
        ("DESTINATION_AUTH_FAILED", "The destination refused the credentials",
         "HTTP 401 from https://api.example.com/v2/users: token expired"),
    ],
    5: [("WAREHOUSE_QUERY_TIMEOUT", "The source query did not finish within 15 minutes",
         "Query 01b2c3d4 on warehouse ANALYTICS_WH was canceled by statement_timeout.")],
    4: [("MISSING_REQUIRED_SETTING", "Missing required setting: importMatching",
         "Set the matching rule of the connection before running it.")],
}
STEPS = ["Checking source and destination configuration", "Unloading data from warehouse",
         "Loading data into destination service", "Committing data to destination service"]
SOURCES = ["snowflake.analytics.users", "bigquery.sales.orders", "postgres.public.accounts",
           "s3://cdp-exports/profiles/", "redshift.marketing.events", "databricks.main.customers"]
DESTS = ["braze", "salesforce", "hubspot", "blueconic", "segment", "marketo", "zendesk"]
JOB_NAMES = ["Export profiles", "Sync segment \"VIP customers\"", "Upload <attributes> & events", "Refresh lookups"]
CONNECTORS = ["MSTN", "REVIT", "IFC", "salesforce", None]  # the first three are iTwin connector names
TASK_ERRORS = ['{"errorCode":"FILE_LOCKED","description":"The source file is locked by another user",'
               '"canUserFix":true}',
               '{"errorCode":"BRIDGE_CRASH","description":"The connector stopped: exit code 3","bridgeExitCode":3}']
JOBS_EVERY = 10  # connections 10, 20, … have jobs and tasks


def weighted(rng, table):
    total = sum(w for _, w in table)
    x = rng.randrange(total)
    for v, w in table:
        if x < w:
            return v
        x -= w
    return table[-1][0]


def jobs_and_tasks(db, nconn, seed):
    """Jobs and tasks for the runs of every JOBS_EVERY-th connection, from their own random stream."""
    rng = random.Random(seed + 1)
    db.execute("BEGIN")
    jobs, tasks = [], []
    jid = tid = 0
    for rid, state, result, created, started, completed in db.execute(
            "SELECT id, state, result, created_at, started_at, completed_at FROM runs "
            "WHERE connection_id % ? = 0 AND connection_id <= ? ORDER BY id", (JOBS_EVERY, nconn)).fetchall():
        if state == 3 and result == 7:
            continue  # a skipped run did nothing
        if state == 0:
            continue  # nor did a queued one yet
        begin = started or created
        end = completed or begin + 60000
        n = rng.randint(1, 3)
        bad = rng.randrange(n)  # the job that carries a failed run's result
        for k in range(n):
            jid += 1
            if state != 3:
                jstate, jres = (3, 1) if k < n - 1 else (1, 0)
            elif result in (3, 4, 5, 6):
                jstate, jres = 3, (result if k == bad else 1)
            elif result == 2:
                jstate, jres = 3, (2 if k == bad else 1)
            else:
                jstate, jres = 3, 1
            js = begin + rng.randrange(0, 1000)
            je = end - rng.randrange(0, 1000) if jstate == 3 else None
            jobs.append((jid, str(uuid.UUID(int=rng.getrandbits(128), version=4)), rid, rng.choice(JOB_NAMES),
                         rng.choice(CONNECTORS), None, jstate, jres, js, je))
            for t in range(rng.randint(1, 4)):
                tid += 1
                tres = jres if t == 0 else (1 if jstate == 3 else 0)
                err = rng.choice(TASK_ERRORS) if tres in (3, 4, 5) else None
                report = rng.random() < 0.3
                tasks.append((tid, str(uuid.UUID(int=rng.getrandbits(128), version=4)), jid, jstate, tres,
                              f"file-{rng.randrange(1, 10 ** 6):06d}.dgn" if rng.random() < 0.7 else None,
                              rng.choice((0, 0, 0, 1)), js + rng.randrange(0, 500),
                              je - rng.randrange(0, 500) if je else None, err, 1 if report else 0,
                              "3 elements were skipped: unsupported class" if report else None,
                              rng.choice(("Warning", "Info", None)) if report else None,
                              rng.randrange(0, 3) if report else 0, rng.randrange(0, 20) if report else 0,
                              rng.randrange(0, 5) if report else 0))
    db.executemany("INSERT INTO jobs (id, uuid, run_id, name, connector_type, phase, state, result, started_at, "
                   "ended_at) VALUES (?,?,?,?,?,?,?,?,?,?)", jobs)
    db.executemany("INSERT INTO tasks (id, uuid, job_id, state, result, source_file_id, retry_attempts, started_at, "
                   "ended_at, error_json, has_report, report_message, report_suggested_action, report_errors, "
                   "report_warnings, report_other) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", tasks)
    db.execute("COMMIT")
    return len(jobs), len(tasks)


def render(syncrun, path):
    """Has syncrun render the Census form of every finished run, as its server does after runs
    finish (census_runs, migration 18), so that every contender reads a database in the state a
    running syncrun keeps it in: the bulk inserts above only queue them (census_runs_todo)."""
    t0 = time.time()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = subprocess.Popen([syncrun, "serve", "--db", path, "--listen", "127.0.0.1:%d" % port],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        while True:
            time.sleep(1)
            if srv.poll() is not None:
                sys.exit("gen.py: syncrun serve exited while rendering")
            try:
                left = db.execute("SELECT count(*) FROM census_runs_todo").fetchone()[0]
            except sqlite3.OperationalError:  # the migration is still running
                continue
            if left == 0:
                break
        db.close()
    finally:
        srv.terminate()
        srv.wait(timeout=30)
    print(f"gen.py: Census renderings made in {time.time() - t0:.1f}s", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--syncrun", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seed", type=int, default=20241123)
    a = ap.parse_args()
    nconn, nruns, nbig = (100, 20000, 5000) if a.quick else (1000, 1000000, 200000)
    rng = random.Random(a.seed)

    out = subprocess.run([a.syncrun, "init", "--db", a.db, "--name", "bench", "--json"],
                         check=True, capture_output=True, text=True).stdout
    init = json.loads(out)
    ws = init["workspace_id"]

    db = sqlite3.connect(a.db, isolation_level=None)
    db.execute("PRAGMA journal_mode = OFF")  # bulk load; WAL is switched back on at the end
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -1000000")
    db.execute("BEGIN")

    def uid():
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    # Run counts per connection: uneven (weights 0.2..1.8), summing exactly to nruns.
    weights = [rng.uniform(0.2, 1.8) for _ in range(nconn)]
    scale = nruns / sum(weights)
    counts = [max(1, int(w * scale)) for w in weights]
    diff = nruns - sum(counts)
    i = 0
    while diff != 0:
        step = 1 if diff > 0 else -1
        if counts[i % nconn] + step >= 1:
            counts[i % nconn] += step
            diff -= step
        i += 1
    big_id = nconn + 1
    counts.append(nbig)

    conns = []
    for cid in range(1, nconn + 2):
        created = T0 - rng.randrange(1, 90) * 86400000
        name = ("High-frequency events -> Segment" if cid == big_id else
                f"{rng.choice(SOURCES)} -> {rng.choice(DESTS)} #{cid}")
        conns.append((cid, uid(), ws, name, rng.choice(SOURCES), rng.choice(DESTS), None, 0,
                      counts[cid - 1], created, created))
    db.executemany("INSERT INTO connections (id, uuid, workspace_id, name, source, destination, "
                   "connector_type, overlap, run_count, created_at, updated_at) "
                   "VALUES (?,?,?,?,?,?,?,?,?,?,?)", conns)

    # Global creation order: every connection's runs interleaved at random.
    order = []
    for cid, n in enumerate(counts, start=1):
        order.extend([cid] * n)
    rng.shuffle(order)
    seen = [0] * (nconn + 2)

    def rows():
        t = T0
        for cid in order:
            seen[cid] += 1
            rc = seen[cid]
            t += rng.randrange(5000, 45000)  # ~25 s apart on average, strictly increasing
            created = t
            last = rc == counts[cid - 1]
            x = rng.random()
            if last and x < 0.10:
                state, result = 1, 0  # working
            elif last and x < 0.13:
                state, result = 0, 0  # queued
            else:
                state, result = 3, weighted(rng, RESULTS)
            manual = rng.random() < 0.15
            api = not manual and rng.random() < 0.05
            tag = "Manual" if manual else ("API" if api else "Scheduled")
            detail = ("Manually triggered by data-team@example.com" if manual else
                      "Triggered through the API by key sr_live_4f2a" if api else
                      "Triggered by the connection's schedule")
            scheduled = created - rng.randrange(0, 2000) if tag == "Scheduled" else None
            full_sync = 1 if rng.random() < 0.1 else 0
            src = rng.randrange(1000, 2000000)
            upd = rng.randrange(0, src // 10 + 1)
            dele = rng.randrange(0, src // 200 + 1)
            inv = rng.randrange(0, 20) if rng.random() < 0.2 else 0
            started = created + rng.randrange(50, 3000) if state != 0 else None
            step = None
            completed = None
            updated = created
            err = (None, None, None)
            message = None
            proc = upd + dele
            if state == 3:
                completed = created + rng.randrange(2000, 900000)
                updated = completed
                if result == 7:  # skipped
                    src = upd = dele = inv = proc = 0
                    started = None
                    message = "An earlier run of this sync was still in progress"
                elif result in ERRORS:
                    err = rng.choice(ERRORS[result])
                    proc = rng.randrange(0, proc + 1)
                elif result == 6:
                    message = "Canceled by data-team@example.com"
                    proc = rng.randrange(0, proc + 1)
            elif state == 1:
                step = rng.choice(STEPS)
                updated = started + rng.randrange(100, 60000)
                proc = rng.randrange(0, proc + 1)
            failed = rng.randrange(1, 50) if result == 2 else 0
            if result == 2:
                message = "Some records were rejected by the destination"
            updated_ok = max(0, proc - failed)
            version = 1 if state == 0 else (2 if state == 1 else 3)
            yield (uid(), ws, cid, rc, state, result, created, updated, scheduled, started, completed, tag,
                   detail, full_sync, step, src, upd, dele, inv, proc, updated_ok, failed, inv,
                   created - 60000 if state == 3 and result in (1, 2) else None, message, err[0], err[1],
                   err[2], 1, version)

    t_start = time.time()
    db.executemany("INSERT INTO runs (uuid, workspace_id, connection_id, run_count, state, result, created_at, "
                   "updated_at, scheduled_at, started_at, completed_at, trigger_tag, trigger_detail, full_sync, "
                   "current_step, source_record_count, source_record_updates, source_record_deletes, "
                   "source_record_invalids, records_processed, records_updated, records_failed, records_invalid, "
                   "watermark, message, error_code, error_message, error_detail, attempt, version) "
                   "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows())
    db.execute("COMMIT")
    # The invariants syncrun's pages rely on.
    bad = db.execute("SELECT count(*) FROM connections c WHERE c.run_count <> "
                     "(SELECT count(*) FROM runs r WHERE r.connection_id = c.id) OR c.run_count <> "
                     "(SELECT coalesce(max(run_count), 0) FROM runs r WHERE r.connection_id = c.id)").fetchone()[0]
    if bad:
        sys.exit(f"gen.py: {bad} connections break the run_count invariants")
    njobs, ntasks = jobs_and_tasks(db, nconn, a.seed)
    db.execute("PRAGMA journal_mode = WAL")
    maxid = db.execute("SELECT max(id) FROM runs").fetchone()[0]
    db.close()
    render(a.syncrun, a.db)
    meta = {"token": init["token"], "workspace_id": ws, "connections": nconn, "big_id": big_id,
            "big_runs": nbig, "runs": nruns + nbig, "max_run_id": maxid, "seed": a.seed,
            "uuids": [c[1] for c in conns], "jobs_every": JOBS_EVERY, "jobs": njobs, "tasks": ntasks}
    with open(a.db + ".json", "w") as f:
        json.dump(meta, f)
    print(f"gen.py: {nconn + 1} connections, {nruns + nbig} runs in {time.time() - t_start:.1f}s -> {a.db}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
