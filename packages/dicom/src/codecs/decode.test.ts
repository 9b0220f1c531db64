// Every compressed sample of the shared test data, decoded frame by frame and compared with an independent decoder.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeFrame } from './decode.js';
import { readJpegFrameHeader } from './codestream-headers.js';
import { frameByteLength, type PixelFormat } from './pixel-layout.js';
import { splitEncapsulatedFrames } from './frames.js';
import {
  compareSamples, describeSample, pixelDataValue, readManifest, referencePixels, samplesRoot,
} from './test-support/reference.js';

/**
 * Largest difference allowed from the reference decoder, by transfer syntax. Lossless syntaxes must match exactly;
 * so must JPEG-LS near-lossless, whose decoding is exact integer arithmetic (two conforming decoders agree bit for bit).
 * Lossy JPEG and JPEG 2000 allow ±1: ISO 10918-2 lets conforming IDCTs differ by one level, and the 9/7 wavelet of
 * JPEG 2000 is computed in floating point. (Today libjpeg-turbo and OpenJPEG match IJG and the system OpenJPEG exactly
 * on every sample; the margin keeps a codec upgrade with another IDCT from failing for a legitimate reason.)
 * JPEG 12-bit (4.51) and lossless JPEG are decoded by the same IJG code lineage as the reference (DCMTK), so that
 * comparison is a check of the wiring (frames, byte order, sign), not of the JPEG decoder itself.
 */
const TOLERANCE: Readonly<Record<string, number>> = {
  '1.2.840.10008.1.2.4.50': 1,
  '1.2.840.10008.1.2.4.51': 1,
  '1.2.840.10008.1.2.4.57': 0,
  '1.2.840.10008.1.2.4.70': 0,
  '1.2.840.10008.1.2.4.80': 0,
  '1.2.840.10008.1.2.4.81': 0,
  '1.2.840.10008.1.2.4.90': 0,
  '1.2.840.10008.1.2.4.91': 1,
  '1.2.840.10008.1.2.4.201': 0,
  '1.2.840.10008.1.2.4.202': 0,
  '1.2.840.10008.1.2.4.203': 1,
  '1.2.840.10008.1.2.5': 0,
};

/**
 * Some whole-slide images encode their edge tiles cropped (smaller than Rows x Columns). Loire places such a tile
 * top-left in a zero-filled frame; DCMTK, the reference, writes the cropped tile's rows one after the other at the
 * start of the frame. So the tile is compared with the start of the reference, and the rest of Loire's frame must be 0.
 */
function comparable(decoded: Uint8Array, reference: Uint8Array, frame: Uint8Array, format: PixelFormat): { actual: Uint8Array; expected: Uint8Array } {
  if (frame[0] !== 0xff || frame[1] !== 0xd8) return { actual: decoded, expected: reference };
  const header = readJpegFrameHeader(frame);
  if (header.rows === format.rows && header.columns === format.columns) return { actual: decoded, expected: reference };
  const pixelBytes = format.samplesPerPixel * (format.bitsAllocated / 8);
  const tileRowBytes = header.columns * pixelBytes;
  const tile = new Uint8Array(tileRowBytes * header.rows);
  for (let row = 0; row < header.rows; row++) {
    const start = row * format.columns * pixelBytes;
    tile.set(decoded.subarray(start, start + tileRowBytes), row * tileRowBytes);
    expect(decoded.subarray(start + tileRowBytes, start + format.columns * pixelBytes).every((byte) => byte === 0)).toBe(true);
  }
  expect(decoded.subarray(header.rows * format.columns * pixelBytes).every((byte) => byte === 0)).toBe(true);
  return { actual: tile, expected: reference.subarray(0, tile.byteLength) };
}

const samples = readManifest().filter((entry) =>
  (entry.path.startsWith('syntaxes/') || entry.path.startsWith('modalities/')) &&
  entry.transferSyntaxUID !== null && entry.transferSyntaxUID in TOLERANCE);

describe('decodeFrame against an independent decoder', () => {
  it('finds the compressed samples', () => {
    expect(samples.length).toBeGreaterThanOrEqual(45);
  });

  for (const sample of samples) {
    const tolerance = TOLERANCE[sample.transferSyntaxUID!]!;
    it(`${sample.path} (${sample.transferSyntaxUID}, ${sample.frames} frames)`, async () => {
      const file = path.join(samplesRoot, sample.path);
      const description = await describeSample(file);
      expect(description.rows).toBe(sample.rows);
      expect(description.columns).toBe(sample.cols);
      const frames = splitEncapsulatedFrames(await pixelDataValue(file, description), {
        numberOfFrames: description.numberOfFrames,
        transferSyntaxUid: description.transferSyntaxUid,
        extendedOffsetTable: description.extendedOffsetTable ? Buffer.from(description.extendedOffsetTable, 'hex') : undefined,
      });
      expect(frames).toHaveLength(sample.frames ?? 1);

      const reference = await referencePixels(file, frameByteLength(description));
      expect(reference.frames).toHaveLength(frames.length);
      for (const [index, frame] of frames.entries()) {
        const decoded = await decodeFrame(description.transferSyntaxUid, frame, description);
        expect(decoded.planarConfiguration).toBe(0);
        expect(decoded.photometricInterpretation, `frame ${index + 1}`).toBe(reference.photometricInterpretation);
        const { actual, expected } = comparable(decoded.pixels, reference.frames[index]!, frame, description);
        const { maxDifference, differing } = compareSamples(actual, expected, description);
        expect(maxDifference, `frame ${index + 1}: ${differing} samples differ from ${reference.decoder}`).toBeLessThanOrEqual(tolerance);
      }
    });
  }
});
