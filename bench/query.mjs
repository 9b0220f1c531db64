#!/usr/bin/env node
// The query-1m scenario: study-level C-FIND latency with 1,000,000 instances indexed, and
// ingest into that full index compared with ingest into an empty one.
//
// Loire: (1) empty index: ingest the small set, C-FIND p95; (2) index filled with the index
// module's synthetic loader, then the same ingest and the same queries. Orthanc gets the same
// queries over the same client after ingesting the small set, as a reference at its size
// (filling Orthanc to 1M instances over DICOM would take hours).
//
//   node bench/query.mjs [--instances 1000000] [--queries 200] [--small 10000] [--data DIR]

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { DEFAULT_CACHE_DIR, ensureDatasets } from './generate.mjs';
import { openFindAssociation } from './lib/find-client.mjs';
import { NotAvailableError } from './lib/process.mjs';
import { sendDirectories } from './lib/storescu.mjs';
import { TARGETS, fillLoireIndex, loireIndexFingerprint } from './lib/targets.mjs';

/** Ingest into the 1M index may be at most this much slower than into an empty one. */
export const FULL_INDEX_INGEST_MIN_RATIO = 0.8;
const WARM_UP_QUERIES = 10;

/**
 * Nearest-rank percentile of latencies in milliseconds.
 * @param {number[]} values
 * @param {number} p  0..100
 */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/**
 * The benchmark's query mix over the patients and studies of a data set: exact patient ID,
 * exact Study Instance UID, exact accession number, and a patient-name prefix wildcard,
 * in turn (what a study list and a prior-exam lookup ask).
 * @param {{ patients: Array<{ patientId: string, patientName: string }>, studies: Array<{ studyUid: string, accession: string }> }} catalog
 * @param {number} count
 */
export function queryMix(catalog, count) {
  const queries = [];
  for (let i = 0; i < count; i++) {
    const patient = catalog.patients[(i * 7) % catalog.patients.length];
    const study = catalog.studies[(i * 13) % catalog.studies.length];
    switch (i % 4) {
      case 0: queries.push({ kind: 'PatientID', keys: { patientId: patient.patientId } }); break;
      case 1: queries.push({ kind: 'StudyInstanceUID', keys: { studyUid: study.studyUid } }); break;
      case 2: queries.push({ kind: 'AccessionNumber', keys: { accession: study.accession } }); break;
      default: queries.push({ kind: 'PatientName prefix*', keys: { patientName: `${patient.patientName.slice(0, -1)}*` } });
    }
  }
  return queries;
}

/**
 * Runs the query mix on one association and summarises latencies; every query must match,
 * since every key comes from instances the target has just received.
 * @param {{ port: number, ae: string }} running
 * @param {ReturnType<typeof queryMix>} queries
 */
export async function measureFind(running, queries) {
  const client = await openFindAssociation({ port: running.port, calledAe: running.ae });
  try {
    for (const q of queries.slice(0, WARM_UP_QUERIES)) await client.find(q.keys);
    const latencies = [];
    for (const q of queries) {
      const { matches, ms } = await client.find(q.keys);
      if (matches === 0) throw new Error(`C-FIND on ${q.kind} ${JSON.stringify(q.keys)} matched nothing: the index is missing ingested studies`);
      latencies.push(ms);
    }
    return { queries: latencies.length, p50: percentile(latencies, 50), p95: percentile(latencies, 95), max: Math.max(...latencies) };
  } finally {
    await client.release();
  }
}

/**
 * Starts a target (optionally on a prepared data directory), ingests the small set on one
 * association, runs the query mix, stops it.
 * @param {import('./lib/targets.mjs').Target} target
 * @param {{ dir: string, count: number }} small
 * @param {ReturnType<typeof queryMix>} queries
 * @param {string} workDir
 * @param {string} [dataDir]
 */
