// Lossless encoding of one native frame: RLE (own), JPEG-LS (CharLS), JPEG 2000 (OpenJPEG), HTJ2K (OpenJPH).
import { transferSyntax } from '../uids.js';
import { CodecError } from './codec-error.js';
import { j2kUsesColorTransform } from './codestream-headers.js';
import { frameByteLength, planarToInterleaved, type PixelFormat } from './pixel-layout.js';
import { encodeRleFrame } from './rle.js';
import { loadCharls, loadOpenJpeg, loadOpenJph, runEncoder, type WasmFrameInfo } from './wasm-codecs.js';

export interface EncodedFrame {
  /** The compressed frame, to be written as one fragment (even length). */
  readonly data: Uint8Array;
  /** Photometric Interpretation to write with the compressed data (e.g. YBR_RCT when JPEG 2000 applied its colour transform). */
  readonly photometricInterpretation: string;
  /** Planar Configuration to write: 1 for colour RLE (PS3.5 G.2), 0 otherwise. */
  readonly planarConfiguration: number;
}

type FrameEncoder = (pixels: Uint8Array, format: PixelFormat) => Promise<EncodedFrame>;

const ENCODERS: Readonly<Record<string, FrameEncoder>> = {
  RLELossless: encodeRle,
  JPEGLSLossless: encodeJpegLsLossless,
  JPEG2000Lossless: encodeJpeg2000Lossless,
  HTJ2KLossless: (pixels, format) => encodeHtj2kLossless(pixels, format, false),
  HTJ2KLosslessRPCL: (pixels, format) => encodeHtj2kLossless(pixels, format, true),
};

export function canEncode(transferSyntaxUid: string): boolean {
  const keyword = transferSyntax(transferSyntaxUid)?.keyword;
  return keyword !== undefined && keyword in ENCODERS;
}

/**
 * Encodes one frame of native little-endian pixels (as decodeFrame gives them; colour-by-plane input is accepted
 * when format.planarConfiguration is 1). Every encoder here is lossless.
 */
export async function encodeFrame(transferSyntaxUid: string, pixels: Uint8Array, format: PixelFormat): Promise<EncodedFrame> {
  const syntax = transferSyntax(transferSyntaxUid);
  const encoder = syntax ? ENCODERS[syntax.keyword] : undefined;
  if (!syntax || !encoder) {
    throw new CodecError(`Loire cannot encode pixel data in transfer syntax ${syntax ? `${syntax.name} (${transferSyntaxUid})` : transferSyntaxUid}`, 'unsupported');
  }
  if (format.bitsAllocated !== 8 && format.bitsAllocated !== 16) {
    throw new CodecError(`Loire encodes ${syntax.name} for 8- and 16-bit samples only, not Bits Allocated ${format.bitsAllocated}`, 'unsupported');
  }
  const expected = frameByteLength(format);
  if (pixels.byteLength !== expected) {
    throw new CodecError(`The frame holds ${pixels.byteLength} bytes, but its image attributes describe ${expected}`);
  }
  const interleaved = format.planarConfiguration === 1 && format.samplesPerPixel > 1
    ? planarToInterleaved(pixels, format.rows * format.columns, format.samplesPerPixel, format.bitsAllocated / 8)
    : pixels;
  try {
    const encoded = await encoder(interleaved, format);
    return { ...encoded, data: padToEven(encoded.data) };
  } catch (error) {
    if (error instanceof CodecError) throw error;
    const detail = error instanceof Error ? error.message : String(error);
    throw new CodecError(`Cannot encode a ${format.rows}x${format.columns} ${format.bitsStored}-bit frame as ${syntax.name}: ${detail}`);
  }
}

function padToEven(data: Uint8Array): Uint8Array {
  if (data.byteLength % 2 === 0) return data;
  const padded = new Uint8Array(data.byteLength + 1);
  padded.set(data);
  return padded;
}

async function encodeRle(pixels: Uint8Array, format: PixelFormat): Promise<EncodedFrame> {
  return {
    data: encodeRleFrame(pixels, format),
    photometricInterpretation: format.photometricInterpretation,
    planarConfiguration: format.samplesPerPixel > 1 ? 1 : 0,
  };
}

