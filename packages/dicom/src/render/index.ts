// Rendering: decoded frames to 8-bit grey or RGB images through the PS3.4 N.2 pixel pipeline.
export {
  readRenderAttributes, parseVoiLutFunction,
  type ElementValueReader, type RenderAttributes, type VoiLutFunction, type WindowLevel,
} from './attributes.js';
export { expandSegmentedLut, lookUp, LutError, parseLutData, parseLutDescriptor, type LookupTable, type LutDescriptor } from './lut.js';
export {
  invertsGrey, renderFrame, RenderError, storedValues, windowFunction,
  type DecodedPixels, type RenderedImage, type RenderOptions,
} from './render.js';
