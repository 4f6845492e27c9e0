// The syncrun dashboard: a single page over the native API (/v1), served from the binary.
// Views, chosen by the URL fragment (shareable, never sent to the server):
//   #/?window=7d&q=text                 connections overview (GET /v1/overview)
//   #/connections/ID?state=&result=&trigger=&since=&until=&cursor=   a connection's run history
//   #/runs/ID                           a run, followed live while it works
//   #token=sr_...                       sign in with this key, then drop it from the address bar
// The key lives in sessionStorage only (this tab, until it closes or signs out) and is sent as
// `Authorization: Bearer`. No element is built from HTML strings: text goes in as text.
'use strict';

const TOKEN_KEY = 'syncrun.token';
const WINDOWS = ['24h', '7d', '30d'];
const WINDOW_MS = { '24h': 86400e3, '7d': 7 * 86400e3, '30d': 30 * 86400e3 };
const STATES = ['queued', 'working', 'retrying', 'finished'];
const RESULTS = ['success', 'partial', 'error', 'config_error', 'timed_out', 'canceled', 'skipped'];
const FAILED = new Set(['error', 'config_error', 'timed_out']);
const PAGE = 100; // runs per history page (the API's maximum)
const LOG_TAIL = 64 * 1024; // characters of the log shown

const main = document.getElementById('main');
const live = document.getElementById('live');
let me = null; // GET /v1/whoami of the signed-in key
let view = null; // { alive } of the view on screen; set alive = false to stop its loops

// ---- small helpers ----

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function clear(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

function announce(msg) {
  live.textContent = msg;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const collator = new Intl.Collator('en');
const intFormat = new Intl.NumberFormat('en-US'); // one formatter: toLocaleString makes one per call

function fmtInt(n) {
  return n === null || n === undefined ? '—' : intFormat.format(n);
}

function fmtDuration(ms) {
  if (ms === null || ms === undefined || !isFinite(ms)) return '—';
  if (ms < 1000) return Math.round(ms) + ' ms';
  const s = ms / 1000;
  if (s < 60) return (s < 10 ? s.toFixed(1) : Math.round(s)) + ' s';
  const m = Math.floor(s / 60);
  if (m < 60) return m + ' min ' + Math.round(s - m * 60) + ' s';
  const hr = Math.floor(m / 60);
  if (hr < 48) return hr + ' h ' + (m - hr * 60) + ' min';
  return Math.floor(hr / 24) + ' d ' + (hr % 24) + ' h';
}

function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function fmtRelative(iso) {
  if (!iso) return '—';
  const diff = new Date(iso).getTime() - Date.now();
  const a = Math.abs(diff);
  const t = a < 60e3 ? Math.round(a / 1e3) + ' s' : a < 3600e3 ? Math.round(a / 60e3) + ' min' : a < 172800e3 ? Math.round(a / 3600e3) + ' h' : Math.round(a / 86400e3) + ' d';
  return diff >= 0 ? 'in ' + t : t + ' ago';
}

function timeEl(iso, relative) {
  if (!iso) return h('span', { class: 'muted', text: '—' });
  return h('time', { datetime: iso, title: fmtTime(iso), text: relative ? fmtRelative(iso) : fmtTime(iso) });
}

function runDuration(r) {
  const start = r.started_at || r.created_at;
  if (!start) return null;
  const end = r.completed_at ? new Date(r.completed_at).getTime() : r.state === 'finished' ? null : Date.now();
  return end === null ? null : Math.max(0, end - new Date(start).getTime());
}

// The status of a run (or of a connection, by its latest run): a word and a colour class. The word
// is always shown: the colour is never the only signal.
function runStatus(r) {
  if (!r) return { word: 'no runs', cls: 'none', rank: 5 };
  if (r.state !== 'finished') return { word: r.state, cls: 'active', rank: 3 };
  const res = r.result || 'finished';
  if (FAILED.has(res)) return { word: res.replace('_', ' '), cls: 'failed', rank: 0 };
  if (res === 'partial') return { word: 'partial', cls: 'warn', rank: 2 };
  if (res === 'success') return { word: 'success', cls: 'ok', rank: 4 };
  return { word: res, cls: 'neutral', rank: 4 };
}

function badge(r, extra) {
  const s = runStatus(r);
  return h('span', { class: 'badge st-' + s.cls + (extra ? ' ' + extra : ''), text: s.word });
}

// ---- the API ----

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

async function api(path, opts = {}) {
  const headers = Object.assign({ Authorization: 'Bearer ' + token() }, opts.headers || {});
  const init = { method: opts.method || 'GET', headers, cache: 'no-store', signal: opts.signal };
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(opts.body);
  }
  const res = await fetch(path, init);
  if (res.status === 401) {
    signOut('The server did not accept the key (revoked or mistyped). Sign in again.');
    throw new ApiError(401, 'unauthorized', 'not signed in');
  }
  if (res.status === 304) return { notModified: true };
  const type = res.headers.get('content-type') || '';
  const body = type.startsWith('application/json') ? await res.json() : await res.text();
  if (!res.ok) {
    const e = body && body.error ? body.error : {};
    throw new ApiError(res.status, e.code || 'error', e.message || `${res.status} ${res.statusText}`);
  }
  if (opts.withHeaders) return { body, headers: res.headers };
  return body;
}

function canWrite() {
  return !!(me && me.can_write);
}

// ---- sign-in ----

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(ME_KEY);
  me = null;
  stopView();
  document.getElementById('account').hidden = true;
  renderSignIn(message);
}

