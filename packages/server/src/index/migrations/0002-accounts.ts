// Accounts of people and scripts using the HTTP door: users with roles, their login sessions and
// their API tokens. Secrets are never stored: passwords as scrypt hashes, session ids and tokens
// as SHA-256 digests (they are 256-bit random values, so a fast digest is enough).
import { sql, type Kysely, type Migration } from 'kysely';
import type { IndexDialect } from '../sql-dialect.js';

export function accountsSchema(dialect: IndexDialect): Migration {
  const text = dialect === 'postgres' ? sql`text collate "C"` : sql`text`;
  const bigint = sql`bigint`;

  return {
    async up(db: Kysely<unknown>): Promise<void> {
      const pk = (table: string) => db.schema.createTable(table)
        .addColumn('pk', dialect === 'postgres' ? 'bigint' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey());

      await pk('account')
        .addColumn('username', text, (c) => c.notNull().unique())
        .addColumn('display_name', text, (c) => c.notNull().defaultTo(''))
        // Comma-separated role names from security/permissions.ts ROLES.
        .addColumn('roles', text, (c) => c.notNull())
        .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
        // 'local' (password) or 'oidc' (identity provider; no password).
        .addColumn('origin', text, (c) => c.notNull().defaultTo('local'))
        // `scrypt$ln=…,r=…,p=…$salt$hash` (security/password.ts); NULL for OpenID Connect accounts.
        .addColumn('password_hash', text)
        .addColumn('failed_attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('locked_until', text)
        .addColumn('password_changed_at', text, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('updated_at', text, (c) => c.notNull())
        .execute();

      await pk('account_session')
        .addColumn('id_hash', text, (c) => c.notNull().unique())
        .addColumn('account_fk', bigint, (c) => c.notNull().references('account.pk').onDelete('cascade'))
        .addColumn('method', text, (c) => c.notNull())
        .addColumn('address', text)
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('last_seen_at', text, (c) => c.notNull())
        .addColumn('expires_at', text, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('account_session_account_fk_idx').on('account_session').column('account_fk').execute();

      await pk('api_token')
        .addColumn('token_hash', text, (c) => c.notNull().unique())
        .addColumn('account_fk', bigint, (c) => c.notNull().references('account.pk').onDelete('cascade'))
        .addColumn('name', text, (c) => c.notNull())
        // First characters of the token, shown in listings so that a user recognises it.
        .addColumn('prefix', text, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('expires_at', text)
        .addColumn('last_used_at', text)
        .execute();
      await db.schema.createIndex('api_token_account_fk_idx').on('api_token').column('account_fk').execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      for (const table of ['api_token', 'account_session', 'account']) await db.schema.dropTable(table).execute();
    },
  };
}
