#!/usr/bin/env node
// The security-overhead scenario (issue 4): the same C-STORE ingest, study-level C-FIND and
// QIDO-RS queries against Loire with the audit trail off and on, and with authentication off
// and on, in one run. Each round starts a fresh Loire per variant; the variants then take turns,
// one slice of the files at a time for the ingest and one query at a time for the queries, so that
// a slow spell of a shared machine hits all of them alike. With --repeat, each figure is the
// median of the rounds.
//
//   node bench/security.mjs [--small 10000] [--queries 200] [--repeat 1] [--data DIR]

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { DEFAULT_CACHE_DIR, ensureDatasets } from './generate.mjs';
import { benchEnv, freePort, httpOk, NotAvailableError, spawnServer, tcpOpen, waitReady } from './lib/process.mjs';
import { BENCH_AE, sendDirectories } from './lib/storescu.mjs';
import { LOIRE_BENCH_ADMIN_PASSWORD, LOIRE_HEALTH_PATH, REPO_ROOT } from './lib/targets.mjs';
import { openFindAssociation } from './lib/find-client.mjs';
import { percentile, queryMix } from './query.mjs';

/** With everything on, each figure may be at most this much worse than with everything off. */
export const MAX_OVERHEAD = 0.1;
const BENCH_ADMIN_PASSWORD = LOIRE_BENCH_ADMIN_PASSWORD;
const WARM_UP_QUERIES = 10;

/**
 * The variants, the first being the baseline. `authentication` is the auth switch
 * (config `security.authentication`); a build without it runs only the variants that leave it off.
 */
export const VARIANTS = [
  { name: 'audit off, authentication off', audit: false, authentication: false },
  { name: 'audit on, authentication off', audit: true, authentication: false },
  { name: 'audit on, authentication on', audit: true, authentication: true },
];

/**
 * Loire's configuration file for a variant.
 * @param {{ audit: boolean, authentication: boolean }} variant
 * @param {boolean} authSwitch  whether this build knows `security.authentication`
 */
export function variantConfig(variant, authSwitch) {
  return {
    // The benchmark's C-FIND client calls as BENCH: Loire answers queries only to configured nodes.
    dicomNodes: [{ name: 'bench', aeTitle: BENCH_AE }],
    audit: { enabled: variant.audit },
    ...(authSwitch ? { security: { authentication: variant.authentication } } : {}),
  };
}

/**
 * The QIDO-RS request for one query of the mix (PS3.18 10.6: attribute matching by keyword).
 * @param {{ keys: { patientId?: string, studyUid?: string, accession?: string, patientName?: string } }} query
 */
export function qidoPath(query) {
  const { patientId, studyUid, accession, patientName } = query.keys;
  const params = new URLSearchParams();
  if (patientId) params.set('PatientID', patientId);
  if (studyUid) params.set('StudyInstanceUID', studyUid);
  if (accession) params.set('AccessionNumber', accession);
  if (patientName) params.set('PatientName', patientName);
  return `/dicom-web/studies?${params}`;
}

