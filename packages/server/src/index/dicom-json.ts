// The DICOM JSON model (PS3.18 F.2) as the index consumes and produces it, with small accessors.
import { tagHex } from '@loire/dicom';

export interface PersonNameJson {
  Alphabetic?: string;
  Ideographic?: string;
  Phonetic?: string;
}

export interface DicomJsonElement {
  vr: string;
  Value?: unknown[];
  BulkDataURI?: string;
  InlineBinary?: string;
}

/** Keys are 8 upper-case hex digits (group + element). */
export type DicomJson = Record<string, DicomJsonElement>;

/** The four UIDs that identify an instance. */
export interface InstanceUids {
  sopClassUid: string;
  sopInstanceUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
}

/** An instance's identifying UIDs alone, as DICOM JSON: what the index keeps of an object whose other attributes cannot be read. */
export function identifiersJson(uids: InstanceUids): DicomJson {
  return {
    '00080016': { vr: 'UI', Value: [uids.sopClassUid] },
    '00080018': { vr: 'UI', Value: [uids.sopInstanceUid] },
    '0020000D': { vr: 'UI', Value: [uids.studyInstanceUid] },
    '0020000E': { vr: 'UI', Value: [uids.seriesInstanceUid] },
  };
}

export function isPersonName(value: unknown): value is PersonNameJson {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** PS3.5 6.2: the three component groups of a PN are joined by '='; trailing empty groups are dropped. */
export function personNameToString(pn: PersonNameJson): string {
  const groups = [pn.Alphabetic ?? '', pn.Ideographic ?? '', pn.Phonetic ?? ''].map(trimTrailingCarets);
  while (groups.length > 0 && groups[groups.length - 1] === '') groups.pop();
  return groups.join('=');
}

export function personNameFromString(text: string): PersonNameJson {
  const [alphabetic, ideographic, phonetic] = text.split('=');
  const pn: PersonNameJson = {};
  if (alphabetic) pn.Alphabetic = alphabetic;
  if (ideographic) pn.Ideographic = ideographic;
  if (phonetic) pn.Phonetic = phonetic;
  return pn;
}

function trimTrailingCarets(group: string): string {
  return group.replace(/\^+$/, '');
}

/** Values of an element rendered as DICOM strings (numbers as decimal, PN in its '=' form). */
export function stringValues(json: DicomJson, tag: string): string[] {
  const values = json[tag]?.Value;
  if (!values) return [];
  const out: string[] = [];
  for (const v of values) {
    if (typeof v === 'string') out.push(v);
    else if (typeof v === 'number' || typeof v === 'bigint') out.push(String(v));
    else if (isPersonName(v)) out.push(personNameToString(v));
  }
  return out;
}

/** The first value as a trimmed string, or undefined when absent or empty. */
export function firstString(json: DicomJson, tag: string): string | undefined {
  const first = stringValues(json, tag)[0]?.trim();
  return first ? first : undefined;
}

/** All values joined by backslash (the DICOM multi-value separator), or undefined when empty. */
export function joinedString(json: DicomJson, tag: string): string | undefined {
  const values = stringValues(json, tag).map((v) => v.trim()).filter((v) => v !== '');
  return values.length > 0 ? values.join('\\') : undefined;
}

export function firstInteger(json: DicomJson, tag: string): number | undefined {
  const text = firstString(json, tag);
  if (text === undefined) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? Math.trunc(n) : undefined;
}

export function hasNonAscii(text: string): boolean {
  return /[^\x00-\x7f]/.test(text);
}

/** Pixel data never belongs in the index; other large binaries are dropped above this size. */
const INLINE_BINARY_LIMIT = 1024;
/** Pixel Data, Float Pixel Data and Double Float Pixel Data: never kept in the index. */
export const PIXEL_DATA_TAGS: ReadonlySet<number> = new Set([0x7fe00010, 0x7fe00008, 0x7fe00009]);
const PIXEL_DATA_KEYS = new Set([...PIXEL_DATA_TAGS].map(tagHex));

/** A `{ vr }` element: already what withoutBulkData leaves of bulk data (no copy needed). */
function isMarker(element: DicomJsonElement): boolean {
  return element.Value === undefined && element.BulkDataURI === undefined && element.InlineBinary === undefined;
}

/**
 * The instance's metadata as the index keeps it: everything except bulk data. Pixel data and
 * large inline binaries keep their VR and lose their value (a `{ vr }` marker) so that a
 * DICOMweb adapter knows to offer a BulkDataURI for them. Copy on write: what holds no bulk
 * data (most sequence items) is shared with `json`, not copied, so neither may be changed later.
 */
export function withoutBulkData(json: DicomJson): DicomJson {
  let out: DicomJson | undefined;
  for (const tag in json) {
    const element = json[tag]!;
    let stripped: DicomJsonElement | undefined;
    if (PIXEL_DATA_KEYS.has(tag) ? !isMarker(element) : (element.InlineBinary !== undefined && element.InlineBinary.length > INLINE_BINARY_LIMIT)) {
      stripped = { vr: element.vr };
    } else if (element.vr === 'SQ' && element.Value) {
      const items = element.Value as DicomJson[];
      let strippedItems: DicomJson[] | undefined;
      items.forEach((item, i) => {
        const strippedItem = withoutBulkData(item);
        if (strippedItem !== item) (strippedItems ??= items.slice())[i] = strippedItem;
      });
      if (strippedItems) stripped = { vr: 'SQ', Value: strippedItems };
    }
    if (stripped) (out ??= { ...json })[tag] = stripped;
  }
  return out ?? json;
}
