// The audit table: append-only rows whose `hash` chains each record to the one before it,
// hash(n) = SHA-256(hash(n-1) ‖ canonical(n)), so that changing, removing or reordering a row
// breaks the chain from that row on. Appends take a lock so that several Loire nodes writing
// the same database still build one chain.
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { IndexDatabase, AuditEventTable } from '../index/schema.js';
import type { IndexDialect } from '../index/sql-dialect.js';
import { get, run, type SqlProgram, type TransactionRunner } from '../index/transaction-runner.js';

export type AuditRow = AuditEventTable;
/** A row before it joins the chain. */
export type PendingRow = Omit<AuditRow, 'seq' | 'hash'>;

export const GENESIS_HASH = '0'.repeat(64);

/** The bytes a row's hash covers: every column but the hash, in a fixed order. */
export function canonicalRecord(row: Omit<AuditRow, 'hash'>): string {
  return JSON.stringify([
    Number(row.seq), row.event_uid, row.event_time, row.event_id, row.event_type, row.action, Number(row.outcome),
    row.user_id, row.user_address, row.patient_id, row.study_uids, row.summary, row.message,
  ]);
}

export function chainHash(previousHash: string, row: Omit<AuditRow, 'hash'>): string {
  return createHash('sha256').update(previousHash).update(canonicalRecord(row)).digest('hex');
}

const COLUMNS = ['seq', 'event_uid', 'event_time', 'event_id', 'event_type', 'action', 'outcome', 'user_id',
  'user_address', 'patient_id', 'study_uids', 'summary', 'message', 'hash'] as const;
// An event already recorded (same event_uid: a journal replayed twice) is skipped, not chained twice.
const INSERT = `INSERT INTO audit_event (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')}) ON CONFLICT (event_uid) DO NOTHING`;

/** Appends rows in one transaction, after the current last row; returns the seq of the last appended. */
export function appendProgram(dialect: IndexDialect, rows: readonly PendingRow[]): () => SqlProgram<number> {
  return function* append() {
    // SQLite: the runner's IMMEDIATE transaction already holds the write lock. PostgreSQL: one
    // transaction-scoped advisory lock serialises appenders across nodes.
    if (dialect === 'postgres') yield* get('SELECT pg_advisory_xact_lock(7061736) AS locked');
    const last = yield* get<{ seq: number | string; hash: string }>('SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1');
    let seq = last ? Number(last.seq) : 0;
    let previous = last?.hash ?? GENESIS_HASH;
    for (const pending of rows) {
      const row = { ...pending, seq: seq + 1 };
      const hash = chainHash(previous, row);
      const inserted = yield* run(INSERT, ...COLUMNS.map((c) => (c === 'hash' ? hash : row[c])));
      if (inserted === 0) continue;
      seq = row.seq;
      previous = hash;
    }
    return seq;
  };
}

export interface ChainProblem {
  seq: number;
  problem: 'hash-mismatch' | 'gap' | 'out-of-order';
  detail: string;
}

export interface ChainReport {
  checked: number;
  lastSeq: number;
  /** The first row where the chain breaks, if any. */
  firstBad?: ChainProblem;
}

/**
 * Walks the whole chain in seq order. A row whose content was altered fails its hash; a deleted
 * row leaves a gap (and its successor fails); rows swapped fail their hashes. Removing the last
 * rows leaves a valid shorter chain: only a copy kept elsewhere (the syslog collector) shows that.
 */
export async function verifyChain(db: Kysely<IndexDatabase>, onProgress?: (checked: number) => void): Promise<ChainReport> {
  let previous = GENESIS_HASH;
  let expectedSeq = 1;
  let checked = 0;
  const page = 1000;
  for (;;) {
    const rows = await db.selectFrom('audit_event').selectAll().where('seq', '>=', expectedSeq)
      .orderBy('seq').limit(page).execute();
    for (const raw of rows) {
      const row = { ...raw, seq: Number(raw.seq), outcome: Number(raw.outcome) };
      if (row.seq !== expectedSeq) {
        return { checked, lastSeq: expectedSeq - 1, firstBad: { seq: row.seq, problem: 'gap', detail: `record ${expectedSeq}${row.seq - expectedSeq > 1 ? `–${row.seq - 1}` : ''} missing before record ${row.seq}` } };
      }
      const expected = chainHash(previous, row);
      if (expected !== row.hash) {
        return { checked, lastSeq: row.seq - 1, firstBad: { seq: row.seq, problem: 'hash-mismatch', detail: `record ${row.seq} (${row.event_time}, event ${row.event_id}) does not match its hash: altered, or a record before it was` } };
      }
      previous = row.hash;
      expectedSeq++;
      checked++;
    }
    onProgress?.(checked);
    if (rows.length < page) return { checked, lastSeq: expectedSeq - 1 };
  }
}

export interface AuditSearch {
  patientId?: string;
  userId?: string;
  from?: string;
  to?: string;
  eventIds?: readonly string[];
  limit: number;
  /** Only records before this seq (paging backwards). */
  beforeSeq?: number;
}

/** Newest first. */
export async function searchAudit(db: Kysely<IndexDatabase>, search: AuditSearch): Promise<AuditRow[]> {
  let query = db.selectFrom('audit_event').selectAll();
  if (search.patientId !== undefined) query = query.where('patient_id', '=', search.patientId);
  if (search.userId !== undefined) query = query.where('user_id', '=', search.userId);
  if (search.from !== undefined) query = query.where('event_time', '>=', search.from);
  if (search.to !== undefined) query = query.where('event_time', '<=', search.to);
  if (search.eventIds?.length) query = query.where('event_id', 'in', search.eventIds);
  if (search.beforeSeq !== undefined) query = query.where('seq', '<', search.beforeSeq);
  const rows = await query.orderBy('seq', 'desc').limit(search.limit).execute();
  return rows.map((r) => ({ ...r, seq: Number(r.seq), outcome: Number(r.outcome) }));
}

export type { TransactionRunner };
