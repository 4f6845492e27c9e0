'use strict';
// Benchmark peer, NOT part of syncrun: the Census sync-runs API as a competent Node team would
// write it — fastify + better-sqlite3 (prepared statements, read-only connection per worker),
// node:cluster with 2 workers. Paging is LIMIT/OFFSET (what a typical team writes); the total
// comes from connections.run_count. Same JSON bytes as syncrun's census.c. keyset.js is the
// same with keyset paging and the other dialects' lists.
//   PORT, DB, TOKEN, WORKSPACE_ID (default 1), WORKERS (default 2)
const common = require('./common');

if (!common.primary()) {
  const Database = require('better-sqlite3');
  const fastify = require('fastify')({ logger: false });
  const db = new Database(process.env.DB, { readonly: true, fileMustExist: true });
  const pageDesc = db.prepare(
    `SELECT ${common.COLS} FROM runs r WHERE r.connection_id = ? ORDER BY r.run_count DESC LIMIT ? OFFSET ?`);
  const pageAsc = db.prepare(
    `SELECT ${common.COLS} FROM runs r WHERE r.connection_id = ? ORDER BY r.run_count ASC LIMIT ? OFFSET ?`);
  common.censusRoutes(fastify, db, (cn, p) =>
    (p.order === 'asc' ? pageAsc : pageDesc).all(cn.id, p.perPage, (p.page - 1) * p.perPage));
  common.listen(fastify);
}
