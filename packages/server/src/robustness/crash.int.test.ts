// SIGKILL in the middle of four concurrent storescu sessions. After a restart on the same data
// directory and database, every instance a client was told is stored is there, byte for byte;
// nothing half-written is visible; the partial objects the kill left behind are cleaned up.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connect, store } from '@loire/dicom-net';
import { INDEX_JOURNAL } from '../archive.js';
import { openIndex } from '../index/index.js';
import { datasetOffset } from '../retrieve/stored-dataset.js';
import { datasetBytesOfFile } from '../testing/dataset-bytes.js';
import { runTool } from '../testing/dcmtk.js';
import { parseFindResponses } from '../testing/find-output.js';
import { createTestDatabase, loireBin, spawnLoire, writeNodesConfig, type LoireProcess, type TestDatabase } from '../testing/loire.js';
import {
  EXPLICIT_VR_LE, MULTIFRAME_GRAYSCALE_WORD_SC, multiframeDatasetHead, writeSmallInstances, type GeneratedInstance,
} from './generated-instances.js';

const SESSIONS = 4;
const INSTANCES_PER_SESSION = 400;
/** Kill once this many C-STORE-RSP Success have been seen in total: well into the run. */
const KILL_AFTER_ACKNOWLEDGED = 500;
/** Start-up takes a few seconds, but far longer on a loaded machine than the helper's 20 s default allows. */
const READY_WITHIN_MS = 120_000;

/** A storescu -v session whose acknowledged files are followed as its output streams. */
interface Session {
  acknowledged: Set<string>;
  done: Promise<number | null>;
}

/**
 * storescu -v prints "Sending file: F" before each C-STORE-RQ and "Received Store Response
 * (Success)" when the response for it arrives; only those files count as acknowledged.
 */
function startStorescu(port: number, files: string[], onAck: () => void): Session {
  const acknowledged = new Set<string>();
  const child = spawn('storescu', ['-v', '-aec', 'LOIRE', '127.0.0.1', String(port), ...files], { env: { ...process.env, TCP_NODELAY: '1' } });
  let current: string | undefined;
  let pending = '';
  const onData = (d: Buffer): void => {
    pending += d.toString('latin1');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const sending = /Sending file: (.*)$/.exec(line);
      if (sending) current = sending[1]!.trim();
      else if (/Received Store Response \(Success\)/.test(line) && current) {
        acknowledged.add(current);
        current = undefined;
        onAck();
      }
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { acknowledged, done };
}

/** Stops a process (SIGSTOP) and returns once it is stopped: what it holds on disk then stays as it is. */
function stopProcess(pid: number): void {
  process.kill(pid, 'SIGSTOP');
  const state = (): string => readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0] ?? '';
  for (const deadline = Date.now() + 5_000; state() !== 'T';) {
    if (Date.now() > deadline) throw new Error(`process ${pid} did not stop within 5 s of SIGSTOP`);
  }
}

/** Whether the index journal holds a line, that is an acknowledged instance not known committed. */
function journalHoldsLines(dataDir: string): boolean {
  const dir = path.join(dataDir, INDEX_JOURNAL);
  return existsSync(dir) && readdirSync(dir).some((file) => statSync(path.join(dir, file)).size > 0);
}

/**
 * A C-STORE of a 64 MiB image that sends its first 4 MiB and then stalls: Loire holds a partial
 * object in its temporary directory when the kill comes (small objects are rarely caught there).
 */
async function startStalledStore(port: number): Promise<{ sopInstanceUid: string; outcome: Promise<unknown> }> {
  const head = multiframeDatasetHead({ frames: 32, rows: 1024, columns: 1024 });
  const association = await connect({
    host: '127.0.0.1', port, callingAe: 'STALLED', calledAe: 'LOIRE',
    contexts: [{ abstractSyntax: MULTIFRAME_GRAYSCALE_WORD_SC, transferSyntaxes: [EXPLICIT_VR_LE] }],
  });
  const dataset = Readable.from((async function* () {
    yield head.bytes;
    yield Buffer.alloc(4 << 20);
    await new Promise(() => undefined); // never sends the rest
  })());
  const { sopInstanceUid } = head.ids;
  // Settles (rejected) when the kill cuts the connection.
  const outcome = store(association, { sopClassUid: MULTIFRAME_GRAYSCALE_WORD_SC, sopInstanceUid, transferSyntaxUid: EXPLICIT_VR_LE, dataset })
    .catch((err: unknown) => err);
  return { sopInstanceUid, outcome };
}

