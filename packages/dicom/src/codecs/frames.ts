// Splitting Pixel Data into frames: encapsulated (PS3.5 A.4) and native (PS3.5 8.1.1).
import { CodecError } from './codec-error.js';

/** One item of an encapsulated Pixel Data value. */
export interface Fragment {
  /** Offset of the item tag, counted from the first fragment's item tag (the reference point of offset tables). */
  readonly offset: number;
  readonly data: Uint8Array;
}

export interface EncapsulatedPixelData {
  /** Basic Offset Table entries (empty when the first item has no value). */
  readonly basicOffsetTable: readonly number[];
  readonly fragments: readonly Fragment[];
}

const ITEM_TAG = 0xfffee000;
const SEQUENCE_DELIMITER_TAG = 0xfffee0dd;
const ITEM_HEADER_LENGTH = 8;

/**
 * Reads the items of an encapsulated Pixel Data value: the bytes after the (7FE0,0010) element header,
 * from the Basic Offset Table item to the sequence delimiter (which may be missing at the end).
 */
export function readEncapsulatedPixelData(value: Uint8Array): EncapsulatedPixelData {
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  let position = 0;
  let basicOffsetTable: number[] | undefined;
  const fragments: Fragment[] = [];
  let firstFragmentPosition = -1;
  while (position + ITEM_HEADER_LENGTH <= value.byteLength) {
    const tag = ((view.getUint16(position, true) << 16) | view.getUint16(position + 2, true)) >>> 0;
    const length = view.getUint32(position + 4, true);
    if (tag === SEQUENCE_DELIMITER_TAG) break;
    if (tag !== ITEM_TAG) {
      throw new CodecError(`Encapsulated Pixel Data is corrupt: expected an item (FFFE,E000) at byte ${position}, found tag ${tagText(tag)}`);
    }
    const start = position + ITEM_HEADER_LENGTH;
    if (length === 0xffffffff || start + length > value.byteLength) {
      throw new CodecError(`Encapsulated Pixel Data is corrupt: the item at byte ${position} has length ${length}, beyond the ${value.byteLength} bytes of the value`);
    }
    const data = value.subarray(start, start + length);
    if (basicOffsetTable === undefined) {
      basicOffsetTable = readUint32Table(data);
    } else {
      if (firstFragmentPosition < 0) firstFragmentPosition = position;
      fragments.push({ offset: position - firstFragmentPosition, data });
    }
    position = start + length;
  }
  if (basicOffsetTable === undefined) {
    throw new CodecError('Encapsulated Pixel Data is empty: it lacks the Basic Offset Table item');
  }
  return { basicOffsetTable, fragments };
}

export interface FrameSplitOptions {
  /** Number of Frames (0028,0008); 1 when absent. */
  readonly numberOfFrames: number;
  /** Transfer syntax of the data set: RLE frames are recognised by their header, others by their start marker. */
  readonly transferSyntaxUid?: string;
  /** Raw value of Extended Offset Table (7FE0,0001): little-endian 64-bit offsets. */
  readonly extendedOffsetTable?: Uint8Array;
}

const RLE_LOSSLESS = '1.2.840.10008.1.2.5';

/**
 * Splits an encapsulated Pixel Data value into one byte string per frame (fragments of a frame concatenated;
 * a frame made of one fragment is a view on the input, not a copy).
 */
export function splitEncapsulatedFrames(value: Uint8Array, options: FrameSplitOptions): Uint8Array[] {
  const { basicOffsetTable, fragments } = readEncapsulatedPixelData(value);
  const frameCount = Math.max(1, options.numberOfFrames);
  return groupFragments(fragments, basicOffsetTable, frameCount, options).map(joinFragments);
}

