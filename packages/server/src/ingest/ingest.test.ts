// The index journal names stored objects, and its replay reads their metadata back from them:
// what it reads must be the very document ingest indexed when the object arrived.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parsePart10 } from '@loire/dicom';
import type { DicomJson, IndexRequest } from '../index/index.js';
import { silentLogger } from '../logger.js';
import { FilesystemStorage } from '../storage/filesystem.js';
import { datasetBytesOfFile } from '../testing/dataset-bytes.js';
import { IngestService } from './ingest.js';
import type { InstanceIndexer } from './indexer.js';

const SAMPLES = '../shared/dicom-samples/syntaxes';
const FILES = [
  'orthanc-by-ts-uid/1.2.840.10008.1.2.dcm', // implicit VR
  'orthanc-by-ts-uid/1.2.840.10008.1.2.1.99.dcm', // deflate
  'orthanc-by-ts-uid/1.2.840.10008.1.2.2.dcm', // big endian
  'orthanc-by-ts-uid/1.2.840.10008.1.2.4.70.dcm', // encapsulated
  'misc/LenaTwiceWithFragments.dcm', // fragments, two frames
];

/** The DICOM JSON of an index request, made now when ingest left it for after the answer. */
function jsonOf(request: IndexRequest): DicomJson {
  return typeof request.json === 'function' ? request.json() : request.json;
}

let dir: string;
let storage: FilesystemStorage;
let indexed: IndexRequest[];
let ingest: IngestService;

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'loire-ingest-'));
  storage = new FilesystemStorage(dir);
  await storage.init();
  indexed = [];
  const indexer: InstanceIndexer = {
    journaled: true,
    enqueueInstance: (request) => {
      indexed.push(request);
      return { indexed: Promise.resolve({ outcome: 'stored', warnings: [] }), room: undefined };
    },
  };
  ingest = new IngestService({ storage, indexer, logger: silentLogger(), duplicatePolicy: 'overwrite' });
});

afterEach(async () => {
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('IngestService.readStoredMetadata', () => {
  it.each(FILES)('reads back from a stored %s the DICOM JSON ingest indexed (C-STORE and Part 10)', async (name) => {
    const file = path.join(SAMPLES, name);
    const { dataset, transferSyntaxUid } = parsePart10(readFileSync(file));
    const received = await ingest.beginDataset({
      transferSyntaxUid, sopClassUid: dataset.string(0x00080016)!, sopInstanceUid: dataset.string(0x00080018)!,
      source: { door: 'dimse', from: 'MODALITY' }, acknowledgeWhenJournaled: true,
    });
    await received.write(datasetBytesOfFile(file));
    const viaDimse = await received.end();
    const imported = await ingest.beginPart10({ door: 'import', from: file });
    await imported.write(readFileSync(file));
    const viaImport = await imported.end();

    expect(indexed).toHaveLength(2);
    // Acknowledged once journalled, the C-STORE's object is converted after its answer.
    expect(indexed[0]!.json).toBeTypeOf('function');
    const [dimseJson, importJson] = indexed.map(jsonOf);
    // Pixel data, which the index's documents leave out, is given no byte range to be dropped later.
    expect(dimseJson!['7FE00010']).toBeDefined();
    expect(dimseJson!['7FE00010']!.BulkDataURI).toBeUndefined();
    expect(await ingest.readStoredMetadata({ key: viaDimse.storageKey, size: viaDimse.size })).toEqual(dimseJson);
    expect(await ingest.readStoredMetadata({ key: viaImport.storageKey, size: viaImport.size })).toEqual(importJson);
  });

  it('answers undefined for an object that is gone, a key that is not one, and an object no longer DICOM', async () => {
    const imported = await ingest.beginPart10({ door: 'import' });
    await imported.write(readFileSync(path.join(SAMPLES, FILES[0]!)));
    const { storageKey, size } = await imported.end();
    await storage.delete(storageKey);
    expect(await ingest.readStoredMetadata({ key: storageKey, size })).toBeUndefined();
    expect(await ingest.readStoredMetadata({ key: '../index.sqlite', size })).toBeUndefined();

    const writer = await storage.createWriter();
    await writer.write(readFileSync(path.join(SAMPLES, FILES[0]!)).subarray(0, 200));
    const truncated = await writer.commit('1.2.3');
    expect(await ingest.readStoredMetadata(truncated)).toBeUndefined();
  });
});
