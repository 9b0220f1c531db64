// Rendered images of stored instances (DICOMweb rendered/thumbnail resources, WADO-URI): one frame
// through the pixel pipeline of @loire/dicom, then region, scaling and encoding with sharp.
import sharp from 'sharp';
import {
  CodecError, LutError, readRenderAttributes, RenderError, renderFrame, TranscodeError,
  type RenderedImage, type WindowLevel,
} from '@loire/dicom';
import type { FrameSource, StoredInstance } from './stored-instance.js';

export const RENDERED_IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/gif'] as const;
export type RenderedImageType = (typeof RENDERED_IMAGE_TYPES)[number];

/** A rectangle of the source image in pixels; a negative width or height flips the image on that axis. */
export interface SourceRegion {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface OutputOptions {
  readonly type: RenderedImageType;
  /** 1-100, for JPEG; default 90. */
  readonly quality?: number;
  readonly region?: SourceRegion;
  /** The largest size wanted; the aspect ratio is kept. */
  readonly maxWidth?: number;
  readonly maxHeight?: number;
  /** Whether an image smaller than the maximum size is scaled up (false for thumbnails). */
  readonly enlarge?: boolean;
}

/** A request that cannot be honoured for this image (e.g. a region outside it): the client's mistake. */
export class RenderRequestError extends Error {
  override readonly name = 'RenderRequestError';
}

/** The stored data cannot be rendered (unsupported encoding, inconsistent attributes). */
export class UnrenderableError extends Error {
  override readonly name = 'UnrenderableError';
}

export const ENCAPSULATED_PDF = '1.2.840.10008.5.1.4.1.1.104.1';
const ENCAPSULATED_DOCUMENT = 0x00420011;
const ENCAPSULATED_DOCUMENT_LENGTH = 0x00420015;

/**
 * The document of an encapsulated document object (PS3.3 C.24.2), without the pad byte an odd length needs when
 * Encapsulated Document Length says so; undefined when the object has none.
 */
export async function encapsulatedDocument(instance: StoredInstance): Promise<Uint8Array | undefined> {
  const element = instance.dataset.get(ENCAPSULATED_DOCUMENT);
  const bytes = element?.value ?? (element?.position ? await instance.readBulk(element.position) : undefined);
  if (!bytes) return undefined;
  const length = instance.dataset.number(ENCAPSULATED_DOCUMENT_LENGTH);
  return length !== undefined && length <= bytes.byteLength ? bytes.subarray(0, length) : bytes;
}

/** Renders frame `index` (0-based) of an instance to 8-bit grey or RGB. */
export async function renderStoredFrame(
  instance: StoredInstance, frames: FrameSource, index: number, window?: WindowLevel,
): Promise<RenderedImage> {
  try {
    const decoded = await frames.decodedFrame(index);
    const attributes = await readRenderAttributes(instance.dataset, frames.format, index,
      async (element) => (element.position ? instance.readBulk(element.position) : undefined));
    return renderFrame(decoded, attributes, window ? { window } : {});
  } catch (error) {
    if (error instanceof CodecError || error instanceof RenderError || error instanceof LutError || error instanceof TranscodeError) {
      throw new UnrenderableError(`instance ${instance.record.sopInstanceUid} cannot be rendered: ${error.message}`);
    }
    throw error;
  }
}

/** Crops, flips, scales and encodes a rendered image. */
export async function encodeRendered(image: RenderedImage, options: OutputOptions): Promise<Buffer> {
  let pipeline = sharp(image.data, { raw: { width: image.columns, height: image.rows, channels: image.channels } });
  // Grey stays one channel in the output (libvips would otherwise widen it to sRGB).
  if (image.channels === 1) pipeline = pipeline.toColourspace('b-w');
  if (options.region) {
    const { x, y, width, height } = options.region;
    const left = width < 0 ? x + width : x;
    const top = height < 0 ? y + height : y;
    const w = Math.abs(width);
    const h = Math.abs(height);
    if (w === 0 || h === 0 || left < 0 || top < 0 || left + w > image.columns || top + h > image.rows) {
      throw new RenderRequestError(`the region ${x},${y},${width},${height} is not inside the ${image.columns}x${image.rows} image`);
    }
    if (left !== 0 || top !== 0 || w !== image.columns || h !== image.rows) {
      pipeline = pipeline.extract({ left, top, width: w, height: h });
    }
    if (width < 0) pipeline = pipeline.flop();
    if (height < 0) pipeline = pipeline.flip();
  }
  if (options.maxWidth !== undefined || options.maxHeight !== undefined) {
    pipeline = pipeline.resize({
      ...(options.maxWidth !== undefined ? { width: options.maxWidth } : {}),
      ...(options.maxHeight !== undefined ? { height: options.maxHeight } : {}),
      fit: 'inside', withoutEnlargement: options.enlarge === false, kernel: 'lanczos3',
    });
  }
  switch (options.type) {
    case 'image/jpeg': return pipeline.jpeg({ quality: options.quality ?? 90, chromaSubsampling: '4:4:4' }).toBuffer();
    case 'image/png': return pipeline.png().toBuffer();
    case 'image/gif': return pipeline.gif().toBuffer();
  }
}
