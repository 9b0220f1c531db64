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

/** Walks the marker segments of a JPEG stream up to its Start Of Frame. */
export function readJpegFrameHeader(stream: Uint8Array): JpegFrameHeader {
  if (stream[0] !== 0xff || stream[1] !== 0xd8) throw new CodecError('The JPEG frame does not start with an SOI marker (FFD8)');
  let position = 2;
  while (position + 4 <= stream.length) {
    if (stream[position] !== 0xff) throw new CodecError(`The JPEG frame is corrupt: no marker at byte ${position}`);
    const marker = stream[position + 1]!;
    if (marker === 0xff) {
      position++; // fill byte
      continue;
    }
    const length = (stream[position + 2]! << 8) | stream[position + 3]!;
    const isStartOfFrame = (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) ||
      marker === 0xf7; // JPEG-LS SOF55
    if (isStartOfFrame) {
      if (position + 10 > stream.length) break;
      return {
        process: marker,
        precision: stream[position + 4]!,
        rows: (stream[position + 5]! << 8) | stream[position + 6]!,
        columns: (stream[position + 7]! << 8) | stream[position + 8]!,
        components: stream[position + 9]!,
      };
    }
    if (marker === 0xda || marker === 0xd9) break;
    position += 2 + length;
  }
  throw new CodecError('The JPEG frame has no Start Of Frame marker before its image data');
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
