#!/usr/bin/env node
// WADO-RS scenarios (issue "DICOMweb", performance):
//  - wado-series: a whole CT series retrieved as stored (multipart/related; type="application/dicom";
//    transfer-syntax=*) against the raw read bandwidth of the same stored files, measured in the same run;
//  - wado-frames: every frame of the 70-slice head CT sample, 6 requests in flight (a viewer's pattern),
//    Loire against Orthanc with its DICOMweb plugin, on the same files in the same run.
//
//   node bench/wado.mjs [--scenario wado-series,wado-frames] [--series 200] [--rounds 5] [--data DIR]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { DEFAULT_CACHE_DIR, ensureDatasets } from './generate.mjs';
import { captureOutput, NotAvailableError } from './lib/process.mjs';
import { sendDirectories } from './lib/storescu.mjs';
import { loire, REPO_ROOT, startOrthancDicomweb } from './lib/targets.mjs';

/** What the issue asks: series retrieve ≥ 80% of the raw read bandwidth; frames ≥ 2x Orthanc. */
export const WADO_GOALS = { seriesOfDiskRead: 0.8, framesVersusOrthanc: 2 };
export const HEAD_CT_DIR = 'ct-series/philips-head-ct-std-brain-1mm';
export const FRAME_CONCURRENCY = 6;

/**
 * @typedef {{ scenario: string, case: string, target: string, status: 'ok' | 'not available' | 'error', reason?: string,
 *   requests?: number, bytes?: number, seconds?: number, mbPerSecond?: number, perSecond?: number, rounds?: number }} WadoRow
 */

function samplesDir() {
  return process.env.LOIRE_SAMPLES ?? path.resolve(REPO_ROOT, '../shared/dicom-samples');
}


/** Study, series and SOP Instance UIDs of a file, read by dcmdump (independent of Loire). */
async function uidsOf(file) {
  const out = await captureOutput('dcmdump', ['-q', '+P', '0020,000d', '+P', '0020,000e', '+P', '0008,0018', file]);
  const text = String(out);
  const value = (tag) => new RegExp(`\\(${tag}\\) UI \\[([0-9.]+)\\]`, 'i').exec(text)?.[1];
  const ids = { study: value('0020,000d'), series: value('0020,000e'), sop: value('0008,0018') };
  if (!ids.study || !ids.series || !ids.sop) throw new Error(`dcmdump did not show the UIDs of ${file}: ${text.slice(0, 300)}`);
  return ids;
}

/** Every file under `dir` (the stored objects of a target holding only the benchmark's data). */
function filesUnder(dir) {
  const out = [];
  const walk = (d) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full); else if (entry.isFile()) out.push(full);
    }
  };
  walk(dir);
  return out;
}

/** Reads the files one after the other in 1 MiB reads, as a file server would: the bandwidth to beat. */
function rawRead(files) {
  const buffer = Buffer.allocUnsafe(1 << 20);
  let bytes = 0;
  const start = performance.now();
  for (const file of files) {
    const fd = fs.openSync(file, 'r');
    try {
      for (let n; (n = fs.readSync(fd, buffer, 0, buffer.length, null)) > 0;) bytes += n;
    } finally {
      fs.closeSync(fd);
    }
  }
  return { bytes, seconds: (performance.now() - start) / 1000 };
}

/**
 * The disk's own read bandwidth on the same files: dd with O_DIRECT bypasses the page cache, which
 * the raw read above (like Loire) may be served from. Undefined where O_DIRECT is refused (tmpfs).
 */
async function directRead(files) {
  let bytes = 0;
  let seconds = 0;
  for (const file of files) {
    // dd's own figure: the time of its reads, without the cost of starting a process per file.
    const out = String(await captureOutput('dd', [`if=${file}`, 'of=/dev/null', 'bs=1M', 'iflag=direct']));
    const copied = /^(\d+) bytes.*copied, ([0-9.e-]+) s/m.exec(out);
    if (!copied) return undefined;
    bytes += Number(copied[1]);
    seconds += Number(copied[2]);
  }
  return { bytes, seconds };
}