function renderSignIn(message) {
  const input = h('input', { id: 'key', name: 'key', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true, 'aria-describedby': 'key-help' });
  const err = h('p', { class: 'error', role: 'alert', text: message || '' });
  if (!message) err.hidden = true;
  const form = h('form', { class: 'signin', onsubmit: async (ev) => {
    ev.preventDefault();
    const k = input.value.trim();
    if (!k) return;
    sessionStorage.setItem(TOKEN_KEY, k);
    sessionStorage.removeItem(ME_KEY);
    try {
      await start();
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 401)) {
        err.hidden = false;
        err.textContent = 'Could not reach the server: ' + e.message;
      }
    }
  } },
  h('h1', { text: 'Sign in' }),
  err,
  h('label', { for: 'key', text: 'API key' }),
  input,
  h('p', { id: 'key-help', class: 'muted', text: 'A syncrun API key (sr_…), e.g. from `syncrun key create`. It is kept in this tab’s session storage only — never in a cookie — sent to this server as an Authorization header, and forgotten when the tab closes or you sign out.' }),
  h('button', { type: 'submit', class: 'primary', text: 'Sign in' }));
  clear(main, form);
  input.focus();
}

// Who the key is (GET /v1/whoami), kept beside the key for this tab: a later load of the page
// routes at once and asks again alongside (the server decides what a key may do; this only
// chooses which buttons to show).
const ME_KEY = 'syncrun.me';

function showMe(m) {
  me = m;
  sessionStorage.setItem(ME_KEY, JSON.stringify(m));
  const who = document.getElementById('who');
  clear(who, h('span', { text: m.workspace.name || 'workspace ' + m.workspace.id }), ' · ', h('span', { class: 'scope', text: m.scope }));
  document.getElementById('account').hidden = false;
}

async function start() {
  let cached = null;
  try {
    cached = JSON.parse(sessionStorage.getItem(ME_KEY) || 'null');
  } catch (e) { /* none */ }
  if (cached && cached.workspace) {
    showMe(cached);
    route();
    const fresh = await api('/v1/whoami');
    if (fresh.key_id !== cached.key_id || fresh.scope !== cached.scope) {
      showMe(fresh);
      route();
    }
    return;
  }
  showMe(await api('/v1/whoami'));
  route();
}

// ---- routing ----

