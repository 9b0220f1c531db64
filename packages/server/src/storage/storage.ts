// The storage interface: where object bytes live. The filesystem is the first backend;
// S3-compatible stores and others implement the same interface later.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Tells whether the index holds, under `label`, the object stored at `key`. */
export type IndexedCheck = (key: string, label: string) => Promise<boolean>;

/** A new object being written. Nothing is visible under a key until commit() resolves. */
export interface ObjectWriter {
  /**
   * Appends bytes. Returns a promise only when it had to write to disk: the caller waits for
   * it before sending more (backpressure); otherwise the bytes are buffered and nothing waits.
   * The writer keeps a reference to `chunk` until it is written (and, with `hashAfterCommit`,
   * hashed): callers must not modify it.
   */
  write(chunk: Uint8Array): void | Promise<void>;
  /**
   * Completes the object under a fresh key and returns it with its size and SHA-256. `label` is
   * what the caller indexes it under (its SOP Instance UID). The object is pending until
   * ObjectStorage.claim(key): after a crash, recover() asks whether the index holds `label` at
   * this key, and removes it if not.
   */
  commit(label: string): Promise<StoredObject>;
  /** Throws away what was written. Safe to call more than once, and after a failed commit. */
  discard(): Promise<void>;
  readonly bytesWritten: number;
}

export interface StoredObject {
  key: string;
  size: number;
  /**
   * Lower-case hex SHA-256 of the stored bytes; a function that computes it on its first call
   * where the writer was asked to hash after the commit (see WriterOptions).
   */
  sha256: string | (() => string);
}

export interface WriterOptions {
  /**
   * Hash an object that stays small enough to be held (below 1 MiB) when its SHA-256 is first
   * asked for, after commit(), instead of as its bytes arrive: a C-STORE is then answered without
   * waiting for the hash (~0.4 ms for a 512x512 CT image), which is made while the sender
   * prepares its next object. A larger object is hashed as it arrives.
   */
  hashAfterCommit?: boolean;
}

/** Reads a stored object whole and returns its SHA-256 and size. */
export async function hashStoredObject(storage: ObjectStorage, key: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  await pipeline(storage.read(key), async function* (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) {
      size += chunk.length;
      hash.update(chunk);
    }
    yield* [];
  });
  return { sha256: hash.digest('hex'), size };
}

export interface ObjectStorage {
  /** Human-readable location for logs ("file:/var/lib/loire/objects"). */
  readonly description: string;
  createWriter(options?: WriterOptions): Promise<ObjectWriter>;
  /** Streams an object, or a byte range of it (end inclusive, like fs.createReadStream). */
  read(key: string, range?: { start: number; end: number }): Readable;
  readAll(key: string): Promise<Buffer>;
  /**
   * A byte range (end inclusive; shorter where the object ends first) read on the calling
   * thread, for a storage that can do so in a few microseconds (local files). Meant for the
   * first kilobytes of an object, its header: there, a round trip through the thread pool or
   * the network costs several times the read itself. Absent where reads must be asynchronous.
   */
  readRangeSync?(key: string, range: { start: number; end: number }): Buffer;
  size(key: string): Promise<number>;
  delete(key: string): Promise<void>;
  /** The index (or its journal) holds the object stored under this key now: it is no longer pending. */
  claim(key: string): void;
  /** Forces the objects to stable storage (storage commitment). */
  sync(keys: readonly string[]): Promise<void>;
  /**
   * Removes the pending objects an interrupted run left: those never committed (half-written,
   * abandoned) and those committed whose label `indexed` says the index does not hold at their
   * key. Called once at start-up, after the index journal is replayed.
   */
  recover(indexed: IndexedCheck): Promise<{ removedPartialObjects: number }>;
  /** Releases what the storage holds open (files, connections). */
  close(): Promise<void>;
}

export class StorageError extends Error {
  override name = 'StorageError';

  /** `code` as a system error would have it: ENOSPC for a write the file system cut short. */
  constructor(message: string, readonly code?: string) {
    super(message);
  }
}

/** What the log says when the index holds an object whose file storage no longer has. */
export const MISSING_OBJECT = 'the indexed object is missing from storage; run `loire verify` to list every such object';

/** Whether an error, or one it was caused by, says the storage has no room left. */
export function isStorageFull(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') return true;
  }
  return false;
}
