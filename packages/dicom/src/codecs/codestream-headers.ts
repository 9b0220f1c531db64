// The few header fields of JPEG (ISO 10918-1) and JPEG 2000 (ISO 15444-1) codestreams that choose a decoder
// and tell the colour space of its output.
import { CodecError } from './codec-error.js';

export interface JpegFrameHeader {
  /** SOF marker code: 0xC0 baseline, 0xC1 extended, 0xC2 progressive, 0xC3 lossless, ..., 0xF7 JPEG-LS */
  readonly process: number;
  readonly precision: number;
  readonly rows: number;
  readonly columns: number;
  readonly components: number;
}

interface JpegSegment {
  readonly marker: number;
  /** The segment's data, after its two length bytes. */
  readonly data: Uint8Array;
}

/** The marker segments of a JPEG stream from SOI up to its first Start Of Scan (or EOI). */
function* jpegSegmentsBeforeScan(stream: Uint8Array): Generator<JpegSegment> {
  if (stream[0] !== 0xff || stream[1] !== 0xd8) throw new CodecError('The JPEG frame does not start with an SOI marker (FFD8)');
  let position = 2;
  while (position + 4 <= stream.length) {
    if (stream[position] !== 0xff) throw new CodecError(`The JPEG frame is corrupt: no marker at byte ${position}`);
    const marker = stream[position + 1]!;
    if (marker === 0xff) {
      position++; // fill byte
      continue;
    }
    if (marker === 0xda || marker === 0xd9) return;
    const length = (stream[position + 2]! << 8) | stream[position + 3]!;
    yield { marker, data: stream.subarray(position + 4, Math.min(stream.length, position + 2 + length)) };
    position += 2 + length;
  }
}

function isStartOfFrame(marker: number): boolean {
  return (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) ||
    marker === 0xf7; // JPEG-LS SOF55
}

/** Walks the marker segments of a JPEG stream up to its Start Of Frame. */
export function readJpegFrameHeader(stream: Uint8Array): JpegFrameHeader {
  for (const { marker, data } of jpegSegmentsBeforeScan(stream)) {
    if (!isStartOfFrame(marker)) continue;
    if (data.length < 6) break;
    return {
      process: marker,
      precision: data[0]!,
      rows: (data[1]! << 8) | data[2]!,
      columns: (data[3]! << 8) | data[4]!,
      components: data[5]!,
    };
  }
  throw new CodecError('The JPEG frame has no Start Of Frame marker before its image data');
}

/**
 * What a three-component JPEG stream says of its own colour space, read as libjpeg reads it (jdapimin.c): a JFIF
 * APP0 segment means YCbCr; else an Adobe APP14 segment's transform flag decides (0: RGB, otherwise YCbCr); else
 * component identifiers 1, 2, 3 mean YCbCr and 'R', 'G', 'B' mean RGB. Anything else is 'unsignalled': libjpeg then
 * assumes YCbCr, a guess that the DICOM Photometric Interpretation should overrule (PS3.5 8.2.1).
 */
export type JpegColorSignal = 'YCbCr' | 'RGB' | 'unsignalled';

const JFIF_IDENTIFIER = [0x4a, 0x46, 0x49, 0x46, 0x00]; // "JFIF\0"
const ADOBE_IDENTIFIER = [0x41, 0x64, 0x6f, 0x62, 0x65]; // "Adobe"
/** Shortest APP0 / APP14 data libjpeg recognises as JFIF / Adobe (APP0_DATA_LEN, APP14_DATA_LEN): shorter ones are ignored. */
const JFIF_MIN_LENGTH = 14;
const ADOBE_MIN_LENGTH = 12;
const ADOBE_TRANSFORM_OFFSET = 11;

function startsWith(data: Uint8Array, identifier: readonly number[]): boolean {
  return identifier.every((byte, index) => data[index] === byte);
}

export function readJpegColorSignal(stream: Uint8Array): JpegColorSignal {
  let sawJfif = false;
  let adobeTransform: number | undefined;
  for (const { marker, data } of jpegSegmentsBeforeScan(stream)) {
    if (marker === 0xe0 && data.length >= JFIF_MIN_LENGTH && startsWith(data, JFIF_IDENTIFIER)) sawJfif = true;
    if (marker === 0xee && data.length >= ADOBE_MIN_LENGTH && startsWith(data, ADOBE_IDENTIFIER)) {
      adobeTransform = data[ADOBE_TRANSFORM_OFFSET]!;
    }
    if (!isStartOfFrame(marker)) continue;
    if (sawJfif) return 'YCbCr';
    if (adobeTransform !== undefined) return adobeTransform === 0 ? 'RGB' : 'YCbCr';
    const ids = [data[6], data[9], data[12]].join(',');
    if (ids === '1,2,3') return 'YCbCr';
    if (ids === '82,71,66') return 'RGB'; // ASCII 'R', 'G', 'B'
    return 'unsignalled';
  }
  throw new CodecError('The JPEG frame has no Start Of Frame marker before its image data');
}

/**
 * The stream with an Adobe APP14 segment (transform 0: components not colour-transformed) right after SOI, for a
 * stream that does not signal its colour space, so that libjpeg keeps its RGB components as they are.
 */
export function withAdobeNoTransformMarker(stream: Uint8Array): Uint8Array {
  const segment = [0xff, 0xee, 0x00, 0x0e, ...ADOBE_IDENTIFIER, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00];
  const out = new Uint8Array(stream.length + segment.length);
  out.set(stream.subarray(0, 2));
  out.set(segment, 2);
  out.set(stream.subarray(2), 2 + segment.length);
  return out;
}

/** Whether a JPEG 2000 codestream (or JP2 file) applies the component transform (RCT or ICT): then it decodes to RGB. */
export function j2kUsesColorTransform(stream: Uint8Array): boolean {
  const start = findCodestreamStart(stream);
  let position = start + 2;
  while (position + 4 <= stream.length) {
    if (stream[position] !== 0xff) return false;
    const marker = stream[position + 1]!;
    if (marker === 0x90 || marker === 0x93) return false; // SOT or SOD: end of the main header without COD
    const length = (stream[position + 2]! << 8) | stream[position + 3]!;
    if (marker === 0x52) return (stream[position + 8] ?? 0) !== 0; // COD: Lcod, Scod, progression, layers (2), MCT
    position += 2 + length;
  }
  return false;
}

function findCodestreamStart(stream: Uint8Array): number {
  for (let i = 0; i + 3 < stream.length; i++) {
    if (stream[i] === 0xff && stream[i + 1] === 0x4f && stream[i + 2] === 0xff && stream[i + 3] === 0x51) return i;
  }
  throw new CodecError('The JPEG 2000 frame has no codestream (SOC and SIZ markers FF4F FF51 not found)');
}
