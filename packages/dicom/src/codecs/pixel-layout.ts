// Rearranging decoded samples into the layout Loire serves: little-endian, samples interleaved, one container
// per sample of Bits Allocated bits, signed values sign-extended over the whole container.
import { CodecError } from './codec-error.js';

/** The Image Pixel attributes (PS3.3 C.7.6.3) that describe a frame. */
export interface PixelFormat {
  readonly rows: number;
  readonly columns: number;
  readonly samplesPerPixel: number;
  readonly bitsAllocated: number;
  readonly bitsStored: number;
  /** 0 unsigned, 1 two's complement. */
  readonly pixelRepresentation: number;
  /** 0 colour-by-pixel, 1 colour-by-plane; meaningless when Samples per Pixel is 1. */
  readonly planarConfiguration: number;
  readonly photometricInterpretation: string;
}

export function frameByteLength(format: PixelFormat): number {
  return Math.ceil((format.rows * format.columns * format.samplesPerPixel * format.bitsAllocated) / 8);
}

/** Colour-by-plane (RRR…GGG…BBB…) to colour-by-pixel (RGBRGB…). */
export function planarToInterleaved(planar: Uint8Array, pixelCount: number, samples: number, bytesPerSample: number): Uint8Array {
  const interleaved = new Uint8Array(planar.byteLength);
  const planeLength = pixelCount * bytesPerSample;
  for (let sample = 0; sample < samples; sample++) {
    for (let pixel = 0; pixel < pixelCount; pixel++) {
      const from = sample * planeLength + pixel * bytesPerSample;
      const to = (pixel * samples + sample) * bytesPerSample;
      for (let byte = 0; byte < bytesPerSample; byte++) interleaved[to + byte] = planar[from + byte]!;
    }
  }
  return interleaved;
}

/** Reverses the byte order of every sample (Explicit VR Big Endian OW to little endian). */
export function swapBytes(data: Uint8Array, bytesPerSample: number): Uint8Array {
  if (bytesPerSample <= 1) return data;
  const swapped = new Uint8Array(data.byteLength);
  for (let start = 0; start + bytesPerSample <= data.byteLength; start += bytesPerSample) {
    for (let byte = 0; byte < bytesPerSample; byte++) swapped[start + byte] = data[start + bytesPerSample - 1 - byte]!;
  }
  return swapped;
}

/**
 * Puts the samples a codec produced (1 or 2 bytes each) into containers of Bits Allocated bits, and sign-extends
 * signed values stored on fewer bits, so that every decoder gives the same bytes for the same image.
 */
export function fitSamples(samples: Uint8Array, codecBytesPerSample: number, format: PixelFormat): Uint8Array {
  const containerBytes = format.bitsAllocated / 8;
  const sampleCount = format.rows * format.columns * format.samplesPerPixel;
  if (samples.byteLength !== sampleCount * codecBytesPerSample) {
    throw new CodecError(
      `The decoded frame holds ${samples.byteLength} bytes, but ${format.rows} rows x ${format.columns} columns x ` +
      `${format.samplesPerPixel} samples need ${sampleCount * codecBytesPerSample}: the image attributes disagree with the compressed data`,
    );
  }
  let fitted = samples;
  if (codecBytesPerSample !== containerBytes) {
    if (codecBytesPerSample > containerBytes || containerBytes > 4) {
      throw new CodecError(`The compressed data holds ${codecBytesPerSample * 8}-bit samples, more than Bits Allocated (${format.bitsAllocated})`);
    }
    fitted = new Uint8Array(sampleCount * containerBytes);
    for (let i = 0; i < sampleCount; i++) {
      for (let byte = 0; byte < codecBytesPerSample; byte++) fitted[i * containerBytes + byte] = samples[i * codecBytesPerSample + byte]!;
    }
  }
  if (format.pixelRepresentation === 1 && format.bitsStored < format.bitsAllocated) {
    if (fitted === samples) fitted = samples.slice(); // never write into the caller's buffer
    signExtend(fitted, containerBytes, format.bitsStored);
  }
  return fitted;
}

function signExtend(data: Uint8Array, containerBytes: number, bitsStored: number): void {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const count = data.byteLength / containerBytes;
  const shift = 32 - bitsStored;
  for (let i = 0; i < count; i++) {
    const at = i * containerBytes;
    if (containerBytes === 1) view.setInt8(at, ((view.getUint8(at) << shift) >> shift));
    else if (containerBytes === 2) view.setInt16(at, (view.getUint16(at, true) << shift) >> shift, true);
    else view.setInt32(at, (view.getUint32(at, true) << shift) >> shift, true);
  }
}
