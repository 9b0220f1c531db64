// The data directory's disk fills up during a C-STORE session. What no longer fits is refused
// with Out of Resources (C-STORE status A700; STOW-RS 503; `loire import` says it is not
// finished) and an error line that says so; every instance acknowledged before is
// indexed (with SQLite the index is on the full disk too); the server stays up, and takes the
// refused instances once there is room again. Then `loire verify` passes and no stored file is
// left outside the index.
//
// A small tmpfs is the disk: mounting one needs root (CI runs as root); elsewhere the test is
// skipped and says why.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openIndex } from '../index/index.js';
import { datasetOffset } from '../retrieve/stored-dataset.js';
import { datasetBytesOfFile } from '../testing/dataset-bytes.js';
import { runTool } from '../testing/dcmtk.js';
import { createTestDatabase, loireBin, spawnLoire, type LoireProcess, type TestDatabase } from '../testing/loire.js';
import { writeLargeMultiframe, type GeneratedInstance } from './generated-instances.js';

/** The disk: room for a few dozen of the images below, and the index beside them. */
const DISK = '24m';
/** Room again, for everything. */
const DISK_GROWN = '96m';
/** 512 KiB each: together they need about twice the disk. */
const IMAGES = 90;
const READY_WITHIN_MS = 120_000;

