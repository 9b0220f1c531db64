// Decoding one frame of any supported transfer syntax into native pixels.
import { inflateRawSync, inflateSync } from 'node:zlib';
import { allTransferSyntaxes, transferSyntax } from '../uids.js';
import { CodecError } from './codec-error.js';
import { j2kUsesColorTransform, readJpegFrameHeader } from './codestream-headers.js';
import { planJpegColorConversion } from './jpeg-color-space.js';
import { fitSamples, frameByteLength, planarToInterleaved, swapBytes, type PixelFormat } from './pixel-layout.js';
import { decodeRleFrame } from './rle.js';
import {
  loadCharls, loadDcmjsCodecs, loadLibJpegTurbo, loadOpenJpeg, loadOpenJph, runDecoder, type WasmFrameInfo,
} from './wasm-codecs.js';

export interface DecodedFrame {
  /** Native little-endian pixels, samples interleaved (colour-by-pixel), signed values sign-extended. */
  readonly pixels: Uint8Array;
  /** Photometric Interpretation of `pixels`: codecs that undo a colour transform give RGB (e.g. YBR_FULL_422 JPEG). */
  readonly photometricInterpretation: string;
  /** Always 0: `pixels` are colour-by-pixel. */
  readonly planarConfiguration: number;
}

type FrameDecoder = (frame: Uint8Array, format: PixelFormat) => Promise<DecodedFrame>;

/** Decoders by transfer syntax keyword (PS3.6 Table A-1). */
const DECODERS: Readonly<Record<string, FrameDecoder>> = {
  ImplicitVRLittleEndian: decodeNative,
  ExplicitVRLittleEndian: decodeNative,
  DeflatedExplicitVRLittleEndian: decodeNative, // the data set is deflated, not the frames: Pixel Data is native once read
  ExplicitVRBigEndian: decodeNativeBigEndian,
  DeflatedImageFrameCompression: decodeDeflatedFrame,
  RLELossless: decodeRle,
  JPEGBaseline8Bit: decodeJpeg,
  JPEGExtended12Bit: decodeJpeg,
  JPEGLossless: decodeJpeg,
  JPEGLosslessSV1: decodeJpeg,
  JPEGLSLossless: decodeJpegLs,
  JPEGLSNearLossless: decodeJpegLs,
  JPEG2000Lossless: decodeJpeg2000,
  JPEG2000: decodeJpeg2000,
  HTJ2KLossless: decodeHtj2k,
  HTJ2KLosslessRPCL: decodeHtj2k,
  HTJ2K: decodeHtj2k,
};

/** Whether Loire can decode frames of this transfer syntax. */
export function canDecode(transferSyntaxUid: string): boolean {
  const keyword = transferSyntax(transferSyntaxUid)?.keyword;
  return keyword !== undefined && keyword in DECODERS;
}

/** Transfer syntaxes Loire can decode (and so transcode from). */
export function decodableTransferSyntaxes(): string[] {
  return allTransferSyntaxes().filter((syntax) => syntax.keyword in DECODERS).map((syntax) => syntax.uid);
}

/**
 * Decodes one frame (as given by splitEncapsulatedFrames or nativeFrame) into native pixels. The codec of the
 * transfer syntax is loaded on first use.
 */
export async function decodeFrame(transferSyntaxUid: string, frame: Uint8Array, format: PixelFormat): Promise<DecodedFrame> {
  const syntax = transferSyntax(transferSyntaxUid);
  const decoder = syntax ? DECODERS[syntax.keyword] : undefined;
  if (!syntax || !decoder) {
    throw new CodecError(`Loire cannot decode pixel data of transfer syntax ${syntax ? `${syntax.name} (${transferSyntaxUid})` : transferSyntaxUid}`, 'unsupported');
  }
  try {
    return await decoder(frame, format);
  } catch (error) {
    if (error instanceof CodecError) throw error;
    // Emscripten codecs throw numbers or strings on C++ exceptions.
    const detail = error instanceof Error ? error.message : String(error);
    throw new CodecError(`Cannot decode a ${syntax.name} frame (${format.rows}x${format.columns}, ${format.bitsStored} bits): ${detail}`);
  }
}