async function startLoire(workDir, config) {
  const dataDir = path.join(workDir, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  const configFile = path.join(workDir, 'config.json');
  fs.writeFileSync(configFile, JSON.stringify(config));
  const port = await freePort();
  const httpPort = await freePort();
  const server = spawnServer(process.execPath, [
    path.join(REPO_ROOT, 'packages/server/bin/loire.js'), 'serve', '--config', configFile,
    '--data', dataDir, '--dicom-port', String(port), '--http-port', String(httpPort), '--ae-title', 'LOIRE',
  ], { logFile: path.join(workDir, 'loire.log'), cwd: REPO_ROOT, env: benchEnv({ LOIRE_ADMIN_PASSWORD: BENCH_ADMIN_PASSWORD }) });
  await waitReady(server, async () => (await httpOk(httpPort, LOIRE_HEALTH_PATH)) && (await tcpOpen(port)), 'Loire', 60_000);
  return { ae: 'LOIRE', port, httpPort, stop: () => server.stop() };
}

/**
 * Times the same query on every variant in turn, the order rotating from one query to the next,
 * so that a slow spell of a shared machine lands on all of them alike: the figures compare
 * variants, not moments.
 * @template T
 * @param {T[]} clients
 * @param {ReturnType<typeof queryMix>} queries
 * @param {(client: T, query: ReturnType<typeof queryMix>[number]) => Promise<number>} timeOne  ms of one query
 * @returns {Promise<Array<{ queries: number, p50: number, p95: number }>>}  one summary per client
 */
export async function interleaved(clients, queries, timeOne) {
  for (const client of clients) for (const q of queries.slice(0, WARM_UP_QUERIES)) await timeOne(client, q);
  const latencies = clients.map(() => []);
  for (const [i, q] of queries.entries()) {
    for (let k = 0; k < clients.length; k++) {
      const c = (i + k) % clients.length;
      latencies[c].push(await timeOne(clients[c], q));
    }
  }
  return latencies.map((l) => ({ queries: l.length, p50: percentile(l, 50), p95: percentile(l, 95) }));
}

/** C-FIND over one association per variant, interleaved; every query must match. */
async function measureFinds(live, queries) {
  const clients = [];
  try {
    for (const { running } of live) clients.push(await openFindAssociation({ port: running.port, calledAe: running.ae }));
    return await interleaved(clients, queries, async (client, q) => {
      const { matches, ms } = await client.find(q.keys);
      if (matches === 0) throw new Error(`C-FIND on ${q.kind} ${JSON.stringify(q.keys)} matched nothing: the index is missing ingested studies`);
      return ms;
    });
  } finally {
    for (const client of clients) await client.release();
  }
}

/**
 * QIDO-RS over one keep-alive HTTP client per variant, interleaved; undefined when this build
 * has no QIDO-RS route.
 */
async function measureQidos(live, queries) {
  const get = async ({ running, headers }, query) => {
    const started = performance.now();
    const res = await fetch(`http://127.0.0.1:${running.httpPort}${qidoPath(query)}`, { headers: { accept: 'application/dicom+json', ...headers } });
    const body = await res.text();
    return { status: res.status, body, ms: performance.now() - started };
  };
  for (const variant of live) {
    const probe = await get(variant, queries[0]);
    if (probe.status === 404 && !probe.body.startsWith('[')) return undefined;
    if (probe.status !== 200) throw new Error(`QIDO-RS answered ${probe.status}: ${probe.body.slice(0, 200)}`);
  }
  return interleaved(live, queries, async (variant, q) => {
    const r = await get(variant, q);
    if (r.status !== 200 || r.body === '[]') throw new Error(`QIDO-RS ${qidoPath(q)} answered ${r.status} ${r.body.slice(0, 100)}: the index is missing ingested studies`);
    return r.ms;
  });
}

/**
 * Sends the set's slices (its shard directories) to every variant in turn, the order rotating
 * from one slice to the next, each slice starting on a quiet disk; a variant's rate is what it
 * stored over the time its slices took.
 */
async function ingestInTurns(live, small) {
  const slices = fs.readdirSync(small.dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => path.join(small.dir, e.name)).sort();
  if (slices.length === 0) slices.push(small.dir);
  const totals = live.map(() => ({ stored: 0, seconds: 0, failures: [] }));
  for (const [i, slice] of slices.entries()) {
    for (let k = 0; k < live.length; k++) {
      const v = (i + k) % live.length;
      // The previous slice's files are still being written back: flush them first.
      execFileSync('sync');
      const sent = await sendDirectories({ port: live[v].running.port, calledAe: live[v].running.ae, dirs: [slice] });
      totals[v].stored += sent.stored;
      totals[v].seconds += sent.seconds;
      totals[v].failures.push(...sent.failures);
    }
  }
  live.forEach((variant, v) => {
    const { stored, seconds, failures } = totals[v];
    if (stored !== small.count) throw new Error(`${variant.variant.name}: ${stored} of ${small.count} instances stored: ${failures.slice(0, 5).join('; ')}`);
    variant.instancesPerSecond = stored / seconds;
  });
}

/**
 * @typedef {{ variant: string, status: 'ok' | 'not available' | 'error', reason?: string, instancesPerSecond?: number,
 *   find?: { p50: number, p95: number }, qido?: { p50: number, p95: number } }} SecurityRow
 */

/**
 * Each round starts a fresh Loire per variant, ingests the same files into each, a slice at a
 * time in turn, then runs the query mix over C-FIND and QIDO-RS against all of them interleaved.
 * @param {{ sets: Awaited<ReturnType<typeof ensureDatasets>>, workRoot: string, queries: number, repeat?: number,
 *   log?: (line: string) => void }} options
 * @returns {Promise<SecurityRow[]>}
 */
export async function runSecurityScenario({ sets, workRoot, queries: queryCount, repeat = 1, log = () => {} }) {
  const small = { dir: path.join(sets.out, sets.small.dir), count: sets.small.count };
  const queries = queryMix(sets.small, queryCount);
  /** @type {boolean | undefined} */
  let authSwitch;
  /** @type {Map<string, SecurityRow[]>} */
  const runs = new Map(VARIANTS.map((v) => [v.name, []]));
  for (let round = 1; round <= repeat; round++) {
    const roundLabel = repeat > 1 ? ` (round ${round}/${repeat})` : '';
    // Each round starts with a different variant, so that none always goes first or last.
    const order = VARIANTS.map((_, i) => VARIANTS[(i + round - 1) % VARIANTS.length]);
    /** @type {Array<{ variant: typeof VARIANTS[number], running: Awaited<ReturnType<typeof startLoire>>, headers: Record<string, string>, instancesPerSecond: number }>} */
    const live = [];
    const workDirs = [];
    try {
      for (const variant of order) {
        if (authSwitch === false && variant.authentication) {
          runs.get(variant.name).push({ variant: variant.name, status: 'not available', reason: 'this build has no security.authentication switch' });
          continue;
        }
        const workDir = fs.mkdtempSync(path.join(workRoot, 'security-'));
        workDirs.push(workDir);
        let running;
        try {
          running = await startLoire(workDir, variantConfig(variant, authSwitch ?? true));
          authSwitch ??= true;
        } catch (error) {
          // A build without the authentication switch refuses the unknown `security` section.
          const output = fs.existsSync(path.join(workDir, 'loire.log')) ? fs.readFileSync(path.join(workDir, 'loire.log'), 'utf8') : '';
          if (authSwitch !== undefined || !(error instanceof NotAvailableError) || !/Unrecognized key.*'security'/.test(output)) throw error;
          fs.rmSync(path.join(workDir, 'loire.log'), { force: true });
          authSwitch = false;
          if (variant.authentication) {
            runs.get(variant.name).push({ variant: variant.name, status: 'not available', reason: 'this build has no security.authentication switch' });
            continue;
          }
          running = await startLoire(workDir, variantConfig(variant, false));
        }
        const headers = variant.authentication ? { authorization: `Basic ${Buffer.from(`admin:${BENCH_ADMIN_PASSWORD}`).toString('base64')}` } : {};
        live.push({ variant, running, headers, instancesPerSecond: 0 });
      }
      log(`security-overhead${roundLabel}: ingest ${small.count} into each of ${live.length} variants, a slice at a time in turn ...`);
      await ingestInTurns(live, small);
      for (const { variant, instancesPerSecond } of live) log(`  ${variant.name}: ${instancesPerSecond.toFixed(0)} instances/s`);
      log(`security-overhead${roundLabel}: ${queryCount} C-FIND and QIDO-RS, taking turns on ${live.length} variants ...`);
      const finds = await measureFinds(live, queries);
      const qidos = await measureQidos(live, queries);
      live.forEach(({ variant, instancesPerSecond }, i) => {
        const row = { variant: variant.name, status: 'ok', instancesPerSecond, find: finds[i], ...(qidos ? { qido: qidos[i] } : {}) };
        runs.get(variant.name).push(row);
        log(`  ${variant.name}: C-FIND p95 ${finds[i].p95.toFixed(2)} ms; ${qidos ? `QIDO-RS p95 ${qidos[i].p95.toFixed(2)} ms` : 'no QIDO-RS route in this build'}`);
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      log(`  ${reason}`);
      for (const variant of VARIANTS) {
        if (runs.get(variant.name).length < round) runs.get(variant.name).push({ variant: variant.name, status: error instanceof NotAvailableError ? 'not available' : 'error', reason });
      }
    } finally {
      for (const { running } of live) await running.stop();
      for (const dir of workDirs) fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  return VARIANTS.map((v) => medianOf(v.name, runs.get(v.name)));
}

/**
 * Each figure's median over the rounds, taken figure by figure (the round with the median ingest
 * rate need not have the median query latency), or the first failure.
 * @param {string} name
 * @param {SecurityRow[]} rows
 * @returns {SecurityRow}
 */
export function medianOf(name, rows) {
  const ok = rows.filter((r) => r.status === 'ok');
  if (ok.length === 0) return rows[0] ?? { variant: name, status: 'error', reason: 'not run' };
  const median = (values) => {
    const sorted = values.filter((v) => v !== undefined).sort((a, b) => a - b);
    return sorted.length === 0 ? undefined : sorted[Math.floor((sorted.length - 1) / 2)];
  };
  const latency = (key) => {
    const p50 = median(ok.map((r) => r[key]?.p50));
    const p95 = median(ok.map((r) => r[key]?.p95));
    return p50 === undefined || p95 === undefined ? {} : { [key]: { p50, p95 } };
  };
  return { variant: name, status: 'ok', instancesPerSecond: median(ok.map((r) => r.instancesPerSecond)), ...latency('find'), ...latency('qido') };
}

const fmt = (n, digits = 0) => (n === undefined ? '' : n.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits }));

/** @param {SecurityRow[]} rows */
export function securityTable(rows) {
  return {
    header: ['variant', 'ingest instances/s', 'C-FIND p50 ms', 'C-FIND p95 ms', 'QIDO-RS p50 ms', 'QIDO-RS p95 ms', 'note'],
    lines: rows.map((r) => [
      r.variant, fmt(r.instancesPerSecond), fmt(r.find?.p50, 2), fmt(r.find?.p95, 2), fmt(r.qido?.p50, 2), fmt(r.qido?.p95, 2),
      r.status === 'ok' ? (r.qido ? '' : 'no QIDO-RS route in this build') : `${r.status}: ${r.reason ?? ''}`,
    ]),
  };
}

/**
 * Each variant against the baseline (everything off): ingest ≥ 90% of its rate, query p95 ≤ 110%.
 * @param {SecurityRow[]} rows
 * @returns {import('./lib/report.mjs').Verdict[]}
 */
export function securityVerdicts(rows) {
  const [baseline, ...others] = rows;
  const verdicts = [];
  for (const row of others) {
    const checks = [
      ['ingest rate', row.instancesPerSecond && baseline.instancesPerSecond ? row.instancesPerSecond / baseline.instancesPerSecond : undefined, (x) => x >= 1 - MAX_OVERHEAD, `≥ ${100 - MAX_OVERHEAD * 100}% of baseline`],
      ['C-FIND p95', row.find && baseline.find ? row.find.p95 / baseline.find.p95 : undefined, (x) => x <= 1 + MAX_OVERHEAD, `≤ ${100 + MAX_OVERHEAD * 100}% of baseline`],
      ['QIDO-RS p95', row.qido && baseline.qido ? row.qido.p95 / baseline.qido.p95 : undefined, (x) => x <= 1 + MAX_OVERHEAD, `≤ ${100 + MAX_OVERHEAD * 100}% of baseline`],
    ];
    for (const [what, ratio, pass, goal] of checks) {
      verdicts.push({
        scenario: 'security-overhead', case: row.variant, goal: `${what} ${goal}`,
        measured: ratio === undefined ? 'not measured' : `${(ratio * 100).toFixed(0)}%`,
        verdict: ratio === undefined ? 'n/a' : pass(ratio) ? 'PASS' : 'FAIL',
      });
    }
  }
  return verdicts;
}

async function cli() {
  const { values } = parseArgs({
    options: {
      small: { type: 'string', default: '10000' },
      queries: { type: 'string', default: '200' },
      repeat: { type: 'string', default: '1' },
      data: { type: 'string', default: DEFAULT_CACHE_DIR },
    },
  });
  const sets = await ensureDatasets({ out: values.data, small: Number(values.small), log: console.log });
  const workRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'loire-bench-run-'));
  try {
    const rows = await runSecurityScenario({ sets, workRoot, queries: Number(values.queries), repeat: Number(values.repeat), log: console.log });
    console.log(JSON.stringify({ rows, verdicts: securityVerdicts(rows) }, null, 2));
  } finally {
    fs.rmSync(workRoot, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await cli();