const workDir = mkdtempSync(path.join(os.tmpdir(), 'loire-disk-full-'));
const diskDir = path.join(workDir, 'disk');
mkdirSync(diskDir);
const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${DISK}`, 'tmpfs', diskDir], { encoding: 'utf8' });
const mounted = mount.status === 0;
if (!mounted) console.warn(`disk-full test skipped: cannot mount a tmpfs (needs root): ${(mount.stderr || String(mount.error)).trim()}`);

/** What one storescu -v run was answered, file by file (-nh: it goes on after a refusal). */
async function storescu(port: number, files: readonly string[]): Promise<{ stored: string[]; outOfResources: string[]; other: string[]; log: string }> {
  const child = spawn('storescu', ['-v', '-nh', '-aec', 'LOIRE', '127.0.0.1', String(port), ...files], { env: { ...process.env, TCP_NODELAY: '1' } });
  let log = '';
  child.stdout.on('data', (d: Buffer) => { log += d.toString('latin1'); });
  child.stderr.on('data', (d: Buffer) => { log += d.toString('latin1'); });
  await new Promise((resolve) => child.on('close', resolve));
  const result = { stored: [] as string[], outOfResources: [] as string[], other: [] as string[], log };
  let current: string | undefined;
  for (const line of log.split('\n')) {
    const sending = /Sending file: (.*)$/.exec(line);
    if (sending) current = sending[1]!.trim();
    const response = /Received Store Response \((.*)\)/.exec(line);
    if (response && current) {
      (response[1] === 'Success' ? result.stored : /OutOfResources/.test(response[1]!) ? result.outOfResources : result.other).push(current);
      current = undefined;
    }
  }
  return result;
}

const ADMIN_PASSWORD = 'disk-full-test-admin-password-0123';

/** A STOW-RS request of Part 10 files, as the administrator. */
async function stowRs(httpPort: number, files: readonly string[]): Promise<{ status: number; body: Record<string, unknown> }> {
  const boundary = 'disk-full-test-boundary';
  const body = Buffer.concat([
    ...files.flatMap((file) => [Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), readFileSync(file), Buffer.from('\r\n')]),
    Buffer.from(`--${boundary}--\r\n`),
  ]);
  const res = await fetch(`http://127.0.0.1:${httpPort}/dicom-web/studies`, {
    method: 'POST', body,
    headers: {
      authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`,
      'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
      accept: 'application/dicom+json',
    },
  });
  return { status: res.status, body: await res.json() as Record<string, unknown> };
}

function objectFiles(dataDir: string): string[] {
  const dir = path.join(dataDir, 'objects');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(path.join(dir, f)).isFile());
}

describe.skipIf(!mounted)('a full disk', () => {
  const dataDir = path.join(diskDir, 'data');
  let database: TestDatabase | undefined;
  let loire: LoireProcess | undefined;

  afterAll(async () => {
    await loire?.kill('SIGKILL');
    await database?.dispose();
    if (mounted) spawnSync('umount', [diskDir]);
    rmSync(workDir, { recursive: true, force: true });
  });

  it('refuses what does not fit, loses nothing acknowledged, stays up, and takes the rest once there is room', async () => {
    if (!existsSync(path.join(path.dirname(loireBin), '../dist/cli/main.js'))) throw new Error('build Loire first (npx tsc -b): the test runs bin/loire.js');
    const imagesDir = path.join(workDir, 'images');
    mkdirSync(imagesDir);
    const images: GeneratedInstance[] = [];
    for (let i = 0; i < IMAGES; i++) images.push(await writeLargeMultiframe(path.join(imagesDir, `${i}.dcm`), { frames: 1, rows: 512, columns: 512 }));
    mkdirSync(dataDir);
    database = await createTestDatabase(dataDir);
    loire = await spawnLoire(dataDir, database.url, [], { LOIRE_ADMIN_PASSWORD: ADMIN_PASSWORD });
    await loire.waitUntilReady(READY_WITHIN_MS);
    let port = loire.dicomPort;

    const first = await storescu(port, images.map((i) => i.file));
    expect(first.other, first.log.slice(-2000)).toEqual([]);
    expect(first.stored.length, 'some images fit').toBeGreaterThan(5);
    expect(first.outOfResources.length, 'the disk filled up: the rest is refused').toBeGreaterThan(10);
    expect(loire.output(), 'the log says the storage is full').toMatch(/"level":50,[^\n]*the storage is full; free space or add storage/);
    // STOW-RS is refused the same way: 503, each instance failed with Out of Resources (A700).
    const stow = await stowRs(loire.httpPort, first.outOfResources.slice(0, 3));
    expect(stow.status, JSON.stringify(stow.body)).toBe(503);
    const failures = (stow.body['00081198'] as { Value: Array<Record<string, { Value?: number[] }>> }).Value;
    expect(failures.map((f) => f['00081197']?.Value?.[0])).toEqual([0xa700, 0xa700, 0xa700]);
    // Each failure names its instance (Type 1 in PS3.18 Table 10.5.3-3), though it failed before its end.
    const sent = first.outOfResources.slice(0, 3).map((file) => images.find((i) => i.file === file)!.sopInstanceUid);
    expect(failures.map((f) => (f['00081155'] as unknown as { Value?: string[] })?.Value?.[0])).toEqual(sent);
    expect(failures.every((f) => typeof (f['00081150'] as unknown as { Value?: string[] })?.Value?.[0] === 'string')).toBe(true);
    expect(loire.output(), 'the STOW-RS log says the storage is full').toMatch(/"level":50,[^\n]*STOW-RS request: [^\n]*the storage is full/);
    // `loire import` beside the server: the files are refused, and the import says it is not
    // finished (exit status 1).
    const imported = await runTool(process.execPath, [loireBin, 'import', '--data', dataDir, '--database', database.url, ...first.outOfResources.slice(0, 3)], { timeoutMs: 120_000 });
    expect(imported.code, imported.stdout + imported.stderr).toBe(1);
    expect(imported.stdout).toMatch(/3 files: 0 stored, 0 already stored, 3 rejected/);
    expect(imported.stdout).toMatch(/the import is not finished: 3 files could not be stored for want of resources \(is the disk full\?\); make room and run it again/);
    // Still up: C-ECHO and /healthz answer.
    expect((await runTool('echoscu', ['-aec', 'LOIRE', '127.0.0.1', String(port)])).code).toBe(0);
    expect((await fetch(`http://127.0.0.1:${loire.httpPort}/healthz`)).status).toBe(200);

    // With the server stopped and the disk filled to its last byte, an import cannot store
    // anything, or cannot even open an index kept beside the objects (SQLite): either way one
    // line that says what to do, exit status 1, and no stack trace.
    expect(await loire.kill('SIGTERM'), loire.output().slice(-3000)).toBe(0);
    const auditEventsBefore = await auditEvents(database.url);
    const filler = path.join(diskDir, 'filler');
    spawnSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=64k'], { encoding: 'utf8' });
    const blocked = await runTool(process.execPath, [loireBin, 'import', '--data', dataDir, '--database', database.url, first.outOfResources[0]!], { timeoutMs: 120_000 });
    expect(blocked.code, blocked.stdout + blocked.stderr).toBe(1);
    expect(blocked.stdout + blocked.stderr, 'no stack trace').not.toMatch(/\n\s+at /);
    expect(blocked.stdout + blocked.stderr).toMatch(/the import is not finished: 1 files could not be stored for want of resources|^loire: the index database cannot be written \(SQLITE_[A-Z_]+: [^)]*\): is the disk of the data directory full\? make room/m);
    rmSync(filler);
    // An index on the full disk that opened may not take the import's audit record either (unless
    // its write-ahead log still had room): then it is said, not dropped in silence.
    if (!database.url.startsWith('postgres') && /the import is not finished/.test(blocked.stdout) && await auditEvents(database.url) === auditEventsBefore) {
      expect(blocked.stderr).toMatch(/"level":50,[^\n]*audit records could not be written to the database and are lost/);
    }

    // More room, and the server again.
    expect(spawnSync('mount', ['-o', `remount,size=${DISK_GROWN}`, diskDir]).status).toBe(0);
    loire = await spawnLoire(dataDir, database.url, [], { LOIRE_ADMIN_PASSWORD: ADMIN_PASSWORD });
    await loire.waitUntilReady(READY_WITHIN_MS);
    port = loire.dicomPort;
    const again = await storescu(port, first.outOfResources);
    expect(again.stored.length, again.log.slice(-2000)).toBe(first.outOfResources.length);

    // Stop and start again: the start indexes what the index journal may still hold (a commit
    // the full disk failed is retried with a growing delay, and may be waiting at the stop).
    expect(await loire.kill('SIGTERM'), loire.output().slice(-3000)).toBe(0);
    loire = await spawnLoire(dataDir, database.url);
    await loire.waitUntilReady(READY_WITHIN_MS);
    expect(await loire.kill('SIGTERM'), loire.output().slice(-3000)).toBe(0);
    loire = undefined;

    // What the index holds: every image, each byte for byte, and nothing else in storage.
    const byUid = new Map(images.map((i) => [i.sopInstanceUid, i]));
    const indexedKeys: string[] = [];
    const problems: string[] = [];
    const index = await openIndex(database.url);
    try {
      for await (const record of index.allStorageRecords()) {
        indexedKeys.push(record.storageKey);
        const image = byUid.get(record.sopInstanceUid);
        if (!image) {
          problems.push(`${record.sopInstanceUid}: indexed but never sent`);
          continue;
        }
        const stored = readFileSync(path.join(dataDir, 'objects', record.storageKey));
        if (!stored.subarray(datasetOffset(stored)).equals(datasetBytesOfFile(image.file))) problems.push(`${record.sopInstanceUid}: stored dataset differs from the one sent`);
      }
    } finally {
      await index.close();
    }
    expect(problems).toEqual([]);
    expect(indexedKeys.length).toBe(IMAGES);
    expect(objectFiles(dataDir).sort()).toEqual(indexedKeys.sort());

    const verify = await runTool(process.execPath, [loireBin, 'verify', '--data', dataDir, '--database', database.url], { timeoutMs: 120_000 });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  }, 600_000);
});

/** How many audit records the index holds. */
async function auditEvents(url: string): Promise<number> {
  const index = await openIndex(url);
  try {
    const row = await index.db.selectFrom('audit_event').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  } finally {
    await index.close();
  }
}
