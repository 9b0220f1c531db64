// The pending ledger: the keys of every object file created whose object the index may not hold
// yet. Objects are created under their final key (see filesystem.ts), so after a crash the ledger
// is what tells start-up which files to check: an empty, half-written or never-indexed file is
// removed; nothing else in the store is ever looked at.
//
// A key is written to the ledger before its file is created; its label (what the index will
// hold it under) once the object is complete; and it is released once the index (or its journal)
// holds the object, or the file is gone. A key without a label was never complete, so start-up
// removes its file without reading it. The ledger is made of segments; a full segment is deleted
// when every key in it has been released. Each process writes its own segments.
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';

/** Keys per segment: a segment is deleted once all of its keys are released. */
const SEGMENT_KEYS = 1024;
const SEGMENT_PATTERN = /^[0-9a-f]{8}-\d{8}\.keys$/;

interface Segment {
  name: string;
  /** Undefined once closed. */
  fd: number | undefined;
  keys: number;
  outstanding: number;
}

export class PendingLedger {
  /** Distinguishes this process's segments from those of another process on the same data directory. */
  private readonly writer = randomBytes(4).toString('hex');
  private readonly segments = new Map<string, Segment>();
  private readonly segmentOf = new Map<string, Segment>();
  private current: Segment | undefined;
  private next = 0;
  private closed = false;

  constructor(private readonly dir: string) {}

  /** Records keys whose files are about to be created. */
  recordSync(keys: readonly string[]): void {
    const segment = this.segmentFor(keys);
    writeSync(segment.fd!, lines(keys));
  }

  /** The object under this key is complete: start-up after a crash asks the index about `label`. */
  label(key: string, label: string): void {
    const fd = this.segmentOf.get(key)?.fd;
    if (fd !== undefined) writeSync(fd, `${key} ${label}\n`);
  }

  /** The index holds the object under this key now, or its file is gone: a crash need not check it. */
  release(key: string): void {
    const segment = this.segmentOf.get(key);
    if (!segment) return;
    this.segmentOf.delete(key);
    segment.outstanding--;
    if (segment.outstanding === 0 && (segment !== this.current || this.closed)) this.remove(segment);
  }

  /** Keys still outstanding in this process. */
  get outstanding(): number {
    return this.segmentOf.size;
  }

  /**
   * Every key in the segments on disk, whichever process wrote them, with its label if it has
   * one: what a crash may have left.
   */
  listed(): Map<string, string | undefined> {
    const keys = new Map<string, string | undefined>();
    for (const name of this.segmentNames()) {
      for (const line of readFileSync(path.join(this.dir, name), 'utf8').split('\n')) {
        if (!line) continue;
        const space = line.indexOf(' ');
        if (space < 0) {
          if (!keys.has(line)) keys.set(line, undefined);
        } else {
          keys.set(line.slice(0, space), line.slice(space + 1));
        }
      }
    }
    return keys;
  }

  /** Deletes the segments that listed() read; call once what they listed has been dealt with. */
  forgetListed(): void {
    for (const name of this.segmentNames()) {
      if (!this.segments.has(name)) rmSync(path.join(this.dir, name), { force: true });
    }
  }

  /**
   * Closes this process's segments: those with nothing outstanding are deleted, the others once
   * their last key is released (an object still being written or discarded at close), or at the next start.
   */
  close(): void {
    this.closed = true;
    for (const segment of [...this.segments.values()]) {
      if (segment.outstanding === 0) {
        this.remove(segment);
      } else if (segment.fd !== undefined) {
        closeSync(segment.fd);
        segment.fd = undefined;
      }
    }
  }

  private segmentFor(keys: readonly string[]): Segment {
    if (this.closed) throw new Error('the pending ledger is closed');
    if (!this.current || this.current.keys >= SEGMENT_KEYS) this.current = this.open();
    const segment = this.current;
    segment.keys += keys.length;
    segment.outstanding += keys.length;
    for (const key of keys) this.segmentOf.set(key, segment);
    return segment;
  }

  private open(): Segment {
    const previous = this.current;
    mkdirSync(this.dir, { recursive: true });
    const name = `${this.writer}-${(this.next++).toString().padStart(8, '0')}.keys`;
    const segment: Segment = { name, fd: openSync(path.join(this.dir, name), 'a'), keys: 0, outstanding: 0 };
    this.segments.set(name, segment);
    if (previous && previous.outstanding === 0) this.remove(previous);
    return segment;
  }

  private remove(segment: Segment): void {
    this.segments.delete(segment.name);
    if (segment.fd !== undefined) closeSync(segment.fd);
    segment.fd = undefined;
    rmSync(path.join(this.dir, segment.name), { force: true });
  }

  private segmentNames(): string[] {
    try {
      return readdirSync(this.dir).filter((name) => SEGMENT_PATTERN.test(name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }
}

function lines(keys: readonly string[]): string {
  return keys.length === 1 ? `${keys[0]}\n` : `${keys.join('\n')}\n`;
}
