import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { INDEX_SOURCE_TAGS } from './attributes.js';
import { withoutBulkData, type DicomJson } from './dicom-json.js';
import { createTestDatabase } from '../testing/database.js';
import { openIndex, type ArchiveIndex, type MetadataFillerOptions } from './index.js';
import { instance, request, value, type Spec } from './test-fixtures.js';
import { openTestIndex, type TestIndex } from './test-database.js';

let t: TestIndex | undefined;
afterEach(async () => {
  await t?.dispose();
  t = undefined;
});

/** The objects "in storage" by key, and the keys read back so far. */
interface Storage {
  objects: Map<string, DicomJson>;
  reads: string[];
  /** Calls of the reader, failed ones included. */
  attempts: number;
  failing: boolean;
}

async function indexWithFiller(options: MetadataFillerOptions): Promise<{ index: ArchiveIndex; storage: Storage }> {
  t = await openTestIndex();
  const storage: Storage = { objects: new Map(), reads: [], attempts: 0, failing: false };
  t.index.makeMetadataLater(async ({ key }) => {
    storage.attempts++;
    if (storage.failing) throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
    storage.reads.push(key);
    return storage.objects.get(key);
  }, options);
  return { index: t.index, storage };
}

/** Ingests as the ingest service does: the object stored, only the index's attributes converted. */
async function ingest(index: ArchiveIndex, storage: Storage, spec: Spec): Promise<void> {
  const full = instance({ ...spec, patientName: 'Doe^Jane' });
  const req = request(spec);
  storage.objects.set(req.storage.key, full);
  const indexOnly = Object.fromEntries(Object.entries(full).filter(([tag]) => INDEX_SOURCE_TAGS.has(parseInt(tag, 16))));
  await index.enqueueInstance({ ...req, json: indexOnly, metadataLater: true }).indexed;
}

async function pendingCount(index: ArchiveIndex): Promise<number> {
  const { rows } = await sql<{ n: number }>`select count(*) as n from instance where length(metadata) = 0`.execute(index.db);
  return Number(rows[0]!.n);
}

const spec = (study: string, i: number): Spec => ({ patientId: 'P', study, series: `${study}.1`, sop: `${study}.1.${i}`, instanceNumber: i });

