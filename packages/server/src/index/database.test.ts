import BetterSqlite3 from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openIndexDatabase, type IndexConnection } from './database.js';

describe('the SQLite index', () => {
  let dir: string;
  let connection: IndexConnection;
  let other: BetterSqlite3.Database;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'loire-database-'));
    connection = await openIndexDatabase(path.join(dir, 'index.sqlite'));
    // Another process's connection (`loire user` beside a live server), which does not wait.
    other = new BetterSqlite3(path.join(dir, 'index.sqlite'));
    other.pragma('busy_timeout = 0');
  });

  afterEach(async () => {
    other.close();
    await connection.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes the write lock when a transaction begins, so that a write after a read never finds the snapshot stale', async () => {
    const writerDuring: string[] = [];
    await connection.db.transaction().execute(async (tx) => {
      await tx.selectFrom('study').select('pk').execute();
      try {
        other.exec('BEGIN IMMEDIATE');
        other.exec('ROLLBACK');
        writerDuring.push('other writer got the lock');
      } catch (error) {
        writerDuring.push((error as { code?: string }).code ?? String(error));
      }
    });
    expect(writerDuring).toEqual(['SQLITE_BUSY']);
    // Once it ends, the lock is free again.
    expect(() => { other.exec('BEGIN IMMEDIATE'); other.exec('ROLLBACK'); }).not.toThrow();
  });
});
