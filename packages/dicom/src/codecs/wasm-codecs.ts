// Lazy loading of the WebAssembly codecs. Each module is compiled on first use, once per process: importing
// @loire/dicom costs nothing, and a process that never transcodes never loads a codec.
import { createRequire } from 'node:module';
import { CodecError } from './codec-error.js';

const require = createRequire(import.meta.url);

/** Frame description used by the Cornerstone codecs (embind value object). */
export interface WasmFrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned?: boolean;
  isUsingColorTransform?: boolean;
}

/** The common shape of the Cornerstone decoders (embind classes: free them with delete()). */
export interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getDecodedBuffer(): Uint8Array;
  getFrameInfo(): WasmFrameInfo;
  delete(): void;
}

export interface JpegLsDecoder extends WasmDecoder {
  getInterleaveMode(): number;
  getNearLossless(): number;
}

/** The common shape of the Cornerstone encoders. */
export interface WasmEncoder {
  getDecodedBuffer(frameInfo: WasmFrameInfo): Uint8Array;
  encode(): void;
  getEncodedBuffer(): Uint8Array;
  delete(): void;
}

export interface JpegLsEncoder extends WasmEncoder {
  setNearLossless(nearLossless: number): void;
  setInterleaveMode(mode: number): void;
}

export interface J2kEncoder extends WasmEncoder {
  setQuality(lossless: boolean, quality: number): void;
  setProgressionOrder(order: number): void;
}

export interface Htj2kEncoder extends WasmEncoder {
  setQuality(reversible: boolean, quantizationStep: number): void;
  setProgressionOrder(order: number): void;
  setTLMMarker(enabled: boolean): void;
  setTilePartDivisionsAtResolutions(enabled: boolean): void;
}

export interface LibJpegTurboModule {
  JPEGDecoder: new () => WasmDecoder;
}
export interface CharlsModule {
  JpegLSDecoder: new () => JpegLsDecoder;
  JpegLSEncoder: new () => JpegLsEncoder;
}
export interface OpenJpegModule {
  J2KDecoder: new () => WasmDecoder;
  J2KEncoder: new () => J2kEncoder;
}
export interface OpenJphModule {
  HTJ2KDecoder: new () => WasmDecoder;
  HTJ2KEncoder: new () => Htj2kEncoder;
}

/** The part of dcmjs-codecs used here: its DCMTK/IJG JPEG codec, the one that reads 12-bit and lossless JPEG. */
export interface DcmjsContext {
  getDecodedBuffer(): Uint8Array;
  getPhotometricInterpretation(): string | undefined;
  getPlanarConfiguration(): number | undefined;
}
export interface DcmjsContextAttributes {
  width: number;
  height: number;
  bitsAllocated: number;
  bitsStored: number;
  samplesPerPixel: number;
  pixelRepresentation: number;
  planarConfiguration: number;
  photometricInterpretation: string;
  encodedBuffer: Uint8Array;
}
export interface DcmjsCodecs {
  Context: new (attributes: DcmjsContextAttributes) => DcmjsContext;
  NativeCodecs: {
    initializeAsync(options: { webAssemblyModulePathOrUrl: string; logCodecsInfo?: boolean; logCodecsTrace?: boolean }): Promise<void>;
    decodeJpeg(context: DcmjsContext, parameters: { convertColorspaceToRgb: boolean }): DcmjsContext;
  };
}

type EmscriptenFactory<T> = (options: { print: (text: string) => void; printErr: (text: string) => void }) => Promise<T>;

/**
 * Options of an Emscripten module: it becomes the module object itself, so each module needs its own. The codec
 * libraries print progress to stdout; a server keeps its stdout for its own log.
 */
function quietModuleOptions(): { print: (text: string) => void; printErr: (text: string) => void } {
  return { print: () => undefined, printErr: () => undefined };
}

function once<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    loading ??= load().catch((error: unknown) => {
      loading = undefined; // a failed load may succeed later (e.g. after the package is reinstalled)
      throw error;
    });
    return loading;
  };
}

function loadEmscripten<T>(moduleId: string): () => Promise<T> {
  return once(async () => {
    try {
      const factory = require(moduleId) as EmscriptenFactory<T>;
      return await factory(quietModuleOptions());
    } catch (error) {
      throw new CodecError(`Cannot load the pixel codec ${moduleId}: ${(error as Error).message}. Reinstall Loire's dependencies.`, 'unsupported');
    }
  });
}

export const loadLibJpegTurbo = loadEmscripten<LibJpegTurboModule>('@cornerstonejs/codec-libjpeg-turbo-8bit/wasmjs');
export const loadCharls = loadEmscripten<CharlsModule>('@cornerstonejs/codec-charls/wasmjs');
export const loadOpenJpeg = loadEmscripten<OpenJpegModule>('@cornerstonejs/codec-openjpeg/wasmjs');
export const loadOpenJph = loadEmscripten<OpenJphModule>('@cornerstonejs/codec-openjph/wasmjs');

export const loadDcmjsCodecs = once(async (): Promise<DcmjsCodecs> => {
  try {
    const codecs = require('dcmjs-codecs') as DcmjsCodecs;
    await codecs.NativeCodecs.initializeAsync({
      webAssemblyModulePathOrUrl: require.resolve('dcmjs-codecs/build/dcmjs-native-codecs.wasm'),
      logCodecsInfo: false,
      logCodecsTrace: false,
    });
    return codecs;
  } catch (error) {
    throw new CodecError(`Cannot load the JPEG codec dcmjs-codecs: ${(error as Error).message}. Reinstall Loire's dependencies.`, 'unsupported');
  }
});

/** Runs one Cornerstone decoder on a frame and copies its output out of WebAssembly memory. */
export function runDecoder<D extends WasmDecoder>(decoder: D, frame: Uint8Array, read?: (decoder: D) => void): { pixels: Uint8Array; frameInfo: WasmFrameInfo } {
  try {
    decoder.getEncodedBuffer(frame.byteLength).set(frame);
    decoder.decode();
    read?.(decoder);
    const decoded = decoder.getDecodedBuffer();
    const pixels = new Uint8Array(decoded.byteLength);
    pixels.set(decoded);
    return { pixels, frameInfo: decoder.getFrameInfo() };
  } finally {
    decoder.delete();
  }
}

/** Runs one Cornerstone encoder on native interleaved pixels and copies the codestream out. */
export function runEncoder<E extends WasmEncoder>(encoder: E, pixels: Uint8Array, frameInfo: WasmFrameInfo, configure: (encoder: E) => void): Uint8Array {
  try {
    configure(encoder);
    const input = encoder.getDecodedBuffer(frameInfo);
    if (input.byteLength !== pixels.byteLength) {
      throw new CodecError(`The frame holds ${pixels.byteLength} bytes, but its attributes describe ${input.byteLength}`);
    }
    input.set(pixels);
    encoder.encode();
    const encoded = encoder.getEncodedBuffer();
    const codestream = new Uint8Array(encoded.byteLength);
    codestream.set(encoded);
    return codestream;
  } finally {
    encoder.delete();
  }
}
