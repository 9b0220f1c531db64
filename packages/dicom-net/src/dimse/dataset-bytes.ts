// The only dataset the network layer writes itself: the Failed SOP Instance UID List (0008,0058)
// of a C-MOVE/C-GET final response, in the presentation context's (little endian) transfer syntax.
import { ImplicitVRLittleEndian } from '@loire/dicom';

const FAILED_SOP_INSTANCE_UID_LIST = 0x00080058;

/** Encodes one UI element; explicit VR limits a value to 65534 bytes, so the list is cut to fit. */
export function encodeUidListElement(uids: readonly string[], transferSyntaxUid: string, tag = FAILED_SOP_INSTANCE_UID_LIST): Buffer {
  const explicit = transferSyntaxUid !== ImplicitVRLittleEndian;
  let value = '';
  for (const uid of uids) {
    const next = value ? `${value}\\${uid}` : uid;
    if (explicit && next.length > 65534) break;
    value = next;
  }
  if (value.length % 2 === 1) value += '\0';
  const head = Buffer.alloc(8);
  head.writeUInt16LE(tag >>> 16, 0);
  head.writeUInt16LE(tag & 0xffff, 2);
  if (explicit) {
    head.write('UI', 4, 'latin1');
    head.writeUInt16LE(value.length, 6);
  } else {
    head.writeUInt32LE(value.length, 4);
  }
  return Buffer.concat([head, Buffer.from(value, 'latin1')]);
}
