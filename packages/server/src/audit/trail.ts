// The audit trail: callers enqueue events, one writer commits them in batches (one transaction
// per batch, hash-chained) off the request path.
//
// Guarantee: record() returns only once the event is written (write(2), no fsync) to the crash
// journal in the data directory, so a record survives a crash of the Loire process: at the next
// start every journal line whose event is not in the database is appended. An OS crash or power
// loss may lose the events of the last moments, as it may lose the index's last transactions
// (SQLite synchronous=NORMAL). Nothing is ever dropped to keep up: when the queue is full,
// record() returns a promise that resolves once the writer has caught up (back-pressure), and a
// failing database keeps the events queued (and journalled) while the writer retries.
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { ArchiveIndex } from '../index/index.js';
import type { Logger } from '../logger.js';
import { EVENT_KINDS, EVENT_TYPES, type AuditEvent } from './event.js';
import { auditMessageXml, type AuditSource } from './message.js';
import { appendProgram, type PendingRow } from './store.js';
import { waitAtMost } from '../wait.js';

export interface AuditTrailOptions {
  index: ArchiveIndex;
  source: AuditSource;
  logger: Logger;
  /** Crash journal (NDJSON); none for an in-memory index. */
  journalPath?: string;
  /** False only for benchmarks: record() then does nothing. */
  enabled?: boolean;
  /** Events waiting beyond this make record() return a promise (back-pressure). */
  maxQueue?: number;
  /** Events per transaction. */
  batchSize?: number;
  /** How long an event may wait for others to share its transaction. */
  batchDelayMs?: number;
  /** Called after each committed batch with the last seq (the syslog forwarder listens). */
  onCommitted?: (lastSeq: number) => void;
}

const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 30_000;
const CLOSE_TIMEOUT_MS = 10_000;

export class AuditTrail {
  readonly enabled: boolean;
  private readonly queue: PendingRow[] = [];
  private readonly waiters: (() => void)[] = [];
  private readonly idle: (() => void)[] = [];
  /** Events still being put together (e.g. waiting for their study's patient). */
  private readonly preparing = new Set<Promise<void>>();
  private readonly maxQueue: number;
  private readonly batchSize: number;
  private readonly batchDelayMs: number;
  private journal: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private writing = false;
  private retryMs = 0;
  private closed = false;
  onCommitted: ((lastSeq: number) => void) | undefined;

  private constructor(private readonly options: AuditTrailOptions) {
    this.enabled = options.enabled ?? true;
    this.maxQueue = options.maxQueue ?? 10_000;
    this.batchSize = options.batchSize ?? 500;
    this.batchDelayMs = options.batchDelayMs ?? 100;
    this.onCommitted = options.onCommitted;
  }

  /** Opens the trail, first appending what a crashed run left in the journal. */
  static async open(options: AuditTrailOptions): Promise<AuditTrail> {
    const trail = new AuditTrail(options);
    if (trail.enabled && options.journalPath) {
      await trail.replayJournal(options.journalPath);
      trail.journal = openSync(options.journalPath, 'a');
    }
    return trail;
  }

  /**
   * Enqueues an event. Returns a promise only when the queue is full: callers that can wait
   * should await it; the event itself is queued either way.
   */
  record(event: AuditEvent): void | Promise<void> {
    if (!this.enabled) return;
    if (this.closed) throw new Error('audit trail is closed: the event could not be recorded');
    const row = this.toRow(event);
    if (this.journal !== undefined) writeSync(this.journal, `${JSON.stringify(row)}\n`);
    this.queue.push(row);
    this.schedule();
    if (this.queue.length >= this.maxQueue) return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * Records an event that needs a moment to put together (a database look-up) without making
   * the caller wait; flush() and close() wait for it.
   */
  recordWhenReady(event: Promise<AuditEvent>): void {
    if (!this.enabled) return;
    const recorded = event.then((e) => this.record(e)).catch((err: unknown) => {
      this.options.logger.error({ err }, 'could not record an audit event');
    });
    this.preparing.add(recorded);
    void recorded.finally(() => this.preparing.delete(recorded));
  }

  /** Resolves once every event recorded so far is committed. */
  async flush(): Promise<void> {
    while (this.preparing.size > 0) await Promise.all(this.preparing);
    if (this.queue.length === 0 && !this.writing) return;
    const done = new Promise<void>((resolve) => this.idle.push(resolve));
    this.schedule(0);
    return done;
  }

