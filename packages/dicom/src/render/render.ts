// From decoded pixels to an 8-bit image a screen can show: the grayscale pipeline of PS3.4 N.2
// (Modality LUT → VOI LUT → Presentation LUT) and colour conversion for RGB, YBR and palette images.
import type { PixelFormat } from '../codecs/pixel-layout.js';
import type { RenderAttributes, VoiLutFunction, WindowLevel } from './attributes.js';
import { lookUp, type LookupTable } from './lut.js';

export interface RenderedImage {
  readonly columns: number;
  readonly rows: number;
  /** 1 grey, 3 RGB (interleaved). */
  readonly channels: 1 | 3;
  readonly data: Uint8Array;
}

export interface RenderOptions {
  /** Overrides the object's own VOI (e.g. a `window` query parameter). */
  readonly window?: WindowLevel;
}

export interface DecodedPixels {
  /** Native little-endian samples, colour-by-pixel (as decodeFrame gives them). */
  readonly pixels: Uint8Array;
  /** Photometric Interpretation of `pixels` (a codec may have converted YBR to RGB). */
  readonly photometricInterpretation: string;
}

export class RenderError extends Error {
  override readonly name = 'RenderError';
}

/** Renders one decoded frame. */
export function renderFrame(frame: DecodedPixels, attributes: RenderAttributes, options: RenderOptions = {}): RenderedImage {
  const { format } = attributes;
  const photometric = frame.photometricInterpretation.toUpperCase();
  if (format.samplesPerPixel === 1 && (photometric === 'MONOCHROME1' || photometric === 'MONOCHROME2')) {
    return renderGrayscale(frame.pixels, attributes, photometric, options);
  }
  if (format.samplesPerPixel === 1 && photometric === 'PALETTE COLOR') return renderPalette(frame.pixels, attributes);
  if (format.samplesPerPixel === 3) return renderColour(frame.pixels, format, photometric);
  throw new RenderError(`Loire cannot render Photometric Interpretation ${photometric} with ${format.samplesPerPixel} samples per pixel`);
}

/** Stored pixel values: high bits beyond Bits Stored masked off, sign-extended when Pixel Representation is signed. */
export function storedValues(pixels: Uint8Array, format: PixelFormat, samplesPerPixel = format.samplesPerPixel): Int32Array {
  const count = format.rows * format.columns * samplesPerPixel;
  const out = new Int32Array(count);
  const { bitsAllocated, bitsStored } = format;
  const signed = format.pixelRepresentation === 1;
  if (bitsAllocated === 1) {
    // PS3.5 8.1.1: bit-packed, first pixel in the least significant bit of the first byte.
    if (pixels.byteLength * 8 < count) throw new RenderError(`the frame holds ${pixels.byteLength * 8} bits for ${count} pixels`);
    for (let i = 0; i < count; i++) out[i] = (pixels[i >> 3]! >> (i & 7)) & 1;
    return out;
  }
  const bytes = bitsAllocated / 8;
  if (![1, 2, 4].includes(bytes)) throw new RenderError(`Loire cannot render ${bitsAllocated}-bit pixels`);
  if (!signed && bitsStored > 31) throw new RenderError('Loire cannot render unsigned pixels of more than 31 bits');
  if (pixels.byteLength < count * bytes) throw new RenderError(`the frame holds ${pixels.byteLength} bytes, its attributes need ${count * bytes}`);
  const view = new DataView(pixels.buffer, pixels.byteOffset, pixels.byteLength);
  const stored = Math.min(bitsStored, 32);
  const shift = 32 - stored;
  const mask = stored >= 32 ? 0xffffffff : (2 ** stored) - 1;
  for (let i = 0; i < count; i++) {
    const raw = bytes === 1 ? pixels[i]! : bytes === 2 ? view.getUint16(i * 2, true) : view.getUint32(i * 4, true);
    // Bits above Bits Stored may hold overlays or garbage (PS3.5 8.1.1): keep only the stored bits.
    out[i] = signed ? ((raw << shift) >> shift) : (stored >= 32 ? raw >>> 0 : (raw & mask) >>> 0);
  }
  return out;
}

