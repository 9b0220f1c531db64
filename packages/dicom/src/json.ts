// The DICOM JSON model (PS3.18 annex F.2): what QIDO-RS and WADO-RS metadata return
// and STOW-RS accepts.
import { Dataset, effectiveVR, formatDecimalString, type DataElement, type VR } from './dataset.js';
import { isGroupLength, parseTag, Tag, tagHex, tagString } from './tag.js';
import { isBinaryVR, isVR, usesSpecificCharacterSet } from './vr.js';

/** Keys are tags as 8 upper-case hex digits. */
export type DicomJson = Record<string, DicomJsonAttribute>;
export interface DicomJsonAttribute { vr: string; Value?: unknown[]; BulkDataURI?: string; InlineBinary?: string }
export interface PersonNameJson { Alphabetic?: string; Ideographic?: string; Phonetic?: string }

export interface ToDicomJsonOptions {
  /**
   * URI under which a value can be retrieved. `path` locates the element from the root:
   * sequence tag, item index, …, element tag. Called for binary elements and for any value
   * left in the source as bulk data; returning undefined inlines the value when it is present.
   */
  bulkDataUri?: (el: DataElement, path: number[]) => string | undefined;
  /** Top-level tags to convert (with their sequences whole); every tag when absent. */
  only?: ReadonlySet<number>;
}

export function toDicomJson(ds: Dataset, opts: ToDicomJsonOptions = {}): DicomJson {
  const only = opts.only;
  if (only === undefined) return datasetToJson(ds, opts, []);
  const out: DicomJson = {};
  for (const tag of only) {
    const el = ds.get(tag);
    if (el !== undefined && !isGroupLength(tag)) out[tagHex(tag)] = attributeToJson(ds, el, opts, []);
  }
  return out;
}

function datasetToJson(ds: Dataset, opts: ToDicomJsonOptions, prefix: number[]): DicomJson {
  const out: DicomJson = {};
  for (const tag of ds.tags()) {
    if (isGroupLength(tag)) continue; // retired, and meaningless once re-encoded
    out[tagHex(tag)] = attributeToJson(ds, ds.get(tag)!, opts, prefix);
  }
  return out;
}

/** `prefix` locates the element's data set; the element's own path is built only when needed. */
function attributeToJson(ds: Dataset, el: DataElement, opts: ToDicomJsonOptions, prefix: number[]): DicomJsonAttribute {
  // A UN value of a known tag is given its dictionary VR, so that e.g. a UID sent as UN is indexed as a UID.
  const vr = el.items || el.value === undefined ? el.vr : effectiveVR(el);
  const attr: DicomJsonAttribute = { vr };
  if (el.items) {
    if (el.items.length) attr.Value = el.items.map((item, i) => datasetToJson(item, opts, [...prefix, el.tag, i]));
    return attr;
  }
  const bulk = el.value === undefined || isBinaryVR(vr);
  if (bulk) {
    const uri = opts.bulkDataUri?.(el, [...prefix, el.tag]);
    if (uri !== undefined) attr.BulkDataURI = uri;
    else if (el.value?.length) attr.InlineBinary = Buffer.from(el.value.buffer, el.value.byteOffset, el.value.byteLength).toString('base64');
    return attr;
  }
  const values = jsonValues(ds, el);
  // A value that is only padding is empty (PS3.18 F.2.5): no Value rather than [null]. Several
  // empty values ("\\\\") are a value multiplicity of their own and stay as nulls.
  if (values.length > 1 || (values.length === 1 && values[0] !== null)) attr.Value = values;
  return attr;
}

function jsonValues(ds: Dataset, el: DataElement): unknown[] {
  if (!el.value || el.value.length === 0) return [];
  const vr = effectiveVR(el);
  switch (vr) {
    case 'PN': return ds.strings(el.tag).map(personName);
    case 'IS': case 'DS':
      return ds.strings(el.tag).map((s) => {
        if (s === '') return null;
        const n = Number(s);
        return Number.isFinite(n) ? n : s; // keep an invalid number visible rather than lose it
      });
    case 'AT': return ds.strings(el.tag);
    case 'SV': case 'UV': return bigNumbers(el.value, vr, ds.littleEndian);
    case 'US': case 'SS': case 'UL': case 'SL': case 'FL': case 'FD':
      return ds.numbers(el.tag).map((n) => (Number.isFinite(n) ? n : null));
    default: return ds.strings(el.tag).map((s) => (s === '' ? null : s));
  }
}

function personName(value: string): PersonNameJson | null {
  if (value === '') return null;
  const [alphabetic, ideographic, phonetic] = value.split('=');
  const pn: PersonNameJson = {};
  if (alphabetic) pn.Alphabetic = alphabetic;
  if (ideographic) pn.Ideographic = ideographic;
  if (phonetic) pn.Phonetic = phonetic;
  return pn;
}

