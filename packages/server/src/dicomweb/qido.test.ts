import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DicomJson } from '../index/index.js';
import { request as indexRequest, type Spec } from '../index/test-fixtures.js';
import { startTestLoire, type TestLoire } from '../testing/loire.js';
import { MAX_RESULTS } from './qido.js';

let loire: TestLoire;
let base: string;

const STUDIES: Spec[] = [
  { patientId: 'P1', patientName: 'Müller^Zoë', study: '1.2.1', series: '1.2.1.1', sop: '1.2.1.1.1', studyDate: '20200105', studyTime: '101500', accession: 'ACC1', description: 'Thorax', modality: 'CT', instanceNumber: 1 },
  { patientId: 'P1', patientName: 'Müller^Zoë', study: '1.2.1', series: '1.2.1.1', sop: '1.2.1.1.2', studyDate: '20200105', studyTime: '101500', accession: 'ACC1', description: 'Thorax', modality: 'CT', instanceNumber: 2 },
  { patientId: 'P1', patientName: 'Müller^Zoë', study: '1.2.1', series: '1.2.1.2', sop: '1.2.1.2.1', studyDate: '20200105', studyTime: '101500', accession: 'ACC1', description: 'Thorax', modality: 'SR', sopClass: '1.2.840.10008.5.1.4.1.1.88.11' },
  { patientId: 'P2', patientName: 'Doe^John', study: '1.2.2', series: '1.2.2.1', sop: '1.2.2.1.1', studyDate: '20210310', studyTime: '080000', accession: 'ACC2', description: 'Head', modality: 'MR' },
  { patientId: 'P3', patientName: 'Dupont^Jean', study: '1.2.3', series: '1.2.3.1', sop: '1.2.3.1.1', studyDate: '20220701', studyTime: '153000', accession: 'ACC3', description: 'Knee', modality: 'MR' },
];

async function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}${path}`, { headers: { ...loire.httpHeaders, ...headers } });
}

/** The results of a search; no match is 204 No Content (PS3.18 §8.3.4.4.1). */
async function search(path: string): Promise<DicomJson[]> {
  const res = await get(path);
  if (res.status === 204) {
    expect(await res.text()).toBe('');
    return [];
  }
  if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
  expect(res.headers.get('content-type')).toBe('application/dicom+json');
  return (await res.json()) as DicomJson[];
}

const first = (json: DicomJson, tag: string): unknown => json[tag]?.Value?.[0];
const studyUids = (results: DicomJson[]): unknown[] => results.map((r) => first(r, '0020000D')).sort();

beforeAll(async () => {
  loire = await startTestLoire({ corsOrigins: ['https://viewer.example.org'] });
  base = `http://127.0.0.1:${loire.httpPort}/dicom-web`;
  await loire.server.archive.index.indexInstances(STUDIES.map((s) => indexRequest(s)));
});

afterAll(async () => {
  await loire?.stop();
});