/** GETs a URL and counts its body bytes without keeping them. */
async function download(url, accept, credentials = {}) {
  const response = await fetch(url, { headers: { Accept: accept, ...credentials } });
  if (response.status !== 200) throw new Error(`${url}: HTTP ${response.status} ${(await response.text()).slice(0, 200)}`);
  let bytes = 0;
  for await (const chunk of response.body) bytes += chunk.byteLength;
  return bytes;
}

/**
 * GETs a large response with curl, which costs the machine less than a Node.js client would: the
 * figure is the server's, not the client's. Returns curl's own byte count and transfer time.
 */
async function curlDownload(url, accept, credentials = {}) {
  const headers = Object.entries(credentials).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
  const out = String(await captureOutput('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code} %{size_download} %{time_total}', '-H', `Accept: ${accept}`, ...headers, url]));
  const [status, bytes, seconds] = out.trim().split(' ');
  if (status !== '200') throw new Error(`${url}: HTTP ${status}`);
  return { bytes: Number(bytes), seconds: Number(seconds) };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * wado-series: ingest one series into Loire (the only data it stores), then alternately read its stored
 * files raw and retrieve the series over WADO-RS, `rounds` times each; the best of each is compared.
 */
export async function runSeriesScenario({ sets, workRoot, rounds, log }) {
  const workDir = fs.mkdtempSync(path.join(workRoot, 'wado-series-'));
  /** @type {WadoRow[]} */
  const rows = [];
  let running;
  try {
    running = await loire.start(workDir);
    const seriesDir = path.join(sets.out, sets.ct.dir);
    log(`wado-series: sending ${sets.ct.count} CT instances to Loire ...`);
    const sent = await sendDirectories({ port: running.port, calledAe: running.ae, dirs: [seriesDir] });
    if (sent.stored !== sets.ct.count) throw new Error(`${sent.stored} of ${sets.ct.count} instances stored: ${sent.failures.join('; ')}`);
    const ids = await uidsOf(path.join(seriesDir, fs.readdirSync(seriesDir).find((f) => f.endsWith('.dcm'))));
    // Empty files are spares, created ahead of the next objects.
    const stored = filesUnder(path.join(running.dataDir, 'objects')).filter((f) => fs.statSync(f).size > 0);
    const url = `http://127.0.0.1:${running.httpPort}/dicom-web/studies/${ids.study}/series/${ids.series}`;
    const raw = [];
    const direct = [];
    const wado = [];
    for (let round = 0; round < rounds; round++) {
      const disk = await directRead(stored);
      if (disk) direct.push(disk);
      raw.push(rawRead(stored));
      wado.push(await curlDownload(url, 'multipart/related; type="application/dicom"; transfer-syntax=*', running.httpHeaders));
    }
    const best = (list) => list.reduce((a, b) => (b.bytes / b.seconds > a.bytes / a.seconds ? b : a));
    const measured = [['disk read of the stored files (O_DIRECT)', direct], ['raw read of the stored files (page cache allowed)', raw], ['loire WADO-RS series retrieve', wado]];
    for (const [target, list] of measured) {
      if (list.length === 0) continue;
      const b = best(list);
      rows.push({
        scenario: 'wado-series', case: `${sets.ct.count} CT instances`, target, status: 'ok', requests: 1, rounds,
        bytes: b.bytes, seconds: b.seconds, mbPerSecond: b.bytes / 1e6 / b.seconds,
      });
    }
  } catch (error) {
    rows.push({ scenario: 'wado-series', case: `${sets.ct.count} CT instances`, target: 'loire', status: error instanceof NotAvailableError ? 'not available' : 'error', reason: String(error.message ?? error) });
  } finally {
    await running?.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
  return rows;
}

/** Fetches one frame of each instance, `concurrency` requests in flight; returns the wall time. */
async function fetchAllFrames(base, instances, accept, concurrency, credentials = {}) {
  let next = 0;
  let bytes = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < instances.length) {
      const ids = instances[next++];
      // Not `bytes += await …`: that would read `bytes` before the await and lose the other workers' counts.
      const received = await download(`${base}/studies/${ids.study}/series/${ids.series}/instances/${ids.sop}/frames/1`, accept, credentials);
      bytes += received;
    }
  }));
  return { bytes, seconds: (performance.now() - start) / 1000 };
}