describe('crash during concurrent stores', () => {
  let workDir: string;
  let dataDir: string;
  let database: TestDatabase;
  let loire: LoireProcess | undefined;
  const sessions: GeneratedInstance[][] = [];

  beforeAll(async () => {
    if (!existsSync(path.join(path.dirname(loireBin), '../dist/cli/main.js'))) throw new Error('build Loire first (npx tsc -b): the crash test runs bin/loire.js');
    workDir = mkdtempSync(path.join(os.tmpdir(), 'loire-crash-'));
    dataDir = path.join(workDir, 'data');
    mkdirSync(dataDir);
    database = await createTestDatabase(dataDir);
    for (let s = 0; s < SESSIONS; s++) {
      const dir = path.join(workDir, `session-${s}`);
      mkdirSync(dir);
      sessions.push(writeSmallInstances(dir, INSTANCES_PER_SESSION, `CRASH${s}`));
    }
  }, 120_000);

  afterAll(async () => {
    await loire?.kill('SIGKILL');
    await database?.dispose();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('keeps every acknowledged instance, byte for byte, and shows nothing partial', async () => {
    loire = await spawnLoire(dataDir, database.url);
    await loire.waitUntilReady(READY_WITHIN_MS);
    const first = loire;

    const stalled = await startStalledStore(first.dicomPort);
    // Objects are written under their final key. Nothing else is being stored yet: the one file
    // with data in it is the stalled object's.
    let partial: string | undefined;
    for (const deadline = Date.now() + 30_000; !(partial = objectFiles(dataDir).find((f) => statSync(f).size > 0));) {
      if (Date.now() > deadline) throw new Error('the stalled C-STORE left no partial object in objects/');
      await new Promise((r) => setTimeout(r, 20));
    }

    let total = 0;
    let killed: Promise<number | null> | undefined;
    const running = sessions.map((instances) => startStorescu(first.dicomPort, instances.map((i) => i.file), () => {
      total++;
      if (total < KILL_AFTER_ACKNOWLEDGED || killed) return;
      // Killed while its index journal holds acknowledged instances, so that the restart has
      // them to index again. Loire is stopped first: a batch committed between the look and
      // the kill (on a loaded machine, a lull of the senders) would empty the journal.
      stopProcess(first.child.pid!);
      if (journalHoldsLines(dataDir)) killed = first.kill('SIGKILL');
      else first.child.kill('SIGCONT');
    }));
    await Promise.all(running.map((s) => s.done));
    expect(killed, 'the sessions ended before the kill: nothing was tested').toBeDefined();
    await killed;
    await stalled.outcome;

    const acknowledged = new Set(running.flatMap((s) => [...s.acknowledged]));
    const sent = sessions.flat().length;
    // The kill must land mid-run: some acknowledged, some not.
    expect(acknowledged.size).toBeGreaterThanOrEqual(KILL_AFTER_ACKNOWLEDGED);
    expect(acknowledged.size).toBeLessThan(sent);
    expect(existsSync(partial)).toBe(true);

    // findscu calls as FINDSCU: queries are answered only to configured nodes.
    const config = writeNodesConfig(path.join(workDir, 'loire.json'), [{ name: 'findscu', aeTitle: 'FINDSCU', permissions: { store: false, retrieve: false } }]);
    loire = await spawnLoire(dataDir, database.url, ['--config', config]);
    await loire.waitUntilReady(READY_WITHIN_MS);
    const restarted = loire;
    // Start-up removes the half-written object, and the log says how many it removed.
    expect(existsSync(partial), 'the stalled C-STORE\'s partial object is removed at start-up').toBe(false);
    expect(restarted.output(), 'the restart logs how many partial objects it removed').toMatch(/"removedPartialObjects":[1-9]/);
    // Acknowledged instances wait up to 50 ms for their transaction: the kill left some in the
    // index journal, and the restart read their objects back and indexed them.
    expect(restarted.output(), 'the restart indexes what the journal held').toMatch(/"instances":[1-9]\d*,"msg":"indexed again the instances/);

    // C-FIND at IMAGE level finds every acknowledged instance.
    const found = new Set<string>();
    for (const instances of sessions) {
      const { studyUid, seriesUid } = instances[0]!;
      const r = await runTool('findscu', ['-v', '-S', '-aec', 'LOIRE', '127.0.0.1', String(restarted.dicomPort),
        '-k', 'QueryRetrieveLevel=IMAGE', '-k', `StudyInstanceUID=${studyUid}`, '-k', `SeriesInstanceUID=${seriesUid}`, '-k', 'SOPInstanceUID']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      for (const id of parseFindResponses(r.stdout + r.stderr)) found.add(id.get('00080018') ?? '');
    }
    const byFile = new Map(sessions.flat().map((i) => [i.file, i]));
    const notFound = [...acknowledged].filter((f) => !found.has(byFile.get(f)!.sopInstanceUid));
    expect(notFound).toEqual([]);

    // The killed run may have left instances whose metadata documents were still to make (see
    // index/metadata-filler.ts; metadata-filler.test.ts shows a restart making them): none is left.
    await vi.waitFor(async () => expect(await pendingMetadataCount(database.url), 'instances without their metadata document').toBe(0),
      { timeout: 60_000, interval: 250 });
    const reader = await openIndex(database.url);
    try {
      const [document] = await reader.metadataOfInstances([byFile.get([...acknowledged][0]!)!.sopInstanceUid]);
      expect(JSON.parse(document!.json)['00280010'], 'a document made after the restart holds what the index columns do not').toEqual({ vr: 'US', Value: [expect.any(Number)] });
    } finally {
      await reader.close();
    }

    // Stop cleanly, then check the stored bytes through the index and the verify command.
    expect(await restarted.kill('SIGTERM'), restarted.output().slice(-3000)).toBe(0);
    loire = undefined;
    const index = await openIndex(database.url);
    const problems: string[] = [];
    const indexedKeys = new Set<string>();
    try {
      const bySop = new Map(sessions.flat().map((i) => [i.sopInstanceUid, i]));
      let indexed = 0;
      for await (const record of index.allStorageRecords()) {
        indexed++;
        indexedKeys.add(record.storageKey);
        const source = bySop.get(record.sopInstanceUid);
        if (record.sopInstanceUid === stalled.sopInstanceUid) {
          problems.push(`${record.sopInstanceUid}: the stalled, never completed C-STORE is indexed`);
          continue;
        }
        if (!source) {
          problems.push(`${record.sopInstanceUid}: indexed but never sent`);
          continue;
        }
        const file = path.join(dataDir, 'objects', record.storageKey);
        if (!existsSync(file)) {
          problems.push(`${record.sopInstanceUid}: indexed but its object ${record.storageKey} is missing`);
          continue;
        }
        const stored = readFileSync(file);
        if (!stored.subarray(datasetOffset(stored)).equals(datasetBytesOfFile(source.file))) problems.push(`${record.sopInstanceUid}: stored dataset differs from the one sent`);
      }
      // Instances stored but not yet acknowledged when the kill came may be there too; never fewer.
      expect(indexed).toBeGreaterThanOrEqual(acknowledged.size);
    } finally {
      await index.close();
    }
    expect(problems).toEqual([]);
    // Nothing the index does not hold is left in storage, and nothing is pending after a clean stop.
    const unindexed = objectFiles(dataDir).map((f) => path.relative(path.join(dataDir, 'objects'), f)).filter((key) => !indexedKeys.has(key));
    expect(unindexed).toEqual([]);
    expect(readdirSync(path.join(dataDir, 'pending'))).toEqual([]);

    const verify = await runTool(process.execPath, [loireBin, 'verify', '--data', dataDir, '--database', database.url], { timeoutMs: 120_000 });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/ 0 problem\(s\)/);
  }, 600_000);
});

function objectFiles(dataDir: string): string[] {
  const dir = path.join(dataDir, 'objects');
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

/** Instances of the index whose metadata document is still to make (see index/metadata-filler.ts). */
async function pendingMetadataCount(url: string): Promise<number> {
  const index = await openIndex(url);
  try {
    const { rows } = await sql<{ n: number }>`select count(*) as n from instance where length(metadata) = 0`.execute(index.db);
    return Number(rows[0]!.n);
  } finally {
    await index.close();
  }
}
