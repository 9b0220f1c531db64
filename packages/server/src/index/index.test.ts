import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ArchiveIndex } from './index.js';
import { CT, SR, empty, request, value } from './test-fixtures.js';
import { openTestIndex, type TestIndex } from './test-database.js';

let t: TestIndex;
let index: ArchiveIndex;

beforeEach(async () => {
  t = await openTestIndex();
  index = t.index;
});
afterEach(async () => {
  await t.dispose();
});

describe('indexing and derived attributes', () => {
  it('counts series and instances and summarises modalities and SOP classes', async () => {
    await index.indexInstances([
      request({ patientId: 'P1', patientName: 'Doe^John', study: '1.1', series: '1.1.1', sop: '1.1.1.1' }),
      request({ patientId: 'P1', patientName: 'Doe^John', study: '1.1', series: '1.1.1', sop: '1.1.1.2', instanceNumber: 2 }),
      request({ patientId: 'P1', patientName: 'Doe^John', study: '1.1', series: '1.1.2', sop: '1.1.2.1', modality: 'SR', sopClass: SR }),
      request({ patientId: 'P1', patientName: 'Doe^John', study: '1.2', series: '1.2.1', sop: '1.2.1.1', modality: 'MR' }),
    ]);
    const [study] = await index.findAll({
      level: 'STUDY',
      identifier: {
        '0020000D': value('UI', '1.1'),
        '00080061': empty('CS'), '00080062': empty('UI'), '00201206': empty('IS'), '00201208': empty('IS'),
      },
    });
    expect(study?.['00080061']?.Value).toEqual(['CT', 'SR']);
    expect(study?.['00080062']?.Value).toEqual([CT, SR]);
    expect(study?.['00201206']?.Value).toEqual([2]);
    expect(study?.['00201208']?.Value).toEqual([3]);
    expect(study?.['00080052']?.Value).toEqual(['STUDY']);

    const [patient] = await index.findAll({
      level: 'PATIENT',
      identifier: { '00100020': value('LO', 'P1'), '00201200': empty('IS'), '00201202': empty('IS'), '00201204': empty('IS') },
      options: { model: 'PATIENT_ROOT' },
    });
    expect(patient?.['00201200']?.Value).toEqual([2]);
    expect(patient?.['00201202']?.Value).toEqual([3]);
    expect(patient?.['00201204']?.Value).toEqual([4]);

    const series = await index.findAll({
      level: 'SERIES',
      identifier: { '0020000D': value('UI', '1.1'), '0020000E': empty('UI'), '00201209': empty('IS'), '00080060': empty('CS') },
    });
    expect(series.map((s) => [s['0020000E']?.Value?.[0], s['00201209']?.Value?.[0], s['00080060']?.Value?.[0]]))
      .toEqual([['1.1.1', 2, 'CT'], ['1.1.2', 1, 'SR']]);
  });

  it('keeps full metadata without bulk data and serves series metadata by instance number', async () => {
    await index.indexInstance(request({ patientId: 'P', study: '2.1', series: '2.1.1', sop: '2.1.1.2', instanceNumber: 2 }));
    await index.indexInstance(request({ patientId: 'P', study: '2.1', series: '2.1.1', sop: '2.1.1.1', instanceNumber: 1 }));
    const metadata = await index.seriesMetadata('2.1.1');
    expect(metadata.map((m) => m['00080018']?.Value?.[0])).toEqual(['2.1.1.1', '2.1.1.2']);
    expect(metadata[0]?.['00181030']?.Value).toEqual(['Protocol 2.1.1']);
    expect(metadata[0]?.['7FE00010']).toEqual({ vr: 'OW' }); // a marker: the value stays in the stored object
    const record = await index.getInstance('2.1.1.2');
    expect(record).toMatchObject({ storageKey: 'k/2.1.1.2', size: 1234, seriesInstanceUid: '2.1.1', studyInstanceUid: '2.1', sourceAe: 'MODALITY1' });
    expect(await index.getInstance('9.9')).toBeUndefined();
  });

  it('returns non-indexed keys from the first instance of the series or study', async () => {
    await index.indexInstance(request({ patientId: 'P', study: '3.1', series: '3.1.1', sop: '3.1.1.1' }));
    const [series] = await index.findAll({
      level: 'SERIES', identifier: { '0020000D': value('UI', '3.1'), '00181030': empty('LO'), '00080070': empty('LO') },
    });
    expect(series?.['00181030']).toEqual(value('LO', 'Protocol 3.1.1'));
    expect(series?.['00080070']).toEqual({ vr: 'LO' });
  });

  it('keeps the first patient of a study received again under another patient, with a warning', async () => {
    await index.indexInstance(request({ patientId: 'A', study: '4.1', series: '4.1.1', sop: '4.1.1.1' }));
    const result = await index.indexInstance(request({ patientId: 'B', study: '4.1', series: '4.1.1', sop: '4.1.1.2' }));
    expect(result.outcome).toBe('stored');
    expect(result.warnings.join()).toMatch(/patient "A"/);
    expect(await index.count({ level: 'PATIENT', identifier: { '00100020': value('LO', 'B') }, options: { model: 'PATIENT_ROOT' } })).toBe(0);
    expect(await index.count({ level: 'STUDY', identifier: { '00100020': value('LO', 'A') } })).toBe(1);
  });

  it('reports an instance without SOP Instance UID as invalid in a batch and stores the others', async () => {
    const bad = request({ study: '5.1', series: '5.1.1', sop: '5.1.1.1' });
    delete bad.json['00080018'];
    const results = await index.indexInstances([bad, request({ study: '5.1', series: '5.1.1', sop: '5.1.1.2' })]);
    expect(results.map((r) => r.outcome)).toEqual(['invalid', 'stored']);
    await expect(index.indexInstance(bad)).rejects.toThrow(/SOPInstanceUID \(0008,0018\)/);
  });

  it('gives studies without Patient ID separate patients', async () => {
    await index.indexInstance(request({ study: '6.1', series: '6.1.1', sop: '6.1.1.1' }));
    await index.indexInstance(request({ study: '6.2', series: '6.2.1', sop: '6.2.1.1' }));
    expect(await index.count({ level: 'PATIENT', identifier: {}, options: { model: 'PATIENT_ROOT' } })).toBe(2);
  });
});