function groupFragments(
  fragments: readonly Fragment[],
  basicOffsetTable: readonly number[],
  frameCount: number,
  options: FrameSplitOptions,
): Fragment[][] {
  if (fragments.length === 0) throw new CodecError('Encapsulated Pixel Data has no fragment: the image has no pixels');
  if (options.extendedOffsetTable && options.extendedOffsetTable.byteLength > 0) {
    return groupByOffsets(fragments, readUint64Table(options.extendedOffsetTable), frameCount, 'Extended Offset Table');
  }
  if (basicOffsetTable.length > 0) return groupByOffsets(fragments, basicOffsetTable, frameCount, 'Basic Offset Table');
  if (frameCount === 1) return [[...fragments]];
  if (fragments.length === frameCount) return fragments.map((fragment) => [fragment]);
  const isFrameStart = options.transferSyntaxUid === RLE_LOSSLESS ? startsRleFrame : startsCodestream;
  const grouped = groupByFrameStart(fragments, isFrameStart, frameCount);
  if (grouped.length !== frameCount) {
    throw new CodecError(
      `Cannot split ${fragments.length} fragments into ${frameCount} frames: no offset table, and ${grouped.length} frame starts were found. ` +
      'The Number of Frames or the Pixel Data of this instance is wrong.',
    );
  }
  return grouped;
}

function groupByOffsets(fragments: readonly Fragment[], offsets: readonly number[], frameCount: number, tableName: string): Fragment[][] {
  if (offsets.length !== frameCount) {
    throw new CodecError(`The ${tableName} has ${offsets.length} entries but the image has ${frameCount} frames`);
  }
  return offsets.map((start, index) => {
    const end = index + 1 < offsets.length ? offsets[index + 1]! : Number.POSITIVE_INFINITY;
    const frame = fragments.filter((fragment) => fragment.offset >= start && fragment.offset < end);
    if (frame.length === 0 || frame[0]!.offset !== start) {
      throw new CodecError(`The ${tableName} entry ${index} (${start}) does not point to the start of a fragment`);
    }
    return frame;
  });
}

/** A new frame starts at a fragment that begins with a start marker, right after a fragment that ended one. */
function groupByFrameStart(fragments: readonly Fragment[], isFrameStart: (data: Uint8Array) => boolean, frameCount: number): Fragment[][] {
  const strict = splitWhere(fragments, (fragment, previous) => isFrameStart(fragment.data) && endsCodestream(previous.data));
  if (strict.length === frameCount) return strict;
  return splitWhere(fragments, (fragment) => isFrameStart(fragment.data));
}

function splitWhere(fragments: readonly Fragment[], startsFrame: (fragment: Fragment, previous: Fragment) => boolean): Fragment[][] {
  const frames: Fragment[][] = [];
  fragments.forEach((fragment, index) => {
    const previous = fragments[index - 1];
    const current = frames[frames.length - 1];
    if (previous === undefined || current === undefined || startsFrame(fragment, previous)) frames.push([fragment]);
    else current.push(fragment);
  });
  return frames;
}

/** JPEG and JPEG-LS start with SOI (FFD8), a JPEG 2000 codestream with SOC+SIZ (FF4F FF51), a JP2 file with its signature box. */
function startsCodestream(data: Uint8Array): boolean {
  if (data.length < 4 || data[0] !== 0xff) {
    return data.length >= 8 && data[4] === 0x6a && data[5] === 0x50 && data[6] === 0x20 && data[7] === 0x20;
  }
  if (data[1] === 0xd8) return data[2] === 0xff;
  return data[1] === 0x4f && data[2] === 0xff && data[3] === 0x51;
}

/** JPEG EOI and JPEG 2000 EOC are both FFD9; fragments are padded to even length, so a trailing zero may follow. */
function endsCodestream(data: Uint8Array): boolean {
  let end = data.length;
  while (end > 0 && data[end - 1] === 0) end--;
  return end >= 2 && data[end - 2] === 0xff && data[end - 1] === 0xd9;
}

/** An RLE frame starts with its 64-byte header: 1 to 15 segments, the first of which starts at byte 64 (PS3.5 G.5). */
function startsRleFrame(data: Uint8Array): boolean {
  if (data.length < 64) return false;
  const view = new DataView(data.buffer, data.byteOffset, 8);
  const segments = view.getUint32(0, true);
  return segments >= 1 && segments <= 15 && view.getUint32(4, true) === 64;
}

