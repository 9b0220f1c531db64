// The in-memory model of a DICOM data set (PS3.5 section 7): elements keyed by tag, values kept
// as raw bytes in the data set's byte order and decoded on demand.
import { decodeText, encodeText, parseSpecificCharacterSet } from './charset.js';
import { lookupTag } from './dictionary/index.js';
import { isPrivateCreator, Tag, tagString } from './tag.js';
import { isSingleValuedText, isStringVR, isVR, paddingByte, usesSpecificCharacterSet, valueSize } from './vr.js';

export const UNDEFINED_LENGTH = 0xffffffff;

export type VR = 'AE'|'AS'|'AT'|'CS'|'DA'|'DS'|'DT'|'FD'|'FL'|'IS'|'LO'|'LT'|'OB'|'OD'|'OF'|'OL'|'OV'|'OW'|'PN'|'SH'|'SL'|'SQ'|'SS'|'ST'|'SV'|'TM'|'UC'|'UI'|'UL'|'UN'|'UR'|'US'|'UT'|'UV';

/** A span of the source stream or file, as absolute byte offsets. */
export interface ByteRange { offset: number; length: number }

export interface DataElement {
  readonly tag: number;
  readonly vr: VR;
  /** Declared value length, UNDEFINED_LENGTH if undefined. */
  readonly length: number;
  /** Raw value bytes in the data set's byte order; absent when skipped as bulk data. */
  readonly value?: Uint8Array;
  /** Where the value lies in the source (set by the parser). */
  readonly position?: ByteRange;
  /** Items of a sequence (SQ). */
  readonly items?: Dataset[];
  /** Encapsulated pixel data: [0] is the Basic Offset Table item (may be length 0). */
  readonly fragments?: ByteRange[];
}

export interface Syntax { readonly explicitVR: boolean; readonly littleEndian: boolean }

const NUMERIC_BINARY: ReadonlySet<VR> = new Set<VR>(['US', 'SS', 'UL', 'SL', 'FL', 'FD', 'SV', 'UV', 'OW', 'OL', 'OF', 'OD', 'OV', 'AT']);

export class Dataset {
  readonly elements = new Map<number, DataElement>();
  readonly explicitVR: boolean;
  readonly littleEndian: boolean;
  /** The enclosing data set of a sequence item: the Specific Character Set is inherited from it. */
  readonly parent: Dataset | undefined;
  private sortedTags: number[] | undefined;
  /** The parsed Specific Character Set, and the value it was parsed from (read once per value, not per text element). */
  private charsets: { source: Uint8Array; terms: readonly string[] } | undefined;

  constructor(syntax: Syntax, parent?: Dataset) {
    this.explicitVR = syntax.explicitVR;
    this.littleEndian = syntax.littleEndian;
    this.parent = parent;
  }

  get(tag: number): DataElement | undefined { return this.elements.get(tag); }
  has(tag: number): boolean { return this.elements.has(tag); }

  set(el: DataElement): void {
    if (!this.elements.has(el.tag)) this.sortedTags = undefined;
    this.elements.set(el.tag, el);
  }

  delete(tag: number): void {
    if (this.elements.delete(tag)) this.sortedTags = undefined;
  }

  /** Tags in ascending order (the order of the encoded data set). */
  tags(): number[] {
    if (!this.sortedTags) this.sortedTags = ascending([...this.elements.keys()]);
    return this.sortedTags.slice();
  }

  /** Terms of the Specific Character Set in effect here (own, else inherited from the parent). */
  specificCharacterSet(): readonly string[] {
    const el = this.elements.get(Tag.SpecificCharacterSet);
    if (!el?.value) return this.parent ? this.parent.specificCharacterSet() : [];
    if (this.charsets?.source !== el.value) this.charsets = { source: el.value, terms: parseSpecificCharacterSet(decodeText(el.value, [])) };
    return this.charsets.terms;
  }

  /** First value as text, decoded with the character set in effect, padding trimmed. */
  string(tag: number): string | undefined {
    return this.strings(tag)[0];
  }

