// STOW-RS and DELETE against a whole Loire over real HTTP: what is stored is byte for byte what was
// sent; bad requests (malformed multipart, lying Content-Length, a client that stops or leaves,
// wrong media types, unknown UIDs, oversized bodies) get a clear 4xx or a FailedSOPSequence, leave
// no object or temporary file behind, and the server goes on serving.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePart10, toDicomJson, type DataElement, type DicomJson } from '@loire/dicom';
import { startTestLoire, type TestLoire } from '../testing/loire.js';
import { samplePath, storableSamples, type SampleEntry } from '../testing/samples.js';

const MAX_REQUEST_BYTES = 8 * 1024 * 1024;
const BOUNDARY = 'stow-test-boundary';

let loire: TestLoire;
let base: string;

/** Three instances of one CT series, and one instance of another study. */
let series: SampleEntry[];
let otherStudy: SampleEntry;

beforeAll(async () => {
  loire = await startTestLoire({ stow: { maxRequestBytes: MAX_REQUEST_BYTES, idleTimeoutSeconds: 1 } });
  base = `http://127.0.0.1:${loire.httpPort}/dicom-web`;
  const samples = storableSamples();
  series = samples.filter((s) => s.path.startsWith('ct-series/furuhashi-lspine-ct-20180201-sagittal3mm/')).slice(0, 3);
  otherStudy = samples.find((s) => s.path === 'ct-series/philips-head-ct-std-brain-1mm/I10')!;
  expect(series).toHaveLength(3);
  expect(otherStudy).toBeDefined();
});

afterAll(async () => {
  await loire?.stop();
});

interface PartSpec { type?: string; body: Buffer | string; headers?: string[] }

function multipart(parts: PartSpec[], boundary = BOUNDARY): Buffer {
  const out: Buffer[] = [];
  for (const part of parts) {
    const headers = [...(part.type ? [`Content-Type: ${part.type}`] : []), ...(part.headers ?? [])];
    out.push(Buffer.from(`--${boundary}\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`), Buffer.from(part.body), Buffer.from('\r\n'));
  }
  out.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(out);
}

const dicomPart = (entry: SampleEntry): PartSpec => ({ type: 'application/dicom', body: readFileSync(samplePath(entry)) });
const STOW_TYPE = `multipart/related; type="application/dicom"; boundary=${BOUNDARY}`;

async function stow(body: Buffer, options: { path?: string; contentType?: string; accept?: string } = {}): Promise<{ status: number; json: DicomJson | undefined; text: string; headers: Headers }> {
  const response = await fetch(`${base}${options.path ?? '/studies'}`, {
    method: 'POST',
    headers: { ...loire.httpHeaders, 'content-type': options.contentType ?? STOW_TYPE, ...(options.accept ? { accept: options.accept } : {}) },
    body,
  });
  const text = await response.text();
  let json: DicomJson | undefined;
  try { json = JSON.parse(text) as DicomJson; } catch { json = undefined; }
  return { status: response.status, json, text, headers: response.headers };
}

/** A value the parser kept, or left in the file at its position (bulk data). */
function valueBytes(file: Buffer, element: DataElement): Buffer {
  if (element.value) return Buffer.from(element.value);
  return file.subarray(element.position!.offset, element.position!.offset + element.position!.length);
}

function referenced(json: DicomJson | undefined): string[] {
  return (json?.['00081199']?.Value ?? []).map((item) => (item as DicomJson)['00081155']?.Value?.[0] as string);
}

