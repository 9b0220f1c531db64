// Converts a data set to another transfer syntax, losslessly: between native syntaxes, or from
// an encapsulated (compressed) syntax to a native one by decoding every frame. Used when a peer
// accepts none of the stored syntaxes; the stored original is never touched.
import { decodeFrame, splitEncapsulatedFrames, type PixelFormat } from './codecs/index.js';
import type { ByteRange, Dataset } from './dataset.js';
import { transferSyntax } from './uids.js';
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
  if (to.encapsulated) throw new TranscodeError(`encoding to ${to.name} is not supported on retrieval; only decompression`);
  if (from.encapsulated) await decompressPixelData(source);
  return encodeDatasetChunks(source.dataset, { transferSyntaxUid: targetTransferSyntaxUid, readBulk: source.readBulk });
}
