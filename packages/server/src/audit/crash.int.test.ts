// A crash right after a query: the query's audit record, journalled before the C-FIND was
// answered, is in the trail after the restart, and the chain still verifies.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openIndex } from '../index/index.js';
import { runTool } from '../testing/dcmtk.js';
import { createTestDatabase, spawnLoire, writeNodesConfig, type TestDatabase } from '../testing/loire.js';
import { verifyChain } from './store.js';

const READY_WITHIN_MS = 120_000;

describe('audit trail across a crash', () => {
  let dataDir: string;
  let database: TestDatabase;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'loire-audit-crash-'));
    database = await createTestDatabase(dataDir);
  });
  afterAll(async () => {
    await database?.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  });

  // The querying node must be known: unknown AEs may only store (see security/node-access.ts).
  const nodesConfig = () => writeNodesConfig(path.join(dataDir, 'loire.json'), [{ name: 'crasher', aeTitle: 'CRASHER', permissions: { store: false, retrieve: false } }]);

  it('keeps the record of a query answered just before SIGKILL', async () => {
    const first = await spawnLoire(dataDir, database.url, ['--config', nodesConfig()]);
    try {
      await first.waitUntilReady(READY_WITHIN_MS);
      const r = await runTool('findscu', ['-S', '-aet', 'CRASHER', '-aec', 'LOIRE', '127.0.0.1', String(first.dicomPort),
        '-k', 'QueryRetrieveLevel=STUDY', '-k', 'PatientID=CRASH-TEST-1', '-k', 'StudyInstanceUID']);
      expect(r.code, r.stderr).toBe(0);
    } finally {
      expect(await first.kill('SIGKILL')).toBeNull();
    }

    const second = await spawnLoire(dataDir, database.url, ['--config', nodesConfig()]);
    try {
      await second.waitUntilReady(READY_WITHIN_MS);
    } finally {
      await second.kill('SIGTERM');
    }

    const index = await openIndex(database.url);
    try {
      const rows = await index.db.selectFrom('audit_event').select(['event_id', 'event_type', 'user_id', 'patient_id']).orderBy('seq').execute();
      expect(rows.filter((row) => row.event_id === '110112')).toEqual([{ event_id: '110112', event_type: null, user_id: 'CRASHER', patient_id: 'CRASH-TEST-1' }]);
      // Start of the first run (no stop: it was killed), start and stop of the second.
      expect(rows.filter((row) => row.event_id === '110100').map((row) => row.event_type)).toEqual(['110120', '110120', '110121']);
      expect((await verifyChain(index.db)).firstBad).toBeUndefined();
    } finally {
      await index.close();
    }
  });
});