/** OHIF's request (dicomweb-client's default); the plain uncompressed request if a server refuses it. */
const FRAME_ACCEPTS = [
  'multipart/related; type="application/octet-stream"; transfer-syntax=*',
  'multipart/related; type="application/octet-stream"',
];

/**
 * wado-frames: both servers receive the head CT over DIMSE, then serve its 70 frames, 6 requests in flight,
 * `rounds` times. The first pass is what a viewer opening the study costs (nothing cached by the server
 * yet); later passes show the servers' caches.
 */
export async function runFramesScenario({ workRoot, rounds, targets, log }) {
  // storescu sends *.dcm files: the sample's files (named I10, I1010…) are copied under that name.
  const dir = fs.mkdtempSync(path.join(workRoot, 'head-ct-'));
  const source = path.join(samplesDir(), HEAD_CT_DIR);
  for (const name of fs.readdirSync(source).filter((f) => !f.startsWith('.'))) fs.copyFileSync(path.join(source, name), path.join(dir, `${name}.dcm`));
  const files = fs.readdirSync(dir).map((f) => path.join(dir, f));
  const instances = await Promise.all(files.map(uidsOf));
  /** @type {WadoRow[]} */
  const rows = [];
  const starters = { loire: (w) => loire.start(w), orthanc: startOrthancDicomweb };
  let accept;
  for (const name of ['orthanc', 'loire'].filter((t) => targets.includes(t))) {
    const workDir = fs.mkdtempSync(path.join(workRoot, `wado-frames-${name}-`));
    let running;
    const base = { scenario: 'wado-frames', case: `${instances.length} frames, ${FRAME_CONCURRENCY} in flight`, target: name };
    try {
      running = await starters[name](workDir);
      log(`wado-frames: sending the head CT to ${name} ...`);
      const sent = await sendDirectories({ port: running.port, calledAe: running.ae, dirs: [dir] });
      if (sent.stored !== instances.length) throw new Error(`${sent.stored} of ${instances.length} instances stored: ${sent.failures.join('; ')}`);
      const root = `http://127.0.0.1:${running.httpPort}/dicom-web`;
      if (!accept) {
        const probe = instances[0];
        for (const candidate of FRAME_ACCEPTS) {
          const response = await fetch(`${root}/studies/${probe.study}/series/${probe.series}/instances/${probe.sop}/frames/1`, { headers: { Accept: candidate, ...(running.httpHeaders ?? {}) } });
          await response.arrayBuffer();
          if (response.status === 200) { accept = candidate; break; }
        }
        if (!accept) throw new Error(`${name} answers none of: ${FRAME_ACCEPTS.join(' | ')}`);
      }
      const passes = [];
      for (let round = 0; round < rounds; round++) passes.push(await fetchAllFrames(root, instances, accept, FRAME_CONCURRENCY, running.httpHeaders));
      const first = passes[0];
      rows.push({ ...base, case: `${base.case}, first pass`, status: 'ok', requests: instances.length, bytes: first.bytes, seconds: first.seconds, perSecond: instances.length / first.seconds, mbPerSecond: first.bytes / 1e6 / first.seconds });
      if (passes.length > 1) {
        const seconds = median(passes.slice(1).map((p) => p.seconds));
        rows.push({ ...base, case: `${base.case}, later passes`, status: 'ok', requests: instances.length, rounds: passes.length - 1, bytes: first.bytes, seconds, perSecond: instances.length / seconds, mbPerSecond: first.bytes / 1e6 / seconds });
      }
    } catch (error) {
      rows.push({ ...base, status: error instanceof NotAvailableError ? 'not available' : 'error', reason: String(error.message ?? error) });
    } finally {
      await running?.stop();
      fs.rmSync(workDir, { recursive: true, force: true });
    }
  }
  return { rows, accept };
}

const fmt = (n, digits = 0) => (n === undefined || Number.isNaN(n) ? '' : n.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits }));

