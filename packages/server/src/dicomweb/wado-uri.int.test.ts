// WADO-URI (PS3.18 §9): DICOM files checked with pydicom, rendered images against the WADO-RS renderings
// (which rendered.int.test.ts checks against an independent reference).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFile } from '../cli/import.js';
import { startTestLoire, type TestLoire } from '../testing/loire.js';
import { samplePath } from '../testing/samples.js';

const run = promisify(execFile);
const python = '/usr/bin/python3'; // Debian's, with python3-pydicom and numpy

const SAMPLES = {
  ct: 'ct-series/philips-head-ct-std-brain-1mm/I10',
  noMeta: 'modalities/cr-dx/CR-MONO1-10-chest',
  jpegLossy: 'modalities/vl-visible-light/JPEGwithIcon.dcm',
  rle: 'modalities/vl-visible-light/VL6_RLE',
  multiframe: 'modalities/us-multiframe/Issue16.dcm',
  sr: 'modalities/sr/IM0',
  pdf: 'modalities/encapsulated-pdf/sample-pdf.dcm',
} as const;

interface Ids { study: string; series: string; sop: string }

let loire: TestLoire;
let root: string;
let temp: string;
const ids = {} as Record<keyof typeof SAMPLES, Ids>;

async function describeSample(file: string): Promise<Ids> {
  const { stdout } = await run(python, ['-c', `import pydicom,sys,json
d=pydicom.dcmread(sys.argv[1],force=True,stop_before_pixels=True)
print(json.dumps([d.StudyInstanceUID,d.SeriesInstanceUID,d.SOPInstanceUID]))`, file]);
  const [study, series, sop] = JSON.parse(stdout) as [string, string, string];
  return { study, series, sop };
}

function wado(id: Ids, extra = '', prefix = ''): string {
  return `${root}${prefix}/wado?requestType=WADO&studyUID=${id.study}&seriesUID=${id.series}&objectUID=${id.sop}${extra}`;
}

async function get(url: string): Promise<Response> {
  return fetch(url, { headers: loire.httpHeaders });
}

async function greyPixels(body: ArrayBuffer): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(Buffer.from(body)).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** pydicom's view of a returned file: its transfer syntax, and whether its pixels equal those of the original. */
async function pydicomCompare(body: Buffer, original: string): Promise<{ transferSyntax: string; samePixels: boolean; hasMeta: boolean }> {
  const file = path.join(temp, `returned-${Date.now()}.dcm`);
  writeFileSync(file, body);
  const { stdout } = await run(python, ['-c', `import pydicom,sys,json,numpy
a=pydicom.dcmread(sys.argv[1])
b=pydicom.dcmread(sys.argv[2],force=True)
if 'TransferSyntaxUID' not in b.file_meta: b.file_meta.TransferSyntaxUID=pydicom.uid.ImplicitVRLittleEndian
print(json.dumps({'transferSyntax':str(a.file_meta.TransferSyntaxUID),'samePixels':bool(numpy.array_equal(a.pixel_array,b.pixel_array)),'hasMeta':True}))`, file, original]);
  return JSON.parse(stdout) as { transferSyntax: string; samePixels: boolean; hasMeta: boolean };
}

beforeAll(async () => {
  loire = await startTestLoire();
  root = `http://127.0.0.1:${loire.httpPort}`;
  temp = mkdtempSync(path.join(os.tmpdir(), 'loire-wado-uri-'));
  for (const [key, relative] of Object.entries(SAMPLES)) {
    const file = samplePath(relative);
    await importFile(loire.server.archive.ingest, file);
    ids[key as keyof typeof SAMPLES] = await describeSample(file);
  }
}, 120_000);

afterAll(async () => {
  await loire?.stop();
  if (temp) rmSync(temp, { recursive: true, force: true });
});

