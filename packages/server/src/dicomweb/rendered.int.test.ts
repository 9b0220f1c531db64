// Rendered and thumbnail resources against an independent reference: pydicom reads the raw pixels and
// the Modality LUT, the window is computed here with the formula of PS3.3 C.11.2.1.2.1.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFile } from '../cli/import.js';
import { startTestLoire, type TestLoire } from '../testing/loire.js';
import { samplePath } from '../testing/samples.js';

const run = promisify(execFile);
const python = '/usr/bin/python3'; // Debian's, with python3-pydicom and numpy
const reference = path.join(path.dirname(fileURLToPath(import.meta.url)), 'test-support/rendering_reference.py');

const SAMPLES = {
  ct: 'ct-series/philips-head-ct-std-brain-1mm/I10',
  ct2: 'ct-series/philips-head-ct-std-brain-1mm/I30',
  ct3: 'ct-series/philips-head-ct-std-brain-1mm/I50',
  mono1: 'modalities/cr-dx/CR-MONO1-10-chest',
  mono1Jpeg: 'modalities/cr-dx/Monochrome1-Jpeg.dcm',
  palette: 'modalities/us/Implicit-vr-us-palette.dcm',
  rleYbrPlanar: 'modalities/us/2023-04-21-RLEPlanarConfigurationYBR_FULL.dcm',
  jpegYbr: 'modalities/vl-visible-light/JPEGwithIcon.dcm',
  rgb: 'modalities/vl-visible-light/VL6_RLE',
  multiframe: 'modalities/us-multiframe/Issue16.dcm',
  sr: 'modalities/sr/IM0',
  deflated: 'syntaxes/orthanc-by-ts-uid/1.2.840.10008.1.2.1.99.dcm',
  implicit: 'syntaxes/orthanc-by-ts-uid/1.2.840.10008.1.2.dcm',
  rleSigned: 'syntaxes/orthanc-by-ts-uid/1.2.840.10008.1.2.5.dcm',
  bigEndianRgb: 'syntaxes/orthanc-by-ts-uid/1.2.840.10008.1.2.2.dcm',
  oneBit: 'modalities/seg/seg_image_ct_binary.dcm',
  enhancedMr: 'modalities/enhanced-mr/MOVEKNEE.dcm',
  pdf: 'modalities/encapsulated-pdf/sample-pdf.dcm',
} as const;

interface Ids { study: string; series: string; sop: string }

let loire: TestLoire;
let base: string;
let shots: string;
const ids = {} as Record<keyof typeof SAMPLES, Ids>;

async function describeSample(file: string): Promise<Ids> {
  const { stdout } = await run(python, ['-c', `import pydicom,sys,json
d=pydicom.dcmread(sys.argv[1],force=True,stop_before_pixels=True)
print(json.dumps([d.StudyInstanceUID,d.SeriesInstanceUID,d.SOPInstanceUID]))`, file]);
  const [study, series, sop] = JSON.parse(stdout) as [string, string, string];
  return { study, series, sop };
}

function instanceUrl(id: Ids): string {
  return `${base}/studies/${id.study}/series/${id.series}/instances/${id.sop}`;
}

async function get(url: string, accept?: string): Promise<Response> {
  return fetch(url, { headers: { ...loire.httpHeaders, ...(accept ? { accept } : {}) } });
}

async function decodeImage(body: ArrayBuffer): Promise<{ data: Buffer; width: number; height: number; channels: number }> {
  const input = sharp(Buffer.from(body));
  // sharp widens grey to sRGB on output unless told to keep it grey.
  const grey = (await input.metadata()).channels === 1;
  const { data, info } = await (grey ? input.toColourspace('b-w') : input).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

async function modalityReference(file: string, frame = 0): Promise<{ values: Float64Array; rows: number; columns: number; windowCenter: number; windowWidth: number }> {
  const out = path.join(shots, `${path.basename(file)}.${frame}.modality.raw`);
  const { stdout } = await run(python, [reference, 'modality', file, out, String(frame)]);
  const info = JSON.parse(stdout) as { rows: number; columns: number; windowCenter: number; windowWidth: number };
  const bytes = readFileSync(out);
  return { ...info, values: new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8) };
}

