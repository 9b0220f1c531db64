// What `loire import` makes of a file, from its first bytes: a DICOM object to ingest, a DICOMDIR
// (the directory of a media file-set, not an object to archive), or not DICOM at all (the HTML,
// JPEG and text files a patient CD carries beside its images).
import { open } from 'node:fs/promises';

export type FileKind = 'dicom' | 'dicomdir' | 'not-dicom';

/** Media Storage Directory Storage (PS3.10 7.2): the SOP class of a DICOMDIR. */
export const MediaStorageDirectorySopClass = '1.2.840.10008.1.3.10';

const PREAMBLE = 128;
/** Enough for any File Meta Information header seen in practice. */
const HEAD_BYTES = 16 * 1024;
/** VRs with a 2-byte reserved field and a 4-byte length in explicit VR (PS3.5 7.1.2). */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
/**
 * A data set without meta header starts with its lowest group: 0008 in practice, 0000 to 0008
 * at most. Text, HTML, JPEG, PNG and GIF files start with bytes that read as far higher groups.
 */
const MAX_FIRST_GROUP = 0x0008;

function hasDicmAt(head: Uint8Array, at: number): boolean {
  return head.length >= at + 4 && head[at] === 0x44 && head[at + 1] === 0x49 && head[at + 2] === 0x43 && head[at + 3] === 0x4d;
}

/** Media Storage SOP Class UID (0002,0002) of an explicit VR LE meta header starting at `offset`. */
function mediaStorageSopClass(head: Uint8Array, offset: number): string | undefined {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  let at = offset;
  while (at + 8 <= head.length) {
    const group = view.getUint16(at, true);
    const element = view.getUint16(at + 2, true);
    if (group !== 0x0002) return undefined;
    const vr = String.fromCharCode(head[at + 4]!, head[at + 5]!);
    const long = LONG_VRS.has(vr);
    if (long && at + 12 > head.length) return undefined;
    const length = long ? view.getUint32(at + 8, true) : view.getUint16(at + 6, true);
    const valueAt = at + (long ? 12 : 8);
    if (element === 0x0002) {
      if (valueAt + length > head.length) return undefined;
      return Buffer.from(head.subarray(valueAt, valueAt + length)).toString('latin1').replace(/[\0 ]+$/, '');
    }
    at = valueAt + length;
  }
  return undefined;
}

/** Classifies a file from its first bytes (up to 16 KiB); anything doubtful counts as DICOM. */
export function classifyHead(head: Uint8Array): FileKind {
  const metaAt = hasDicmAt(head, PREAMBLE) ? PREAMBLE + 4 : hasDicmAt(head, 0) ? 4 : undefined;
  if (metaAt !== undefined) {
    return mediaStorageSopClass(head, metaAt) === MediaStorageDirectorySopClass ? 'dicomdir' : 'dicom';
  }
  if (head.length < 8) return 'not-dicom';
  const groupLittle = head[0]! | (head[1]! << 8);
  const groupBig = (head[0]! << 8) | head[1]!;
  return groupLittle <= MAX_FIRST_GROUP || groupBig <= MAX_FIRST_GROUP ? 'dicom' : 'not-dicom';
}

export async function classifyFile(file: string): Promise<FileKind> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(head, 0, HEAD_BYTES, 0);
    return classifyHead(head.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}
