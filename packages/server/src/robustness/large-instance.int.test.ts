// A 1 GiB instance in (storescu) and out (C-GET with getscu) while Loire's resident memory is
// sampled: the whole path streams, so RSS grows by far less than the object, and what comes
// back is byte for byte what went in.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, closeSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetOffset } from '../retrieve/stored-dataset.js';
import { runTool } from '../testing/dcmtk.js';
import { createTestDatabase, loireBin, spawnLoire, writeNodesConfig, type LoireProcess, type TestDatabase } from '../testing/loire.js';
import { writeLargeMultiframe, type GeneratedInstance } from './generated-instances.js';

/** 512 frames of 1024 x 1024 16-bit pixels: 1 GiB of pixel data. */
const SHAPE = { frames: 512, rows: 1024, columns: 1024 };
const MAX_RSS_GROWTH_BYTES = 150 * 1024 * 1024;
const SAMPLE_EVERY_MS = 50;
/** Start-up takes a few seconds, but far longer on a loaded machine than the helper's 20 s default allows. */
const READY_WITHIN_MS = 120_000;

/** Samples a process's resident set size (VmRSS) until stopped. */
class RssSampler {
  private max = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly pid: number) {}

  current(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'latin1');
    const kib = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    if (!kib) throw new Error(`no VmRSS in /proc/${this.pid}/status`);
    return Number(kib) * 1024;
  }

  start(): void {
    this.max = this.current();
    this.timer = setInterval(() => {
      try {
        this.max = Math.max(this.max, this.current());
      } catch { /* the process is gone: the test fails elsewhere */ }
    }, SAMPLE_EVERY_MS);
  }

  /** Stops sampling and returns the largest RSS seen. */
  stop(): number {
    clearInterval(this.timer);
    this.max = Math.max(this.max, this.current());
    return this.max;
  }
}

/** SHA-256 and size of a file's dataset part (after its file meta), streamed. */
async function datasetDigest(file: string): Promise<{ sha256: string; bytes: number }> {
  const head = Buffer.alloc(Math.min(16384, statSync(file).size));
  const fd = openSync(file, 'r');
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file, { start: datasetOffset(head), highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

const mib = (n: number): string => `${(n / 1048576).toFixed(1)} MiB`;

describe('a 1 GiB instance', () => {
  let workDir: string;
  let dataDir: string;
  let database: TestDatabase;
  let loire: LoireProcess;
  let instance: GeneratedInstance;

  beforeAll(async () => {
    if (!existsSync(path.join(path.dirname(loireBin), '../dist/cli/main.js'))) throw new Error('build Loire first (npx tsc -b): this test runs bin/loire.js');
    workDir = mkdtempSync(path.join(os.tmpdir(), 'loire-large-'));
    dataDir = path.join(workDir, 'data');
    mkdirSync(dataDir);
    instance = await writeLargeMultiframe(path.join(workDir, 'large.dcm'), SHAPE);
    database = await createTestDatabase(dataDir);
    // getscu calls as GETSCU: retrievals are answered only to configured nodes.
    const config = writeNodesConfig(path.join(workDir, 'loire.json'), [{ name: 'getscu', aeTitle: 'GETSCU', permissions: { query: false } }]);
    loire = await spawnLoire(dataDir, database.url, ['--config', config]);
    await loire.waitUntilReady(READY_WITHIN_MS);
  }, 300_000);

  afterAll(async () => {
    await loire?.kill('SIGKILL');
    await database?.dispose();
    // Deletes the sent, stored and retrieved copies (3 GiB).
    rmSync(workDir, { recursive: true, force: true });
  });

  const peer = (): string[] => ['-aec', 'LOIRE', '127.0.0.1', String(loire.dicomPort)];

  it('goes in and out with less than 150 MB of RSS growth, unchanged', async () => {
    const sampler = new RssSampler(loire.child.pid!);
    // A first small exchange so that what any association needs is already loaded.
    expect((await runTool('echoscu', peer())).code).toBe(0);
    const before = sampler.current();
    sampler.start();

    const sent = await runTool('storescu', ['-v', ...peer(), instance.file], { timeoutMs: 300_000 });
    expect(sent.code, sent.stdout + sent.stderr).toBe(0);
    expect(sent.stdout + sent.stderr).toMatch(/Received Store Response \(Success\)/);

    const getDir = path.join(workDir, 'get');
    mkdirSync(getDir);
    const got = await runTool('getscu', ['-v', '+B', '-od', getDir, ...peer(),
      '-k', 'QueryRetrieveLevel=IMAGE', '-k', `StudyInstanceUID=${instance.studyUid}`, '-k', `SeriesInstanceUID=${instance.seriesUid}`,
      '-k', `SOPInstanceUID=${instance.sopInstanceUid}`], { timeoutMs: 300_000 });
    const max = sampler.stop();
    expect(got.code, got.stdout + got.stderr).toBe(0);

    const growth = max - before;
    console.log(`Loire RSS: ${mib(before)} before, ${mib(max)} at most during store and C-GET of ${mib(statSync(instance.file).size)}`);
    expect(growth, `RSS ${mib(before)} before, ${mib(max)} at most: grew ${mib(growth)}`).toBeLessThan(MAX_RSS_GROWTH_BYTES);

    expect(readdirSync(getDir)).toEqual([instance.sopInstanceUid]);
    const [original, retrieved] = await Promise.all([datasetDigest(instance.file), datasetDigest(path.join(getDir, instance.sopInstanceUid))]);
    expect(original.bytes).toBeGreaterThan(SHAPE.frames * SHAPE.rows * SHAPE.columns * 2);
    expect(retrieved).toEqual(original);
  }, 900_000);
});
