// WADO-RS retrieve, frames and bulk data against a whole Loire, checked with independent tools:
// sha256 of the sample files, dcmdump/dciodvfy/dcmdjpls (DCMTK, dicom3tools), and reference pixels
// from DCMTK and OpenJPEG (packages/dicom/src/codecs/test-support/reference_pixels.py).
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frameByteLength, parsePart10, pixelFormat, splitEncapsulatedFrames } from '@loire/dicom';
import { runTool } from '../testing/dcmtk.js';
import { startTestLoire, type TestLoire } from '../testing/loire.js';
import { LogLines } from '../testing/log-lines.js';
import { splitMultipart } from '../testing/multipart.js';
import { samplePath, storableSamples, type SampleEntry } from '../testing/samples.js';
import { compareSamples, referencePixels } from '../../../dicom/src/codecs/test-support/reference.js';

const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const JPEG_LS_LOSSLESS = '1.2.840.10008.1.2.4.80';

/**
 * Largest difference allowed from the reference decoder (as in the codec tests, decode.test.ts): lossless syntaxes
 * exactly; lossy JPEG and JPEG 2000 ±1, as ISO 10918-2 lets conforming IDCTs differ by one level and the 9/7 wavelet
 * is computed in floating point. HTJ2K (4.201-4.203) is compared with OpenJPEG's HTJ2K decoder, independent of the
 * OpenJPH that Loire uses.
 */
const TOLERANCE: Readonly<Record<string, number>> = {
  '1.2.840.10008.1.2.4.50': 1, '1.2.840.10008.1.2.4.51': 1, '1.2.840.10008.1.2.4.57': 0, '1.2.840.10008.1.2.4.70': 0,
  '1.2.840.10008.1.2.4.80': 0, '1.2.840.10008.1.2.4.81': 0, '1.2.840.10008.1.2.4.90': 0, '1.2.840.10008.1.2.4.91': 1,
  '1.2.840.10008.1.2.4.201': 0, '1.2.840.10008.1.2.4.202': 0, '1.2.840.10008.1.2.4.203': 1, '1.2.840.10008.1.2.5': 0,
};

/**
 * Compressed samples not compared with the reference, and why:
 * - JPEG2000-embedded-sequence-delimiter.dcm: its codestream was overwritten to claim 3.8e12 pixels (a parser
 *   test); no decoder can give its pixels. Checked instead: Loire answers with an error, not with pixels.
 * - Whole-slide images whose edge tiles are cropped JPEG tiles: the codec tests compare those tile by tile;
 *   here the frames of such an image are compared only when their tile is whole (see `comparableFrame`).
 */
const NOT_DECODABLE = new Set(['pydicom-test-files/JPEG2000-embedded-sequence-delimiter.dcm']);

const ctSeries = storableSamples().filter((e) => e.path.startsWith('ct-series/philips-head-ct-std-brain-1mm/'));

/** One sample per SOP Instance UID (the sample set holds a few copies of the same instance in other syntaxes). */
function uniqueInstances(entries: SampleEntry[]): SampleEntry[] {
  const seen = new Set<string>();
  return entries.filter((e) => !seen.has(e.sopInstanceUID!) && seen.add(e.sopInstanceUID!));
}

/**
 * UIDs that break PS3.5 9.1 (e.g. "999.999.01.23.45.6789", a leading zero) are refused in DICOMweb paths (parseUid):
 * CR-ModalitySequenceLUT.dcm and sm-wsi/multiframe.dcm cannot be named in a URL, so they are not tested here.
 */
const CONFORMANT_UID = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/;
const addressable = (e: SampleEntry): boolean => [e.studyUID, e.seriesUID, e.sopInstanceUID].every((uid) => uid !== null && uid.length <= 64 && CONFORMANT_UID.test(uid));

const compressed = uniqueInstances(storableSamples().filter(addressable).filter((e) =>
  (e.path.startsWith('syntaxes/') || e.path.startsWith('modalities/') || e.path.startsWith('pydicom-test-files/')) &&
  e.transferSyntaxUID !== null && e.transferSyntaxUID in TOLERANCE && e.rows !== null));
