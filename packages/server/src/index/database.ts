// Opens the archive index from a URL: `postgres://…` → PostgreSQL pool; `sqlite:///path/file.db`,
// `sqlite::memory:` or a plain file path → embedded SQLite. Migrations run at open.
import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery, Kysely, Migrator, PostgresDialect, SqliteDialect, SqliteDriver,
  type DatabaseConnection, type Driver, type Migration, type MigrationProvider, type SqliteDialectConfig,
} from 'kysely';
import pg from 'pg';
import { initialSchema } from './migrations/0001-initial-schema.js';
import { accountsSchema } from './migrations/0002-accounts.js';
import { auditSchema } from './migrations/0003-audit.js';
import { userProfilesSchema } from './migrations/0004-user-profiles.js';
import { metadataPendingIndex } from './migrations/0005-metadata-pending.js';
import type { IndexDatabase } from './schema.js';
import type { IndexDialect } from './sql-dialect.js';
import { withStatementCache } from './statement-cache.js';
import {
  PostgresTransactionRunner,
  SqliteTransactionRunner,
  type TransactionRunner,
} from './transaction-runner.js';

export interface IndexConnection {
  readonly db: Kysely<IndexDatabase>;
  readonly dialect: IndexDialect;
  readonly runner: TransactionRunner;
  close(): Promise<void>;
}

export type IndexLocation =
  | { dialect: 'sqlite'; path: string }
  | { dialect: 'postgres'; connectionString: string };

export function parseIndexUrl(url: string): IndexLocation {
  if (/^postgres(ql)?:\/\//i.test(url)) return { dialect: 'postgres', connectionString: url };
  if (url === 'sqlite::memory:' || url === ':memory:') return { dialect: 'sqlite', path: ':memory:' };
  if (url.startsWith('sqlite://')) {
    const path = decodeURIComponent(url.slice('sqlite://'.length));
    if (!path) throw new Error(`Index URL "${url}" has no file path; write sqlite:///absolute/path/index.db`);
    return { dialect: 'sqlite', path };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new Error(`Index URL "${url}": unsupported scheme; use postgres://… or sqlite:///path/index.db`);
  }
  return { dialect: 'sqlite', path: url };
}

/** Reports a broken idle connection of the PostgreSQL pool (the pool replaces it on next use). */
export type ConnectionErrorHandler = (error: Error) => void;

export async function openIndexDatabase(url: string, onConnectionError?: ConnectionErrorHandler): Promise<IndexConnection> {
  const location = parseIndexUrl(url);
  const connection = location.dialect === 'sqlite' ? openSqlite(location.path) : openPostgres(location.connectionString, onConnectionError);
  try {
    await migrateToLatest(connection.db, connection.dialect);
  } catch (error) {
    await connection.close();
    throw error;
  }
  return connection;
}

function openSqlite(path: string): IndexConnection {
  let sqlite: BetterSqlite3.Database;
  try {
    sqlite = new BetterSqlite3(path);
  } catch (error) {
    // The driver checks some things itself (a missing directory) and gives those no code.
    const code = (error as { code?: unknown }).code ?? 'SQLITE_CANTOPEN';
    throw Object.assign(new Error(`Cannot open the SQLite index at "${path}": ${(error as Error).message}`, { cause: error }), { code });
  }
  // WAL + synchronous=NORMAL: a committed transaction survives a process crash (only an OS
  // crash or power loss may lose the last ones); storage commitment does its own fsync.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 10000');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('cache_size = -65536');
  // Checkpoint the WAL every ~16 MB rather than every 4 MB: fewer fsyncs on the ingest path.
  sqlite.pragma('wal_autocheckpoint = 4000');
  const db = new Kysely<IndexDatabase>({ dialect: new ImmediateSqliteDialect({ database: withStatementCache(sqlite) }) });
  return {
    db,
    dialect: 'sqlite',
    runner: new SqliteTransactionRunner(sqlite),
    close: () => db.destroy(),
  };
}

/**
 * Kysely's transactions on SQLite, taking the write lock at BEGIN. Another process may write to
 * the index (`loire user` or `loire import` beside a live server): a deferred transaction that
 * reads and then writes would fail at once (SQLITE_BUSY_SNAPSHOT) if a commit came in between;
 * an IMMEDIATE one waits for the lock (busy_timeout) instead, as the index's own writes do.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly settings: SqliteDialectConfig) {
    super(settings);
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.settings);
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

const INT8_OID = 20;

function openPostgres(connectionString: string, onConnectionError: ConnectionErrorHandler = () => undefined): IndexConnection {
  const pool = new pg.Pool({
    connectionString,
    // Counts and bigint keys come back as numbers (they stay far below 2^53), per pool, not
    // by changing pg's process-wide type parsers.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID && format !== 'binary'
          ? (value: string) => Number(value)
          : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // An idle connection the server closes (restart, failover, administrator) is an 'error' event
  // on the pool; without a listener Node would end the process. The pool drops that connection
  // and opens another on the next query.
  pool.on('error', onConnectionError);
  const db = new Kysely<IndexDatabase>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    dialect: 'postgres',
    runner: new PostgresTransactionRunner(pool),
    close: () => db.destroy(),
  };
}

function migrationsFor(dialect: IndexDialect): Record<string, Migration> {
  return {
    '0001-initial-schema': initialSchema(dialect),
    '0002-accounts': accountsSchema(dialect),
    '0003-audit': auditSchema(dialect),
    '0004-user-profiles': userProfilesSchema(dialect),
    '0005-metadata-pending': metadataPendingIndex(),
  };
}

async function migrateToLatest(db: Kysely<IndexDatabase>, dialect: IndexDialect): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrationsFor(dialect) };
  const migrator = new Migrator({
    db,
    provider,
    migrationTableName: 'index_migration',
    migrationLockTableName: 'index_migration_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    // No migration ran: the database could not be reached or read, and its error says why.
    if (failed === undefined) throw error;
    throw new Error(`Index schema migration "${failed}" failed: ${(error as Error).message ?? String(error)}`, {
      cause: error,
    });
  }
}
