#!/usr/bin/env node
// Ingest scenarios: each target is started fresh in its own temp directory, receives the same
// files from dcmtk storescu (one process per association), and is stopped and wiped.
//
//   node bench/ingest.mjs [--scenario ingest-ct,ingest-small] [--targets storescp,orthanc,loire]
//                         [--ct 2000] [--small 10000] [--data DIR]

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { DEFAULT_CACHE_DIR, ensureDatasets } from './generate.mjs';
import { NotAvailableError } from './lib/process.mjs';
import { sendDirectories } from './lib/storescu.mjs';
import { TARGETS } from './lib/targets.mjs';

/**
 * One measured (or skipped) run of one target.
 * @typedef {{ scenario: string, case: string, target: string, status: 'ok' | 'not available' | 'error',
 *   reason?: string, instances?: number, bytes?: number, seconds?: number, instancesPerSecond?: number,
 *   mbPerSecond?: number, runs?: number, failedRuns?: number }} IngestRow
 */

/**
 * What each ingest scenario asks of Loire, as minimum ratios to the other targets' rates.
 * @type {Record<string, Record<string, number>>}
 */
export const INGEST_GOALS = {
  'ingest-ct': { orthanc: 2, storescp: 0.7 },
  'ingest-small': { orthanc: 2, storescp: 0.6 },
};

/**
 * The cases of a scenario: which directories go, one association each.
 * @param {string} scenario
 * @param {Awaited<ReturnType<typeof ensureDatasets>>} sets
 */
export function casesOf(scenario, sets) {
  const under = (/** @type {string} */ rel) => path.join(sets.out, rel);
  if (scenario === 'ingest-ct') {
    return [{ name: '1 association', dirs: [under(sets.ct.dir)], instances: sets.ct.count, bytes: sets.ct.bytes }];
  }
  if (scenario === 'ingest-small') {
    return [
      { name: '1 association', dirs: [under(sets.small.dir)], instances: sets.small.count, bytes: sets.small.bytes },
      { name: `${sets.small.shards.length} associations`, dirs: sets.small.shards.map(under), instances: sets.small.count, bytes: sets.small.bytes },
    ];
  }
  throw new Error(`unknown ingest scenario "${scenario}"`);
}

/**
 * Starts the target, sends the case's directories, stops it, deletes its data.
 * @param {import('./lib/targets.mjs').Target} target
 * @param {{ dirs: string[], instances: number, bytes: number }} ingestCase
 * @param {string} workRoot
 * @returns {Promise<Omit<IngestRow, 'scenario' | 'case' | 'target'>>}
 */
export async function measureIngest(target, ingestCase, workRoot) {
  const workDir = fs.mkdtempSync(path.join(workRoot, `${target.name}-`));
  let running;
  try {
    running = await target.start(workDir);
    const sent = await sendDirectories({ port: running.port, calledAe: running.ae, dirs: ingestCase.dirs });
    if (sent.stored !== ingestCase.instances) {
      const why = sent.failures.length ? `: ${sent.failures.join('; ')}` : '';
      return { status: 'error', reason: `${sent.stored} of ${ingestCase.instances} instances stored${why}` };
    }
    return {
      status: 'ok',
      instances: sent.stored,
      bytes: ingestCase.bytes,
      seconds: sent.seconds,
      instancesPerSecond: sent.stored / sent.seconds,
      mbPerSecond: ingestCase.bytes / 1e6 / sent.seconds,
    };
  } finally {
    await running?.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
    // Deleting thousands of files leaves the file system busy (journal, discards) for a while;
    // waiting for it here keeps that cost off the next target's run.
    execFileSync('sync');
  }
}

/**
 * The run with the median time among a target's repetitions (what the report shows), or the
 * first failure.
 * @param {Array<Omit<IngestRow, 'scenario' | 'case' | 'target'>>} runs
 */
