// Instances whose metadata document is still to be made (see metadata-filler.ts) carry an empty
// document. A partial index holds just them, so that finding them costs nothing however large
// the archive, and keeping it costs one entry per instance between its ingest and its document.
import { sql, type Kysely, type Migration } from 'kysely';

export function metadataPendingIndex(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await sql`create index instance_metadata_pending_idx on instance (pk) where length(metadata) = 0`.execute(db);
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropIndex('instance_metadata_pending_idx').execute();
    },
  };
}