/** Modality LUT output for a stored value (PS3.3 C.11.1). */
function modalityFunction(attributes: RenderAttributes): (stored: number) => number {
  const lut = attributes.modalityLut;
  if (lut) return (stored) => lookUp(lut, stored);
  const { slope, intercept } = attributes.rescale ?? { slope: 1, intercept: 0 };
  return (stored) => stored * slope + intercept;
}

/**
 * VOI output in [0, 1] for a modality value: the window functions of PS3.3 C.11.2.1.2 (LINEAR, LINEAR_EXACT, SIGMOID)
 * or a VOI LUT scaled by its entry range.
 */
export function windowFunction(window: WindowLevel): (x: number) => number {
  const { center: c, width: w } = window;
  switch (window.function) {
    case 'LINEAR': {
      // C.11.2.1.2.1: x <= c - 0.5 - (w-1)/2 → min; x > c - 0.5 + (w-1)/2 → max; else ((x - (c - 0.5)) / (w-1) + 0.5).
      const low = c - 0.5 - (w - 1) / 2;
      const high = c - 0.5 + (w - 1) / 2;
      return (x) => (x <= low ? 0 : x > high ? 1 : w <= 1 ? 1 : (x - (c - 0.5)) / (w - 1) + 0.5);
    }
    case 'LINEAR_EXACT':
      // C.11.2.1.3.2: x <= c - w/2 → min; x > c + w/2 → max; else (x - c) / w + 0.5.
      return (x) => (x <= c - w / 2 ? 0 : x > c + w / 2 ? 1 : (x - c) / w + 0.5);
    case 'SIGMOID':
      // C.11.2.1.3.1: 1 / (1 + exp(-4 (x - c) / w)).
      return (x) => 1 / (1 + Math.exp((-4 * (x - c)) / w));
  }
}

function voiLutFunction(lut: LookupTable): (x: number) => number {
  const max = 2 ** lut.bitsPerEntry - 1;
  return (x) => Math.min(1, lookUp(lut, x) / max);
}

/** The default VOI when the object proposes none: the frame's whole modality range, linearly (LINEAR_EXACT). */
function dataWindow(min: number, max: number): WindowLevel {
  return { center: (min + max) / 2, width: Math.max(max - min, Number.EPSILON), function: 'LINEAR_EXACT' };
}

function chooseVoi(attributes: RenderAttributes, options: RenderOptions, modalityMin: number, modalityMax: number): (x: number) => number {
  if (options.window) return windowFunction(options.window);
  const window = attributes.windows[0];
  if (window) return windowFunction(window);
  const lut = attributes.voiLuts[0];
  if (lut) return voiLutFunction(lut);
  return windowFunction(dataWindow(modalityMin, modalityMax));
}

/**
 * Whether the displayed grey must be inverted. MONOCHROME1 shows its minimum as white (PS3.3 C.7.6.3.1.2). A
 * Presentation LUT Shape of INVERSE inverts a MONOCHROME2 image; on MONOCHROME1 it is what the DX, MG and IO modules
 * require (C.8.11.6.1.2) and describes that same single inversion, so it is not applied twice.
 */
export function invertsGrey(photometric: string, shape: RenderAttributes['presentationLutShape']): boolean {
  if (photometric === 'MONOCHROME1') return true;
  return shape === 'INVERSE';
}

function renderGrayscale(pixels: Uint8Array, attributes: RenderAttributes, photometric: string, options: RenderOptions): RenderedImage {
  const { format } = attributes;
  const values = storedValues(pixels, format, 1);
  const modality = modalityFunction(attributes);
  const invert = invertsGrey(photometric, attributes.presentationLutShape);
  let minStored = Infinity;
  let maxStored = -Infinity;
  for (const v of values) {
    if (v < minStored) minStored = v;
    if (v > maxStored) maxStored = v;
  }
  if (values.length === 0) { minStored = 0; maxStored = 0; }
  // Range of the modality output over the stored values present (a Modality LUT need not be monotonic).
  let modalityMin = Infinity;
  let modalityMax = -Infinity;
  const span = maxStored - minStored;
  const useTable = span <= 65535;
  if (useTable) {
    for (let v = minStored; v <= maxStored; v++) {
      const m = modality(v);
      if (m < modalityMin) modalityMin = m;
      if (m > modalityMax) modalityMax = m;
    }
  } else {
    for (const v of [minStored, maxStored]) {
      const m = modality(v);
      modalityMin = Math.min(modalityMin, m);
      modalityMax = Math.max(modalityMax, m);
    }
  }
  const voi = chooseVoi(attributes, options, modalityMin, modalityMax);
  const grey = (stored: number): number => {
    const p = Math.round(voi(modality(stored)) * 255);
    return invert ? 255 - p : p;
  };
  const data = new Uint8Array(values.length);
  if (useTable) {
    // The whole pipeline is a function of the stored value: compute it once per distinct value.
    const table = new Uint8Array(span + 1);
    for (let v = minStored; v <= maxStored; v++) table[v - minStored] = grey(v);
    for (let i = 0; i < values.length; i++) data[i] = table[values[i]! - minStored]!;
  } else {
    for (let i = 0; i < values.length; i++) data[i] = grey(values[i]!);
  }
  return { columns: format.columns, rows: format.rows, channels: 1, data };
}