  /** Every value as text (split on backslash except for LT, ST, UT and UR). */
  strings(tag: number): string[] {
    const el = this.elements.get(tag);
    if (!el?.value || el.value.length === 0) return [];
    const vr = effectiveVR(el);
    if (isStringVR(vr)) return splitText(this.decodeElementText(el.value, vr), vr);
    if (NUMERIC_BINARY.has(vr) && vr !== 'AT') return this.numbers(tag).map(String);
    if (vr === 'AT') return this.numbers(tag).map((t) => t.toString(16).toUpperCase().padStart(8, '0'));
    return [];
  }

  /** First numeric value (US SS UL SL FL FD SV UV IS DS, the O* VRs, and AT as a tag number). */
  number(tag: number): number | undefined {
    const n = this.numbers(tag)[0];
    return n === undefined || Number.isNaN(n) ? undefined : n;
  }

  /** Every numeric value; an unparsable IS/DS value comes out as NaN to keep positions. */
  numbers(tag: number): number[] {
    const el = this.elements.get(tag);
    if (!el?.value || el.value.length === 0) return [];
    const vr = effectiveVR(el);
    if (vr === 'IS' || vr === 'DS') {
      return splitText(decodeText(el.value, []), vr).map((s) => (s === '' ? NaN : Number(s)));
    }
    if (NUMERIC_BINARY.has(vr)) return readBinaryNumbers(el.value, vr, this.littleEndian);
    return [];
  }

  /** Decodes a text value with the character set in effect (only the VRs that use it). */
  decodeElementText(bytes: Uint8Array, vr: VR): string {
    return usesSpecificCharacterSet(vr) ? decodeText(bytes, this.specificCharacterSet(), vr) : decodeText(bytes, []);
  }

  /** Sets a text element; several values are joined with backslashes. */
  setString(tag: number, vr: VR, value: string | readonly string[]): void {
    const values = typeof value === 'string' ? [value] : value;
    if (!isStringVR(vr)) {
      if (vr === 'AT' || NUMERIC_BINARY.has(vr)) {
        this.setNumber(tag, vr, values.map((v) => (vr === 'AT' ? parseInt(v, 16) : Number(v))));
        return;
      }
      throw new Error(`Cannot set ${tagString(tag)} from text: VR ${vr} is not a string VR`);
    }
    if (isSingleValuedText(vr) && values.length > 1) throw new Error(`${tagString(tag)} (${vr}) holds a single value`);
    const text = values.join('\\');
    const charsets = tag === Tag.SpecificCharacterSet ? [] : this.specificCharacterSet();
    const bytes = usesSpecificCharacterSet(vr) ? encodeText(text, charsets) : encodeText(text, []);
    this.setBytes(tag, vr, bytes);
  }

  /** Sets a numeric element in this data set's byte order (IS and DS as text). */
  setNumber(tag: number, vr: VR, value: number | readonly number[]): void {
    const values = typeof value === 'number' ? [value] : value;
    if (vr === 'IS') { this.setString(tag, vr, values.map((v) => String(Math.trunc(v)))); return; }
    if (vr === 'DS') { this.setString(tag, vr, values.map(formatDecimalString)); return; }
    if (!NUMERIC_BINARY.has(vr)) throw new Error(`Cannot set ${tagString(tag)} from a number: VR ${vr} is not numeric`);
    this.setBytes(tag, vr, writeBinaryNumbers(values, vr, this.littleEndian));
  }

  /** Sets raw value bytes (already in this data set's byte order); pads odd lengths. */
  setBytes(tag: number, vr: VR, bytes: Uint8Array): void {
    let value = bytes;
    if (value.length % 2 === 1) {
      value = new Uint8Array(bytes.length + 1);
      value.set(bytes);
      value[bytes.length] = paddingByte(vr);
    }
    this.set({ tag, vr, length: value.length, value });
  }

  /** Sets a sequence; the items should have been created with this data set as parent. */
  setItems(tag: number, items: Dataset[]): void {
    this.set({ tag, vr: 'SQ', length: UNDEFINED_LENGTH, items });
  }

  /** A new empty item whose character set is inherited from this data set. */
  createItem(): Dataset {
    return new Dataset(this, this);
  }
}

/** The VR to interpret a value with: UN values of known tags are read per the dictionary. */
export function effectiveVR(el: DataElement): VR {
  if (el.vr !== 'UN') return el.vr;
  // Private Creator Data Elements are LO whatever the encoding (PS3.5 7.8.1).
  if (isPrivateCreator(el.tag)) return 'LO';
  const dictVR = lookupTag(el.tag)?.vr;
  return dictVR && isVR(dictVR) && dictVR !== 'SQ' ? dictVR : 'UN';
}

