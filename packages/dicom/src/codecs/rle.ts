// RLE Lossless (PS3.5 Annex G): one PackBits-coded segment per byte plane (most significant byte first) of each sample.
import { CodecError } from './codec-error.js';

export interface RleGeometry {
  readonly rows: number;
  readonly columns: number;
  readonly samplesPerPixel: number;
  readonly bitsAllocated: number;
}

const HEADER_LENGTH = 64;
const MAX_SEGMENTS = 15;

function bytesPerSample(geometry: RleGeometry): number {
  if (geometry.bitsAllocated % 8 !== 0 || geometry.bitsAllocated === 0) {
    throw new CodecError(`RLE Lossless needs Bits Allocated to be a multiple of 8, not ${geometry.bitsAllocated}`, 'unsupported');
  }
  return geometry.bitsAllocated / 8;
}

/**
 * Decodes one RLE frame (its fragments concatenated) into native little-endian pixels, samples interleaved
 * (the segments are planar whatever Planar Configuration says, PS3.5 G.2).
 */
export function decodeRleFrame(frame: Uint8Array, geometry: RleGeometry): Uint8Array {
  const sampleBytes = bytesPerSample(geometry);
  const expectedSegments = geometry.samplesPerPixel * sampleBytes;
  if (frame.byteLength < HEADER_LENGTH) throw new CodecError(`RLE frame is ${frame.byteLength} bytes, shorter than its 64-byte header`);
  const view = new DataView(frame.buffer, frame.byteOffset, HEADER_LENGTH);
  const segmentCount = view.getUint32(0, true);
  if (segmentCount !== expectedSegments) {
    throw new CodecError(
      `RLE frame has ${segmentCount} segments, but ${geometry.samplesPerPixel} samples of ${geometry.bitsAllocated} bits need ${expectedSegments}`,
    );
  }
  const offsets = Array.from({ length: segmentCount }, (_, index) => view.getUint32(4 + index * 4, true));
  const pixelCount = geometry.rows * geometry.columns;
  const stride = geometry.samplesPerPixel * sampleBytes;
  const pixels = new Uint8Array(pixelCount * stride);
  offsets.forEach((start, segment) => {
    const end = offsets[segment + 1] ?? frame.byteLength;
    if (start < HEADER_LENGTH || end > frame.byteLength || start > end) {
      throw new CodecError(`RLE segment ${segment + 1} has offsets ${start}..${end} outside the ${frame.byteLength}-byte frame`);
    }
    const sample = Math.floor(segment / sampleBytes);
    const byteInSample = sampleBytes - 1 - (segment % sampleBytes); // segment order is most significant byte first
    unpackBits(frame.subarray(start, end), pixels, sample * sampleBytes + byteInSample, stride, pixelCount, segment + 1);
  });
  return pixels;
}

/** PackBits decoding of one segment straight into its byte lane of the interleaved output. */
function unpackBits(segment: Uint8Array, out: Uint8Array, lane: number, stride: number, count: number, segmentNumber: number): void {
  let input = 0;
  let written = 0;
  while (written < count && input < segment.length) {
    const header = segment[input++]!;
    if (header < 128) {
      const literal = Math.min(header + 1, count - written, segment.length - input);
      for (let i = 0; i < literal; i++) out[lane + (written++) * stride] = segment[input++]!;
      if (literal < header + 1 && written < count) break;
    } else if (header > 128) {
      if (input >= segment.length) break;
      const repeated = segment[input++]!;
      const run = Math.min(257 - header, count - written);
      for (let i = 0; i < run; i++) out[lane + (written++) * stride] = repeated;
    } // 128 is a no-op (PS3.5 G.3.2)
  }
  if (written < count) {
    throw new CodecError(`RLE segment ${segmentNumber} is truncated: it holds ${written} of the ${count} bytes of the frame`);
  }
}

/** Encodes one frame of native little-endian interleaved pixels as an RLE Lossless frame (one fragment). */
export function encodeRleFrame(pixels: Uint8Array, geometry: RleGeometry): Uint8Array {
  const sampleBytes = bytesPerSample(geometry);
  const segmentCount = geometry.samplesPerPixel * sampleBytes;
  if (segmentCount > MAX_SEGMENTS) {
    throw new CodecError(`RLE Lossless holds at most 15 segments; ${geometry.samplesPerPixel} samples of ${geometry.bitsAllocated} bits need ${segmentCount}`, 'unsupported');
  }
  const pixelCount = geometry.rows * geometry.columns;
  const stride = geometry.samplesPerPixel * sampleBytes;
  if (pixels.byteLength < pixelCount * stride) {
    throw new CodecError(`The frame holds ${pixels.byteLength} bytes, less than the ${pixelCount * stride} its attributes describe`);
  }
  const segments: Uint8Array[] = [];
  for (let segment = 0; segment < segmentCount; segment++) {
    const sample = Math.floor(segment / sampleBytes);
    const lane = sample * sampleBytes + (sampleBytes - 1 - (segment % sampleBytes));
    segments.push(packBits(pixels, lane, stride, geometry.rows, geometry.columns));
  }
  const total = HEADER_LENGTH + segments.reduce((sum, segment) => sum + segment.byteLength, 0);
  const frame = new Uint8Array(total);
  const header = new DataView(frame.buffer, 0, HEADER_LENGTH);
  header.setUint32(0, segmentCount, true);
  let position = HEADER_LENGTH;
  segments.forEach((segment, index) => {
    header.setUint32(4 + index * 4, position, true);
    frame.set(segment, position);
    position += segment.byteLength;
  });
  return frame;
}

/** PackBits of one byte lane, row by row (runs never cross a row, PS3.5 G.3.1), padded to even length. */
function packBits(pixels: Uint8Array, lane: number, stride: number, rows: number, columns: number): Uint8Array {
  const out = new Uint8Array(rows * columns * 2 + 2); // worst case: a header byte for every data byte, plus padding
  let length = 0;
  const at = (index: number): number => pixels[lane + index * stride]!;
  for (let row = 0; row < rows; row++) {
    const rowStart = row * columns;
    const rowEnd = rowStart + columns;
    let index = rowStart;
    while (index < rowEnd) {
      let run = 1;
      while (index + run < rowEnd && run < 128 && at(index + run) === at(index)) run++;
      if (run >= 2) {
        out[length++] = 257 - run;
        out[length++] = at(index);
        index += run;
        continue;
      }
      // A literal stretch ends where a run of at least 2 begins (a run of 2 costs no more than a literal of 2).
      let literalEnd = index + 1;
      while (literalEnd < rowEnd && literalEnd - index < 128 && !(literalEnd + 1 < rowEnd && at(literalEnd) === at(literalEnd + 1))) {
        literalEnd++;
      }
      out[length++] = literalEnd - index - 1;
      for (let i = index; i < literalEnd; i++) out[length++] = at(i);
      index = literalEnd;
    }
  }
  if (length % 2 === 1) out[length++] = 0x80; // pad with a no-op so the next segment starts on an even offset
  return out.slice(0, length);
}