describe('concurrent ingest', () => {
  it('keeps counts exact when many transactions create and fill one study at once', async () => {
    const requests = Array.from({ length: 24 }, (_, i) =>
      request({ patientId: 'C', study: '10.1', series: `10.1.${i % 4}`, sop: `10.1.${i % 4}.${i}`, modality: i % 2 ? 'CT' : 'MR' }));
    const results = await Promise.all([
      ...requests.map((r) => index.indexInstance(r)),
      // The same SOP Instance again as another object (a new storage key): a duplicate.
      index.indexInstance({ ...requests[0]!, storage: { ...requests[0]!.storage, key: `${requests[0]!.storage.key}.again` } }),
    ]);
    expect(results.filter((r) => r.outcome === 'stored')).toHaveLength(24);
    expect(results.filter((r) => r.outcome === 'rejected-duplicate')).toHaveLength(1);
    const [study] = await index.findAll({
      level: 'STUDY', identifier: { '0020000D': value('UI', '10.1'), '00201206': empty('IS'), '00201208': empty('IS'), '00080061': empty('CS') },
    });
    expect(study?.['00201206']?.Value).toEqual([4]);
    expect(study?.['00201208']?.Value).toEqual([24]);
    expect([...(study?.['00080061']?.Value ?? [])].sort()).toEqual(['CT', 'MR']);
    expect(await index.count({ level: 'PATIENT', identifier: {}, options: { model: 'PATIENT_ROOT' } })).toBe(1);
  });

  it('keeps counts exact when concurrent batches fill the same series and studies', async () => {
    // Each batch writes its counts once, at its end: concurrent ones must add up, not overwrite.
    const batches = Array.from({ length: 8 }, (_, b) => Array.from({ length: 12 }, (_, i) => {
      const study = `13.${i % 3}`;
      const series = `${study}.${i % 2}`;
      return request({ patientId: `Q${i % 3}`, study, series, sop: `${series}.${b}.${i}`, modality: i % 2 ? 'CT' : 'MR' });
    }));
    const results = await Promise.all(batches.map((batch) => index.indexInstances(batch)));
    expect(results.flat().every((r) => r.outcome === 'stored')).toBe(true);
    const studies = await index.findAll({
      level: 'STUDY', identifier: { '0020000D': empty('UI'), '00201206': empty('IS'), '00201208': empty('IS'), '00080061': empty('CS') },
    });
    expect(Object.fromEntries(studies.map((s) => [s['0020000D']?.Value?.[0], [s['00201206']?.Value?.[0], s['00201208']?.Value?.[0], [...(s['00080061']?.Value ?? [])].sort()]])))
      .toEqual({ '13.0': [2, 32, ['CT', 'MR']], '13.1': [2, 32, ['CT', 'MR']], '13.2': [2, 32, ['CT', 'MR']] });
    const series = await index.findAll({ level: 'SERIES', identifier: { '0020000D': value('UI', '13.1'), '0020000E': empty('UI'), '00201209': empty('IS') } });
    expect(series.map((s) => s['00201209']?.Value?.[0])).toEqual([16, 16]);
  });
});