export function medianRun(runs) {
  const ok = runs.filter((r) => r.status === 'ok');
  const failed = runs.filter((r) => r.status !== 'ok');
  if (ok.length === 0) return failed[0] ?? { status: 'error', reason: 'not run' };
  const sorted = [...ok].sort((a, b) => (a.seconds ?? 0) - (b.seconds ?? 0));
  const median = { ...sorted[Math.floor((sorted.length - 1) / 2)], runs: ok.length };
  // A failed round stays visible next to the median of the others.
  return failed.length === 0 ? median : { ...median, failedRuns: failed.length, reason: failed[0].reason };
}

/**
 * Runs the ingest scenarios for every target; a target that cannot start is reported as not
 * available (once: later cases skip it) and the others still run. With `repeat` > 1 the
 * targets take turns in each round, so that a slow spell of a shared machine hits all of them,
 * and each reports its median run.
 * @param {{ scenarios: string[], targets: string[], sets: Awaited<ReturnType<typeof ensureDatasets>>,
 *   workRoot: string, repeat?: number, unavailable?: Map<string, string>, log?: (line: string) => void }} options
 * @returns {Promise<IngestRow[]>}
 */
export async function runIngestScenarios({ scenarios, targets, sets, workRoot, repeat = 1, unavailable = new Map(), log = () => {} }) {
  /** @type {IngestRow[]} */
  const rows = [];
  for (const scenario of scenarios) {
    for (const ingestCase of casesOf(scenario, sets)) {
      /** @type {Map<string, Array<Omit<IngestRow, 'scenario' | 'case' | 'target'>>>} */
      const runs = new Map(targets.map((name) => [name, []]));
      for (let round = 1; round <= repeat; round++) {
        for (const name of targets) {
          const target = TARGETS[/** @type {keyof typeof TARGETS} */ (name)];
          const done = /** @type {Array<Omit<IngestRow, 'scenario' | 'case' | 'target'>>} */ (runs.get(name));
          if (unavailable.has(name)) continue;
          const of = repeat > 1 ? ` (round ${round}/${repeat})` : '';
          log(`${scenario} / ${ingestCase.name} / ${name}: ${ingestCase.instances} instances${of} ...`);
          try {
            const run = await measureIngest(target, ingestCase, workRoot);
            done.push(run);
            log(run.status === 'ok'
              ? `  ${run.instancesPerSecond?.toFixed(0)} instances/s, ${run.mbPerSecond?.toFixed(1)} MB/s (${run.seconds?.toFixed(1)} s)`
              : `  ${run.status}: ${run.reason}`);
          } catch (error) {
            const reason = error instanceof Error ? error.message : String(error);
            // A target that has run before in this process and fails to start now had a
            // transient failure (this round fails), not a missing build (skip it from now on).
            const startedBefore = done.some((r) => r.status === 'ok') || rows.some((r) => r.target === name && r.status === 'ok');
            const status = error instanceof NotAvailableError && !startedBefore ? 'not available' : 'error';
            if (status === 'not available') unavailable.set(name, reason);
            else done.push({ status, reason });
            log(`  ${name}: ${status} (${reason})`);
          }
        }
      }
      for (const name of targets) {
        const where = { scenario, case: ingestCase.name, target: name };
        const done = runs.get(name) ?? [];
        if (done.length === 0) rows.push({ ...where, status: 'not available', reason: unavailable.get(name) ?? 'not run' });
        else rows.push({ ...where, ...medianRun(done) });
      }
    }
  }
  return rows;
}

async function cli() {
  const { values } = parseArgs({
    options: {
      scenario: { type: 'string', default: 'ingest-ct,ingest-small' },
      targets: { type: 'string', default: 'storescp,orthanc,loire' },
      ct: { type: 'string', default: '2000' },
      small: { type: 'string', default: '10000' },
      data: { type: 'string', default: DEFAULT_CACHE_DIR },
      repeat: { type: 'string', default: '1' },
    },
  });
  const sets = await ensureDatasets({ out: values.data, ct: Number(values.ct), small: Number(values.small), log: console.log });
  const workRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'loire-bench-run-'));
  try {
    const rows = await runIngestScenarios({
      scenarios: values.scenario.split(','),
      targets: values.targets.split(','),
      sets,
      workRoot,
      repeat: Number(values.repeat),
      log: console.log,
    });
    console.log(JSON.stringify(rows, null, 2));
  } finally {
    fs.rmSync(workRoot, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await cli();
