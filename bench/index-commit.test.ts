// The index-commit scenario measures real commits: every instance must come out stored, on
// SQLite, and on PostgreSQL when one answers; without one, the scenario says so and goes on.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BATCH_SIZES, DEFAULT_POSTGRES_URL, indexCommitTable, runIndexCommitScenario } from './index-commit.mjs';

const workRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'loire-index-commit-test-'));
afterAll(() => fs.rmSync(workRoot, { recursive: true, force: true }));

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function postgresAnswers(): Promise<boolean> {
  const url = new URL(DEFAULT_POSTGRES_URL);
  return new Promise((resolve) => {
    const socket = net.connect(Number(url.port), url.hostname, () => { socket.destroy(); resolve(true); });
    socket.on('error', () => resolve(false));
  });
}

const havePostgres = await postgresAnswers();

describe('index-commit scenario', () => {
  it('commits every instance on SQLite, and skips PostgreSQL when none answers', async () => {
    const lines: string[] = [];
    const rows = await runIndexCommitScenario({
      workRoot, instances: 240, postgresUrl: `postgres://postgres@127.0.0.1:${await closedPort()}/postgres`, log: (line) => lines.push(line),
    });
    expect(rows.map((r) => [r.database, r.batch])).toEqual(BATCH_SIZES.map((batch) => ['SQLite', batch]));
    for (const row of rows) expect(row.microsecondsPerInstance).toBeGreaterThan(0);
    expect(lines.some((line) => line.includes('does not answer'))).toBe(true);
    expect(indexCommitTable(rows).lines[1]?.[1]).toBe('120');
  });

  it.runIf(havePostgres)('commits every instance on PostgreSQL in a database of its own, dropped afterwards', async () => {
    const rows = await runIndexCommitScenario({ workRoot, instances: 240, log: () => undefined });
    expect(rows.filter((r) => r.database === 'PostgreSQL').map((r) => r.batch)).toEqual(BATCH_SIZES);
  });
});
