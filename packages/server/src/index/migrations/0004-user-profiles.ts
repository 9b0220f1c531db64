// Per-user profiles of the reading console (layouts, hanging protocols, presets, toolbar, bindings,
// study-list columns, saved filters): one JSON document per account, in the database so that it
// follows the user to any station and any Loire node. Validated by profile/profile.ts before it
// is written; the database only keeps it.
import { sql, type Kysely, type Migration } from 'kysely';
import type { IndexDialect } from '../sql-dialect.js';

export function userProfilesSchema(dialect: IndexDialect): Migration {
  const text = dialect === 'postgres' ? sql`text collate "C"` : sql`text`;
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.createTable('user_profile')
        // One profile per account; removing the account removes its profile.
        .addColumn('account_fk', 'bigint', (c) => c.primaryKey().references('account.pk').onDelete('cascade'))
        // The document's own version (profile/profile.ts PROFILE_VERSION), kept apart for migrations of the format.
        .addColumn('version', 'integer', (c) => c.notNull())
        // Counts the saves: with updated_at, the entity tag that If-Match compares (no lost update between stations).
        .addColumn('revision', 'integer', (c) => c.notNull())
        .addColumn('document', text, (c) => c.notNull())
        .addColumn('updated_at', text, (c) => c.notNull())
        .execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('user_profile').execute();
    },
  };
}