async function rgbReference(file: string): Promise<Buffer> {
  const out = path.join(shots, `${path.basename(file)}.rgb.raw`);
  await run(python, [reference, 'rgb', file, out]);
  return readFileSync(out);
}

/** PS3.3 C.11.2.1.2.1 (LINEAR), written out here independently of the code under test. */
function linearWindow(x: number, center: number, width: number): number {
  if (x <= center - 0.5 - (width - 1) / 2) return 0;
  if (x > center - 0.5 + (width - 1) / 2) return 255;
  return ((x - (center - 0.5)) / (width - 1) + 0.5) * 255;
}

function maxDifference(actual: Uint8Array, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let max = 0;
  for (let i = 0; i < actual.length; i++) max = Math.max(max, Math.abs(actual[i]! - expected[i]!));
  return max;
}

beforeAll(async () => {
  loire = await startTestLoire();
  base = `http://127.0.0.1:${loire.httpPort}/dicom-web`;
  shots = mkdtempSync(path.join(os.tmpdir(), 'loire-rendered-'));
  for (const [key, relative] of Object.entries(SAMPLES)) {
    const file = samplePath(relative);
    await importFile(loire.server.archive.ingest, file);
    ids[key as keyof typeof SAMPLES] = await describeSample(file);
  }
}, 120_000);

afterAll(async () => {
  await loire?.stop();
  if (shots && !process.env.LOIRE_KEEP_RENDERED) rmSync(shots, { recursive: true, force: true });
});

describe('rendered grayscale', () => {
  it('a CT frame with a given window equals the reference rendering from the raw pixels (±1 grey level)', async () => {
    const ref = await modalityReference(samplePath(SAMPLES.ct));
    const [center, width] = [40, 400];
    const res = await get(`${instanceUrl(ids.ct)}/frames/1/rendered?window=${center},${width},linear`, 'image/png');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    const image = await decodeImage(await res.arrayBuffer());
    expect([image.width, image.height, image.channels]).toEqual([ref.columns, ref.rows, 1]);
    const expected = Array.from(ref.values, (hu) => Math.round(linearWindow(hu, center, width)));
    expect(maxDifference(image.data, expected)).toBeLessThanOrEqual(1);
    // The window matters: a bone window gives another picture.
    const bone = await decodeImage(await (await get(`${instanceUrl(ids.ct)}/rendered?window=500,2000`, 'image/png')).arrayBuffer());
    expect(maxDifference(bone.data, Array.from(ref.values, (hu) => Math.round(linearWindow(hu, 500, 2000))))).toBeLessThanOrEqual(1);
  });

  it('MONOCHROME1 comes out inverted, with the object\'s own window by default', async () => {
    const ref = await modalityReference(samplePath(SAMPLES.mono1));
    const res = await get(`${instanceUrl(ids.mono1)}/rendered`, 'image/png');
    expect(res.status).toBe(200);
    const image = await decodeImage(await res.arrayBuffer());
    const inverted = Array.from(ref.values, (v) => 255 - Math.round(linearWindow(v, ref.windowCenter, ref.windowWidth)));
    expect(maxDifference(image.data, inverted)).toBeLessThanOrEqual(1);
    writeFileSync(path.join(shots, 'mono1-chest.png'), Buffer.from(await (await get(`${instanceUrl(ids.mono1)}/rendered`, 'image/png')).arrayBuffer()));
  });

  it('MONOCHROME1 JPEG: dense areas (low values) come out bright', async () => {
    const ref = await modalityReference(samplePath(SAMPLES.mono1Jpeg));
    const res = await get(`${instanceUrl(ids.mono1Jpeg)}/rendered?window=${ref.windowCenter},${ref.windowWidth}`, 'image/png');
    const image = await decodeImage(await res.arrayBuffer());
    // Lossy JPEG decoded by two decoders may differ by a level or two: compare with a small tolerance.
    const inverted = Array.from(ref.values, (v) => 255 - Math.round(linearWindow(v, ref.windowCenter, ref.windowWidth)));
    expect(maxDifference(image.data, inverted)).toBeLessThanOrEqual(3);
  });
});

