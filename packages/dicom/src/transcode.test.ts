// transcodeDataset to lossless compressed syntaxes: the result parses, its frames are one
// fragment each, and decoding them gives back the source's pixels exactly.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeFrame, nativeFrame, splitEncapsulatedFrames } from './codecs/index.js';
import { DatasetParser, parsePart10 } from './reader/index.js';
import { canTranscode, pixelFormat, transcodeDataset } from './transcode.js';
import { ExplicitVRLittleEndian } from './uids.js';

const samples = path.resolve(__dirname, '../../../../shared/dicom-samples');
const manifest = JSON.parse(readFileSync(path.join(samples, 'manifest.json'), 'utf8')) as { path: string; transferSyntaxUID: string | null; rows: number | null; frames: number | null }[];

const LOSSLESS_TARGETS = {
  RLE: '1.2.840.10008.1.2.5',
  'JPEG-LS': '1.2.840.10008.1.2.4.80',
  'JPEG 2000 lossless': '1.2.840.10008.1.2.4.90',
  'HTJ2K lossless': '1.2.840.10008.1.2.4.201',
};

async function transcodeFile(file: string, target: string): Promise<{ bytes: Uint8Array; source: ReturnType<typeof parsePart10>; sourceBytes: Uint8Array }> {
  const sourceBytes = new Uint8Array(readFileSync(file));
  const source = parsePart10(sourceBytes);
  const readBulk = (range: { offset: number; length: number }): Uint8Array => sourceBytes.subarray(range.offset, range.offset + range.length);
  const chunks = await transcodeDataset({ dataset: parsePart10(sourceBytes).dataset, transferSyntaxUid: source.transferSyntaxUid, readBulk }, target);
  return { bytes: Buffer.concat(chunks), source, sourceBytes };
}

async function framesOf(bytes: Uint8Array, transferSyntaxUid: string): Promise<Uint8Array[]> {
  const parser = new DatasetParser({ transferSyntaxUid });
  parser.push(bytes);
  const dataset = parser.end();
  const format = pixelFormat(dataset);
  const pixel = dataset.get(0x7fe00010)!;
  const count = dataset.number(0x00280008) ?? 1;
  const value = bytes.subarray(pixel.position!.offset, pixel.fragments ? bytes.length : pixel.position!.offset + pixel.position!.length);
  const stored = pixel.fragments
    ? splitEncapsulatedFrames(value, { numberOfFrames: count, transferSyntaxUid })
    : Array.from({ length: count }, (_, index) => nativeFrame(value, index, format));
  if (pixel.fragments) expect(pixel.fragments.length - 1).toBe(count);
  return Promise.all(stored.map(async (frame) => (await decodeFrame(transferSyntaxUid, frame, format)).pixels));
}

describe('transcodeDataset to compressed syntaxes', () => {
  const ct = manifest.find((e) => e.path.startsWith('ct-series/philips-head-ct-std-brain-1mm/'))!;
  const rle = manifest.find((e) => e.transferSyntaxUID === '1.2.840.10008.1.2.5' && (e.frames ?? 1) > 1)!;
  const jpegBaseline = manifest.find((e) => e.transferSyntaxUID === '1.2.840.10008.1.2.4.50' && e.path.startsWith('syntaxes/'))!;

  for (const [name, target] of Object.entries(LOSSLESS_TARGETS)) {
    it(`encodes a native CT slice as ${name} and decodes back to the same pixels`, async () => {
      const file = path.join(samples, ct.path);
      const { bytes, source, sourceBytes } = await transcodeFile(file, target);
      const [frame] = await framesOf(bytes, target);
      const position = source.dataset.get(0x7fe00010)!.position!;
      const original = (await decodeFrame(source.transferSyntaxUid, sourceBytes.subarray(position.offset, position.offset + position.length), pixelFormat(source.dataset))).pixels;
      expect(Buffer.from(frame!).equals(Buffer.from(original))).toBe(true);
    });
  }

  it('re-encodes a multi-frame RLE image as JPEG-LS, one fragment per frame, with the same pixels', async () => {
    const file = path.join(samples, rle.path);
    const source = readFileSync(file);
    const before = await framesOf(source.subarray(parsePart10(source).datasetOffset), rle.transferSyntaxUID!);
    const { bytes } = await transcodeFile(file, LOSSLESS_TARGETS['JPEG-LS']);
    const after = await framesOf(bytes, LOSSLESS_TARGETS['JPEG-LS']);
    expect(after).toHaveLength(before.length);
    after.forEach((frame, index) => expect(Buffer.from(frame).equals(Buffer.from(before[index]!))).toBe(true));
  });

  it('refuses lossy targets and says which it can encode', async () => {
    expect(canTranscode(ExplicitVRLittleEndian, '1.2.840.10008.1.2.4.50')).toBe(false);
    expect(canTranscode(jpegBaseline.transferSyntaxUID!, LOSSLESS_TARGETS.RLE)).toBe(true);
    await expect(transcodeFile(path.join(samples, ct.path), '1.2.840.10008.1.2.4.50')).rejects.toThrow(/lossless syntaxes/);
  });
});
