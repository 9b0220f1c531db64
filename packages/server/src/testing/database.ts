// A fresh, throw-away index database for one test: an SQLite file in a directory, or a new
// PostgreSQL database when LOIRE_TEST_DATABASE=postgres://… names a server to create it on.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';

export interface TestDatabase {
  url: string;
  dispose(): Promise<void>;
}

async function admin(serverUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function createTestDatabase(dir: string): Promise<TestDatabase> {
  const server = process.env.LOIRE_TEST_DATABASE;
  if (!server) return { url: `sqlite://${path.join(dir, 'index.sqlite')}`, dispose: async () => undefined };
  return createPostgresDatabase(server, 'loire_test');
}

/** A new database, named `prefix` and a random suffix, on the PostgreSQL server `serverUrl` connects to. */
export async function createPostgresDatabase(serverUrl: string, prefix: string): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await admin(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), dispose: () => admin(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