function failures(json: DicomJson | undefined): { uid: unknown; reason: unknown }[] {
  return (json?.['00081198']?.Value ?? []).map((item) => ({
    uid: (item as DicomJson)['00081155']?.Value?.[0], reason: (item as DicomJson)['00081197']?.Value?.[0],
  }));
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

/** What is on disk and in the index: object files, indexed instances. */
async function archiveState(): Promise<{ objects: number; instances: number }> {
  const index = loire.server.archive.index;
  const instances = await index.count({ level: 'IMAGE', identifier: {}, options: { relational: true } });
  return { objects: filesUnder(path.join(loire.dataDir, 'objects')).length, instances };
}

/** Waits until discarded objects are gone (discard runs as the request ends), then compares. */
async function expectUnchanged(before: { objects: number; instances: number }): Promise<void> {
  let state = await archiveState();
  for (let i = 0; i < 50 && state.objects !== before.objects; i++) {
    await new Promise((r) => setTimeout(r, 50));
    state = await archiveState();
  }
  expect(state).toEqual({ objects: before.objects, instances: before.instances });
}

async function expectServing(): Promise<void> {
  const health = await fetch(`http://127.0.0.1:${loire.httpPort}/healthz`, { headers: loire.httpHeaders });
  expect(health.status).toBe(200);
}

/** Sends raw bytes on a fresh connection and returns everything the server answers until it closes or goes quiet. */
function rawExchange(request: Buffer, options: { destroyAfterMs?: number; quietMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(loire.httpPort, '127.0.0.1');
    let answer = '';
    let quiet: NodeJS.Timeout | undefined;
    const finish = (): void => { clearTimeout(quiet); socket.destroy(); resolve(answer); };
    socket.on('data', (d) => {
      answer += d.toString('latin1');
      clearTimeout(quiet);
      quiet = setTimeout(finish, options.quietMs ?? 300);
    });
    socket.on('close', finish);
    socket.on('error', (e) => (answer ? finish() : reject(e)));
    socket.write(request);
    if (options.destroyAfterMs !== undefined) setTimeout(finish, options.destroyAfterMs);
  });
}

function httpHead(contentLength: number, contentType = STOW_TYPE): string {
  const auth = Object.entries(loire.httpHeaders).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return `POST /dicom-web/studies HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${contentType}\r\nContent-Length: ${contentLength}\r\n${auth}\r\n`;
}

