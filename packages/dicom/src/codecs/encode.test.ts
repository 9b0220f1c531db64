// Lossless round trips: real images (decoded, and checked against a reference decoder in decode.test.ts) are encoded
// in every syntax Loire writes, decoded again, and must come back bit for bit.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeFrame } from './decode.js';
import { canEncode, encodeFrame } from './encode.js';
import { splitEncapsulatedFrames } from './frames.js';
import type { PixelFormat } from './pixel-layout.js';
import { encodeRleFrame } from './rle.js';
import { describeSample, pixelDataValue, samplesRoot } from './test-support/reference.js';

const TARGETS = {
  rle: '1.2.840.10008.1.2.5',
  jpegLs: '1.2.840.10008.1.2.4.80',
  j2k: '1.2.840.10008.1.2.4.90',
  htj2k: '1.2.840.10008.1.2.4.201',
  htj2kRpcl: '1.2.840.10008.1.2.4.202',
};

/** Images of each kind a PACS meets: 16-bit signed CT, 12-bit MR, 8-bit colour YBR and RGB, 16-bit unsigned NM. */
const SOURCES = [
  'syntaxes/wg04-ct1/CT1_RLE',
  'syntaxes/wg04-ct1/MR1_JPLY',
  'modalities/us/2023-04-21-RLEPlanarConfigurationYBR_FULL.dcm',
  'syntaxes/htj2k/US1_JPH',
  'modalities/pet-nm/NM1_JPLL',
];

async function firstFrame(sample: string): Promise<{ pixels: Uint8Array; format: PixelFormat }> {
  const file = path.join(samplesRoot, sample);
  const description = await describeSample(file);
  const [frame] = splitEncapsulatedFrames(await pixelDataValue(file, description), {
    numberOfFrames: description.numberOfFrames,
    transferSyntaxUid: description.transferSyntaxUid,
  });
  const decoded = await decodeFrame(description.transferSyntaxUid, frame!, description);
  const format: PixelFormat = { ...description, photometricInterpretation: decoded.photometricInterpretation, planarConfiguration: 0 };
  return { pixels: decoded.pixels, format };
}

