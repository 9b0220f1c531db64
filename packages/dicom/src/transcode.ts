// Converts a data set to another transfer syntax, losslessly: between native syntaxes, from an
// encapsulated (compressed) syntax to a native one by decoding every frame, and to a lossless
// compressed syntax by encoding every frame. Used when a peer accepts none of the stored
// syntaxes; the stored original is never touched.
import { canDecode, canEncode, decodeFrame, encodeFrame, nativeFrame, splitEncapsulatedFrames, type PixelFormat } from './codecs/index.js';
import { Dataset, type ByteRange } from './dataset.js';
import { ExplicitVRLittleEndian, transferSyntax } from './uids.js';
import { encodeDatasetChunks } from './writer.js';

export class TranscodeError extends Error {
  override name = 'TranscodeError';
}

const PIXEL_DATA = 0x7fe00010;
const EXTENDED_OFFSET_TABLE = 0x7fe00001;
const EXTENDED_OFFSET_TABLE_LENGTHS = 0x7fe00002;

export interface TranscodeSource {
  dataset: Dataset;
  transferSyntaxUid: string;
  /** Reads a value the parser left in the source as bulk data. */
  readBulk: (range: ByteRange) => Uint8Array;
}

/** The Image Pixel attributes of a data set that describe its frames; throws if Rows, Columns or Bits Allocated are missing. */
export function pixelFormat(ds: Dataset): PixelFormat {
  const required = (tag: number, name: string): number => {
    const v = ds.number(tag);
    if (v === undefined) throw new TranscodeError(`cannot decode pixel data: ${name} is missing`);
    return v;
  };
  return {
    rows: required(0x00280010, 'Rows'),
    columns: required(0x00280011, 'Columns'),
    samplesPerPixel: ds.number(0x00280002) ?? 1,
    bitsAllocated: required(0x00280100, 'Bits Allocated'),
    bitsStored: ds.number(0x00280101) ?? required(0x00280100, 'Bits Allocated'),
    pixelRepresentation: ds.number(0x00280103) ?? 0,
    planarConfiguration: ds.number(0x00280006) ?? 0,
    photometricInterpretation: ds.string(0x00280004) ?? 'MONOCHROME2',
  };
}

/** Decodes every frame of the encapsulated Pixel Data and puts native pixel data in its place. */
async function decompressPixelData(source: TranscodeSource): Promise<void> {
  const { dataset } = source;
  const pixel = dataset.get(PIXEL_DATA);
  if (!pixel) return; // nothing to decode (e.g. a header-only object)
  if (!pixel.position) throw new TranscodeError('cannot decode pixel data: its position in the source is unknown');
  const format = pixelFormat(dataset);
  const eot = dataset.get(EXTENDED_OFFSET_TABLE);
  const eotValue = eot ? eot.value ?? (eot.position ? source.readBulk(eot.position) : undefined) : undefined;
  const frames = splitEncapsulatedFrames(source.readBulk(pixel.position), {
    numberOfFrames: dataset.number(0x00280008) ?? 1,
    transferSyntaxUid: source.transferSyntaxUid,
    ...(eotValue ? { extendedOffsetTable: eotValue } : {}),
  });
  const decoded = [];
  for (const frame of frames) decoded.push(await decodeFrame(source.transferSyntaxUid, frame, format));
  const pixels = Buffer.concat(decoded.map((d) => d.pixels));
  dataset.delete(EXTENDED_OFFSET_TABLE);
  dataset.delete(EXTENDED_OFFSET_TABLE_LENGTHS);
  dataset.setBytes(PIXEL_DATA, format.bitsAllocated > 8 ? 'OW' : 'OB', pixels);
  const photometric = decoded[0]?.photometricInterpretation;
  if (photometric && photometric !== format.photometricInterpretation) dataset.setString(0x00280004, 'CS', photometric);
  if (format.samplesPerPixel > 1) dataset.setNumber(0x00280006, 'US', 0);
}