describe('STOW-RS', () => {
  it('stores every instance of a request byte for byte and answers 200 with their Retrieve URLs', async () => {
    const response = await stow(multipart(series.map(dicomPart)));
    expect(response.status, response.text).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/dicom\+json/);
    expect(referenced(response.json)).toEqual(series.map((s) => s.sopInstanceUID));
    expect(response.json?.['00081190']?.Value).toEqual([`${base}/studies/${series[0]!.studyUID}`]);
    const first = response.json?.['00081199']?.Value?.[0] as DicomJson;
    expect(first['00081150']?.Value).toEqual([series[0]!.sopClassUID]);
    expect(first['00081190']?.Value).toEqual([`${base}/studies/${series[0]!.studyUID}/series/${series[0]!.seriesUID}/instances/${series[0]!.sopInstanceUID}`]);
    for (const entry of series) {
      const record = await loire.server.archive.index.getInstance(entry.sopInstanceUID!);
      expect(record?.sourceAe).toBe('admin'); // the authenticated user who stored it
      const stored = await loire.server.archive.storage.readAll(record!.storageKey);
      expect(stored.equals(readFileSync(samplePath(entry))), entry.path).toBe(true);
    }
  });

  it('refuses into /studies/{study} an instance of another study (409, A900) and stores the one that belongs', async () => {
    const before = await archiveState();
    const wrong = await stow(multipart([dicomPart(otherStudy)]), { path: `/studies/${series[0]!.studyUID}` });
    expect(wrong.status, wrong.text).toBe(409);
    expect(failures(wrong.json)).toEqual([{ uid: otherStudy.sopInstanceUID, reason: 0xa900 }]);
    expect(wrong.json?.['00081190']?.Value).toEqual([`${base}/studies/${series[0]!.studyUID}`]);
    await expectUnchanged(before);
    const right = await stow(multipart([dicomPart(otherStudy)]), { path: `/studies/${otherStudy.studyUID}` });
    expect(right.status, right.text).toBe(200);
  });

  it('stores the good instances and reports the others: 202 with FailedSOPSequence', async () => {
    const response = await stow(multipart([
      { type: 'application/dicom', body: 'this is not a DICOM file at all' },
      dicomPart(series[0]!), // already stored: the default duplicate policy keeps the first copy
    ]));
    expect(response.status, response.text).toBe(202);
    expect(failures(response.json)).toEqual([{ uid: undefined, reason: 0xc000 }]);
    expect(referenced(response.json)).toEqual([series[0]!.sopInstanceUID]);
    expect(response.headers.get('warning')).toMatch(/part 1: not a valid DICOM dataset/);
  });

  it('stores a metadata upload: DICOM JSON with its bulk data, pixel for pixel', async () => {
    const bytes = readFileSync(samplePath(otherStudy));
    const source = parsePart10(bytes);
    const pixels = valueBytes(bytes, source.dataset.get(0x7fe00010)!);
    const json = toDicomJson(source.dataset, { bulkDataUri: (element) => (element.tag === 0x7fe00010 ? 'pixels-1' : undefined) }) as DicomJson;
    // A new instance, so that it does not collide with the Part 10 copy stored above.
    const sopInstanceUid = `${otherStudy.sopInstanceUID!.slice(0, 50)}.77`;
    json['00080018'] = { vr: 'UI', Value: [sopInstanceUid] };
    const response = await stow(multipart([
      { type: 'application/dicom+json', body: JSON.stringify([json]) },
      { type: 'application/octet-stream', headers: ['Content-Location: pixels-1'], body: Buffer.from(pixels) },
    ]), { contentType: `multipart/related; type="application/dicom+json"; boundary=${BOUNDARY}` });
    expect(response.status, response.text).toBe(200);
    expect(referenced(response.json)).toEqual([sopInstanceUid]);
    const record = await loire.server.archive.index.getInstance(sopInstanceUid);
    const storedBytes = await loire.server.archive.storage.readAll(record!.storageKey);
    const stored = parsePart10(storedBytes);
    expect(valueBytes(storedBytes, stored.dataset.get(0x7fe00010)!).equals(pixels)).toBe(true);
    expect(stored.dataset.string(0x00100010)).toBe(source.dataset.string(0x00100010));
    expect(stored.dataset.string(0x0020000d)).toBe(otherStudy.studyUID);
  });

  it('stores several instances of one metadata part, whatever the order of the parts', async () => {
    const instance = (n: number): DicomJson => ({
      '00080016': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.7'] }, '00080018': { vr: 'UI', Value: [`1.2.826.0.1.3680043.8.498.1.${n}`] },
      '0020000D': { vr: 'UI', Value: ['1.2.826.0.1.3680043.8.498.1'] }, '0020000E': { vr: 'UI', Value: ['1.2.826.0.1.3680043.8.498.1.0'] },
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Müller^Anaïs' }] }, '00280010': { vr: 'US', Value: [2] }, '00280011': { vr: 'US', Value: [2] },
      '00280100': { vr: 'US', Value: [8] }, '00280002': { vr: 'US', Value: [1] },
      '7FE00010': { vr: 'OB', BulkDataURI: `http://example.org/pixels/${n}` },
    });
    const response = await stow(multipart([
      { type: 'application/octet-stream', headers: ['Content-Location: http://example.org/pixels/2'], body: Buffer.from([5, 6, 7, 8]) },
      { type: 'application/dicom+json; transfer-syntax=1.2.840.10008.1.2.1', body: JSON.stringify([instance(1), instance(2)]) },
      { type: 'application/octet-stream', headers: ['Content-Location: http://example.org/pixels/1'], body: Buffer.from([1, 2, 3, 4]) },
    ]), { path: '/studies/1.2.826.0.1.3680043.8.498.1', contentType: `multipart/related; type="application/dicom+json"; boundary=${BOUNDARY}` });
    expect(response.status, response.text).toBe(200);
    expect(referenced(response.json)).toEqual(['1.2.826.0.1.3680043.8.498.1.1', '1.2.826.0.1.3680043.8.498.1.2']);
    for (const [n, pixels] of [[1, [1, 2, 3, 4]], [2, [5, 6, 7, 8]]] as const) {
      const record = await loire.server.archive.index.getInstance(`1.2.826.0.1.3680043.8.498.1.${n}`);
      const bytes = await loire.server.archive.storage.readAll(record!.storageKey);
      const stored = parsePart10(bytes);
      expect(valueBytes(bytes, stored.dataset.get(0x7fe00010)!)).toEqual(Buffer.from(pixels));
      expect(stored.dataset.string(0x00100010)).toBe('Müller^Anaïs');
    }
  });

  it('stores a metadata upload with compressed pixel data in the transfer syntax of its part', async () => {
    const entry = storableSamples().find((s) => s.path === 'pydicom-test-files/MR_small_jp2klossless.dcm')!;
    const bytes = readFileSync(samplePath(entry));
    const source = parsePart10(bytes);
    const [, ...fragments] = source.dataset.get(0x7fe00010)!.fragments!;
    const codestream = Buffer.concat(fragments.map((f) => bytes.subarray(f.offset, f.offset + f.length)));
    const json = toDicomJson(source.dataset, { bulkDataUri: (element) => (element.tag === 0x7fe00010 ? 'frame' : undefined) }) as DicomJson;
    const response = await stow(multipart([
      { type: 'application/dicom+json', body: JSON.stringify([json]) },
      { type: 'image/jp2; transfer-syntax=1.2.840.10008.1.2.4.90', headers: ['Content-Location: frame'], body: codestream },
    ]), { contentType: `multipart/related; type="application/dicom+json"; boundary=${BOUNDARY}` });
    expect(response.status, response.text).toBe(200);
    const record = await loire.server.archive.index.getInstance(entry.sopInstanceUID!);
    expect(record?.transferSyntaxUid).toBe('1.2.840.10008.1.2.4.90');
    const storedBytes = await loire.server.archive.storage.readAll(record!.storageKey);
    const stored = parsePart10(storedBytes);
    const storedFragments = stored.dataset.get(0x7fe00010)!.fragments!;
    expect(storedFragments[0]!.length).toBe(0); // empty Basic Offset Table
    const storedStream = Buffer.concat(storedFragments.slice(1).map((f) => storedBytes.subarray(f.offset, f.offset + f.length)));
    // The codestream, padded to even length as a fragment must be.
    expect(storedStream.subarray(0, codestream.length).equals(codestream)).toBe(true);
    expect(storedStream.length - codestream.length).toBe(codestream.length % 2);

    const rle = storableSamples().find((s) => s.path === 'pydicom-test-files/SC_rgb_rle_2frame.dcm')!;
    const rleJson = toDicomJson(parsePart10(readFileSync(samplePath(rle))).dataset, { bulkDataUri: (element) => (element.tag === 0x7fe00010 ? 'frames' : undefined) }) as DicomJson;
    const multiframe = await stow(multipart([
      { type: 'application/dicom+json', body: JSON.stringify([rleJson]) },
      { type: 'image/x-dicom-rle', headers: ['Content-Location: frames'], body: randomBytes(100) },
    ]), { contentType: `multipart/related; type="application/dicom+json"; boundary=${BOUNDARY}` });
    expect(multiframe.status, multiframe.text).toBe(409);
    expect(failures(multiframe.json)).toEqual([{ uid: rle.sopInstanceUID, reason: 0xc122 }]);
  });

  it('refuses a metadata upload whose BulkDataURI has no part (409, C000)', async () => {
    const before = await archiveState();
    const json: DicomJson = {
      '00080016': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.7'] }, '00080018': { vr: 'UI', Value: ['1.2.3.4.5.6.7.8'] },
      '0020000D': { vr: 'UI', Value: ['1.2.3.4'] }, '0020000E': { vr: 'UI', Value: ['1.2.3.4.5'] },
      '7FE00010': { vr: 'OW', BulkDataURI: 'nowhere' },
    };
    const response = await stow(multipart([{ type: 'application/dicom+json', body: JSON.stringify([json]) }]),
      { contentType: `multipart/related; type="application/dicom+json"; boundary=${BOUNDARY}` });
    expect(response.status, response.text).toBe(409);
    expect(failures(response.json)).toEqual([{ uid: '1.2.3.4.5.6.7.8', reason: 0xc000 }]);
    await expectUnchanged(before);
  });
});