function parseHash() {
  const raw = location.hash.replace(/^#/, '');
  const qi = raw.indexOf('?');
  const path = (qi >= 0 ? raw.slice(0, qi) : raw) || '/';
  const query = new URLSearchParams(qi >= 0 ? raw.slice(qi + 1) : '');
  return { path, query };
}

function hashOf(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  return '#' + path + (s ? '?' + s : '');
}

function stopView() {
  if (!view) return;
  view.alive = false;
  view.ac.abort();
}

function route() {
  if (!token() || !me) return;
  stopView();
  // A view's long-polls end with it: a browser keeps only 6 connections per server.
  const ctl = { alive: true, ac: new AbortController() };
  view = ctl;
  const { path, query } = parseHash();
  let m;
  let p;
  if ((m = path.match(/^\/connections\/(\d+)$/))) p = viewHistory(ctl, Number(m[1]), query);
  else if ((m = path.match(/^\/runs\/(\d+)$/))) p = viewRun(ctl, Number(m[1]));
  else p = viewOverview(ctl, query);
  p.catch((e) => {
    if (!ctl.alive || (e instanceof ApiError && e.status === 401)) return;
    clear(main, h('h1', { text: 'Something went wrong' }), h('p', { class: 'error', role: 'alert', text: e.message }), h('p', {}, h('a', { href: '#/', text: 'Back to the connections' })));
  });
}

function setTitle(t) {
  document.title = t + ' · syncrun';
}

// ---- connections overview ----

function connStatus(c) {
  const s = runStatus(c.latest_run);
  // A late connection (an expected run did not come) sorts right after the failing ones.
  if (c.connection.late === true && s.rank > 1) return Object.assign({}, s, { rank: 1 });
  return s;
}

// The next scheduled run, or when an expected run is due (connection expectations).
function nextRun(cn) {
  if (cn.next_run_at) return timeEl(cn.next_run_at, true);
  if (cn.expected_by) return h('span', {}, 'due ', timeEl(cn.expected_by, true));
  if (cn.late === true && cn.late_since) return h('span', { class: 'late-text' }, 'was due ', timeEl(cn.late_since, true));
  return h('span', { class: 'muted', text: '—' });
}

// The strip entry of each cell, for its tooltip.
const stripRuns = new WeakMap();

function stripTitle(ev) {
  const cell = ev.target;
  const r = stripRuns.get(cell);
  if (!r || cell.title) return;
  const [, runCount, state, result, createdAt, durationMs, records] = r;
  cell.title = `#${runCount} ${runStatus({ state, result }).word} · ${fmtTime(createdAt)} · ${fmtDuration(durationMs)} · ${fmtInt(records)} records`;
}

function strip(recent) {
  const el = h('span', { class: 'strip' });
  const runs = recent || [];
  const counts = {};
  // 30 cells a connection, 1,000 connections: built directly, not through h(). Each entry is an
  // array: [id, run_count, state, result, created_at, duration_ms, records_processed]. A cell's
  // tooltip is written when the pointer first reaches it (stripTitle), not for 30,000 cells upfront.
  for (const r of runs) {
    const s = runStatus({ state: r[2], result: r[3] });
    counts[s.word] = (counts[s.word] || 0) + 1;
    const cell = document.createElement('span');
    cell.className = 'cell st-' + s.cls;
    cell.dataset.run = r[0];
    stripRuns.set(cell, r);
    el.append(cell);
  }
  const summary = Object.entries(counts).map(([w, n]) => `${n} ${w}`).join(', ');
  el.setAttribute('role', 'img');
  el.setAttribute('aria-label', runs.length ? `Last ${runs.length} runs, oldest first: ${summary}` : 'No runs');
  return el;
}

async function viewOverview(ctl, query) {
  const win = WINDOWS.includes(query.get('window')) ? query.get('window') : '24h';
  let filter = query.get('q') || '';
  setTitle('Connections');
  const select = h('select', { id: 'window', onchange: () => { location.hash = hashOf('/', { window: select.value, q: filter }); } },
    WINDOWS.map((w) => h('option', { value: w, selected: w === win, text: { '24h': 'last 24 hours', '7d': 'last 7 days', '30d': 'last 30 days' }[w] })));
  const box = h('input', { id: 'filter', type: 'search', value: filter, placeholder: 'name, source or destination', autocomplete: 'off' });
  const summary = h('p', { class: 'muted', id: 'summary', 'aria-live': 'polite' });
  const tbody = h('tbody');
  const table = h('table', { class: 'overview' },
    h('caption', { class: 'visually-hidden', text: 'Connections, failing first' }),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col', text: 'Status' }), h('th', { scope: 'col', text: 'Connection' }), h('th', { scope: 'col', text: 'Last 30 runs' }),
      h('th', { scope: 'col', class: 'num', text: 'Success rate' }), h('th', { scope: 'col', class: 'num', text: 'Median duration' }),
      h('th', { scope: 'col', class: 'num', text: 'Records processed' }), h('th', { scope: 'col', text: 'Latest run' }), h('th', { scope: 'col', text: 'Next run' }))),
    tbody);
  table.addEventListener('pointerover', stripTitle);
  table.addEventListener('click', (ev) => {
    const cell = ev.target.closest('[data-run]');
    if (cell) location.hash = '#/runs/' + cell.dataset.run;
  });
  clear(main,
    h('h1', { text: 'Connections' }),
    h('div', { class: 'controls' },
      h('div', { class: 'field' }, h('label', { for: 'window', text: 'Window' }), select),
      h('div', { class: 'field grow' }, h('label', { for: 'filter', text: 'Filter' }), box)),
    summary,
    h('div', { class: 'scroll' }, table));

  // Rows are made progressively: the first screenful at once, the rest a chunk per task after the
  // first paint, so 1,000 connections show as fast as 50 (the filter and counts use the data). A
  // workspace of more than one page of connections (1,000) is drawn as soon as its first page is
  // here; the next pages are asked for before it is drawn and merged into the order when they come.
  const FIRST_ROWS = Math.max(20, Math.ceil(window.innerHeight / 30)); // a screenful and some
  const CHUNK_ROWS = 50;
  let rows = [];
  let built = 0; // rows[0, built) are in the tbody, in that order
  let generation = 0;
  const matches = (r) => !filter || r.text.includes(filter.toLowerCase());
  const applyFilter = () => {
    let shown = 0;
    let failing = 0;
    for (const r of rows) {
      const hit = matches(r);
      if (r.tr) r.tr.hidden = !hit;
      if (hit) shown++;
      if (hit && r.rank === 0) failing++;
    }
    summary.textContent = `${shown} of ${rows.length} connections${filter ? ' match' : ''} · ${failing} failing`;
  };
  box.addEventListener('input', () => {
    filter = box.value;
    history.replaceState(null, '', hashOf('/', { window: win === '24h' ? null : win, q: filter }));
    applyFilter();
  });
  const makeRow = (r) => {
    const { c, s } = r;
    const cn = c.connection;
    const st = c.stats || {};
    const rate = st.success_rate;
    r.tr = h('tr', {},
      h('td', {}, h('span', { class: 'badge st-' + s.cls, text: s.word }), cn.late === true ? h('span', { class: 'badge late', text: 'late' }) : null),
      h('th', { scope: 'row' }, h('a', { href: '#/connections/' + cn.id, text: cn.name }), h('div', { class: 'muted small', text: `${cn.source || '—'} → ${cn.destination || '—'}` })),
      h('td', {}, strip(c.recent)),
      h('td', { class: 'num', 'data-label': 'Success rate', text: rate === null || rate === undefined ? '—' : (rate * 100).toFixed(rate === 1 ? 0 : 1) + '%' }),
      h('td', { class: 'num', 'data-label': 'Median duration', text: fmtDuration(st.duration_ms ? st.duration_ms.p50 : null) }),
      h('td', { class: 'num', 'data-label': 'Records', text: fmtInt(st.records_processed) }),
      h('td', { 'data-label': 'Latest run' }, c.latest_run ? h('a', { href: '#/runs/' + c.latest_run.id, text: '#' + c.latest_run.run_count }) : null, ' ', c.latest_run ? timeEl(c.latest_run.created_at, true) : h('span', { class: 'muted', text: '—' })),
      h('td', { 'data-label': 'Next run' }, nextRun(cn)));
    r.tr.hidden = !matches(r);
    return r.tr;
  };

  const toRow = (c) => {
    const s = connStatus(c);
    const cn = c.connection;
    return { c, s, rank: s.rank, name: cn.name, text: `${cn.name} ${cn.source || ''} ${cn.destination || ''}`.toLowerCase(), tr: null };
  };
  const order = (a, b) => a.rank - b.rank || collator.compare(a.name, b.name);
  // Builds rows[built, ...) a chunk per frame (the rows shown so far are painted before the next
  // chunk is built); one builder per load (buildingGen is the load it builds for).
  let buildingGen = 0;
  const buildMore = (gen) => {
    if (gen !== generation || !ctl.alive) return;
    const frag = document.createDocumentFragment();
    for (const end = Math.min(rows.length, built + CHUNK_ROWS); built < end; built++) frag.append(rows[built].tr || makeRow(rows[built]));
    tbody.append(frag);
    if (built < rows.length) requestAnimationFrame(() => setTimeout(buildMore, 0, gen));
    else buildingGen = 0;
  };
  const buildLater = (gen) => {
    if (buildingGen === gen || built >= rows.length) return;
    buildingGen = gen;
    requestAnimationFrame(() => setTimeout(buildMore, 0, gen));
  };
  const page = (after) => api(`/v1/overview?window=${win}${after ? '&after=' + after : ''}`);
  const load = async () => {
    const gen = ++generation;
    let data = await page(0);
    if (!ctl.alive || gen !== generation) return;
    // the next page is on its way while this one is drawn
    const nextOf = (d) => (d.more && d.connections.length ? page(d.connections[d.connections.length - 1].connection.id) : null);
    let next = nextOf(data);
    if (next) next.catch(() => {});
    rows = data.connections.map(toRow).sort(order);
    built = Math.min(rows.length, FIRST_ROWS);
    tbody.replaceChildren(...rows.slice(0, built).map(makeRow));
    applyFilter();
    buildLater(gen);
    while (next) {
      data = await next;
      if (!ctl.alive || gen !== generation) return;
      next = nextOf(data);
      if (next) next.catch(() => {});
      const added = new Set(data.connections.map(toRow));
      rows.push(...added);
      rows.sort(order);
      // Rows that sort among those already shown go in their place; the rest are built later.
      const shown = rows.slice(0, built);
      if (shown.some((r) => added.has(r))) tbody.replaceChildren(...shown.map((r) => r.tr || makeRow(r)));
      applyFilter();
      buildLater(gen);
    }
    if (!rows.length) tbody.replaceChildren(h('tr', {}, h('td', { colspan: '8', class: 'muted', text: 'No connections yet.' })));
  };
  await load();
  // Live: the overview is one request; refreshed every 15 s while the tab is visible (every
  // minute for a workspace of hundreds of connections).
  while (ctl.alive) {
    await sleep(rows.length > 200 ? 60000 : 15000);
    if (ctl.alive && document.visibilityState === 'visible') await load().catch(() => {});
  }
}