  /** Commits what is queued (waiting at most 10 s if the database fails); the journal keeps the rest. */
  async close(): Promise<void> {
    if (this.closed) return;
    await waitAtMost(this.flush(), CLOSE_TIMEOUT_MS);
    this.closed = true;
    clearTimeout(this.timer);
    if (this.queue.length > 0 && this.options.journalPath !== undefined) {
      this.options.logger.error({ pending: this.queue.length, journal: this.options.journalPath }, 'audit records not yet in the database at shutdown: they stay in the journal and are appended at the next start');
    } else if (this.queue.length > 0) {
      this.options.logger.error({ pending: this.queue.length },
        'audit records could not be written to the database and are lost: check the index database (is its disk full?)');
    }
    if (this.journal !== undefined) closeSync(this.journal);
    this.journal = undefined;
  }

  get pending(): number {
    return this.queue.length;
  }

  private toRow(event: AuditEvent): PendingRow {
    const time = event.time ?? new Date();
    const requestor = event.participants.find((p) => p.isRequestor) ?? event.participants[0];
    const studies = event.studies?.map((s) => s.uid) ?? [];
    return {
      event_uid: randomUUID(),
      event_time: time.toISOString(),
      event_id: EVENT_KINDS[event.kind].code,
      event_type: event.type ? EVENT_TYPES[event.type].code : null,
      action: event.action ?? EVENT_KINDS[event.kind].action,
      outcome: event.outcome,
      user_id: requestor?.userId ?? null,
      user_address: requestor?.address ?? null,
      patient_id: event.patients?.[0]?.id ?? null,
      study_uids: studies.length ? studies.join('\\') : null,
      summary: JSON.stringify(event.summary),
      message: auditMessageXml(event, time, this.options.source),
    };
  }

  private schedule(delayMs = this.batchDelayMs): void {
    if (this.writing || this.closed) return;
    if (this.timer && delayMs > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => { this.timer = undefined; void this.write(); }, this.retryMs || delayMs);
  }

  private async write(): Promise<void> {
    this.writing = true;
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, this.batchSize);
      let lastSeq: number;
      try {
        lastSeq = await this.options.index.transactions.transaction(appendProgram(this.options.index.dialect, batch));
      } catch (err) {
        this.retryMs = Math.min(RETRY_MAX_MS, Math.max(RETRY_MIN_MS, this.retryMs * 2));
        this.options.logger.error({ err, pending: this.queue.length, retryInMs: this.retryMs }, 'cannot write audit records to the database; keeping them queued and retrying');
        this.writing = false;
        if (!this.closed) this.schedule();
        return;
      }
      this.retryMs = 0;
      this.queue.splice(0, batch.length);
      // Every journal line is now in the database once the queue is empty (record() journals and
      // enqueues in the same turn), so the journal can start over.
      if (this.queue.length === 0 && this.journal !== undefined) ftruncateSync(this.journal, 0);
      while (this.waiters.length > 0 && this.queue.length < this.maxQueue) this.waiters.shift()!();
      this.onCommitted?.(lastSeq);
    }
    this.writing = false;
    for (const resolve of this.idle.splice(0)) resolve();
  }

  private async lastSeq(): Promise<number> {
    const last = await this.options.index.db.selectFrom('audit_event').select('seq').orderBy('seq', 'desc').limit(1).executeTakeFirst();
    return last ? Number(last.seq) : 0;
  }

  private async replayJournal(journalPath: string): Promise<void> {
    if (!existsSync(journalPath)) return;
    const rows: PendingRow[] = [];
    for (const line of readFileSync(journalPath, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        rows.push(JSON.parse(line) as PendingRow);
      } catch {
        // Only the last line can be torn (the crash cut its write): its event was never acknowledged.
        this.options.logger.warn({ journal: journalPath }, 'ignoring a torn line at the end of the audit journal');
      }
    }
    if (rows.length === 0) return;
    // Rows already committed (the crash came after their transaction) are skipped by event_uid.
    const before = await this.lastSeq();
    for (let i = 0; i < rows.length; i += this.batchSize) {
      await this.options.index.transactions.transaction(appendProgram(this.options.index.dialect, rows.slice(i, i + this.batchSize)));
    }
    const recovered = (await this.lastSeq()) - before;
    if (recovered > 0) this.options.logger.warn({ recovered }, 'appended audit records an interrupted run had journalled but not committed');
    const fd = openSync(journalPath, 'r+');
    try { ftruncateSync(fd, 0); } finally { closeSync(fd); }
  }
}
