// A 1 GiB instance sent by STOW-RS while Loire's resident memory is sampled: the multipart body
// streams to disk, so RSS grows by far less than the object, and what is stored is byte for byte
// what was sent. The instance is generated while it is sent, so no source copy sits on disk.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePart10 } from '@loire/dicom';
import { openIndex } from '../index/index.js';
import { EXPLICIT_VR_LE, multiframeHead } from '../robustness/generated-instances.js';
import { createTestDatabase, loireBin, spawnLoire, type LoireProcess, type TestDatabase } from '../testing/loire.js';

/** 512 frames of 1024 x 1024 16-bit pixels: 1 GiB of pixel data. */
const SHAPE = { frames: 512, rows: 1024, columns: 1024 };
const MAX_RSS_GROWTH_BYTES = 150 * 1024 * 1024;
const READY_WITHIN_MS = 120_000;
const BOUNDARY = 'large-stow-boundary';

const rss = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))![1]) * 1024;
const mib = (n: number): string => `${(n / 1048576).toFixed(1)} MiB`;

describe('a 1 GiB instance by STOW-RS', () => {
  const ADMIN_PASSWORD = 'stow-large-test-password';
  let workDir: string;
  let database: TestDatabase;
  let loire: LoireProcess;

  beforeAll(async () => {
    if (!existsSync(path.join(path.dirname(loireBin), '../dist/cli/main.js'))) throw new Error('build Loire first (npx tsc -b): this test runs bin/loire.js');
    workDir = mkdtempSync(path.join(os.tmpdir(), 'loire-stow-large-'));
    const dataDir = path.join(workDir, 'data');
    mkdirSync(dataDir);
    database = await createTestDatabase(dataDir);
    loire = await spawnLoire(dataDir, database.url, [], { LOIRE_ADMIN_PASSWORD: ADMIN_PASSWORD });
    await loire.waitUntilReady(READY_WITHIN_MS);
  }, 300_000);

  afterAll(async () => {
    await loire?.kill('SIGKILL');
    await database?.dispose();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('streams to disk with less than 150 MB of RSS growth, unchanged', async () => {
    const { ids, dataset, pixelDataHeader } = multiframeHead(SHAPE);
    const head = Buffer.concat([writePart10(dataset, { transferSyntaxUid: EXPLICIT_VR_LE }), pixelDataHeader]);
    const frameBytes = SHAPE.rows * SHAPE.columns * 2;
    const partHead = Buffer.from(`--${BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n`);
    const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
    const objectBytes = head.length + SHAPE.frames * frameBytes;
    const sent = createHash('sha256');

    const pid = loire.child.pid!;
    const before = rss(pid);
    let max = before;
    const sampler = setInterval(() => { try { max = Math.max(max, rss(pid)); } catch { /* gone: fails below */ } }, 50);

    const response = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = http.request({
        host: '127.0.0.1', port: loire.httpPort, method: 'POST', path: '/dicom-web/studies',
        headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`, 'content-type': `multipart/related; type="application/dicom"; boundary=${BOUNDARY}`, 'content-length': partHead.length + objectBytes + tail.length },
      }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => { body += d.toString(); });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      request.on('error', reject);
      const write = (chunk: Buffer): Promise<void> => new Promise((ok) => { if (request.write(chunk)) ok(); else request.once('drain', ok); });
      void (async () => {
        await write(partHead);
        sent.update(head);
        await write(head);
        for (let f = 0; f < SHAPE.frames; f++) {
          const frame = Buffer.alloc(frameBytes);
          for (let i = 0; i < frameBytes; i += 2) frame.writeUInt16LE((i / 2 + f * 7) & 0xffff, i);
          sent.update(frame);
          await write(frame);
        }
        request.end(tail);
      })();
    });
    clearInterval(sampler);
    max = Math.max(max, rss(pid));

    expect(response.status, response.body).toBe(200);
    const growth = max - before;
    console.log(`Loire RSS: ${mib(before)} before, ${mib(max)} at most during STOW-RS of ${mib(objectBytes)}`);
    expect(growth, `RSS ${mib(before)} before, ${mib(max)} at most: grew ${mib(growth)}`).toBeLessThan(MAX_RSS_GROWTH_BYTES);

    const index = await openIndex(database.url);
    try {
      const record = await index.getInstance(ids.sopInstanceUid);
      const expected = sent.digest('hex');
      expect(record).toMatchObject({ size: objectBytes, sha256: expected });
      const stored = createHash('sha256');
      for await (const chunk of createReadStream(path.join(workDir, 'data', 'objects', record!.storageKey), { highWaterMark: 1 << 20 })) stored.update(chunk as Buffer);
      expect(stored.digest('hex')).toBe(expected);
    } finally {
      await index.close();
    }
  }, 900_000);
});
