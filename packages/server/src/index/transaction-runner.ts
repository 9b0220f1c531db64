// Write transactions of the index are written once, as generator "programs" that yield SQL
// requests; a runner executes them synchronously on SQLite (inside one better-sqlite3
// transaction, cached prepared statements, no event-loop turn per statement) or asynchronously
// on PostgreSQL (one pooled client, named prepared statements, retried on races).
import type BetterSqlite3 from 'better-sqlite3';
import type pg from 'pg';

export type SqlParam = string | number | bigint | Buffer | Uint8Array | null;

export interface SqlRequest {
  readonly kind: 'get' | 'all' | 'run';
  /** Portable SQL with `?` placeholders (rewritten to `$n` for PostgreSQL). */
  readonly sql: string;
  readonly params: readonly SqlParam[];
}

export type SqlProgram<T> = Generator<SqlRequest, T, unknown>;

/** First row of a query, or undefined. */
export function* get<R>(sql: string, ...params: SqlParam[]): SqlProgram<R | undefined> {
  return (yield { kind: 'get', sql, params }) as R | undefined;
}

export function* all<R>(sql: string, ...params: SqlParam[]): SqlProgram<R[]> {
  return (yield { kind: 'all', sql, params }) as R[];
}

/** Executes a statement without result rows; returns the number of changed rows. */
export function* run(sql: string, ...params: SqlParam[]): SqlProgram<number> {
  return (yield { kind: 'run', sql, params }) as number;
}

export interface TransactionRunner {
  /** Runs the program in one transaction; `program` may be called again on a retry. */
  transaction<T>(program: () => SqlProgram<T>): Promise<T>;
}

export class SqliteTransactionRunner implements TransactionRunner {
  private readonly statements = new Map<string, BetterSqlite3.Statement>();

  constructor(private readonly sqlite: BetterSqlite3.Database) {}

  transaction<T>(program: () => SqlProgram<T>): Promise<T> {
    try {
      // IMMEDIATE takes the write lock up front, so a concurrent writer process waits on
      // busy_timeout instead of failing half-way with SQLITE_BUSY.
      return Promise.resolve(this.sqlite.transaction(() => this.drive(program())).immediate());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private drive<T>(generator: SqlProgram<T>): T {
    let step = generator.next();
    while (!step.done) {
      step = generator.next(this.execute(step.value));
    }
    return step.value;
  }

  private execute(request: SqlRequest): unknown {
    let statement = this.statements.get(request.sql);
    if (!statement) {
      statement = this.sqlite.prepare(request.sql);
      this.statements.set(request.sql, statement);
    }
    const params = request.params as unknown[];
    switch (request.kind) {
      case 'get': return statement.get(...params);
      case 'all': return statement.all(...params);
      case 'run': return statement.run(...params).changes;
    }
  }
}

/** SQLSTATEs worth a retry: deadlock, serialization failure, and a unique-key race lost. */
const RETRYABLE_SQLSTATES = new Set(['40P01', '40001', '23505']);
const MAX_ATTEMPTS = 4;

export class PostgresTransactionRunner implements TransactionRunner {
  private readonly texts = new Map<string, { name: string; text: string }>();

  constructor(private readonly pool: pg.Pool) {}

  async transaction<T>(program: () => SqlProgram<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(program);
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (attempt >= MAX_ATTEMPTS || typeof code !== 'string' || !RETRYABLE_SQLSTATES.has(code)) throw error;
      }
    }
  }

  private async attempt<T>(program: () => SqlProgram<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const generator = program();
      let step = generator.next();
      while (!step.done) {
        step = generator.next(await this.execute(client, step.value));
      }
      await client.query('COMMIT');
      return step.value;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  private async execute(client: pg.PoolClient, request: SqlRequest): Promise<unknown> {
    const prepared = this.prepared(request.sql);
    const result = await client.query({ name: prepared.name, text: prepared.text, values: request.params as unknown[] });
    switch (request.kind) {
      case 'get': return result.rows[0];
      case 'all': return result.rows;
      case 'run': return result.rowCount ?? 0;
    }
  }

  private prepared(sqlText: string): { name: string; text: string } {
    let prepared = this.texts.get(sqlText);
    if (!prepared) {
      let n = 0;
      prepared = { name: `loire_index_${this.texts.size}`, text: sqlText.replace(/\?/g, () => `$${++n}`) };
      this.texts.set(sqlText, prepared);
    }
    return prepared;
  }
}
