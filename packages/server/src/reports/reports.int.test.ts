// Key images and measurements saved back as DICOM (issue "The reading console"): through the HTTP
// API of a whole Loire holding a real CT study, checked by dicom3tools' dciodvfy (the IOD) and
// dcmtk's dsrdump (the SR tree), and read back by another user.
import { execFile } from 'node:child_process';
import { createReadStream, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestLoire, type TestLoire, type TestUser } from '../testing/loire.js';
import { samplePath } from '../testing/samples.js';

const run = promisify(execFile);
const SERIES = 'ct-series/philips-head-ct-std-brain-1mm';
const OTHER_STUDY = 'modalities/us-multiframe';

interface Stored { study: string; series: string; sop: string; sopClass: string }

async function ingestDir(loire: TestLoire, dir: string, limit: number): Promise<Stored[]> {
  const stored: Stored[] = [];
  for (const name of readdirSync(dir).sort().slice(0, limit)) {
    const file = path.join(dir, name);
    const incoming = await loire.server.archive.ingest.beginPart10({ door: 'import', from: file });
    for await (const chunk of createReadStream(file)) await incoming.write(chunk as Buffer);
    const r = await incoming.end();
    stored.push({ study: r.studyInstanceUid, series: r.seriesInstanceUid, sop: r.sopInstanceUid, sopClass: r.sopClassUid });
  }
  return stored;
}

/** dciodvfy's findings, errors only (warnings about optional attributes are not failures). */
async function iodErrors(bytes: Buffer, work: string, name: string): Promise<string[]> {
  const file = path.join(work, name);
  writeFileSync(file, bytes);
  const { stdout, stderr } = await run('dciodvfy', ['-new', file]).catch((e: { stdout: string; stderr: string }) => e);
  return `${stdout}\n${stderr}`.split('\n').filter((l) => /^Error/.test(l));
}