describe('frames of every stored form (stored-instance.ts) render as pydicom reads them', () => {
  const cases = [
    ['deflated', 1, '1000,2000'], ['implicit', 1, '600,1200,linear-exact'], ['rleSigned', 1, '200,400,sigmoid'],
    ['oneBit', 2, '1,1'], ['oneBit', 3, '1,1'],
  ] as const;
  for (const [key, frame, window] of cases) {
    it(`${key}, frame ${frame}, window ${window}`, async () => {
      const ref = await modalityReference(samplePath(SAMPLES[key]), frame - 1);
      const res = await get(`${instanceUrl(ids[key])}/frames/${frame}/rendered?window=${window}`, 'image/png');
      expect(res.status).toBe(200);
      const image = await decodeImage(await res.arrayBuffer());
      const [center, width, fn] = window.split(',') as [string, string, string | undefined];
      const c = Number(center);
      const w = Number(width);
      // PS3.3 C.11.2.1.3.1 (SIGMOID) and C.11.2.1.3.2 (LINEAR_EXACT), written out here.
      const voi = (x: number): number => (fn === 'sigmoid' ? 255 / (1 + Math.exp((-4 * (x - c)) / w))
        : fn === 'linear-exact' ? (x <= c - w / 2 ? 0 : x > c + w / 2 ? 255 : ((x - c) / w + 0.5) * 255)
          : linearWindow(x, c, w));
      expect(maxDifference(image.data, Array.from(ref.values, (v) => Math.round(voi(v))))).toBeLessThanOrEqual(1);
    });
  }

  it('an enhanced MR frame read by byte range, with its own per-frame window', async () => {
    for (const frame of [10, 19]) {
      const ref = await modalityReference(samplePath(SAMPLES.enhancedMr), frame - 1);
      expect(ref.windowWidth).toBeGreaterThan(1);
      const image = await decodeImage(await (await get(`${instanceUrl(ids.enhancedMr)}/frames/${frame}/rendered`, 'image/png')).arrayBuffer());
      const expected = Array.from(ref.values, (v) => Math.round(linearWindow(v, ref.windowCenter, ref.windowWidth)));
      expect(maxDifference(image.data, expected)).toBeLessThanOrEqual(1);
    }
  });

  it('big endian RGB equals pydicom\'s pixels', async () => {
    const expected = await rgbReference(samplePath(SAMPLES.bigEndianRgb));
    const image = await decodeImage(await (await get(`${instanceUrl(ids.bigEndianRgb)}/rendered`, 'image/png')).arrayBuffer());
    expect(maxDifference(image.data, expected)).toBe(0);
  });
});

describe('rendered colour', () => {
  // Each image was written to a temp dir (LOIRE_KEEP_RENDERED=1 keeps it) and looked at once by eye: the palette US
  // (Philips) shows a grey sector scan with white caliper marks and text; the RLE YBR_FULL planar US (Mindray) a
  // black background with light-blue header text, white measurement text and one line in green; the JPEG YBR_FULL_422
  // photo a white sneaker with blue, red, teal, orange and pink stripes on a light grey background; the RGB image
  // (WG04 VL6) an H&E pathology slide in pink and purple with a white arrow. A wrong YBR conversion or a swapped
  // plane shows at once as false colours there. The checksums of the decoded pixels pin what was seen.
  const PINNED: Record<string, string> = {
    palette: 'fde2bb27d12e565886fb9992e2aa48a4bdc3daf284099beb5b9fe7a9e0ea7fe1',
    rleYbrPlanar: 'dc9bf47eca2289b488878ccd41b09e3b31535687e742dcb29096ba60ec0fd390',
    jpegYbr: '4584b7553aceb595693224c9fa8d6e9b679ae44f1780064d13a0e2c974395e3d',
    rgb: '2ccf3ac25d0a394af5626c2ee9c262fd563dd7d93884ba1bc15060c8bba51815',
  };

  for (const key of ['palette', 'rleYbrPlanar', 'jpegYbr', 'rgb'] as const) {
    it(`${key} renders as checked by eye`, async () => {
      const res = await get(`${instanceUrl(ids[key])}/rendered`, 'image/png');
      expect(res.status).toBe(200);
      const body = Buffer.from(await res.arrayBuffer());
      writeFileSync(path.join(shots, `${key}.png`), body);
      const image = await decodeImage(body);
      expect(image.channels).toBe(3);
      const checksum = createHash('sha256').update(image.data).digest('hex');
      expect(checksum).toBe(PINNED[key]);
    });
  }

  it('RGB, palette and RLE YBR equal pydicom\'s pixels (exact up to YBR rounding)', async () => {
    for (const [key, tolerance] of [['rgb', 0], ['palette', 0], ['rleYbrPlanar', 1]] as const) {
      const expected = await rgbReference(samplePath(SAMPLES[key]));
      const image = await decodeImage(await (await get(`${instanceUrl(ids[key])}/rendered`, 'image/png')).arrayBuffer());
      expect(maxDifference(image.data, expected), key).toBeLessThanOrEqual(tolerance);
    }
  });
});