function paletteTo8Bits(lut: LookupTable): Uint8Array {
  const shift = Math.max(0, lut.bitsPerEntry - 8);
  return Uint8Array.from(lut.entries, (e) => Math.min(255, e >> shift));
}

/** PALETTE COLOR (PS3.3 C.7.6.3.1.5): each stored value indexes the red, green and blue tables. */
function renderPalette(pixels: Uint8Array, attributes: RenderAttributes): RenderedImage {
  const { format, palette } = attributes;
  if (!palette) throw new RenderError('a PALETTE COLOR image without Palette Color Lookup Tables cannot be rendered');
  const values = storedValues(pixels, { ...format, pixelRepresentation: 0 }, 1);
  const tables = [palette.red, palette.green, palette.blue].map((lut) => ({ lut, bytes: paletteTo8Bits(lut) }));
  const data = new Uint8Array(values.length * 3);
  for (let i = 0; i < values.length; i++) {
    for (let c = 0; c < 3; c++) {
      const { lut, bytes } = tables[c]!;
      const index = values[i]! - lut.firstMapped;
      data[i * 3 + c] = bytes[index < 0 ? 0 : index >= bytes.length ? bytes.length - 1 : index]!;
    }
  }
  return { columns: format.columns, rows: format.rows, channels: 3, data };
}

const clamp8 = (v: number): number => (v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v));

/** RGB and YBR images (PS3.3 C.7.6.3.1.2) to 8-bit RGB. */
function renderColour(pixels: Uint8Array, format: PixelFormat, photometric: string): RenderedImage {
  const values = storedValues(pixels, { ...format, pixelRepresentation: 0 }, 3);
  const shift = Math.max(0, format.bitsStored - 8);
  const data = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = Math.min(255, values[i]! >> shift);
  switch (photometric) {
    case 'RGB':
    case 'YBR_RCT': // codecs undo RCT/ICT, but an uncorrected attribute may still say so
    case 'YBR_ICT':
      break;
    case 'YBR_FULL':
    case 'YBR_FULL_422':
      for (let i = 0; i < data.length; i += 3) {
        const y = data[i]!;
        const cb = data[i + 1]! - 128;
        const cr = data[i + 2]! - 128;
        data[i] = clamp8(y + 1.402 * cr);
        data[i + 1] = clamp8(y - 0.344136 * cb - 0.714136 * cr);
        data[i + 2] = clamp8(y + 1.772 * cb);
      }
      break;
    case 'YBR_PARTIAL_422':
    case 'YBR_PARTIAL_420':
      // Y in 16..235, CbCr in 16..240 (ITU-R BT.601).
      for (let i = 0; i < data.length; i += 3) {
        const y = 1.164383 * (data[i]! - 16);
        const cb = data[i + 1]! - 128;
        const cr = data[i + 2]! - 128;
        data[i] = clamp8(y + 1.596027 * cr);
        data[i + 1] = clamp8(y - 0.391762 * cb - 0.812968 * cr);
        data[i + 2] = clamp8(y + 2.017232 * cb);
      }
      break;
    default:
      throw new RenderError(`Loire cannot render colour Photometric Interpretation ${photometric}`);
  }
  return { columns: format.columns, rows: format.rows, channels: 3, data };
}