async function ingestThenQuery(target, small, queries, workDir, dataDir) {
  // What earlier steps wrote (a copied index, an earlier target's files) goes to disk before the clock starts.
  execFileSync('sync');
  const running = await target.start(workDir, dataDir ? { dataDir } : {});
  try {
    const sent = await sendDirectories({ port: running.port, calledAe: running.ae, dirs: [small.dir] });
    if (sent.stored !== small.count) throw new Error(`${sent.stored} of ${small.count} instances stored: ${sent.failures.join('; ')}`);
    const find = await measureFind(running, queries);
    return { instancesPerSecond: sent.stored / sent.seconds, seconds: sent.seconds, find };
  } finally {
    await running.stop();
  }
}

/**
 * Puts a Loire data directory holding an index of `instances` synthetic instances at `dataDir`.
 * Filling takes long (the loader goes through the real batch ingest path), so a filled SQLite
 * index is kept in the data set cache, keyed by size and by a fingerprint of Loire's compiled
 * index module, and copied for each run (Loire then writes to the copy).
 * @param {{ cacheDir: string, dataDir: string, instances: number, log: (line: string) => void }} p
 * @returns {Promise<{ seconds: number | undefined }>}  fill time, undefined when the cache served
 */
export async function prepareFilledIndex({ cacheDir, dataDir, instances, log }) {
  if (process.env.LOIRE_BENCH_DATABASE) {
    // An external database is filled in place, every run.
    log(`query-1m / loire: filling ${instances} synthetic instances into LOIRE_BENCH_DATABASE ...`);
    const started = performance.now();
    await fillLoireIndex(dataDir, instances);
    return { seconds: (performance.now() - started) / 1000 };
  }
  const cacheRoot = path.join(cacheDir, 'loire-index');
  const cached = path.join(cacheRoot, `${instances}-${loireIndexFingerprint()}`);
  let seconds;
  if (!fs.existsSync(path.join(cached, 'complete'))) {
    log(`query-1m / loire: filling an index with ${instances} synthetic instances (cached for later runs) ...`);
    const aside = `${cached}.writing-${process.pid}-${Date.now()}`;
    const started = performance.now();
    try {
      await fillLoireIndex(aside, instances);
      seconds = (performance.now() - started) / 1000;
      fs.writeFileSync(path.join(aside, 'complete'), `${new Date().toISOString()} ${seconds.toFixed(0)} s\n`);
      fs.renameSync(aside, cached);
    } catch (error) {
      fs.rmSync(aside, { recursive: true, force: true });
      if (!fs.existsSync(path.join(cached, 'complete'))) throw error; // else another run filled it meanwhile
    }
    // Fills of the same size for older Loire builds no longer match: free their space.
    for (const entry of fs.readdirSync(cacheRoot)) {
      if (entry.startsWith(`${instances}-`) && !entry.includes('.writing-') && path.join(cacheRoot, entry) !== cached) {
        fs.rmSync(path.join(cacheRoot, entry), { recursive: true, force: true });
      }
    }
    log(`  filled in ${seconds?.toFixed(0)} s`);
  } else {
    log(`query-1m / loire: reusing the filled index in ${cached}`);
  }
  fs.cpSync(cached, dataDir, { recursive: true, filter: (source) => path.basename(source) !== 'complete' });
  return { seconds };
}

/**
 * @typedef {{ scenario: string, case: string, target: string, status: 'ok' | 'not available' | 'error', reason?: string,
 *   indexed?: number, instancesPerSecond?: number, p50?: number, p95?: number, max?: number, queries?: number,
 *   fillSeconds?: number }} QueryRow
 */

/**
 * Every run's files stay under `workRoot` until the caller removes it: deleting thousands of
 * files slows the file creation of the runs that follow (see SETTLE_SECONDS in ingest.mjs).
 * @param {{ sets: Awaited<ReturnType<typeof ensureDatasets>>, workRoot: string, instances: number, queries: number,
 *   targets: string[], unavailable?: Map<string, string>, log?: (line: string) => void }} options
 * @returns {Promise<QueryRow[]>}
 */
