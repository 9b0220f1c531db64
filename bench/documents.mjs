#!/usr/bin/env node
// Ingest, then the metadata documents Loire makes after it (packages/server/src/index/
// metadata-filler.ts): the work the ingest scenarios' rates leave out. Loire receives the small
// set on its associations as in ingest-small; the harness then watches Loire's index (its
// SQLite file, opened read-only) until every instance has its document. storescp, which has no
// such step, receives the same set in each round, as the reference.
//
//   node bench/documents.mjs [--small 10000] [--repeat 1] [--data DIR]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { DEFAULT_CACHE_DIR, ensureDatasets } from './generate.mjs';
import { sendDirectories } from './lib/storescu.mjs';
import { REPO_ROOT, TARGETS, loireIndexUrl } from './lib/targets.mjs';

/** How often the index is asked how many documents are still to make. */
const POLL_MS = 20;
/** A run whose documents are not all made by then is reported as failed. */
const DOCUMENTS_TIMEOUT_MS = 15 * 60_000;

/**
 * One round: Loire's ingest and its documents, and storescp's ingest of the same set.
 * @typedef {{ status: 'ok' | 'error', reason?: string, instances?: number, ingestPerSecond?: number,
 *   pendingAtIngestEnd?: number, documentSeconds?: number, documentsPerSecond?: number,
 *   cpuMicrosecondsPerDocument?: number, completePerSecond?: number, storescpPerSecond?: number }} DocumentsRow
 */