function keep(format: PixelFormat, pixels: Uint8Array, photometricInterpretation = format.photometricInterpretation): DecodedFrame {
  return { pixels, photometricInterpretation, planarConfiguration: 0 };
}

function interleaveIfPlanar(pixels: Uint8Array, format: PixelFormat, isPlanar: boolean): Uint8Array {
  if (!isPlanar || format.samplesPerPixel === 1) return pixels;
  return planarToInterleaved(pixels, format.rows * format.columns, format.samplesPerPixel, Math.max(1, format.bitsAllocated / 8));
}

function checkNativeLength(frame: Uint8Array, format: PixelFormat): Uint8Array {
  const expected = frameByteLength(format);
  if (frame.byteLength < expected) {
    throw new CodecError(`The native frame holds ${frame.byteLength} bytes, less than the ${expected} its image attributes describe`);
  }
  return frame.subarray(0, expected);
}

/** Native frames are returned as they are (a view, no copy) unless they need interleaving or sign extension. */
async function decodeNative(frame: Uint8Array, format: PixelFormat): Promise<DecodedFrame> {
  return keep(format, normalizeNative(checkNativeLength(frame, format), format));
}

async function decodeNativeBigEndian(frame: Uint8Array, format: PixelFormat): Promise<DecodedFrame> {
  const pixels = checkNativeLength(frame, format);
  const littleEndian = format.bitsAllocated > 8 ? swapBytes(pixels, format.bitsAllocated / 8) : pixels;
  return keep(format, normalizeNative(littleEndian, format));
}

function normalizeNative(pixels: Uint8Array, format: PixelFormat): Uint8Array {
  const interleaved = interleaveIfPlanar(pixels, format, format.planarConfiguration === 1);
  if (format.bitsAllocated % 8 !== 0) return interleaved; // 1-bit data stays packed
  return fitSamples(interleaved, format.bitsAllocated / 8, format);
}

/** CP-2157: each frame is a raw deflate stream (RFC 1951) of the native frame. */
async function decodeDeflatedFrame(frame: Uint8Array, format: PixelFormat): Promise<DecodedFrame> {
  const looksLikeZlib = frame.length > 2 && (frame[0]! & 0x0f) === 8 && ((frame[0]! << 8) | frame[1]!) % 31 === 0;
  let inflated: Uint8Array;
  try {
    inflated = looksLikeZlib ? inflateSync(frame) : inflateRawSync(frame);
  } catch (error) {
    throw new CodecError(`The deflated frame is corrupt: ${(error as Error).message}`);
  }
  return decodeNative(inflated, format);
}

async function decodeRle(frame: Uint8Array, format: PixelFormat): Promise<DecodedFrame> {
  const pixels = decodeRleFrame(frame, format);
  return keep(format, fitSamples(pixels, format.bitsAllocated / 8, format));
}

function codecBytesPerSample(frameInfo: WasmFrameInfo): number {
  return frameInfo.bitsPerSample <= 8 ? 1 : 2;
}

/**
 * Checks the codestream's geometry against the image attributes. A codestream smaller than Rows x Columns (edge tiles
 * of some whole-slide images are encoded cropped) is placed top-left in a zero-filled frame of the declared size.
 */
function fitFrameSize(pixels: Uint8Array, frameInfo: WasmFrameInfo, bytesPerSample: number, format: PixelFormat): Uint8Array {
  const { width, height, componentCount } = frameInfo;
  if (componentCount !== format.samplesPerPixel || width > format.columns || height > format.rows) {
    throw new CodecError(
      `The compressed frame is ${width}x${height} with ${componentCount} components, but the image attributes say ` +
      `${format.columns}x${format.rows} with ${format.samplesPerPixel} samples per pixel`,
    );
  }
  if (width === format.columns && height === format.rows) return pixels;
  const rowBytes = width * componentCount * bytesPerSample;
  const frameRowBytes = format.columns * componentCount * bytesPerSample;
  const padded = new Uint8Array(frameRowBytes * format.rows);
  for (let row = 0; row < height; row++) padded.set(pixels.subarray(row * rowBytes, (row + 1) * rowBytes), row * frameRowBytes);
  return padded;
}