// ---- a connection's run history ----

function isoOrNull(v) {
  if (!v) return null;
  const t = new Date(v);
  return isNaN(t.getTime()) ? null : t.toISOString();
}

function localInput(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d.getTime())) return '';
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

function chartBox(label) {
  return h('figure', { class: 'chart' }, h('figcaption', { text: label }), h('div', { class: 'plot', role: 'img', 'aria-label': label }));
}

const charts = [];

// uPlot (/ui/uplot.js) is a deferred script after this module in index.html: this module runs
// first and sends the view's API calls, and uPlot is evaluated while they are answered. Resolves
// true once uPlot is there; if that script failed (known at DOMContentLoaded, which waits for
// deferred scripts), it is asked for again; false when that fails too (the charts then say so, and
// the next call tries again).
let uplotLoading = null;
let domLoaded = document.readyState === 'complete';
document.addEventListener('DOMContentLoaded', () => { domLoaded = true; }, { once: true });

function uplotScript() {
  return new Promise((resolve) => {
    const s = document.createElement('script');
    s.src = document.getElementById('uplot').src;
    s.onload = () => resolve(true);
    s.onerror = () => {
      s.remove();
      resolve(false);
    };
    document.head.append(s);
  });
}

function loadUplot() {
  if (typeof uPlot !== 'undefined') return Promise.resolve(true);
  if (!uplotLoading) {
    const ready = domLoaded ? Promise.resolve() : new Promise((r) => document.addEventListener('DOMContentLoaded', r, { once: true }));
    uplotLoading = ready.then(() => typeof uPlot !== 'undefined' || uplotScript()).then((ok) => {
      if (!ok) uplotLoading = null;
      return ok;
    });
  }
  return uplotLoading;
}

function drawChart(fig, opts, data, summary) {
  const plot = fig.querySelector('.plot');
  plot.setAttribute('aria-label', summary);
  plot.replaceChildren();
  if (typeof uPlot === 'undefined' || data[0].length === 0) {
    plot.append(h('p', { class: 'muted', text: data[0].length ? 'Charts unavailable.' : 'No runs to chart.' }));
    return;
  }
  const width = Math.max(280, plot.clientWidth || 600);
  const u = new uPlot(Object.assign({ width, height: 180, legend: { live: false } }, opts), data, plot);
  charts.push({ u, plot });
}

new ResizeObserver(() => {
  for (let i = charts.length - 1; i >= 0; i--) {
    const { u, plot } = charts[i];
    if (!plot.isConnected) { u.destroy(); charts.splice(i, 1); continue; }
    u.setSize({ width: Math.max(280, plot.clientWidth), height: 180 });
  }
}).observe(main);

// A compact duration for an axis tick (seconds in): 45 s, 12 min, 3 h.
function axisDuration(s) {
  if (s === null || s === undefined) return '';
  if (s < 120) return +s.toFixed(1) + ' s';
  if (s < 7200) return +(s / 60).toFixed(1) + ' min';
  return +(s / 3600).toFixed(1) + ' h';
}

function failedPoints(color) {
  return { label: 'failed', stroke: color, paths: () => null, points: { show: true, size: 9, fill: color, stroke: color } };
}

