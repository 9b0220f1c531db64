#!/usr/bin/env node
// The dicomweb scenario: WADO-RS series metadata of a 500-instance series, and QIDO-RS study
// search latency, on Loire (its index filled with 1,000,000 synthetic instances) and on Orthanc
// with its DICOMweb plugin (reference, at the size it was filled to over DICOM).
//
// Both targets receive the same files over C-STORE: one series of 500 CT instances (512x512,
// 16-bit, as a scanner sends them) and the small set, whose studies the search mix asks for.
// Requests are sequential on one keep-alive connection, uncompressed (Accept-Encoding: identity)
// so that both servers do the same work; the time is to the last byte of the body.
//
//   node bench/dicomweb.mjs [--instances 1000000] [--queries 200] [--small 10000] [--repeat 30]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { CT_IMAGE_STORAGE, DEFAULT_CACHE_DIR, ctInstance, ensureDatasets } from './generate.mjs';
import { encodeDataset, encodePart10 } from './lib/dicom-writer.mjs';
import { NotAvailableError } from './lib/process.mjs';
import { sendDirectories } from './lib/storescu.mjs';
import { TARGETS, startOrthancDicomweb } from './lib/targets.mjs';
import { percentile, prepareFilledIndex, queryMix } from './query.mjs';

/** Goals of the issue. */
export const DICOMWEB_GOALS = { metadataMaxMs: 50, metadataMinSpeedup: 10, qidoP95MaxMs: 20 };
const SERIES_SIZE = 500;
const WARM_UP = 3;

/**
 * Writes (once, in the data set cache) the metadata series; returns its directory and UIDs.
 * @param {string} out  cache root
 * @param {{ count?: number, rows?: number }} [size]  instances and matrix (default 500 of 512x512)
 */
export function ensureMetadataSeries(out, { count = SERIES_SIZE, rows = 512 } = {}) {
  const layout = { name: 'WADO', rows, columns: rows, perSeries: count, seriesPerStudy: 1, studiesPerPatient: 1, shards: 1, sliceThickness: 1 };
  const dir = path.join(out, `wado-series-${count}x${rows}-v2`);
  const first = ctInstance(layout, 0);
  const uid = (/** @type {number} */ tag) => /** @type {string} */ (first.elements.find(([t]) => t === tag)?.[2]);
  const series = { dir, count, studyUid: uid(0x0020000d), seriesUid: uid(0x0020000e) };
  if (fs.existsSync(path.join(dir, 'complete'))) return series;
  const aside = `${dir}.writing-${process.pid}`;
  fs.mkdirSync(aside, { recursive: true });
  for (let i = 0; i < count; i++) {
    const { sopInstanceUid, elements } = ctInstance(layout, i);
    fs.writeFileSync(path.join(aside, `${String(i).padStart(6, '0')}.dcm`), encodePart10({ sopClassUid: CT_IMAGE_STORAGE, sopInstanceUid, dataset: encodeDataset(elements) }));
  }
  fs.writeFileSync(path.join(aside, 'complete'), '');
  try {
    fs.renameSync(aside, dir);
  } catch {
    fs.rmSync(aside, { recursive: true, force: true }); // written meanwhile by another run
  }
  return series;
}

/**
 * Times `count` GETs (after a warm-up); every answer must be 200 and pass `check`.
 * @param {string} url
 * @param {number} count
 * @param {(body: Buffer) => void} check
 * @param {Record<string, string>} [credentials]
 */
