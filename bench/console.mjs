#!/usr/bin/env node
// The reading console's performance (issue "The reading console"), in headless Chromium over
// loopback against a Loire holding the 70-slice head CT and the 170-slice 3D brain MR:
//  - first image of the CT on screen after the study is opened from the study list (≤ 300 ms);
//  - the whole CT series loaded, hence scrollable without waiting (≤ 3 s);
//  - scrolling the loaded stack, one slice per step, each step waiting for its picture (≥ 30 frames/s);
//  - the MR in MPR: the memory of the page (its renderer and the GPU process) once loaded (< 1 GB).
// Each round opens the study in a fresh browser context (nothing cached in the page).
//
//   node bench/console.mjs [--rounds 5]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { NotAvailableError } from './lib/process.mjs';
import { sendDirectories } from './lib/storescu.mjs';
import { LOIRE_BENCH_ADMIN_PASSWORD, loire, REPO_ROOT } from './lib/targets.mjs';

export const CONSOLE_GOALS = { firstImageMs: 300, seriesLoadedMs: 3000, scrollFps: 30, mprMemoryMiB: 1024 };
export const HEAD_CT = 'ct-series/philips-head-ct-std-brain-1mm';
export const BRAIN_MR = 'mr-series/philips-adni-sag3d-mprage-3t';
const CHROMIUM = process.env.LOIRE_CHROMIUM ?? '/usr/bin/chromium';
const SCROLL_STEPS = 69;

function samplesDir() {
  return process.env.LOIRE_SAMPLES ?? path.resolve(REPO_ROOT, '../shared/dicom-samples');
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];

/** Resident memory (MiB) of processes, read from /proc. */
function residentMiB(pids) {
  let kib = 0;
  for (const pid of pids) {
    try {
      const match = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (match) kib += Number(match[1]);
    } catch {
      // The process has gone: it holds nothing.
    }
  }
  return kib / 1024;
}

async function login(page, url) {
  await page.goto(`${url}/login`);
  await page.locator('input[name="username"]').fill('admin');
  await page.locator('input[name="password"]').fill(LOIRE_BENCH_ADMIN_PASSWORD);
  await page.locator('input[name="password"]').press('Enter');
  await page.locator('[data-testid="user"]').waitFor();
}

/**
 * Opens the study from the study list (a click on its row, the app already loaded) and times,
 * in the page's clock, the first picture of viewport 0 and the end of the series' loading.
 */
async function openStudy(page, url, studyUid) {
  await page.goto(`${url}/`);
  const row = page.locator(`table.studies[data-state="ready"] tr[data-study-uid="${studyUid}"]`);
  await row.waitFor();
  return page.evaluate((uid) => new Promise((resolve, reject) => {
    const started = performance.now();
    let firstImage;
    const timeout = setTimeout(() => reject(new Error('the study did not load within 60 s')), 60_000);
    const check = () => {
      const panel = document.querySelector('.viewport-panel[data-viewport-index="0"]');
      if (!panel) return;
      if (firstImage === undefined && Number(panel.dataset.renders) > 0 && panel.dataset.renderedSlice === '1') firstImage = performance.now() - started;
      if (panel.dataset.state === 'error') reject(new Error('the viewer reports an error'));
      if (firstImage !== undefined && panel.dataset.state === 'ready') {
        clearTimeout(timeout);
        observer.disconnect();
        resolve({ firstImageMs: firstImage, seriesLoadedMs: performance.now() - started, slices: Number(panel.dataset.slices) });
      }
    };
    const observer = new MutationObserver(check);
    observer.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-renders', 'data-state', 'data-rendered-slice'] });
    document.querySelector(`tr[data-study-uid="${uid}"]`).click();
  }), studyUid);
}

/**
 * Scrolls the loaded stack one slice per key press, each press waiting for Cornerstone to have
 * drawn that slice (its IMAGE_RENDERED event: the picture is on the canvas).
 */
