import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DicomJson } from './dicom-json.js';
import type { FindOptions } from './query.js';
import type { QueryLevel } from './attributes.js';
import { openTestIndex, type TestIndex } from './test-database.js';
import { empty, request, SR, value } from './test-fixtures.js';

let t: TestIndex;

const STUDIES = [
  { patientId: 'P1', patientName: 'Müller^Hans', study: '1.1', accession: 'A100', studyDate: '20200115', studyTime: '083000', description: 'Thorax' },
  { patientId: 'P2', patientName: 'MULLER^Anna', study: '1.2', accession: 'A_1%', studyDate: '20201231', studyTime: '130059', description: 'Abdomen' },
  { patientId: 'P3', patientName: 'Doe^John', study: '1.3', accession: 'A1X%', studyDate: '20210101', studyTime: '1300', description: 'x\\y' },
  { patientId: "'; DROP TABLE study; --", patientName: 'Smith^Jane', study: '1.4', accession: 'A[1]*', studyDate: '20190601', description: 'Knee' },
  { patientId: 'P5', patientName: 'muller^paul', study: '1.5', accession: 'B200', studyDate: '20200301', description: 'Head' },
];

beforeAll(async () => {
  t = await openTestIndex();
  await t.index.indexInstances(STUDIES.flatMap((s, i) => [
    request({ ...s, series: `${s.study}.1`, sop: `${s.study}.1.1`, modality: i % 2 === 0 ? 'CT' : 'MR' }),
    request({ ...s, series: `${s.study}.2`, sop: `${s.study}.2.1`, modality: i === 2 ? 'SR' : 'CT', sopClass: i === 2 ? SR : undefined }),
  ]));
});
afterAll(async () => {
  await t.dispose();
});

/** Study UIDs matched by a STUDY-level query. */
async function studies(identifier: DicomJson, options?: FindOptions): Promise<string[]> {
  const results = await t.index.findAll({ level: 'STUDY', identifier: { '0020000D': empty('UI'), ...identifier }, options });
  expect(await t.index.count({ level: 'STUDY', identifier, options })).toBe(results.length);
  return results.map((r) => String(r['0020000D']?.Value?.[0])).sort();
}

const accession = (v: string) => ({ '00080050': value('SH', v) });
const name = (v: string) => ({ '00100010': value('PN', { Alphabetic: v }) });

describe('single value and universal matching', () => {
  it('matches a single value exactly and case-sensitively', async () => {
    expect(await studies(accession('A100'))).toEqual(['1.1']);
    expect(await studies(accession('a100'))).toEqual([]);
    expect(await studies({ '00081030': value('LO', 'Thorax') })).toEqual(['1.1']);
  });

  it('treats an empty value as universal matching and returns the key', async () => {
    const results = await t.index.findAll({ level: 'STUDY', identifier: { '00080050': empty('SH'), '00100010': empty('PN') } });
    expect(results).toHaveLength(5);
    const p1 = results.find((r) => r['0020000D']?.Value?.[0] === '1.1');
    expect(p1?.['00080050']).toEqual(value('SH', 'A100'));
    expect(p1?.['00100010']).toEqual(value('PN', { Alphabetic: 'Müller^Hans' }));
    expect(p1?.['00080005']).toEqual(value('CS', 'ISO_IR 192'));
    const ascii = results.find((r) => r['0020000D']?.Value?.[0] === '1.3');
    expect(ascii?.['00080005']).toBeUndefined();
  });

  it('matches a lone "*" universally', async () => {
    expect(await studies(accession('*'))).toHaveLength(5);
  });
});

describe('UID list matching', () => {
  it('matches any UID of a list, given as values or backslash-separated', async () => {
    expect(await studies({ '0020000D': value('UI', '1.1', '1.3') })).toEqual(['1.1', '1.3']);
    expect(await studies({ '0020000D': value('UI', '1.2\\1.5\\9.9') })).toEqual(['1.2', '1.5']);
  });
});

describe('wildcard matching', () => {
  it('matches "*" and "?"', async () => {
    expect(await studies(accession('A*'))).toEqual(['1.1', '1.2', '1.3', '1.4']);
    expect(await studies(accession('?200'))).toEqual(['1.5']);
    expect(await studies(accession('*0'))).toEqual(['1.1', '1.5']);
    expect(await studies(accession('A1?%'))).toEqual(['1.3']);
  });

  it('takes "%", "_", "[" and "\\" literally', async () => {
    expect(await studies(accession('A_1%'))).toEqual(['1.2']);
    expect(await studies(accession('A_*'))).toEqual(['1.2']);
    expect(await studies(accession('A%*'))).toEqual([]);
    expect(await studies(accession('*%'))).toEqual(['1.2', '1.3']);
    expect(await studies(accession('A[1]?'))).toEqual(['1.4']);
    expect(await studies(accession('A[*'))).toEqual(['1.4']);
    expect(await studies({ '00081030': value('LO', 'x\\\\y') })).toEqual([]);
  });

  it('matches injection attempts literally', async () => {
    expect(await studies({ '00100020': value('LO', "'; DROP TABLE study; --") })).toEqual(['1.4']);
    expect(await studies({ '00100020': value('LO', "' OR '1'='1") })).toEqual([]);
    expect(await studies({ '00100020': value('LO', "*' OR 1=1; --*") })).toEqual([]);
    expect(await studies({})).toHaveLength(5);
  });
});

