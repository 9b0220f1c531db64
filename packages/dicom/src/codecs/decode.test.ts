// Every compressed sample of the shared test data, decoded frame by frame and compared with an independent decoder.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeFrame } from './decode.js';
import { frameByteLength } from './pixel-layout.js';
import { splitEncapsulatedFrames } from './frames.js';
import {
  compareSamples, describeSample, pixelDataValue, readManifest, referencePixels, samplesRoot,
} from './test-support/reference.js';

/**
 * Largest difference allowed from the reference decoder, by transfer syntax. Lossless syntaxes must match exactly.
 * JPEG-LS near-lossless decoding is exact integer arithmetic too: two conforming decoders agree bit for bit.
 * JPEG baseline: Loire uses libjpeg-turbo, the reference IJG libjpeg 6b (DCMTK); both use the accurate integer IDCT,
 * but chroma upsampling and YCbCr->RGB rounding differ slightly, so a sample may be off by a few levels.
 * JPEG 2000 lossy: the 9/7 irreversible wavelet is computed in floating point (OpenJPEG releases differ), so ±1.
 */
const TOLERANCE: Readonly<Record<string, number>> = {
  '1.2.840.10008.1.2.4.50': 4,
  '1.2.840.10008.1.2.4.51': 0, // same IJG 12-bit code as the reference (see the report in decode.ts)
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
      const description = describeSample(file);
      expect(description.rows).toBe(sample.rows);
      expect(description.columns).toBe(sample.cols);
      const frames = splitEncapsulatedFrames(pixelDataValue(file, description), {
        numberOfFrames: description.numberOfFrames,
        transferSyntaxUid: description.transferSyntaxUid,
        extendedOffsetTable: description.extendedOffsetTable ? Buffer.from(description.extendedOffsetTable, 'hex') : undefined,
      });
      expect(frames).toHaveLength(sample.frames ?? 1);

      const reference = referencePixels(file, frameByteLength(description));
      expect(reference.frames).toHaveLength(frames.length);
      for (const [index, frame] of frames.entries()) {
        const decoded = await decodeFrame(description.transferSyntaxUid, frame, description);
        expect(decoded.planarConfiguration).toBe(0);
        expect(decoded.photometricInterpretation, `frame ${index + 1}`).toBe(reference.photometricInterpretation);
        const { maxDifference, differing } = compareSamples(decoded.pixels, reference.frames[index]!, description);
        expect(maxDifference, `frame ${index + 1}: ${differing} samples differ from ${reference.decoder}`).toBeLessThanOrEqual(tolerance);
      }
    });
  }
});