describe('WADO-URI application/dicom', () => {
  it('an Explicit VR Little Endian object comes back byte for byte', async () => {
    const res = await get(wado(ids.ct, '&contentType=application/dicom'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/dicom');
    expect(Buffer.from(await res.arrayBuffer()).equals(readFileSync(samplePath(SAMPLES.ct)))).toBe(true);
  });

  it('a lossy JPEG object is sent as received; a lossless RLE one is decompressed to Explicit VR Little Endian by default', async () => {
    const lossy = Buffer.from(await (await get(wado(ids.jpegLossy, '&contentType=application/dicom'))).arrayBuffer());
    expect(lossy.equals(readFileSync(samplePath(SAMPLES.jpegLossy)))).toBe(true);
    const rle = Buffer.from(await (await get(wado(ids.rle, '&contentType=application/dicom'))).arrayBuffer());
    expect(await pydicomCompare(rle, samplePath(SAMPLES.rle))).toEqual({ transferSyntax: '1.2.840.10008.1.2.1', samePixels: true, hasMeta: true });
    // Asked for as stored: as stored.
    const asked = Buffer.from(await (await get(wado(ids.rle, '&contentType=application/dicom&transferSyntax=1.2.840.10008.1.2.5'))).arrayBuffer());
    expect(asked.equals(readFileSync(samplePath(SAMPLES.rle)))).toBe(true);
    // Implicit VR is not allowed in WADO-URI responses: Explicit VR Little Endian instead (PS3.18 §8.2.11 of 2019).
    const implicit = Buffer.from(await (await get(wado(ids.rle, '&contentType=application/dicom&transferSyntax=1.2.840.10008.1.2'))).arrayBuffer());
    expect((await pydicomCompare(implicit, samplePath(SAMPLES.rle))).transferSyntax).toBe('1.2.840.10008.1.2.1');
  });

  it('an object received without file meta information comes back as a Part 10 file', async () => {
    const body = Buffer.from(await (await get(wado(ids.noMeta, '&contentType=application/dicom'))).arrayBuffer());
    expect(body.subarray(128, 132).toString('latin1')).toBe('DICM');
    expect(await pydicomCompare(body, samplePath(SAMPLES.noMeta))).toEqual({ transferSyntax: '1.2.840.10008.1.2.1', samePixels: true, hasMeta: true });
  });

  it('non-image objects: an SR comes as application/dicom by default, a PDF as application/pdf', async () => {
    const sr = await get(wado(ids.sr));
    expect(sr.status).toBe(200);
    expect(sr.headers.get('content-type')).toBe('application/dicom');
    expect((await get(wado(ids.sr, '&contentType=image/jpeg'))).status).toBe(406);
    const pdf = await get(wado(ids.pdf));
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(Buffer.from(await pdf.arrayBuffer()).subarray(0, 5).toString()).toBe('%PDF-');
  });
});

describe('WADO-URI rendered', () => {
  it('JPEG by default; the window, size, region and frame parameters give what WADO-RS renders', async () => {
    const jpeg = await get(wado(ids.ct));
    expect(jpeg.status).toBe(200);
    expect(jpeg.headers.get('content-type')).toBe('image/jpeg');

    const base = `${root}/dicom-web/studies/${ids.ct.study}/series/${ids.ct.series}/instances/${ids.ct.sop}`;
    const viaUri = await greyPixels(await (await get(wado(ids.ct, '&contentType=image/png&windowCenter=40&windowWidth=400'))).arrayBuffer());
    const viaRs = await greyPixels(await (await get(`${base}/rendered?window=40,400&accept=image/png`)).arrayBuffer());
    expect(viaUri.data.equals(viaRs.data)).toBe(true);

    const sized = await greyPixels(await (await get(wado(ids.ct, '&contentType=image/png&rows=100&columns=200'))).arrayBuffer());
    expect([sized.width, sized.height]).toEqual([100, 100]);
    const region = await greyPixels(await (await get(wado(ids.ct, '&contentType=image/png&windowCenter=40&windowWidth=400&region=0.25,0.5,0.75,1'))).arrayBuffer());
    expect([region.width, region.height]).toEqual([256, 256]);
    expect(region.data.subarray(0, 256).equals(viaRs.data.subarray(256 * 512 + 128, 256 * 512 + 384))).toBe(true);

    const mf = ids.multiframe;
    const frame = await get(wado(mf, '&contentType=image/png&frameNumber=2'));
    const rsFrame = await get(`${root}/dicom-web/studies/${mf.study}/series/${mf.series}/instances/${mf.sop}/frames/2/rendered?accept=image/png`);
    expect(Buffer.from(await frame.arrayBuffer()).equals(Buffer.from(await rsFrame.arrayBuffer()))).toBe(true);
    expect((await get(wado(mf, '&frameNumber=35'))).status).toBe(404);
  });

  it('is also served under /dicom-web/wado', async () => {
    const res = await get(wado(ids.ct, '&contentType=application/dicom', '/dicom-web'));
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(readFileSync(samplePath(SAMPLES.ct)))).toBe(true);
  });
});

describe('WADO-URI bad requests', () => {
  it('bad parameters are 400 with a message that says what is wrong, unknown objects 404', async () => {
    const id = ids.ct;
    const cases: [string, RegExp][] = [
      [`${root}/wado?studyUID=${id.study}&seriesUID=${id.series}&objectUID=${id.sop}`, /requestType must be WADO/],
      [wado(id).replace('requestType=WADO', 'requestType=WADOX'), /not "WADOX"/],
      [wado({ ...id, sop: '1.2.x' }), /objectUID "1.2.x" is not a DICOM UID/],
      [`${root}/wado?requestType=WADO&studyUID=${id.study}&seriesUID=${id.series}`, /objectUID is missing/],
      [wado(id, '&anonymize=yes'), /anonymize is not supported/],
      [wado(id, '&windowCenter=40'), /windowCenter and windowWidth together/],
      [wado(id, '&windowCenter=40&windowWidth=0'), /window width 0 is too small/],
      [wado(id, '&rows=0'), /rows 0 is out of range/],
      [wado(id, '&columns=abc'), /columns "abc" is not a positive integer/],
      [wado(id, '&region=0.5,0.5,0.2,1'), /xmin must be less than xmax/],
      [wado(id, '&region=0,0,1'), /xmin,ymin,xmax,ymax/],
      [wado(id, '&imageQuality=0'), /imageQuality 0 is out of range/],
      [wado(id, '&contentType=application/dicom&rows=10'), /rows apply to rendered images/],
      [wado(id, '&transferSyntax=1.2.840.10008.1.2.5'), /transferSyntax applies only to contentType=application\/dicom/],
      [wado(id, '&contentType=application/dicom&transferSyntax=abc'), /transferSyntax "abc" is not a DICOM UID/],
      [wado(id, '&presentationUID=1.2.3'), /presentationUID is not supported/],
    ];
    for (const [url, message] of cases) {
      const res = await get(url);
      expect(res.status, url).toBe(400);
      expect(((await res.json()) as { message: string }).message, url).toMatch(message);
    }
    expect((await get(wado({ ...id, sop: '1.2.3.4' }))).status).toBe(404);
    expect((await get(wado({ ...id, study: '1.2.3.4' }))).status).toBe(404);
    expect((await get(wado(id, '&contentType=text/html'))).status).toBe(406);
  });
});
