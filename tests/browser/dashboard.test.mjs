// Browser tests of the dashboard (issue 13): the real binary (`serve --demo` on a free loopback
// port, a temporary database, an access log), Debian's chromium driven headless by playwright-core.
// Every request the page makes is recorded: none may go to another host. Screenshots go to
// $SCREENSHOT_DIR (default docs/screenshots/). Prints one line per test and "N passed, N failed".
//
//   SYNCRUN_BIN=build/syncrun node tests/browser/dashboard.test.mjs [name-substring]
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = resolve(process.env.SYNCRUN_BIN || join(root, 'build/syncrun'));
const shots = resolve(process.env.SCREENSHOT_DIR || join(root, 'docs/screenshots'));
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const only = process.argv[2] || '';
const T = 15000; // per wait: generous for a loaded 2-core CI machine
const WHOLE = 240000; // the whole run: a hang fails it rather than blocking the suite

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.unref();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

// ---- the server ----

let server = null;
setTimeout(() => {
  console.log(`browser tests: stopped after ${WHOLE / 1000} s (a hang)`);
  console.log('browser tests: 0 passed, 1 failed');
  if (server) server.kill('SIGKILL');
  process.exit(1);
}, WHOLE).unref();

const work = mkdtempSync(join(tmpdir(), 'syncrun-browser-'));
const db = join(work, 'syncrun.db');
const accessLog = join(work, 'access.log');
const port = await freePort();
const origin = `http://127.0.0.1:${port}`;
let serverOut = '';
server = spawn(bin, ['serve', '--demo', '--db', db, '--listen', `127.0.0.1:${port}`, '--threads', '2', '--access-log', accessLog], { stdio: ['ignore', 'pipe', 'pipe'] });
server.stdout.on('data', (d) => { serverOut += d; });
server.stderr.on('data', (d) => { serverOut += d; });

async function waitServer() {
  for (let i = 0; i < 200; i++) {
    try {
      const r = await fetch(origin + '/healthz');
      if (r.ok && /dashboard: (\S+)/.test(serverOut)) return serverOut.match(/dashboard: (\S+)/)[1];
    } catch (e) { /* not yet */ }
    if (server.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the server did not start:\n' + serverOut);
}

const link = await waitServer();
const adminToken = link.split('#token=')[1];

async function api(path, { method = 'GET', body, token = adminToken } = {}) {
  const r = await fetch(origin + path, { method, headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

// ---- the browser ----

const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
const requests = []; // every URL any page asked for
const problems = []; // console errors, page errors, CSP violations

async function newPage(viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport, reducedMotion: 'reduce' });
  const page = await context.newPage();
  page.on('request', (req) => requests.push(req.url()));
  page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console: ${msg.text()}`); });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.setDefaultTimeout(T);
  return { context, page };
}

async function signIn(viewport, token = adminToken) {
  const p = await newPage(viewport);
  await p.page.goto(`${origin}/#token=${token}`);
  await p.page.locator('#who').getByText(/\S/).first().waitFor();
  return p;
}

async function shot(page, name, fullPage = true) {
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, name), fullPage });
}

