// Filesystem storage: objects/YYYY/MM/DD/<random id>.dcm under the data directory.
// The path carries no patient data (only the receive date and a random id), so renaming a
// patient never moves files, and a directory listing reveals nothing.
import { createHash, randomUUID } from 'node:crypto';
import { closeSync, createReadStream, mkdirSync, openSync, renameSync, writevSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { type ObjectStorage, type ObjectWriter, StorageError, type StoredObject } from './storage.js';

const KEY_PATTERN = /^\d{4}\/\d{2}\/\d{2}\/[0-9a-f]{32}\.dcm$/;
/** Small writes are gathered up to this size before a write() system call. */
const FLUSH_THRESHOLD = 1024 * 1024;

export class FilesystemStorage implements ObjectStorage {
  readonly description: string;
  private readonly objectsDir: string;
  private readonly tmpDir: string;
  private readonly knownDirs = new Set<string>();

  constructor(root: string) {
    this.objectsDir = path.join(root, 'objects');
    this.tmpDir = path.join(root, 'tmp');
    this.description = `file:${this.objectsDir}`;
  }

  async init(): Promise<void> {
    await mkdir(this.objectsDir, { recursive: true });
    await mkdir(this.tmpDir, { recursive: true });
  }

  async createWriter(): Promise<ObjectWriter> {
    const id = randomUUID().replaceAll('-', '');
    return new FileObjectWriter(this, path.join(this.tmpDir, `${id}.part`), id);
  }

  /** Path of a key; refuses anything that is not a key this storage made (no traversal). */
  pathOf(key: string): string {
    if (!KEY_PATTERN.test(key)) throw new StorageError(`invalid storage key "${key}"`);
    return path.join(this.objectsDir, key);
  }

  async ensureDir(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    await mkdir(dir, { recursive: true });
    this.knownDirs.add(dir);
  }

  read(key: string, range?: { start: number; end: number }): Readable {
    return createReadStream(this.pathOf(key), range ? { start: range.start, end: range.end } : {});
  }

  async readAll(key: string): Promise<Buffer> {
    return readFile(this.pathOf(key));
  }

  async size(key: string): Promise<number> {
    return (await stat(this.pathOf(key))).size;
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async sync(keys: readonly string[]): Promise<void> {
    const dirs = new Set<string>();
    await Promise.all(keys.map(async (key) => {
      const file = this.pathOf(key);
      dirs.add(path.dirname(file));
      await fsyncPath(file);
    }));
    // The directory entry must be durable too, or a power cut can lose the rename.
    await Promise.all([...dirs].map(fsyncPath));
  }

  async recover(): Promise<{ removedPartialObjects: number }> {
    const names = await readdir(this.tmpDir);
    await Promise.all(names.map((name) => rm(path.join(this.tmpDir, name), { force: true })));
    return { removedPartialObjects: names.length };
  }

  newKey(id: string, now = new Date()): string {
    const y = now.getUTCFullYear().toString();
    const m = (now.getUTCMonth() + 1).toString().padStart(2, '0');
    const d = now.getUTCDate().toString().padStart(2, '0');
    return `${y}/${m}/${d}/${id}.dcm`;
  }
}

async function fsyncPath(p: string): Promise<void> {
  const handle = await open(p, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

class FileObjectWriter implements ObjectWriter {
  bytesWritten = 0;
  private readonly hash = createHash('sha256');
  private handle: FileHandle | undefined;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private done = false;

  constructor(
    private readonly storage: FilesystemStorage,
    private readonly tmpPath: string,
    private readonly id: string,
  ) {}

  write(chunk: Uint8Array): void | Promise<void> {
    if (this.done) throw new StorageError('write after commit or discard');
    this.hash.update(chunk);
    this.bytesWritten += chunk.length;
    // Kept by reference until flushed (see ObjectWriter.write): copying every network piece
    // of a CT image costs more than hashing it.
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= FLUSH_THRESHOLD) return this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    this.handle ??= await open(this.tmpPath, 'wx');
    const buffers = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    await this.handle.writev(buffers);
  }

  async commit(): Promise<StoredObject> {
    if (this.done) throw new StorageError('commit after commit or discard');
    if (this.handle === undefined) return this.commitSmall();
    try {
      await this.flush();
      this.handle ??= await open(this.tmpPath, 'wx');
      await this.handle.close();
      this.handle = undefined;
      const key = this.storage.newKey(this.id);
      const finalPath = this.storage.pathOf(key);
      await this.storage.ensureDir(path.dirname(finalPath));
      await rename(this.tmpPath, finalPath).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
        // The day's directory vanished under us (removed by hand): make it again, once.
        await mkdir(path.dirname(finalPath), { recursive: true });
        await rename(this.tmpPath, finalPath);
      });
      this.done = true;
      return { key, size: this.bytesWritten, sha256: this.hash.digest('hex') };
    } catch (err) {
      await this.discard();
      throw err;
    }
  }

  /**
   * An object that never reached the flush threshold is written with synchronous calls: for the
   * many small objects of a study, four thread-pool round trips (open, write, close, rename) cost
   * more than the writes themselves, which only reach the page cache.
   */
  private commitSmall(): StoredObject {
    try {
      const fd = openSync(this.tmpPath, 'wx');
      try {
        const written = writevSync(fd, this.pending);
        if (written !== this.bytesWritten) throw new StorageError(`short write: ${written} of ${this.bytesWritten} bytes (disk full?)`);
      } finally {
        closeSync(fd);
      }
      this.pending = [];
      const key = this.storage.newKey(this.id);
      const finalPath = this.storage.pathOf(key);
      try {
        renameSync(this.tmpPath, finalPath);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        mkdirSync(path.dirname(finalPath), { recursive: true }); // first object of the day, or the directory was removed
        renameSync(this.tmpPath, finalPath);
      }
      this.done = true;
      return { key, size: this.bytesWritten, sha256: this.hash.digest('hex') };
    } catch (err) {
      this.done = true;
      this.pending = [];
      void rm(this.tmpPath, { force: true });
      throw err;
    }
  }

  async discard(): Promise<void> {
    this.done = true;
    this.pending = [];
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close().catch(() => undefined);
    await rm(this.tmpPath, { force: true });
  }
}
