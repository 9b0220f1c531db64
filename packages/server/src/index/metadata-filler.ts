// Instance metadata documents made after ingest. Converting a whole header to DICOM JSON, writing
// its text and compressing it was about a third of the receiving thread's work per small
// instance (docs/benchmarks.md), so ingest indexes only the attributes the index columns need
// and leaves an empty document (METADATA_TO_MAKE). The document is then made here from the
// stored object: once the index has been quiet for a moment, at the latest a while after the
// first instance left waiting, and before any read of documents (see QueryContext), so that no
// reader ever sees one missing. Pending instances live in the database (a partial index), not in
// memory: a crash, a restart or another process's ingest leaves nothing behind.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { sql, type RawBuilder } from 'kysely';
import type { Logger } from 'pino';
import { identifiersJson, withoutBulkData } from './dicom-json.js';
import { encodeMetadata } from './metadata-codec.js';
import type { IndexConnection } from './database.js';
import { run, type SqlProgram } from './transaction-runner.js';
import type { StoredMetadataReader } from './write-queue.js';

export interface MetadataFillerOptions {
  /** Quiet time after the last commit before documents are made. */
  idleMs?: number;
  /** Longest wait of a pending document under continuous ingest. */
  maxDelayMs?: number;
  /** Instances per transaction. */
  batchSize?: number;
  /** First wait after a failed round; it doubles at each failure, up to a minute. */
  retryMinMs?: number;
}

interface PendingRow {
  pk: number;
  storage_key: string;
  size: number;
  sop_instance_uid: string;
  sop_class_uid: string;
  series_instance_uid: string;
  study_instance_uid: string;
}

// The storage key guards against an instance replaced meanwhile: its new object has its own document to make.
const FILL = 'UPDATE instance SET metadata = ? WHERE pk = ? AND storage_key = ? AND length(metadata) = 0';

const RETRY_MAX_MS = 60_000;

export class MetadataFiller {
  private readonly idleMs: number;
  private readonly maxDelayMs: number;
  private readonly batchSize: number;
  private readonly retryMinMs: number;
  private idleTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  /** Set while waiting to try again after a failed round. */
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = 0;
  /** Unscoped rounds run one after the other. */
  private tail: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly connection: Pick<IndexConnection, 'db' | 'runner'>,
    private readonly read: StoredMetadataReader,
    private readonly logger?: Logger,
    options: MetadataFillerOptions = {},
  ) {
    this.idleMs = options.idleMs ?? 200;
    this.maxDelayMs = options.maxDelayMs ?? 30_000;
    this.batchSize = options.batchSize ?? 32;
    this.retryMinMs = options.retryMinMs ?? 1_000;
  }

  /** Instances were committed, some perhaps without their document: make them once ingest pauses. */
  noteCommitted(): void {
    if (this.closed || this.retryTimer) return;
    if (this.idleTimer) this.idleTimer.refresh();
    else this.idleTimer = setTimeout(() => this.inBackground(), this.idleMs).unref();
    this.deadlineTimer ??= setTimeout(() => this.inBackground(), this.maxDelayMs).unref();
  }

  /**
   * Resolves once every document pending when it was called is made, or only those of `scope`
   * (a condition on instance `i`, series `se` and study `st`); rejects when storage cannot be read.
   * A scoped call does not wait for a background round: both may make a document, the first
   * update keeps it.
   */
  settled(scope?: RawBuilder<unknown>): Promise<void> {
    if (scope) return this.fillPending(scope);
    const round = this.tail.then(() => this.fillPending(undefined));
    this.tail = round.catch(() => undefined);
    return round;
  }

  /** Stops making documents (what is pending stays for the next start or reader) and waits for the round in progress. */
  async close(): Promise<void> {
    this.closed = true;
    this.clearTimers();
    await this.tail;
  }

  private inBackground(): void {
    this.clearTimers();
    this.settled().then(() => { this.retryMs = 0; }, (err: unknown) => {
      if (this.closed) return;
      // Storage unreadable or the database full: wait longer each time rather than fail every 200 ms.
      this.retryMs = Math.min(RETRY_MAX_MS, Math.max(this.retryMinMs, this.retryMs * 2));
      this.logger?.error({ err, retryInMs: this.retryMs },
        'instance metadata documents could not be made (storage unreadable? index database full?): retrying later; reads of those instances fail until then');
      clearTimeout(this.retryTimer); // two rounds started before the first failed: one wait
      this.retryTimer = setTimeout(() => this.inBackground(), this.retryMs).unref();
    });
  }

  private clearTimers(): void {
    clearTimeout(this.idleTimer);
    clearTimeout(this.deadlineTimer);
    clearTimeout(this.retryTimer);
    this.idleTimer = undefined;
    this.deadlineTimer = undefined;
    this.retryTimer = undefined;
  }

  private async fillPending(scope: RawBuilder<unknown> | undefined): Promise<void> {
    let made = 0;
    const started = Date.now();
    while (!this.closed) {
      const rows = await this.pending(scope);
      if (rows.length === 0) break;
      // One object at a time, with a turn of the event loop after each: a document costs ~0.3 ms
      // of this thread, and many made back to back (as their reads complete together) would hold
      // up the queries and C-STOREs that arrive meanwhile by tens of milliseconds.
      const documents: Buffer[] = [];
      for (const row of rows) {
        documents.push(await this.document(row));
        await nextTurn();
      }
      const filled = await this.connection.runner.transaction(function* (): SqlProgram<number> {
        let changed = 0;
        for (let i = 0; i < rows.length; i++) changed += yield* run(FILL, documents[i]!, rows[i]!.pk, rows[i]!.storage_key);
        return changed;
      });
      // Every row changed under us (replaced or deleted): the commits that did it call noteCommitted().
      if (filled === 0) break;
      made += filled;
      if (made % 10_000 < filled) this.logger?.info({ made }, 'making instance metadata documents');
    }
    if (made >= 10_000) this.logger?.info({ made, seconds: (Date.now() - started) / 1000 }, 'instance metadata documents made');
  }

  /** `length(i.metadata) = 0` is the partial index's own condition (0005-metadata-pending.ts), so that both databases use it. */
  private async pending(scope: RawBuilder<unknown> | undefined): Promise<PendingRow[]> {
    return (await sql<PendingRow>`SELECT i.pk, i.storage_key, i.size, i.sop_instance_uid, i.sop_class_uid,
        se.series_instance_uid, st.study_instance_uid
      FROM instance i JOIN series se ON se.pk = i.series_fk JOIN study st ON st.pk = se.study_fk
      WHERE length(i.metadata) = 0 ${scope ? sql`AND ${scope}` : sql``} ORDER BY i.pk LIMIT ${this.batchSize}`.execute(this.connection.db)).rows;
  }

  /** The document of a pending instance; for an object gone or unreadable, its identity alone (logged). */
  private async document(row: PendingRow): Promise<Buffer> {
    const json = await this.read({ key: row.storage_key, size: Number(row.size) });
    if (json !== undefined) return encodeMetadata(withoutBulkData(json));
    this.logger?.error({ sopInstanceUid: row.sop_instance_uid, storageKey: row.storage_key },
      'the stored object of an instance is gone or unreadable: its metadata holds only its identifiers; run `loire verify`');
    return encodeMetadata(identifiersJson({
      sopClassUid: row.sop_class_uid, sopInstanceUid: row.sop_instance_uid,
      studyInstanceUid: row.study_instance_uid, seriesInstanceUid: row.series_instance_uid,
    }));
  }
}