export async function runQueryScenario({ sets, workRoot, instances, queries: queryCount, targets, unavailable = new Map(), log = () => {} }) {
  const scenario = 'query-1m';
  const small = { dir: path.join(sets.out, sets.small.dir), count: sets.small.count };
  const queries = queryMix(sets.small, queryCount);
  /** @type {QueryRow[]} */
  const rows = [];
  const fail = (/** @type {string} */ target, /** @type {string} */ name, /** @type {unknown} */ error) => {
    const reason = error instanceof Error ? error.message : String(error);
    const status = error instanceof NotAvailableError ? 'not available' : 'error';
    if (status === 'not available') unavailable.set(target, reason);
    rows.push({ scenario, case: name, target, status, reason });
    log(`  ${target}: ${status} (${reason})`);
  };

  if (targets.includes('orthanc')) {
    const name = `${small.count.toLocaleString('en')} indexed (reference)`;
    log(`${scenario} / orthanc: ingest ${small.count}, then ${queryCount} C-FIND ...`);
    const workDir = fs.mkdtempSync(path.join(workRoot, 'orthanc-'));
    try {
      const r = await ingestThenQuery(TARGETS.orthanc, small, queries, workDir);
      rows.push({ scenario, case: name, target: 'orthanc', status: 'ok', indexed: small.count, instancesPerSecond: r.instancesPerSecond, ...r.find });
      log(`  p95 ${r.find.p95.toFixed(1)} ms, ingest ${r.instancesPerSecond.toFixed(0)} instances/s`);
    } catch (error) {
      fail('orthanc', name, error);
    }
  }

  if (targets.includes('loire')) {
    const emptyCase = 'empty index';
    const fullCase = `${instances.toLocaleString('en')} indexed`;
    if (unavailable.has('loire')) {
      for (const c of [emptyCase, fullCase]) rows.push({ scenario, case: c, target: 'loire', status: 'not available', reason: unavailable.get('loire') });
      return rows;
    }
    const workDir = fs.mkdtempSync(path.join(workRoot, 'loire-'));
    try {
      log(`${scenario} / loire, empty index: ingest ${small.count}, then ${queryCount} C-FIND ...`);
      const empty = await ingestThenQuery(TARGETS.loire, small, queries, workDir, path.join(workDir, 'empty'));
      rows.push({ scenario, case: emptyCase, target: 'loire', status: 'ok', indexed: small.count, instancesPerSecond: empty.instancesPerSecond, ...empty.find });
      log(`  p95 ${empty.find.p95.toFixed(1)} ms, ingest ${empty.instancesPerSecond.toFixed(0)} instances/s`);

      const fullDir = path.join(workDir, 'full');
      const { seconds: fillSeconds } = await prepareFilledIndex({ cacheDir: sets.out, dataDir: fullDir, instances, log });
      log(`  ingest ${small.count}, then ${queryCount} C-FIND ...`);
      const full = await ingestThenQuery(TARGETS.loire, small, queries, workDir, fullDir);
      rows.push({ scenario, case: fullCase, target: 'loire', status: 'ok', indexed: instances + small.count, instancesPerSecond: full.instancesPerSecond, fillSeconds, ...full.find });
      log(`  p95 ${full.find.p95.toFixed(1)} ms, ingest ${full.instancesPerSecond.toFixed(0)} instances/s`);
    } catch (error) {
      const done = new Set(rows.filter((r) => r.target === 'loire').map((r) => r.case));
      for (const c of [emptyCase, fullCase]) if (!done.has(c)) fail('loire', c, error);
    }
  }
  return rows;
}

async function cli() {
  const { values } = parseArgs({
    options: {
      instances: { type: 'string', default: '1000000' },
      queries: { type: 'string', default: '200' },
      small: { type: 'string', default: '10000' },
      targets: { type: 'string', default: 'orthanc,loire' },
      data: { type: 'string', default: DEFAULT_CACHE_DIR },
    },
  });
  const sets = await ensureDatasets({ out: values.data, small: Number(values.small), log: console.log });
  const workRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'loire-bench-run-'));
  try {
    const rows = await runQueryScenario({
      sets, workRoot, instances: Number(values.instances), queries: Number(values.queries), targets: values.targets.split(','), log: console.log,
    });
    console.log(JSON.stringify(rows, null, 2));
  } finally {
    fs.rmSync(workRoot, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await cli();