describe('STOW-RS bad input', () => {
  const good = (): Buffer => readFileSync(samplePath(series[1]!));

  it.each([
    ['no boundary parameter', { contentType: 'multipart/related; type="application/dicom"' }, () => multipart([{ type: 'application/dicom', body: good() }]), 400, /no boundary/],
    ['a body with another boundary', {}, () => multipart([{ type: 'application/dicom', body: good() }], 'other'), 400, /no boundary "--stow-test-boundary"/],
    ['a missing closing boundary', {}, () => Buffer.concat([Buffer.from(`--${BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n`), good()]), 400, /cut short/],
    ['a truncated part', {}, () => Buffer.concat([Buffer.from(`--${BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n`), good().subarray(0, 100_000)]), 400, /cut short/],
    ['garbage after a boundary', {}, () => Buffer.from(`--${BOUNDARY}garbage\r\n\r\nx\r\n--${BOUNDARY}--\r\n`), 400, /unexpected bytes after the boundary/],
    ['garbage instead of part headers', {}, () => Buffer.from(`--${BOUNDARY}\r\n\x00\x01garbage\r\n\r\nx\r\n--${BOUNDARY}--\r\n`), 400, /malformed header line/],
    ['an empty body', {}, () => Buffer.alloc(0), 400, /empty/],
    ['a body with no part', {}, () => Buffer.from(`--${BOUNDARY}--\r\n`), 400, /has no part/],
    ['a JSON request', { contentType: 'application/json' }, () => Buffer.from('{}'), 415, /multipart\/related/],
    ['a form upload', { contentType: `multipart/form-data; boundary=${BOUNDARY}` }, () => multipart([{ type: 'application/dicom', body: good() }]), 415, /multipart\/form-data is not supported/],
    ['XML metadata', { contentType: `multipart/related; type="application/dicom+xml"; boundary=${BOUNDARY}` }, () => Buffer.from('x'), 415, /XML metadata is not implemented/],
    ['an XML response only', { accept: 'application/dicom+xml' }, () => multipart([{ type: 'application/dicom', body: good() }]), 406, /dicom\+json only/],
    ['an invalid study UID in the path', { path: '/studies/1.2.abc' }, () => multipart([{ type: 'application/dicom', body: good() }]), 400, /not a DICOM UID/],
  ])('answers %s with a clear error and stores nothing', async (_name, options, body, status, message) => {
    const before = await archiveState();
    const response = await stow(body(), options);
    expect(response.status, response.text).toBe(status);
    expect(JSON.parse(response.text).message).toMatch(message);
    await expectUnchanged(before);
    await expectServing();
  });

  it('refuses parts that are not DICOM (409, C000) or of another media type (415)', async () => {
    const before = await archiveState();
    const notDicom = await stow(multipart([{ type: 'application/dicom', body: randomBytes(5000) }]));
    expect(notDicom.status, notDicom.text).toBe(409);
    expect(failures(notDicom.json)).toEqual([{ uid: undefined, reason: 0xc000 }]);
    const png = await stow(multipart([{ type: 'image/png', body: randomBytes(5000) }]));
    expect(png.status, png.text).toBe(415);
    expect(JSON.parse(png.text).message).toMatch(/part 1 is image\/png/);
    await expectUnchanged(before);
  });

  it('keeps the instances completed before the body breaks off, and nothing of the rest (202)', async () => {
    const fresh = series[2]!;
    await fetch(`${base}/studies/${fresh.studyUID}/series/${fresh.seriesUID}/instances/${fresh.sopInstanceUID}`, { method: 'DELETE', headers: loire.httpHeaders });
    const before = await archiveState();
    const body = Buffer.concat([multipart([dicomPart(fresh)]).subarray(0, -`--${BOUNDARY}--\r\n`.length),
      Buffer.from(`--${BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n`), good().subarray(0, 50_000)]);
    const response = await stow(body);
    expect(response.status, response.text).toBe(202);
    expect(referenced(response.json)).toEqual([fresh.sopInstanceUID]);
    expect(failures(response.json)).toEqual([{ uid: undefined, reason: 0xc000 }]);
    expect(response.headers.get('warning')).toMatch(/cut short/);
    await expectUnchanged({ objects: before.objects + 1, instances: before.instances + 1 });
  });

  it('answers a Content-Length shorter than the body with 400 for the truncated body', async () => {
    const before = await archiveState();
    const body = multipart([{ type: 'application/dicom', body: good() }]);
    const answer = await rawExchange(Buffer.concat([Buffer.from(httpHead(body.length - 200_000)), body]));
    // Either the truncated body is answered, or (first, when it wins the race) the bytes after the
    // declared length, read as a next request, are refused by the HTTP parser: a 400 both ways.
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    await expectUnchanged(before);
    await expectServing();
  });

  it('answers 408 to a client that stops sending before its Content-Length, and discards the partial object', async () => {
    const before = await archiveState();
    const body = multipart([{ type: 'application/dicom', body: good() }]);
    const answer = await rawExchange(Buffer.concat([Buffer.from(httpHead(body.length + 1000)), body.subarray(0, 300_000)]), { quietMs: 500 });
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer).toMatch(/stopped sending/);
    await expectUnchanged(before);
    await expectServing();
  });

  it('discards the partial object of a client that leaves in the middle of a part', async () => {
    const before = await archiveState();
    const body = multipart([{ type: 'application/dicom', body: good() }]);
    await rawExchange(Buffer.concat([Buffer.from(httpHead(body.length)), body.subarray(0, 300_000)]), { destroyAfterMs: 200 });
    await expectUnchanged(before);
    await expectServing();
  });

  it('refuses a body over the limit: at once on its Content-Length, or when the bytes read pass it (413)', async () => {
    const before = await archiveState();
    const declared = await rawExchange(Buffer.from(httpHead(100 * 1024 ** 3)));
    expect(declared).toMatch(/^HTTP\/1\.1 413 /);
    expect(declared).toMatch(/exceeds 8388608 bytes/);
    // Streamed without a length: one part bigger than the limit.
    const huge = Buffer.concat([Buffer.from(`--${BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n`), good(), randomBytes(MAX_REQUEST_BYTES)]);
    const response = await fetch(`${base}/studies`, {
      method: 'POST', headers: { ...loire.httpHeaders, 'content-type': STOW_TYPE },
      body: new ReadableStream({ start(controller) { controller.enqueue(huge); controller.close(); } }), duplex: 'half',
    } as RequestInit).catch((error: Error) => error);
    if (response instanceof Error) {
      // The server may close the connection before the client has sent everything.
      expect(response.message).toMatch(/fetch failed|other side closed|socket/i);
    } else {
      expect(response.status).toBe(413);
      expect((await response.json() as { message: string }).message).toMatch(/exceeds 8388608 bytes/);
    }
    await expectUnchanged(before);
    await expectServing();
  });
});

