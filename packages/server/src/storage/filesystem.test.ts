import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FilesystemStorage } from './filesystem.js';
import { hashStoredObject } from './storage.js';

async function newStorage(): Promise<{ storage: FilesystemStorage; root: string }> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'loire-fs-'));
  const storage = new FilesystemStorage(root);
  await storage.init();
  return { storage, root };
}

function objectFiles(root: string): string[] {
  const dir = path.join(root, 'objects');
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => path.join(dir, f)).filter((f) => statSync(f).isFile());
}
const filesWithBytes = (root: string): string[] => objectFiles(root).filter((f) => statSync(f).size > 0);
const emptyFiles = (root: string): string[] => objectFiles(root).filter((f) => statSync(f).size === 0);

describe('FilesystemStorage', () => {
  it('stores bytes exactly, with their SHA-256, under a key free of patient data', async () => {
    const { storage } = await newStorage();
    const writer = await storage.createWriter();
    const parts = [Buffer.from('DICM'), Buffer.alloc(3 * 1024 * 1024, 7), Buffer.from('end')];
    for (const part of parts) await writer.write(part);
    const stored = await writer.commit('1.2.3');
    const all = Buffer.concat(parts);
    expect(stored.size).toBe(all.length);
    expect(stored.sha256).toBe(createHash('sha256').update(all).digest('hex'));
    expect(stored.key).toMatch(/^\d{4}\/\d{2}\/\d{2}\/[0-9a-f]{32}\.dcm$/);
    expect((await storage.readAll(stored.key)).equals(all)).toBe(true);
    await storage.sync([stored.key]);
  });

  it('makes an object\'s directory again when it was removed behind its back (a clean-up of empty directories)', async () => {
    const { storage, root } = await newStorage();
    const write = async (parts: Buffer[]): Promise<string> => {
      const writer = await storage.createWriter();
      for (const part of parts) await writer.write(part);
      return (await writer.commit('1.2.3')).key;
    };
    await write([Buffer.from('first')]);
    // Every size: written at its end, while arriving, and in the thread pool.
    const sizes = [[Buffer.from('small')], [Buffer.alloc(200 * 1024, 1)], [Buffer.alloc(1024 * 1024, 2), Buffer.alloc(1024, 3)]];
    for (const parts of sizes) {
      rmSync(path.join(root, 'objects'), { recursive: true, force: true });
      const key = await write(parts);
      expect((await storage.readAll(key)).equals(Buffer.concat(parts))).toBe(true);
    }
  });

  it('stores objects of every size byte-exact, whether written while arriving, gathered, or in the thread pool', async () => {
    const { storage, root } = await newStorage();
    // Network-sized pieces: a small image, a CT image written while it arrives, and one large
    // enough to go on in the thread pool after its first megabyte.
    for (const size of [10_000, 512 * 1024 + 3, 3 * 1024 * 1024 + 5]) {
      const all = Buffer.alloc(size);
      for (let i = 0; i < size; i++) all[i] = (i * 7919 + size) & 0xff;
      const before = filesWithBytes(root).length;
      const writer = await storage.createWriter();
      let inFile = false;
      for (let at = 0; at < size; at += 16_372) {
        await writer.write(all.subarray(at, Math.min(size, at + 16_372)));
        inFile ||= filesWithBytes(root).length > before;
      }
      // Only the small object waits for its commit to reach the file.
      expect(inFile).toBe(size > 128 * 1024);
      const stored = await writer.commit('1.2.3');
      expect(stored.size).toBe(size);
      expect(stored.sha256).toBe(createHash('sha256').update(all).digest('hex'));
      expect((await storage.readAll(stored.key)).equals(all)).toBe(true);
    }
  });

  it('asked to hash after the commit, hashes an object up to 1 MiB when asked, and a larger one as it arrives', async () => {
    const { storage } = await newStorage();
    for (const size of [10_000, 512 * 1024 + 3, 1024 * 1024, 3 * 1024 * 1024 + 5]) {
      const all = Buffer.alloc(size);
      for (let i = 0; i < size; i++) all[i] = (i * 7919 + size) & 0xff;
      const writer = await storage.createWriter({ hashAfterCommit: true });
      for (let at = 0; at < size; at += 16_372) await writer.write(all.subarray(at, Math.min(size, at + 16_372)));
      const stored = await writer.commit('1.2.3');
      const expected = createHash('sha256').update(all).digest('hex');
      if (size <= 1024 * 1024) {
        expect(typeof stored.sha256, `${size} bytes`).toBe('function');
        const digest = stored.sha256 as () => string;
        expect(digest()).toBe(expected);
        expect(digest()).toBe(expected); // computed once, the same on every call
      } else {
        expect(stored.sha256).toBe(expected);
      }
      expect((await storage.readAll(stored.key)).equals(all)).toBe(true);
    }
  });

  it('hashes a stored object read back whole, as `loire verify` and the index journal\'s replay do', async () => {
    const { storage } = await newStorage();
    const writer = await storage.createWriter();
    const bytes = Buffer.alloc(2 * 1024 * 1024 + 11, 5);
    await writer.write(bytes);
    const stored = await writer.commit('1.2.3');
    expect(await hashStoredObject(storage, stored.key)).toEqual({ sha256: stored.sha256, size: bytes.length });
  });

  it('after a crash, removes every pending file the index does not hold, and keeps the ones it does', async () => {
    const { storage, root } = await newStorage();
    const discarded = await storage.createWriter();
    await discarded.write(Buffer.alloc(2 * 1024 * 1024));
    await discarded.discard();
    expect(filesWithBytes(root)).toEqual([]);
    const commitOne = async (text: string, label: string): Promise<string> => {
      const writer = await storage.createWriter();
      await writer.write(Buffer.from(text));
      return (await writer.commit(label)).key;
    };
    const claimed = await commitOne('claimed: the index journal holds it', '1.1');
    storage.claim(claimed);
    const indexedNotClaimed = await commitOne('indexed, the crash came before its claim', '1.2');
    const neverIndexed = await commitOne('stored, the crash came before its index entry', '1.3');
    const crashed = await storage.createWriter();
    await crashed.write(Buffer.alloc(2 * 1024 * 1024)); // half-written when the process died
    expect(filesWithBytes(root)).toHaveLength(4);
    // A restart asks the index about each completed pending object, and removes what it does not
    // hold; what was never completed (the half-written one) it removes unasked.
    const afterRestart = new FilesystemStorage(root);
    await afterRestart.init();
    const asked = new Map<string, string>();
    const { removedPartialObjects } = await afterRestart.recover(async (key, label) => {
      asked.set(key, label);
      return key === claimed || key === indexedNotClaimed;
    });
    // The claimed one is asked too: its segment outlived the crash, which erased the claim.
    expect(asked).toEqual(new Map([[claimed, '1.1'], [indexedNotClaimed, '1.2'], [neverIndexed, '1.3']]));
    const left = objectFiles(root);
    expect(left.map((f) => path.relative(path.join(root, 'objects'), f)).sort()).toEqual([claimed, indexedNotClaimed].sort());
    expect(removedPartialObjects).toBe(2); // the unindexed object, the half-written one
    expect(readdirSync(path.join(root, 'pending'))).toEqual([]);
    // A second start has nothing left to check.
    expect((await new FilesystemStorage(root).recover(async () => false)).removedPartialObjects).toBe(0);
    expect(objectFiles(root)).toHaveLength(2);
  });

  it('creates an object file only when its first bytes are written, and leaves nothing pending after a clean close', async () => {
    const { storage, root } = await newStorage();
    const many = await Promise.all(Array.from({ length: 40 }, () => storage.createWriter()));
    await new Promise((r) => setTimeout(r, 100)); // nothing is created in the background either
    expect(objectFiles(root)).toEqual([]);
    const stored = await Promise.all(many.slice(0, 20).map(async (w, i) => {
      await w.write(Buffer.from(`object ${i}`));
      return w.commit(`1.2.${i}`);
    }));
    expect(new Set(stored.map((s) => s.key)).size).toBe(20);
    for (const [i, s] of stored.entries()) expect((await storage.readAll(s.key)).toString()).toBe(`object ${i}`);
    for (const s of stored) storage.claim(s.key);
    // Writers never written to, and keys recorded ahead of need, hold nothing at close.
    await Promise.all(many.slice(20).map((w) => w.discard()));
    await storage.close();
    expect(emptyFiles(root)).toEqual([]);
    expect(objectFiles(root)).toHaveLength(20);
    expect(readdirSync(path.join(root, 'pending'))).toEqual([]);
  });

  it('refuses keys it did not make', async () => {
    const { storage } = await newStorage();
    expect(() => storage.read('../../etc/passwd')).toThrow(/invalid storage key/);
    await expect(storage.readAll('2024/01/01/../../x.dcm')).rejects.toThrow(/invalid storage key/);
    expect(() => storage.readRangeSync('../../etc/passwd', { start: 0, end: 9 })).toThrow(/invalid storage key/);
  });

  it('reads a range at once, shorter where the object ends, and only a bounded one', async () => {
    const { storage } = await newStorage();
    const bytes = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251));
    const writer = await storage.createWriter();
    await writer.write(bytes);
    const { key } = await writer.commit('1.2.3');
    expect(storage.readRangeSync(key, { start: 0, end: 4095 }).equals(bytes.subarray(0, 4096))).toBe(true);
    expect(storage.readRangeSync(key, { start: 4000, end: 65535 }).equals(bytes.subarray(4000))).toBe(true);
    expect(storage.readRangeSync(key, { start: 6000, end: 6999 })).toHaveLength(0);
    expect(() => storage.readRangeSync(key, { start: 10, end: 9 })).toThrow(/invalid synchronous read/);
    expect(() => storage.readRangeSync(key, { start: 0, end: 64 * 1024 * 1024 })).toThrow(/invalid synchronous read/);
    const missing = storage.newKey('0'.repeat(32));
    expect(() => storage.readRangeSync(missing, { start: 0, end: 9 })).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});
