// Test support: split a Part 10 file into its File Meta Information and its dataset bytes,
// without depending on the dataset parser (only group 0002, always Explicit VR LE).
import { readFileSync } from 'node:fs';

export interface Part10Parts {
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly transferSyntaxUid: string;
  /** The dataset that follows the meta information, byte for byte. */
  readonly dataset: Buffer;
  readonly datasetOffset: number;
}

const LONG_VRS = new Set(['OB', 'OW', 'OF', 'SQ', 'UT', 'UN', 'UC', 'UR', 'OD', 'OL', 'OV', 'SV', 'UV']);

export function splitPart10(bytes: Buffer): Part10Parts {
  if (bytes.length < 132 || bytes.toString('latin1', 128, 132) !== 'DICM') throw new Error('not a DICOM Part 10 file');
  let pos = 132;
  const values = new Map<number, string>();
  while (pos + 8 <= bytes.length && bytes.readUInt16LE(pos) === 0x0002) {
    const element = bytes.readUInt16LE(pos + 2);
    const vr = bytes.toString('latin1', pos + 4, pos + 6);
    let length: number;
    if (LONG_VRS.has(vr)) {
      length = bytes.readUInt32LE(pos + 8);
      pos += 12;
    } else {
      length = bytes.readUInt16LE(pos + 6);
      pos += 8;
    }
    values.set(element, bytes.toString('latin1', pos, pos + length).replace(/[\0 ]+$/, ''));
    pos += length;
  }
  return {
    sopClassUid: values.get(0x0002) ?? '',
    sopInstanceUid: values.get(0x0003) ?? '',
    transferSyntaxUid: values.get(0x0010) ?? '',
    dataset: bytes.subarray(pos),
    datasetOffset: pos,
  };
}

export function readPart10(path: string): Part10Parts {
  return splitPart10(readFileSync(path));
}