/** Loire's CPU time so far (user and system, all threads), in ms, from /proc. @param {number} pid */
function cpuMilliseconds(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').pop()?.split(' ') ?? [];
  // utime and stime are the 12th and 13th fields after the command name, in clock ticks (100/s).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * Counts the instances of an index and those still without their document.
 * @param {string} file  the SQLite index
 */
function openIndexWatch(file) {
  const Database = createRequire(path.join(REPO_ROOT, 'packages/server/package.json'))('better-sqlite3');
  const db = new Database(file, { readonly: true, fileMustExist: true });
  // length(metadata) = 0 is the condition of the partial index the server finds pending documents by.
  const count = db.prepare('SELECT count(*) AS instances, coalesce(sum(length(metadata) = 0), 0) AS pending FROM instance');
  return {
    /** @returns {{ instances: number, pending: number }} */
    counts: () => count.get(),
    close: () => db.close(),
  };
}

/**
 * Waits until the index holds `instances` instances, every one with its document.
 * @param {{ counts(): { instances: number, pending: number } }} watch
 * @param {number} instances
 */
async function documentsDone(watch, instances) {
  const deadline = Date.now() + DOCUMENTS_TIMEOUT_MS;
  for (;;) {
    const now = watch.counts();
    if (now.instances >= instances && now.pending === 0) return;
    if (Date.now() > deadline) throw new Error(`documents not made after ${DOCUMENTS_TIMEOUT_MS / 1000} s: ${now.pending} of ${now.instances} instances still without one`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * @param {{ dirs: string[], instances: number }} set
 * @param {string} workDir
 * @returns {Promise<DocumentsRow>}
 */
async function loireRound(set, workDir) {
  const dataDir = path.join(workDir, 'loire');
  const indexUrl = loireIndexUrl(dataDir);
  if (!indexUrl.startsWith('sqlite://')) return { status: 'error', reason: `watches a SQLite index only, not ${indexUrl}` };
  const running = await TARGETS.loire.start(workDir, { dataDir });
  /** @type {ReturnType<typeof openIndexWatch> | undefined} */
  let watch;
  try {
    const pid = /** @type {number} */ (running.pid);
    const sent = await sendDirectories({ port: running.port, calledAe: running.ae, dirs: set.dirs });
    if (sent.stored !== set.instances) return { status: 'error', reason: `${sent.stored} of ${set.instances} instances stored: ${sent.failures.join('; ')}` };
    const ingestEnd = performance.now();
    const cpuAtIngestEnd = cpuMilliseconds(pid);
    watch = openIndexWatch(indexUrl.slice('sqlite://'.length));
    // Instances not yet committed (still in the index's journal) have no document yet either.
    const atEnd = watch.counts();
    const pendingAtIngestEnd = atEnd.pending + set.instances - atEnd.instances;
    await documentsDone(watch, set.instances);
    const documentSeconds = (performance.now() - ingestEnd) / 1000;
    const cpu = cpuMilliseconds(pid) - cpuAtIngestEnd;
    return {
      status: 'ok',
      instances: sent.stored,
      ingestPerSecond: sent.stored / sent.seconds,
      pendingAtIngestEnd,
      documentSeconds,
      documentsPerSecond: pendingAtIngestEnd / documentSeconds,
      cpuMicrosecondsPerDocument: pendingAtIngestEnd > 0 ? (cpu * 1000) / pendingAtIngestEnd : 0,
      completePerSecond: sent.stored / (sent.seconds + documentSeconds),
    };
  } finally {
    watch?.close();
    await running.stop();
  }
}

/**
 * @param {{ dirs: string[], instances: number }} set
 * @param {string} workDir
 */
async function storescpRate(set, workDir) {
  const running = await TARGETS.storescp.start(workDir);
  try {
    const sent = await sendDirectories({ port: running.port, calledAe: running.ae, dirs: set.dirs });
    return sent.stored === set.instances ? sent.stored / sent.seconds : undefined;
  } finally {
    await running.stop();
  }
}

/**
 * Rounds of Loire's ingest and documents, each followed by storescp's ingest of the same set;
 * the round with the median time to complete is reported.
 * @param {{ sets: Awaited<ReturnType<typeof ensureDatasets>>, workRoot: string, repeat?: number, withStorescp?: boolean,
 *   log?: (line: string) => void }} options
 * @returns {Promise<DocumentsRow>}
 */
export async function runDocumentsScenario({ sets, workRoot, repeat = 1, withStorescp = true, log = () => {} }) {
  const set = { dirs: sets.small.shards.map((/** @type {string} */ s) => path.join(sets.out, s)), instances: sets.small.count };
  /** @type {DocumentsRow[]} */
  const rounds = [];
  for (let round = 1; round <= repeat; round++) {
    // Kept until the caller removes workRoot: files deleted in the last minutes slow the creation of new ones (see ingest.mjs).
    const roundDir = fs.mkdtempSync(path.join(workRoot, 'documents-'));
    log(`ingest-documents: ${set.instances} instances on ${set.dirs.length} associations, then their documents${repeat > 1 ? ` (round ${round}/${repeat})` : ''} ...`);
    const row = await loireRound(set, fs.mkdtempSync(path.join(roundDir, 'loire-')));
    if (row.status === 'ok' && withStorescp) row.storescpPerSecond = await storescpRate(set, fs.mkdtempSync(path.join(roundDir, 'storescp-')));
    log(row.status === 'ok'
      ? `  ingest ${row.ingestPerSecond?.toFixed(0)}/s; ${row.pendingAtIngestEnd} documents made in ${row.documentSeconds?.toFixed(1)} s after it; storescp ${row.storescpPerSecond?.toFixed(0) ?? '-'}/s`
      : `  error: ${row.reason}`);
    rounds.push(row);
  }
  const ok = rounds.filter((r) => r.status === 'ok').sort((a, b) => (b.completePerSecond ?? 0) - (a.completePerSecond ?? 0));
  return ok[Math.floor((ok.length - 1) / 2)] ?? rounds[0] ?? { status: 'error', reason: 'not run' };
}

/** @param {DocumentsRow} row */
export function documentsTable(row) {
  const header = ['Loire ingest', 'Documents left at its end', 'Made in', 'Documents/s', 'CPU per document', 'Ingest and documents', 'storescp ingest'];
  if (row.status !== 'ok') return { header, lines: [[`error: ${row.reason}`, '', '', '', '', '', '']] };
  const rate = (/** @type {number | undefined} */ n) => (n === undefined ? '-' : `${Math.round(n).toLocaleString('en')}/s`);
  return {
    header,
    lines: [[
      rate(row.ingestPerSecond), (row.pendingAtIngestEnd ?? 0).toLocaleString('en'), `${row.documentSeconds?.toFixed(1)} s`,
      rate(row.documentsPerSecond), `${Math.round(row.cpuMicrosecondsPerDocument ?? 0)} µs`, rate(row.completePerSecond), rate(row.storescpPerSecond),
    ]],
  };
}

async function cli() {
  const { values } = parseArgs({
    options: { small: { type: 'string', default: '10000' }, repeat: { type: 'string', default: '1' }, data: { type: 'string', default: DEFAULT_CACHE_DIR } },
  });
  const sets = await ensureDatasets({ out: values.data, small: Number(values.small), log: console.log });
  const workRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'loire-documents-'));
  try {
    const { header, lines } = documentsTable(await runDocumentsScenario({ sets, workRoot, repeat: Number(values.repeat), log: console.log }));
    console.log([header, ...lines].map((line) => line.join('\t')).join('\n'));
  } finally {
    fs.rmSync(workRoot, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await cli();
