// A deliberately tiny explicit-VR-little-endian element writer for the benchmark data sets.
// It is self-contained so that the harness measures Loire with bytes Loire did not produce.

/** VRs whose explicit-VR header has 2 reserved bytes and a 32-bit length (PS3.5 7.1.2). */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT']);

/** VRs padded with NUL rather than space to an even length (PS3.5 6.2). */
const NUL_PADDED_VRS = new Set(['UI', 'OB', 'UN']);

/**
 * Encodes one element's value to bytes. Strings may be arrays (joined with the backslash
 * multi-value delimiter); numbers go through the binary VRs.
 * @param {string} vr
 * @param {string | number | Array<string | number> | Uint8Array} value
 * @returns {Buffer}
 */
function encodeValue(vr, value) {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  const values = Array.isArray(value) ? value : [value];
  switch (vr) {
    case 'US': {
      const b = Buffer.alloc(2 * values.length);
      values.forEach((v, i) => b.writeUInt16LE(Number(v), 2 * i));
      return b;
    }
    case 'SS': {
      const b = Buffer.alloc(2 * values.length);
      values.forEach((v, i) => b.writeInt16LE(Number(v), 2 * i));
      return b;
    }
    case 'UL': {
      const b = Buffer.alloc(4 * values.length);
      values.forEach((v, i) => b.writeUInt32LE(Number(v), 4 * i));
      return b;
    }
    case 'FD': {
      const b = Buffer.alloc(8 * values.length);
      values.forEach((v, i) => b.writeDoubleLE(Number(v), 8 * i));
      return b;
    }
    default: {
      const text = Buffer.from(values.map(String).join('\\'), 'latin1');
      if (text.length % 2 === 0) return text;
      return Buffer.concat([text, Buffer.from([NUL_PADDED_VRS.has(vr) ? 0x00 : 0x20])]);
    }
  }
}

/**
 * Encodes one data element in explicit VR little endian.
 * @param {number} tag  (group << 16 | element)
 * @param {string} vr
 * @param {string | number | Array<string | number> | Uint8Array} value
 * @returns {Buffer}
 */
export function encodeElement(tag, vr, value) {
  let body = encodeValue(vr, value);
  if (body.length % 2 !== 0) body = Buffer.concat([body, Buffer.from([0])]);
  const long = LONG_VRS.has(vr);
  const header = Buffer.alloc(long ? 12 : 8);
  header.writeUInt16LE(tag >>> 16, 0);
  header.writeUInt16LE(tag & 0xffff, 2);
  header.write(vr, 4, 'latin1');
  if (long) header.writeUInt32LE(body.length, 8);
  else {
    if (body.length > 0xffff) throw new Error(`value of ${tag.toString(16)} (${vr}) too long for a 16-bit length`);
    header.writeUInt16LE(body.length, 6);
  }
  return Buffer.concat([header, body]);
}

/**
 * Encodes a data set given as [tag, vr, value] triples, sorted by tag as PS3.5 7.1 requires.
 * @param {Array<[number, string, any]>} elements
 * @returns {Buffer}
 */
export function encodeDataset(elements) {
  const sorted = [...elements].sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i][0] === sorted[i - 1][0]) throw new Error(`duplicate tag ${sorted[i][0].toString(16)}`);
  }
  return Buffer.concat(sorted.map(([tag, vr, value]) => encodeElement(tag, vr, value)));
}

export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
const IMPLEMENTATION_CLASS_UID = '2.25.255420187226152316133306521327402618906';
const IMPLEMENTATION_VERSION_NAME = 'LOIRE_BENCH';

/**
 * Builds a Part 10 file: 128-byte preamble, "DICM", group 0002 with its group length, data set.
 * @param {{ sopClassUid: string, sopInstanceUid: string, dataset: Buffer }} args
 * @returns {Buffer}
 */
export function encodePart10({ sopClassUid, sopInstanceUid, dataset }) {
  const meta = encodeDataset([
    [0x00020001, 'OB', new Uint8Array([0x00, 0x01])],
    [0x00020002, 'UI', sopClassUid],
    [0x00020003, 'UI', sopInstanceUid],
    [0x00020010, 'UI', EXPLICIT_VR_LITTLE_ENDIAN],
    [0x00020012, 'UI', IMPLEMENTATION_CLASS_UID],
    [0x00020013, 'SH', IMPLEMENTATION_VERSION_NAME],
  ]);
  const groupLength = encodeElement(0x00020000, 'UL', meta.length);
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), groupLength, meta, dataset]);
}