describe('encodeFrame lossless round trip', () => {
  for (const sample of SOURCES) {
    for (const [name, uid] of Object.entries(TARGETS)) {
      it(`${sample} -> ${name}`, async () => {
        const { pixels, format } = await firstFrame(sample);
        if (uid === TARGETS.j2k && format.photometricInterpretation.startsWith('YBR')) {
          // OpenJPEG would apply its RGB component transform to YBR samples: refused (see encode.ts)
          await expect(encodeFrame(uid, pixels, format)).rejects.toMatchObject({ reason: 'unsupported' });
          return;
        }
        const encoded = await encodeFrame(uid, pixels, format);
        expect(encoded.data.byteLength % 2).toBe(0);
        expect(encoded.data.byteLength).toBeLessThan(pixels.byteLength);
        const decoded = await decodeFrame(uid, encoded.data, {
          ...format,
          photometricInterpretation: encoded.photometricInterpretation,
          planarConfiguration: encoded.planarConfiguration,
        });
        expect(Buffer.from(decoded.pixels).equals(Buffer.from(pixels))).toBe(true);
        expect(decoded.planarConfiguration).toBe(0);
        const expectedPhotometric = format.photometricInterpretation === 'RGB' && uid !== TARGETS.rle && uid !== TARGETS.jpegLs
          ? 'YBR_RCT' : format.photometricInterpretation;
        expect(encoded.photometricInterpretation).toBe(expectedPhotometric);
        expect(decoded.photometricInterpretation).toBe(format.photometricInterpretation);
      });
    }
  }

  it('writes colour RLE with Planar Configuration 1 (PS3.5 G.2)', async () => {
    const { pixels, format } = await firstFrame('syntaxes/htj2k/US1_JPH');
    expect((await encodeFrame(TARGETS.rle, pixels, format)).planarConfiguration).toBe(1);
  });

  it('accepts colour-by-plane input', async () => {
    const { pixels, format } = await firstFrame('syntaxes/htj2k/US1_JPH');
    const pixelCount = format.rows * format.columns;
    const planar = new Uint8Array(pixels.byteLength);
    for (let p = 0; p < pixelCount; p++) for (let s = 0; s < 3; s++) planar[s * pixelCount + p] = pixels[p * 3 + s]!;
    const encoded = await encodeFrame(TARGETS.jpegLs, planar, { ...format, planarConfiguration: 1 });
    const decoded = await decodeFrame(TARGETS.jpegLs, encoded.data, format);
    expect(Buffer.from(decoded.pixels).equals(Buffer.from(pixels))).toBe(true);
  });

  it('labels RGB compressed with the reversible colour transform YBR_RCT, which decodes back to RGB', async () => {
    const { pixels, format } = await firstFrame('syntaxes/htj2k/US1_JPH');
    expect(format.photometricInterpretation).toBe('RGB');
    const encoded = await encodeFrame(TARGETS.j2k, pixels, format);
    expect(encoded.photometricInterpretation).toBe('YBR_RCT');
    const decoded = await decodeFrame(TARGETS.j2k, encoded.data, { ...format, photometricInterpretation: 'YBR_RCT' });
    expect(decoded.photometricInterpretation).toBe('RGB');
  });

  it('writes HTJ2K with RPCL options: RPCL progression and a TLM marker', async () => {
    const { pixels, format } = await firstFrame('syntaxes/wg04-ct1/CT1_RLE');
    const { data } = await encodeFrame(TARGETS.htj2kRpcl, pixels, format);
    const header = mainHeaderMarkers(data);
    expect(header.has(0xff55)).toBe(true); // TLM
    expect(header.get(0xff52)![1]).toBe(2); // COD: Scod, then SGcod starting with the progression order; 2 = RPCL
    const plain = mainHeaderMarkers((await encodeFrame(TARGETS.htj2k, pixels, format)).data);
    expect(plain.has(0xff55)).toBe(false);
  });

  it('refuses a transfer syntax it has no encoder for, with a reason a caller can map', async () => {
    expect(canEncode('1.2.840.10008.1.2.4.50')).toBe(false);
    const { pixels, format } = await firstFrame('syntaxes/wg04-ct1/CT1_RLE');
    await expect(encodeFrame('1.2.840.10008.1.2.4.50', pixels, format)).rejects.toMatchObject({ reason: 'unsupported' });
  });

  it('refuses a frame whose size disagrees with its attributes', async () => {
    const { pixels, format } = await firstFrame('syntaxes/wg04-ct1/CT1_RLE');
    await expect(encodeFrame(TARGETS.rle, pixels.subarray(2), format)).rejects.toThrow(/attributes describe/);
  });
});

/** Marker segments of a JPEG 2000 main header (up to the first SOT), by marker code, with their bytes after Lxx. */
function mainHeaderMarkers(codestream: Uint8Array): Map<number, Uint8Array> {
  const markers = new Map<number, Uint8Array>();
  let position = 2;
  while (position + 4 <= codestream.length) {
    const marker = (codestream[position]! << 8) | codestream[position + 1]!;
    if (marker === 0xff90) break;
    const length = (codestream[position + 2]! << 8) | codestream[position + 3]!;
    markers.set(marker, codestream.subarray(position + 4, position + 2 + length));
    position += 2 + length;
  }
  return markers;
}

describe('RLE PackBits (PS3.5 G.3)', () => {
  it('codes a run as 257-n then the byte, and a literal as n-1 then the bytes, padded to even length', () => {
    const row = Uint8Array.from([7, 7, 7, 1, 2]);
    const frame = encodeRleFrame(row, { rows: 1, columns: 5, samplesPerPixel: 1, bitsAllocated: 8 });
    const view = new DataView(frame.buffer);
    expect(view.getUint32(0, true)).toBe(1); // one segment
    expect(view.getUint32(4, true)).toBe(64); // right after the header
    expect([...frame.subarray(64)]).toEqual([254, 7, 1, 1, 2, 0x80]);
  });

  it('orders segments most significant byte first', () => {
    const pixels = Uint8Array.from([0x34, 0x12]); // one 16-bit sample 0x1234, little endian
    const frame = encodeRleFrame(pixels, { rows: 1, columns: 1, samplesPerPixel: 1, bitsAllocated: 16 });
    const view = new DataView(frame.buffer);
    expect(view.getUint32(0, true)).toBe(2);
    expect(frame[view.getUint32(4, true) + 1]).toBe(0x12);
    expect(frame[view.getUint32(8, true) + 1]).toBe(0x34);
  });
});
