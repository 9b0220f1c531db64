import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CodecError } from './codec-error.js';
import { decodeFrame } from './decode.js';
import { nativeFrame, nativeFrameCount, nativeFrameLength, readEncapsulatedPixelData, splitEncapsulatedFrames } from './frames.js';
import { describeSample, pixelDataValue, referencePixels, samplesRoot } from './test-support/reference.js';

/** Builds an encapsulated Pixel Data value: BOT item, one item per fragment, sequence delimiter. */
function encapsulate(fragments: number[][], offsets: number[] = [], withDelimiter = true): Uint8Array {
  const parts: number[] = [];
  const item = (bytes: number[]): void => {
    parts.push(0xfe, 0xff, 0x00, 0xe0, ...uint32(bytes.length), ...bytes);
  };
  item(offsets.flatMap(uint32));
  fragments.forEach(item);
  if (withDelimiter) parts.push(0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0);
  return Uint8Array.from(parts);
}

function uint32(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24];
}

/** Offsets of each fragment's item from the first fragment item, as an encoder writes them in the BOT. */
function itemOffsets(fragments: number[][]): number[] {
  let offset = 0;
  return fragments.map((fragment) => {
    const current = offset;
    offset += 8 + fragment.length;
    return current;
  });
}

const SOI = [0xff, 0xd8, 0xff, 0xdb];
const EOI = [0xff, 0xd9];
const jpegStart = (...rest: number[]): number[] => [...SOI, ...rest];
const jpegEnd = (...rest: number[]): number[] => [...rest, ...EOI];

describe('readEncapsulatedPixelData', () => {
  it('reads the Basic Offset Table and the fragments with their offsets from the first fragment item', () => {
    const fragments = [[1, 2], [3, 4, 5, 6]];
    const value = encapsulate(fragments, [0, 10]);
    const result = readEncapsulatedPixelData(value);
    expect(result.basicOffsetTable).toEqual([0, 10]);
    expect(result.fragments.map((f) => f.offset)).toEqual([0, 10]);
    expect(result.fragments.map((f) => [...f.data])).toEqual(fragments);
  });

  it('accepts a value cut right before the sequence delimiter', () => {
    expect(readEncapsulatedPixelData(encapsulate([[1, 2]], [], false)).fragments).toHaveLength(1);
  });

  it('rejects a tag other than an item, and an item longer than the value', () => {
    const value = encapsulate([[1, 2]]);
    const wrongTag = value.slice();
    wrongTag[10] = 0x10; // the first fragment's element number
    expect(() => readEncapsulatedPixelData(wrongTag)).toThrow(/expected an item/);
    const truncated = value.subarray(0, value.length - 9);
    expect(() => readEncapsulatedPixelData(truncated)).toThrow(/beyond the/);
  });
});

describe('splitEncapsulatedFrames', () => {
  it('uses the Basic Offset Table, joining the fragments of a frame', () => {
    const fragments = [jpegStart(1), jpegEnd(2), jpegStart(3), jpegEnd(4)];
    const offsets = itemOffsets(fragments);
    const frames = splitEncapsulatedFrames(encapsulate(fragments, [offsets[0]!, offsets[2]!]), { numberOfFrames: 2 });
    expect(frames.map((f) => [...f])).toEqual([[...jpegStart(1), ...jpegEnd(2)], [...jpegStart(3), ...jpegEnd(4)]]);
  });

  it('uses the Extended Offset Table when given (the BOT is then empty)', () => {
    const fragments = [[10, 11], [20, 21], [30, 31]];
    const offsets = itemOffsets(fragments);
    const table = new Uint8Array(24);
    const view = new DataView(table.buffer);
    offsets.forEach((offset, index) => view.setBigUint64(index * 8, BigInt(offset), true));
    const frames = splitEncapsulatedFrames(encapsulate(fragments), { numberOfFrames: 3, extendedOffsetTable: table });
    expect(frames.map((f) => [...f])).toEqual(fragments);
  });

  it('joins every fragment of a single-frame image', () => {
    const frames = splitEncapsulatedFrames(encapsulate([[1, 2], [3, 4], [5, 6]]), { numberOfFrames: 1 });
    expect(frames.map((f) => [...f])).toEqual([[1, 2, 3, 4, 5, 6]]);
  });

  it('takes one fragment per frame when their numbers match', () => {
    const frames = splitEncapsulatedFrames(encapsulate([[1, 2], [3, 4]]), { numberOfFrames: 2 });
    expect(frames.map((f) => [...f])).toEqual([[1, 2], [3, 4]]);
  });

  it('groups fragments by codestream start without an offset table (JPEG SOI, JPEG 2000 SOC)', () => {
    const j2kStart = [0xff, 0x4f, 0xff, 0x51, 0, 0];
    const fragments = [jpegStart(1), [2, 3], jpegEnd(4), [...j2kStart, ...EOI], jpegStart(5), jpegEnd(0xd8)];
    const frames = splitEncapsulatedFrames(encapsulate(fragments), { numberOfFrames: 3, transferSyntaxUid: '1.2.840.10008.1.2.4.50' });
    expect(frames.map((f) => [...f])).toEqual([
      [...jpegStart(1), 2, 3, ...jpegEnd(4)],
      [...j2kStart, ...EOI],
      [...jpegStart(5), ...jpegEnd(0xd8)],
    ]);
  });

  it('does not start a frame at an SOI-looking fragment inside an unfinished codestream, when the count still fits', () => {
    // The second fragment begins with FFD8 by chance, but the first did not end with EOI.
    const fragments = [jpegStart(1), [...SOI, ...EOI], jpegStart(2), jpegEnd(3)];
    const frames = splitEncapsulatedFrames(encapsulate(fragments), { numberOfFrames: 2 });
    expect(frames).toHaveLength(2);
    expect([...frames[0]!]).toEqual([...jpegStart(1), ...SOI, ...EOI]);
  });

  it('groups RLE fragments by their 64-byte headers', () => {
    const header = (segments: number): number[] => [...uint32(segments), ...uint32(64), ...new Array<number>(56).fill(0)];
    const fragments = [[...header(1), 0], [1, 2], [...header(1), 9, 9]];
    const frames = splitEncapsulatedFrames(encapsulate(fragments), { numberOfFrames: 2, transferSyntaxUid: '1.2.840.10008.1.2.5' });
    expect(frames.map((f) => f.length)).toEqual([67, 66]);
  });

  it('explains when fragments cannot be split into the declared frames', () => {
    const value = encapsulate([jpegStart(1), jpegEnd(2), [7, 7]]);
    expect(() => splitEncapsulatedFrames(value, { numberOfFrames: 2 })).toThrow(CodecError);
    expect(() => splitEncapsulatedFrames(value, { numberOfFrames: 2 })).toThrow(/Number of Frames/);
  });

  it('rejects an offset table that does not match the number of frames or points between fragments', () => {
    const fragments = [[1, 2], [3, 4]];
    expect(() => splitEncapsulatedFrames(encapsulate(fragments, [0]), { numberOfFrames: 2 })).toThrow(/1 entries but the image has 2 frames/);
    expect(() => splitEncapsulatedFrames(encapsulate(fragments, [0, 4]), { numberOfFrames: 2 })).toThrow(/does not point to the start/);
  });
});

