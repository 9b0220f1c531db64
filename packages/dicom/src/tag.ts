// Data element tags (PS3.5 section 7.1): a uint32 holding group << 16 | element.

/** Builds a tag from its group and element numbers. */
export function makeTag(group: number, element: number): number {
  return ((group & 0xffff) * 0x10000 + (element & 0xffff)) >>> 0;
}

export function tagGroup(tag: number): number {
  return tag >>> 16;
}

export function tagElement(tag: number): number {
  return tag & 0xffff;
}

/** Keys already formatted: the same few hundred tags recur in every object (see tagHex). */
const HEX_OF_TAG = new Map<number, string>();
const HEX_CACHE_LIMIT = 20_000;

/** "00100010": the form used by DICOM JSON keys. */
export function tagHex(tag: number): string {
  let hex = HEX_OF_TAG.get(tag);
  if (hex === undefined) {
    hex = (tag >>> 0).toString(16).toUpperCase().padStart(8, '0');
    // Bounded: private tags of odd objects must not grow it for ever.
    if (HEX_OF_TAG.size < HEX_CACHE_LIMIT) HEX_OF_TAG.set(tag, hex);
  }
  return hex;
}

/** "(0010,0010)": the form PACS administrators read in logs and dcmdump output. */
export function tagString(tag: number): string {
  const hex = tagHex(tag);
  return `(${hex.slice(0, 4)},${hex.slice(4)})`;
}

/** Parses "00100010", "0010,0010" or "(0010,0010)"; throws on anything else. */
export function parseTag(text: string): number {
  const hex = text.trim().replace(/^\(|\)$/g, '').replace(',', '');
  if (!/^[0-9A-Fa-f]{8}$/.test(hex)) throw new Error(`Not a DICOM tag: "${text}" (expected 8 hex digits such as 00100010)`);
  return parseInt(hex, 16) >>> 0;
}

/** Private data elements live in odd groups (PS3.5 section 7.8). */
export function isPrivateTag(tag: number): boolean {
  return (tag >>> 16) % 2 === 1;
}

/** Private creator elements (gggg,0010-00FF) reserve a block of a private group. */
export function isPrivateCreator(tag: number): boolean {
  const el = tag & 0xffff;
  return isPrivateTag(tag) && el >= 0x10 && el <= 0xff;
}

/** Group length elements (gggg,0000), retired outside the command and meta groups. */
export function isGroupLength(tag: number): boolean {
  return (tag & 0xffff) === 0;
}

// Tags the reader, writer and JSON model treat specially.
export const Tag = {
  FileMetaInformationGroupLength: 0x00020000,
  FileMetaInformationVersion: 0x00020001,
  MediaStorageSOPClassUID: 0x00020002,
  MediaStorageSOPInstanceUID: 0x00020003,
  TransferSyntaxUID: 0x00020010,
  ImplementationClassUID: 0x00020012,
  ImplementationVersionName: 0x00020013,
  SourceApplicationEntityTitle: 0x00020016,
  SpecificCharacterSet: 0x00080005,
  SOPClassUID: 0x00080016,
  SOPInstanceUID: 0x00080018,
  PatientName: 0x00100010,
  PatientID: 0x00100020,
  StudyInstanceUID: 0x0020000d,
  SeriesInstanceUID: 0x0020000e,
  Rows: 0x00280010,
  Columns: 0x00280011,
  NumberOfFrames: 0x00280008,
  PixelRepresentation: 0x00280103,
  FloatPixelData: 0x7fe00008,
  DoubleFloatPixelData: 0x7fe00009,
  PixelData: 0x7fe00010,
  Item: 0xfffee000,
  ItemDelimitationItem: 0xfffee00d,
  SequenceDelimitationItem: 0xfffee0dd,
} as const;

/** The three pixel data elements, always treated as bulk data. */
export function isPixelDataTag(tag: number): boolean {
  return tag === Tag.PixelData || tag === Tag.FloatPixelData || tag === Tag.DoubleFloatPixelData;
}