describe('duplicate policies', () => {
  const first = { patientId: 'P', study: '7.1', series: '7.1.1', sop: '7.1.1.1' };

  it('keep-first ignores the second copy', async () => {
    await index.indexInstance(request(first));
    expect(await index.indexInstance(request(first, 'keep-first', 'other'))).toEqual({ outcome: 'duplicate-ignored', warnings: [] });
    expect((await index.getInstance('7.1.1.1'))?.storageKey).toBe('k/7.1.1.1');
  });

  it('reject refuses the second copy', async () => {
    await index.indexInstance(request(first));
    expect((await index.indexInstance(request(first, 'reject', 'other'))).outcome).toBe('rejected-duplicate');
    expect((await index.getInstance('7.1.1.1'))?.storageKey).toBe('k/7.1.1.1');
  });

  it('overwrite replaces and returns the old storage key, counts unchanged', async () => {
    await index.indexInstance(request(first));
    const result = await index.indexInstance(request({ ...first, description: 'New' }, 'overwrite', 'new-key'));
    expect(result).toEqual({ outcome: 'replaced', replacedStorageKey: 'k/7.1.1.1', warnings: [] });
    expect((await index.getInstance('7.1.1.1'))?.storageKey).toBe('new-key');
    const [study] = await index.findAll({ level: 'STUDY', identifier: { '0020000D': value('UI', '7.1'), '00201208': empty('IS') } });
    expect(study?.['00201208']?.Value).toEqual([1]);
  });

  it('keeps counts exact when one batch adds to series and studies and replaces what it added', async () => {
    // One transaction: counts are written once per series and study, and before each replacement reads them.
    const spec = (study: string, series: string, sop: string, modality = 'CT') => ({ patientId: 'B', study, series, sop, modality });
    const results = await index.indexInstances([
      request(spec('12.1', '12.1.1', '12.1.1.1')),
      request(spec('12.1', '12.1.1', '12.1.1.2')),
      request(spec('12.1', '12.1.2', '12.1.2.1', 'MR')),
      request(spec('12.2', '12.2.1', '12.2.1.1', 'SR')),
      // The only instance of its series and study, replaced: its series, study and patient are removed and made again.
      request(spec('12.2', '12.2.1', '12.2.1.1', 'SR'), 'overwrite', 'again/12.2.1.1'),
      request(spec('12.1', '12.1.1', '12.1.1.2'), 'overwrite', 'again/12.1.1.2'),
      request(spec('12.1', '12.1.1', '12.1.1.3')),
      request(spec('12.1', '12.1.2', '12.1.2.1', 'MR'), 'keep-first', 'ignored'),
    ]);
    expect(results.map((r) => r.outcome)).toEqual(['stored', 'stored', 'stored', 'stored', 'replaced', 'replaced', 'stored', 'duplicate-ignored']);
    const studies = await index.findAll({
      level: 'STUDY',
      identifier: { '0020000D': empty('UI'), '00201206': empty('IS'), '00201208': empty('IS'), '00080061': empty('CS') },
    });
    const summary = Object.fromEntries(studies.map((s) => [s['0020000D']?.Value?.[0], [s['00201206']?.Value?.[0], s['00201208']?.Value?.[0], s['00080061']?.Value]]));
    expect(summary).toEqual({ '12.1': [2, 4, ['CT', 'MR']], '12.2': [1, 1, ['SR']] });
    const series = await index.findAll({ level: 'SERIES', identifier: { '0020000D': value('UI', '12.1'), '0020000E': empty('UI'), '00201209': empty('IS') } });
    expect(Object.fromEntries(series.map((s) => [s['0020000E']?.Value?.[0], s['00201209']?.Value?.[0]]))).toEqual({ '12.1.1': 3, '12.1.2': 1 });
    expect((await index.getInstance('12.1.1.2'))?.storageKey).toBe('again/12.1.1.2');
  });
});

