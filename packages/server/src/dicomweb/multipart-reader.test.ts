import { randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ClientGoneError, DEFAULT_MULTIPART_LIMITS, MultipartReader, type MultipartLimits } from './multipart-reader.js';

interface ReadPart { fields: Record<string, string>; body: Buffer }

async function readAll(source: Readable, boundary: string, limits?: Partial<MultipartLimits>): Promise<ReadPart[]> {
  const reader = new MultipartReader(source, boundary, { ...DEFAULT_MULTIPART_LIMITS, ...limits });
  const parts: ReadPart[] = [];
  for (let headers = await reader.nextPart(); headers; headers = await reader.nextPart()) {
    const chunks: Buffer[] = [];
    for (let chunk = await reader.readBody(); chunk; chunk = await reader.readBody()) chunks.push(chunk);
    parts.push({ fields: { ...headers.fields }, body: Buffer.concat(chunks) });
  }
  return parts;
}

/** The body cut into pieces of the given sizes, as a socket would deliver it. */
function inPieces(body: Buffer, sizes: number[]): Readable {
  const pieces: Buffer[] = [];
  let at = 0;
  for (let i = 0; at < body.length; i++) {
    const size = sizes[i % sizes.length]!;
    pieces.push(body.subarray(at, at + size));
    at += size;
  }
  return Readable.from(pieces);
}

function multipart(boundary: string, parts: { headers: string[]; body: Buffer }[]): Buffer {
  const out: Buffer[] = [];
  parts.forEach((part, i) => {
    out.push(Buffer.from(`${i === 0 ? '' : '\r\n'}--${boundary}\r\n${part.headers.map((h) => `${h}\r\n`).join('')}\r\n`), part.body);
  });
  out.push(Buffer.from(`\r\n--${boundary}--\r\n`));
  return Buffer.concat(out);
}

describe('MultipartReader', () => {
  const boundary = 'b0undary-x';
  // Bodies full of CR, LF and partial boundaries, to trip a naive search.
  const tricky = Buffer.concat([Buffer.from(`\r\n--b0undary\r\n-\r\r\n--b0undary-\r\n`), randomBytes(3000), Buffer.from('\r\n--b0undary-')]);
  const parts = [
    { headers: ['Content-Type: application/dicom'], body: tricky },
    { headers: ['Content-Type: application/dicom', 'Content-Location: part-2'], body: randomBytes(70_000) },
    { headers: [], body: Buffer.alloc(0) },
  ];
  const body = multipart(boundary, parts);

  it('reads every part whatever the chunking, including cuts inside the delimiter', async () => {
    for (const sizes of [[1], [2, 3], [7], [13, 1, 64], [4096], [body.length]]) {
      const read = await readAll(inPieces(body, sizes), boundary);
      expect(read.map((p) => p.body.equals(parts[read.indexOf(p)]!.body)), `pieces of ${sizes.join(',')}`).toEqual([true, true, true]);
      expect(read[1]!.fields).toEqual({ 'content-type': 'application/dicom', 'content-location': 'part-2' });
      expect(read[2]!.fields).toEqual({});
    }
  });

  it('ignores a preamble and an epilogue, and accepts transport padding after a boundary', async () => {
    const text = `This is a preamble.\r\n--${boundary}  \r\nContent-Type: text/plain\r\n\r\nhello\r\n--${boundary}--\r\nepilogue`;
    const read = await readAll(Readable.from([Buffer.from(text)]), boundary);
    expect(read.map((p) => p.body.toString())).toEqual(['hello']);
  });

  it('pulls from the source only as fast as the consumer reads (back-pressure)', async () => {
    const source = new PassThrough({ highWaterMark: 1024 });
    const big = randomBytes(64 * 1024);
    source.write(Buffer.from(`--${boundary}\r\n\r\n`));
    let writable = true;
    for (let i = 0; i < 64 && writable; i++) writable = source.write(big);
    expect(writable).toBe(false); // the source is full: nobody reads yet
    const reader = new MultipartReader(source, boundary);
    await reader.nextPart();
    const first = await reader.readBody();
    expect(first?.length).toBeGreaterThan(0);
    expect(reader.bytesReceived).toBeLessThan(4 * big.length);
    source.destroy();
  });

  it.each([
    ['an empty body', '', /empty/],
    ['a body without the boundary', 'just some bytes', /no boundary/],
    ['a missing closing boundary', `--${boundary}\r\n\r\nabc`, /cut short/],
    ['garbage after a boundary', `--${boundary}garbage\r\n\r\nabc\r\n--${boundary}--`, /unexpected bytes after the boundary/],
    ['a malformed header line', `--${boundary}\r\nnot a header\r\n\r\nabc\r\n--${boundary}--`, /malformed header line/],
    ['a body that ends in the headers', `--${boundary}\r\nContent-Type: application/dicom\r\n`, /ends inside the headers of part 1/],
    ['a body that ends after a boundary', `--${boundary}\r\n\r\nabc\r\n--${boundary}`, /without the closing "--"/],
  ])('refuses %s', async (_name, text, message) => {
    await expect(readAll(Readable.from([Buffer.from(text)]), boundary)).rejects.toThrow(message);
  });

  it('refuses an invalid boundary parameter', () => {
    expect(() => new MultipartReader(Readable.from([]), 'x'.repeat(71))).toThrow(/not valid/);
    expect(() => new MultipartReader(Readable.from([]), 'ends with space ')).toThrow(/not valid/);
  });

  it('refuses a body over the size limit with 413', async () => {
    await expect(readAll(inPieces(body, [1000]), boundary, { maxBodyBytes: 10_000 })).rejects.toMatchObject({ statusCode: 413 });
  });

  it('gives up with 408 when the client stops sending', async () => {
    const source = new PassThrough();
    source.write(`--${boundary}\r\n\r\nsome bytes`);
    await expect(readAll(source, boundary, { idleTimeoutMs: 50 })).rejects.toMatchObject({ statusCode: 408 });
    source.destroy();
  });

  it('reports a client that closes the connection', async () => {
    const source = new PassThrough();
    source.write(`--${boundary}\r\n\r\nsome bytes`);
    setTimeout(() => source.destroy(new Error('aborted')), 10);
    await expect(readAll(source, boundary)).rejects.toBeInstanceOf(ClientGoneError);
  });
});
