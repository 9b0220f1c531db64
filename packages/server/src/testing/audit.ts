// Test helpers for the audit trail: read it back, and tamper with it the way someone with write
// access to the database could.
import { sql } from 'kysely';
import type { ArchiveIndex } from '../index/index.js';
import type { AuditRow } from '../audit/store.js';

/** Drops the append-only triggers (what a tamperer does first). */
export async function dropAppendOnlyGuards(index: ArchiveIndex): Promise<void> {
  if (index.dialect === 'postgres') {
    await sql`DROP TRIGGER audit_event_no_change ON audit_event`.execute(index.db);
  } else {
    await sql`DROP TRIGGER audit_event_no_update`.execute(index.db);
    await sql`DROP TRIGGER audit_event_no_delete`.execute(index.db);
  }
}

export async function auditRows(index: ArchiveIndex): Promise<AuditRow[]> {
  const rows = await index.db.selectFrom('audit_event').selectAll().orderBy('seq').execute();
  return rows.map((r) => ({ ...r, seq: Number(r.seq), outcome: Number(r.outcome) }));
}
