// Hostile and malformed input on the search and metadata routes: each gets a clear 4xx (or, for
// text that is merely unusual, a literal match), and the server keeps answering.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request as indexRequest } from '../index/test-fixtures.js';
import { startTestLoire, type TestLoire } from '../testing/loire.js';

let loire: TestLoire;
let origin: string;

async function get(path: string): Promise<{ status: number; body: { error?: string; message?: string } | unknown[] }> {
  const res = await fetch(`${origin}${path}`, { headers: loire.httpHeaders });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) as never : [] };
}

beforeAll(async () => {
  loire = await startTestLoire();
  origin = `http://127.0.0.1:${loire.httpPort}`;
  await loire.server.archive.index.indexInstances([
    indexRequest({ patientId: 'P1', patientName: "O'Brien^Pat", study: '1.5.1', series: '1.5.1.1', sop: '1.5.1.1.1', studyDate: '20200101' }),
    indexRequest({ patientId: 'P2', patientName: '100%^Sure', study: '1.5.2', series: '1.5.2.1', sop: '1.5.2.1.1', studyDate: '20200202' }),
  ]);
});

afterAll(async () => {
  await loire?.stop();
});

describe('QIDO-RS and metadata refuse malformed and hostile input', () => {
  it.each([
    ['SQL in a UID list', `/dicom-web/studies?StudyInstanceUID=${encodeURIComponent("1.5.1' OR '1'='1")}`, /StudyInstanceUID .* is not a DICOM UID/],
    ['a statement terminator in a UID', `/dicom-web/studies?StudyInstanceUID=${encodeURIComponent('1.5.1;--')}`, /not a DICOM UID/],
    ['a NUL byte in a value', '/dicom-web/studies?PatientID=P1%00', /control character/],
    ['a NUL byte in a name', '/dicom-web/studies?Patient%00ID=P1', /control character/],
    ['an unknown attribute', '/dicom-web/studies?NotAnAttribute=1', /"NotAnAttribute" is not a DICOM attribute/],
    ['an unknown tag', '/dicom-web/studies?00990099=1', /"00990099" is not a DICOM attribute/],
    ['a sequence path', '/dicom-web/studies?00081032.00080100=X', /sequence attribute path/],
    ['a negative limit', '/dicom-web/studies?limit=-1', /limit must be a whole number/],
    ['a zero limit', '/dicom-web/studies?limit=0', /limit must be at least 1/],
    ['a limit in exponent form', '/dicom-web/studies?limit=1e9', /limit must be a whole number/],
    ['an absurd limit', '/dicom-web/studies?limit=999999999999999999999999', /limit must be a whole number/],
    ['an absurd offset', '/dicom-web/studies?offset=99999999999', /offset must be at most/],
    ['a limit given twice', '/dicom-web/studies?limit=1&limit=2', /given twice/],
    ['a bad fuzzymatching', '/dicom-web/studies?fuzzymatching=yes', /fuzzymatching must be "true" or "false"/],
    ['extended empty value matching', '/dicom-web/studies?emptyvaluematching=true', /emptyvaluematching=true is not supported/],
    ['a bad multiplevaluematching', '/dicom-web/studies?multiplevaluematching=1', /multiplevaluematching must be "true" or "false"/],
    ['a malformed date', '/dicom-web/studies?StudyDate=2020-13', /StudyDate must be YYYYMMDD/],
    ['SQL in a date', `/dicom-web/studies?StudyDate=${encodeURIComponent("20200101' OR 1=1")}`, /StudyDate must be YYYYMMDD/],
    ['a non-integer for an IS', '/dicom-web/series?SeriesNumber=1%3B--', /SeriesNumber \(IS\) must be an integer/],
    ['a match value on a binary attribute', '/dicom-web/instances?PixelData=AA', /cannot be matched on a value/],
    ['a backslash in a text value', '/dicom-web/studies?PatientID=A%5CB', /backslash/],
    ['an overlong value', `/dicom-web/studies?PatientID=${'A'.repeat(2000)}`, /longer than 1024/],
    ['an empty includefield entry', '/dicom-web/studies?includefield=PatientAge,,', /empty attribute/],
    ['an unknown includefield', '/dicom-web/studies?includefield=DROP%20TABLE', /is not a DICOM attribute/],
    ['path traversal as a study UID', '/dicom-web/studies/..%2F..%2Fetc%2Fpasswd/series', /StudyInstanceUID .* is not a DICOM UID/],
    ['path traversal as a series UID', '/dicom-web/studies/1.5.1/series/..%2F..%2F/instances', /SeriesInstanceUID .* is not a DICOM UID/],
    ['path traversal in metadata', '/dicom-web/studies/1.5.1/series/1.5.1.1/instances/..%2F1.5.1.1.1/metadata', /SOPInstanceUID .* is not a DICOM UID/],
    ['SQL in a path UID', `/dicom-web/studies/${encodeURIComponent("1' OR '1'='1")}/metadata`, /not a DICOM UID/],
    ['a UID of more than 64 characters', `/dicom-web/studies/${'1.'.repeat(40)}1/metadata`, /not a DICOM UID/],
  ])('%s: 400 with a message', async (_name, path, message) => {
    const { status, body } = await get(path);
    expect(status).toBe(400);
    expect((body as { message: string }).message).toMatch(message);
  });

  it('answers 404 for well-formed UIDs the archive does not hold', async () => {
    for (const path of ['/dicom-web/studies/1.5.9/metadata', '/dicom-web/studies/1.5.9/series', '/dicom-web/studies/1.5.1/series/1.5.9/metadata',
      '/dicom-web/studies/1.5.1/series/1.5.1.1/instances/1.5.9/metadata', '/dicom-web/studies/1.5.1/series/1.5.9/instances']) {
      expect((await get(path)).status, path).toBe(404);
    }
  });

  it('treats SQL and LIKE metacharacters in text values literally', async () => {
    const ids = async (query: string): Promise<unknown[]> => ((await get(`/dicom-web/studies?${query}`)).body as Record<string, { Value?: unknown[] }>[])
      .map((s) => s['00100020']?.Value?.[0]).sort();
    expect(await ids(`PatientName=${encodeURIComponent("O'Brien^Pat")}`)).toEqual(['P1']);
    expect(await ids(`PatientName=${encodeURIComponent("' OR '1'='1")}`)).toEqual([]);
    expect(await ids(`PatientID=${encodeURIComponent("P1' OR 1=1;--")}`)).toEqual([]);
    expect(await ids(`PatientName=${encodeURIComponent('100%*')}`)).toEqual(['P2']);
    expect(await ids(`PatientName=${encodeURIComponent('%')}`)).toEqual([]);
    expect(await ids(`PatientName=${encodeURIComponent('_*')}`)).toEqual([]);
    expect(await ids(`PatientID=${encodeURIComponent('P[12]')}`)).toEqual([]);
  });

  it('keeps serving after all of it', async () => {
    const health = await fetch(`${origin}/healthz`);
    expect(health.status).toBe(200);
    const { status, body } = await get('/dicom-web/studies?PatientID=P1');
    expect(status).toBe(200);
    expect(body).toHaveLength(1);
  });
});
