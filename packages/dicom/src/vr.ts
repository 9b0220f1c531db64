// Value representations (PS3.5 section 6.2).
import type { VR } from './dataset.js';

export const ALL_VRS: readonly VR[] = [
  'AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FD', 'FL', 'IS', 'LO', 'LT', 'OB', 'OD', 'OF', 'OL', 'OV', 'OW',
  'PN', 'SH', 'SL', 'SQ', 'SS', 'ST', 'SV', 'TM', 'UC', 'UI', 'UL', 'UN', 'UR', 'US', 'UT', 'UV',
];

const VR_SET: ReadonlySet<string> = new Set(ALL_VRS);

export function isVR(text: string): text is VR {
  return VR_SET.has(text);
}

/** VRs whose explicit-VR header has 2 reserved bytes and a 4-byte length (PS3.5 table 7.1-1). */
const LONG_LENGTH: ReadonlySet<VR> = new Set<VR>(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'SV', 'UV']);

export function hasLongExplicitLength(vr: VR): boolean {
  return LONG_LENGTH.has(vr);
}

/**
 * The VRs by the two bytes that name them in an explicit-VR header: 1 + their position in
 * ALL_VRS, 0 for bytes that name none. A table lookup, where decoding the bytes to a string and
 * looking that up allocated a string per element parsed.
 */
const VR_CODES = new Uint8Array(0x10000);
ALL_VRS.forEach((vr, i) => { VR_CODES[(vr.charCodeAt(0) << 8) | vr.charCodeAt(1)] = i + 1; });
const LONG_BY_POSITION: readonly boolean[] = [false, ...ALL_VRS.map((vr) => LONG_LENGTH.has(vr))];

/** The VR named by two header bytes, undefined when they name none. */
export function vrOfBytes(b0: number, b1: number): VR | undefined {
  const position = VR_CODES[(b0 << 8) | b1]!;
  return position === 0 ? undefined : ALL_VRS[position - 1];
}

/** hasLongExplicitLength() of the VR two header bytes name (false when they name none). */
export function hasLongExplicitLengthBytes(b0: number, b1: number): boolean {
  return LONG_BY_POSITION[VR_CODES[(b0 << 8) | b1]!]!;
}

/** Character string VRs (everything that is text on the wire). */
const STRING_VRS: ReadonlySet<VR> = new Set<VR>([
  'AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'LO', 'LT', 'PN', 'SH', 'ST', 'TM', 'UC', 'UI', 'UR', 'UT',
]);

export function isStringVR(vr: VR): boolean {
  return STRING_VRS.has(vr);
}

/** Binary VRs whose values are byte streams, not numbers read one at a time. */
const BULK_BINARY_VRS: ReadonlySet<VR> = new Set<VR>(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);

export function isBinaryVR(vr: VR): boolean {
  return BULK_BINARY_VRS.has(vr);
}

/** String VRs whose bytes are decoded with the Specific Character Set (PS3.5 section 6.1.2.3). */
const CHARSET_VRS: ReadonlySet<VR> = new Set<VR>(['SH', 'LO', 'ST', 'LT', 'PN', 'UC', 'UT']);

export function usesSpecificCharacterSet(vr: VR): boolean {
  return CHARSET_VRS.has(vr);
}

/** Text VRs whose single value may contain backslashes (they are not multi-valued). */
const SINGLE_VALUED_TEXT: ReadonlySet<VR> = new Set<VR>(['LT', 'ST', 'UT', 'UR']);

export function isSingleValuedText(vr: VR): boolean {
  return SINGLE_VALUED_TEXT.has(vr);
}

/** Padding byte for odd-length values: NUL for UI and binary VRs, space for text. */
export function paddingByte(vr: VR): number {
  return vr === 'UI' || !STRING_VRS.has(vr) ? 0x00 : 0x20;
}

/** Size in bytes of one value of a fixed-size numeric VR, or the swap unit of a binary VR. */
export function valueSize(vr: VR): number {
  switch (vr) {
    case 'US': case 'SS': case 'OW': case 'AT': return 2;
    case 'UL': case 'SL': case 'FL': case 'OF': case 'OL': return 4;
    case 'FD': case 'OD': case 'SV': case 'UV': case 'OV': return 8;
    default: return 1;
  }
}
