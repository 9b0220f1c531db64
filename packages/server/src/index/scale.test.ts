// Query plans on a synthetic archive: every study-level query path must be served by an index
// (no full scan of study or instance), on SQLite and on PostgreSQL.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DicomJson } from './dicom-json.js';
import { explainFind, type FindOptions } from './query.js';
import { syntheticInstance } from './synthetic.js';
import { fillSynthetic } from './index.js';
import { openTestIndex, type TestIndex } from './test-database.js';

const N = 5000;
const SHAPE = { instancesPerSeries: 5, seriesPerStudy: 2, studiesPerPatient: 2 };
let t: TestIndex;

beforeAll(async () => {
  t = await openTestIndex();
  expect(await fillSynthetic(t.index, { instances: N, batchSize: 500, ...SHAPE })).toBe(N);
});
afterAll(async () => {
  await t.dispose();
});

/** Plan lines of a STUDY-level query; on PostgreSQL with sequential scans discouraged, as a large table would. */
async function studyPlan(identifier: DicomJson, options?: FindOptions): Promise<string> {
  const context = { db: t.index.db, dialect: t.index.dialect };
  const query = { level: 'STUDY' as const, identifier: { '0020000D': { vr: 'UI' }, ...identifier }, options };
  if (t.index.dialect === 'sqlite') return (await explainFind(context, query)).join('\n');
  return t.index.db.connection().execute(async (connection) => {
    await sql`set enable_seqscan = off`.execute(connection);
    try {
      return (await explainFind(context, query, connection)).join('\n');
    } finally {
      await sql`reset enable_seqscan`.execute(connection);
    }
  });
}

function expectNoFullScan(plan: string): void {
  const fullScan = t.index.dialect === 'sqlite'
    ? /\bSCAN (study|instance|patient|series|mis)\b/
    : /Seq Scan on (study|instance|patient|series)\b/;
  expect(plan, plan).not.toMatch(fullScan);
}

describe(`study-level query plans over ${N} synthetic instances`, () => {
  const sample = syntheticInstance(1234, SHAPE);
  const patientName = (sample['00100010']?.Value?.[0] as { Alphabetic: string }).Alphabetic;

  it('stored every synthetic instance with its counts', async () => {
    expect(await t.index.count({ level: 'IMAGE', identifier: {}, options: { relational: true } })).toBe(N);
    expect(await t.index.count({ level: 'STUDY', identifier: {} })).toBe(N / 10);
  });

  it('PatientName prefix uses the patient name index', async () => {
    const prefix = `${patientName.slice(0, 5)}*`;
    expectNoFullScan(await studyPlan({ '00100010': { vr: 'PN', Value: [{ Alphabetic: prefix }] } }));
    expectNoFullScan(await studyPlan({ '00100010': { vr: 'PN', Value: [{ Alphabetic: prefix }] } }, { fuzzyPersonNames: true }));
    const found = await t.index.findAll({ level: 'STUDY', identifier: { '00100010': { vr: 'PN', Value: [{ Alphabetic: prefix }] } } });
    expect(found.length).toBeGreaterThan(0);
  });

  it('PatientID uses the patient identity index', async () => {
    expectNoFullScan(await studyPlan({ '00100020': sample['00100020']! }));
    expect(await t.index.count({ level: 'STUDY', identifier: { '00100020': sample['00100020']! } })).toBe(2);
  });

  it('StudyDate range uses the study date index', async () => {
    expectNoFullScan(await studyPlan({ '00080020': { vr: 'DA', Value: ['20100101-20101231'] } }));
  });

  it('AccessionNumber uses the accession index', async () => {
    expectNoFullScan(await studyPlan({ '00080050': sample['00080050']! }));
    expect(await t.index.count({ level: 'STUDY', identifier: { '00080050': sample['00080050']! } })).toBe(1);
  });

  it('ModalitiesInStudy uses the series modality index', async () => {
    expectNoFullScan(await studyPlan({ '00080061': { vr: 'CS', Value: ['MR'] } }));
  });
});
