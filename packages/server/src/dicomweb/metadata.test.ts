import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFile } from '../cli/import.js';
import type { DicomJson } from '../index/index.js';
import { startTestLoire, type TestLoire } from '../testing/loire.js';
import { samplePath, storableSamples, type SampleEntry } from '../testing/samples.js';

let loire: TestLoire;
let base: string;
let ct: SampleEntry[];
let annotations: SampleEntry;
let privateText: SampleEntry;

async function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}${path}`, { headers: { ...loire.httpHeaders, ...headers } });
}

const seriesPath = (s: SampleEntry): string => `/studies/${s.studyUID}/series/${s.seriesUID}`;
const instancePath = (s: SampleEntry): string => `${seriesPath(s)}/instances/${s.sopInstanceUID}`;

beforeAll(async () => {
  loire = await startTestLoire();
  base = `http://127.0.0.1:${loire.httpPort}/dicom-web`;
  const samples = storableSamples();
  ct = samples.filter((s) => s.path.startsWith('ct-series/furuhashi-lspine-ct-20180201-sagittal3mm/')).slice(0, 5);
  annotations = samples.find((s) => s.path === 'modalities/sm-wsi/sm_annotations.dcm')!;
  privateText = samples.find((s) => s.path === 'modalities/pr/Issue168.dcm')!;
  for (const sample of [...ct.slice(0, 4), annotations, privateText]) await importFile(loire.server.archive.ingest, samplePath(sample));
});

afterAll(async () => {
  await loire?.stop();
});

describe('WADO-RS metadata', () => {
  it('answers study, series and instance metadata from the index alone, even with the stored objects gone', async () => {
    const { index, storage } = loire.server.archive;
    for (const sample of ct.slice(0, 4)) {
      const record = await index.getInstance(sample.sopInstanceUID!);
      await storage.delete(record!.storageKey);
    }
    const study = await get(`/studies/${ct[0]!.studyUID}/metadata`);
    expect(study.status).toBe(200);
    expect(study.headers.get('content-type')).toBe('application/dicom+json');
    const studyJson = (await study.json()) as DicomJson[];
    expect(studyJson.map((j) => j['00080018']?.Value?.[0]).sort()).toEqual(ct.slice(0, 4).map((s) => s.sopInstanceUID).sort());

    const series = (await (await get(`${seriesPath(ct[0]!)}/metadata`)).json()) as DicomJson[];
    expect(series).toHaveLength(4);
    // Ordered by instance number.
    const numbers = series.map((j) => Number(j['00200013']?.Value?.[0]));
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));

    const [instance] = (await (await get(`${instancePath(ct[1]!)}/metadata`)).json()) as DicomJson[];
    expect(instance!['00080018']?.Value).toEqual([ct[1]!.sopInstanceUID]);
    expect(instance!['00100010']?.Value?.[0]).toMatchObject({ Ideographic: '古橋\u3000大地' });
    expect(instance!['7FE00010']).toEqual({ vr: 'OW', BulkDataURI: `${base}${instancePath(ct[1]!)}/bulkdata/7FE00010` });
  });

  it('offers BulkDataURIs for nested binary values and for large text left in the stored object', async () => {
    const [json] = (await (await get(`${instancePath(annotations)}/metadata`)).json()) as DicomJson[];
    const group = (json!['006A0002']?.Value?.[0] ?? {}) as DicomJson;
    expect(group['00660022']).toEqual({ vr: 'OD', BulkDataURI: `${base}${instancePath(annotations)}/bulkdata/006A0002/0/00660022` });
    const [pr] = (await (await get(`${instancePath(privateText)}/metadata`)).json()) as DicomJson[];
    const item = (pr!['00091003']?.Value?.[0] ?? {}) as DicomJson;
    expect(item['00091004']).toEqual({ vr: 'UT', BulkDataURI: `${base}${instancePath(privateText)}/bulkdata/00091003/0/00091004` });
  });

  it('answers 404 for an unknown study, series or instance and 400 for a malformed UID', async () => {
    const unknownStudy = await get('/studies/1.2.3.999/metadata');
    expect(unknownStudy.status).toBe(404);
    expect(await unknownStudy.json()).toEqual({ error: 'Not Found', message: 'Study 1.2.3.999 is not in the archive' });
    const unknownSeries = await get(`/studies/${ct[0]!.studyUID}/series/1.2.3.999/metadata`);
    expect(unknownSeries.status).toBe(404);
    expect(((await unknownSeries.json()) as { message: string }).message).toMatch(/Series 1\.2\.3\.999 is not in study/);
    expect((await get(`${seriesPath(ct[0]!)}/instances/1.2.3.999/metadata`)).status).toBe(404);
    // An instance of another series of the same archive is not found under this series.
    expect((await get(`${seriesPath(annotations)}/instances/${ct[0]!.sopInstanceUID}/metadata`)).status).toBe(404);
    const bad = await get('/studies/1.2.abc/metadata');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/StudyInstanceUID "1\.2\.abc" is not a DICOM UID/);
  });

  it('validates with ETag and Last-Modified, and a new instance of the study changes the ETag', async () => {
    const path = `/studies/${ct[0]!.studyUID}/metadata`;
    const first = await get(path);
    const etag = first.headers.get('etag')!;
    const lastModified = first.headers.get('last-modified')!;
    expect(etag).toMatch(/^W\/"/);
    expect(first.headers.get('cache-control')).toBe('private, no-cache');
    expect(new Date(lastModified).getTime()).toBeGreaterThan(0);
    const revalidated = await get(path, { 'if-none-match': etag });
    expect(revalidated.status).toBe(304);
    expect(revalidated.headers.get('etag')).toBe(etag);
    expect((await get(path, { 'if-modified-since': new Date(Date.now() + 60_000).toUTCString() })).status).toBe(304);

    await importFile(loire.server.archive.ingest, samplePath(ct[4]!));
    const changed = await get(path, { 'if-none-match': etag });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect((await changed.json() as unknown[]).length).toBe(5);
  });

  it('answers multipart/related XML and compresses JSON for clients that accept gzip', async () => {
    const xml = await get(`${instancePath(ct[0]!)}/metadata`, { accept: 'multipart/related; type="application/dicom+xml"' });
    expect(xml.status).toBe(200);
    const body = await xml.text();
    expect(body).toContain('<NativeDicomModel xmlns="http://dicom.nema.org/PS3.19/models/NativeDICOM"');
    expect(body).toContain(`<DicomAttribute tag="7FE00010" vr="OW" keyword="PixelData"><BulkData uri="${base}${instancePath(ct[0]!)}/bulkdata/7FE00010"/></DicomAttribute>`);
    const gzip = await get(`${seriesPath(ct[0]!)}/metadata`, { 'accept-encoding': 'gzip' });
    expect(gzip.headers.get('content-encoding')).toBe('gzip');
    expect((await gzip.json() as unknown[]).length).toBe(5);
    expect((await get(`${seriesPath(ct[0]!)}/metadata`, { accept: 'application/dicom' })).status).toBe(406);
  });
});