const implicitSample = storableSamples().find((e) => e.transferSyntaxUID === '1.2.840.10008.1.2' && e.rows !== null && e.path.startsWith('syntaxes/'))
  ?? storableSamples().find((e) => e.transferSyntaxUID === '1.2.840.10008.1.2' && e.rows !== null)!;
const bigEndianSample = storableSamples().find((e) => e.transferSyntaxUID === '1.2.840.10008.1.2.2' && e.rows !== null)!;
const multiFrame = compressed.find((e) => (e.frames ?? 1) >= 3 && e.transferSyntaxUID === '1.2.840.10008.1.2.5')
  ?? compressed.find((e) => (e.frames ?? 1) >= 3)!;
const jpegBaseline = compressed.find((e) => e.transferSyntaxUID === '1.2.840.10008.1.2.4.50' && (e.frames ?? 1) === 1)!;

let loire: TestLoire;
const log = new LogLines();
let base: string;
let work: string;

async function importFile(file: string): Promise<void> {
  const incoming = await loire.server.archive.ingest.beginPart10({ door: 'import', from: file });
  for await (const chunk of createReadStream(file)) await incoming.write(chunk as Buffer);
  await incoming.end();
}

function get(url: string, accept?: string): Promise<Response> {
  return fetch(url.startsWith('http') ? url : `${base}${url}`, { headers: { ...loire.httpHeaders, ...(accept ? { Accept: accept } : {}) } });
}

async function parts(response: Response): Promise<ReturnType<typeof splitMultipart>> {
  expect(response.status, await response.clone().text().then((t) => t.slice(0, 300))).toBe(200);
  return splitMultipart(Buffer.from(await response.arrayBuffer()), response.headers.get('content-type'));
}