function renderCharts(figs, runs) {
  const asc = runs.slice().reverse();
  const xs = asc.map((r) => new Date(r.created_at).getTime() / 1000);
  const dur = asc.map((r) => { const d = r.state === 'finished' ? runDuration(r) : null; return d === null ? null : d / 1000; });
  const fails = asc.map((r, i) => (FAILED.has(r.result) ? (dur[i] === null ? 0 : dur[i]) : null));
  const recs = asc.map((r) => r.counters ? r.counters.records_processed : null);
  const recFails = asc.map((r, i) => (FAILED.has(r.result) ? recs[i] : null));
  const wm = asc.map((r) => (r.last_timestamp_synced ? new Date(r.last_timestamp_synced).getTime() / 1000 : null));
  const nfail = fails.filter((v) => v !== null).length;
  const span = xs.length ? `${xs.length} runs from ${fmtTime(asc[0].created_at)} to ${fmtTime(asc[asc.length - 1].created_at)}` : 'no runs';
  const blue = '#0550ae';
  const red = '#cf222e';
  drawChart(figs.duration, {
    scales: { x: { time: true } },
    series: [{}, { label: 'duration (s)', stroke: blue, width: 1.5, points: { show: true, size: 4 } }, failedPoints(red)],
    axes: [{}, { values: (u, v) => v.map(axisDuration), size: 60 }],
  }, [xs, dur, fails], `Duration of ${span}; ${nfail} failed, marked in red`);
  drawChart(figs.records, {
    scales: { x: { time: true } },
    series: [{}, { label: 'records processed', stroke: '#1a7f37', width: 1.5, points: { show: true, size: 4 } }, failedPoints(red)],
    axes: [{}, { size: 70 }],
  }, [xs, recs, recFails], `Records processed of ${span}; ${nfail} failed, marked in red`);
  drawChart(figs.watermark, {
    scales: { x: { time: true }, y: { time: true } },
    series: [{}, { label: 'watermark', stroke: '#8250df', width: 1.5, points: { show: true, size: 4 } }],
    axes: [{}, { values: (u, v) => v.map((s) => fmtTime(new Date(s * 1000).toISOString()).slice(5, 16)), size: 100 }],
  }, [xs, wm], `Watermark (last timestamp synced) of ${span}`);
}

