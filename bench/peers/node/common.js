'use strict';
// Benchmark peers, NOT part of syncrun: what the two Node peers (server.js pages by OFFSET,
// keyset.js by keyset) share — the cluster, the Census run shape, answers, auth, parameters.
//   PORT, DB, TOKEN, WORKSPACE_ID (default 1), WORKERS (default 2)
const cluster = require('node:cluster');

// Forks the workers in the primary (and returns true there); workers return false and go on.
function primary() {
  const workers = Number(process.env.WORKERS || 2);
  if (!cluster.isPrimary) return false;
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
  return true;
}

const WS = Number(process.env.WORKSPACE_ID || 1);
const AUTH = `Bearer ${process.env.TOKEN}`;

const COLS = `r.id, r.uuid, r.run_count, r.created_at, r.updated_at, r.started_at, r.completed_at, r.error_code,
  r.error_message, r.error_detail, r.state, r.result, r.connection_id, r.source_record_count, r.records_failed,
  r.source_record_updates, r.source_record_deletes, r.source_record_invalids, r.records_invalid,
  r.records_processed, r.records_updated, r.scheduled_at, r.full_sync, r.trigger_tag, r.trigger_detail,
  r.current_step, r.watermark, r.message`;

const iso = (ms) => (ms ? new Date(ms).toISOString() : null);

function status(state, result) {
  if (state === 0) return 'queued';
  if (state === 1 || state === 2) return 'working';
  if (result === 1 || result === 2) return 'completed';
  if (result === 7) return 'skipped';
  return 'failed';
}

// A failed run without an error of its own says what its result means (syncrun's census.c).
const FAIL_TEXTS = {
  3: ['error', 'The sync run failed'],
  4: ['config_error', "The sync run failed: the sync's configuration is invalid"],
  5: ['timed_out', 'The sync run timed out'],
  6: ['canceled', 'The sync run was canceled'],
};

function censusRun(r) {
  const fail = r.state === 3 ? FAIL_TEXTS[r.result] : undefined;
  const message = r.error_message !== null || !fail ? r.error_message
    : (r.message ? `${fail[1]}: ${r.message}` : fail[1]);
  return {
    id: r.id,
    created_at: iso(r.created_at),
    updated_at: iso(r.updated_at),
    completed_at: iso(r.completed_at),
    error_code: r.error_code === null && fail ? fail[0] : r.error_code,
    error_message: message,
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

// Census's pagination object and the page's bounds (page 0 means 1).
function censusPage(q, reply) {
  const page = Math.max(1, intParam(q.page, 0, 2147483647, 1));
  const perPage = intParam(q.per_page, 1, 100, 25);
  if (Number.isNaN(page)) return error(reply, 400, 'page must be an integer from 0 to 2147483647');
  if (Number.isNaN(perPage)) return error(reply, 400, 'per_page must be an integer from 1 to 100');
  const order = q.order === undefined ? 'desc' : q.order;
  if (order !== 'asc' && order !== 'desc') return error(reply, 400, 'order must be asc or desc');
  return { page, perPage, order };
}

function censusList(reply, total, p, rows) {
  const lastPage = total === 0 ? 1 : Math.ceil(total / p.perPage);
  send(reply, 200, {
    status: 'success',
    pagination: {
      total_records: total,
      per_page: p.perPage,
      prev_page: p.page > 1 ? Math.min(p.page - 1, lastPage) : null,
      page: p.page,
      next_page: p.page < lastPage ? p.page + 1 : null,
      last_page: lastPage,
    },
    data: rows.map(censusRun),
  });
}

// The Census routes, and /healthz; pageRows(cn, p, lastPage) reads a page's rows its own way.
function censusRoutes(fastify, db, pageRows) {
  const connStmt = db.prepare(
    'SELECT id, run_count FROM connections WHERE id = ? AND workspace_id = ? AND deleted_at IS NULL');
  const runStmt = db.prepare(
    `SELECT ${COLS} FROM runs r JOIN connections c ON c.id = r.connection_id AND c.deleted_at IS NULL
     WHERE r.id = ? AND r.workspace_id = ?`);
  fastify.addHook('onRequest', (req, reply, done) => {
    if (req.url !== '/healthz' && req.headers.authorization !== AUTH) return error(reply, 401, 'Unauthorized');
    done();
  });
  fastify.get('/api/v1/syncs/:id/sync_runs', (req, reply) => {
    const p = censusPage(req.query, reply);
    if (p === reply) return reply;
    const id = intParam(req.params.id, 1, Number.MAX_SAFE_INTEGER, NaN);
    const cn = Number.isNaN(id) ? undefined : connStmt.get(id, WS);
    if (!cn) return error(reply, 404, 'Sync not found');
    const lastPage = cn.run_count === 0 ? 1 : Math.ceil(cn.run_count / p.perPage);
    censusList(reply, cn.run_count, p, p.page > lastPage ? [] : pageRows(cn, p));
  });
  fastify.get('/api/v1/sync_runs/:id', (req, reply) => {
    const id = intParam(req.params.id, 1, Number.MAX_SAFE_INTEGER, NaN);
    const r = Number.isNaN(id) ? undefined : runStmt.get(id, WS);
    if (!r) return error(reply, 404, 'Sync run not found');
    send(reply, 200, { status: 'success', data: censusRun(r) });
  });
  fastify.get('/healthz', (req, reply) => send(reply, 200, { status: 'ok' }));
}

function listen(fastify) {
  fastify.listen({ host: '127.0.0.1', port: Number(process.env.PORT) }).catch((e) => {
    console.error(e);
    process.exit(1);
  });
  process.on('SIGTERM', () => fastify.close().then(() => process.exit(0)));
}

module.exports = { primary, WS, COLS, iso, send, error, intParam, censusRoutes, listen };