/** @param {WadoRow[]} rows */
export function wadoTable(rows) {
  return {
    header: ['Case', 'Target', 'Requests', 'MB', 'Seconds', 'Requests/s', 'MB/s', 'Status'],
    lines: rows.map((r) => [
      r.case, r.target, fmt(r.requests), fmt(r.bytes === undefined ? undefined : r.bytes / 1e6, 1), fmt(r.seconds, 3),
      fmt(r.perSecond, 1), fmt(r.mbPerSecond, 1), r.status === 'ok' ? (r.rounds ? `ok (${r.rounds === 1 ? '1 round' : `${r.rounds} rounds`})` : 'ok') : `${r.status}: ${r.reason ?? ''}`,
    ]),
  };
}

/** @param {WadoRow[]} rows @returns {import('./lib/report.mjs').Verdict[]} */
export function wadoVerdicts(rows) {
  const verdicts = [];
  const series = rows.filter((r) => r.scenario === 'wado-series');
  if (series.length) {
    // The goal is against the disk's bandwidth (O_DIRECT); the page-cache read is shown beside it.
    const raw = series.find((r) => r.target.startsWith('disk read')) ?? series.find((r) => r.target.startsWith('raw'));
    const wado = series.find((r) => r.target.startsWith('loire') && r.status === 'ok');
    const goal = `WADO-RS series retrieve ≥ ${Math.round(WADO_GOALS.seriesOfDiskRead * 100)}% of the ${raw?.target.startsWith('disk') ? 'disk (O_DIRECT)' : 'raw'} read bandwidth`;
    verdicts.push(raw && wado
      ? { scenario: 'wado-series', case: series[0].case, goal, measured: `${Math.round((wado.mbPerSecond / raw.mbPerSecond) * 100)}%`, verdict: wado.mbPerSecond / raw.mbPerSecond >= WADO_GOALS.seriesOfDiskRead ? 'PASS' : 'FAIL' }
      : { scenario: 'wado-series', case: series[0].case, goal, measured: 'not measured', verdict: 'n/a' });
  }
  const frames = rows.filter((r) => r.scenario === 'wado-frames');
  for (const which of ['first pass', 'later passes']) {
    const loireRow = frames.find((r) => r.target === 'loire' && r.status === 'ok' && r.case.endsWith(which));
    const orthancRow = frames.find((r) => r.target === 'orthanc' && r.status === 'ok' && r.case.endsWith(which));
    if (!loireRow && !orthancRow) continue;
    const goal = `Loire ≥ ${WADO_GOALS.framesVersusOrthanc}x Orthanc + DICOMweb (${which})`;
    if (!loireRow || !orthancRow) {
      verdicts.push({ scenario: 'wado-frames', case: which, goal, measured: `${loireRow ? 'orthanc' : 'loire'} not measured`, verdict: 'n/a' });
      continue;
    }
    const ratio = orthancRow.seconds / loireRow.seconds;
    verdicts.push({ scenario: 'wado-frames', case: which, goal, measured: `${ratio.toFixed(2)}x`, verdict: ratio >= WADO_GOALS.framesVersusOrthanc ? 'PASS' : 'FAIL' });
  }
  return verdicts;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      scenario: { type: 'string', default: 'wado-series,wado-frames' },
      series: { type: 'string', default: '200' },
      rounds: { type: 'string', default: '5' },
      targets: { type: 'string', default: 'orthanc,loire' },
      data: { type: 'string', default: DEFAULT_CACHE_DIR },
    },
  });
  const scenarios = values.scenario.split(',');
  const workRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'loire-bench-wado-'));
  const rows = [];
  try {
    if (scenarios.includes('wado-series')) {
      const sets = await ensureDatasets({ out: values.data, ct: Number(values.series), log: console.log });
      rows.push(...await runSeriesScenario({ sets, workRoot, rounds: Number(values.rounds), log: console.log }));
    }
    if (scenarios.includes('wado-frames')) {
      rows.push(...(await runFramesScenario({ workRoot, rounds: Number(values.rounds), targets: values.targets.split(','), log: console.log })).rows);
    }
  } finally {
    fs.rmSync(workRoot, { recursive: true, force: true });
  }
  console.table(wadoTable(rows).lines);
  console.table(wadoVerdicts(rows));
}
