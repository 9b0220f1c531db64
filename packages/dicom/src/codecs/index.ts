// Pixel data codecs: frame splitting, decoding to native pixels, lossless encoding.
export { CodecError, type CodecErrorReason } from './codec-error.js';
export {
  readEncapsulatedPixelData, splitEncapsulatedFrames, nativeFrame, nativeFrameBits, nativeFrameCount, nativeFrameLength,
  type EncapsulatedPixelData, type Fragment, type FrameSplitOptions, type NativeFrameGeometry,
} from './frames.js';
export { decodeFrame, canDecode, decodableTransferSyntaxes, type DecodedFrame } from './decode.js';
export { encodeFrame, canEncode, type EncodedFrame } from './encode.js';
export { frameByteLength, type PixelFormat } from './pixel-layout.js';
export { decodeRleFrame, encodeRleFrame, type RleGeometry } from './rle.js';