describe('rendered resources', () => {
  it('JPEG by default, with quality and viewport', async () => {
    const res = await get(`${instanceUrl(ids.ct)}/rendered?viewport=256,128&quality=50`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    const image = await decodeImage(await res.arrayBuffer());
    expect([image.width, image.height]).toEqual([128, 128]);
    const region = await decodeImage(await (await get(`${instanceUrl(ids.ct)}/rendered?viewport=100,100,10,20,200,100`, 'image/png')).arrayBuffer());
    expect([region.width, region.height]).toEqual([100, 50]);
    const gif = await get(`${instanceUrl(ids.ct)}/rendered`, 'image/gif');
    expect(gif.headers.get('content-type')).toBe('image/gif');
  });

  it('a region is cut from the window-rendered frame, and flipped when sw is negative', async () => {
    const full = await decodeImage(await (await get(`${instanceUrl(ids.ct)}/rendered?window=40,400`, 'image/png')).arrayBuffer());
    const region = await decodeImage(await (await get(`${instanceUrl(ids.ct)}/rendered?window=40,400&viewport=64,32,200,250,64,32`, 'image/png')).arrayBuffer());
    const flipped = await decodeImage(await (await get(`${instanceUrl(ids.ct)}/rendered?window=40,400&viewport=64,32,264,250,-64,32`, 'image/png')).arrayBuffer());
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 64; x++) {
        expect(region.data[y * 64 + x]).toBe(full.data[(250 + y) * 512 + 200 + x]);
        expect(flipped.data[y * 64 + x]).toBe(full.data[(250 + y) * 512 + 263 - x]);
      }
    }
  });

  it('several frames come as multipart/related, one part per frame', async () => {
    const res = await get(`${instanceUrl(ids.multiframe)}/frames/1,17,34/rendered`);
    expect(res.status).toBe(200);
    const contentType = res.headers.get('content-type')!;
    expect(contentType).toMatch(/^multipart\/related; type="image\/jpeg"; boundary=/);
    const body = Buffer.from(await res.arrayBuffer());
    const boundary = contentType.split('boundary=')[1]!;
    expect(body.toString('latin1').split(`--${boundary}\r\n`).length - 1).toBe(3);
    expect(body.toString('latin1')).toContain('/frames/17/rendered');
  });

  it('a series and a study render as one part per image, leaving out non-image objects', async () => {
    const series = await get(`${base}/studies/${ids.ct.study}/series/${ids.ct.series}/rendered`, 'multipart/related; type="image/png"');
    expect(series.status).toBe(200);
    expect(series.headers.get('content-type')).toMatch(/type="image\/png"/);
    const text = Buffer.from(await series.arrayBuffer()).toString('latin1');
    for (const id of [ids.ct, ids.ct2, ids.ct3]) expect(text).toContain(`/instances/${id.sop}/rendered`);
    const study = await get(`${base}/studies/${ids.ct.study}/rendered`);
    expect(study.status).toBe(200);
  });

  it('thumbnails fit 128 pixels and show the middle image of a series, the middle frame of a cine', async () => {
    for (const url of [
      `${base}/studies/${ids.ct.study}/thumbnail`,
      `${base}/studies/${ids.ct.study}/series/${ids.ct.series}/thumbnail`,
      `${instanceUrl(ids.multiframe)}/thumbnail`,
      `${instanceUrl(ids.multiframe)}/frames/3/thumbnail`,
    ]) {
      const res = await get(url);
      expect(res.status, url).toBe(200);
      const image = await decodeImage(await res.arrayBuffer());
      expect(Math.max(image.width, image.height), url).toBe(128);
    }
    // The series holds I10, I30 and I50: its thumbnail is I30's rendering, scaled down.
    const thumb = await decodeImage(await (await get(`${base}/studies/${ids.ct.study}/series/${ids.ct.series}/thumbnail`, 'image/png')).arrayBuffer());
    const middle = await decodeImage(await (await get(`${instanceUrl(ids.ct2)}/thumbnail`, 'image/png')).arrayBuffer());
    expect(thumb.data.equals(middle.data)).toBe(true);
    const sized = await decodeImage(await (await get(`${instanceUrl(ids.ct)}/thumbnail?viewport=64,64`)).arrayBuffer());
    expect([sized.width, sized.height]).toEqual([64, 64]);
  });

  it('an encapsulated PDF renders as the PDF, an SR has no rendered image', async () => {
    const pdf = await get(`${instanceUrl(ids.pdf)}/rendered`);
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(Buffer.from(await pdf.arrayBuffer()).subarray(0, 5).toString()).toBe('%PDF-');
    expect((await get(`${instanceUrl(ids.pdf)}/rendered`, 'image/jpeg')).status).toBe(406);
    const sr = await get(`${instanceUrl(ids.sr)}/rendered`);
    expect(sr.status).toBe(406);
    expect(((await sr.json()) as { message: string }).message).toMatch(/no pixel data/);
    expect((await get(`${instanceUrl(ids.sr)}/thumbnail`)).status).toBe(406);
  });

  it('bad parameters are 400 with a message that says what is wrong', async () => {
    const cases: [string, RegExp][] = [
      ['window=abc,400', /window center "abc" is not a number/],
      ['window=40', /center,width/],
      ['window=40,0.5,linear', /window width 0.5 is too small/],
      ['window=40,400,cubic', /window function "cubic"/],
      ['viewport=0,100', /viewport width 0 is out of range/],
      ['viewport=100', /vw,vh/],
      ['viewport=100,100,0,0,0,10', /sw and sh must not be 0/],
      ['viewport=100,100,500,500,100,100', /region .* is not inside the 512x512 image/],
      ['quality=101', /quality 101 is out of range/],
      ['quality=high', /quality "high" is not an integer/],
      ['annotation=patient', /annotation is not supported/],
      ['quality=50&quality=60', /given 2 times/],
    ];
    for (const [query, message] of cases) {
      const res = await get(`${instanceUrl(ids.ct)}/rendered?${query}`);
      expect(res.status, query).toBe(400);
      expect(((await res.json()) as { message: string }).message, query).toMatch(message);
    }
    expect((await get(`${instanceUrl(ids.ct)}/frames/0/rendered`)).status).toBe(400);
    expect((await get(`${instanceUrl(ids.ct)}/frames/1,x/rendered`)).status).toBe(400);
    expect((await get(`${base}/studies/1.2.3abc/rendered`)).status).toBe(400);
    expect((await get(`${instanceUrl(ids.ct)}/rendered`, 'application/dicom')).status).toBe(406);
  });

  it('unknown UIDs and frames are 404', async () => {
    const unknown = { ...ids.ct, sop: '1.2.3.4.5.6.7' };
    for (const url of [
      `${instanceUrl(unknown)}/rendered`,
      `${instanceUrl(unknown)}/thumbnail`,
      `${instanceUrl({ ...ids.ct, series: '1.2.3' })}/rendered`,
      `${base}/studies/1.2.3/rendered`,
      `${base}/studies/1.2.3/thumbnail`,
      `${base}/studies/${ids.ct.study}/series/1.2.3/rendered`,
      `${base}/studies/${ids.ct.study}/series/1.2.3/thumbnail`,
      `${instanceUrl(ids.ct)}/frames/2/rendered`,
    ]) {
      const res = await get(url);
      expect(res.status, url).toBe(404);
    }
  });
});