async function scrollRate(page) {
  await page.locator('.viewport-panel[data-viewport-index="0"]').click();
  return page.evaluate((steps) => new Promise((resolve, reject) => {
    const host = document.querySelector('.viewport-panel[data-viewport-index="0"] .viewport-host');
    const timeout = setTimeout(() => reject(new Error('scrolling stalled')), 60_000);
    let step = 0;
    const started = performance.now();
    const onRendered = () => {
      if (step === steps) {
        clearTimeout(timeout);
        host.removeEventListener('CORNERSTONE_IMAGE_RENDERED', onRendered);
        resolve({ steps, fps: steps / ((performance.now() - started) / 1000) });
        return;
      }
      step++;
      window.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true }));
    };
    host.addEventListener('CORNERSTONE_IMAGE_RENDERED', onRendered);
    step++;
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true }));
  }), SCROLL_STEPS);
}

/** Opens the MR in MPR and reads the memory of the page's processes once the volume is in. */
async function mprMemory(browser, context, page, url, studyUid, seriesUid) {
  await page.goto(`${url}/mpr?StudyInstanceUIDs=${studyUid}&SeriesInstanceUIDs=${seriesUid}`);
  await page.locator('.mpr[data-state="ready"]').waitFor({ timeout: 120_000 });
  await page.waitForTimeout(1000); // the last textures reach the GPU process
  const session = await context.newCDPSession(page);
  const { processInfo } = await (await browser.newBrowserCDPSession()).send('SystemInfo.getProcessInfo');
  // The metrics domain reports nothing until it is enabled.
  await session.send('Performance.enable');
  const { metrics } = await session.send('Performance.getMetrics').catch(() => ({ metrics: [] }));
  const heap = metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? 0;
  const renderers = processInfo.filter((p) => p.type === 'renderer').map((p) => p.id);
  const gpu = processInfo.filter((p) => p.type === 'GPU').map((p) => p.id);
  return { rendererMiB: residentMiB(renderers), gpuMiB: residentMiB(gpu), jsHeapMiB: heap / (1 << 20) };
}

/** @typedef {{ case: string, status: 'ok' | 'not available' | 'error', reason?: string, value?: number, unit?: string, rounds?: number, detail?: string }} ConsoleRow */

/**
 * @param {{ workRoot: string, rounds: number, log?: (line: string) => void }} options
 * @returns {Promise<ConsoleRow[]>}
 */
export async function runConsoleScenario({ workRoot, rounds, log = () => {} }) {
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch {
    return [{ case: 'console', status: 'not available', reason: 'playwright-core is not installed (npm install)' }];
  }
  if (!fs.existsSync(CHROMIUM)) return [{ case: 'console', status: 'not available', reason: `no Chromium at ${CHROMIUM} (apt-get install chromium)` }];
  if (!fs.existsSync(path.join(REPO_ROOT, 'packages/console/dist/index.html'))) {
    return [{ case: 'console', status: 'not available', reason: 'the console is not built (npm run build)' }];
  }
  const workDir = fs.mkdtempSync(path.join(workRoot, 'console-'));
  let running;
  let browser;
  try {
    running = await loire.start(workDir);
    const url = `http://127.0.0.1:${running.httpPort}`;
    log('console: storing the head CT and the brain MR ...');
    const sent = await sendDirectories({ port: running.port, calledAe: running.ae, dirs: [path.join(samplesDir(), HEAD_CT), path.join(samplesDir(), BRAIN_MR)], pattern: '*' });
    if (sent.stored !== 70 + 170) throw new Error(`${sent.stored} of 240 instances stored: ${sent.failures.join('; ')}`);
    const studies = await (await fetch(`${url}/dicom-web/studies?includefield=00081030`, { headers: running.httpHeaders })).json();
    const uidOf = (modality) => studies.find((s) => s['00080061']?.Value?.includes(modality))?.['0020000D']?.Value?.[0];
    const ct = uidOf('CT');
    const mr = uidOf('MR');
    const mrSeries = (await (await fetch(`${url}/dicom-web/studies/${mr}/series`, { headers: running.httpHeaders })).json())[0]['0020000E'].Value[0];
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist'] });
    const opened = [];
    const scrolls = [];
    const memory = [];
    for (let round = 1; round <= rounds; round++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      await login(page, url);
      const open = await openStudy(page, url, ct);
      if (open.slices !== 70) throw new Error(`the viewer shows ${open.slices} slices, not 70`);
      const scroll = await scrollRate(page);
      opened.push(open);
      scrolls.push(scroll.fps);
      log(`  round ${round}: first image ${open.firstImageMs.toFixed(0)} ms, series loaded ${open.seriesLoadedMs.toFixed(0)} ms, scrolling ${scroll.fps.toFixed(1)} frames/s`);
      if (round === 1) {
        const m = await mprMemory(browser, context, page, url, mr, mrSeries);
        memory.push(m);
        log(`  MPR of the MR: renderer ${m.rendererMiB.toFixed(0)} MiB + GPU process ${m.gpuMiB.toFixed(0)} MiB (JS heap ${m.jsHeapMiB.toFixed(0)} MiB)`);
      }
      await context.close();
    }
    const m = memory[0];
    return [
      { case: 'first image of the 70-slice head CT', status: 'ok', value: median(opened.map((o) => o.firstImageMs)), unit: 'ms', rounds },
      { case: 'whole series loaded (scrollable)', status: 'ok', value: median(opened.map((o) => o.seriesLoadedMs)), unit: 'ms', rounds },
      { case: 'scrolling the stack', status: 'ok', value: median(scrolls), unit: 'frames/s', rounds },
      { case: '170-slice MR in MPR: page memory', status: 'ok', value: m.rendererMiB + m.gpuMiB, unit: 'MiB', rounds: 1, detail: `renderer ${m.rendererMiB.toFixed(0)} MiB + GPU process ${m.gpuMiB.toFixed(0)} MiB` },
    ];
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return [{ case: 'console', status: error instanceof NotAvailableError ? 'not available' : 'error', reason }];
  } finally {
    await browser?.close();
    await running?.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

const fmt = (n, digits = 0) => (n === undefined ? '' : n.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits }));