describe('QIDO-RS search for studies', () => {
  it('returns the default study attributes of PS3.18 Table 10.6.3-3 with Retrieve URL and availability', async () => {
    const [study] = await search('/studies?StudyInstanceUID=1.2.1');
    expect(study).toBeDefined();
    for (const tag of ['00080020', '00080030', '00080050', '00080056', '00080061', '00080090', '00080201', '00081190',
      '00100010', '00100020', '00100030', '00100040', '0020000D', '00200010', '00201206', '00201208']) {
      expect(study, tag).toHaveProperty(tag);
    }
    expect(study).not.toHaveProperty('00080052'); // Query/Retrieve Level belongs to C-FIND only
    expect(first(study!, '00081190')).toBe(`${base}/studies/1.2.1`);
    expect(first(study!, '00080056')).toBe('ONLINE');
    expect(study!['00080061']?.Value).toEqual(['CT', 'SR']);
    expect(first(study!, '00201206')).toBe(2);
    expect(first(study!, '00201208')).toBe(3);
    expect(first(study!, '00100010')).toEqual({ Alphabetic: 'Müller^Zoë' });
    expect(first(study!, '00080005')).toBe('ISO_IR 192');
  });

  it('matches by keyword or tag, wildcards, date ranges, UID lists and modalities', async () => {
    expect(studyUids(await search('/studies?PatientID=P2'))).toEqual(['1.2.2']);
    expect(studyUids(await search('/studies?00100020=P2'))).toEqual(['1.2.2']);
    expect(studyUids(await search('/studies?PatientName=D*'))).toEqual(['1.2.2', '1.2.3']);
    expect(studyUids(await search('/studies?PatientName=Du?ont*'))).toEqual(['1.2.3']);
    expect(studyUids(await search('/studies?StudyDate=20210101-'))).toEqual(['1.2.2', '1.2.3']);
    expect(studyUids(await search('/studies?StudyDate=-20210310'))).toEqual(['1.2.1', '1.2.2']);
    expect(studyUids(await search('/studies?StudyDate=20200101-20201231'))).toEqual(['1.2.1']);
    expect(studyUids(await search('/studies?StudyInstanceUID=1.2.1,1.2.3'))).toEqual(['1.2.1', '1.2.3']);
    expect(studyUids(await search('/studies?StudyInstanceUID=1.2.1%5C1.2.2'))).toEqual(['1.2.1', '1.2.2']);
    expect(studyUids(await search('/studies?ModalitiesInStudy=MR'))).toEqual(['1.2.2', '1.2.3']);
    expect(studyUids(await search('/studies?AccessionNumber=ACC3&StudyTime=1500-1600'))).toEqual(['1.2.3']);
    expect(studyUids(await search('/studies?PatientID=P2&emptyvaluematching=false&multiplevaluematching=false'))).toEqual(['1.2.2']);
    const none = await get('/studies?PatientID=NOBODY');
    expect(none.status).toBe(204); // PS3.18 §8.3.4.4.1: no results, no content
  });

  it('matches person names case- and accent-insensitively only with fuzzymatching=true', async () => {
    expect(await search('/studies?PatientName=MULLER*')).toEqual([]);
    expect(studyUids(await search('/studies?PatientName=MULLER*&fuzzymatching=true'))).toEqual(['1.2.1']);
  });

  it('returns includefield attributes by keyword or tag, and every indexed attribute for includefield=all', async () => {
    const [study] = await search('/studies?StudyInstanceUID=1.2.1&includefield=StudyDescription,00181030');
    expect(first(study!, '00081030')).toBe('Thorax');
    expect(first(study!, '00181030')).toBe('Protocol 1.2.1.1'); // not indexed: from the first instance
    const [all] = await search('/studies?StudyInstanceUID=1.2.1&includefield=all');
    expect(first(all!, '00081030')).toBe('Thorax');
    expect(all!['00080062']?.Value).toEqual(['1.2.840.10008.5.1.4.1.1.2', '1.2.840.10008.5.1.4.1.1.88.11']);
  });

  it('pages with limit and offset in a stable order', async () => {
    const all = studyUids(await search('/studies'));
    expect(all).toEqual(['1.2.1', '1.2.2', '1.2.3']);
    const pages = [];
    for (let offset = 0; offset < 3; offset++) pages.push(...(await search(`/studies?limit=1&offset=${offset}`)).map((s) => first(s, '0020000D')));
    expect(pages.sort()).toEqual(all);
    expect(await search('/studies?offset=3')).toEqual([]);
  });

  it('caps a huge limit at the maximum and says so in a Warning header (PS3.18 §8.3.4.4.1)', async () => {
    const max = MAX_RESULTS.STUDY;
    const extra = Array.from({ length: max }, (_, i) => indexRequest({ patientId: `Q${i}`, study: `1.3.${i}`, series: `1.3.${i}.1`, sop: `1.3.${i}.1.1` }));
    await loire.server.archive.index.indexInstances(extra);
    const res = await get('/studies?limit=99999999&includefield=00080020');
    expect(res.status).toBe(200);
    expect(((await res.json()) as unknown[]).length).toBe(max);
    expect(res.headers.get('warning')).toMatch(/^299 .*: "The number of results exceeded the maximum supported by the server\. Additional results can be requested\."/);
    const next = await get(`/studies?offset=${max}`);
    expect(((await next.json()) as unknown[]).length).toBe(3);
    expect(next.headers.get('warning')).toBeNull();
    const small = await get('/studies?limit=10');
    expect(small.headers.get('warning')).toBeNull();
  });
});

