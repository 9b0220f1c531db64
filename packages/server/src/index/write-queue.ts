// The index's write queue: instances wait here and are committed in batches, one transaction
// for all that arrived meanwhile (group commit), so that the cost of a commit is shared.
//
// With a journal, an instance can be acknowledged before its transaction: enqueue() first
// appends a line to the journal (write(2), no fsync, as SQLite's synchronous=NORMAL commit), so a
// crash of the Loire process loses nothing enqueued; at the next start every journalled instance
// is indexed again (indexing the same object twice is a no-op). Reads never see the queue: the
// index awaits settled() before every query, so an acknowledged instance is found at once.
//
// A line names the stored object, not its metadata: the object is already written (and outlives
// the process as the line does), and the replay reads it back. Converting the attributes to
// DICOM JSON, computing the columns and encoding the metadata then happen after the answer, while
// the sender prepares its next object, instead of before it (measured: ~8% more small
// instances/s on one association when the encoding moved).
//
// Journal files are segments (NNNNNNNNNN.ndjson): the active one takes new lines and is emptied
// once a batch has committed everything it holds; a full one is closed and replaced, and deleted
// once its last line is committed. New lines arrive while a batch commits (on PostgreSQL), and a
// segment per batch would create and delete a file for every few instances.
import { closeSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { isDatabaseTrouble } from './database-trouble.js';
import type { DicomJson } from './dicom-json.js';
import { IndexInputError } from './instance-fields.js';
import { prepare, type IndexRequest, type IndexResult, type PreparedRequest } from './store.js';
import { waitAtMost } from '../wait.js';

export interface IndexWriteQueueOptions {
  /** Indexes prepared requests in one transaction. */
  commit(prepared: readonly PreparedRequest[]): Promise<IndexResult[]>;
  /** A trivial query: tells a database that is down from a request it cannot take. */
  probe(): Promise<void>;
  logger?: Logger | undefined;
  /** Directory of the journal; without one, nothing may be acknowledged before its commit. */
  journalDir?: string | undefined;
  /** Instances per transaction. */
  batchSize?: number;
  /** How long an instance whose caller waits for its commit may wait for others to share its transaction. */
  batchDelayMs?: number;
  /**
   * The same for journalled instances: they are acknowledged already and nobody waits for their
   * commit (reads make it happen at once), so they gather longer, and a larger transaction costs
   * less per instance.
   */
  journaledDelayMs?: number;
  /** Instances waiting beyond this make enqueue() ask the caller to wait (back-pressure). */
  maxQueue?: number;
  /** Lines per journal segment: what a restart after a crash may index again, at most, beyond what was not committed. */
  segmentLines?: number;
  /** How long close() waits for what is queued to commit before it leaves the rest to the journal. */
  closeTimeoutMs?: number;
}

/** What enqueue() answers. */
export interface QueuedInstance {
  /** Settles once the instance is committed to the index, or could not be. */
  indexed: Promise<IndexResult>;
  /** A promise only when the queue is full: await it before accepting more work. */
  room: void | Promise<void>;
}

/**
 * What an instance still queued when the index closes is rejected with. A journalled one stays
 * in the journal, and the next start indexes it.
 */
export class IndexClosedError extends Error {
  override name = 'IndexClosedError';

  constructor() {
    super('the index closed before this instance was committed');
  }
}

/** A journal line that was indexed when the journal was replayed at start-up. */
export interface ReplayedInstance {
  request: IndexRequest;
  sopInstanceUid: string;
  result: IndexResult;
}

/**
 * Reads a journalled object back from storage: its DICOM JSON as ingest made it, or undefined
 * when the object is gone or no longer readable DICOM (nothing to index). Any other failure
 * (storage unreachable) throws: start-up then stops with the journal kept.
 */
export type StoredMetadataReader = (storage: Pick<IndexRequest['storage'], 'key' | 'size'>) => Promise<DicomJson | undefined>;

/**
 * Reads a journalled object back from storage whole and returns its SHA-256, or undefined when the
 * object is gone. Any other failure throws, as for StoredMetadataReader.
 */
export type StoredObjectHasher = (storage: Pick<IndexRequest['storage'], 'key' | 'size'>) => Promise<string | undefined>;

/**
 * A journal line: the request without its DICOM JSON (lines written by earlier versions hold it
 * too), and without the SHA-256 of an object that was to be hashed once its caller was answered.
 */
type JournalLine = Omit<IndexRequest, 'json' | 'storage'> & {
  json?: DicomJson;
  storage: Omit<IndexRequest['storage'], 'sha256'> & { sha256?: string };
};

interface Entry {
  seq: number;
  /** Until prepared: a journalled request is checked and turned into columns after its caller is answered. */
  request: IndexRequest | undefined;
  prepared: PreparedRequest | undefined;
  resolve(result: IndexResult): void;
  reject(error: Error): void;
}

/** An entry whose request is checked and turned into columns: what a batch commits. */
type PreparedEntry = Entry & { prepared: PreparedRequest };

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 30_000;
const CLOSE_TIMEOUT_MS = 30_000;
const SEGMENT_PATTERN = /^(\d{10})\.ndjson$/;

export class IndexWriteQueue {
  private readonly queue: Entry[] = [];
  private readonly settledWaiters: { seq: number; resolve(): void }[] = [];
  private readonly roomWaiters: (() => void)[] = [];
  private readonly batchSize: number;
  private readonly batchDelayMs: number;
  private readonly journaledDelayMs: number;
  private readonly maxQueue: number;
  private readonly segmentLines: number;
  private lastSeq = 0;
  /** Every entry up to this one is committed or given up. */
  private doneThrough = 0;
  private timer: NodeJS.Timeout | undefined;
  /** When the timer fires (performance.now() time). */
  private timerDue = 0;
  private writing = false;
  private retryMs = 0;
  private closed = false;
  /** The segment taking lines, and the entry its last line is of. */
  private active: { fd: number; number: number; lines: number; lastSeq: number } | undefined;
  /** Full segments, deleted once the entry of their last line is committed. */
  private readonly closedSegments: { file: string; lastSeq: number }[] = [];
  /** Journalled entries still to be prepared, once their callers are answered. */
  private unprepared: Entry[] = [];

  constructor(private readonly options: IndexWriteQueueOptions) {
    this.batchSize = options.batchSize ?? 500;
    this.batchDelayMs = options.batchDelayMs ?? 5;
    // Measured with 10,000 small instances on one association (SQLite): the receiving thread's
    // commits cost ~105 µs per instance in batches of ~9 (5 ms), ~78 µs in ~44 (25 ms), ~64 µs
    // in ~170 (100 ms). A batch reaching batchSize is committed at once anyway.
    this.journaledDelayMs = options.journaledDelayMs ?? 50;
    this.maxQueue = options.maxQueue ?? 5_000;
    this.segmentLines = options.segmentLines ?? 1024;
  }

  /** True when enqueue() can journal, so that its caller may acknowledge before the commit. */
  get journaled(): boolean {
    return this.options.journalDir !== undefined;
  }

  get pending(): number {
    return this.queue.length;
  }

  /**
   * Checks and queues a request; throws IndexInputError when it cannot be indexed. With
   * `journal`, the request is in the journal when this returns, and is checked only after the
   * caller had a turn to answer (see prepareSoon): `indexed` then rejects with IndexInputError
   * when it cannot be indexed.
   */
  enqueue(request: IndexRequest, options: { journal?: boolean } = {}): QueuedInstance {
    if (this.closed) throw new Error('the index is closed: the instance could not be indexed');
    const prepared = options.journal ? undefined : prepare(request);
    const seq = this.lastSeq + 1;
    if (options.journal) this.appendToJournal(request, seq);
    this.lastSeq = seq;
    let entry!: Entry;
    const indexed = new Promise<IndexResult>((resolve, reject) => {
      entry = { seq, request: prepared ? undefined : request, prepared, resolve, reject };
    });
    if (options.journal) this.prepareSoon(entry);
    this.queue.push(entry);
    this.schedule(this.queue.length >= this.batchSize ? 0 : options.journal ? this.journaledDelayMs : this.batchDelayMs);
    const room = this.queue.length >= this.maxQueue ? new Promise<void>((resolve) => this.roomWaiters.push(resolve)) : undefined;
    return { indexed, room };
  }

  /** Resolves once everything enqueued so far is committed; undefined when nothing is waiting. */
  settled(): Promise<void> | undefined {
    if (this.doneThrough === this.lastSeq || this.closed) return undefined;
    const seq = this.lastSeq;
    const done = new Promise<void>((resolve) => this.settledWaiters.push({ seq, resolve }));
    this.schedule(0);
    return done;
  }

  /** Commits what is queued; what cannot be committed in time stays in the journal for the next start. */
  async close(): Promise<void> {
    if (this.closed) return;
    await waitAtMost(this.settled(), this.options.closeTimeoutMs ?? CLOSE_TIMEOUT_MS);
    this.closed = true;
    clearTimeout(this.timer);
    const left = this.queue.splice(0);
    for (const entry of left) entry.reject(new IndexClosedError());
    if (left.length > 0) {
      this.options.logger?.error({ pending: left.length, journal: this.options.journalDir }, 'instances not yet in the index at shutdown: the journal keeps them and they are indexed at the next start');
    }
    const active = this.active;
    this.active = undefined;
    if (active) {
      closeSync(active.fd);
      if (left.length === 0) this.removeSegments(this.segmentFiles());
    }
  }

  /**
   * Indexes what a previous run journalled but may not have committed, then empties the journal.
   * Each line's object is read back from storage with `read`, and hashed with `hash` where the
   * line has no SHA-256. Call once, before the first enqueue().
   */
  async replayJournal(read: StoredMetadataReader, hash: StoredObjectHasher): Promise<ReplayedInstance[]> {
    const dir = this.options.journalDir;
    if (!dir) return [];
    mkdirSync(dir, { recursive: true });
    const files = this.segmentFiles();
    const lines: { line: JournalLine; file: string; number: number }[] = [];
    for (const file of files) {
      const text = readFileSync(file, 'utf8').split('\n');
      text.forEach((line, i) => {
        if (!line) return;
        let parsed: JournalLine | undefined;
        try {
          parsed = JSON.parse(line) as JournalLine;
        } catch {
          // Only a last line can be torn (the crash cut its write): its instance was never acknowledged.
        }
        if (typeof parsed?.storage?.key === 'string') lines.push({ line: parsed, file, number: i + 1 });
        else if (i < text.length - 2) this.options.logger?.error({ journal: file, line: i + 1 }, 'unreadable line in the index journal: skipped');
      });
    }
    const replayed: ReplayedInstance[] = [];
    // Read back a batch at a time: a journal that grew while the database was down stays out of memory.
    for (let i = 0; i < lines.length; i += this.batchSize) {
      const chunk: { request: IndexRequest; prepared: PreparedRequest }[] = [];
      for (const { line, file, number } of lines.slice(i, i + this.batchSize)) {
        const where = { journal: file, line: number, storageKey: line.storage.key };
        const json = line.json ?? await read(line.storage);
        const sha256 = line.storage.sha256 ?? (json === undefined ? undefined : await hash(line.storage));
        if (json === undefined || sha256 === undefined) {
          this.options.logger?.error(where, 'the object of an index journal line is gone or unreadable: skipped');
          continue;
        }
        try {
          const request: IndexRequest = { ...line, storage: { ...line.storage, sha256 }, json };
          chunk.push({ request, prepared: prepare(request) });
        } catch (err) {
          if (!(err instanceof IndexInputError)) throw err;
          this.options.logger?.error({ ...where, reason: err.message }, 'index journal line cannot be indexed: skipped');
        }
      }
      if (chunk.length === 0) continue;
      const results = await this.options.commit(chunk.map((item) => item.prepared));
      chunk.forEach(({ request, prepared }, k) => replayed.push({ request, sopInstanceUid: prepared.fields.sopInstanceUid, result: results[k]! }));
    }
    if (replayed.length > 0) this.options.logger?.warn({ instances: replayed.length }, 'indexed again the instances an interrupted run had acknowledged from its index journal');
    this.removeSegments(files);
    const last = files.map((f) => Number(SEGMENT_PATTERN.exec(path.basename(f))![1])).reduce((a, b) => Math.max(a, b), 0);
    this.openSegment(last + 1);
    return replayed;
  }

  private segmentFiles(): string[] {
    const dir = this.options.journalDir!;
    return readdirSync(dir).filter((name) => SEGMENT_PATTERN.test(name)).sort().map((name) => path.join(dir, name));
  }

  private removeSegments(files: readonly string[]): void {
    for (const file of files) rmSync(file, { force: true });
  }

  private segmentFile(number: number): string {
    return path.join(this.options.journalDir!, `${number.toString().padStart(10, '0')}.ndjson`);
  }

  private openSegment(number: number): void {
    this.active = { fd: openSync(this.segmentFile(number), 'a'), number, lines: 0, lastSeq: 0 };
  }

  /** A journal line is the request without its DICOM JSON, which the replay reads back from the stored object. */
  private appendToJournal(request: IndexRequest, seq: number): void {
    if (!this.active) throw new Error('the index journal is not open: replayJournal() must run first');
    // Rotated before the line is written, the next segment opened first: if that fails, this
    // entry fails with nothing of it journalled.
    if (this.active.lines >= this.segmentLines) {
      const full = this.active;
      this.openSegment(full.number + 1);
      closeSync(full.fd);
      this.closedSegments.push({ file: this.segmentFile(full.number), lastSeq: full.lastSeq });
    }
    const active = this.active;
    const { storage, receivedFrom, duplicatePolicy } = request;
    const from = receivedFrom === undefined ? '' : `"receivedFrom":${JSON.stringify(receivedFrom)},`;
    writeSync(active.fd, `{"storage":${JSON.stringify(storage)},${from}"duplicatePolicy":${JSON.stringify(duplicatePolicy)}}\n`);
    active.lines++;
    active.lastSeq = seq;
  }

  /**
   * Prepares a journalled entry right after its caller is answered (setImmediate runs after the
   * answer's write), not before: its DICOM JSON, columns and metadata document are made while the
   * sender prepares its next object, instead of while it waits (measured with 10,000 small
   * instances). The JSON, many times larger than what is kept, is then let go before it outlives
   * a garbage collection or two. An entry committed before this runs is prepared by its batch.
   */
  private prepareSoon(entry: Entry): void {
    if (this.unprepared.push(entry) > 1) return;
    setImmediate(() => {
      const entries = this.unprepared;
      this.unprepared = [];
      for (const item of entries) {
        try {
          this.prepared(item).encodeMetadata();
        } catch {
          // The batch prepares it again, and answers what fails there.
        }
      }
    });
  }

  /** The entry prepared (now, if it was not yet); throws when it cannot be indexed. */
  private prepared(entry: Entry): PreparedRequest {
    if (entry.prepared === undefined) {
      entry.prepared = prepare(entry.request!);
      entry.request = undefined;
    }
    return entry.prepared;
  }

  /**
   * The entries of a batch that can be indexed. One that cannot (which ingest prevents, by
   * checking the identifying UIDs before it answers) is answered with why, after the batch.
   */
  private preparedEntries(batch: readonly Entry[], answers: (() => void)[]): PreparedEntry[] {
    const ready: PreparedEntry[] = [];
    for (const entry of batch) {
      try {
        this.prepared(entry);
        ready.push(entry as PreparedEntry);
      } catch (err) {
        answers.push(() => entry.reject(err as Error));
      }
    }
    return ready;
  }

  private schedule(delayMs: number): void {
    if (this.writing || this.closed) return;
    const wait = this.retryMs || delayMs;
    const due = performance.now() + wait;
    // A timer already set fires soon enough: the batch it starts takes this entry too.
    if (this.timer && this.timerDue <= due) return;
    clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => { this.timer = undefined; void this.write(); }, wait);
  }

  private async write(): Promise<void> {
    this.writing = true;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0);
      const answers: (() => void)[] = [];
      const left = await this.commitAll(this.preparedEntries(batch, answers), answers);
      if (left.length > 0) {
        for (const answer of answers) answer();
        this.queue.unshift(...left);
        this.retryMs = Math.min(RETRY_MAX_MS, Math.max(RETRY_MIN_MS, this.retryMs * 2));
        this.writing = false;
        this.schedule(this.batchDelayMs);
        return;
      }
      this.retryMs = 0;
      this.doneThrough = batch[batch.length - 1]!.seq;
      this.forgetJournalled();
      // Answered once the journal no longer holds them: a caller then sees a settled journal too.
      for (const answer of answers) answer();
      while (this.settledWaiters.length > 0 && this.settledWaiters[0]!.seq <= this.doneThrough) this.settledWaiters.shift()!.resolve();
      while (this.roomWaiters.length > 0 && this.queue.length < this.maxQueue) this.roomWaiters.shift()!();
    }
    this.writing = false;
  }

  /** After a batch committed: drops the segments whose lines are all committed. */
  private forgetJournalled(): void {
    while (this.closedSegments.length > 0 && this.closedSegments[0]!.lastSeq <= this.doneThrough) {
      rmSync(this.closedSegments.shift()!.file, { force: true });
    }
    // Lines that arrived while the batch was committing keep the segment for a later batch.
    const active = this.active;
    if (active && active.lines > 0 && active.lastSeq <= this.doneThrough) {
      ftruncateSync(active.fd, 0);
      active.lines = 0;
    }
  }

  /**
   * Commits a batch in transactions of batchSize. Returns the entries that must wait for a later
   * attempt: the database is down, or in trouble (a full disk, an I/O error: see
   * database-trouble.ts). An entry the database refuses on its own for any other reason, while
   * it takes the others, is given up, so that one bad instance never holds back the rest.
   */
  private async commitAll(batch: PreparedEntry[], answers: (() => void)[]): Promise<PreparedEntry[]> {
    for (let i = 0; i < batch.length; i += this.batchSize) {
      const chunk = batch.slice(i, i + this.batchSize);
      try {
        const results = await this.options.commit(chunk.map((e) => e.prepared));
        chunk.forEach((entry, k) => answers.push(() => entry.resolve(results[k]!)));
        continue;
      } catch (err) {
        if (isDatabaseTrouble(err) || !(await this.databaseAnswers())) {
          this.logFailure(err, batch.length - i);
          return batch.slice(i);
        }
      }
      for (let k = 0; k < chunk.length; k++) {
        const entry = chunk[k]!;
        try {
          const [result] = await this.options.commit([entry.prepared]);
          answers.push(() => entry.resolve(result!));
        } catch (err) {
          if (isDatabaseTrouble(err) || !(await this.databaseAnswers())) {
            this.logFailure(err, batch.length - i - k);
            return batch.slice(i + k);
          }
          const { storage, fields } = entry.prepared;
          this.options.logger?.error({ err, storageKey: storage.key, sopInstanceUid: fields.sopInstanceUid }, 'the index refused this instance');
          answers.push(() => entry.reject(err as Error));
        }
      }
    }
    return [];
  }

  private async databaseAnswers(): Promise<boolean> {
    try {
      await this.options.probe();
      return true;
    } catch {
      return false;
    }
  }

  private logFailure(err: unknown, pending: number): void {
    const retryInMs = Math.min(RETRY_MAX_MS, Math.max(RETRY_MIN_MS, this.retryMs * 2));
    this.options.logger?.error({ err, pending, retryInMs }, 'cannot write to the index database (its disk full? the server down?); the instances stay queued (and journalled) and are retried');
  }
}
