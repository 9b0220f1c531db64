// Index commits in a worker thread (SQLite here; PostgreSQL with LOIRE_TEST_DATABASE=postgres://…):
// what the worker commits is what an in-process commit would, and reads of the main connection
// see it as soon as enqueue()'s promise settles.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../testing/database.js';
import { IndexCommitWorker } from './commit-worker.js';
import { openIndex, type ArchiveIndex } from './index.js';
import { prepare } from './store.js';
import { request } from './test-fixtures.js';

let dir: string;
let database: TestDatabase;
let index: ArchiveIndex | undefined;
let worker: IndexCommitWorker | undefined;

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'loire-commit-worker-'));
  database = await createTestDatabase(dir);
});

afterEach(async () => {
  await worker?.close();
  await index?.close();
  worker = undefined;
  index = undefined;
  await database.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const spec = (i: number, series = '1.2.3') => ({ patientId: 'P1', patientName: 'Élodie^Durand', study: '1.2', series, sop: `${series}.${i}` });

/** A trigger that makes the database itself refuse one instance. */
async function refuseInsertsOf(archiveIndex: ArchiveIndex, sopInstanceUid: string): Promise<void> {
  if (archiveIndex.dialect === 'sqlite') {
    await sql.raw(`CREATE TRIGGER refuse BEFORE INSERT ON instance WHEN NEW.sop_instance_uid = '${sopInstanceUid}'
      BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`).execute(archiveIndex.db);
    return;
  }
  await sql.raw(`CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN
      IF NEW.sop_instance_uid = '${sopInstanceUid}' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW;
    END $$ LANGUAGE plpgsql`).execute(archiveIndex.db);
  await sql.raw('CREATE TRIGGER refuse BEFORE INSERT ON instance FOR EACH ROW EXECUTE FUNCTION refuse()').execute(archiveIndex.db);
}

describe('index commits in a worker thread', () => {
  it('indexes journalled instances that the main connection then finds, with derived attributes', async () => {
    index = await openIndex(database.url, undefined, { journalDir: path.join(dir, 'journal'), commitInWorker: true });
    await index.replayJournal();
    const queued = [
      ...Array.from({ length: 30 }, (_, i) => index!.enqueueInstance(request(spec(i), 'keep-first'), { journal: true })),
      ...Array.from({ length: 5 }, (_, i) => index!.enqueueInstance(request(spec(i, '1.2.4'), 'keep-first'), { journal: true })),
    ];
    const results = await Promise.all(queued.map((q) => q.indexed));
    expect(results.every((r) => r.outcome === 'stored')).toBe(true);

    const [study] = await index.findAll({ level: 'STUDY', identifier: {
      '0020000D': { vr: 'UI', Value: ['1.2'] }, '00201208': { vr: 'IS' }, '00201206': { vr: 'IS' }, '00100010': { vr: 'PN' },
    } });
    expect(study?.['00201208']?.Value).toEqual([35]);
    expect(study?.['00201206']?.Value).toEqual([2]);
    expect(study?.['00100010']?.Value).toEqual([{ Alphabetic: 'Élodie^Durand' }]);
    const metadata = await index.seriesMetadata('1.2.4');
    expect(metadata.map((m) => m['00080018']?.Value?.[0]).sort()).toEqual(['1.2.4.0', '1.2.4.1', '1.2.4.2', '1.2.4.3', '1.2.4.4']);
  });

  it('applies the duplicate policy as an in-process commit does', async () => {
    index = await openIndex(database.url, undefined, { commitInWorker: true });
    expect((await index.indexInstance(request(spec(1), 'keep-first', 'k/a'))).outcome).toBe('stored');
    expect((await index.indexInstance(request(spec(1), 'keep-first', 'k/b'))).outcome).toBe('duplicate-ignored');
    expect((await index.indexInstance(request(spec(1), 'reject', 'k/c'))).outcome).toBe('rejected-duplicate');
    const replaced = await index.indexInstance(request(spec(1), 'overwrite', 'k/d'));
    expect(replaced).toMatchObject({ outcome: 'replaced', replacedStorageKey: 'k/a' });
    // The very object indexed again (a journal replayed after its commit) is a no-op.
    expect((await index.indexInstance(request(spec(1), 'reject', 'k/d'))).outcome).toBe('stored');
    expect((await index.getInstance('1.2.3.1'))?.storageKey).toBe('k/d');
  });

  it('answers a database error as an error of that commit, and keeps serving the next ones', async () => {
    index = await openIndex(database.url);
    await refuseInsertsOf(index, '1.2.3.2');
    worker = new IndexCommitWorker(database.url);
    await worker.probe();
    const batch = [1, 2, 3].map((i) => prepare(request(spec(i), 'reject')));
    await expect(worker.commit(batch)).rejects.toThrow(/refused by the test/);
    expect(await index.getInstance('1.2.3.1')).toBeUndefined();
    expect((await worker.commit([batch[0]!, batch[2]!])).map((r) => r.outcome)).toEqual(['stored', 'stored']);
    expect((await index.getInstance('1.2.3.3'))?.storageKey).toBe('k/1.2.3.3');
  });

  it('refuses work once closed', async () => {
    worker = new IndexCommitWorker(database.url);
    await worker.probe();
    await worker.close();
    await expect(worker.probe()).rejects.toThrow(/closed/);
  });
});
