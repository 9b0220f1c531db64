// The index's group commit alone, in one process: instances prepared beforehand (as ingest's
// write queue has them), then committed in batches, on SQLite and, when one answers, on
// PostgreSQL. What the receiving thread pays per instance for its index, apart from the
// network and storage.
//
//   node bench/index-commit.mjs [--instances 20000] [--postgres postgres://postgres@127.0.0.1:5432/postgres]

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { NotAvailableError } from './lib/process.mjs';
import { REPO_ROOT } from './lib/targets.mjs';

/** Where a PostgreSQL server is looked for when none is given; a database of its own is made there and dropped. */
export const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
/** Batch sizes timed: one instance alone, and what ingest's write queue gathers in 50 ms at 2,400 instances/s. */
export const BATCH_SIZES = [1, 120];
/** Instances per series, as a modality sends them: a batch files most of its instances under series it already saw. */
const INSTANCES_PER_SERIES = 50;
/** The first batches fill the caches and warm the code up, and are not timed. */
const WARM_UP_FRACTION = 0.2;

/** @param {string} module */
async function loire(module) {
  const file = path.join(REPO_ROOT, 'packages/server/dist/index', module);
  if (!fs.existsSync(file)) throw new NotAvailableError(`${path.relative(REPO_ROOT, file)} is missing (run npm run build first)`);
  return import(pathToFileURL(file).href);
}

/** A random-looking UID, as modalities make them (2.25 from a hash): index pages are hit as in real ingest. @param {string} label */
function uid(label) {
  return `2.25.${BigInt(`0x${createHash('sha256').update(label).digest('hex').slice(0, 30)}`)}`;
}

/**
 * @param {number} instances
 * @param {string} run distinguishes the UIDs of each database's run
 */
async function preparedRequests(instances, run) {
  const { syntheticInstance } = await loire('synthetic.js');
  const { prepare } = await loire('store.js');
  const prepared = [];
  for (let n = 0; n < instances; n++) {
    const json = syntheticInstance(n, { instancesPerSeries: INSTANCES_PER_SERIES, seriesPerStudy: 2 });
    json['00080018'].Value = [uid(`${run}/instance/${n}`)];
    json['0020000E'].Value = [uid(`${run}/series/${Math.floor(n / INSTANCES_PER_SERIES)}`)];
    json['0020000D'].Value = [uid(`${run}/study/${Math.floor(n / (2 * INSTANCES_PER_SERIES))}`)];
    const key = createHash('sha256').update(`${run}/${n}`).digest('hex');
    prepared.push(prepare({
      json, metadataLater: true, receivedFrom: 'BENCH', duplicatePolicy: 'keep-first',
      storage: { key: `${key.slice(0, 2)}/${key.slice(2, 4)}/${key.slice(4, 36)}`, size: 9_000, sha256: key, transferSyntaxUid: '1.2.840.10008.1.2.1' },
    }));
  }
  return prepared;
}

/**
 * Commits the instances in batches of `batch` into a fresh index; µs per instance over the timed batches.
 * @param {string} url
 * @param {number} instances
 * @param {number} batch
 */
async function timeCommits(url, instances, batch) {
  const { openIndexDatabase } = await loire('database.js');
  const { indexPrepared } = await loire('store.js');
  const prepared = await preparedRequests(instances, `${url}/${batch}`);
  const connection = await openIndexDatabase(url);
  try {
    const warmUp = Math.ceil(instances * WARM_UP_FRACTION / batch) * batch;
    let timedMs = 0;
    for (let i = 0; i < instances; i += batch) {
      const started = performance.now();
      const results = await indexPrepared(connection.runner, prepared.slice(i, i + batch));
      if (i >= warmUp) timedMs += performance.now() - started;
      const refused = results.find((r) => r.outcome !== 'stored');
      if (refused) throw new Error(`an instance was not stored: ${refused.outcome}`);
    }
    return (timedMs * 1000) / (instances - warmUp);
  } finally {
    await connection.close();
  }
}

/**
 * A fresh PostgreSQL database on the server at `serverUrl`, or undefined when none answers.
 * @param {string} serverUrl
 * @param {(line: string) => void} log
 * @returns {Promise<{ url: string, dispose(): Promise<void> } | undefined>}
 */
async function freshPostgresDatabase(serverUrl, log) {
  const { createPostgresDatabase } = await import(pathToFileURL(path.join(REPO_ROOT, 'packages/server/dist/testing/database.js')).href);
  try {
    return await createPostgresDatabase(serverUrl, 'loire_bench_commit');
  } catch (err) {
    log(`  PostgreSQL at ${serverUrl} does not answer (${/** @type {Error} */ (err).message}): SQLite only`);
    return undefined;
  }
}

/**
 * @typedef {{ database: string, batch: number, instances: number, microsecondsPerInstance: number }} CommitRow
 * @param {{ workRoot: string, instances: number, postgresUrl?: string, log: (line: string) => void }} p
 * @returns {Promise<CommitRow[]>}
 */
export async function runIndexCommitScenario({ workRoot, instances, postgresUrl = DEFAULT_POSTGRES_URL, log }) {
  /** @type {CommitRow[]} */
  const rows = [];
  for (const batch of BATCH_SIZES) {
    const dir = fs.mkdtempSync(path.join(workRoot, 'index-commit-'));
    log(`index-commit: SQLite, batches of ${batch} ...`);
    const microsecondsPerInstance = await timeCommits(path.join(dir, 'index.db'), instances, batch);
    rows.push({ database: 'SQLite', batch, instances, microsecondsPerInstance });
    fs.rmSync(dir, { recursive: true, force: true });
  }
  for (const batch of BATCH_SIZES) {
    const database = await freshPostgresDatabase(postgresUrl, log);
    if (!database) break;
    try {
      log(`index-commit: PostgreSQL, batches of ${batch} ...`);
      rows.push({ database: 'PostgreSQL', batch, instances, microsecondsPerInstance: await timeCommits(database.url, instances, batch) });
    } finally {
      await database.dispose();
    }
  }
  return rows;
}

/** @param {CommitRow[]} rows */
export function indexCommitTable(rows) {
  return {
    header: ['Database', 'Instances per transaction', 'Instances', 'µs per instance', 'Instances/s'],
    lines: rows.map((r) => [
      r.database, r.batch.toLocaleString('en'), r.instances.toLocaleString('en'), r.microsecondsPerInstance.toFixed(1),
      Math.round(1e6 / r.microsecondsPerInstance).toLocaleString('en'),
    ]),
  };
}

async function cli() {
  const { values } = parseArgs({ options: { instances: { type: 'string', default: '20000' }, postgres: { type: 'string', default: DEFAULT_POSTGRES_URL } } });
  const workRoot = fs.mkdtempSync(path.join((await import('node:os')).tmpdir(), 'loire-index-commit-'));
  try {
    const rows = await runIndexCommitScenario({ workRoot, instances: Number(values.instances), postgresUrl: values.postgres, log: console.log });
    const { header, lines } = indexCommitTable(rows);
    console.log([header, ...lines].map((line) => line.join('\t')).join('\n'));
  } finally {
    fs.rmSync(workRoot, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await cli();