// ---- the tests ----

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test('sign_in_through_the_printed_link_drops_the_token_from_the_address_bar', async () => {
  const { context, page } = await signIn();
  assert(!page.url().includes('token='), 'the token is still in the address bar: ' + page.url());
  assert(page.url().endsWith('/#/'), 'unexpected URL after sign-in: ' + page.url());
  const stored = await page.evaluate(() => sessionStorage.getItem('syncrun.token'));
  assert(stored === adminToken, 'the key is not in sessionStorage');
  const local = await page.evaluate(() => localStorage.length);
  assert(local === 0, 'localStorage was written');
  assert((await context.cookies()).length === 0, 'a cookie was set');
  await page.getByText('admin', { exact: true }).waitFor();
  // signing out forgets the key
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('API key').waitFor();
  assert(await page.evaluate(() => sessionStorage.getItem('syncrun.token')) === null, 'sign-out kept the key');
  // and signing in with the form works too
  await page.getByLabel('API key').fill(adminToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Connections' }).waitFor();
  await context.close();
});

test('a_wrong_key_is_refused_with_a_message', async () => {
  const { context, page } = await newPage();
  await page.goto(`${origin}/#token=sr_not_a_key`);
  await page.getByRole('alert').filter({ hasText: 'did not accept the key' }).waitFor();
  assert(await page.evaluate(() => sessionStorage.getItem('syncrun.token')) === null, 'a refused key was kept');
  await context.close();
});

test('overview_lists_every_connection_failing_first_with_status_words_and_strips', async () => {
  const { context, page } = await signIn();
  const rows = page.locator('table.overview tbody tr');
  await rows.first().waitFor();
  const n = await rows.count();
  const conns = await api('/v1/connections?limit=100');
  assert(n === conns.data.length, `${n} rows for ${conns.data.length} connections`);
  const words = await page.locator('table.overview tbody tr td:first-child .badge').allTextContents();
  const failing = new Set(['error', 'config error', 'timed out']);
  const firstOk = words.findIndex((w) => !failing.has(w));
  assert(words.slice(firstOk).every((w) => !failing.has(w)), 'a failing connection sorts after a healthy one: ' + words.join(', '));
  for (const w of words) assert(w.trim().length > 0, 'a status without a word');
  const cells = await page.locator('table.overview tbody tr').first().locator('.strip .cell').count();
  assert(cells > 0 && cells <= 30, `strip of ${cells} runs`);
  const strip = await page.locator('.strip').first().getAttribute('aria-label');
  assert(/^Last \d+ runs/.test(strip), 'strip without a text alternative: ' + strip);
  // a cell's tooltip (run count, status word, time, duration, records) is written on hover
  const cell = page.locator('table.overview tbody tr').first().locator('.strip .cell').last();
  await cell.hover();
  const tip = await cell.getAttribute('title');
  assert(/^#\d+ [a-z ]+ · \d{4}-\d\d-\d\d \d\d:\d\d:\d\d · .+ · [\d,—]+ records$/.test(tip || ''), 'strip cell tooltip: ' + tip);
  await page.locator('td.num').first().waitFor();
  await shot(page, 'overview.png');
  // another window is a new request and stays in the URL
  await page.getByLabel('Window').selectOption('7d');
  await page.waitForFunction(() => location.hash.includes('window=7d'));
  await rows.first().waitFor();
  await context.close();
});

test('overview_filter_box_narrows_the_list_and_is_kept_in_the_url', async () => {
  const { context, page } = await signIn();
  await page.locator('table.overview tbody tr').first().waitFor();
  await page.getByLabel('Filter').fill('hubspot');
  const visible = page.locator('table.overview tbody tr:visible');
  await page.waitForFunction(() => document.querySelectorAll('table.overview tbody tr:not([hidden])').length === 1);
  assert((await visible.first().textContent()).includes('HubSpot'), 'the filter kept the wrong row');
  assert(page.url().includes('q=hubspot'), 'the filter is not in the URL: ' + page.url());
  await context.close();
});

// The page's rows come in two steps (a screenful, then the rest after the first paint): waits for
// as many as the pager says the page has, and returns that number.
async function everyRunOfThePage(page) {
  const said = await page.locator('.pager span', { hasText: 'runs on this page' }).textContent();
  const n = Number(said.match(/^(\d+) runs/)[1]);
  await page.waitForFunction((k) => document.querySelectorAll('table.runs tbody tr .badge').length === k, n);
  return n;
}

test('history_shows_every_run_of_a_page_of_100_after_the_first_screenful', async () => {
  // the demo's first connection has more than a page of runs
  assert((await api('/v1/connections/1/runs?limit=100')).next_cursor, 'connection 1 has less than a page of runs');
  const { context, page } = await signIn();
  await page.goto(`${origin}/#/connections/1`);
  await page.locator('table.runs tbody tr').first().waitFor();
  assert(await everyRunOfThePage(page) === 100, 'not a page of 100 runs');
  // the later rows follow the first ones: newest first, each once
  const counts = (await page.locator('table.runs tbody tr th').allTextContents()).map((t) => Number(t.slice(1)));
  assert(counts.length === 100 && counts.every((c, i) => i === 0 || c < counts[i - 1]), 'rows out of order: ' + counts.join(', '));
  await context.close();
});

test('history_page_filters_are_in_the_url_and_survive_a_reload', async () => {
  const { context, page } = await signIn();
  await page.goto(`${origin}/#/connections/1`);
  await page.getByRole('heading', { name: 'Snowflake users → Braze' }).waitFor();
  await page.locator('table.runs tbody tr').first().waitFor();
  await page.locator('.chart canvas').first().waitFor();
  assert(await page.locator('.chart canvas').count() >= 3, 'the three charts are not drawn');
  await shot(page, 'history.png', false);
  await page.getByLabel('Result').selectOption('error');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.waitForFunction(() => location.hash.includes('result=error'));
  await page.waitForFunction(() => [...document.querySelectorAll('table.runs tbody .badge')].every((b) => b.textContent === 'error'));
  const n = await everyRunOfThePage(page);
  assert(n > 0, 'no error runs shown');
  const url = page.url();
  await page.reload();
  await page.locator('table.runs tbody tr').first().waitFor();
  assert(await page.getByLabel('Result').inputValue() === 'error', 'the filter did not survive a reload');
  assert(await everyRunOfThePage(page) === n, 'a reload shows other runs');
  assert(page.url() === url, 'the URL changed on reload');
  await context.close();
});

test('history_pages_with_the_api_cursor', async () => {
  const { context, page } = await signIn();
  await page.goto(`${origin}/#/connections/1`);
  await page.locator('table.runs tbody tr').first().waitFor();
  const first = await page.locator('table.runs tbody tr th').first().textContent();
  await page.getByRole('link', { name: 'Older runs »' }).click();
  await page.waitForFunction(() => location.hash.includes('cursor='));
  await page.waitForFunction((f) => (document.querySelector('table.runs tbody tr th') || { textContent: f }).textContent !== f, first);
  const older = await page.locator('table.runs tbody tr th').first().textContent();
  assert(Number(older.slice(1)) < Number(first.slice(1)), `page 2 starts at ${older}, after ${first}`);
  await page.getByRole('link', { name: '« Newest' }).click();
  await page.waitForFunction((f) => (document.querySelector('table.runs tbody tr th') || {}).textContent === f, first);
  await context.close();
});

test('run_page_shows_error_counters_timeline_and_log', async () => {
  const runs = await api('/v1/connections/1/runs?result=error&limit=1');
  const r = runs.data[0];
  const { context, page } = await signIn();
  await page.goto(`${origin}/#/runs/${r.id}`);
  await page.getByRole('heading', { name: `Run #${r.run_count}` }).waitFor();
  await page.getByRole('heading', { name: 'Error' }).waitFor();
  await page.getByText(r.error.code).waitFor();
  await page.getByRole('heading', { name: 'Counters' }).waitFor();
  assert(await page.locator('table.counters tr').count() === 8, 'not every counter is shown');
  assert(await page.locator('.timeline li').count() >= 1, 'no timeline');
  await shot(page, 'run-error.png');
  await context.close();
});

test('a_working_run_is_followed_to_its_end_without_reload', async () => {
  const cn = await api('/v1/connections', { method: 'POST', body: { name: 'Live test → Warehouse', source: 'live.source', destination: 'warehouse' } });
  const run = await api(`/v1/connections/${cn.id}/runs`, { method: 'POST', body: { state: 'working', trigger: { tag: 'API', detail: 'browser test' } } });
  const { context, page } = await signIn();
  await page.goto(`${origin}/#/runs/${run.id}`);
  await page.locator('#run-status .badge', { hasText: 'working' }).waitFor();
  const navigations = [];
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations.push(f.url()); });
  await api(`/v1/runs/${run.id}`, { method: 'PATCH', body: { current_step: 'Copying rows', counters: { records_processed: 4242 } } });
  await page.locator('dd', { hasText: 'Copying rows' }).waitFor();
  await page.locator('table.counters td', { hasText: '4,242' }).waitFor();
  await fetch(`${origin}/v1/runs/${run.id}/log`, { method: 'POST', headers: { Authorization: 'Bearer ' + adminToken, 'Content-Type': 'text/plain' }, body: 'copied batch 1 of 2\n' });
  await page.locator('#log', { hasText: 'copied batch 1 of 2' }).waitFor();
  const job = await api(`/v1/runs/${run.id}/jobs`, { method: 'POST', body: { name: 'Copy job', phase: 'MasterFile' } });
  await page.getByRole('heading', { name: /Copy job/ }).waitFor();
  await api(`/v1/runs/${run.id}/jobs/${job.id}/tasks`, { method: 'POST', body: { source_file_id: 'plant.dgn', state: 'finished', result: 'partial', retry_attempts: 1, error: { errorCode: 'MissingReference', message: 'A reference file was not found' }, report: { message: '2 elements skipped', suggested_action: 'Warning', errors: 0, warnings: 2, other: 1 } } });
  await page.locator('table.tasks td', { hasText: 'Warning 0 errors, 2 warnings, 1 other — 2 elements skipped' }).waitFor();
  await page.locator('table.tasks td', { hasText: 'MissingReference: A reference file was not found' }).waitFor();
  await shot(page, 'run-working.png');
  await fetch(`${origin}/v1/runs/${run.id}/log`, { method: 'POST', headers: { Authorization: 'Bearer ' + adminToken, 'Content-Type': 'text/plain' }, body: 'copied batch 2 of 2\n' });
  await api(`/v1/runs/${run.id}/finish`, { method: 'POST', body: { result: 'success', counters: { records_processed: 8484 } } });
  await page.locator('#run-status .badge', { hasText: 'success' }).waitFor();
  await page.locator('table.counters td', { hasText: '8,484' }).waitFor();
  await page.locator('#log', { hasText: 'copied batch 2 of 2' }).waitFor();
  await page.locator('.timeline', { hasText: 'finished' }).waitFor();
  assert(await page.locator('#cancel').isHidden(), 'a finished run still offers Cancel');
  assert(navigations.every((u) => u.includes(`#/runs/${run.id}`)), 'the page reloaded: ' + navigations.join(', '));
  await context.close();
});