function wasmFrameInfo(format: PixelFormat, isSigned: boolean): WasmFrameInfo {
  return {
    width: format.columns,
    height: format.rows,
    bitsPerSample: format.bitsStored,
    componentCount: format.samplesPerPixel,
    isSigned,
    // The JPEG 2000 component transform is for RGB only (PS3.5 8.2.4); YBR data is already decorrelated.
    isUsingColorTransform: format.samplesPerPixel === 3 && format.photometricInterpretation === 'RGB',
  };
}

/**
 * Samples as the codec must see them: only Bits Stored bits. Signed values keep their two's complement bits
 * (JPEG-LS has no sign: DICOM stores the raw bits and the decoder sign-extends them back).
 */
function storedBitsOnly(pixels: Uint8Array, format: PixelFormat): Uint8Array {
  if (format.bitsStored >= format.bitsAllocated) return pixels;
  const masked = new Uint8Array(pixels);
  const mask = (1 << format.bitsStored) - 1;
  if (format.bitsAllocated === 8) {
    for (let i = 0; i < masked.length; i++) masked[i]! &= mask;
  } else {
    const view = new DataView(masked.buffer);
    for (let at = 0; at < masked.byteLength; at += 2) view.setUint16(at, view.getUint16(at, true) & mask, true);
  }
  return masked;
}

const JPEG_LS_INTERLEAVE_SAMPLE = 2;

async function encodeJpegLsLossless(pixels: Uint8Array, format: PixelFormat): Promise<EncodedFrame> {
  const codec = await loadCharls();
  const data = runEncoder(new codec.JpegLSEncoder(), storedBitsOnly(pixels, format), wasmFrameInfo(format, false), (encoder) => {
    encoder.setNearLossless(0);
    if (format.samplesPerPixel > 1) encoder.setInterleaveMode(JPEG_LS_INTERLEAVE_SAMPLE);
  });
  return { data, photometricInterpretation: format.photometricInterpretation, planarConfiguration: 0 };
}

async function encodeJpeg2000Lossless(pixels: Uint8Array, format: PixelFormat): Promise<EncodedFrame> {
  if (format.samplesPerPixel === 3 && format.photometricInterpretation !== 'RGB') {
    // OpenJPEG applies its RGB component transform to any three-component image; on YBR samples that gives a
    // codestream no Photometric Interpretation describes.
    throw new CodecError(
      `Loire encodes JPEG 2000 colour images from RGB only, not ${format.photometricInterpretation}: choose JPEG-LS or HTJ2K for these`,
      'unsupported',
    );
  }
  const codec = await loadOpenJpeg();
  const isSigned = format.pixelRepresentation === 1;
  const data = runEncoder(new codec.J2KEncoder(), pixels, wasmFrameInfo(format, isSigned), (encoder) => {
    encoder.setQuality(true, 0);
  });
  return { data, photometricInterpretation: j2kPhotometric(data, format), planarConfiguration: 0 };
}

const RPCL = 2;

/** HTJ2K lossless; with RPCL options (4.202): RPCL progression, a TLM marker and tile-parts per resolution (PS3.5 A.4.7). */
async function encodeHtj2kLossless(pixels: Uint8Array, format: PixelFormat, rpclOptions: boolean): Promise<EncodedFrame> {
  const codec = await loadOpenJph();
  const isSigned = format.pixelRepresentation === 1;
  const data = runEncoder(new codec.HTJ2KEncoder(), pixels, wasmFrameInfo(format, isSigned), (encoder) => {
    encoder.setQuality(true, 0);
    if (rpclOptions) {
      encoder.setProgressionOrder(RPCL);
      encoder.setTLMMarker(true);
      encoder.setTilePartDivisionsAtResolutions(true);
    }
  });
  return { data, photometricInterpretation: j2kPhotometric(data, format), planarConfiguration: 0 };
}

/** RGB input compressed with the reversible component transform must be labelled YBR_RCT (PS3.5 8.2.4). */
function j2kPhotometric(codestream: Uint8Array, format: PixelFormat): string {
  return format.samplesPerPixel === 3 && j2kUsesColorTransform(codestream) ? 'YBR_RCT' : format.photometricInterpretation;
}
