'use strict';
// Benchmark peer, NOT part of syncrun: the Census sync-runs API as a competent Node team would
// write it — fastify + better-sqlite3 (prepared statements, read-only connection per worker),
// node:cluster with 2 workers. Paging is LIMIT/OFFSET (what a typical team writes); the total
// comes from connections.run_count. Same JSON bytes as syncrun's census.c.
//   PORT, DB, TOKEN, WORKSPACE_ID (default 1), WORKERS (default 2)
const cluster = require('node:cluster');

const workers = Number(process.env.WORKERS || 2);
if (cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('exit', (w, code, signal) => {
    if (!process.exitCode) {
      console.error(`worker ${w.process.pid} exited (${signal || code})`);
      process.exit(1);
    }
  });
  const stop = () => {
    process.exitCode = 0;
    for (const id in cluster.workers) cluster.workers[id].process.kill('SIGTERM');
    setTimeout(() => process.exit(0), 200);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return;
}

const Database = require('better-sqlite3');
const fastify = require('fastify')({ logger: false });

const db = new Database(process.env.DB, { readonly: true, fileMustExist: true });
const WS = Number(process.env.WORKSPACE_ID || 1);
const AUTH = `Bearer ${process.env.TOKEN}`;

const COLS = `r.id, r.created_at, r.updated_at, r.completed_at, r.error_code, r.error_message, r.error_detail,
  r.state, r.result, r.connection_id, r.source_record_count, r.records_failed, r.source_record_updates,
  r.source_record_deletes, r.source_record_invalids, r.records_invalid, r.records_processed, r.records_updated,
  r.scheduled_at, r.full_sync, r.trigger_tag, r.trigger_detail, r.current_step`;
const connStmt = db.prepare(
  'SELECT id, run_count FROM connections WHERE id = ? AND workspace_id = ? AND deleted_at IS NULL');
const pageDesc = db.prepare(
  `SELECT ${COLS} FROM runs r WHERE r.connection_id = ? ORDER BY r.run_count DESC LIMIT ? OFFSET ?`);
const pageAsc = db.prepare(
  `SELECT ${COLS} FROM runs r WHERE r.connection_id = ? ORDER BY r.run_count ASC LIMIT ? OFFSET ?`);
const runStmt = db.prepare(
  `SELECT ${COLS} FROM runs r JOIN connections c ON c.id = r.connection_id AND c.deleted_at IS NULL
   WHERE r.id = ? AND r.workspace_id = ?`);

const iso = (ms) => (ms ? new Date(ms).toISOString() : null);

function status(state, result) {
  if (state === 0) return 'queued';
  if (state === 1 || state === 2) return 'working';
  if (result === 1 || result === 2) return 'completed';
  if (result === 7) return 'skipped';
  return 'failed';
}

function censusRun(r) {
  return {
    id: r.id,
    created_at: iso(r.created_at),
    updated_at: iso(r.updated_at),
    completed_at: iso(r.completed_at),
    error_code: r.error_code,
    error_message: r.error_message,
    error_detail: r.error_detail,
    status: status(r.state, r.result),
    sync_id: r.connection_id,
    source_record_count: r.source_record_count,
    records_failed: r.records_failed,
    source_record_updates: r.source_record_updates,
    source_record_deletes: r.source_record_deletes,
    source_record_invalids: r.source_record_invalids,
    records_invalid: r.records_invalid,
    records_processed: r.records_processed,
    records_updated: r.records_updated,
    scheduled_execution_time: iso(r.scheduled_at),
    full_sync: r.full_sync !== 0,
    sync_trigger_reason: { ui_tag: r.trigger_tag, ui_detail: r.trigger_detail },
    canceled: r.result === 6,
    current_step: r.current_step,
  };
}

function send(reply, code, body) {
  reply.code(code).type('application/json').send(JSON.stringify(body) + '\n');
}
const error = (reply, code, message) => send(reply, code, { status: 'error', message });

function intParam(v, min, max, def) {
  if (v === undefined) return def;
  if (!/^[0-9]{1,10}$/.test(v)) return NaN;
  const n = Number(v);
  return n >= min && n <= max ? n : NaN;
}

fastify.addHook('onRequest', (req, reply, done) => {
  if (req.url !== '/healthz' && req.headers.authorization !== AUTH) return error(reply, 401, 'Unauthorized');
  done();
});

fastify.get('/api/v1/syncs/:id/sync_runs', (req, reply) => {
  const q = req.query;
  const page = Math.max(1, intParam(q.page, 0, 2147483647, 1));
  const perPage = intParam(q.per_page, 1, 100, 25);
  if (Number.isNaN(page)) return error(reply, 400, 'page must be an integer from 0 to 2147483647');
  if (Number.isNaN(perPage)) return error(reply, 400, 'per_page must be an integer from 1 to 100');
  const order = q.order === undefined ? 'desc' : q.order;
  if (order !== 'asc' && order !== 'desc') return error(reply, 400, 'order must be asc or desc');
  const id = intParam(req.params.id, 1, Number.MAX_SAFE_INTEGER, NaN);
  const cn = Number.isNaN(id) ? undefined : connStmt.get(id, WS);
  if (!cn) return error(reply, 404, 'Sync not found');
  const total = cn.run_count;
  const lastPage = total === 0 ? 1 : Math.ceil(total / perPage);
  const rows = page > lastPage ? [] :
    (order === 'asc' ? pageAsc : pageDesc).all(cn.id, perPage, (page - 1) * perPage);
  send(reply, 200, {
    status: 'success',
    pagination: {
      total_records: total,
      per_page: perPage,
      prev_page: page > 1 ? Math.min(page - 1, lastPage) : null,
      page,
      next_page: page < lastPage ? page + 1 : null,
      last_page: lastPage,
    },
    data: rows.map(censusRun),
  });
});

fastify.get('/api/v1/sync_runs/:id', (req, reply) => {
  const id = intParam(req.params.id, 1, Number.MAX_SAFE_INTEGER, NaN);
  const r = Number.isNaN(id) ? undefined : runStmt.get(id, WS);
  if (!r) return error(reply, 404, 'Sync run not found');
  send(reply, 200, { status: 'success', data: censusRun(r) });
});

fastify.get('/healthz', (req, reply) => send(reply, 200, { status: 'ok' }));

fastify.listen({ host: '127.0.0.1', port: Number(process.env.PORT) }).catch((e) => {
  console.error(e);
  process.exit(1);
});
process.on('SIGTERM', () => fastify.close().then(() => process.exit(0)));