/** The data set encoded in `targetTransferSyntaxUid`, as chunks (no file meta). */
export async function transcodeDataset(source: TranscodeSource, targetTransferSyntaxUid: string): Promise<Uint8Array[]> {
  const from = transferSyntax(source.transferSyntaxUid);
  const to = transferSyntax(targetTransferSyntaxUid);
  if (!from) throw new TranscodeError(`unknown transfer syntax ${source.transferSyntaxUid}`);
  if (!to) throw new TranscodeError(`unknown transfer syntax ${targetTransferSyntaxUid}`);
  if (to.encapsulated && !canEncode(targetTransferSyntaxUid)) {
    throw new TranscodeError(`encoding to ${to.name} is not supported; Loire encodes only lossless syntaxes (RLE, JPEG-LS, JPEG 2000, HTJ2K)`);
  }
  if (from.encapsulated) await decompressPixelData(source);
  if (!to.encapsulated) return encodeDatasetChunks(source.dataset, { transferSyntaxUid: targetTransferSyntaxUid, readBulk: source.readBulk });
  const pixelSyntax = from.encapsulated ? ExplicitVRLittleEndian : source.transferSyntaxUid;
  return encodeCompressed(source, pixelSyntax, targetTransferSyntaxUid);
}

/** Whether transcodeDataset can convert from one syntax to the other (decoders and encoders permitting). */
export function canTranscode(fromTransferSyntaxUid: string, toTransferSyntaxUid: string): boolean {
  const from = transferSyntax(fromTransferSyntaxUid);
  const to = transferSyntax(toTransferSyntaxUid);
  if (!from || !to) return false;
  if (from.encapsulated && !canDecode(fromTransferSyntaxUid)) return false;
  return !to.encapsulated || canEncode(toTransferSyntaxUid);
}

/**
 * Encodes every native frame in the target syntax and writes the data set with encapsulated Pixel
 * Data (PS3.5 A.4: a Basic Offset Table, then one fragment per frame). `pixelSyntax` is the syntax
 * the native Pixel Data value is in (the source's, or explicit VR LE once decompressed).
 */
async function encodeCompressed(source: TranscodeSource, pixelSyntax: string, target: string): Promise<Uint8Array[]> {
  const { dataset } = source;
  const pixel = dataset.get(PIXEL_DATA);
  const write = (ds: Dataset): Uint8Array[] => encodeDatasetChunks(ds, { transferSyntaxUid: target, readBulk: source.readBulk });
  if (!pixel) return write(dataset);
  const format = pixelFormat(dataset);
  const value = pixel.value ?? (pixel.position ? source.readBulk(pixel.position) : undefined);
  if (!value) throw new TranscodeError('cannot encode pixel data: its value is missing');
  const numberOfFrames = Math.max(1, dataset.number(0x00280008) ?? 1);
  const encoded = [];
  for (let index = 0; index < numberOfFrames; index++) {
    const native = await decodeFrame(pixelSyntax, nativeFrame(value, index, format), format);
    encoded.push(await encodeFrame(target, native.pixels, { ...format, planarConfiguration: native.planarConfiguration, photometricInterpretation: native.photometricInterpretation }));
  }
  const first = encoded[0]!;
  dataset.setString(0x00280004, 'CS', first.photometricInterpretation);
  if (format.samplesPerPixel > 1) dataset.setNumber(0x00280006, 'US', first.planarConfiguration);
  dataset.delete(EXTENDED_OFFSET_TABLE);
  dataset.delete(EXTENDED_OFFSET_TABLE_LENGTHS);
  // Elements before and after Pixel Data are encoded around the encapsulated value (usually nothing follows it).
  const before = new Dataset(dataset);
  const after = new Dataset(dataset);
  for (const tag of dataset.tags()) {
    if (tag === PIXEL_DATA) continue;
    (tag < PIXEL_DATA ? before : after).set(dataset.get(tag)!);
  }
  return [...write(before), ...encapsulatedPixelData(encoded.map((frame) => frame.data)), ...write(after)];
}

/** (7FE0,0010) OB of undefined length: Basic Offset Table item, one item per frame, sequence delimiter (explicit VR LE). */
export function encapsulatedPixelData(frames: readonly Uint8Array[]): Uint8Array[] {
  const header = Buffer.from([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x42, 0, 0, 0xff, 0xff, 0xff, 0xff]);
  const item = (length: number): Buffer => {
    const b = Buffer.alloc(8);
    b.writeUInt16LE(0xfffe, 0); b.writeUInt16LE(0xe000, 2); b.writeUInt32LE(length, 4);
    return b;
  };
  const offsets = Buffer.alloc(frames.length > 1 ? 4 * frames.length : 0);
  let at = 0;
  frames.forEach((frame, index) => {
    if (offsets.length) offsets.writeUInt32LE(at, 4 * index);
    at += 8 + frame.byteLength;
  });
  const out: Uint8Array[] = [header, item(offsets.length), offsets];
  for (const frame of frames) out.push(item(frame.byteLength), frame);
  out.push(Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]));
  return out;
}
