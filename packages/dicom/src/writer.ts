// Encoding of a Dataset into a transfer syntax (PS3.5 section 7) and of the Part 10 file
// meta information (PS3.10 section 7.1). Sequences are written with defined lengths;
// encapsulated pixel data is written as its fragments, read back from the source.
import zlib from 'node:zlib';
import { Dataset, UNDEFINED_LENGTH, type ByteRange, type DataElement, type VR } from './dataset.js';
import { syntaxOf } from './reader/dataset-parser.js';
import { isGroupLength, Tag, tagString } from './tag.js';
import { hasLongExplicitLength, paddingByte, valueSize } from './vr.js';

/** Loire's Implementation Class UID: a UUID-derived UID (PS3.5 B.2), generated once. */
export const IMPLEMENTATION_CLASS_UID = '2.25.46940181246296014581881247003121509606';
export const IMPLEMENTATION_VERSION_NAME = 'LOIRE_0.1';

export interface WriteOptions {
  transferSyntaxUid: string;
  /**
   * Reads a value the parser left in the source (bulk data and pixel data fragments):
   * `range` is an absolute position recorded by the parser. Needed whenever the data set
   * holds elements without a value.
   */
  readBulk?: (range: ByteRange) => Uint8Array;
}

/** A data set that cannot be encoded as asked. */
export class DicomWriteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DicomWriteError';
  }
}

interface Target { readonly explicitVR: boolean; readonly littleEndian: boolean }

/** Encodes a data set; the parts are returned unjoined so big values are not copied. */
export function encodeDatasetChunks(ds: Dataset, opts: WriteOptions): Uint8Array[] {
  const syntax = syntaxOf(opts.transferSyntaxUid);
  const parts: Uint8Array[] = [];
  encodeElements(ds, { explicitVR: syntax.explicitVR, littleEndian: syntax.littleEndian }, opts, parts);
  if (!syntax.deflated) return parts;
  return [zlib.deflateRawSync(Buffer.concat(parts))];
}

export function encodeDataset(ds: Dataset, opts: WriteOptions): Uint8Array {
  return Buffer.concat(encodeDatasetChunks(ds, opts));
}

export interface FileMetaOptions {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  sourceAeTitle?: string;
}

type MetaElement = readonly [element: number, vr: 'UI' | 'SH' | 'AE', value: string];

/** A group 0002 value padded to even length: UIDs with NUL, text with a space (PS3.5 6.2). */
function paddedMetaValue(vr: MetaElement[1], value: string): string {
  return value.length % 2 ? value + (vr === 'UI' ? '\0' : ' ') : value;
}

/**
 * The 128-byte preamble, "DICM" and the group 0002 elements of a Part 10 file. Written directly
 * into one buffer rather than through a Dataset: Loire writes one for every instance it
 * receives over DIMSE.
 */
export function createFileMeta(opts: FileMetaOptions): Uint8Array {
  const given: MetaElement[] = [
    [0x0002, 'UI', opts.sopClassUid],
    [0x0003, 'UI', opts.sopInstanceUid],
    [0x0010, 'UI', opts.transferSyntaxUid],
    [0x0012, 'UI', IMPLEMENTATION_CLASS_UID],
    [0x0013, 'SH', IMPLEMENTATION_VERSION_NAME],
  ];
  if (opts.sourceAeTitle) given.push([0x0016, 'AE', opts.sourceAeTitle]);
  const elements = given.map(([element, vr, value]): MetaElement => [element, vr, paddedMetaValue(vr, value)]);
  // (0002,0001) OB: tag, VR, 2 reserved bytes, 4-byte length, value 00 01.
  let bodyLength = 14;
  for (const [, , value] of elements) bodyLength += 8 + value.length;
  const out = Buffer.allocUnsafe(144 + bodyLength);
  out.fill(0, 0, 128);
  out.write('DICM', 128, 'latin1');
  // (0002,0000) UL File Meta Information Group Length
  out.writeUInt32LE(0x00000002, 132);
  out.write('UL', 136, 'latin1');
  out.writeUInt16LE(4, 138);
  out.writeUInt32LE(bodyLength, 140);
  let at = 144;
  out.writeUInt32LE(0x00010002, at);
  out.write('OB', at + 4, 'latin1');
  out.writeUInt16LE(0, at + 6);
  out.writeUInt32LE(2, at + 8);
  out[at + 12] = 0x00;
  out[at + 13] = 0x01;
  at += 14;
  for (const [element, vr, value] of elements) {
    out.writeUInt16LE(0x0002, at);
    out.writeUInt16LE(element, at + 2);
    out.write(vr, at + 4, 'latin1');
    out.writeUInt16LE(value.length, at + 6);
    out.write(value, at + 8, 'latin1');
    at += 8 + value.length;
  }
  return out;
}

export interface Part10WriteOptions extends WriteOptions {
  /** Defaults to the data set's SOP Class UID (0008,0016). */
  sopClassUid?: string;
  /** Defaults to the data set's SOP Instance UID (0008,0018). */
  sopInstanceUid?: string;
  sourceAeTitle?: string;
}