describe('key images and measurements as DICOM', () => {
  let loire: TestLoire;
  let radiologist: TestUser;
  let clinician: TestUser;
  let ct: Stored[];
  let other: Stored[];
  let work: string;
  const api = (user: { httpHeaders: Record<string, string> }, url: string, body?: unknown) => fetch(`${loire.httpUrl}${url}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { ...user.httpHeaders, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const storedBytes = async (sop: string) => {
    const record = (await loire.server.archive.index.getInstance(sop))!;
    return loire.server.archive.storage.readAll(record.storageKey);
  };

  beforeAll(async () => {
    loire = await startTestLoire();
    ct = await ingestDir(loire, samplePath(SERIES), 3);
    other = await ingestDir(loire, samplePath(OTHER_STUDY), 1);
    radiologist = await loire.createUser(['radiologist'], 'dr.reader');
    clinician = await loire.createUser(['clinician'], 'dr.ward');
    work = mkdtempSync(path.join(tmpdir(), 'loire-reports-'));
  }, 120_000);

  afterAll(async () => {
    await loire?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const length = (image: string, trackingUid: string, mm: number) => ({
    trackingUid, label: 'Ventricle width', kind: 'length', image: { sopInstanceUid: image }, points: [[100.5, 120.5], [180.5, 120.5]], values: { length: mm },
  });
  const ellipse = (image: string) => ({
    trackingUid: '2.25.4242', kind: 'ellipse', image: { sopInstanceUid: image },
    points: [[200, 250], [260, 250], [230, 230], [230, 270]], values: { area: 1885.2, mean: 31.7, stdDev: 4.2, min: 12, max: 50 }, pixelUnit: 'HU',
  });

  it('saves measurements as a TID 1500 report that dciodvfy and dsrdump accept, and reads them back for every user', async () => {
    const study = ct[0]!.study;
    const saved = await api(radiologist, `/api/studies/${study}/measurements`, { measurements: [length(ct[1]!.sop, '2.25.1001', 39.0625), ellipse(ct[2]!.sop)] });
    expect(saved.status).toBe(201);
    const { sopInstanceUid } = (await saved.json()) as { sopInstanceUid: string };

    const bytes = await storedBytes(sopInstanceUid);
    expect(await iodErrors(bytes, work, 'report.dcm')).toEqual([]);
    const { stdout: tree } = await run('dsrdump', ['-Ei', '-Ee', path.join(work, 'report.dcm')]);
    expect(tree).toContain('Imaging Measurement Report');
    expect(tree).toMatch(/Length.*39\.0625.*mm/);
    expect(tree).toMatch(/Mean.*31\.7/);
    const readerName = (await loire.server.archive.accounts.get('dr.reader'))!.displayName;
    expect(tree).toContain(`"Person Observer Name")="${readerName}"`);

    const read = await api(clinician, `/api/studies/${study}/measurements`);
    expect(read.status).toBe(200);
    const body = (await read.json()) as { current: { sopInstanceUid: string; author: string; measurements: Record<string, unknown>[] }; reports: unknown[] };
    expect(body.current.sopInstanceUid).toBe(sopInstanceUid);
    expect(body.current.author).toBe(readerName);
    expect(body.reports).toHaveLength(1);
    expect(body.current.measurements).toMatchObject([
      {
        trackingUid: '2.25.1001', label: 'Ventricle width', kind: 'length', pixelUnit: 'none',
        image: { sopClassUid: ct[1]!.sopClass, sopInstanceUid: ct[1]!.sop }, points: [[100.5, 120.5], [180.5, 120.5]], values: { length: 39.0625 },
      },
      {
        trackingUid: '2.25.4242', label: expect.stringContaining('ellipse') as unknown, kind: 'ellipse', pixelUnit: 'HU',
        image: { sopClassUid: ct[2]!.sopClass, sopInstanceUid: ct[2]!.sop }, points: [[200, 250], [260, 250], [230, 230], [230, 270]],
        values: { area: 1885.2, mean: 31.7, stdDev: 4.2, min: 12, max: 50 },
      },
    ]);
    // The report is an ordinary instance of the study: QIDO-RS lists its series as SR.
    const series = await fetch(`${loire.httpUrl}/dicom-web/studies/${study}/series?Modality=SR`, { headers: clinician.httpHeaders });
    expect(series.status).toBe(200);
  });

  it('keeps each saved version: the newest report is current and names its predecessor', async () => {
    const study = ct[0]!.study;
    const first = ((await (await api(radiologist, `/api/studies/${study}/measurements`)).json()) as { current: { sopInstanceUid: string; seriesInstanceUid: string } }).current;
    const saved = await api(radiologist, `/api/studies/${study}/measurements`, { measurements: [length(ct[1]!.sop, '2.25.1001', 41.5)] });
    expect(saved.status).toBe(201);
    const second = (await saved.json()) as { sopInstanceUid: string; seriesInstanceUid: string };
    expect(second.seriesInstanceUid).toBe(first.seriesInstanceUid);
    const body = (await (await api(radiologist, `/api/studies/${study}/measurements`)).json()) as { current: { sopInstanceUid: string; measurements: { values: { length: number } }[] }; reports: { sopInstanceUid: string }[] };
    expect(body.current.sopInstanceUid).toBe(second.sopInstanceUid);
    expect(body.current.measurements.map((m) => m.values.length)).toEqual([41.5]);
    expect(body.reports.map((r) => r.sopInstanceUid)).toEqual([second.sopInstanceUid, first.sopInstanceUid]);
    const file = path.join(work, 'second.dcm');
    writeFileSync(file, await storedBytes(second.sopInstanceUid));
    const { stdout: dump } = await run('dcmdump', ['+P', '0040,a360', '+P', '0020,0013', '+P', '0008,1155', file]);
    expect(dump).toContain('(0020,0013) IS [2]');
    expect(dump).toContain(first.sopInstanceUid);
  });

  it('saves key images as a Key Object Selection that dciodvfy accepts', async () => {
    const study = ct[0]!.study;
    const saved = await api(radiologist, `/api/studies/${study}/key-images`, { description: 'Key slices for the tumour board', title: 'for-conference', images: [{ sopInstanceUid: ct[0]!.sop }, { sopInstanceUid: ct[2]!.sop }] });
    expect(saved.status).toBe(201);
    const { sopInstanceUid } = (await saved.json()) as { sopInstanceUid: string };
    expect(await iodErrors(await storedBytes(sopInstanceUid), work, 'kos.dcm')).toEqual([]);
    const body = (await (await api(clinician, `/api/studies/${study}/key-images`)).json()) as { documents: { sopInstanceUid: string; title: { meaning: string }; description: string; author: string; images: { sopInstanceUid: string }[] }[] };
    expect(body.documents).toHaveLength(1);
    expect(body.documents[0]).toMatchObject({
      sopInstanceUid, title: { meaning: 'For Conference' }, description: 'Key slices for the tumour board', author: (await loire.server.archive.accounts.get('dr.reader'))!.displayName,
      images: [{ sopInstanceUid: ct[0]!.sop }, { sopInstanceUid: ct[2]!.sop }],
    });
  });

  it('refuses what does not fit the study, with the reason', async () => {
    const study = ct[0]!.study;
    const foreign = await api(radiologist, `/api/studies/${study}/measurements`, { measurements: [length(other[0]!.sop, '2.25.7', 10)] });
    expect(foreign.status).toBe(400);
    expect(((await foreign.json()) as { message: string }).message).toContain('is not part of study');
    const noValue = await api(radiologist, `/api/studies/${study}/measurements`, { measurements: [{ ...length(ct[0]!.sop, '2.25.8', 1), values: {} }] });
    expect(noValue.status).toBe(400);
    expect(((await noValue.json()) as { message: string }).message).toMatch(/^measurements\.0\.values\.length/);
    const badPoints = await api(radiologist, `/api/studies/${study}/measurements`, { measurements: [{ ...length(ct[0]!.sop, '2.25.9', 1), points: [[1, 2]] }] });
    expect(badPoints.status).toBe(400);
    const unknown = await api(radiologist, '/api/studies/1.2.3.4/measurements');
    expect(unknown.status).toBe(404);
    const injected = await api(radiologist, `/api/studies/${encodeURIComponent("1.2' OR '1'='1")}/measurements`);
    expect(injected.status).toBe(400);
    const notAllowed = await api(clinician, `/api/studies/${study}/measurements`, { measurements: [length(ct[0]!.sop, '2.25.10', 1)] });
    expect(notAllowed.status).toBe(403);
    const frameTooFar = await api(radiologist, `/api/studies/${other[0]!.study}/key-images`, { images: [{ sopInstanceUid: other[0]!.sop, frame: 100_000 }] });
    expect(frameTooFar.status).toBe(400);
  });

  it('keeps the measurements a client asks to keep, as written and under their own observer, whatever their kind', async () => {
    // pydicom's CT_small and highdicom's report on it: four measurements Loire cannot draw (3D, circles, volumes).
    const stored: Stored[] = [];
    for (const file of ['pydicom-test-files/CT_small.dcm', 'modalities/sr/sr_document_with_multiple_groups.dcm']) {
      const incoming = await loire.server.archive.ingest.beginPart10({ door: 'import', from: file });
      for await (const chunk of createReadStream(samplePath(file))) await incoming.write(chunk as Buffer);
      const r = await incoming.end();
      stored.push({ study: r.studyInstanceUid, series: r.seriesInstanceUid, sop: r.sopInstanceUid, sopClass: r.sopClassUid });
    }
    const [ctSmall, highdicom] = stored as [Stored, Stored];
    expect(highdicom.study).toBe(ctSmall.study);
    type Read = { current: { sopInstanceUid: string; author: string; measurements: { group: number; trackingUid: string; label: string; kind: string; author?: string; quantities: unknown[] }[] } };
    const before = ((await (await api(radiologist, `/api/studies/${ctSmall.study}/measurements`)).json()) as Read).current;
    expect(before.sopInstanceUid).toBe(highdicom.sop);
    expect(before.author).toBe('Doe^John');
    expect(before.measurements.map((m) => m.kind)).toEqual(['other', 'other', 'other', 'other']);

    const keep = before.measurements.map((m) => ({ report: before.sopInstanceUid, group: m.group }));
    const saved = await api(radiologist, `/api/studies/${ctSmall.study}/measurements`, { measurements: [length(ctSmall.sop, '2.25.5005', 12)], keep });
    expect(saved.status).toBe(201);
    const { sopInstanceUid } = (await saved.json()) as { sopInstanceUid: string };
    expect(await iodErrors(await storedBytes(sopInstanceUid), work, 'kept.dcm')).toEqual([]);

    const after = ((await (await api(clinician, `/api/studies/${ctSmall.study}/measurements`)).json()) as Read).current;
    expect(after.sopInstanceUid).toBe(sopInstanceUid);
    expect(after.author).toBe((await loire.server.archive.accounts.get('dr.reader'))!.displayName);
    expect(after.measurements.slice(0, 4)).toEqual(before.measurements.map((m) => ({ ...m, author: 'Doe^John' })));
    expect(after.measurements[4]).toMatchObject({ group: 5, trackingUid: '2.25.5005', kind: 'length' });
    expect(after.measurements[4]!.author).toBeUndefined();

    // What cannot be kept is refused, with the reason.
    const refused = async (body: unknown) => {
      const response = await api(radiologist, `/api/studies/${ctSmall.study}/measurements`, body);
      expect(response.status).toBe(400);
      return ((await response.json()) as { message: string }).message;
    };
    expect(await refused({ measurements: [], keep: [{ report: sopInstanceUid, group: 99 }] })).toContain('has no measurement group 99');
    expect(await refused({ measurements: [], keep: [{ report: ctSmall.sop, group: 1 }] })).toContain('is not a measurement report');
    expect(await refused({ measurements: [length(ctSmall.sop, '2.25.5005', 13)], keep: [{ report: sopInstanceUid, group: 5 }] })).toContain('given twice');
  });
});