describe('date and time range matching', () => {
  const date = (v: string) => ({ '00080020': value('DA', v) });
  it('matches single dates and closed or open ranges', async () => {
    expect(await studies(date('20200115'))).toEqual(['1.1']);
    expect(await studies(date('20200101-20201231'))).toEqual(['1.1', '1.2', '1.5']);
    expect(await studies(date('20201231-'))).toEqual(['1.2', '1.3']);
    expect(await studies(date('-20191231'))).toEqual(['1.4']);
  });

  it('includes the whole upper bound of a time range', async () => {
    expect(await studies({ '00080030': value('TM', '1200-1300') })).toEqual(['1.2', '1.3']);
    expect(await studies({ '00080030': value('TM', '-0830') })).toEqual(['1.1']);
  });
});

describe('person name matching', () => {
  it('is exact and case-sensitive by default', async () => {
    expect(await studies(name('MULLER*'))).toEqual(['1.2']);
    expect(await studies(name('Doe^John'))).toEqual(['1.3']);
    expect(await studies(name('doe^john'))).toEqual([]);
  });

  it('ignores case and accents when fuzzy', async () => {
    expect(await studies(name('MULLER*'), { fuzzyPersonNames: true })).toEqual(['1.1', '1.2', '1.5']);
    expect(await studies(name('Müller^Hans'), { fuzzyPersonNames: true })).toEqual(['1.1']);
    expect(await studies(name('muller^h*'), { fuzzyPersonNames: true })).toEqual(['1.1']);
  });

  it('matches the alphabetic group of names stored with other groups', async () => {
    const extra = await openTestIndex();
    try {
      const r = request({ patientId: 'J', study: '5.1', series: '5.1.1', sop: '5.1.1.1' });
      r.json['00100010'] = value('PN', { Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎' });
      await extra.index.indexInstance(r);
      const results = await extra.index.findAll({ level: 'STUDY', identifier: name('Yamada^Tarou') });
      expect(results[0]?.['00100010']).toEqual(value('PN', { Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎' }));
    } finally {
      await extra.dispose();
    }
  });
});

describe('derived attribute matching', () => {
  it('matches ModalitiesInStudy against any series modality', async () => {
    expect(await studies({ '00080061': value('CS', 'MR') })).toEqual(['1.2', '1.4']);
    expect(await studies({ '00080061': value('CS', 'SR', 'MR') })).toEqual(['1.2', '1.3', '1.4']);
  });
  it('matches SOPClassesInStudy', async () => {
    expect(await studies({ '00080062': value('UI', SR) })).toEqual(['1.3']);
  });
});

describe('levels and information models', () => {
  const find = (level: QueryLevel, identifier: DicomJson, options?: FindOptions) =>
    t.index.findAll({ level, identifier, options });

  it('requires the unique keys of the upper levels in hierarchical queries', async () => {
    await expect(find('SERIES', { '00080060': value('CS', 'CT') })).rejects.toThrow(/StudyInstanceUID/);
    await expect(find('SERIES', { '0020000D': value('UI', '1.*') })).rejects.toThrow(/without wildcards/);
    await expect(find('STUDY', {}, { model: 'PATIENT_ROOT' })).rejects.toThrow(/PatientID/);
    await expect(find('PATIENT', {}, { model: 'STUDY_ROOT' })).rejects.toThrow(/Study Root/);
    const series = await find('SERIES', { '0020000D': value('UI', '1.3'), '00080060': value('CS', 'SR') });
    expect(series.map((s) => s['0020000E']?.Value?.[0])).toEqual(['1.3.2']);
    expect(series[0]?.['00080052']).toEqual(value('CS', 'SERIES'));
  });

  it('allows relational queries across levels', async () => {
    const series = await find('SERIES', { '00080060': value('CS', 'MR') }, { relational: true });
    expect(series.map((s) => s['0020000E']?.Value?.[0]).sort()).toEqual(['1.2.1', '1.4.1']);
    const images = await find('IMAGE', { '00100020': value('LO', 'P1'), '00200013': empty('IS') }, { relational: true });
    expect(images.map((i) => [i['00080018']?.Value?.[0], i['00200013']?.Value?.[0]])).toEqual([['1.1.1.1', 1], ['1.1.2.1', 1]]);
  });

  it('answers Patient Root queries down to IMAGE with their unique keys', async () => {
    const images = await find('IMAGE', {
      '00100020': value('LO', 'P2'), '0020000D': value('UI', '1.2'), '0020000E': value('UI', '1.2.1'), '00080016': empty('UI'),
    }, { model: 'PATIENT_ROOT' });
    expect(images).toHaveLength(1);
    expect(images[0]?.['00080018']).toEqual(value('UI', '1.2.1.1'));
    expect(images[0]?.['00081030']).toBeUndefined();
  });

  it('pages with limit and offset in a stable order', async () => {
    const all = await find('STUDY', {});
    const page = await find('STUDY', {}, { limit: 2, offset: 1 });
    expect(page.map((r) => r['0020000D'])).toEqual(all.slice(1, 3).map((r) => r['0020000D']));
  });
});