describe('metadata documents made after ingest', () => {
  it('indexes without the document, and makes those a read covers from the stored objects before it reads', async () => {
    const { index, storage } = await indexWithFiller({ idleMs: 60_000, maxDelayMs: 60_000 });
    for (let i = 1; i <= 3; i++) await ingest(index, storage, spec('1.1', i));
    await ingest(index, storage, spec('1.2', 1));
    expect(await pendingCount(index)).toBe(4);
    expect(storage.reads).toEqual([]);

    const documents = await index.metadataDocuments({ studyInstanceUid: '1.1' });
    expect(documents.map((d) => JSON.parse(d.json) as DicomJson))
      .toEqual([1, 2, 3].map((i) => withoutBulkData(instance({ ...spec('1.1', i), patientName: 'Doe^Jane' }))));
    // Only the study read: the other study's instance waits for the background.
    expect(storage.reads.sort()).toEqual(['k/1.1.1.1', 'k/1.1.1.2', 'k/1.1.1.3']);
    expect(await pendingCount(index)).toBe(1);

    // Every other reader of documents makes them first too.
    expect((await index.getInstance('1.2.1.1'))?.metadata['00181030']).toEqual(value('LO', 'Protocol 1.2.1'));
    expect(await pendingCount(index)).toBe(0);
  });

  it('makes them for series metadata, instance lookups and queries that return attributes not in the index', async () => {
    const { index, storage } = await indexWithFiller({ idleMs: 60_000, maxDelayMs: 60_000 });
    await ingest(index, storage, spec('2.1', 1));
    expect((await index.seriesMetadata('2.1.1'))[0]?.['00181030']).toEqual(value('LO', 'Protocol 2.1.1'));
    await ingest(index, storage, spec('2.2', 1));
    await ingest(index, storage, spec('2.2', 2));
    const [study] = await index.findAll({ level: 'STUDY', identifier: { '0020000D': value('UI', '2.2'), '00181030': { vr: 'LO' } } });
    expect(study?.['00181030']).toEqual(value('LO', 'Protocol 2.2.1'));
    // A query reads the first instance of each study it answers: only that one's document is made.
    expect(await pendingCount(index)).toBe(1);
    await ingest(index, storage, spec('2.3', 1));
    expect((await index.metadataOfInstances(['2.3.1.1']))).toHaveLength(1);
    expect(await pendingCount(index)).toBe(1);
  });

  it('makes them in the background once the index has been quiet a moment', async () => {
    const { index, storage } = await indexWithFiller({ idleMs: 20, maxDelayMs: 60_000, batchSize: 4 });
    for (let i = 1; i <= 10; i++) await ingest(index, storage, spec('3.1', i));
    await vi.waitFor(async () => expect(await pendingCount(index)).toBe(0), { timeout: 5_000, interval: 20 });
    expect(storage.reads).toHaveLength(10);
  });

  it('makes at start, without waiting for ingest, the documents an earlier run left', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'loire-filler-'));
    const database = await createTestDatabase(dir);
    try {
      const storage: Storage = { objects: new Map(), reads: [], attempts: 0, failing: false };
      const read = async ({ key }: { key: string }) => storage.objects.get(key);
      const first = await openIndex(database.url);
      first.makeMetadataLater(read, { idleMs: 60_000, maxDelayMs: 60_000 });
      for (let i = 1; i <= 3; i++) await ingest(first, storage, spec('7.1', i));
      await first.close();

      const second = await openIndex(database.url);
      try {
        expect(await pendingCount(second)).toBe(3);
        second.makeMetadataLater(read, { idleMs: 10, maxDelayMs: 60_000 });
        await vi.waitFor(async () => expect(await pendingCount(second)).toBe(0), { timeout: 5_000, interval: 20 });
      } finally {
        await second.close();
      }
    } finally {
      await database.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives an instance whose object is gone a document of its identifiers, so that it is not tried again', async () => {
    const { index, storage } = await indexWithFiller({ idleMs: 60_000, maxDelayMs: 60_000 });
    await ingest(index, storage, spec('4.1', 1));
    storage.objects.clear();
    const [document] = await index.metadataDocuments({ studyInstanceUid: '4.1' });
    expect(JSON.parse(document!.json)).toEqual({
      '00080016': value('UI', '1.2.840.10008.5.1.4.1.1.2'),
      '00080018': value('UI', '4.1.1.1'),
      '0020000D': value('UI', '4.1'),
      '0020000E': value('UI', '4.1.1'),
    });
    expect(await pendingCount(index)).toBe(0);
  });

  it('fails a read while storage cannot be read, and serves it once storage is back', async () => {
    const { index, storage } = await indexWithFiller({ idleMs: 60_000, maxDelayMs: 60_000 });
    await ingest(index, storage, spec('5.1', 1));
    storage.failing = true;
    await expect(index.metadataDocuments({ studyInstanceUid: '5.1' })).rejects.toThrow(/EIO/);
    expect(await pendingCount(index)).toBe(1);
    storage.failing = false;
    expect(await index.metadataDocuments({ studyInstanceUid: '5.1' })).toHaveLength(1);
  });

  it('waits after a failure in the background instead of trying again at every commit', async () => {
    const { index, storage } = await indexWithFiller({ idleMs: 10, maxDelayMs: 60_000, retryMinMs: 60_000 });
    storage.failing = true;
    await ingest(index, storage, spec('8.1', 1));
    await vi.waitFor(() => expect(storage.attempts).toBeGreaterThanOrEqual(1), { timeout: 5_000, interval: 10 });
    // A round started by the filler's start may have read the instance too, before the first failure was known.
    await new Promise((r) => setTimeout(r, 200));
    const failedAttempts = storage.attempts;
    await ingest(index, storage, spec('8.2', 1));
    await ingest(index, storage, spec('8.2', 2));
    await new Promise((r) => setTimeout(r, 300));
    expect(storage.attempts).toBe(failedAttempts);
    expect(await pendingCount(index)).toBe(3);
  });

  it('tries again in the background after a failure, and makes the documents once storage is back', async () => {
    const { index, storage } = await indexWithFiller({ idleMs: 10, maxDelayMs: 60_000, retryMinMs: 20 });
    storage.failing = true;
    await ingest(index, storage, spec('8.3', 1));
    await vi.waitFor(() => expect(storage.attempts).toBeGreaterThanOrEqual(1), { timeout: 5_000, interval: 10 });
    storage.failing = false;
    await vi.waitFor(async () => expect(await pendingCount(index)).toBe(0), { timeout: 10_000, interval: 50 });
  });

  it('makes the document of the object that replaced an instance, not of the one it replaced', async () => {
    const { index, storage } = await indexWithFiller({ idleMs: 60_000, maxDelayMs: 60_000 });
    await ingest(index, storage, spec('6.1', 1));
    const replacement = request(spec('6.1', 1), 'overwrite', 'k/second-copy');
    const full = { ...instance(spec('6.1', 1)), '00181030': value('LO', 'Second copy') };
    storage.objects.set('k/second-copy', full);
    await index.enqueueInstance({ ...replacement, json: full, metadataLater: true }).indexed;
    expect((await index.getInstance('6.1.1.1'))?.metadata['00181030']).toEqual(value('LO', 'Second copy'));
    expect(storage.reads).toEqual(['k/second-copy']);
  });
});
