// WADO-RS frames (PS3.18 §10.4.1.1.3, §8.7.3.5): some frames of an instance, as stored, decoded to
// native little endian, or encoded losslessly, as the Accept header asks. Reads only the frames'
// bytes: the parsed header of recently used instances is kept (OpenedInstances).
import { CodecError, decodeFrame, encodeFrame, type ByteRange } from '@loire/dicom';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { frameSource, type FrameSource, type StoredInstance } from '../retrieve/stored-instance.js';
import { baseUrl, instanceUrl, type DicomwebContext, type InstanceIds } from './context.js';
import { HttpError } from './http-error.js';
import { multipartContentType, multipartStream, newBoundary, type Part } from './multipart.js';
import { findInstance, retrieveTarget } from './wado-instances.js';
import { pixelPartType, pixelsNotAcceptable, planPixels, type PixelPlan } from './wado-negotiation.js';

const PIXEL_DATA = 0x7fe00010;
/** More frame numbers than this in one request is a mistake or an attack, not a viewer. */
const MAX_FRAMES_PER_REQUEST = 10_000;

/** "1,3,5" → 1-based frame numbers, in the order asked (PS3.18 §8.7.3.5: a comma-separated list). */
export function parseFrameList(text: string): number[] {
  const items = text.split(',');
  if (items.length > MAX_FRAMES_PER_REQUEST) throw HttpError.badRequest(`frame list names ${items.length} frames; ask for at most ${MAX_FRAMES_PER_REQUEST} per request`);
  return items.map((item) => {
    const trimmed = item.trim();
    if (!/^[0-9]{1,9}$/.test(trimmed) || Number(trimmed) === 0) {
      throw HttpError.badRequest(`frame list "${text.length > 80 ? `${text.slice(0, 80)}…` : text}": "${trimmed}" is not a frame number (frames are numbered from 1, separated by commas)`);
    }
    return Number(trimmed);
  });
}

/** Frames of an opened instance, read as cheaply as its encoding allows. */
export class InstanceFrames {
  private readonly source: FrameSource;
  /** Encapsulated Pixel Data: the Basic Offset Table item, then the fragments. */
  private readonly fragments: readonly ByteRange[] | undefined;

  constructor(private readonly instance: StoredInstance) {
    const source = frameSource(instance);
    if (!source) throw HttpError.notFound(`instance ${instance.record.sopInstanceUid} has no Pixel Data: it has no frames`);
    this.source = source;
    this.fragments = instance.dataset.get(PIXEL_DATA)?.fragments;
  }

  get numberOfFrames(): number { return this.source.numberOfFrames; }
  get transferSyntaxUid(): string { return this.source.transferSyntaxUid; }

  /** Checks 1-based frame numbers against the instance (PS3.18 §8.7.3.5: a frame that does not exist is an error). */
  checkFrameNumbers(numbers: readonly number[]): void {
    const missing = numbers.filter((n) => n > this.numberOfFrames);
    if (missing.length > 0) {
      throw HttpError.notFound(`instance ${this.instance.record.sopInstanceUid} has ${this.numberOfFrames} frame${this.numberOfFrames === 1 ? '' : 's'}; there is no frame ${missing.slice(0, 5).join(', ')}`);
    }
  }

  /**
   * Frame `index` (0-based) as stored. With one fragment per frame (the usual layout, PS3.5 A.4)
   * only that fragment is read; other layouts go through the whole Pixel Data.
   */
  async stored(index: number): Promise<Uint8Array> {
    const fragments = this.fragments;
    if (fragments && fragments.length - 1 === this.numberOfFrames) return this.instance.readBulk(fragments[index + 1]!);
    return this.source.storedFrame(index);
  }

  async inPlan(index: number, plan: PixelPlan): Promise<Uint8Array> {
    const stored = await this.stored(index);
    if (plan.action === 'stored') return stored;
    const format = this.source.format;
    const decoded = await decodeFrame(this.transferSyntaxUid, stored, format);
    if (plan.action === 'decode') return decoded.pixels;
    const encoded = await encodeFrame(plan.transferSyntaxUid, decoded.pixels, {
      ...format, planarConfiguration: decoded.planarConfiguration, photometricInterpretation: decoded.photometricInterpretation,
    });
    return encoded.data;
  }
}

/**
 * Sends frames (0-based indexes) per the plan: multipart/related, or a single body when the client asked
 * for a bare media type. `location` gives each part's Content-Location.
 */
export async function sendFrames(
  reply: FastifyReply, frames: InstanceFrames, indexes: readonly number[], plan: PixelPlan, location: (index: number) => string,
): Promise<FastifyReply> {
  const contentType = pixelPartType(plan);
  const produce = async (index: number): Promise<Uint8Array> => {
    try {
      return await frames.inPlan(index, plan);
    } catch (error) {
      if (error instanceof RangeError) throw HttpError.notFound(error.message);
      if (error instanceof CodecError && error.reason === 'unsupported') throw HttpError.notAcceptable(error.message);
      throw error;
    }
  };
  if (!plan.multipart) {
    if (indexes.length !== 1) throw HttpError.notAcceptable(`${indexes.length} frames need a multipart/related response; ask with Accept: multipart/related; type="${plan.mediaType}"`);
    return reply.header('Content-Type', contentType).header('Content-Location', location(indexes[0]!)).send(Buffer.from(await produce(indexes[0]!)));
  }
  // The first frame is produced before the status is sent, so that a bad instance is a clear error.
  const first = await produce(indexes[0]!);
  async function* parts(): AsyncGenerator<Part> {
    for (let at = 0; at < indexes.length; at++) {
      yield { contentType, headers: { 'Content-Location': location(indexes[at]!) }, body: at === 0 ? first : await produce(indexes[at]!) };
    }
  }
  const boundary = newBoundary();
  return reply.header('Content-Type', multipartContentType(boundary, plan.mediaType)).send(multipartStream(boundary, parts()));
}

interface FrameParams { study: string; series: string; instance: string; frames: string }

export function registerFrames(app: FastifyInstance, context: DicomwebContext): void {
  const { opened } = context;
  app.get('/studies/:study/series/:series/instances/:instance/frames/:frames', { config: { access: 'view' } },
    async (request: FastifyRequest<{ Params: FrameParams }>, reply) => {
      const ids = retrieveTarget(request.params) as InstanceIds;
      const numbers = parseFrameList(request.params.frames);
      const record = await findInstance(context, ids);
      const frames = new InstanceFrames(await opened.open(record));
      frames.checkFrameNumbers(numbers);
      const plan = planPixels(request.headers.accept, frames.transferSyntaxUid);
      if (!plan) throw pixelsNotAcceptable(request.headers.accept, frames.transferSyntaxUid);
      const instance = instanceUrl(baseUrl(request), ids);
      return sendFrames(reply, frames, numbers.map((n) => n - 1), plan, (index) => `${instance}/frames/${index + 1}`);
    });
}
