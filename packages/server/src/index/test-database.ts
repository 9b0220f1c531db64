// A fresh, throw-away index for tests: SQLite in a temp directory by default, or a new
// PostgreSQL database when LOIRE_TEST_DATABASE=postgres://… names a server to create it on.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openIndex, type ArchiveIndex } from './index.js';

export interface TestIndex {
  index: ArchiveIndex;
  dispose(): Promise<void>;
}

export async function openTestIndex(): Promise<TestIndex> {
  const server = process.env.LOIRE_TEST_DATABASE;
  if (server) return openPostgresTestIndex(server);
  const dir = mkdtempSync(join(tmpdir(), 'loire-index-'));
  const index = await openIndex(`sqlite://${join(dir, 'index.db')}`);
  return {
    index,
    async dispose() {
      await index.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function openPostgresTestIndex(server: string): Promise<TestIndex> {
  const name = `loire_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(server, `CREATE DATABASE ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  const index = await openIndex(url.toString());
  return {
    index,
    async dispose() {
      await index.close();
      await adminQuery(server, `DROP DATABASE IF EXISTS ${name}`);
    },
  };
}

async function adminQuery(server: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: server });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