function instancePath(e: SampleEntry): string {
  return `/studies/${e.studyUID}/series/${e.seriesUID}/instances/${e.sopInstanceUID}`;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

beforeAll(async () => {
  loire = await startTestLoire({ logDestination: log });
  base = `http://127.0.0.1:${loire.httpPort}/dicom-web`;
  work = await mkdtemp(path.join(os.tmpdir(), 'loire-wado-'));
  for (const e of [...ctSeries, ...compressed, implicitSample, bigEndianSample]) await importFile(samplePath(e));
}, 300_000);

afterAll(async () => {
  await loire?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('WADO-RS retrieve of instances', () => {
  it('sends a series as stored with transfer-syntax=*, each part byte-exact with the original file', async () => {
    const first = ctSeries[0]!;
    const received = await parts(await get(`/studies/${first.studyUID}/series/${first.seriesUID}`, 'multipart/related; type="application/dicom"; transfer-syntax=*'));
    expect(received).toHaveLength(ctSeries.length);
    const expected = new Map(ctSeries.map((e) => [e.sopInstanceUID!, e.sha256]));
    for (const part of received) {
      const sop = part.headers['content-location']!.split('/instances/')[1]!;
      expect(sha256(part.body)).toBe(expected.get(sop));
      expect(part.headers['content-type']).toBe(`application/dicom; transfer-syntax=${EXPLICIT_LE}`);
      expect(part.headers['content-location']).toBe(`${base}${instancePath(ctSeries.find((e) => e.sopInstanceUID === sop)!)}`);
    }
  });

  it('sends compressed instances as stored with transfer-syntax=* (sha256 of the file)', async () => {
    for (const e of compressed.slice(0, 10)) {
      const [part] = await parts(await get(instancePath(e), 'multipart/related; type="application/dicom"; transfer-syntax=*'));
      expect(sha256(part!.body), e.path).toBe(e.sha256);
      expect(part!.headers['content-type']).toBe(`application/dicom; transfer-syntax=${e.transferSyntaxUID}`);
    }
  });

  it('stays up when a client drops a series retrieve half-way, and serves the next one whole', async () => {
    const first = ctSeries[0]!;
    const url = `${base}/studies/${first.studyUID}/series/${first.seriesUID}`;
    const accept = 'multipart/related; type="application/dicom"; transfer-syntax=*';
    for (let attempt = 0; attempt < 5; attempt++) {
      const controller = new AbortController();
      const response = await fetch(url, { headers: { ...loire.httpHeaders, Accept: accept }, signal: controller.signal });
      const reader = response.body!.getReader();
      await reader.read();
      controller.abort();
      await reader.read().catch(() => undefined);
    }
    expect(await parts(await get(url.slice(base.length), accept))).toHaveLength(ctSeries.length);
  });

  it('sends a study-level retrieve with a Content-Location per instance', async () => {
    const e = ctSeries[0]!;
    const received = await parts(await get(`/studies/${e.studyUID}`, 'multipart/related; type="application/dicom"; transfer-syntax=*'));
    expect(received.length).toBeGreaterThanOrEqual(ctSeries.length);
    for (const part of received) expect(part.headers['content-location']).toMatch(new RegExp(`^${base}/studies/${e.studyUID}/series/[0-9.]+/instances/[0-9.]+$`));
  });

  it.each([
    ['JPEG baseline', () => jpegBaseline],
    ['implicit VR little endian', () => implicitSample],
    ['explicit VR big endian', () => bigEndianSample],
  ])('converts a %s instance to explicit VR little endian by default, which dcmdump and dciodvfy accept', async (_name, sample) => {
    const e = sample();
    const [part] = await parts(await get(instancePath(e)));
    expect(part!.headers['content-type']).toBe(`application/dicom; transfer-syntax=${EXPLICIT_LE}`);
    expect(part!.headers['content-location']).toBe(`${base}${instancePath(e)}`);
    const file = path.join(work, `${e.sopInstanceUID}.dcm`);
    await writeFile(file, part!.body);
    const dump = await runTool('dcmdump', ['-M', '+L', file]);
    expect(dump.code, dump.stderr).toBe(0);
    expect(dump.stdout).toContain(`(0002,0010) UI =LittleEndianExplicit`);
    expect(dump.stdout).toContain(e.sopInstanceUID!);
    // dciodvfy judges the IOD, which the sample may break already: the converted file must add no error of its own.
    const errors = async (f: string): Promise<Set<string>> => {
      const result = await runTool('dciodvfy', [f]);
      expect(result.code, 'dciodvfy ran').not.toBeNull();
      return new Set(`${result.stdout}\n${result.stderr}`.split('\n').filter((l) => l.startsWith('Error')));
    };
    const original = await errors(samplePath(e));
    const converted = [...await errors(file)].filter((l) => !original.has(l));
    expect(converted).toEqual([]);
    const parsed = parsePart10(part!.body);
    expect(parsed.transferSyntaxUid).toBe(EXPLICIT_LE);
  });

  it('encodes to a lossless compressed syntax on request (JPEG-LS), which DCMTK decodes to the original pixels', async () => {
    const e = ctSeries[10]!;
    const [part] = await parts(await get(instancePath(e), `multipart/related; type="application/dicom"; transfer-syntax=${JPEG_LS_LOSSLESS}`));
    expect(part!.headers['content-type']).toBe(`application/dicom; transfer-syntax=${JPEG_LS_LOSSLESS}`);
    const file = path.join(work, 'jls.dcm');
    await writeFile(file, part!.body);
    const decoded = path.join(work, 'jls-decoded.dcm');
    const result = await runTool('dcmdjpls', [file, decoded]);
    expect(result.code, result.stderr).toBe(0);
    const original = parsePart10(readFileSync(samplePath(e)));
    const roundTrip = parsePart10(readFileSync(decoded));
    const pixels = (p: ReturnType<typeof parsePart10>, bytes: Buffer): Buffer => {
      const position = p.dataset.get(0x7fe00010)!.position!;
      return bytes.subarray(position.offset, position.offset + position.length);
    };
    expect(sha256(pixels(roundTrip, readFileSync(decoded)))).toBe(sha256(pixels(original, readFileSync(samplePath(e)))));
  });

  it('answers 406 when no acceptable transfer syntax or media type can be served', async () => {
    const e = ctSeries[0]!;
    // Loire encodes only lossless syntaxes: JPEG baseline from native pixels is not offered.
    expect((await get(instancePath(e), 'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.50')).status).toBe(406);
    expect((await get(instancePath(e), 'text/html')).status).toBe(406);
    expect((await get(`${instancePath(e)}/frames/1`, 'multipart/related; type="image/jpeg"')).status).toBe(406);
    const body = await (await get(instancePath(e), 'application/json')).json() as { message: string };
    expect(body.message).toMatch(/application\/dicom/);
  });

  it('leaves out, with a Warning, the instances of a series it cannot convert', async () => {
    // A native copy of the JPEG baseline sample in the same series: asked as JPEG baseline, which Loire does not
    // encode, the copy is left out and the original sent as stored.
    const e = jpegBaseline;
    const [native] = await parts(await get(instancePath(e)));
    const copy = path.join(work, 'native-copy.dcm');
    await writeFile(copy, native!.body);
    const modified = await runTool('dcmodify', ['-nb', '-m', '(0008,0018)=1.2.826.0.1.3680043.9.7433.1.99', copy]);
    expect(modified.code, modified.stderr).toBe(0);
    await importFile(copy);
    const response = await get(`/studies/${e.studyUID}/series/${e.seriesUID}`, 'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.50');
    expect(response.headers.get('warning')).toMatch(/^299 Loire ".*1 of \d+ instances were left out/);
    const received = await parts(response);
    expect(received.map((p) => p.headers['content-location']!.split('/instances/')[1])).not.toContain('1.2.826.0.1.3680043.9.7433.1.99');
    expect(received.some((p) => sha256(p.body) === e.sha256)).toBe(true);
  });

  it('leaves out an instance whose object is missing from storage, sends the rest whole, and says so in the log', async () => {
    // Three slices copied into a series of their own, then one object deleted behind the index's back.
    const seriesUid = '1.2.826.0.1.3680043.9.7433.2.1';
    const sops = ['1.2.826.0.1.3680043.9.7433.2.1.1', '1.2.826.0.1.3680043.9.7433.2.1.2', '1.2.826.0.1.3680043.9.7433.2.1.3'];
    const study = ctSeries[0]!.studyUID!;
    const copies = new Map<string, string>();
    for (const [i, sop] of sops.entries()) {
      const copy = path.join(work, `missing-${i}.dcm`);
      await writeFile(copy, readFileSync(samplePath(ctSeries[i]!)));
      const modified = await runTool('dcmodify', ['-nb', '-m', `(0020,000E)=${seriesUid}`, '-m', `(0008,0018)=${sop}`, copy]);
      expect(modified.code, modified.stderr).toBe(0);
      await importFile(copy);
      copies.set(sop, sha256(readFileSync(copy)));
    }
    const gone = sops[1]!;
    const record = await loire.server.archive.index.getInstance(gone);
    await loire.server.archive.storage.delete(record!.storageKey);

    const seriesUrl = `/studies/${study}/series/${seriesUid}`;
    const received = await parts(await get(seriesUrl, 'multipart/related; type="application/dicom"; transfer-syntax=*'));
    expect(received.map((p) => p.headers['content-location']!.split('/instances/')[1])).toEqual([sops[0], sops[2]]);
    for (const part of received) expect(sha256(part.body)).toBe(copies.get(part.headers['content-location']!.split('/instances/')[1]!));
    // Converted (the default Accept asks for Explicit VR Little Endian, as stored here) or as stored: the same.
    expect(await parts(await get(seriesUrl))).toHaveLength(2);
    const lines = log.lines.filter((l) => l.sopInstanceUid === gone && String(l.msg).includes('missing from storage'));
    expect(lines.length, 'an error line per retrieve').toBeGreaterThanOrEqual(2);
    expect(lines.every((l) => l.level === 50 && String(l.msg).includes('loire verify'))).toBe(true);

    // Asked alone, it is a server error that names it, not an empty or cut body.
    const alone = await get(`${seriesUrl}/instances/${gone}`, 'multipart/related; type="application/dicom"; transfer-syntax=*');
    expect(alone.status).toBe(500);
    expect(await alone.text()).toContain(`instance ${gone} is in the index but its object is missing from storage`);
    // The server is still serving.
    expect(await parts(await get(`${seriesUrl}/instances/${sops[0]}`))).toHaveLength(1);
  });

  it('answers 404 for unknown UIDs and for UIDs that do not belong together', async () => {
    const e = ctSeries[0]!;
    const other = compressed[0]!;
    for (const url of [
      '/studies/1.2.3.4.5.6.7', `/studies/${e.studyUID}/series/1.2.3.4`, `/studies/${e.studyUID}/series/${e.seriesUID}/instances/1.2.3`,
      `/studies/${other.studyUID}/series/${e.seriesUID}/instances/${e.sopInstanceUID}`,
      `/studies/${e.studyUID}/series/${e.seriesUID}/instances/1.2.3/frames/1`,
      `/studies/${e.studyUID}/series/${e.seriesUID}/instances/1.2.3/bulkdata/7FE00010`,
    ]) {
      const response = await get(url);
      expect(response.status, url).toBe(404);
      expect(((await response.json()) as { message: string }).message).toMatch(/holds no/);
    }
  });

  it('answers 400 for path traversal and other non-UIDs in the path', async () => {
    const e = ctSeries[0]!;
    for (const url of [
      '/studies/..%2F..%2Fetc%2Fpasswd', `/studies/${e.studyUID}/series/..%2F..`, `/studies/${e.studyUID}/series/${e.seriesUID}/instances/1.2.3%00`,
      `/studies/${e.studyUID}/series/${e.seriesUID}/instances/..%5C..%5Cwindows/frames/1`, "/studies/1.2'%20OR%201=1",
      `${instancePath(e)}/bulkdata/..%2F..%2F7FE00010`, `${instancePath(e)}/bulkdata/7FE00010%2F..%2F..%2F00100010`,
    ]) {
      const response = await get(url);
      expect(response.status, url).toBe(400);
    }
  });
});

describe('WADO-RS frames', () => {
  it.each(compressed.filter((e) => !NOT_DECODABLE.has(e.path)).map((e) => [e.path, e]))(
    '%s: frames asked uncompressed equal the reference decoder\'s pixels', async (_path, e) => {
      const file = samplePath(e);
      const format = pixelFormat(parsePart10(readFileSync(file)).dataset);
      const reference = await referencePixels(file, frameByteLength(format));
      // Every frame of small images; first, middle and last of long cine loops (the codec tests decode them all).
      const count = e.frames ?? 1;
      const numbers = count <= 10 ? Array.from({ length: count }, (_, i) => i + 1) : [1, Math.ceil(count / 2), count];
      const received = await parts(await get(`${instancePath(e)}/frames/${numbers.join(',')}`, 'multipart/related; type="application/octet-stream"'));
      expect(received).toHaveLength(numbers.length);
      numbers.forEach((n, at) => {
        const part = received[at]!;
        expect(part.headers['content-location']).toBe(`${base}${instancePath(e)}/frames/${n}`);
        expect(part.headers['content-type']).toBe(`application/octet-stream; transfer-syntax=${EXPLICIT_LE}`);
        const expected = reference.frames[n - 1]!;
        const { maxDifference } = compareSamples(part.body, expected.subarray(0, part.body.length), format);
        expect(part.body.length, `frame ${n}`).toBe(expected.length);
        expect(maxDifference, `frame ${n} (${reference.decoder})`).toBeLessThanOrEqual(TOLERANCE[e.transferSyntaxUID!]!);
      });
      // As stored: the frame read by position (one fragment per frame) is the frame the whole-value splitter finds.
      const parsed = parsePart10(readFileSync(file));
      const pixel = parsed.dataset.get(0x7fe00010)!;
      const bytes = readFileSync(file);
      const storedFrames = splitEncapsulatedFrames(bytes.subarray(pixel.position!.offset), { numberOfFrames: count, transferSyntaxUid: e.transferSyntaxUID! });
      const [asStored] = await parts(await get(`${instancePath(e)}/frames/${count}`, 'multipart/related; type="application/octet-stream"; transfer-syntax=*'));
      expect(asStored!.headers['content-type']).toBe(`application/octet-stream; transfer-syntax=${e.transferSyntaxUID}`);
      expect(asStored!.body.equals(Buffer.from(storedFrames[count - 1]!))).toBe(true);
    }, 120_000);

  it.each([
    ['explicit VR big endian', () => bigEndianSample],
    ['implicit VR little endian', () => implicitSample],
  ])('sends native frames of a %s sample as pydicom reads them', async (_name, sample) => {
    const e = sample();
    const file = samplePath(e);
    const format = pixelFormat(parsePart10(readFileSync(file)).dataset);
    const reference = await referencePixels(file, frameByteLength(format), 'native');
    const count = e.frames ?? 1;
    const numbers = Array.from({ length: Math.min(count, 3) }, (_, i) => i + 1);
    const received = await parts(await get(`${instancePath(e)}/frames/${numbers.join(',')}`, 'multipart/related; type="application/octet-stream"'));
    numbers.forEach((n, at) => expect(compareSamples(received[at]!.body, reference.frames[n - 1]!, format).maxDifference, `frame ${n}`).toBe(0));
  });

  it('refuses a frame whose codestream no decoder can read, with an error rather than pixels', async () => {
    const e = storableSamples().find((s) => NOT_DECODABLE.has(s.path));
    if (!e || !compressed.includes(e)) return;
    const response = await get(`${instancePath(e)}/frames/1`, 'multipart/related; type="application/octet-stream"');
    expect(response.status).toBeGreaterThanOrEqual(400);
  });

  it('sends compressed frames as stored when the Accept header asks (transfer-syntax=*, or their own media type)', async () => {
    const e = jpegBaseline;
    // The viewer's request (dicomweb-client's default): octet-stream parts that name the stored syntax.
    const stored = await parts(await get(`${instancePath(e)}/frames/1`, 'multipart/related; type="application/octet-stream"; transfer-syntax=*'));
    expect(stored[0]!.headers['content-type']).toBe(`application/octet-stream; transfer-syntax=${e.transferSyntaxUID}`);
    expect(stored[0]!.body.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    const jpeg = await parts(await get(`${instancePath(e)}/frames/1`, 'multipart/related; type="image/jpeg"'));
    expect(jpeg[0]!.headers['content-type']).toBe(`image/jpeg; transfer-syntax=${e.transferSyntaxUID}`);
    expect(jpeg[0]!.body.equals(stored[0]!.body)).toBe(true);
    const any = await parts(await get(`${instancePath(e)}/frames/1`, '*/*'));
    expect(any[0]!.headers['content-type']).toBe(`image/jpeg; transfer-syntax=${e.transferSyntaxUID}`);
  });

  it('encodes frames losslessly on request (JPEG-LS of a native CT slice) and the encoding decodes to the stored pixels', async () => {
    const e = ctSeries[5]!;
    const [raw] = await parts(await get(`${instancePath(e)}/frames/1`, 'multipart/related; type="application/octet-stream"'));
    const [jls] = await parts(await get(`${instancePath(e)}/frames/1`, 'multipart/related; type="image/jls"'));
    expect(jls!.headers['content-type']).toBe(`image/jls; transfer-syntax=${JPEG_LS_LOSSLESS}`);
    expect(jls!.body.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(jls!.body.length).toBeLessThan(raw!.body.length);
    const file = samplePath(e);
    const parsed = parsePart10(readFileSync(file));
    const position = parsed.dataset.get(0x7fe00010)!.position!;
    expect(sha256(raw!.body)).toBe(sha256(readFileSync(file).subarray(position.offset, position.offset + position.length)));
  });

  it('sends several frames of a multi-frame instance in the order asked', async () => {
    const e = multiFrame;
    const all = await parts(await get(`${instancePath(e)}/frames/1,2,3`, 'multipart/related; type="application/octet-stream"; transfer-syntax=*'));
    const picked = await parts(await get(`${instancePath(e)}/frames/3,1`, 'multipart/related; type="application/octet-stream"; transfer-syntax=*'));
    expect(picked[0]!.body.equals(all[2]!.body)).toBe(true);
    expect(picked[1]!.body.equals(all[0]!.body)).toBe(true);
  });

  it('answers 400 for malformed frame lists and 404 for frames the instance does not have', async () => {
    const e = ctSeries[0]!;
    for (const list of ['0', 'abc', '1,,2', '-1', '1.5', '99999999999']) {
      const response = await get(`${instancePath(e)}/frames/${list}`);
      expect(response.status, list).toBe(400);
      expect(((await response.json()) as { message: string }).message).toMatch(/frame/);
    }
    const response = await get(`${instancePath(e)}/frames/1,2`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { message: string }).message).toMatch(/has 1 frame; there is no frame 2/);
  });

  it('sends one frame as a single body when the Accept header names a bare media type', async () => {
    const e = ctSeries[0]!;
    const response = await get(`${instancePath(e)}/frames/1`, 'application/octet-stream');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(`application/octet-stream; transfer-syntax=${EXPLICIT_LE}`);
    expect((await response.arrayBuffer()).byteLength).toBe(512 * 512 * 2);
  });
});

describe('WADO-RS bulk data', () => {
  it('sends Pixel Data as its frames, and a plain element as its value', async () => {
    const e = ctSeries[0]!;
    const [frame] = await parts(await get(`${instancePath(e)}/frames/1`, 'multipart/related; type="application/octet-stream"'));
    const [pixels] = await parts(await get(`${instancePath(e)}/bulkdata/7FE00010`));
    expect(pixels!.body.equals(frame!.body)).toBe(true);
    expect(pixels!.headers['content-location']).toBe(`${base}${instancePath(e)}/bulkdata/7FE00010`);
    const [uid] = await parts(await get(`${instancePath(e)}/bulkdata/00080018`));
    expect(uid!.body.toString('latin1').replace(/\0$/, '')).toBe(e.sopInstanceUID);
  });

  it('resolves a path through a sequence item, and answers 404 for a missing item or element', async () => {
    const e = ctSeries[0]!;
    const parsed = parsePart10(readFileSync(samplePath(e))).dataset;
    const sequenceTag = parsed.tags().find((t) => parsed.get(t)!.items?.[0]?.tags().some((inner) => parsed.get(t)!.items![0]!.get(inner)!.value));
    expect(sequenceTag).toBeDefined();
    const item = parsed.get(sequenceTag!)!.items![0]!;
    const innerTag = item.tags().find((t) => item.get(t)!.value && !item.get(t)!.items)!;
    const hex = (t: number): string => t.toString(16).toUpperCase().padStart(8, '0');
    const [value] = await parts(await get(`${instancePath(e)}/bulkdata/${hex(sequenceTag!)}/0/${hex(innerTag)}`));
    expect(value!.body.equals(Buffer.from(item.get(innerTag)!.value!))).toBe(true);
    expect((await get(`${instancePath(e)}/bulkdata/${hex(sequenceTag!)}/99/${hex(innerTag)}`)).status).toBe(404);
    expect((await get(`${instancePath(e)}/bulkdata/00291234`)).status).toBe(404);
  });

  it('sends the value in little endian whatever the stored byte order', async () => {
    const e = bigEndianSample;
    const [rows] = await parts(await get(`${instancePath(e)}/bulkdata/00280010`));
    expect(rows!.body.readUInt16LE(0)).toBe(e.rows);
  });
});
