import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync } from 'node:fs';
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

  it('hides discarded and crashed writes, and recovers their leftovers', async () => {
    const { storage, root } = await newStorage();
    const discarded = await storage.createWriter();
    await discarded.write(Buffer.alloc(2 * 1024 * 1024));
    await discarded.discard();
    expect(readdirSync(path.join(root, 'tmp'))).toEqual([]);
    const crashed = await storage.createWriter();
    await crashed.write(Buffer.alloc(2 * 1024 * 1024)); // flushed to tmp, never committed
    expect(readdirSync(path.join(root, 'tmp'))).toHaveLength(1);
    expect(await storage.recover()).toEqual({ removedPartialObjects: 1 });
    expect(readdirSync(path.join(root, 'objects'))).toEqual([]);
  });

  it('refuses keys it did not make', async () => {
    const { storage } = await newStorage();
    expect(() => storage.read('../../etc/passwd')).toThrow(/invalid storage key/);
    await expect(storage.readAll('2024/01/01/../../x.dcm')).rejects.toThrow(/invalid storage key/);
  });
});
