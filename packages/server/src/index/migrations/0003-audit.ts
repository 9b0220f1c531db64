// The audit trail (PS3.15 A.5): one append-only table whose rows form a hash chain, with an
// index on every column GET /api/audit filters by, and the syslog forwarder's position.
import { sql, type Kysely, type Migration } from 'kysely';
import type { IndexDialect } from '../sql-dialect.js';

export function auditSchema(dialect: IndexDialect): Migration {
  const text = dialect === 'postgres' ? sql`text collate "C"` : sql`text`;
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      // seq is assigned by the writer under a lock (last seq + 1), never by a sequence: the
      // chain order is the seq order, so a gap or a swap is visible to `loire audit verify`.
      await db.schema.createTable('audit_event')
        .addColumn('seq', 'bigint', (c) => c.primaryKey())
        .addColumn('event_uid', text, (c) => c.notNull().unique())
        .addColumn('event_time', text, (c) => c.notNull())
        .addColumn('event_id', text, (c) => c.notNull())
        .addColumn('event_type', text)
        .addColumn('action', text, (c) => c.notNull())
        .addColumn('outcome', 'integer', (c) => c.notNull())
        .addColumn('user_id', text)
        .addColumn('user_address', text)
        .addColumn('patient_id', text)
        .addColumn('study_uids', text)
        .addColumn('summary', text, (c) => c.notNull())
        .addColumn('message', text, (c) => c.notNull())
        .addColumn('hash', text, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_event_time_idx').on('audit_event').column('event_time').execute();
      await db.schema.createIndex('audit_user_idx').on('audit_event').columns(['user_id', 'event_time']).execute();
      await db.schema.createIndex('audit_patient_idx').on('audit_event').columns(['patient_id', 'event_time']).execute();
      await db.schema.createIndex('audit_event_id_idx').on('audit_event').columns(['event_id', 'event_time']).execute();

      // Append-only at the database too: an UPDATE or DELETE fails unless someone drops these
      // triggers first, and then the hash chain still shows it.
      if (dialect === 'postgres') {
        await sql`CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN RAISE EXCEPTION 'audit_event is append-only'; END $$`.execute(db);
        await sql`CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event
          FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()`.execute(db);
        await sql`CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
          FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()`.execute(db);
      } else {
        await sql`CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
          BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END`.execute(db);
        await sql`CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
          BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END`.execute(db);
      }

      // Where each syslog collector's forwarding stands (the next seq to send).
      await db.schema.createTable('audit_forward')
        .addColumn('collector', text, (c) => c.primaryKey())
        .addColumn('next_seq', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('audit_forward').execute();
      await db.schema.dropTable('audit_event').execute();
      if (dialect === 'postgres') await sql`DROP FUNCTION IF EXISTS audit_event_append_only()`.execute(db);
    },
  };
}
