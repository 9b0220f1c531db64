import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { withStatementCache } from './statement-cache.js';

describe('withStatementCache', () => {
  let sqlite: BetterSqlite3.Database;
  afterEach(() => { if (sqlite.open) sqlite.close(); });

  function open() {
    sqlite = new BetterSqlite3(':memory:');
    sqlite.exec('CREATE TABLE t (n INTEGER)');
    sqlite.prepare('INSERT INTO t (n) VALUES (1), (2), (3)').run();
    return withStatementCache(sqlite, 2);
  }

  it('hands back the same prepared statement for the same SQL', () => {
    const db = open();
    const first = db.prepare('SELECT n FROM t WHERE n > ?');
    expect(db.prepare('SELECT n FROM t WHERE n > ?')).toBe(first);
    expect(first.all([1])).toEqual([{ n: 2 }, { n: 3 }]);
    expect(db.prepare('SELECT n FROM t WHERE n > ?').all([2])).toEqual([{ n: 3 }]);
  });

  it('prepares a fresh statement while the cached one is still being iterated', () => {
    const db = open();
    const sql = 'SELECT n FROM t ORDER BY n';
    const outer = db.prepare(sql).iterate([]);
    const seen: unknown[] = [];
    for (const row of outer) seen.push([row, db.prepare(sql).all([]).length]);
    expect(seen).toEqual([[{ n: 1 }, 3], [{ n: 2 }, 3], [{ n: 3 }, 3]]);
  });

  it('keeps at most the configured number of statements, dropping the least recently used', () => {
    const db = open();
    const a = db.prepare('SELECT 1');
    const b = db.prepare('SELECT 2');
    expect(db.prepare('SELECT 1')).toBe(a); // now 2 is the least recently used
    db.prepare('SELECT 3');
    expect(db.prepare('SELECT 1')).toBe(a);
    expect(db.prepare('SELECT 2')).not.toBe(b);
  });

  it('closes the database', () => {
    const db = open();
    db.close();
    expect(sqlite.open).toBe(false);
  });
});