describe('native frames', () => {
  const geometry = { rows: 2, columns: 3, samplesPerPixel: 1, bitsAllocated: 16 };

  it('slices frame i of rows x columns x samples x bytes', () => {
    const value = Uint8Array.from({ length: 36 }, (_, i) => i);
    expect(nativeFrameLength(geometry)).toBe(12);
    expect(nativeFrameCount(value, geometry)).toBe(3);
    expect([...nativeFrame(value, 1, geometry)]).toEqual(Array.from({ length: 12 }, (_, i) => 12 + i));
    expect(() => nativeFrame(value, 3, geometry)).toThrow(/beyond the end/);
  });

  it('unpacks 1-bit frames that start inside a byte (pixels packed from the least significant bit)', () => {
    // Three 1x5 frames of 1-bit pixels: 11111 00000 10101, packed LSB first into 15 bits.
    const bits = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 1];
    const packed = new Uint8Array(2);
    bits.forEach((bit, i) => { packed[i >> 3]! |= bit << (i & 7); });
    const oneBit = { rows: 1, columns: 5, samplesPerPixel: 1, bitsAllocated: 1 };
    expect(nativeFrameLength(oneBit)).toBe(1);
    expect(nativeFrameCount(packed, oneBit)).toBe(3);
    expect(nativeFrame(packed, 0, oneBit)[0]).toBe(0b11111);
    expect(nativeFrame(packed, 1, oneBit)[0]).toBe(0b00000);
    expect(nativeFrame(packed, 2, oneBit)[0]).toBe(0b10101);
  });
});

describe('native frames of real files, against pydicom', () => {
  it('slices the 1-bit frames of a tiled segmentation (100 bits a frame, so most frames start inside a byte)', async () => {
    const file = path.join(samplesRoot, 'modalities/seg/seg_image_sm_dots_tiled_full.dcm');
    const description = await describeSample(file);
    expect(description.bitsAllocated).toBe(1);
    const value = await pixelDataValue(file, description);
    const pixelCount = description.rows * description.columns;
    const reference = await referencePixels(file, pixelCount, 'native');
    expect(nativeFrameCount(value, description)).toBe(description.numberOfFrames);
    expect(reference.frames).toHaveLength(description.numberOfFrames);
    let setPixels = 0;
    reference.frames.forEach((expected, index) => {
      const frame = nativeFrame(value, index, description);
      const unpacked = Array.from({ length: pixelCount }, (_, i) => (frame[i >> 3]! >> (i & 7)) & 1);
      expect(unpacked, `frame ${index + 1}`).toEqual([...expected]);
      setPixels += unpacked.reduce((sum, bit) => sum + bit, 0);
    });
    expect(setPixels).toBeGreaterThan(0);
  });

  it('slices a 16-bit multi-frame image and decodeFrame passes it through', async () => {
    const file = path.join(samplesRoot, 'modalities/enhanced-mr/MOVEKNEE.dcm');
    const description = await describeSample(file);
    const value = await pixelDataValue(file, description);
    const reference = await referencePixels(file, nativeFrameLength(description), 'native');
    expect(reference.frames).toHaveLength(description.numberOfFrames);
    for (const [index, expected] of reference.frames.entries()) {
      const decoded = await decodeFrame(description.transferSyntaxUid, nativeFrame(value, index, description), description);
      expect(Buffer.from(decoded.pixels).equals(Buffer.from(expected)), `frame ${index + 1}`).toBe(true);
    }
  });
});
