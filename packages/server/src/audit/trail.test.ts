import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openIndex, type ArchiveIndex } from '../index/index.js';
import { silentLogger } from '../logger.js';
import { dropAppendOnlyGuards } from '../testing/audit.js';
import { createTestDatabase, type TestDatabase } from '../testing/database.js';
import { Outcome, type AuditEvent } from './event.js';
import { verifyChain } from './store.js';
import { AuditTrail } from './trail.js';

const source = { sourceId: 'LOIRE' };

function queryEvent(n: number): AuditEvent {
  return {
    kind: 'query', outcome: Outcome.Success,
    participants: [{ userId: `user${n}`, isRequestor: true, address: '10.0.0.1' }, { userId: 'LOIRE', isRequestor: false }],
    patients: [{ id: `PAT${n}` }],
    query: { kind: 'url', target: '/dicom-web/studies', query: Buffer.from(`PatientID=PAT${n}`) },
    summary: { parameters: { PatientID: `PAT${n}` } },
  };
}

describe('audit trail', () => {
  let dir: string;
  let database: TestDatabase;
  let index: ArchiveIndex;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'loire-audit-'));
    database = await createTestDatabase(dir);
    index = await openIndex(database.url);
  });
  afterEach(async () => {
    await index.close();
    await database.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('commits events in batches as a hash chain that verifies', async () => {
    const trail = await AuditTrail.open({ index, source, logger: silentLogger(), batchSize: 3 });
    for (let i = 1; i <= 10; i++) trail.record(queryEvent(i));
    await trail.flush();
    const rows = await index.db.selectFrom('audit_event').selectAll().orderBy('seq').execute();
    expect(rows.map((r) => Number(r.seq))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(rows.map((r) => r.user_id)).toEqual(Array.from({ length: 10 }, (_, i) => `user${i + 1}`));
    expect(rows[0]!.patient_id).toBe('PAT1');
    expect(rows[0]!.event_id).toBe('110112');
    expect(rows[0]!.message).toContain(`<ParticipantObjectQuery>${Buffer.from('PatientID=PAT1').toString('base64')}</ParticipantObjectQuery>`);
    expect(await verifyChain(index.db)).toEqual({ checked: 10, lastSeq: 10 });
    await trail.close();
  });

  it('refuses UPDATE and DELETE on the audit table', async () => {
    const trail = await AuditTrail.open({ index, source, logger: silentLogger() });
    trail.record(queryEvent(1));
    await trail.close();
    await expect(index.db.updateTable('audit_event').set({ user_id: 'someone-else' }).execute()).rejects.toThrow(/append-only/);
    await expect(index.db.deleteFrom('audit_event').execute()).rejects.toThrow(/append-only/);
    if (index.dialect === 'postgres') await expect(sql`TRUNCATE audit_event`.execute(index.db)).rejects.toThrow(/append-only/);
  });

  it('names the first altered, removed or reordered record', async () => {
    const trail = await AuditTrail.open({ index, source, logger: silentLogger() });
    for (let i = 1; i <= 6; i++) trail.record(queryEvent(i));
    await trail.close();
    await dropAppendOnlyGuards(index);

    await index.db.updateTable('audit_event').set({ user_id: 'nobody' }).where('seq', '=', 4).execute();
    expect((await verifyChain(index.db)).firstBad).toMatchObject({ seq: 4, problem: 'hash-mismatch' });
    await index.db.updateTable('audit_event').set({ user_id: 'user4' }).where('seq', '=', 4).execute();
    expect((await verifyChain(index.db)).firstBad).toBeUndefined();

    // Swapping two records' contents (reordering) breaks the first of them.
    const [r2, r3] = await index.db.selectFrom('audit_event').selectAll().where('seq', 'in', [2, 3]).orderBy('seq').execute();
    await index.db.deleteFrom('audit_event').where('seq', 'in', [2, 3]).execute();
    await index.db.insertInto('audit_event').values([{ ...r3!, seq: 2 }, { ...r2!, seq: 3 }]).execute();
    expect((await verifyChain(index.db)).firstBad).toMatchObject({ seq: 2, problem: 'hash-mismatch' });

    await index.db.deleteFrom('audit_event').where('seq', 'in', [2, 3]).execute();
    await index.db.insertInto('audit_event').values([r2!, r3!]).execute();
    await index.db.deleteFrom('audit_event').where('seq', '=', 5).execute();
    expect((await verifyChain(index.db)).firstBad).toMatchObject({ seq: 6, problem: 'gap' });
  });

  it('applies back-pressure instead of dropping when the queue is full', async () => {
    const trail = await AuditTrail.open({ index, source, logger: silentLogger(), maxQueue: 3, batchDelayMs: 50 });
    expect(trail.record(queryEvent(1))).toBeUndefined();
    expect(trail.record(queryEvent(2))).toBeUndefined();
    const wait = trail.record(queryEvent(3));
    expect(wait).toBeInstanceOf(Promise);
    const more = trail.record(queryEvent(4));
    expect(trail.pending).toBe(4);
    await Promise.all([wait, more]);
    await trail.close();
    expect(await verifyChain(index.db)).toMatchObject({ checked: 4 });
  });

  it('appends at the next start what a crashed run had journalled but not committed, once', async () => {
    const journalPath = path.join(dir, 'audit-journal.ndjson');
    const crashed = await AuditTrail.open({ index, source, logger: silentLogger(), journalPath, batchDelayMs: 60_000 });
    crashed.record(queryEvent(1));
    crashed.record(queryEvent(2));
    // The process dies here: nothing committed, two lines journalled, plus a torn third line.
    const journal = readFileSync(journalPath, 'utf8');
    expect(journal.trim().split('\n')).toHaveLength(2);
    writeFileSync(journalPath, `${journal}{"event_uid":"torn`);

    const restarted = await AuditTrail.open({ index, source, logger: silentLogger(), journalPath });
    expect(await verifyChain(index.db)).toEqual({ checked: 2, lastSeq: 2 });
    expect(readFileSync(journalPath, 'utf8')).toBe('');
    // Had the "crashed" writer committed after all, its events are not chained twice.
    await crashed.close();
    restarted.record(queryEvent(3));
    await restarted.close();
    const users = await index.db.selectFrom('audit_event').select('user_id').orderBy('seq').execute();
    expect(users.map((u) => u.user_id)).toEqual(['user1', 'user2', 'user3']);
    expect(await verifyChain(index.db)).toEqual({ checked: 3, lastSeq: 3 });
  });

  it('keeps events queued while the database fails, and writes them once it is back', async () => {
    const trail = await AuditTrail.open({ index, source, logger: silentLogger(), batchDelayMs: 1 });
    await sql`ALTER TABLE audit_event RENAME TO audit_event_away`.execute(index.db);
    trail.record(queryEvent(1));
    await new Promise((r) => setTimeout(r, 300));
    expect(trail.pending).toBe(1);
    await sql`ALTER TABLE audit_event_away RENAME TO audit_event`.execute(index.db);
    await trail.flush();
    expect(trail.pending).toBe(0);
    await trail.close();
    expect(await verifyChain(index.db)).toEqual({ checked: 1, lastSeq: 1 });
  });

  it('flush() and close() wait for events still being put together', async () => {
    const trail = await AuditTrail.open({ index, source, logger: silentLogger() });
    let finish!: (event: AuditEvent) => void;
    trail.recordWhenReady(new Promise<AuditEvent>((resolve) => { finish = resolve; }));
    trail.recordWhenReady(Promise.reject(new Error('look-up failed')));
    const flushed = trail.flush();
    setTimeout(() => finish(queryEvent(7)), 50);
    await flushed;
    expect((await index.db.selectFrom('audit_event').select('user_id').execute()).map((r) => r.user_id)).toEqual(['user7']);
    trail.recordWhenReady(new Promise<AuditEvent>((resolve) => setTimeout(() => resolve(queryEvent(8)), 50)));
    await trail.close();
    expect(await verifyChain(index.db)).toEqual({ checked: 2, lastSeq: 2 });
  });
});
