'use strict';
// Benchmark peer, NOT part of syncrun: the strongest thing a Node team would write for the same
// job — fastify + better-sqlite3, node:cluster with 2 workers, and every page a keyset range on
// the (connection_id, run_count) index like syncrun's (no OFFSET; run_count is each connection's
// gapless 1..n sequence). It answers syncrun's Census routes and the other dialects' lists, with
// the same JSON bytes as syncrun:
//   GET /cdi/integrations/{uuid}/job_sync_status[?cursor=]            Braze, 10 a page, signed cursors
//   GET /rest/v2/connections/{uuid}/runs?startIndex=&count=           BlueConic, goals from jobs
//   GET /synchronization/imodels/manifestconnections/{uuid}/runs?$skip=&$top=  iTwin (Prefer:
//       return=representation: runs with jobs and tasks, one query for the page's jobs)
// Braze cursors are signed like syncrun's (HMAC-SHA256 under the database's cursor secret), so the
// same cursor URL walks both. Error answers are covered only as far as bench/run compares them.
//   PORT, DB, TOKEN, WORKSPACE_ID (default 1), WORKERS (default 2)
const common = require('./common');
const { WS, COLS, iso, send, intParam } = common;

if (!common.primary()) {
  const crypto = require('node:crypto');
  const Database = require('better-sqlite3');
  const fastify = require('fastify')({ logger: false });
  const db = new Database(process.env.DB, { readonly: true, fileMustExist: true });

  // ---- Census: a page is a run_count range
  const rangeDesc = db.prepare(`SELECT ${COLS} FROM runs r WHERE r.connection_id = ? AND r.workspace_id = ?
    AND r.run_count BETWEEN ? AND ? ORDER BY r.run_count DESC`);
  const rangeAsc = db.prepare(`SELECT ${COLS} FROM runs r WHERE r.connection_id = ? AND r.workspace_id = ?
    AND r.run_count BETWEEN ? AND ? ORDER BY r.run_count ASC`);
  common.censusRoutes(fastify, db, (cn, p) => {
    const skip = (p.page - 1) * p.perPage;
    if (p.order === 'asc') return rangeAsc.all(cn.id, WS, skip + 1, skip + p.perPage);
    const hi = cn.run_count - skip;
    return rangeDesc.all(cn.id, WS, Math.max(1, hi - p.perPage + 1), hi);
  });

  const connByUuid = db.prepare(`SELECT id, uuid, name, run_count FROM connections
    WHERE uuid = ? AND workspace_id = ? AND deleted_at IS NULL`);
  const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
  const conn = (s) => (UUID.test(s) ? connByUuid.get(s.toLowerCase(), WS) : undefined);

  // ---- Braze CDI job_sync_status
  const secret = db.prepare("SELECT value FROM settings WHERE name = 'cursor_secret'").get().value;
  const LABEL = Buffer.from('syncrun braze job_sync_status cursor\0');
  const tag = (body) => crypto.createHmac('sha256', secret).update(LABEL).update(body).digest().subarray(0, 16);
  function cursorMake(owner, dir, pos) {
    const body = Buffer.alloc(18);
    body[0] = 1;
    body[1] = dir.charCodeAt(0);
    body.writeBigUInt64BE(BigInt(owner), 2);
    body.writeBigUInt64BE(BigInt(pos), 10);
    return Buffer.concat([body, tag(body)]).toString('base64url');
  }
  function cursorParse(text, owner) {
    if (text.length !== 46) return null;
    const raw = Buffer.from(text, 'base64url');
    if (raw.length !== 34 || !crypto.timingSafeEqual(tag(raw.subarray(0, 18)), raw.subarray(18))) return null;
    const dir = String.fromCharCode(raw[1]), id = Number(raw.readBigUInt64BE(2)), pos = Number(raw.readBigUInt64BE(10));
    if (raw[0] !== 1 || (dir !== 'o' && dir !== 'n') || id !== owner || pos < (dir === 'o' ? 1 : 0)) return null;
    return { dir, pos };
  }
  const older = db.prepare(`SELECT ${COLS} FROM runs r WHERE r.connection_id = ? AND r.workspace_id = ?
    AND r.result != 7 AND r.run_count < ? ORDER BY r.run_count DESC LIMIT ?`);
  const newer = db.prepare(`SELECT ${COLS} FROM runs r WHERE r.connection_id = ? AND r.workspace_id = ?
    AND r.result != 7 AND r.run_count > ? ORDER BY r.run_count ASC LIMIT ?`);
  const brazeStatus = (r) => (r.state !== 3 ? 'running'
    : ({ 1: 'success', 2: 'partial', 3: 'error', 4: 'config_error', 5: 'error', 6: 'error' })[r.result]);
  const brazeError = (reply, code, message) => send(reply, code, { message });
  fastify.get('/cdi/integrations/:id/job_sync_status', (req, reply) => {
    const cn = conn(req.params.id);
    if (!cn) return brazeError(reply, 400, 'Invalid integration ID');
    const cursor = req.query.cursor;
    let c = { dir: 'o', pos: 0 };
    if (cursor !== undefined && !(c = cursorParse(cursor, cn.id))) return brazeError(reply, 400, 'Invalid cursor');
    let runs = c.dir === 'o' ? older.all(cn.id, WS, c.pos || Number.MAX_SAFE_INTEGER, 11)
      : newer.all(cn.id, WS, c.pos, 11);
    const beyond = runs.length > 10;
    runs = runs.slice(0, 10);
    if (c.dir === 'n') runs.reverse();
    const top = runs.length ? runs[0].run_count : (c.dir === 'o' ? c.pos - 1 : c.pos);
    const bottom = runs.length ? runs[runs.length - 1].run_count : (c.dir === 'n' ? c.pos + 1 : c.pos);
    let hasNext, hasPrev;
    if (c.dir === 'o') {
      hasNext = beyond;
      hasPrev = cursor !== undefined && newer.all(cn.id, WS, top, 1).length > 0;
    } else {
      hasPrev = beyond;
      hasNext = bottom > 1 && older.all(cn.id, WS, bottom, 1).length > 0;
    }
    const path = `/cdi/integrations/${cn.uuid}/job_sync_status`, links = [];
    if (hasPrev) links.push(`<${path}?cursor=${cursorMake(cn.id, 'n', top)}>; rel="prev"`);
    if (hasNext) links.push(`<${path}?cursor=${cursorMake(cn.id, 'o', bottom)}>; rel="next"`);
    if (links.length) reply.header('link', links.join(','));
    send(reply, 200, {
      results: runs.map((r) => ({
        job_status: brazeStatus(r),
        sync_start_time: iso(r.started_at || r.created_at),
        sync_finish_time: iso(r.state === 3 ? r.completed_at : 0),
        last_timestamp_synced: iso(r.watermark),
        rows_synced: r.records_updated,
        rows_failed_with_errors: r.records_failed,
      })),
      message: 'success',
    });
  });

  // ---- BlueConic run history
  const goalCounts = db.prepare(`SELECT r.id, j.result, count(*) AS n FROM runs r JOIN jobs j ON j.run_id = r.id
    WHERE r.connection_id = ? AND r.workspace_id = ? AND r.run_count BETWEEN ? AND ? GROUP BY r.id, j.result`);
  const failedGoals = db.prepare(`SELECT run_id, name, result FROM (SELECT j.run_id, j.name, j.result,
    row_number() OVER (PARTITION BY j.run_id ORDER BY j.id) AS k FROM runs r JOIN jobs j ON j.run_id = r.id
    WHERE r.connection_id = ? AND r.workspace_id = ? AND r.run_count BETWEEN ? AND ? AND j.result IN (3, 4, 5, 6))
    WHERE k <= 10`);
  const RESULT_NAMES = [null, 'success', 'partial', 'error', 'config_error', 'timed_out', 'canceled', 'skipped'];
  const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
  const esc = (s) => s.replace(/[&<>"']/g, (ch) => ESC[ch]);
  const li = (s) => `<li>${esc(s)}</li>`; // syncrun clips at 4,096 bytes: no bench string is that long
  const count = (v) => String(v).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const bcFailed = (res) => res >= 3 && res <= 6;
  const bcOk = (res) => res === 1 || res === 2;
  function bcStatusLine(r) {
    if (r.state === 0) return 'The run is queued.';
    if (r.state === 1) return 'The run is in progress.';
    if (r.state === 2) return 'The run failed and is waiting to retry.';
    return ({
      6: 'The run was stopped.',
      7: 'The run was skipped: an earlier run of this connection was still in progress.',
      2: 'The run finished, but some records failed.',
      3: 'The run failed.',
      4: 'The run failed: the connection is not configured correctly.',
      5: 'The run timed out.',
    })[r.result] || null;
  }
  function bcMessage(cn, r, g) {
    const error = r.result === 3 || r.result === 4 || r.result === 5 || r.error_message !== null ||
      r.error_detail !== null;
    const status = bcStatusLine(r);
    let m = `${error ? '<div class="bcpError">' : ''}<div class="bcpTask">${esc(cn.name)}</div><ul>`;
    if (error) {
      if (r.error_message !== null) m += li(r.error_message);
      if (r.error_detail !== null) m += li(r.error_detail);
      if (r.error_message === null && r.error_detail === null && status !== null) m += li(status);
      for (const j of g.failed) m += `<li>${j.name !== null ? esc(j.name) + ': ' : ''}goal ${RESULT_NAMES[j.result]}</li>`;
      if (g.nfailed > g.failed.length) m += `<li>${g.nfailed - g.failed.length} more goals failed.</li>`;
    } else {
      if (status !== null) m += li(status);
      if (r.state === 3 && r.result !== 7) {
        m += `<li>Received ${count(r.source_record_count)} records, processed ${count(r.records_processed)}, ` +
          `updated ${count(r.records_updated)}, ${count(r.records_failed)} failed, ${count(r.records_invalid)} invalid.</li>`;
      }
    }
    if (r.message !== null) m += li(r.message);
    m += '</ul>';
    if (error) m += '</div><div>Review the run log for more information.</div>';
    return m;
  }
  const stat = (id, v) => ({ id, values: [String(v)] });
  fastify.get('/rest/v2/connections/:id/runs', (req, reply) => {
    const start = intParam(req.query.startIndex, 0, Number.MAX_SAFE_INTEGER, 0);
    const n = intParam(req.query.count, 1, 100, 10);
    if (Number.isNaN(start)) return send(reply, 400, { errorCode: 'INVALID_PARAMETER',
      message: 'startIndex must be an integer of 0 or more', parameter: 'startIndex' });
    if (Number.isNaN(n)) return send(reply, 400, { errorCode: 'INVALID_PARAMETER',
      message: 'count must be an integer from 1 to 100', parameter: 'count' });
    const cn = conn(req.params.id);
    if (!cn) return send(reply, 404, { errorCode: 'NOT_FOUND', message: 'The connection does not exist.' });
    const total = cn.run_count, hi = total - start, lo = Math.max(1, hi - n + 1);
    const runs = hi >= 1 ? rangeDesc.all(cn.id, WS, lo, hi) : [];
    const goals = new Map();
    const goal = (id) => goals.get(id) || goals.set(id, { ok: 0, nfailed: 0, total: 0, failed: [] }).get(id);
    if (runs.length) {
      for (const c of goalCounts.all(cn.id, WS, lo, hi)) {
        const g = goal(c.id);
        g.total += c.n;
        if (bcOk(c.result)) g.ok += c.n;
        if (bcFailed(c.result)) g.nfailed += c.n;
      }
      for (const j of failedGoals.all(cn.id, WS, lo, hi)) goal(j.run_id).failed.push(j);
    }
    const none = { ok: 0, nfailed: 0, total: 0, failed: [] };
    send(reply, 200, {
      itemsPerPage: n,
      runs: runs.map((r) => {
        const g = goals.get(r.id) || none;
        const [ok, failed, all] = g.total ? [g.ok, g.nfailed, g.total]
          : [bcOk(r.result) ? 1 : 0, bcFailed(r.result) ? 1 : 0, 1];
        const c = new Date(r.created_at).toISOString();
        return {
          endDate: iso(r.completed_at),
          goalStatistics: [stat('SUCCESS', ok), stat('FAILED', failed), stat('TOTAL', all)],
          message: bcMessage(cn, r, g),
          runCount: r.run_count,
          runId: `${c.slice(0, 4)}${c.slice(5, 7)}${c.slice(8, 10)}${c.slice(11, 13)}${c.slice(14, 16)}` +
            `${c.slice(17, 19)}_${r.uuid}`,
          startDate: iso(r.started_at || r.created_at),
          state: r.state === 0 ? 'STARTING' : r.state < 3 ? 'RUNNING' : r.result === 6 ? 'STOPPED' : 'FINISHED',
        };
      }),
      startIndex: start,
      totalPages: total === 0 ? 0 : Math.ceil(total / n),
      totalResults: total,
    });
  });

  // ---- iTwin manifest-connection runs
  const units = db.prepare(`SELECT r.id, j.uuid, j.connector_type, j.state, j.result, j.started_at, j.ended_at,
    t.uuid, t.state, t.result, t.source_file_id, t.retry_attempts, t.started_at, t.ended_at, t.error_json,
    t.has_report, t.report_message, t.report_suggested_action, t.report_errors, t.report_warnings, t.report_other
    FROM runs r JOIN jobs j ON j.run_id = r.id LEFT JOIN tasks t ON t.job_id = j.id
    WHERE r.connection_id = ? AND r.workspace_id = ? AND r.run_count BETWEEN ? AND ?
    ORDER BY r.run_count DESC, j.id, t.id`).raw(true);
  const STATE = ['Queued', 'Executing', 'WaitingToRetry', 'Completed'];
  const RESULT = ['Undetermined', 'Success', 'PartialSuccess', 'Error', 'Error', 'TimedOut', 'Canceled', 'Skipped'];
  const CONNECTORS = new Set(['AUTOPLANT', 'CIVIL', 'CIVIL3D', 'DWG', 'GEOSPATIAL', 'IFC', 'MSTN', 'NWD', 'OBD',
    'OPENTOWER', 'REVIT', 'SPPID', 'SPXREVIEW', 'PROSTRUCTURES', 'RVM', 'PSEXCEL', 'INTELLIPID']);
  const PHASES = new Set(['Preprocessor', 'MasterFile', 'ReferenceFile']);
  const ACTIONS = new Set(['Error', 'Warning', 'Info']);
  function jobsOf(connId, lo, hi) { // run id -> [job], each job with its tasks, in page order
    const byRun = new Map();
    let job = null;
    for (const u of units.all(connId, WS, lo, hi)) {
      let jobs = byRun.get(u[0]);
      if (!jobs) byRun.set(u[0], (jobs = []));
      if (!job || job.id !== u[1]) {
        job = { id: u[1], state: STATE[u[3]], result: RESULT[u[4]] };
        if (CONNECTORS.has(u[2])) job.connectorType = u[2];
        if (u[5] > 0) job.startDateTime = iso(u[5]);
        if (u[6] > 0) job.endDateTime = iso(u[6]);
        job.tasks = [];
        jobs.push(job);
      }
      if (u[7] === null) continue;
      const t = { id: u[7], state: STATE[u[8]], result: RESULT[u[9]] };
      if (u[10] !== null) t.sourceFileId = u[10];
      t.retryAttempts = u[11];
      if (u[12] > 0) t.startDateTime = iso(u[12]);
      if (u[13] > 0) t.endDateTime = iso(u[13]);
      if (u[14] !== null) {
        const e = JSON.parse(u[14]);
        if (e && typeof e === 'object' && !Array.isArray(e)) t.error = e;
      }
      if (u[15]) {
        const rep = {};
        if (u[16] !== null) rep.message = u[16];
        if (ACTIONS.has(u[17])) rep.suggestedAction = u[17];
        rep.totalErrorsCount = u[18];
        rep.totalWarningsCount = u[19];
        rep.totalOtherIssuesCount = u[20];
        t.details = { synchronizationReport: rep };
      }
      job.tasks.push(t);
    }
    return byRun;
  }
  function itwinFull(cn, r, jobs) {
    const o = { id: r.uuid, connectionId: cn.uuid, state: STATE[r.state], result: RESULT[r.result] };
    if (PHASES.has(r.current_step)) o.phase = r.current_step;
    o.startDateTime = iso(r.started_at || r.created_at);
    if (r.completed_at > 0) o.endDateTime = iso(r.completed_at);
    if (r.error_code !== null || r.error_message !== null) {
      o.error = {};
      if (r.error_code !== null) o.error.errorKey = r.error_code;
      if (r.error_message !== null) o.error.description = r.error_message;
    } else {
      o.error = null;
    }
    o.jobs = jobs || [];
    return o;
  }
  const itwinError = (reply, code, c, message, details) =>
    send(reply, code, { error: details ? { code: c, message, details } : { code: c, message } });
  fastify.get('/synchronization/imodels/manifestconnections/:id/runs', (req, reply) => {
    const skip = intParam(req.query.$skip, 0, 2147483647, 0), top = intParam(req.query.$top, 1, 1000, 100);
    const bad = [];
    if (!UUID.test(req.params.id)) bad.push(['connectionId', 'Provided connectionId value is not valid.']);
    if (Number.isNaN(skip)) bad.push(['$skip', 'Page size is out of limits.']);
    if (Number.isNaN(top)) bad.push(['$top', 'Page size is out of limits.']);
    if (bad.length) return itwinError(reply, 422, 'InvalidManifestConnectionRunsRequest', 'Cannot perform operation.',
      bad.map(([target, message]) => ({ code: 'InvalidValue', message, target })));
    const cn = conn(req.params.id);
    if (!cn) return itwinError(reply, 404, 'ManifestConnectionNotFound', 'Requested ManifestConnection is not available.');
    const hi = cn.run_count - skip, lo = Math.max(1, hi - top + 1);
    const runs = hi >= 1 ? rangeDesc.all(cn.id, WS, lo, hi) : [];
    const prefer = /(^|,)\s*return\s*=\s*"?(minimal|representation)/i.exec(req.headers.prefer || '');
    const full = prefer !== null && prefer[2].toLowerCase() === 'representation';
    const jobs = full && runs.length ? jobsOf(cn.id, lo, hi) : null;
    const base = `http://${req.headers.host}/synchronization/imodels/manifestconnections/${cn.uuid}/runs`;
    const link = (s) => ({ href: `${base}?$skip=${s}&$top=${top}` });
    const links = { self: link(skip) };
    if (skip > 0) links.prev = link(skip > top ? skip - top : 0);
    if (skip + top < cn.run_count) links.next = link(skip + top);
    if (prefer !== null) reply.header('preference-applied', `return=${prefer[2].toLowerCase()}`);
    send(reply, 200, {
      runs: runs.map((r) => (full ? itwinFull(cn, r, jobs.get(r.id))
        : { id: r.uuid, state: STATE[r.state], result: RESULT[r.result] })),
      _links: links,
    });
  });

  common.listen(fastify);
}
