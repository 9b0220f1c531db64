// Acceptance: a real DICOMweb client, the `dicomweb-client` package that OHIF uses, against a whole
// Loire. It stores (STOW-RS), searches (QIDO-RS), retrieves instances, metadata and frames (WADO-RS),
// and everything comes back byte for byte or pixel for pixel. Expected frames come from pydicom,
// not from Loire's own code. The client speaks XMLHttpRequest, which Node lacks: testing/xhr.ts
// provides it over fetch.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from 'dicomweb-client';
import { parsePart10, type DicomJson } from '@loire/dicom';
import { datasetOffset } from '../retrieve/stored-dataset.js';
import { startTestLoire, type TestLoire } from '../testing/loire.js';
import { samplePath, storableSamples, type SampleEntry } from '../testing/samples.js';
import { installXMLHttpRequest } from '../testing/xhr.js';

const NATIVE_SERIES_DIR = 'ct-series/furuhashi-lspine-ct-20180201-sagittal3mm/';
/** Compressed samples whose frames are retrieved as stored, with the media type PS3.18 Table 8.7.3-5 gives. */
const COMPRESSED = [
  { path: 'modalities/sm-wsi/sm_image_jpegls.dcm', mediaType: 'image/jls', transferSyntaxUID: '1.2.840.10008.1.2.4.80' },
  { path: 'pydicom-test-files/MR_small_jp2klossless.dcm', mediaType: 'image/jp2', transferSyntaxUID: '1.2.840.10008.1.2.4.90' },
  { path: 'pydicom-test-files/SC_rgb_rle_2frame.dcm', mediaType: 'image/x-dicom-rle', transferSyntaxUID: '1.2.840.10008.1.2.5' },
];
/** Decoded by pydicom itself (RLE needs no extra handler), to check uncompressed frames pixel for pixel. */
const DECODABLE_BY_PYDICOM = 'pydicom-test-files/SC_rgb_rle_2frame.dcm';

let loire: TestLoire;
let client: InstanceType<typeof api.DICOMwebClient>;
let restoreXhr: () => void;
let native: SampleEntry[];
let compressed: SampleEntry[];

beforeAll(async () => {
  restoreXhr = installXMLHttpRequest();
  loire = await startTestLoire();
  client = new api.DICOMwebClient({ url: `http://127.0.0.1:${loire.httpPort}/dicom-web`, headers: loire.httpHeaders, verbose: false });
  const samples = storableSamples();
  native = samples.filter((s) => s.path.startsWith(NATIVE_SERIES_DIR)).slice(0, 3);
  compressed = COMPRESSED.map((c) => samples.find((s) => s.path === c.path)!);
  expect(native).toHaveLength(3);
  expect(compressed.every(Boolean)).toBe(true);
});

afterAll(async () => {
  await loire?.stop();
  restoreXhr?.();
});

const fileBytes = (entry: SampleEntry): Buffer => readFileSync(samplePath(entry));
const arrayBufferOf = (bytes: Buffer): ArrayBuffer => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
const ids = (entry: SampleEntry) => ({ studyInstanceUID: entry.studyUID!, seriesInstanceUID: entry.seriesUID!, sopInstanceUID: entry.sopInstanceUID! });
const uidOf = (json: DicomJson, tag: string): unknown => json[tag]?.Value?.[0];

/** STOW answers dicomweb-client with a string (it sets no responseType for stores). */
function storeResponse(response: unknown): DicomJson {
  return (typeof response === 'string' ? JSON.parse(response) : response) as DicomJson;
}

/** Frames as pydicom reads them: the encapsulated frame bytes, or the decoded pixels (base64). */
function pydicomFrames(entry: SampleEntry, what: 'encapsulated' | 'decoded'): Buffer[] {
  const script = `
import sys, json, base64, pydicom
from pydicom.encaps import generate_pixel_data_frame
ds = pydicom.dcmread(sys.argv[1])
n = int(getattr(ds, 'NumberOfFrames', 1) or 1)
if sys.argv[2] == 'encapsulated':
    frames = list(generate_pixel_data_frame(ds.PixelData, n))
else:
    a = ds.pixel_array
    frames = [a.tobytes()] if n == 1 else [a[i].tobytes() for i in range(n)]
print(json.dumps([base64.b64encode(f).decode() for f in frames]))
`;
  const run = spawnSync('/usr/bin/python3', ['-c', script, samplePath(entry), what], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`pydicom failed on ${entry.path}: ${run.stderr}`);
  return (JSON.parse(run.stdout) as string[]).map((b) => Buffer.from(b, 'base64'));
}

