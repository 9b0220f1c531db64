#!/usr/bin/env node
// The security-overhead scenario (issue 4): the same C-STORE ingest, study-level C-FIND and
// QIDO-RS queries against Loire with the audit trail off and on, and with authentication off
// and on, in one run. Each variant starts a fresh Loire; with --repeat the variants take turns
// in each round so that a slow spell of a shared machine hits all of them.
//
//   node bench/security.mjs [--small 10000] [--queries 200] [--repeat 1] [--data DIR]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { DEFAULT_CACHE_DIR, ensureDatasets } from './generate.mjs';
import { benchEnv, freePort, httpOk, NotAvailableError, spawnServer, tcpOpen, waitReady } from './lib/process.mjs';
import { BENCH_AE, sendDirectories } from './lib/storescu.mjs';
import { LOIRE_BENCH_ADMIN_PASSWORD, LOIRE_HEALTH_PATH, REPO_ROOT } from './lib/targets.mjs';
import { measureFind, percentile, queryMix } from './query.mjs';

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
 * QIDO-RS latencies over one keep-alive HTTP client; undefined when this build has no QIDO-RS route.
 * @returns {Promise<{ queries: number, p50: number, p95: number } | undefined>}
 */
async function measureQido(httpPort, queries, headers) {
  const get = async (query) => {
    const started = performance.now();
    const res = await fetch(`http://127.0.0.1:${httpPort}${qidoPath(query)}`, { headers: { accept: 'application/dicom+json', ...headers } });
    const body = await res.text();
    return { status: res.status, body, ms: performance.now() - started };
  };
  const probe = await get(queries[0]);
  if (probe.status === 404 && !probe.body.startsWith('[')) return undefined;
  if (probe.status !== 200) throw new Error(`QIDO-RS answered ${probe.status}: ${probe.body.slice(0, 200)}`);
  for (const q of queries.slice(0, WARM_UP_QUERIES)) await get(q);
  const latencies = [];
  for (const q of queries) {
    const r = await get(q);
    if (r.status !== 200 || r.body === '[]') throw new Error(`QIDO-RS ${qidoPath(q)} answered ${r.status} ${r.body.slice(0, 100)}: the index is missing ingested studies`);
    latencies.push(r.ms);
  }
  return { queries: latencies.length, p50: percentile(latencies, 50), p95: percentile(latencies, 95) };
}

/**
 * @typedef {{ variant: string, status: 'ok' | 'not available' | 'error', reason?: string, instancesPerSecond?: number,
 *   find?: { p50: number, p95: number }, qido?: { p50: number, p95: number } }} SecurityRow
 */

/**
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
    for (const variant of VARIANTS) {
      const done = runs.get(variant.name);
      if (authSwitch === false && variant.authentication) {
        done.push({ variant: variant.name, status: 'not available', reason: 'this build has no security.authentication switch' });
        continue;
      }
      log(`security-overhead / ${variant.name}${repeat > 1 ? ` (round ${round}/${repeat})` : ''}: ingest ${small.count}, then ${queryCount} C-FIND and QIDO-RS ...`);
      const workDir = fs.mkdtempSync(path.join(workRoot, 'security-'));
      let running;
      try {
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
            done.push({ variant: variant.name, status: 'not available', reason: 'this build has no security.authentication switch' });
            continue;
          }
          running = await startLoire(workDir, variantConfig(variant, false));
        }
        const sent = await sendDirectories({ port: running.port, calledAe: running.ae, dirs: [small.dir] });
        if (sent.stored !== small.count) throw new Error(`${sent.stored} of ${small.count} instances stored: ${sent.failures.join('; ')}`);
        const find = await measureFind(running, queries);
        const headers = variant.authentication ? { authorization: `Basic ${Buffer.from(`admin:${BENCH_ADMIN_PASSWORD}`).toString('base64')}` } : {};
        const qido = await measureQido(running.httpPort, queries, headers);
        const row = { variant: variant.name, status: 'ok', instancesPerSecond: sent.stored / sent.seconds, find, ...(qido ? { qido } : {}) };
        done.push(row);
        log(`  ${row.instancesPerSecond.toFixed(0)} instances/s; C-FIND p95 ${find.p95.toFixed(2)} ms; ${qido ? `QIDO-RS p95 ${qido.p95.toFixed(2)} ms` : 'no QIDO-RS route in this build'}`);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        done.push({ variant: variant.name, status: error instanceof NotAvailableError ? 'not available' : 'error', reason });
        log(`  ${reason}`);
      } finally {
        await running?.stop();
        fs.rmSync(workDir, { recursive: true, force: true });
      }
    }
  }
  return VARIANTS.map((v) => medianOf(v.name, runs.get(v.name)));
}

/** The run with the median ingest time, or the first failure. */
function medianOf(name, rows) {
  const ok = rows.filter((r) => r.status === 'ok').sort((a, b) => a.instancesPerSecond - b.instancesPerSecond);
  return ok[Math.floor((ok.length - 1) / 2)] ?? rows[0] ?? { variant: name, status: 'error', reason: 'not run' };
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