function joinFragments(fragments: readonly Fragment[]): Uint8Array {
  if (fragments.length === 1) return fragments[0]!.data;
  const total = fragments.reduce((sum, fragment) => sum + fragment.data.byteLength, 0);
  const joined = new Uint8Array(total);
  let position = 0;
  for (const fragment of fragments) {
    joined.set(fragment.data, position);
    position += fragment.data.byteLength;
  }
  return joined;
}

function readUint32Table(data: Uint8Array): number[] {
  if (data.byteLength % 4 !== 0) throw new CodecError(`The Basic Offset Table length (${data.byteLength}) is not a multiple of 4`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return Array.from({ length: data.byteLength / 4 }, (_, index) => view.getUint32(index * 4, true));
}

function readUint64Table(data: Uint8Array): number[] {
  if (data.byteLength % 8 !== 0) throw new CodecError(`The Extended Offset Table length (${data.byteLength}) is not a multiple of 8`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return Array.from({ length: data.byteLength / 8 }, (_, index) => {
    const offset = view.getBigUint64(index * 8, true);
    if (offset > BigInt(Number.MAX_SAFE_INTEGER)) throw new CodecError(`Extended Offset Table entry ${index} is too large (${offset})`);
    return Number(offset);
  });
}

function tagText(tag: number): string {
  const hex = tag.toString(16).toUpperCase().padStart(8, '0');
  return `(${hex.slice(0, 4)},${hex.slice(4)})`;
}

/** The attributes that fix the size of a native frame. */
export interface NativeFrameGeometry {
  readonly rows: number;
  readonly columns: number;
  readonly samplesPerPixel: number;
  readonly bitsAllocated: number;
}

/** Bits in one native frame; frames of 1-bit data are packed one after the other with no padding between them. */
export function nativeFrameBits(geometry: NativeFrameGeometry): number {
  return geometry.rows * geometry.columns * geometry.samplesPerPixel * geometry.bitsAllocated;
}

/** Bytes needed to hold one native frame (rounded up for 1-bit data). */
export function nativeFrameLength(geometry: NativeFrameGeometry): number {
  return Math.ceil(nativeFrameBits(geometry) / 8);
}

/** Number of whole frames held by a native Pixel Data value. */
export function nativeFrameCount(value: Uint8Array, geometry: NativeFrameGeometry): number {
  const bits = nativeFrameBits(geometry);
  return bits === 0 ? 0 : Math.floor((value.byteLength * 8) / bits);
}

/**
 * Frame `index` (0-based) of a native Pixel Data value. Byte-aligned frames are views on the input; a 1-bit frame that
 * starts inside a byte is copied and shifted so that its first pixel is bit 0 of byte 0 (DICOM packs pixels from the
 * least significant bit).
 */
export function nativeFrame(value: Uint8Array, index: number, geometry: NativeFrameGeometry): Uint8Array {
  const bits = nativeFrameBits(geometry);
  const startBit = index * bits;
  if (index < 0 || !Number.isInteger(index) || startBit + bits > value.byteLength * 8) {
    throw new CodecError(`Frame ${index + 1} is beyond the end of the Pixel Data (${value.byteLength} bytes, ${bits / 8} bytes a frame)`);
  }
  const startByte = Math.floor(startBit / 8);
  const length = Math.ceil(bits / 8);
  const shift = startBit % 8;
  if (shift === 0 && bits % 8 === 0) return value.subarray(startByte, startByte + length);
  const frame = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const low = value[startByte + i]! >> shift;
    const high = shift === 0 ? 0 : (value[startByte + i + 1] ?? 0) << (8 - shift);
    frame[i] = (low | high) & 0xff;
  }
  const tailBits = bits % 8;
  if (tailBits !== 0) frame[length - 1]! &= (1 << tailBits) - 1;
  return frame;
}
