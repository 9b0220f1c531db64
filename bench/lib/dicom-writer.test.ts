import { describe, expect, it } from 'vitest';
import { encodeDataset, encodeElement, encodePart10, EXPLICIT_VR_LITTLE_ENDIAN } from './dicom-writer.mjs';

/** Walks an explicit-VR little-endian byte run and lists its elements. */
function walk(bytes: Buffer): Array<{ tag: number; vr: string; value: Buffer }> {
  const out: Array<{ tag: number; vr: string; value: Buffer }> = [];
  let offset = 0;
  while (offset < bytes.length) {
    const tag = ((bytes.readUInt16LE(offset) << 16) | bytes.readUInt16LE(offset + 2)) >>> 0;
    const vr = bytes.toString('latin1', offset + 4, offset + 6);
    const long = ['OB', 'OW', 'SQ', 'UN', 'UT', 'UC', 'UR', 'OD', 'OF', 'OL', 'OV'].includes(vr);
    const length = long ? bytes.readUInt32LE(offset + 8) : bytes.readUInt16LE(offset + 6);
    const start = offset + (long ? 12 : 8);
    out.push({ tag, vr, value: bytes.subarray(start, start + length) });
    offset = start + length;
  }
  return out;
}

describe('encodeElement', () => {
  it('pads UIDs with NUL and text with a space to an even length', () => {
    const [uid] = walk(encodeElement(0x00080016, 'UI', '1.2.3'));
    expect([...uid!.value]).toEqual([...Buffer.from('1.2.3\0')]);
    const [name] = walk(encodeElement(0x00100010, 'PN', 'ABC'));
    expect(name!.value.toString('latin1')).toBe('ABC ');
  });

  it('joins multiple values with a backslash and writes binary VRs little endian', () => {
    expect(walk(encodeElement(0x00200037, 'DS', [1, 0, 0, 0, 1, 0]))[0]!.value.toString('latin1')).toBe('1\\0\\0\\0\\1\\0 ');
    expect([...walk(encodeElement(0x00280010, 'US', 512))[0]!.value]).toEqual([0x00, 0x02]);
  });

  it('uses a 32-bit length after 2 reserved bytes for OW', () => {
    const bytes = encodeElement(0x7fe00010, 'OW', new Uint8Array(70000));
    expect(bytes.readUInt16LE(6)).toBe(0);
    expect(bytes.readUInt32LE(8)).toBe(70000);
  });

  it('refuses a short-length value over 64 KiB rather than wrapping its length', () => {
    expect(() => encodeElement(0x00081030, 'LO', 'x'.repeat(70000))).toThrow(/too long/);
  });
});

describe('encodeDataset', () => {
  it('sorts elements by tag and rejects duplicates', () => {
    const tags = walk(encodeDataset([[0x00200013, 'IS', 1], [0x00080060, 'CS', 'CT'], [0x00100020, 'LO', 'P']])).map((e) => e.tag);
    expect(tags).toEqual([0x00080060, 0x00100020, 0x00200013]);
    expect(() => encodeDataset([[0x00080060, 'CS', 'CT'], [0x00080060, 'CS', 'MR']])).toThrow(/duplicate/);
  });
});

describe('encodePart10', () => {
  it('writes preamble, DICM and a meta group whose group length covers exactly the meta elements', () => {
    const dataset = encodeDataset([[0x00080060, 'CS', 'CT']]);
    const file = encodePart10({ sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: '2.25.1', dataset });
    expect(file.subarray(0, 128).every((b) => b === 0)).toBe(true);
    expect(file.toString('latin1', 128, 132)).toBe('DICM');
    const [groupLength] = walk(file.subarray(132, 132 + 12));
    const metaLength = groupLength!.value.readUInt32LE(0);
    const meta = walk(file.subarray(144, 144 + metaLength));
    expect(meta.every((e) => e.tag >>> 16 === 0x0002)).toBe(true);
    expect(meta.find((e) => e.tag === 0x00020010)!.value.toString('latin1').replace(/\0$/, '')).toBe(EXPLICIT_VR_LITTLE_ENDIAN);
    expect(file.subarray(144 + metaLength).equals(dataset)).toBe(true);
  });
});
