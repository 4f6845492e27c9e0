// How long the dashboard's pages take to render on the benchmark data set (issue 13's goal: the
// overview and a history page under 300 ms on 1,000 connections and 1,000,000 runs). Run by
// bench/dashboard, which builds, generates the data set (bench/gen.py, cached as bench/run does)
// and starts syncrun; this drives Debian's chromium (headless, playwright-core from
// tests/browser/node_modules).
//
//   node bench/dashboard.mjs ORIGIN TOKEN BIG_CONNECTION_ID [SAMPLES]
//
// Each sample is a fresh page load of the view's URL (a new tab, the browser's cache warm: the
// files revalidate with 304): the time from the navigation's start to the view's content in the
// DOM and painted (the next animation frame), as the page's own performance.now() reads it. That
// covers the page's files, GET /v1/whoami, the view's API calls and the rendering.
import { createRequire } from 'node:module';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(resolve(root, 'tests/browser/package.json'));
const { chromium } = require('playwright-core');

const [origin, token, big, samplesArg] = process.argv.slice(2);
const SAMPLES = Number(samplesArg || 7);

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });

// Signs in once: the key is in this context's sessionStorage per tab, so each new tab signs in
// through the link, which is what a user's first load does too.
const cases = [
  { name: 'overview (every connection, 24 h)', hash: '#/', ready: () => document.querySelectorAll('table.overview tbody tr').length > 1 },
  { name: 'overview (every connection, 30 d)', hash: '#/?window=30d', ready: () => document.querySelectorAll('table.overview tbody tr').length > 1 },
  { name: `history, connection ${big} (the big one), 100 runs + 3 charts`, hash: `#/connections/${big}`, ready: () => document.querySelectorAll('table.runs tbody tr').length > 1 && document.querySelectorAll('.chart canvas').length === 3 && !/—/.test((document.querySelector('.stats dd') || { textContent: '—' }).textContent) },
  { name: 'history, connection 1, 100 runs + 3 charts', hash: '#/connections/1', ready: () => document.querySelectorAll('table.runs tbody tr').length > 1 && document.querySelectorAll('.chart canvas').length === 3 },
  { name: `history, connection ${big}, filtered result=error`, hash: `#/connections/${big}?result=error`, ready: () => document.querySelectorAll('table.runs tbody tr').length > 1 && document.querySelectorAll('.chart canvas').length === 3 },
];

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const rows = [];
for (const c of cases) {
  const times = [];
  let rowsSeen = 0;
  for (let i = 0; i < SAMPLES + 1; i++) {
    const page = await context.newPage();
    // sign in (sets this tab's sessionStorage), then load the view itself
    await page.goto(`${origin}/#token=${token}`);
    await page.waitForFunction(() => document.getElementById('who').textContent.length > 0);
    await page.goto('about:blank');
    await page.goto(`${origin}/${c.hash}`);
    const ms = await page.evaluate(async (src) => {
      const ready = new Function(`return (${src})()`);
      for (;;) {
        if (ready()) break;
        await new Promise((r) => requestAnimationFrame(r));
      }
      await new Promise((r) => requestAnimationFrame(r)); // painted
      return performance.now();
    }, c.ready.toString());
    rowsSeen = await page.evaluate(() => document.querySelectorAll('tbody tr').length);
    await page.close();
    if (i > 0) times.push(ms); // the first load warms the server's and the browser's caches
  }
  rows.push({ name: c.name, median: median(times), max: Math.max(...times), rows: rowsSeen });
}
await browser.close();

console.log(`| page (${SAMPLES} loads each, ms from navigation to painted) | median | max | rows |`);
console.log('| --- | ---: | ---: | ---: |');
for (const r of rows) console.log(`| ${r.name} | ${r.median.toFixed(0)} | ${r.max.toFixed(0)} | ${r.rows} |`);
const missed = rows.filter((r) => r.median >= 300);
console.log(missed.length ? `target (< 300 ms): missed by ${missed.map((r) => r.name).join('; ')}` : 'target (< 300 ms): met by every page');