/** @param {ConsoleRow[]} rows */
export function consoleTable(rows) {
  return {
    header: ['case', 'measured', 'rounds', 'note'],
    lines: rows.map((r) => [r.case, r.status === 'ok' ? `${fmt(r.value, r.unit === 'frames/s' ? 1 : 0)} ${r.unit}` : '', fmt(r.rounds), r.status === 'ok' ? r.detail ?? '' : `${r.status}: ${r.reason ?? ''}`]),
  };
}

/**
 * @param {ConsoleRow[]} rows
 * @returns {import('./lib/report.mjs').Verdict[]}
 */
export function consoleVerdicts(rows) {
  const goals = {
    'first image of the 70-slice head CT': [`≤ ${CONSOLE_GOALS.firstImageMs} ms`, (v) => v <= CONSOLE_GOALS.firstImageMs],
    'whole series loaded (scrollable)': [`≤ ${CONSOLE_GOALS.seriesLoadedMs} ms`, (v) => v <= CONSOLE_GOALS.seriesLoadedMs],
    'scrolling the stack': [`≥ ${CONSOLE_GOALS.scrollFps} frames/s`, (v) => v >= CONSOLE_GOALS.scrollFps],
    '170-slice MR in MPR: page memory': [`< ${CONSOLE_GOALS.mprMemoryMiB} MiB`, (v) => v < CONSOLE_GOALS.mprMemoryMiB],
  };
  return Object.entries(goals).map(([name, [goal, pass]]) => {
    const row = rows.find((r) => r.case === name);
    return {
      scenario: 'console', case: name, goal,
      measured: row?.status === 'ok' ? `${fmt(row.value, row.unit === 'frames/s' ? 1 : 0)} ${row.unit}` : 'not measured',
      verdict: row?.status === 'ok' ? (pass(row.value) ? 'PASS' : 'FAIL') : 'n/a',
    };
  });
}

async function cli() {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' } } });
  const workRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'loire-bench-run-'));
  try {
    const rows = await runConsoleScenario({ workRoot, rounds: Number(values.rounds), log: console.log });
    console.log(JSON.stringify({ rows, verdicts: consoleVerdicts(rows) }, null, 2));
  } finally {
    fs.rmSync(workRoot, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await cli();