async function viewHistory(ctl, id, query) {
  const f = {
    state: STATES.includes(query.get('state')) ? query.get('state') : '',
    result: RESULTS.includes(query.get('result')) ? query.get('result') : '',
    trigger: query.get('trigger') || '',
    since: isoOrNull(query.get('since')),
    until: isoOrNull(query.get('until')),
    cursor: query.get('cursor') || '',
  };
  // The connection, its statistics and the first page are asked for at once.
  const statsUrl = () => {
    const until = f.until || new Date().toISOString();
    const since = f.since || new Date(Date.now() - WINDOW_MS['30d']).toISOString();
    return `/v1/connections/${id}/stats?since=${encodeURIComponent(since)}&until=${encodeURIComponent(until)}`;
  };
  const runsUrl = () => {
    const q = new URLSearchParams({ limit: String(PAGE) });
    for (const k of ['state', 'result', 'trigger', 'since', 'until', 'cursor']) if (f[k]) q.set(k, f[k]);
    return `/v1/connections/${id}/runs?${q}`;
  };
  const settle = (p) => p.then((v) => ({ v }), (e) => ({ e }));
  let firstStats = settle(api(statsUrl()));
  let firstPage = settle(api(runsUrl()));
  const conn = await api('/v1/connections/' + id);
  if (!ctl.alive) return;
  setTitle(conn.name);

  const sel = (name, values, cur) => h('select', { id: 'f-' + name, name },
    h('option', { value: '', text: 'any' }), values.map((v) => h('option', { value: v, selected: v === cur, text: v.replace('_', ' ') })));
  const form = h('form', { class: 'controls filters', 'aria-label': 'Filter runs' },
    h('div', { class: 'field' }, h('label', { for: 'f-state', text: 'State' }), sel('state', STATES, f.state)),
    h('div', { class: 'field' }, h('label', { for: 'f-result', text: 'Result' }), sel('result', RESULTS, f.result)),
    h('div', { class: 'field' }, h('label', { for: 'f-trigger', text: 'Trigger' }), h('input', { id: 'f-trigger', name: 'trigger', value: f.trigger, placeholder: 'e.g. Manual', list: 'trigger-tags', autocomplete: 'off' })),
    h('datalist', { id: 'trigger-tags' }, ['Manual', 'Scheduled', 'API', 'Ping', 'Retry'].map((t) => h('option', { value: t }))),
    h('div', { class: 'field' }, h('label', { for: 'f-since', text: 'From' }), h('input', { id: 'f-since', name: 'since', type: 'datetime-local', value: localInput(f.since) })),
    h('div', { class: 'field' }, h('label', { for: 'f-until', text: 'To' }), h('input', { id: 'f-until', name: 'until', type: 'datetime-local', value: localInput(f.until) })),
    h('div', { class: 'field buttons' }, h('button', { type: 'submit', class: 'primary', text: 'Apply' }), h('a', { class: 'button', href: '#/connections/' + id, text: 'Reset' })));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = (n) => form.elements[n].value;
    location.hash = hashOf('/connections/' + id, { state: v('state'), result: v('result'), trigger: v('trigger').trim(), since: isoOrNull(v('since')), until: isoOrNull(v('until')) });
  });

  const statsEl = h('dl', { class: 'stats' });
  const figs = { duration: chartBox('Duration'), records: chartBox('Records processed'), watermark: chartBox('Watermark') };
  const tbody = h('tbody');
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' });
  const actions = h('div', { class: 'actions' });
  if (canWrite()) actions.append(h('button', { type: 'button', id: 'trigger', text: 'Run now', onclick: async (ev) => {
    ev.target.disabled = true;
    try {
      const r = await api('/v1/connections/' + id + '/runs', { method: 'POST', body: { trigger: { tag: 'Manual', detail: 'Triggered from the dashboard' } } });
      location.hash = '#/runs/' + r.id;
    } catch (e) {
      ev.target.disabled = false;
      announce('Could not start a run: ' + e.message);
      alertBox(actions, e.message);
    }
  } }));
  clear(main,
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/', text: 'Connections' }), ' / ', h('span', { 'aria-current': 'page', text: conn.name })),
    h('div', { class: 'title' }, h('h1', { text: conn.name }), conn.late === true ? h('span', { class: 'badge late', text: 'late' }) : null, actions),
    h('p', { class: 'muted', text: `${conn.source || '—'} → ${conn.destination || '—'}` + (conn.schedule ? ` · schedule ${conn.schedule}` : '') + (conn.next_run_at ? ` · next run ${fmtRelative(conn.next_run_at)}` : '') }),
    statsEl,
    form,
    h('div', { class: 'charts' }, figs.duration, figs.records, figs.watermark),
    h('h2', { id: 'runs-h', text: 'Runs' }),
    h('div', { class: 'scroll' }, h('table', { class: 'runs', 'aria-labelledby': 'runs-h' },
      h('thead', {}, h('tr', {}, ['Run', 'Status', 'Trigger', 'Created', 'Duration', 'Records', 'Failed', 'Watermark', 'Error'].map((t, i) => h('th', { scope: 'col', class: i === 4 || i === 5 || i === 6 ? 'num' : null, text: t })))),
      tbody)),
    pager);

  const loadStats = async () => {
    const got = firstStats || settle(api(statsUrl()));
    firstStats = null;
    const { v: st, e } = await got;
    if (!ctl.alive) return;
    if (e) {
      clear(statsEl, h('div', {}, h('dt', { text: 'Statistics' }), h('dd', { class: 'muted', text: e.message })));
      return;
    }
    const item = (k, v) => h('div', {}, h('dt', { text: k }), h('dd', { text: v }));
    const failed = Object.entries(st.by_result || {}).filter(([k]) => FAILED.has(k)).reduce((a, [, n]) => a + n, 0);
    clear(statsEl,
      item(f.since || f.until ? 'Runs in range' : 'Runs, 30 days', fmtInt(st.runs)),
      item('Success rate', st.success_rate === null || st.success_rate === undefined ? '—' : (st.success_rate * 100).toFixed(1) + '%'),
      item('Failed', fmtInt(failed)),
      item('Median duration', fmtDuration(st.duration_ms && st.duration_ms.p50)),
      item('p95 duration', fmtDuration(st.duration_ms && st.duration_ms.p95)),
      item('Records processed', fmtInt(st.records_processed)));
  };

  // The first screenful of rows is built with the charts, the rest after the first paint (a
  // page holds 100 runs); lastPage is the page on screen, loads counts the loads.
  const FIRST_RUNS = Math.max(15, Math.ceil(window.innerHeight / 35));
  let lastPage = null;
  let loads = 0;
  const runRow = (r) => {
    const err = r.error ? r.error.code || r.error.message : '';
    return h('tr', {},
      h('th', { scope: 'row' }, h('a', { href: '#/runs/' + r.id, text: '#' + r.run_count })),
      h('td', {}, badge(r)),
      h('td', { text: r.trigger && r.trigger.tag ? r.trigger.tag : '—' }),
      h('td', {}, timeEl(r.created_at)),
      h('td', { class: 'num', text: fmtDuration(runDuration(r)) }),
      h('td', { class: 'num', text: fmtInt(r.counters.records_processed) }),
      h('td', { class: 'num', text: fmtInt(r.counters.records_failed) }),
      h('td', {}, timeEl(r.last_timestamp_synced)),
      h('td', { class: 'err', text: err }));
  };
  const load = async () => {
    const got = firstPage || settle(api(runsUrl()));
    firstPage = null;
    const { v: page, e } = await got;
    if (e) throw e;
    if (!ctl.alive) return null;
    const n = ++loads;
    lastPage = page;
    tbody.replaceChildren(...page.data.slice(0, FIRST_RUNS).map(runRow));
    if (page.data.length > FIRST_RUNS) {
      requestAnimationFrame(() => setTimeout(() => {
        if (ctl.alive && n === loads) tbody.append(...page.data.slice(FIRST_RUNS).map(runRow));
      }, 0));
    }
    if (!page.data.length) tbody.append(h('tr', {}, h('td', { colspan: '9', class: 'muted', text: 'No runs match these filters.' })));
    const base = { state: f.state, result: f.result, trigger: f.trigger, since: f.since, until: f.until };
    clear(pager,
      f.cursor ? h('a', { class: 'button', href: hashOf('/connections/' + id, base), text: '« Newest' }) : null,
      page.next_cursor ? h('a', { class: 'button', rel: 'next', href: hashOf('/connections/' + id, Object.assign({}, base, { cursor: page.next_cursor })), text: 'Older runs »' }) : null,
      h('span', { class: 'muted', text: `${page.data.length} runs on this page` }));
    await loadUplot(); // without it, the charts say they are unavailable
    if (ctl.alive && n === loads) renderCharts(figs, page.data);
    return page;
  };

  await Promise.all([loadStats(), load()]);
  // Live: while a run on the first page is unfinished, wait for it to change (long-poll), then
  // reload; otherwise look for new runs every 30 s.
  while (ctl.alive) {
    const cur = lastPage ? lastPage.data.find((r) => r.state !== 'finished') : null;
    let waited = false;
    if (!f.cursor && cur) {
      try {
        await api(`/v1/runs/${cur.id}?wait=25`, { signal: ctl.ac.signal });
        waited = true;
      } catch (e) { /* fall back to the timer */ }
    }
    if (!waited) await sleep(30000);
    if (!ctl.alive) return;
    if (document.visibilityState === 'visible') await Promise.all([loadStats(), load()]).catch(() => {});
  }
}

