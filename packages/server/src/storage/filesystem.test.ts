import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FilesystemStorage } from './filesystem.js';

async function newStorage(): Promise<{ storage: FilesystemStorage; root: string }> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'loire-fs-'));
  const storage = new FilesystemStorage(root);
  await storage.init();
  return { storage, root };
}

describe('FilesystemStorage', () => {
  it('stores bytes exactly, with their SHA-256, under a key free of patient data', async () => {
    const { storage } = await newStorage();
    const writer = await storage.createWriter();
    const parts = [Buffer.from('DICM'), Buffer.alloc(3 * 1024 * 1024, 7), Buffer.from('end')];
    for (const part of parts) await writer.write(part);
    const stored = await writer.commit();
    const all = Buffer.concat(parts);
    expect(stored.size).toBe(all.length);
    expect(stored.sha256).toBe(createHash('sha256').update(all).digest('hex'));
    expect(stored.key).toMatch(/^\d{4}\/\d{2}\/\d{2}\/[0-9a-f]{32}\.dcm$/);
    expect((await storage.readAll(stored.key)).equals(all)).toBe(true);
    await storage.sync([stored.key]);
  });

  it('stores objects of every size byte-exact, whether written while arriving, gathered, or in the thread pool', async () => {
    const { storage, root } = await newStorage();
    const tmp = path.join(root, 'tmp');
    // Network-sized pieces: a small image, a CT image written while it arrives, and one large
    // enough to go on in the thread pool after its first megabyte.
    for (const size of [10_000, 512 * 1024 + 3, 3 * 1024 * 1024 + 5]) {
      const all = Buffer.alloc(size);
      for (let i = 0; i < size; i++) all[i] = (i * 7919 + size) & 0xff;
      const writer = await storage.createWriter();
      let inFile = false;
      for (let at = 0; at < size; at += 16_372) {
        await writer.write(all.subarray(at, Math.min(size, at + 16_372)));
        inFile ||= readdirSync(tmp).some((f) => statSync(path.join(tmp, f)).size > 0);
      }
      // Only the small object waits for its commit to reach the file.
      expect(inFile).toBe(size > 128 * 1024);
      const stored = await writer.commit();
      expect(stored.size).toBe(size);
      expect(stored.sha256).toBe(createHash('sha256').update(all).digest('hex'));
      expect((await storage.readAll(stored.key)).equals(all)).toBe(true);
    }
  });

  it('hides discarded and crashed writes, and recovers their leftovers', async () => {
    const { storage, root } = await newStorage();
    const tmp = path.join(root, 'tmp');
    const written = (): string[] => readdirSync(tmp).filter((f) => statSync(path.join(tmp, f)).size > 0);
    const discarded = await storage.createWriter();
    await discarded.write(Buffer.alloc(2 * 1024 * 1024));
    await discarded.discard();
    expect(written()).toEqual([]);
    const crashed = await storage.createWriter();
    await crashed.write(Buffer.alloc(2 * 1024 * 1024)); // flushed to tmp, never committed
    expect(written()).toHaveLength(1);
    // A restart finds the crashed object and the spare temporary files, and removes them all.
    const afterRestart = new FilesystemStorage(root);
    await afterRestart.init();
    const leftovers = readdirSync(tmp).length;
    expect(leftovers).toBeGreaterThan(1);
    expect((await afterRestart.recover()).removedPartialObjects).toBe(leftovers);
    expect(readdirSync(tmp)).toEqual([]);
    expect(readdirSync(path.join(root, 'objects'))).toEqual([]);
  });

  it('keeps spare temporary files open ahead of need, and removes them on close', async () => {
    const { storage, root } = await newStorage();
    const first = await storage.createWriter();
    await first.write(Buffer.from('x'));
    await first.commit();
    await new Promise((r) => setTimeout(r, 100)); // the spares open in the background
    expect(readdirSync(path.join(root, 'tmp')).length).toBeGreaterThan(0);
    const many = await Promise.all(Array.from({ length: 20 }, () => storage.createWriter()));
    const stored = await Promise.all(many.map(async (w, i) => {
      await w.write(Buffer.from(`object ${i}`));
      return w.commit();
    }));
    expect(new Set(stored.map((s) => s.key)).size).toBe(20);
    for (const [i, s] of stored.entries()) expect((await storage.readAll(s.key)).toString()).toBe(`object ${i}`);
    await storage.close();
    expect(readdirSync(path.join(root, 'tmp'))).toEqual([]);
  });

  it('refuses keys it did not make', async () => {
    const { storage } = await newStorage();
    expect(() => storage.read('../../etc/passwd')).toThrow(/invalid storage key/);
    await expect(storage.readAll('2024/01/01/../../x.dcm')).rejects.toThrow(/invalid storage key/);
  });
});
