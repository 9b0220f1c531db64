#!/usr/bin/env node
// Ingest scenarios: each target is started fresh in its own temp directory, receives the same
// files from dcmtk storescu (one process per association), and is stopped. Its files are kept
// until the caller removes the work root (see SETTLE_SECONDS).
//
//   node bench/ingest.mjs [--scenario ingest-ct,ingest-small] [--targets storescp,orthanc,loire]
//                         [--ct 2000] [--small 10000] [--data DIR] [--same-priority]

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { DEFAULT_CACHE_DIR, ensureDatasets } from './generate.mjs';
import { cpuSince, cpuSnapshot } from './lib/machine.mjs';
import { canRunAtNiceness, NotAvailableError, TARGET_NICENESS } from './lib/process.mjs';
import { sendDirectories } from './lib/storescu.mjs';
import { TARGETS } from './lib/targets.mjs';

/**
 * One measured (or skipped) run of one target.
 * @typedef {{ scenario: string, case: string, target: string, status: 'ok' | 'not available' | 'error',
 *   reason?: string, instances?: number, bytes?: number, seconds?: number, instancesPerSecond?: number,
 *   mbPerSecond?: number, runs?: number, failedRuns?: number, cpu?: RunCpu }} IngestRow
 */

/**
 * Where the CPU went during a run (cpuSince() of lib/machine.mjs), per instance stored: the
 * target's (with whatever else ran meanwhile) and the senders' (storescu, its scan of its input
 * included), in µs, and the share of the time the cores were idle.
 * @typedef {{ targetMicros: number, sendersMicros: number, idleShare: number }} RunCpu
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
 * No run starts sooner than this after files were wiped. On ext4 without a journal (the root
 * file system of the machines measured here), a freed inode counts as recently deleted for 60 s,
 * or for 360 s while its inode-table block is dirty, which each new file in that block makes it;
 * every new file then pays a scan over such inodes. A Loire run started a minute after 40,000
 * files were deleted spent ~500 µs of CPU per small instance creating files in the thread
 * pool, against ~300 µs with no deletion minutes before. So the runs' files are kept until the
 * whole benchmark is over, and only where the disk cannot hold them is each run wiped after it
 * and the next one made to wait.
 */
export const SETTLE_SECONDS = 361;

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
 * Starts the target in a new directory under `caseRoot`, sends the case's directories and stops
 * it. Its files stay (see SETTLE_SECONDS).
 * @param {import('./lib/targets.mjs').Target} target
 * @param {{ dirs: string[], instances: number, bytes: number }} ingestCase
 * @param {string} caseRoot
 * @param {{ niceness?: number }} [options] the niceness the target runs at (see targetNiceness)
 * @returns {Promise<Omit<IngestRow, 'scenario' | 'case' | 'target'>>}
 */
export async function measureIngest(target, ingestCase, caseRoot, { niceness } = {}) {
  const workDir = fs.mkdtempSync(path.join(caseRoot, `${target.name}-`));
  let running;
  try {
    running = await target.start(workDir, { niceness });
    const before = cpuSnapshot();
    const sent = await sendDirectories({ port: running.port, calledAe: running.ae, dirs: ingestCase.dirs });
    const used = before && cpuSince(before);
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
      ...(used ? { cpu: { targetMicros: used.target / sent.stored * 1e6, sendersMicros: used.senders / sent.stored * 1e6, idleShare: used.idleShare } } : {}),
    };
  } finally {
    await running?.stop();
    // What the target wrote goes to disk now, not during the next target's run.
    execFileSync('sync');
  }
}

/** When this process last wiped a run's files (ms since the epoch). */
let lastWipe = 0;

/**
 * Deletes a run's files and writes the deletion back (sync), so that it costs the next run no I/O.
 * @param {string} dir
 */
function wipe(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
  execFileSync('sync');
  lastWipe = Date.now();
}

/**
 * Waits until the last wipe is older than ext4's window of recently freed inodes.
 * @param {(line: string) => void} log
 */
async function settle(log) {
  const wait = lastWipe + SETTLE_SECONDS * 1000 - Date.now();
  if (wait <= 0) return;
  log(`  waiting ${Math.ceil(wait / 1000)} s after the last wipe (see SETTLE_SECONDS) ...`);
  await new Promise((resolve) => setTimeout(resolve, wait));
}