function alertBox(where, message) {
  const old = where.querySelector('.error');
  if (old) old.remove();
  where.append(h('p', { class: 'error', role: 'alert', text: message }));
}

// ---- a run ----

function eventText(ev) {
  const d = ev.data || {};
  const parts = [];
  for (const [k, v] of Object.entries(d)) {
    if (v === null || v === undefined) continue;
    parts.push(`${k.replace(/_/g, ' ')}: ${typeof v === 'object' ? JSON.stringify(v) : v}`);
  }
  return parts.join(' · ');
}

async function viewRun(ctl, id) {
  const fetchDetails = () => Promise.all([
    api(`/v1/runs/${id}/events?limit=100`),
    api(`/v1/runs/${id}/jobs`),
    api(`/v1/runs/${id}/log`, { withHeaders: true }),
  ]);
  let firstDetails = fetchDetails();
  firstDetails.catch(() => {});
  let run = await api('/v1/runs/' + id);
  if (!ctl.alive) return;
  const conn = await api('/v1/connections/' + run.connection_id).catch(() => null);
  if (!ctl.alive) return;
  const cname = conn ? conn.name : 'connection ' + run.connection_id;
  setTitle(`Run #${run.run_count} · ${cname}`);

  const statusEl = h('span', { id: 'run-status' });
  const actions = h('div', { class: 'actions' });
  const cancelBtn = h('button', { type: 'button', id: 'cancel', class: 'danger', text: 'Cancel run' });
  const rerunBtn = h('button', { type: 'button', id: 'rerun', text: 'Re-run' });
  if (canWrite()) actions.append(cancelBtn, rerunBtn);
  cancelBtn.addEventListener('click', async () => {
    cancelBtn.disabled = true;
    try {
      run = await api(`/v1/runs/${id}/cancel`, { method: 'POST', body: { message: 'Canceled from the dashboard' } });
      announce('Run canceled');
      render();
    } catch (e) {
      cancelBtn.disabled = false;
      alertBox(actions, 'Could not cancel: ' + e.message);
    }
  });
  rerunBtn.addEventListener('click', async () => {
    rerunBtn.disabled = true;
    try {
      const r = await api(`/v1/connections/${run.connection_id}/runs`, { method: 'POST', body: { trigger: { tag: 'Manual', detail: `Re-run of run #${run.run_count} from the dashboard` }, full_sync: run.full_sync } });
      location.hash = '#/runs/' + r.id;
    } catch (e) {
      rerunBtn.disabled = false;
      alertBox(actions, 'Could not re-run: ' + e.message);
    }
  });

  const summary = h('dl', { class: 'facts' });
  const errorEl = h('section', { class: 'run-error', 'aria-labelledby': 'err-h' });
  const counters = h('tbody');
  const timeline = h('ol', { class: 'timeline' });
  const jobsEl = h('div');
  const logEl = h('pre', { class: 'log', id: 'log', tabindex: '0', 'aria-label': 'Run log' });
  const logNote = h('p', { class: 'muted small' });

  clear(main,
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/', text: 'Connections' }), ' / ', h('a', { href: '#/connections/' + run.connection_id, text: cname }), ' / ', h('span', { 'aria-current': 'page', text: 'Run #' + run.run_count })),
    h('div', { class: 'title' }, h('h1', { text: `Run #${run.run_count}` }), statusEl, actions),
    summary,
    errorEl,
    h('div', { class: 'cols' },
      h('section', { 'aria-labelledby': 'ctr-h' }, h('h2', { id: 'ctr-h', text: 'Counters' }), h('table', { class: 'counters' }, h('caption', { class: 'visually-hidden', text: 'Counters' }), counters)),
      h('section', { 'aria-labelledby': 'tl-h' }, h('h2', { id: 'tl-h', text: 'Timeline' }), timeline)),
    h('section', { 'aria-labelledby': 'jobs-h' }, h('h2', { id: 'jobs-h', text: 'Jobs and tasks' }), jobsEl),
    h('section', { 'aria-labelledby': 'log-h' }, h('h2', { id: 'log-h', text: 'Log' }), logNote, logEl));

  const fact = (k, v) => h('div', {}, h('dt', { text: k }), h('dd', {}, v === null || v === undefined || v === '' ? h('span', { class: 'muted', text: '—' }) : v));
  function render() {
    clear(statusEl, badge(run));
    cancelBtn.hidden = run.state === 'finished';
    clear(summary,
      fact('State', run.state), fact('Result', run.result), fact('Trigger', run.trigger ? [run.trigger.tag, run.trigger.detail].filter(Boolean).join(' — ') : null),
      fact('Full sync', run.full_sync ? 'yes' : 'no'), fact('Attempt', String(run.attempt)),
      fact('Created', timeEl(run.created_at)), fact('Scheduled', run.scheduled_at ? timeEl(run.scheduled_at) : null), fact('Started', run.started_at ? timeEl(run.started_at) : null),
      fact('Completed', run.completed_at ? timeEl(run.completed_at) : null), fact('Duration', fmtDuration(runDuration(run))),
      fact('Current step', run.current_step), fact('Watermark', run.last_timestamp_synced ? timeEl(run.last_timestamp_synced) : null), fact('Message', run.message));
    if (run.error) {
      errorEl.hidden = false;
      clear(errorEl, h('h2', { id: 'err-h', text: 'Error' }), h('dl', { class: 'facts' }, fact('Code', run.error.code), fact('Message', run.error.message), fact('Detail', run.error.detail)));
    } else {
      errorEl.hidden = true;
      errorEl.replaceChildren();
    }
    counters.replaceChildren(...Object.entries(run.counters || {}).map(([k, v]) => h('tr', {}, h('th', { scope: 'row', text: k.replace(/_/g, ' ') }), h('td', { class: 'num', text: fmtInt(v) }))));
  }

  async function loadDetails() {
    const got = firstDetails || fetchDetails();
    firstDetails = null;
    const [events, jobs, log] = await got;
    if (!ctl.alive) return;
    timeline.replaceChildren(...events.data.map((ev) => h('li', {}, timeEl(ev.at), ' ', h('strong', { text: ev.kind.replace(/_/g, ' ') }), h('div', { class: 'small muted', text: eventText(ev) }))));
    if (events.next_cursor) timeline.append(h('li', { class: 'muted', text: 'Later events are not shown (more than 100).' }));
    if (!events.data.length) timeline.append(h('li', { class: 'muted', text: 'No events.' }));
    clear(jobsEl, jobs.data.length ? jobs.data.map((j) => h('article', { class: 'job' },
      h('h3', {}, j.name || 'Job', ' ', badge({ state: j.state, result: j.result })),
      h('p', { class: 'small muted', text: [j.connector_type, j.phase, j.started_at ? 'started ' + fmtTime(j.started_at) : null, j.ended_at ? 'ended ' + fmtTime(j.ended_at) : null].filter(Boolean).join(' · ') }),
      j.tasks.length ? h('div', { class: 'scroll' }, h('table', { class: 'tasks' },
        h('thead', {}, h('tr', {}, ['Task', 'Status', 'Source file', 'Retries', 'Report', 'Error'].map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', {}, j.tasks.map((t) => h('tr', {},
          h('td', { class: 'mono small', text: t.id.slice(0, 8) }),
          h('td', {}, badge({ state: t.state, result: t.result })),
          h('td', { text: t.source_file_id || '—' }),
          h('td', { class: 'num', text: fmtInt(t.retry_attempts) }),
          h('td', { text: t.report ? `${t.report.suggested_action || ''} ${t.report.errors} errors, ${t.report.warnings} warnings, ${t.report.other} other${t.report.message ? ' — ' + t.report.message : ''}`.trim() : '—' }),
          h('td', { text: t.error ? [t.error.errorCode, t.error.message || t.error.description].filter(Boolean).join(': ') : '—' })))))) : h('p', { class: 'muted small', text: 'No tasks.' }),
      j.tasks_more ? h('p', { class: 'muted small', text: 'Only the first tasks are shown.' }) : null)) : h('p', { class: 'muted', text: 'No jobs.' }));
    const text = String(log.body);
    const atBottom = logEl.scrollTop + logEl.clientHeight >= logEl.scrollHeight - 8;
    logEl.textContent = text.length > LOG_TAIL ? text.slice(text.indexOf('\n', text.length - LOG_TAIL) + 1) : text;
    if (!text.length) logEl.textContent = '(empty)';
    const total = Number(log.headers.get('x-log-bytes-total') || 0);
    const dropped = Number(log.headers.get('x-log-bytes-dropped') || 0);
    logNote.textContent = `${fmtInt(total)} bytes written` + (dropped ? `, the first ${fmtInt(dropped)} no longer kept` : '') + (text.length > LOG_TAIL ? `; the last ${fmtInt(LOG_TAIL)} characters shown` : '') + (run.state !== 'finished' ? ' · following' : '');
    if (atBottom) logEl.scrollTop = logEl.scrollHeight;
  }

  render();
  await loadDetails();
  // Live: long-poll the run (?wait= with If-None-Match answers as soon as it changes, or 304 after
  // 5 s: the log can grow without changing the run), then refresh what depends on it.
  let failures = 0;
  while (ctl.alive && run.state !== 'finished') {
    try {
      const r = await api(`/v1/runs/${id}?wait=5`, { headers: { 'If-None-Match': `"${run.version}"` }, signal: ctl.ac.signal });
      if (!ctl.alive) return;
      if (!r.notModified) {
        const was = run.state;
        run = r;
        render();
        if (run.state === 'finished' && was !== 'finished') announce(`Run #${run.run_count} finished: ${run.result}`);
      }
      await loadDetails();
      failures = 0;
    } catch (e) {
      if (!ctl.alive || (e instanceof ApiError && e.status === 401)) return;
      failures++;
      await sleep(Math.min(30000, 1000 * 2 ** failures));
    }
  }
}

// ---- start ----

document.querySelector('.skip').addEventListener('click', (ev) => {
  ev.preventDefault();
  main.focus();
});
document.getElementById('signout').addEventListener('click', () => signOut(''));
window.addEventListener('hashchange', () => {
  if (location.hash.startsWith('#token=')) takeToken();
  else route();
});

function takeToken() {
  const t = decodeURIComponent(location.hash.slice('#token='.length));
  // Out of the address bar (and the history) before anything else happens.
  history.replaceState(null, '', location.pathname + location.search + '#/');
  if (t) sessionStorage.setItem(TOKEN_KEY, t);
  sessionStorage.removeItem(ME_KEY);
  me = null;
  start().catch((e) => { if (!(e instanceof ApiError && e.status === 401)) renderSignIn('Could not reach the server: ' + e.message); });
}

if (location.hash.startsWith('#token=')) takeToken();
else if (token()) start().catch((e) => { if (!(e instanceof ApiError && e.status === 401)) renderSignIn('Could not reach the server: ' + e.message); });
else renderSignIn('');