describe('STOW-RS with the "reject" duplicate policy', () => {
  it('refuses a second copy with 0x0111 and keeps the first', async () => {
    const strict = await startTestLoire({ duplicatePolicy: 'reject' });
    try {
      const body = multipart([dicomPart(series[0]!)]);
      const post = () => fetch(`http://127.0.0.1:${strict.httpPort}/dicom-web/studies`, { method: 'POST', headers: { ...strict.httpHeaders, 'content-type': STOW_TYPE }, body });
      expect((await post()).status).toBe(200);
      const second = await post();
      expect(second.status).toBe(409);
      expect(failures(await second.json() as DicomJson)).toEqual([{ uid: series[0]!.sopInstanceUID, reason: 0x0111 }]);
      expect(await strict.server.archive.index.count({ level: 'IMAGE', identifier: {}, options: { relational: true } })).toBe(1);
    } finally {
      await strict.stop();
    }
  });
});

describe('DELETE (Loire extension)', () => {
  it('deletes an instance, a series and a study: 204, gone from the index and the disk, 404 after', async () => {
    const [a, b, c] = series as [SampleEntry, SampleEntry, SampleEntry];
    await stow(multipart(series.map(dicomPart)));
    const del = (url: string) => fetch(`${base}${url}`, { method: 'DELETE', headers: loire.httpHeaders });
    const key = async (entry: SampleEntry) => (await loire.server.archive.index.getInstance(entry.sopInstanceUID!))!.storageKey;
    const objectsDir = path.join(loire.dataDir, 'objects');
    const keyA = await key(a);
    const instanceUrl = `/studies/${a.studyUID}/series/${a.seriesUID}/instances/${a.sopInstanceUID}`;
    expect((await del(instanceUrl)).status).toBe(204);
    expect(await loire.server.archive.index.getInstance(a.sopInstanceUID!)).toBeUndefined();
    expect(filesUnder(objectsDir).some((f) => f.endsWith(keyA))).toBe(false);
    const missing = await del(instanceUrl);
    expect(missing.status).toBe(404);
    expect((await missing.json() as { message: string }).message).toMatch(/is not in the archive/);

    const keyB = await key(b);
    expect((await del(`/studies/${b.studyUID}/series/${b.seriesUID}`)).status).toBe(204);
    expect(await loire.server.archive.index.getInstance(c.sopInstanceUID!)).toBeUndefined();
    expect(filesUnder(objectsDir).some((f) => f.endsWith(keyB))).toBe(false);
    expect((await del(`/studies/${b.studyUID}/series/${b.seriesUID}`)).status).toBe(404);

    const before = await archiveState();
    const otherKey = await key(otherStudy);
    expect((await del(`/studies/${otherStudy.studyUID}`)).status).toBe(204);
    expect(await loire.server.archive.index.count({ level: 'STUDY', identifier: { '0020000D': { vr: 'UI', Value: [otherStudy.studyUID] } } })).toBe(0);
    expect(filesUnder(objectsDir).some((f) => f.endsWith(otherKey))).toBe(false);
    expect((await archiveState()).objects).toBeLessThan(before.objects);
    expect((await del(`/studies/${otherStudy.studyUID}`)).status).toBe(404);
  });

  it('answers unknown and invalid UIDs with 404 and 400', async () => {
    const del = (url: string) => fetch(`${base}${url}`, { method: 'DELETE', headers: loire.httpHeaders });
    expect((await del('/studies/1.2.3.999')).status).toBe(404);
    expect((await del('/studies/1.2.3.999/series/4.5.6')).status).toBe(404);
    const invalid = await del('/studies/1.2.3/series/x%27%20OR%201=1');
    expect(invalid.status).toBe(400);
    expect((await invalid.json() as { message: string }).message).toMatch(/not a DICOM UID/);
    await expectServing();
  });
});