describe('deleteInstance', () => {
  it('updates derived attributes and removes emptied series, study and patient', async () => {
    await index.indexInstances([
      request({ patientId: 'D', study: '8.1', series: '8.1.1', sop: '8.1.1.1' }),
      request({ patientId: 'D', study: '8.1', series: '8.1.2', sop: '8.1.2.1', modality: 'SR', sopClass: SR }),
    ]);
    expect(await index.deleteInstance('8.1.2.1')).toEqual({ storageKey: 'k/8.1.2.1' });
    const [study] = await index.findAll({
      level: 'STUDY', identifier: { '0020000D': value('UI', '8.1'), '00080061': empty('CS'), '00080062': empty('UI'), '00201206': empty('IS') },
    });
    expect(study?.['00080061']?.Value).toEqual(['CT']);
    expect(study?.['00080062']?.Value).toEqual([CT]);
    expect(study?.['00201206']?.Value).toEqual([1]);
    await index.deleteInstance('8.1.1.1');
    expect(await index.count({ level: 'PATIENT', identifier: {}, options: { model: 'PATIENT_ROOT' } })).toBe(0);
    expect(await index.deleteInstance('8.1.1.1')).toBeUndefined();
  });
});

describe('study, series and resource-path instance deletion', () => {
  beforeEach(async () => {
    await index.indexInstances([
      request({ patientId: 'E', study: '11.1', series: '11.1.1', sop: '11.1.1.1' }),
      request({ patientId: 'E', study: '11.1', series: '11.1.1', sop: '11.1.1.2' }),
      request({ patientId: 'E', study: '11.1', series: '11.1.2', sop: '11.1.2.1', modality: 'SR', sopClass: SR }),
      request({ patientId: 'E', study: '11.2', series: '11.2.1', sop: '11.2.1.1', modality: 'MR' }),
    ]);
  });
  const studySummary = async (uid: string) => (await index.findAll({
    level: 'STUDY',
    identifier: { '0020000D': value('UI', uid), '00080061': empty('CS'), '00080062': empty('UI'), '00201206': empty('IS'), '00201208': empty('IS') },
  }))[0];

  it('deletes a series and keeps the study counts, modalities and SOP classes right', async () => {
    expect(await index.deleteSeries({ studyInstanceUid: '11.1', seriesInstanceUid: '11.1.2' })).toEqual({ storageKeys: ['k/11.1.2.1'] });
    const study = await studySummary('11.1');
    expect(study?.['00080061']?.Value).toEqual(['CT']);
    expect(study?.['00080062']?.Value).toEqual([CT]);
    expect(study?.['00201206']?.Value).toEqual([1]);
    expect(study?.['00201208']?.Value).toEqual([2]);
    const keys = (await index.deleteSeries({ studyInstanceUid: '11.1', seriesInstanceUid: '11.1.1' }))?.storageKeys;
    expect(keys?.sort()).toEqual(['k/11.1.1.1', 'k/11.1.1.2']);
    expect(await studySummary('11.1')).toBeUndefined();
    expect(await index.count({ level: 'PATIENT', identifier: {}, options: { model: 'PATIENT_ROOT' } })).toBe(1);
  });

  it('deletes a study with all its series and instances, then its patient once it has no study', async () => {
    expect((await index.deleteStudy('11.1'))?.storageKeys.sort()).toEqual(['k/11.1.1.1', 'k/11.1.1.2', 'k/11.1.2.1']);
    expect(await index.count({ level: 'IMAGE', identifier: { '0020000D': value('UI', '11.1') }, options: { relational: true } })).toBe(0);
    expect(await index.getInstance('11.1.1.1')).toBeUndefined();
    expect(await index.count({ level: 'PATIENT', identifier: {}, options: { model: 'PATIENT_ROOT' } })).toBe(1);
    await index.deleteStudy('11.2');
    expect(await index.count({ level: 'PATIENT', identifier: {}, options: { model: 'PATIENT_ROOT' } })).toBe(0);
    expect(await index.deleteStudy('11.2')).toBeUndefined();
  });

  it('deletes nothing when the path does not lead to the resource', async () => {
    expect(await index.deleteSeries({ studyInstanceUid: '11.2', seriesInstanceUid: '11.1.1' })).toBeUndefined();
    expect(await index.deleteInstanceAt({ studyInstanceUid: '11.1', seriesInstanceUid: '11.1.2', sopInstanceUid: '11.1.1.1' })).toBeUndefined();
    expect(await index.count({ level: 'IMAGE', identifier: {}, options: { relational: true } })).toBe(4);
    expect(await index.deleteInstanceAt({ studyInstanceUid: '11.1', seriesInstanceUid: '11.1.1', sopInstanceUid: '11.1.1.1' }))
      .toEqual({ storageKeys: ['k/11.1.1.1'] });
    expect((await studySummary('11.1'))?.['00201208']?.Value).toEqual([2]);
  });
});