/** A whole Part 10 file: meta header and data set. */
export function writePart10(ds: Dataset, opts: Part10WriteOptions): Uint8Array {
  const sopClassUid = opts.sopClassUid ?? ds.string(Tag.SOPClassUID);
  const sopInstanceUid = opts.sopInstanceUid ?? ds.string(Tag.SOPInstanceUID);
  if (!sopClassUid || !sopInstanceUid) {
    throw new DicomWriteError('Cannot write a DICOM file without SOP Class UID (0008,0016) and SOP Instance UID (0008,0018)');
  }
  const meta = createFileMeta({ sopClassUid, sopInstanceUid, transferSyntaxUid: opts.transferSyntaxUid, sourceAeTitle: opts.sourceAeTitle });
  return Buffer.concat([meta, ...encodeDatasetChunks(ds, opts)]);
}

/** Appends the encoding of every element; returns the number of bytes appended. */
function encodeElements(ds: Dataset, target: Target, opts: WriteOptions, parts: Uint8Array[]): number {
  let total = 0;
  for (const tag of ds.tags()) {
    // Group lengths are retired outside group 0002 and would be wrong after re-encoding.
    if (isGroupLength(tag) && tag >>> 16 !== 0x0002) continue;
    const el = ds.get(tag)!;
    let chunks: Uint8Array[];
    if (el.items) chunks = encodeSequence(el, target, opts);
    else if (el.fragments) chunks = encodeFragments(el, target, opts);
    else chunks = encodeElementHeaderAndValue(el, ds, target, opts);
    for (const c of chunks) { parts.push(c); total += c.length; }
  }
  return total;
}

function encodeSequence(el: DataElement, target: Target, opts: WriteOptions): Uint8Array[] {
  const body: Uint8Array[] = [];
  let length = 0;
  for (const item of el.items!) {
    const itemParts: Uint8Array[] = [];
    const itemLength = encodeElements(item, target, opts, itemParts);
    body.push(itemHeader(Tag.Item, itemLength, target.littleEndian), ...itemParts);
    length += 8 + itemLength;
  }
  return [elementHeader(el.tag, 'SQ', length, target), ...body];
}

function encodeFragments(el: DataElement, target: Target, opts: WriteOptions): Uint8Array[] {
  if (!opts.readBulk) throw missingValue(el);
  const out: Uint8Array[] = [elementHeader(el.tag, el.vr === 'OW' ? 'OW' : 'OB', UNDEFINED_LENGTH, target)];
  for (const f of el.fragments!) {
    const bytes = opts.readBulk(f);
    if (bytes.length !== f.length) throw new DicomWriteError(`Could not read fragment of ${tagString(el.tag)} at offset ${f.offset}: got ${bytes.length} of ${f.length} bytes`);
    out.push(itemHeader(Tag.Item, bytes.length + (bytes.length % 2), target.littleEndian), bytes);
    if (bytes.length % 2) out.push(new Uint8Array(1));
  }
  out.push(itemHeader(Tag.SequenceDelimitationItem, 0, target.littleEndian));
  return out;
}

function encodeElementHeaderAndValue(el: DataElement, ds: Dataset, target: Target, opts?: WriteOptions): Uint8Array[] {
  let value = el.value;
  if (!value) {
    if (el.length === 0) value = new Uint8Array(0);
    else if (el.position && opts?.readBulk) value = opts.readBulk(el.position);
    else throw missingValue(el);
  }
  if (ds.littleEndian !== target.littleEndian) value = swapBytes(value, el.vr);
  const padded = value.length % 2 ? padTo(value, paddingByte(el.vr)) : value;
  let vr = el.vr;
  if (target.explicitVR && !hasLongExplicitLength(vr) && padded.length > 0xffff) vr = 'UN'; // PS3.5 6.2.2 note
  return [elementHeader(el.tag, vr, padded.length, target), padded];
}

function missingValue(el: DataElement): DicomWriteError {
  return new DicomWriteError(`The value of ${tagString(el.tag)} was left in the source as bulk data: pass readBulk to the writer to copy it`);
}

function elementHeader(tag: number, vr: VR, length: number, t: Target): Uint8Array {
  const long = !t.explicitVR || hasLongExplicitLength(vr);
  const h = new Uint8Array(t.explicitVR && long ? 12 : 8);
  const dv = new DataView(h.buffer);
  dv.setUint16(0, tag >>> 16, t.littleEndian);
  dv.setUint16(2, tag & 0xffff, t.littleEndian);
  if (!t.explicitVR) {
    dv.setUint32(4, length, t.littleEndian);
  } else {
    h[4] = vr.charCodeAt(0);
    h[5] = vr.charCodeAt(1);
    if (long) dv.setUint32(8, length, t.littleEndian);
    else dv.setUint16(6, length, t.littleEndian);
  }
  return h;
}

function itemHeader(tag: number, length: number, le: boolean): Uint8Array {
  const h = new Uint8Array(8);
  const dv = new DataView(h.buffer);
  dv.setUint16(0, tag >>> 16, le);
  dv.setUint16(2, tag & 0xffff, le);
  dv.setUint32(4, length, le);
  return h;
}

function padTo(v: Uint8Array, pad: number): Uint8Array {
  const out = new Uint8Array(v.length + 1);
  out.set(v);
  out[v.length] = pad;
  return out;
}

/** Converts a value between little and big endian by its VR's unit size. */
function swapBytes(v: Uint8Array, vr: VR): Uint8Array {
  const unit = valueSize(vr);
  if (unit === 1) return v;
  const out = new Uint8Array(v.length);
  const whole = v.length - (v.length % unit);
  for (let i = 0; i < whole; i += unit) {
    for (let j = 0; j < unit; j++) out[i + j] = v[i + unit - 1 - j]!;
  }
  out.set(v.subarray(whole), whole);
  return out;
}

