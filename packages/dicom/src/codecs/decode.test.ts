// Every compressed sample of the shared test data, decoded frame by frame and compared with an independent decoder.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CodecError } from './codec-error.js';
import { decodeFrame } from './decode.js';
import { readJpegFrameHeader } from './codestream-headers.js';
import { frameByteLength, type PixelFormat } from './pixel-layout.js';
import { splitEncapsulatedFrames } from './frames.js';
import {
  compareSamples, describeSample, pixelDataValue, readManifest, referencePixels, samplesRoot, type SampleDescription,
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

/**
 * Compressed samples that are not compared with the reference decoder, and why. Each is checked otherwise below.
 * - JPEG2000-embedded-sequence-delimiter.dcm: pydicom's copy of JPEG2000.dcm with 4 bytes of its SIZ marker segment
 *   overwritten by a Sequence Delimitation tag (to test item parsing); its codestream now claims an image of 3.8e12
 *   pixels, which no decoder can give, so Loire must reject the frame with a CodecError.
 */
const NOT_DECODABLE = new Set(['pydicom-test-files/JPEG2000-embedded-sequence-delimiter.dcm']);

// Images only: pydicom-test-files/UN_sequence.dcm has a compressed transfer syntax but no Pixel Data (rows null).
const samples = readManifest().filter((entry) =>
  (entry.path.startsWith('syntaxes/') || entry.path.startsWith('modalities/') || entry.path.startsWith('pydicom-test-files/')) &&
  entry.transferSyntaxUID !== null && entry.transferSyntaxUID in TOLERANCE && entry.rows !== null);

interface SampleFrames {
  readonly description: SampleDescription;
  readonly frames: Uint8Array[];
}

async function sampleFrames(file: string): Promise<SampleFrames> {
  const description = await describeSample(file);
  const frames = splitEncapsulatedFrames(await pixelDataValue(file, description), {
    numberOfFrames: description.numberOfFrames,
    transferSyntaxUid: description.transferSyntaxUid,
    extendedOffsetTable: description.extendedOffsetTable ? Buffer.from(description.extendedOffsetTable, 'hex') : undefined,
  });
  return { description, frames };
}

describe('decodeFrame against an independent decoder', () => {
  it('finds the compressed samples', () => {
    expect(samples.filter((entry) => !entry.path.startsWith('pydicom-test-files/')).length).toBeGreaterThanOrEqual(45);
    expect(samples.filter((entry) => entry.path.startsWith('pydicom-test-files/')).length).toBeGreaterThanOrEqual(33);
  });

  for (const sample of samples.filter((entry) => !NOT_DECODABLE.has(entry.path))) {
    const tolerance = TOLERANCE[sample.transferSyntaxUID!]!;
    it(`${sample.path} (${sample.transferSyntaxUID}, ${sample.frames} frames)`, async () => {
      const file = path.join(samplesRoot, sample.path);
      const { description, frames } = await sampleFrames(file);
      expect(description.rows).toBe(sample.rows);
      expect(description.columns).toBe(sample.cols);
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

  it('rejects the JPEG 2000 frame whose SIZ segment is corrupt (JPEG2000-embedded-sequence-delimiter.dcm)', async () => {
    const { description, frames } = await sampleFrames(path.join(samplesRoot, 'pydicom-test-files/JPEG2000-embedded-sequence-delimiter.dcm'));
    await expect(decodeFrame(description.transferSyntaxUid, frames[0]!, description)).rejects.toThrow(CodecError);
  });
});

/**
 * The colour space of baseline JPEG, checked against the images the samples were made from rather than against a
 * decoder, since decoders disagree on it (see jpeg-color-space.ts).
 */
describe('decodeFrame colour conversion of baseline JPEG against the original images', () => {
  async function decodeSample(name: string): Promise<{ pixels: Uint8Array; photometricInterpretation: string; format: SampleDescription }> {
    const { description, frames } = await sampleFrames(path.join(samplesRoot, 'pydicom-test-files', name));
    const decoded = await decodeFrame(description.transferSyntaxUid, frames[0]!, description);
    return { pixels: decoded.pixels, photometricInterpretation: decoded.photometricInterpretation, format: description };
  }

  // Whole-slide tiles stored as RGB without colour transform, component ids 0, 1, 2 and no JFIF/usable Adobe marker
  // (SC_rgb_jpeg.dcm's APP14 segment is too short to be read). pydicom ships the tile decompressed by DCMTK.
  for (const name of ['SC_jpeg_no_color_transform.dcm', 'SC_rgb_jpeg.dcm']) {
    it(`keeps the RGB components of ${name} as they are`, async () => {
      const { pixels, photometricInterpretation, format } = await decodeSample(name);
      const originalFile = path.join(samplesRoot, 'pydicom-test-files/SC_rgb_jpeg_dcmd.dcm');
      const original = await referencePixels(originalFile, frameByteLength(format), 'native');
      expect(photometricInterpretation).toBe('RGB');
      expect(compareSamples(pixels, original.frames[0]!, format).maxDifference).toBeLessThanOrEqual(1);
    });
  }

  // GDCM compressed the RGB colour bars of SC_rgb.dcm to YCbCr 4:2:0 (component ids 1, 2, 3) but kept Photometric
  // Interpretation RGB. The bars are compared at their centre rows, away from the chroma subsampling at their edges,
  // with SC_rgb_rle.dcm (the same bars, lossless); the margin of 2 is the encoder's quantisation, not the decoder's.
  it('converts SC_rgb_jpeg_lossy_gdcm.dcm, YCbCr labelled RGB, to the original colour bars', async () => {
    const { pixels, photometricInterpretation, format } = await decodeSample('SC_rgb_jpeg_lossy_gdcm.dcm');
    const original = await referencePixels(path.join(samplesRoot, 'pydicom-test-files/SC_rgb_rle.dcm'), frameByteLength(format));
    expect(photometricInterpretation).toBe('RGB');
    const rowBytes = format.columns * 3;
    for (let row = 5; row < format.rows; row += 10) {
      const at = row * rowBytes;
      const { maxDifference } = compareSamples(pixels.subarray(at, at + rowBytes), original.frames[0]!.subarray(at, at + rowBytes), format);
      expect(maxDifference, `row ${row}`).toBeLessThanOrEqual(2);
    }
  });
});
