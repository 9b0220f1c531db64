import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { canDecode, decodableTransferSyntaxes, decodeFrame } from './decode.js';
import type { PixelFormat } from './pixel-layout.js';

const mono16: PixelFormat = {
  rows: 2, columns: 2, samplesPerPixel: 1, bitsAllocated: 16, bitsStored: 16, pixelRepresentation: 0,
  planarConfiguration: 0, photometricInterpretation: 'MONOCHROME2',
};
const rgb8: PixelFormat = { ...mono16, samplesPerPixel: 3, bitsAllocated: 8, bitsStored: 8, photometricInterpretation: 'RGB' };

describe('decodeFrame for native and deflated frames', () => {
  it('returns a little-endian frame as it is', async () => {
    const frame = Uint8Array.from([1, 0, 2, 0, 3, 0, 4, 0]);
    const decoded = await decodeFrame('1.2.840.10008.1.2.1', frame, mono16);
    expect([...decoded.pixels]).toEqual([...frame]);
    expect(decoded.photometricInterpretation).toBe('MONOCHROME2');
  });

  it('swaps 16-bit samples of Explicit VR Big Endian', async () => {
    const decoded = await decodeFrame('1.2.840.10008.1.2.2', Uint8Array.from([0, 1, 0, 2, 0, 3, 1, 4]), mono16);
    expect([...decoded.pixels]).toEqual([1, 0, 2, 0, 3, 0, 4, 1]);
  });

  it('interleaves colour-by-plane frames', async () => {
    const planar = Uint8Array.from([1, 2, 3, 4, 11, 12, 13, 14, 21, 22, 23, 24]);
    const decoded = await decodeFrame('1.2.840.10008.1.2.1', planar, { ...rgb8, planarConfiguration: 1 });
    expect([...decoded.pixels]).toEqual([1, 11, 21, 2, 12, 22, 3, 13, 23, 4, 14, 24]);
    expect(decoded.planarConfiguration).toBe(0);
  });

  it('sign-extends signed samples stored on fewer bits, without touching the input', async () => {
    const frame = Uint8Array.from([0xff, 0x0f, 0x00, 0x08, 0xff, 0x07, 0x01, 0x00]); // 12-bit: -1, -2048, 2047, 1
    const format = { ...mono16, bitsStored: 12, pixelRepresentation: 1 };
    const decoded = await decodeFrame('1.2.840.10008.1.2.1', frame, format);
    const view = new DataView(decoded.pixels.buffer, decoded.pixels.byteOffset);
    expect([0, 2, 4, 6].map((at) => view.getInt16(at, true))).toEqual([-1, -2048, 2047, 1]);
    expect(frame[1]).toBe(0x0f);
  });

  it('inflates Deflated Image Frame Compression frames', async () => {
    const native = Uint8Array.from({ length: 8 }, (_, i) => i * 3);
    const decoded = await decodeFrame('1.2.840.10008.1.2.8.1', deflateRawSync(native), mono16);
    expect([...decoded.pixels]).toEqual([...native]);
  });

  it('says which frames are too short for their attributes', async () => {
    await expect(decodeFrame('1.2.840.10008.1.2.1', new Uint8Array(6), mono16)).rejects.toThrow(/less than the 8/);
  });

  it('refuses syntaxes it has no codec for, with reason "unsupported"', async () => {
    const mpeg2 = '1.2.840.10008.1.2.4.100';
    expect(canDecode(mpeg2)).toBe(false);
    expect(canDecode('1.2.840.10008.1.2.4.201')).toBe(true);
    expect(decodableTransferSyntaxes()).toContain('1.2.840.10008.1.2.5');
    await expect(decodeFrame(mpeg2, new Uint8Array(8), mono16)).rejects.toMatchObject({ reason: 'unsupported' });
  });
});