async function timeGets(url, count, check, credentials = {}) {
  const headers = { accept: 'application/dicom+json', 'accept-encoding': 'identity', ...credentials };
  const once = async () => {
    const started = performance.now();
    const res = await fetch(url, { headers });
    const body = Buffer.from(await res.arrayBuffer());
    const ms = performance.now() - started;
    if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status} ${body.toString('utf8', 0, 300)}`);
    check(body);
    return { ms, bytes: body.length };
  };
  for (let i = 0; i < WARM_UP; i++) await once();
  const runs = [];
  for (let i = 0; i < count; i++) runs.push(await once());
  const ms = runs.map((r) => r.ms);
  return { p50: percentile(ms, 50), p95: percentile(ms, 95), max: Math.max(...ms), bytes: runs[0]?.bytes ?? 0, requests: runs.length };
}

/**
 * The search mix of query.mjs as QIDO-RS study searches.
 * @param {ReturnType<typeof queryMix>} queries
 */
export function qidoSearches(queries) {
  const names = { patientId: 'PatientID', patientName: 'PatientName', studyUid: 'StudyInstanceUID', accession: 'AccessionNumber' };
  return queries.map((q) => new URLSearchParams(Object.entries(q.keys).map(([k, v]) => [names[/** @type {keyof typeof names} */ (k)], v])).toString());
}

/**
 * Runs one search per query (after a warm-up). With `requireMatches`, each must find at least
 * one study (Loire); the reference's empty answers are counted instead (Orthanc's DICOMweb
 * plugin finds nothing for a PatientName wildcard containing "^", which its C-FIND finds).
 * @param {string} base  DICOMweb root
 * @param {string[]} searches
 * @param {boolean} requireMatches
 * @param {Record<string, string>} [credentials]
 */
async function timeSearches(base, searches, requireMatches, credentials = {}) {
  let empty = 0;
  const once = async (/** @type {string} */ query) => {
    const started = performance.now();
    const res = await fetch(`${base}/studies?${query}`, { headers: { accept: 'application/dicom+json', 'accept-encoding': 'identity', ...credentials } });
    const text = await res.text();
    const ms = performance.now() - started;
    if (res.status !== 200 && res.status !== 204) throw new Error(`QIDO ${query}: HTTP ${res.status} ${text.slice(0, 300)}`);
    if (res.status === 204 || (JSON.parse(text) ?? []).length === 0) {
      if (requireMatches) throw new Error(`QIDO ${query} matched nothing: the target is missing ingested studies`);
      empty++;
    }
    return ms;
  };
  for (const q of searches.slice(0, 10)) await once(q);
  empty = 0;
  const ms = [];
  for (const q of searches) ms.push(await once(q));
  return { p50: percentile(ms, 50), p95: percentile(ms, 95), max: Math.max(...ms), requests: ms.length, empty };
}


/**
 * @typedef {{ scenario: string, target: string, case: string, status: 'ok' | 'not available' | 'error', reason?: string,
 *   indexed?: number, metadata?: { p50: number, p95: number, max: number, bytes: number, requests: number },
 *   qido?: { p50: number, p95: number, max: number, requests: number, empty: number } }} DicomwebRow
 */

/**
 * @param {{ out: string, small: { dir: string, count: number, patients: any[], studies: any[] }, workRoot: string, instances: number,
 *   queries: number, repeat: number, targets: string[], log?: (line: string) => void }} options
 * @returns {Promise<DicomwebRow[]>}
 */
export async function runDicomwebScenario({ out, small, workRoot, instances, queries, repeat, targets, log = () => {} }) {
  const scenario = 'dicomweb';
  const series = ensureMetadataSeries(out);
  const searches = qidoSearches(queryMix(small, queries));
  const smallDir = path.join(out, small.dir);
  /** @type {DicomwebRow[]} */
  const rows = [];
  const measure = async (/** @type {{ port: number, ae: string, httpPort: number, httpHeaders?: Record<string, string> }} */ running, /** @type {boolean} */ requireMatches) => {
    const sent = await sendDirectories({ port: running.port, calledAe: running.ae, dirs: [series.dir, smallDir] });
    if (sent.stored !== series.count + small.count) throw new Error(`${sent.stored} of ${series.count + small.count} instances stored: ${sent.failures.join('; ')}`);
    const base = `http://127.0.0.1:${running.httpPort}/dicom-web`;
    const metadata = await timeGets(`${base}/studies/${series.studyUid}/series/${series.seriesUid}/metadata`, repeat, (body) => {
      const n = JSON.parse(body.toString('utf8')).length;
      if (n !== series.count) throw new Error(`series metadata has ${n} instances, not ${series.count}`);
    }, running.httpHeaders);
    const qido = await timeSearches(base, searches, requireMatches, running.httpHeaders);
    return { metadata, qido };
  };
  const fail = (/** @type {string} */ target, /** @type {string} */ name, /** @type {unknown} */ error) => {
    const reason = error instanceof Error ? error.message : String(error);
    rows.push({ scenario, target, case: name, status: error instanceof NotAvailableError ? 'not available' : 'error', reason });
    log(`  ${target}: ${reason}`);
  };

  if (targets.includes('orthanc')) {
    const name = `${(series.count + small.count).toLocaleString('en')} indexed (reference)`;
    log(`${scenario} / orthanc + DICOMweb plugin: store ${series.count + small.count}, then metadata x${repeat} and ${searches.length} searches ...`);
    const workDir = fs.mkdtempSync(path.join(workRoot, 'orthanc-'));
    let running;
    try {
      running = await startOrthancDicomweb(workDir);
      const r = await measure(running, false);
      rows.push({ scenario, target: 'orthanc', case: name, status: 'ok', indexed: series.count + small.count, ...r });
      log(`  metadata p50 ${r.metadata.p50.toFixed(1)} ms, QIDO p95 ${r.qido.p95.toFixed(1)} ms`);
    } catch (error) {
      fail('orthanc', name, error);
    } finally {
      await running?.stop();
      fs.rmSync(workDir, { recursive: true, force: true });
    }
  }

  if (targets.includes('loire')) {
    const name = `${instances.toLocaleString('en')} synthetic + ${(series.count + small.count).toLocaleString('en')} indexed`;
    const workDir = fs.mkdtempSync(path.join(workRoot, 'loire-'));
    let running;
    try {
      const dataDir = path.join(workDir, 'data');
      await prepareFilledIndex({ cacheDir: out, dataDir, instances, log });
      log(`${scenario} / loire: store ${series.count + small.count}, then metadata x${repeat} and ${searches.length} searches ...`);
      running = await TARGETS.loire.start(workDir, { dataDir });
      const r = await measure(/** @type {any} */ (running), true);
      rows.push({ scenario, target: 'loire', case: name, status: 'ok', indexed: instances + series.count + small.count, ...r });
      log(`  metadata p50 ${r.metadata.p50.toFixed(1)} ms, QIDO p95 ${r.qido.p95.toFixed(1)} ms`);
    } catch (error) {
      fail('loire', name, error);
    } finally {
      await running?.stop();
      fs.rmSync(workDir, { recursive: true, force: true });
    }
  }
  return rows;
}