/** Sorts tags in place; a parsed data set's come in encoded order, already ascending, and are only checked. */
function ascending(tags: number[]): number[] {
  for (let i = 1; i < tags.length; i++) if (tags[i - 1]! > tags[i]!) return tags.sort((a, b) => a - b);
  return tags;
}

function splitText(text: string, vr: VR): string[] {
  if (isSingleValuedText(vr) || !text.includes('\\')) return [trimValue(text, vr)];
  return text.split('\\').map((v) => trimValue(v, vr));
}

/**
 * Strips padding: trailing spaces/NULs always, leading spaces where they are not significant.
 * Loops rather than regular expressions: this runs for every text value of every object received.
 */
function trimValue(v: string, vr: VR): string {
  let end = v.length;
  while (end > 0 && (v.charCodeAt(end - 1) === 0x20 || v.charCodeAt(end - 1) === 0)) end--;
  if (vr === 'LT' || vr === 'ST' || vr === 'UT') return end === v.length ? v : v.slice(0, end);
  let start = 0;
  while (start < end && v.charCodeAt(start) === 0x20) start++;
  // Empty trailing person name components and component groups carry no meaning (PS3.5 6.2.1).
  if (vr === 'PN') while (end > start && (v.charCodeAt(end - 1) === 0x5e || v.charCodeAt(end - 1) === 0x3d)) end--;
  return start === 0 && end === v.length ? v : v.slice(start, end);
}

function readBinaryNumbers(value: Uint8Array, vr: VR, le: boolean): number[] {
  const size = valueSize(vr) === 1 ? 1 : vr === 'AT' ? 4 : valueSize(vr);
  const dv = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const count = Math.floor(value.length / size);
  const out = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    const o = i * size;
    switch (vr) {
      case 'US': case 'OW': out[i] = dv.getUint16(o, le); break;
      case 'SS': out[i] = dv.getInt16(o, le); break;
      case 'UL': case 'OL': out[i] = dv.getUint32(o, le); break;
      case 'SL': out[i] = dv.getInt32(o, le); break;
      case 'FL': case 'OF': out[i] = dv.getFloat32(o, le); break;
      case 'FD': case 'OD': out[i] = dv.getFloat64(o, le); break;
      case 'SV': out[i] = Number(dv.getBigInt64(o, le)); break;
      case 'UV': case 'OV': out[i] = Number(dv.getBigUint64(o, le)); break;
      case 'AT': out[i] = (dv.getUint16(o, le) * 0x10000 + dv.getUint16(o + 2, le)) >>> 0; break;
      default: out[i] = value[o]!;
    }
  }
  return out;
}

function writeBinaryNumbers(values: readonly number[], vr: VR, le: boolean): Uint8Array {
  const size = vr === 'AT' ? 4 : valueSize(vr);
  const out = new Uint8Array(values.length * size);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => {
    const o = i * size;
    switch (vr) {
      case 'US': case 'OW': dv.setUint16(o, v, le); break;
      case 'SS': dv.setInt16(o, v, le); break;
      case 'UL': case 'OL': dv.setUint32(o, v, le); break;
      case 'SL': dv.setInt32(o, v, le); break;
      case 'FL': case 'OF': dv.setFloat32(o, v, le); break;
      case 'FD': case 'OD': dv.setFloat64(o, v, le); break;
      case 'SV': dv.setBigInt64(o, BigInt(Math.trunc(v)), le); break;
      case 'UV': case 'OV': dv.setBigUint64(o, BigInt(Math.trunc(v)), le); break;
      case 'AT': dv.setUint16(o, v >>> 16, le); dv.setUint16(o + 2, v & 0xffff, le); break;
      default: out[o] = v;
    }
  });
  return out;
}

/** Formats a number as a Decimal String of at most 16 characters (PS3.5 table 6.2-1). */
export function formatDecimalString(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`A Decimal String cannot hold ${v}`);
  let s = String(v);
  for (let p = 16; s.length > 16 && p > 0; p--) s = String(Number(v.toPrecision(p)));
  for (let p = 10; s.length > 16 && p > 0; p--) s = v.toExponential(p).replace('e+', 'e');
  return s;
}