/**
 * Whether the file system under `dir` can keep every run of a case (with a 20% margin and 2 GB
 * to spare); if not, each run is wiped right after it, and the next one waits.
 * @param {string} dir
 * @param {number} bytes
 */
function roomForAllRuns(dir, bytes) {
  const { bavail, bsize } = fs.statfsSync(dir);
  return bavail * bsize > bytes * 1.2 + 2e9;
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
 * The niceness the targets run at: TARGET_NICENESS where this process may give it; undefined
 * (the senders' own) where it may not, or when asked for the same priority as the senders.
 * @param {{ samePriority?: boolean }} [options]
 * @returns {number | undefined}
 */
export function targetNiceness({ samePriority = false } = {}) {
  return !samePriority && canRunAtNiceness(TARGET_NICENESS) ? TARGET_NICENESS : undefined;
}

/**
 * What the report says of the priorities a run's targets and senders had.
 * @param {number | undefined} niceness the targets' (targetNiceness)
 */
export function priorityNote(niceness) {
  const senders = os.getPriority();
  return niceness === undefined
    ? `Targets and senders ran at the same priority (niceness ${senders}).`
    : `Each target ran at niceness ${niceness}, the senders at ${senders}: the senders stand in for modalities on machines of ` +
      'their own, and should not take a core the target is waiting for (see TARGET_NICENESS in bench/lib/process.mjs). ' +
      '`--same-priority` runs them all at the same.';
}

/**
 * Runs the ingest scenarios for every target; a target that cannot start is reported as not
 * available (once: later cases skip it) and the others still run. With `repeat` > 1 the
 * targets take turns in each round, so that a slow spell of a shared machine hits all of them,
 * and each reports its median run.
 * @param {{ scenarios: string[], targets: string[], sets: Awaited<ReturnType<typeof ensureDatasets>>,
 *   workRoot: string, repeat?: number, niceness?: number, unavailable?: Map<string, string>, log?: (line: string) => void }} options
 * @returns {Promise<IngestRow[]>}
 */
export async function runIngestScenarios({
  scenarios, targets, sets, workRoot, repeat = 1, niceness, unavailable = new Map(), log = () => {},
}) {
  /** @type {IngestRow[]} */
  const rows = [];
  const cases = scenarios.flatMap((scenario) => casesOf(scenario, sets).map((ingestCase) => ({ scenario, ingestCase })));
  for (const { scenario, ingestCase } of cases) {
    const caseRoot = fs.mkdtempSync(path.join(workRoot, 'case-'));
    const keepRuns = roomForAllRuns(workRoot, ingestCase.bytes * targets.length * repeat);
    if (!keepRuns) log(`  not enough free disk to keep every run of this case: each run is wiped, and the next waits ${SETTLE_SECONDS} s`);
    /** @type {Map<string, Array<Omit<IngestRow, 'scenario' | 'case' | 'target'>>>} */
    const runs = new Map(targets.map((name) => [name, []]));
    for (let round = 1; round <= repeat; round++) {
      for (const name of targets) {
        const target = TARGETS[/** @type {keyof typeof TARGETS} */ (name)];
        const done = /** @type {Array<Omit<IngestRow, 'scenario' | 'case' | 'target'>>} */ (runs.get(name));
        if (unavailable.has(name)) continue;
        const of = repeat > 1 ? ` (round ${round}/${repeat})` : '';
        await settle(log);
        log(`${scenario} / ${ingestCase.name} / ${name}: ${ingestCase.instances} instances${of} ...`);
        try {
          const run = await measureIngest(target, ingestCase, caseRoot, { niceness });
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
        } finally {
          if (!keepRuns) {
            wipe(caseRoot);
            fs.mkdirSync(caseRoot);
          }
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
      'same-priority': { type: 'boolean', default: false },
    },
  });
  const niceness = targetNiceness({ samePriority: values['same-priority'] });
  console.log(priorityNote(niceness));
  const sets = await ensureDatasets({ out: values.data, ct: Number(values.ct), small: Number(values.small), log: console.log });
  const workRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'loire-bench-run-'));
  try {
    const rows = await runIngestScenarios({
      scenarios: values.scenario.split(','),
      targets: values.targets.split(','),
      sets,
      workRoot,
      repeat: Number(values.repeat),
      niceness,
      log: console.log,
    });
    console.log(JSON.stringify(rows, null, 2));
  } finally {
    fs.rmSync(workRoot, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await cli();