const fmt = (/** @type {number | undefined} */ n, digits = 1) => (n === undefined || Number.isNaN(n) ? '' : n.toFixed(digits));

/** @param {DicomwebRow[]} rows */
export function dicomwebTable(rows) {
  return {
    header: ['Target', 'Case', `Series metadata (${SERIES_SIZE}) p50 ms`, 'p95 ms', 'Body MB', 'QIDO study search p50 ms', 'p95 ms', 'Searches (empty answers)', 'Status'],
    lines: rows.map((r) => [
      r.target, r.case, fmt(r.metadata?.p50), fmt(r.metadata?.p95), r.metadata ? (r.metadata.bytes / 1e6).toFixed(2) : '',
      fmt(r.qido?.p50), fmt(r.qido?.p95), r.qido ? `${r.qido.requests} (${r.qido.empty})` : '', r.status === 'ok' ? 'ok' : `${r.status}: ${r.reason ?? ''}`.slice(0, 200),
    ]),
  };
}

/**
 * @param {DicomwebRow[]} rows
 * @returns {import('./lib/report.mjs').Verdict[]}
 */
export function dicomwebVerdicts(rows) {
  const loire = rows.find((r) => r.target === 'loire' && r.status === 'ok');
  const orthanc = rows.find((r) => r.target === 'orthanc' && r.status === 'ok');
  const na = (/** @type {string} */ c, /** @type {string} */ goal) => ({ scenario: 'dicomweb', case: c, goal, measured: 'not measured', verdict: /** @type {const} */ ('n/a') });
  const verdicts = [];
  const metadataCase = `series metadata, ${SERIES_SIZE} instances`;
  if (loire?.metadata) {
    verdicts.push({ scenario: 'dicomweb', case: metadataCase, goal: `p95 under ${DICOMWEB_GOALS.metadataMaxMs} ms`, measured: `${loire.metadata.p95.toFixed(1)} ms`,
      verdict: /** @type {const} */ (loire.metadata.p95 < DICOMWEB_GOALS.metadataMaxMs ? 'PASS' : 'FAIL') });
  } else verdicts.push(na(metadataCase, `p95 under ${DICOMWEB_GOALS.metadataMaxMs} ms`));
  if (loire?.metadata && orthanc?.metadata) {
    const speedup = orthanc.metadata.p50 / loire.metadata.p50;
    verdicts.push({ scenario: 'dicomweb', case: metadataCase, goal: `at least ${DICOMWEB_GOALS.metadataMinSpeedup}x Orthanc (median)`, measured: `${speedup.toFixed(1)}x`,
      verdict: /** @type {const} */ (speedup >= DICOMWEB_GOALS.metadataMinSpeedup ? 'PASS' : 'FAIL') });
  } else verdicts.push(na(metadataCase, `at least ${DICOMWEB_GOALS.metadataMinSpeedup}x Orthanc (median)`));
  const qidoCase = loire ? `QIDO study search, ${loire.case}` : 'QIDO study search';
  if (loire?.qido) {
    verdicts.push({ scenario: 'dicomweb', case: qidoCase, goal: `p95 under ${DICOMWEB_GOALS.qidoP95MaxMs} ms`, measured: `${loire.qido.p95.toFixed(1)} ms`,
      verdict: /** @type {const} */ (loire.qido.p95 < DICOMWEB_GOALS.qidoP95MaxMs ? 'PASS' : 'FAIL') });
  } else verdicts.push(na(qidoCase, `p95 under ${DICOMWEB_GOALS.qidoP95MaxMs} ms`));
  return verdicts;
}

async function cli() {
  const { values } = parseArgs({
    options: {
      instances: { type: 'string', default: '1000000' },
      queries: { type: 'string', default: '200' },
      small: { type: 'string', default: '10000' },
      repeat: { type: 'string', default: '30' },
      targets: { type: 'string', default: 'orthanc,loire' },
      data: { type: 'string', default: DEFAULT_CACHE_DIR },
    },
  });
  const sets = await ensureDatasets({ out: values.data, small: Number(values.small), log: console.log });
  const workRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'loire-bench-run-'));
  try {
    const rows = await runDicomwebScenario({
      out: sets.out, small: sets.small, workRoot, instances: Number(values.instances), queries: Number(values.queries),
      repeat: Number(values.repeat), targets: values.targets.split(','), log: console.log,
    });
    console.log(JSON.stringify(rows, null, 2));
  } finally {
    fs.rmSync(workRoot, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await cli();