describe('retrieve and verification reads', () => {
  beforeEach(async () => {
    await index.indexInstances([
      request({ patientId: 'R', study: '9.1', series: '9.1.1', sop: '9.1.1.1' }),
      request({ patientId: 'R', study: '9.1', series: '9.1.2', sop: '9.1.2.1' }),
      request({ patientId: 'R', study: '9.2', series: '9.2.1', sop: '9.2.1.1' }),
    ]);
  });

  it('lists the instances of studies, series or instances designated by unique keys', async () => {
    const byStudy = await index.listInstancesForRetrieve('STUDY', { '0020000D': value('UI', '9.1') });
    expect(byStudy.map((r) => r.sopInstanceUid)).toEqual(['9.1.1.1', '9.1.2.1']);
    expect(byStudy[0]).toEqual({
      sopInstanceUid: '9.1.1.1', sopClassUid: CT, transferSyntaxUid: '1.2.840.10008.1.2.1',
      storageKey: 'k/9.1.1.1', size: 1234, sha256: 'ab'.repeat(32),
    });
    const bySeries = await index.listInstancesForRetrieve('SERIES', { '0020000D': value('UI', '9.1'), '0020000E': value('UI', '9.1.2', '9.2.1') });
    expect(bySeries.map((r) => r.sopInstanceUid)).toEqual(['9.1.2.1']);
    const byPatient = await index.listInstancesForRetrieve('PATIENT', { '00100020': value('LO', 'R') });
    expect(byPatient).toHaveLength(3);
  });

  it('refuses a retrieve without the unique key of its level', async () => {
    await expect(index.listInstancesForRetrieve('SERIES', { '0020000D': value('UI', '9.1') })).rejects.toThrow(/SeriesInstanceUID/);
  });

  it('iterates every storage record', async () => {
    const keys: string[] = [];
    for await (const record of index.allStorageRecords()) keys.push(record.storageKey);
    expect(keys.sort()).toEqual(['k/9.1.1.1', 'k/9.1.2.1', 'k/9.2.1.1']);
  });
});