/** 8-bit lossy JPEG goes to libjpeg-turbo; 12-bit, 16-bit and lossless JPEG to the IJG codec of DCMTK (dcmjs-codecs). */
async function decodeJpeg(frame: Uint8Array, format: PixelFormat): Promise<DecodedFrame> {
  const header = readJpegFrameHeader(frame);
  const isLossless = header.process === 0xc3 || header.process === 0xc7 || header.process === 0xcb || header.process === 0xcf;
  if (header.precision === 8 && !isLossless) {
    const plan = format.samplesPerPixel === 3 ? planJpegColorConversion(frame, format.photometricInterpretation) : undefined;
    const codec = await loadLibJpegTurbo();
    const { pixels, frameInfo } = runDecoder(new codec.JPEGDecoder(), plan?.stream ?? frame);
    return keep(format, fitSamples(fitFrameSize(pixels, frameInfo, 1, format), 1, format), plan?.photometricInterpretation);
  }
  const codecs = await loadDcmjsCodecs();
  const convertColorspaceToRgb = !isLossless && format.samplesPerPixel === 3 && format.photometricInterpretation.startsWith('YBR');
  const context = codecs.NativeCodecs.decodeJpeg(
    new codecs.Context({
      width: format.columns,
      height: format.rows,
      bitsAllocated: format.bitsAllocated,
      bitsStored: format.bitsStored,
      samplesPerPixel: format.samplesPerPixel,
      pixelRepresentation: format.pixelRepresentation,
      planarConfiguration: format.planarConfiguration,
      photometricInterpretation: format.photometricInterpretation,
      encodedBuffer: frame,
    }),
    { convertColorspaceToRgb },
  );
  const decoded = context.getDecodedBuffer();
  const pixels = interleaveIfPlanar(decoded, format, context.getPlanarConfiguration() === 1);
  const photometric = convertColorspaceToRgb ? 'RGB' : format.photometricInterpretation;
  return keep(format, fitSamples(pixels, format.bitsAllocated / 8, format), photometric);
}

const JPEG_LS_INTERLEAVE_NONE = 0;

async function decodeJpegLs(frame: Uint8Array, format: PixelFormat): Promise<DecodedFrame> {
  const codec = await loadCharls();
  let interleaveMode = JPEG_LS_INTERLEAVE_NONE;
  const { pixels, frameInfo } = runDecoder(new codec.JpegLSDecoder(), frame, (decoder) => {
    interleaveMode = decoder.getInterleaveMode();
  });
  const bytes = codecBytesPerSample(frameInfo);
  const interleaved = frameInfo.componentCount > 1 && interleaveMode === JPEG_LS_INTERLEAVE_NONE
    ? planarToInterleaved(pixels, frameInfo.width * frameInfo.height, frameInfo.componentCount, bytes)
    : pixels;
  return keep(format, fitSamples(fitFrameSize(interleaved, frameInfo, bytes, format), bytes, format));
}

async function decodeJpeg2000(frame: Uint8Array, format: PixelFormat): Promise<DecodedFrame> {
  const codec = await loadOpenJpeg();
  const { pixels, frameInfo } = runDecoder(new codec.J2KDecoder(), frame);
  return j2kResult(frame, pixels, frameInfo, format);
}

async function decodeHtj2k(frame: Uint8Array, format: PixelFormat): Promise<DecodedFrame> {
  const codec = await loadOpenJph();
  const { pixels, frameInfo } = runDecoder(new codec.HTJ2KDecoder(), frame);
  return j2kResult(frame, pixels, frameInfo, format);
}

function j2kResult(frame: Uint8Array, pixels: Uint8Array, frameInfo: WasmFrameInfo, format: PixelFormat): DecodedFrame {
  const bytes = codecBytesPerSample(frameInfo);
  const fitted = fitSamples(fitFrameSize(pixels, frameInfo, bytes, format), bytes, format);
  // The decoder undoes the reversible or irreversible component transform (YBR_RCT / YBR_ICT): the result is RGB.
  const colourTransformed = format.samplesPerPixel === 3 && j2kUsesColorTransform(frame);
  return keep(format, fitted, colourTransformed ? 'RGB' : format.photometricInterpretation);
}