/** An encapsulated frame equals the expected one, up to the even-length padding byte of its last fragment. */
function sameCodestream(actual: Buffer, expected: Buffer): boolean {
  const unpad = (b: Buffer): Buffer => (b.length % 2 === 0 && b[b.length - 1] === 0 ? b.subarray(0, -1) : b);
  return actual.equals(expected) || unpad(actual).equals(unpad(expected));
}

describe('dicomweb-client against Loire', () => {
  it('stores instances with storeInstances (STOW-RS), byte for byte', async () => {
    const response = storeResponse(await client.storeInstances({ datasets: [...native, ...compressed].map((e) => arrayBufferOf(fileBytes(e))) }));
    const stored = (response['00081199']?.Value ?? []).map((item) => uidOf(item as DicomJson, '00081155'));
    expect(stored).toEqual([...native, ...compressed].map((e) => e.sopInstanceUID));
    expect(response['00081198']?.Value ?? []).toEqual([]);
    for (const entry of [...native, ...compressed]) {
      const record = await loire.server.archive.index.getInstance(entry.sopInstanceUID!);
      expect((await loire.server.archive.storage.readAll(record!.storageKey)).equals(fileBytes(entry)), entry.path).toBe(true);
    }
  });

  it('stores into a study resource, and is told when an instance belongs to another study', async () => {
    const again = storeResponse(await client.storeInstances({ studyInstanceUID: native[0]!.studyUID!, datasets: [arrayBufferOf(fileBytes(native[0]!))] }));
    expect(uidOf((again['00081199']?.Value?.[0] ?? {}) as DicomJson, '00081155')).toBe(native[0]!.sopInstanceUID);
    const wrong = await client.storeInstances({ studyInstanceUID: native[0]!.studyUID!, datasets: [arrayBufferOf(fileBytes(compressed[0]!))] })
      .then(() => undefined, (error: { status: number; response: unknown }) => error);
    expect(wrong?.status).toBe(409);
    const failed = storeResponse(wrong?.response)['00081198']?.Value?.[0] as DicomJson;
    expect(uidOf(failed, '00081155')).toBe(compressed[0]!.sopInstanceUID);
    expect(uidOf(failed, '00081197')).toBe(0xa900);
  });

  it('searches studies, series and instances (QIDO-RS)', async () => {
    const [entry] = native as [SampleEntry];
    const studies = await client.searchForStudies({ queryParams: { StudyInstanceUID: entry.studyUID! } }) as DicomJson[];
    expect(studies.map((s) => uidOf(s, '0020000D'))).toEqual([entry.studyUID]);
    const series = await client.searchForSeries({ studyInstanceUID: entry.studyUID! }) as DicomJson[];
    expect(series.map((s) => uidOf(s, '0020000E'))).toContain(entry.seriesUID);
    const instances = await client.searchForInstances({ studyInstanceUID: entry.studyUID!, seriesInstanceUID: entry.seriesUID! }) as DicomJson[];
    expect(instances.map((i) => uidOf(i, '00080018')).sort()).toEqual(native.map((e) => e.sopInstanceUID).sort());
    const all = await client.searchForStudies() as DicomJson[];
    expect(all.map((s) => uidOf(s, '0020000D')).sort()).toEqual([...new Set([...native, ...compressed].map((e) => e.studyUID))].sort());
  });

  // dicomweb-client 0.11.3 cannot ask for a transfer syntax when it retrieves instances (its media
  // type check compares "application/" with "application/dicom" and throws), so it always gets the
  // default, Explicit VR Little Endian (PS3.18 §8.7.3.5.2): byte for byte for the CT series stored
  // so, pixel for pixel for a compressed instance. Frames below cover the stored compressed bytes.
  it('retrieves instances and series in the default transfer syntax (WADO-RS), byte or pixel for pixel', async () => {
    const [entry] = native as [SampleEntry];
    const datasetOf = (bytes: Buffer): Buffer => bytes.subarray(datasetOffset(bytes));
    const instance = await client.retrieveInstance(ids(entry)) as ArrayBuffer;
    expect(datasetOf(Buffer.from(instance)).equals(datasetOf(fileBytes(entry)))).toBe(true);
    const series = await client.retrieveSeries({ studyInstanceUID: entry.studyUID!, seriesInstanceUID: entry.seriesUID! }) as ArrayBuffer[];
    const bySop = new Map(series.map((bytes) => [parsePart10(Buffer.from(bytes)).dataset.string(0x00080018), Buffer.from(bytes)]));
    for (const sample of native) expect(datasetOf(bySop.get(sample.sopInstanceUID!)!).equals(datasetOf(fileBytes(sample))), sample.path).toBe(true);

    const rle = compressed.find((c) => c.path === DECODABLE_BY_PYDICOM)!;
    const transcoded = Buffer.from(await client.retrieveInstance(ids(rle)) as ArrayBuffer);
    const part10 = parsePart10(transcoded);
    expect(part10.transferSyntaxUid).toBe('1.2.840.10008.1.2.1');
    expect(part10.dataset.number(0x00280006)).toBe(0); // colour-by-pixel, as the original says
    const pixelData = part10.dataset.get(0x7fe00010)!;
    const pixels = pixelData.value ? Buffer.from(pixelData.value) : transcoded.subarray(pixelData.position!.offset, pixelData.position!.offset + pixelData.position!.length);
    expect(pixels.equals(Buffer.concat(pydicomFrames(rle, 'decoded')))).toBe(true);
  });

  it('retrieves instance and series metadata with BulkDataURIs (WADO-RS)', async () => {
    const [entry] = native as [SampleEntry];
    const [metadata] = await client.retrieveInstanceMetadata(ids(entry)) as DicomJson[];
    expect(uidOf(metadata!, '00080018')).toBe(entry.sopInstanceUID);
    expect(uidOf(metadata!, '00280010')).toBe(entry.rows);
    expect(uidOf(metadata!, '00280011')).toBe(entry.cols);
    expect(metadata!['7FE00010']?.BulkDataURI).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/dicom-web\/studies\/.+\/bulkdata\//);
    const series = await client.retrieveSeriesMetadata({ studyInstanceUID: entry.studyUID!, seriesInstanceUID: entry.seriesUID! }) as DicomJson[];
    expect(series.map((m) => uidOf(m, '00080018')).sort()).toEqual(native.map((e) => e.sopInstanceUID).sort());
  });

  it('retrieves uncompressed frames pixel for pixel (WADO-RS frames)', async () => {
    const [entry] = native as [SampleEntry];
    // Native CT: frame 1 is the whole Pixel Data value of the file.
    const [ctFrame] = await client.retrieveInstanceFrames({ ...ids(entry), frameNumbers: [1] }) as ArrayBuffer[];
    const [expectedCt] = pydicomFrames(entry, 'decoded');
    expect(Buffer.from(ctFrame!).equals(expectedCt!)).toBe(true);
    // RLE colour, decoded by the server, against pydicom's decoding.
    const rle = compressed.find((c) => c.path === DECODABLE_BY_PYDICOM)!;
    const frames = await client.retrieveInstanceFrames({ ...ids(rle), frameNumbers: [1, 2], mediaTypes: [{ mediaType: 'application/octet-stream' }] }) as ArrayBuffer[];
    const expected = pydicomFrames(rle, 'decoded');
    expect(frames.map((f) => Buffer.from(f).equals(expected[frames.indexOf(f)]!))).toEqual([true, true]);
  });

  it('retrieves compressed frames as stored, byte for byte (WADO-RS frames)', async () => {
    const [first] = compressed as [SampleEntry];
    for (const [i, entry] of compressed.entries()) {
      const { mediaType, transferSyntaxUID } = COMPRESSED[i]!;
      const expected = pydicomFrames(entry, 'encapsulated');
      const numbers = expected.length > 1 ? [1, expected.length] : [1];
      const frames = await client.retrieveInstanceFrames({ ...ids(entry), frameNumbers: numbers, mediaTypes: [{ mediaType, transferSyntaxUID }] }) as ArrayBuffer[];
      expect(frames, entry.path).toHaveLength(numbers.length);
      numbers.forEach((n, k) => expect(sameCodestream(Buffer.from(frames[k]!), expected[n - 1]!), `${entry.path} frame ${n}`).toBe(true));
    }
  });
});
