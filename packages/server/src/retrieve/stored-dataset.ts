// The dataset part of a stored object, for sending over DIMSE (which carries no file meta).
import type { Readable } from 'node:stream';
import type { ObjectStorage } from '../storage/storage.js';

const HEAD_BYTES = 16 * 1024;
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'SV', 'UV']);

/**
 * Offset of the dataset in a Part 10 file: after the preamble, "DICM" and the group 0002
 * elements (explicit VR little endian by definition). 0 for a bare dataset without meta.
 * Walks the elements rather than trusting (0002,0000), which some writers omit or get wrong.
 */
export function datasetOffset(head: Uint8Array): number {
  if (head.length < 132 || head[128] !== 0x44 || head[129] !== 0x49 || head[130] !== 0x43 || head[131] !== 0x4d) return 0;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  let pos = 132;
  while (pos + 8 <= head.length && view.getUint16(pos, true) === 0x0002) {
    const vr = String.fromCharCode(head[pos + 4] ?? 0, head[pos + 5] ?? 0);
    if (LONG_VRS.has(vr)) {
      if (pos + 12 > head.length) break;
      pos += 12 + view.getUint32(pos + 8, true);
    } else {
      pos += 8 + view.getUint16(pos + 6, true);
    }
  }
  if (pos > head.length) throw new Error('file meta information longer than expected');
  return pos;
}

export async function readStoredDataset(storage: ObjectStorage, key: string, size: number): Promise<Readable> {
  const head = await readHead(storage, key, Math.min(size, HEAD_BYTES));
  const start = datasetOffset(head);
  return storage.read(key, { start, end: size - 1 });
}

async function readHead(storage: ObjectStorage, key: string, length: number): Promise<Uint8Array> {
  if (length === 0) return new Uint8Array(0);
  const chunks: Buffer[] = [];
  for await (const chunk of storage.read(key, { start: 0, end: length - 1 })) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