describe('QIDO-RS search for series and instances', () => {
  it('searches the series of a study, and all series with study attributes', async () => {
    const series = await search('/studies/1.2.1/series');
    expect(series.map((s) => first(s, '0020000E')).sort()).toEqual(['1.2.1.1', '1.2.1.2']);
    const ct = series.find((s) => first(s, '0020000E') === '1.2.1.1')!;
    expect(first(ct, '00201209')).toBe(2);
    expect(first(ct, '00081190')).toBe(`${base}/studies/1.2.1/series/1.2.1.1`);
    expect(ct).not.toHaveProperty('00100010'); // study attributes only when the study is not in the path
    const anywhere = await search('/series?Modality=MR&PatientName=Dupont*');
    expect(anywhere.map((s) => first(s, '0020000E'))).toEqual(['1.2.3.1']);
    expect(first(anywhere[0]!, '00100010')).toEqual({ Alphabetic: 'Dupont^Jean' });
  });

  it('searches instances at every resource, with Retrieve URLs of instances', async () => {
    const inSeries = await search('/studies/1.2.1/series/1.2.1.1/instances');
    expect(inSeries.map((i) => first(i, '00080018')).sort()).toEqual(['1.2.1.1.1', '1.2.1.1.2']);
    expect(first(inSeries[0]!, '00081190')).toMatch(new RegExp(`^${base}/studies/1\\.2\\.1/series/1\\.2\\.1\\.1/instances/1\\.2\\.1\\.1\\.[12]$`));
    for (const tag of ['00080016', '00080018', '00080056', '00200013', '00280010', '00280011', '00280100', '00280008']) expect(inSeries[0], tag).toHaveProperty(tag);
    expect((await search('/studies/1.2.1/instances')).length).toBe(3);
    expect((await search('/studies/1.2.1/instances?Modality=SR')).map((i) => first(i, '00080018'))).toEqual(['1.2.1.2.1']);
    const everywhere = await search('/instances?SOPInstanceUID=1.2.2.1.1');
    expect(first(everywhere[0]!, '00100020')).toBe('P2');
    expect(first(everywhere[0]!, '0020000E')).toBe('1.2.2.1');
  });

  it('returns the whole stored instance for includefield=all, binary values as BulkDataURIs', async () => {
    const [instance] = await search('/studies/1.2.2/series/1.2.2.1/instances?includefield=all');
    expect(first(instance!, '00181030')).toBe('Protocol 1.2.2.1');
    expect(instance!['7FE00010']).toEqual({ vr: 'OW', BulkDataURI: `${base}/studies/1.2.2/series/1.2.2.1/instances/1.2.2.1.1/bulkdata/7FE00010` });
  });

  it('answers 404 for a study or series of the path that the archive does not hold', async () => {
    const study = await get('/studies/1.9.9/series');
    expect(study.status).toBe(404);
    expect(((await study.json()) as { message: string }).message).toMatch(/Study 1\.9\.9 is not in the archive/);
    expect((await get('/studies/1.2.1/series/1.9.9/instances')).status).toBe(404);
    expect((await get('/studies/1.2.2/series/1.2.1.1/instances')).status).toBe(404); // series of another study
  });

  it('warns about keys it returns but cannot match at the level asked', async () => {
    const res = await get('/studies?Modality=CT');
    expect(res.status).toBe(200);
    expect(res.headers.get('warning')).toMatch(/not supported for matching .*00080060/);
  });
});

describe('QIDO-RS representations and HTTP features', () => {
  it('answers multipart/related XML (PS3.19 Native DICOM Model) when asked', async () => {
    const res = await get('/studies?PatientID=P1', { accept: 'multipart/related; type="application/dicom+xml"' });
    expect(res.status).toBe(200);
    const type = res.headers.get('content-type')!;
    expect(type).toMatch(/^multipart\/related; type="application\/dicom\+xml"; boundary=/);
    const boundary = /boundary=([^;]+)/.exec(type)![1]!;
    const body = await res.text();
    const parts = body.split(`--${boundary}`).slice(1, -1);
    expect(parts).toHaveLength(1);
    expect(parts[0]).toMatch(/^\r\nContent-Type: application\/dicom\+xml\r\n\r\n<\?xml version="1\.0" encoding="UTF-8"\?>/);
    expect(parts[0]).toContain('<DicomAttribute tag="0020000D" vr="UI" keyword="StudyInstanceUID"><Value number="1">1.2.1</Value></DicomAttribute>');
    expect(body.endsWith(`--${boundary}--\r\n`)).toBe(true);
    expect((await get('/studies', { accept: 'image/jpeg' })).status).toBe(406);
  });

  it('sends an ETag, answers 304 to If-None-Match, and compresses JSON for clients that accept gzip', async () => {
    const res = await get('/studies?PatientID=P1');
    const etag = res.headers.get('etag');
    expect(etag).toMatch(/^W\/".+"$/);
    expect(res.headers.get('cache-control')).toBe('private, no-cache');
    expect((await get('/studies?PatientID=P1', { 'if-none-match': etag! })).status).toBe(304);
    expect((await get('/studies?PatientID=P2', { 'if-none-match': etag! })).status).toBe(200);

    const raw = await fetch(`${base}/studies?limit=200`, { headers: { ...loire.httpHeaders, 'accept-encoding': 'gzip' } });
    expect(raw.headers.get('content-encoding')).toBe('gzip');
    const bytes = Buffer.from(await raw.arrayBuffer());
    // fetch decodes gzip itself; the body must still be the JSON answer.
    const decoded = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes).toString('utf8') : bytes.toString('utf8');
    expect((JSON.parse(decoded) as unknown[]).length).toBe(200);
  });

  it('answers CORS preflights and requests for a configured origin only', async () => {
    const preflight = await fetch(`${base}/studies`, {
      method: 'OPTIONS', headers: { origin: 'https://viewer.example.org', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://viewer.example.org');
    const allowed = await get('/studies?PatientID=P2', { origin: 'https://viewer.example.org' });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://viewer.example.org');
    expect(allowed.headers.get('access-control-expose-headers')).toMatch(/Warning/);
    const other = await get('/studies?PatientID=P2', { origin: 'https://evil.example.com' });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