test('cancel_button_cancels_a_run', async () => {
  const run = await api('/v1/connections/2/runs', { method: 'POST', body: { state: 'working' } });
  const { context, page } = await signIn();
  await page.goto(`${origin}/#/runs/${run.id}`);
  await page.getByRole('button', { name: 'Cancel run' }).click();
  await page.locator('#run-status .badge', { hasText: 'canceled' }).waitFor();
  const after = await api(`/v1/runs/${run.id}`);
  assert(after.state === 'finished' && after.result === 'canceled', 'the run is ' + after.state + '/' + after.result);
  await page.waitForFunction(() => document.getElementById('cancel').hidden);
  await context.close();
});

test('rerun_button_triggers_a_new_run_of_the_connection', async () => {
  const runs = await api('/v1/connections/3/runs?state=finished&limit=1');
  const r = runs.data[0];
  const { context, page } = await signIn();
  await page.goto(`${origin}/#/runs/${r.id}`);
  await page.getByRole('button', { name: 'Re-run' }).click();
  await page.waitForFunction((id) => /^#\/runs\/\d+$/.test(location.hash) && location.hash !== '#/runs/' + id, r.id);
  const newId = Number(page.url().split('/').pop());
  const nr = await api(`/v1/runs/${newId}`);
  assert(nr.connection_id === 3 && nr.trigger.tag === 'Manual', 'the re-run is not a manual run of connection 3');
  await page.getByRole('heading', { name: `Run #${nr.run_count}` }).waitFor();
  await context.close();
});

test('a_read_only_key_sees_no_write_button', async () => {
  const out = execFileSync(bin, ['key', 'create', '--scope', 'runs:read', '--db', db, '--json'], { encoding: 'utf8' });
  const ro = JSON.parse(out).token;
  const { context, page } = await signIn(undefined, ro);
  await page.getByText('runs:read', { exact: true }).waitFor();
  const working = await api('/v1/connections/4/runs?state=working&limit=1');
  const runId = working.data.length ? working.data[0].id : (await api('/v1/connections/4/runs?limit=1')).data[0].id;
  await page.goto(`${origin}/#/runs/${runId}`);
  await page.getByRole('heading', { name: 'Counters' }).waitFor();
  assert(await page.getByRole('button').filter({ hasText: /Cancel|Re-run|Run now/ }).count() === 0, 'a write button is shown to a read-only key');
  await page.goto(`${origin}/#/connections/4`);
  await page.locator('table.runs tbody tr').first().waitFor();
  assert(await page.getByRole('button', { name: 'Run now' }).count() === 0, 'Run now is shown to a read-only key');
  await context.close();
});

test('phone_width_overview_and_run_are_readable', async () => {
  const { context, page } = await signIn({ width: 390, height: 844 });
  await page.locator('table.overview tbody tr').first().waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert(overflow <= 1, `the overview is ${overflow}px wider than a phone`);
  await shot(page, 'overview-phone.png');
  await context.close();
});

test('keyboard_reaches_a_connection_and_opens_it', async () => {
  const { context, page } = await signIn();
  await page.locator('table.overview tbody tr').first().waitFor();
  for (let i = 0; i < 30; i++) {
    await page.keyboard.press('Tab');
    const href = await page.evaluate(() => document.activeElement.getAttribute('href'));
    if (href && href.startsWith('#/connections/')) {
      await page.keyboard.press('Enter');
      await page.locator('table.runs').waitFor();
      await context.close();
      return;
    }
  }
  throw new Error('no connection link reachable with Tab');
});

test('a_large_overview_renders_every_row_progressively_and_filters_rows_not_yet_built', async () => {
  // more than the first screenful the page builds at once (60 rows)
  for (let i = 0; i < 70; i++) await api('/v1/connections', { method: 'POST', body: { name: `Bulk ${String(i).padStart(2, '0')} → lake`, source: 'bulk.src', destination: 'lake' } });
  const total = (await api('/v1/overview')).connections.length;
  const { context, page } = await newPage();
  await page.goto(`${origin}/#token=${adminToken}`);
  await page.waitForFunction((n) => document.querySelectorAll('table.overview tbody tr').length === n, total);
  assert((await page.locator('#summary').textContent()).startsWith(`${total} of ${total} connections`), 'summary');
  // a filter typed while rows are still being built applies to the later rows too
  await page.goto('about:blank');
  await page.goto(`${origin}/#/?q=bulk%2069`);
  await page.waitForFunction((n) => document.querySelectorAll('table.overview tbody tr').length === n, total);
  assert(await page.locator('table.overview tbody tr:not([hidden])').count() === 1, 'the filter missed rows built later');
  assert((await page.locator('table.overview tbody tr:not([hidden])').textContent()).includes('Bulk 69'), 'wrong row kept');
  await context.close();
});

test('an_overview_of_several_pages_draws_the_first_at_once_and_merges_the_rest_in_order', async () => {
  // The API's pages hold 1,000 connections; here every overview request of the page asks for 25
  // a page, so the workspace (over 70 connections by now) comes in several pages. The newest
  // connection (on the last page) is late, so it sorts among the rows drawn from the first page.
  for (let i = (await api('/v1/overview')).connections.length; i < 60; i++) await api('/v1/connections', { method: 'POST', body: { name: `Paged ${String(i).padStart(2, '0')} → lake`, source: 'paged', destination: 'lake' } });
  const cn = await api('/v1/connections', { method: 'POST', body: { name: 'Paged late → lake', source: 'paged', destination: 'lake', expect: { interval_seconds: 1 } } });
  for (let i = 0; i < 100 && !(await api(`/v1/connections/${cn.id}`)).late; i++) await new Promise((r) => setTimeout(r, 200));
  assert((await api(`/v1/connections/${cn.id}`)).late === true, 'the connection never became late');
  const total = (await api('/v1/overview')).connections.length;
  const { context, page } = await signIn();
  const names = async () => page.locator('table.overview tbody tr th a').allTextContents();
  await page.goto(`${origin}/#/`);
  await page.waitForFunction((n) => document.querySelectorAll('table.overview tbody tr').length === n, total);
  const whole = await names();
  const asked = [];
  await page.route('**/v1/overview?*', (route) => {
    const u = new URL(route.request().url());
    u.searchParams.set('limit', '25');
    asked.push(u.search);
    route.continue({ url: u.toString() });
  });
  await page.goto('about:blank');
  await page.goto(`${origin}/#/`);
  await page.waitForFunction((n) => document.querySelectorAll('table.overview tbody tr').length === n, total);
  assert(asked.length >= Math.ceil(total / 25), `${asked.length} requests for ${total} connections: ${asked.join(' ')}`);
  assert(asked.filter((q) => q.includes('after=')).length >= 2, 'the later pages were not asked for: ' + asked.join(' '));
  // every connection once, in the same order as from one page (failing first, then by name)
  const paged = await names();
  assert(paged.length === whole.length && paged.every((n, i) => n === whole[i]), 'the paged order differs:\n' + paged.join(', ') + '\n' + whole.join(', '));
  assert(paged.indexOf('Paged late → lake') < 20, 'the late connection of the last page is not among the first rows: ' + paged.indexOf('Paged late → lake'));
  assert((await page.locator('#summary').textContent()).startsWith(`${total} of ${total} connections`), 'summary');
  await context.close();
});

test('a_late_connection_shows_a_late_badge_and_sorts_before_healthy_ones', async () => {
  const cn = await api('/v1/connections', { method: 'POST', body: { name: 'Hourly export → SFTP', source: 'export', destination: 'sftp', expect: { interval_seconds: 1 } } });
  for (let i = 0; i < 100 && !(await api(`/v1/connections/${cn.id}`)).late; i++) await new Promise((r) => setTimeout(r, 200));
  assert((await api(`/v1/connections/${cn.id}`)).late === true, 'the connection never became late');
  const { context, page } = await signIn();
  await page.goto(`${origin}/#/?q=sftp`);
  const row = page.locator('table.overview tbody tr', { hasText: 'Hourly export' });
  await row.locator('.badge.late', { hasText: 'late' }).waitFor();
  await row.getByText('was due').waitFor();
  // only late connections carry the badge
  const lateRows = await page.locator('table.overview tbody tr').filter({ has: page.locator('.badge.late') }).count();
  const late = (await api('/v1/overview')).connections.filter((c) => c.connection.late === true).length;
  assert(lateRows === late, `${lateRows} rows with a late badge, ${late} late connections`);
  // failing first, then late, then the rest
  await page.getByLabel('Filter').fill('');
  const order = await page.locator('table.overview tbody tr').evaluateAll((trs) => trs.map((tr) => (tr.querySelector('.badge.late') ? 'late' : tr.querySelector('.badge').textContent)));
  const firstLate = order.indexOf('late');
  assert(order.slice(0, firstLate).every((w) => ['error', 'config error', 'timed out'].includes(w)), 'a healthy connection sorts before a late one: ' + order.join(', '));
  await page.goto(`${origin}/#/connections/${cn.id}`);
  await page.locator('.title .badge.late').waitFor();
  await context.close();
});

test('assets_are_served_under_ui_with_types_csp_and_etag', async () => {
  for (const [path, type] of [['/', 'text/html'], ['/ui/', 'text/html'], ['/ui/app.js', 'text/javascript'], ['/ui/app.css', 'text/css'], ['/ui/uplot.js', 'text/javascript']]) {
    const r = await fetch(origin + path);
    assert(r.status === 200 && r.headers.get('content-type').startsWith(type), `${path}: ${r.status} ${r.headers.get('content-type')}`);
    const csp = r.headers.get('content-security-policy') || '';
    assert(csp.includes("default-src 'none'") && csp.includes("script-src 'self'") && !csp.includes('unsafe'), `${path}: CSP ${csp}`);
    const again = await fetch(origin + path, { headers: { 'If-None-Match': r.headers.get('etag') } });
    assert(again.status === 304, `${path}: revalidation answered ${again.status}`);
    assert(r.headers.get('cache-control') === 'no-cache', `${path}: cache-control ${r.headers.get('cache-control')}`);
  }
  // the page names its files by versioned URLs, answered as immutable; another version is not
  const html = await (await fetch(origin + '/')).text();
  for (const name of ['app.js', 'app.css', 'uplot.js', 'uplot.css']) {
    const m = html.match(new RegExp(`"/ui/${name.replace('.', '\\.')}\\?v=([0-9a-f]{16})"`));
    assert(m, `index.html does not name /ui/${name}?v=`);
    const r = await fetch(`${origin}/ui/${name}?v=${m[1]}`);
    assert(r.status === 200 && r.headers.get('cache-control') === 'public, max-age=31536000, immutable', `/ui/${name}?v=: ${r.status} ${r.headers.get('cache-control')}`);
    assert(r.headers.get('etag') === `"${m[1]}"`, `/ui/${name}: the version is not its ETag`);
    const old = await fetch(`${origin}/ui/${name}?v=0000000000000000`);
    assert(old.status === 200 && old.headers.get('cache-control') === 'no-cache', `/ui/${name}?v=old: ${old.headers.get('cache-control')}`);
  }
});

// Runs last: what every page above asked for.
test('no_request_left_for_another_host_and_no_page_errors', async () => {
  assert(requests.length > 20, 'hardly any request was recorded');
  const foreign = requests.filter((u) => !u.startsWith(origin + '/') && !u.startsWith('data:'));
  assert(foreign.length === 0, 'requests to another host: ' + foreign.join(', '));
  // the key never reaches the server in a URL (the access log has every request's path)
  const log = readFileSync(accessLog, 'utf8');
  assert(log.length > 0 && !log.includes(adminToken), 'the access log has the token');
  assert(requests.every((u) => !u.includes(adminToken)), 'a request URL carries the token');
  // 401s of the wrong-key test are expected console errors; nothing else is
  const unexpected = problems.filter((p) => !/401 \(Unauthorized\)/.test(p));
  assert(unexpected.length === 0, 'page problems:\n' + unexpected.join('\n'));
});

let passed = 0;
let failed = 0;
const started = Date.now();
for (const t of tests) {
  if (only && !t.name.includes(only)) continue;
  const t0 = Date.now();
  try {
    await t.fn();
    passed++;
    console.log(`ok   ${t.name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${t.name} (${Date.now() - t0} ms)\n     ${String(e.stack || e).split('\n').join('\n     ')}`);
  }
}
await browser.close();
server.kill('SIGTERM');
await new Promise((r) => server.once('exit', r));
if (failed) console.log('server output:\n' + serverOut);
rmSync(work, { recursive: true, force: true });
console.log(`browser tests: ${passed} passed, ${failed} failed (${((Date.now() - started) / 1000).toFixed(1)} s)`);
process.exit(failed ? 1 : 0);
