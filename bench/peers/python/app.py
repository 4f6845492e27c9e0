"""Benchmark peer, NOT part of syncrun: the Census sync-runs API as a competent Python team would
write it — FastAPI + uvicorn from Debian's packages, stdlib sqlite3 (one read-only connection per
worker process, statements cached by sqlite3's statement cache), 2 uvicorn workers.
Paging is LIMIT/OFFSET (what a typical team writes); the total comes from connections.run_count.
Same JSON bytes as syncrun's census.c.

    DB=… TOKEN=… uvicorn app:app --workers 2 --host 127.0.0.1 --port P
"""
import json
import os
import re
import sqlite3
import time

from fastapi import FastAPI, Request
from fastapi.responses import Response

WS = int(os.environ.get("WORKSPACE_ID", "1"))
AUTH = "Bearer " + os.environ["TOKEN"]
db = sqlite3.connect("file:%s?mode=ro" % os.environ["DB"], uri=True, check_same_thread=False,
                     cached_statements=64)

COLS = ("r.id, r.created_at, r.updated_at, r.completed_at, r.error_code, r.error_message, r.error_detail, "
        "r.state, r.result, r.connection_id, r.source_record_count, r.records_failed, r.source_record_updates, "
        "r.source_record_deletes, r.source_record_invalids, r.records_invalid, r.records_processed, "
        "r.records_updated, r.scheduled_at, r.full_sync, r.trigger_tag, r.trigger_detail, r.current_step, r.message")
CONN_SQL = "SELECT id, run_count FROM connections WHERE id = ? AND workspace_id = ? AND deleted_at IS NULL"
PAGE_SQL = {o: f"SELECT {COLS} FROM runs r WHERE r.connection_id = ? ORDER BY r.run_count {o} LIMIT ? OFFSET ?"
            for o in ("asc", "desc")}
RUN_SQL = (f"SELECT {COLS} FROM runs r JOIN connections c ON c.id = r.connection_id AND c.deleted_at IS NULL "
           "WHERE r.id = ? AND r.workspace_id = ?")
INT = re.compile(r"[0-9]{1,18}\Z")

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


def iso(ms):
    if not ms:
        return None
    t = time.gmtime(ms // 1000)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
                                                    ms % 1000)


def status(state, result):
    if state == 0:
        return "queued"
    if state in (1, 2):
        return "working"
    if result in (1, 2):
        return "completed"
    return "skipped" if result == 7 else "failed"


# A failed run without an error of its own says what its result means (syncrun's census.c).
FAIL_TEXTS = {3: ("error", "The sync run failed"),
              4: ("config_error", "The sync run failed: the sync's configuration is invalid"),
              5: ("timed_out", "The sync run timed out"), 6: ("canceled", "The sync run was canceled")}


def census_error(r):
    fail = FAIL_TEXTS.get(r[8]) if r[7] == 3 else None
    code = r[4] if r[4] is not None or fail is None else fail[0]
    if r[5] is not None or fail is None:
        return code, r[5]
    return code, f"{fail[1]}: {r[23]}" if r[23] else fail[1]


def census_run(r):
    code, message = census_error(r)
    return {
        "id": r[0], "created_at": iso(r[1]), "updated_at": iso(r[2]), "completed_at": iso(r[3]),
        "error_code": code, "error_message": message, "error_detail": r[6], "status": status(r[7], r[8]),
        "sync_id": r[9], "source_record_count": r[10], "records_failed": r[11], "source_record_updates": r[12],
        "source_record_deletes": r[13], "source_record_invalids": r[14], "records_invalid": r[15],
        "records_processed": r[16], "records_updated": r[17], "scheduled_execution_time": iso(r[18]),
        "full_sync": r[19] != 0, "sync_trigger_reason": {"ui_tag": r[20], "ui_detail": r[21]},
        "canceled": r[8] == 6, "current_step": r[22],
    }


def send(code, body):
    return Response(json.dumps(body, separators=(",", ":"), ensure_ascii=False) + "\n", status_code=code,
                    media_type="application/json")


def error(code, message):
    return send(code, {"status": "error", "message": message})


def int_param(v, lo, hi, default):
    if v is None:
        return default
    if not INT.match(v):
        return None
    n = int(v)
    return n if lo <= n <= hi else None


@app.get("/healthz")
async def healthz():
    return send(200, {"status": "ok"})


@app.get("/api/v1/syncs/{sync_id}/sync_runs")
async def sync_runs(sync_id: str, request: Request):
    if request.headers.get("authorization") != AUTH:
        return error(401, "Unauthorized")
    q = request.query_params
    page = int_param(q.get("page"), 0, 2147483647, 1)
    per_page = int_param(q.get("per_page"), 1, 100, 25)
    if page is None:
        return error(400, "page must be an integer from 0 to 2147483647")
    if per_page is None:
        return error(400, "per_page must be an integer from 1 to 100")
    page = max(page, 1)
    order = q.get("order", "desc")
    if order not in ("asc", "desc"):
        return error(400, "order must be asc or desc")
    cid = int_param(sync_id, 1, 2**63 - 1, None)
    cn = db.execute(CONN_SQL, (cid, WS)).fetchone() if cid else None
    if cn is None:
        return error(404, "Sync not found")
    total = cn[1]
    last_page = 1 if total == 0 else -(-total // per_page)
    rows = [] if page > last_page else db.execute(PAGE_SQL[order], (cn[0], per_page, (page - 1) * per_page))
    return send(200, {
        "status": "success",
        "pagination": {
            "total_records": total, "per_page": per_page,
            "prev_page": min(page - 1, last_page) if page > 1 else None, "page": page,
            "next_page": page + 1 if page < last_page else None, "last_page": last_page,
        },
        "data": [census_run(r) for r in rows],
    })


@app.get("/api/v1/sync_runs/{run_id}")
async def sync_run(run_id: str, request: Request):
    if request.headers.get("authorization") != AUTH:
        return error(401, "Unauthorized")
    rid = int_param(run_id, 1, 2**63 - 1, None)
    r = db.execute(RUN_SQL, (rid, WS)).fetchone() if rid else None
    if r is None:
        return error(404, "Sync run not found")
    return send(200, {"status": "success", "data": census_run(r)})