/** 64-bit integers: numbers when exact, else decimal strings (PS3.18 F.2.3.1). */
function bigNumbers(v: Uint8Array, vr: 'SV' | 'UV', le: boolean): (number | string)[] {
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  const out: (number | string)[] = [];
  for (let o = 0; o + 8 <= v.length; o += 8) {
    const b = vr === 'SV' ? dv.getBigInt64(o, le) : dv.getBigUint64(o, le);
    out.push(b <= BigInt(Number.MAX_SAFE_INTEGER) && b >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(b) : b.toString());
  }
  return out;
}

export interface FromDicomJsonOptions {
  /** Resolves a BulkDataURI to the value bytes; without it such attributes are left out. */
  bulkData?: (uri: string, tag: number) => Uint8Array | undefined;
}

/** Builds an Explicit VR Little Endian data set; text is UTF-8 (ISO_IR 192) when not ASCII. */
export function fromDicomJson(json: DicomJson, opts: FromDicomJsonOptions = {}): Dataset {
  const ds = new Dataset({ explicitVR: true, littleEndian: true });
  fillDataset(ds, json, opts, hasNonAsciiText(json), true);
  return ds;
}

function fillDataset(ds: Dataset, json: DicomJson, opts: FromDicomJsonOptions, utf8: boolean, root: boolean): void {
  const charsetKey = tagHex(Tag.SpecificCharacterSet);
  // The character set first: the other text values are encoded with it. Items inherit it,
  // and an item's own character set is replaced too when the text is written as UTF-8.
  if (utf8 && (root || json[charsetKey])) ds.setString(Tag.SpecificCharacterSet, 'CS', 'ISO_IR 192');
  else if (json[charsetKey]) setAttribute(ds, Tag.SpecificCharacterSet, json[charsetKey], opts, utf8);
  for (const [key, attr] of Object.entries(json)) {
    if (key === charsetKey) continue;
    setAttribute(ds, parseTag(key), attr, opts, utf8);
  }
}

function setAttribute(ds: Dataset, tag: number, attr: DicomJsonAttribute, opts: FromDicomJsonOptions, utf8: boolean): void {
  if (!attr || typeof attr.vr !== 'string' || !isVR(attr.vr)) {
    throw new Error(`DICOM JSON attribute ${tagString(tag)} has no valid "vr" (got ${JSON.stringify(attr?.vr)})`);
  }
  const vr: VR = attr.vr;
  if (vr === 'SQ') {
    const items = (attr.Value ?? []).map((itemJson) => {
      const item = ds.createItem();
      fillDataset(item, (itemJson ?? {}) as DicomJson, opts, utf8, false);
      return item;
    });
    ds.setItems(tag, items);
    return;
  }
  if (attr.InlineBinary !== undefined) { ds.setBytes(tag, vr, Buffer.from(attr.InlineBinary, 'base64')); return; }
  if (attr.BulkDataURI !== undefined) {
    const bytes = opts.bulkData?.(attr.BulkDataURI, tag);
    if (bytes) ds.setBytes(tag, vr, bytes);
    return;
  }
  const values = attr.Value ?? [];
  if (values.length === 0) { ds.setBytes(tag, vr, new Uint8Array(0)); return; }
  switch (vr) {
    case 'PN': ds.setString(tag, vr, values.map(personNameText)); return;
    case 'IS': case 'DS':
      ds.setString(tag, vr, values.map((v) => (v === null ? '' : typeof v === 'number' ? (vr === 'DS' ? formatDecimalString(v) : String(Math.trunc(v))) : String(v))));
      return;
    case 'AT': ds.setNumber(tag, vr, values.map((v) => parseTag(String(v)))); return;
    case 'US': case 'SS': case 'UL': case 'SL': case 'FL': case 'FD': case 'SV': case 'UV':
      ds.setNumber(tag, vr, values.map((v) => Number(v)));
      return;
    default:
      if (isBinaryVR(vr)) throw new Error(`DICOM JSON attribute ${tagString(tag)} (${vr}) must use InlineBinary or BulkDataURI, not Value`);
      ds.setString(tag, vr, values.map((v) => (v === null || v === undefined ? '' : String(v))));
  }
}

function personNameText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  const pn = v as PersonNameJson;
  return [pn.Alphabetic ?? '', pn.Ideographic ?? '', pn.Phonetic ?? ''].join('=').replace(/=+$/, '');
}

/** Whether any text value that the Specific Character Set governs holds non-ASCII characters. */
function hasNonAsciiText(json: DicomJson): boolean {
  for (const attr of Object.values(json)) {
    if (!attr || typeof attr.vr !== 'string' || !isVR(attr.vr)) continue;
    if (attr.vr === 'SQ') {
      if ((attr.Value ?? []).some((item) => hasNonAsciiText((item ?? {}) as DicomJson))) return true;
    } else if (usesSpecificCharacterSet(attr.vr) && /[^\x00-\x7f]/.test(JSON.stringify(attr.Value ?? []))) {
      return true;
    }
  }
  return false;
}
