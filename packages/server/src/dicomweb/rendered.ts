// WADO-RS rendered and thumbnail resources (PS3.18 §10.4.1.1.4, §10.4.1.1.5, query parameters §8.3.5):
// consumer images (JPEG, PNG, GIF) of studies, series, instances and frames.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseVoiLutFunction, type WindowLevel } from '@loire/dicom';
import type { Archive } from '../archive.js';
import type { InstanceRecord, StorageRecord } from '../index/index.js';
import {
  ENCAPSULATED_PDF, encapsulatedDocument, encodeRendered, RENDERED_IMAGE_TYPES, RenderRequestError, renderStoredFrame, UnrenderableError,
  type OutputOptions, type RenderedImageType, type SourceRegion,
} from '../retrieve/rendering.js';
import { frameSource, type FrameSource, type StoredInstance } from '../retrieve/stored-instance.js';
import { parseAccept, rangeMatches } from './accept.js';
import { baseUrl, instanceUrl, parseUid, type DicomwebContext } from './context.js';
import { HttpError } from './http-error.js';
import { multipartContentType, multipartStream, newBoundary, type Part } from './multipart.js';

/** Largest viewport side accepted: bigger requests would only burn memory. */
const MAX_VIEWPORT = 16384;
/** Thumbnails fit in this square unless a viewport says otherwise (PS3.18 §10.4.1.1.5 leaves the size to the server). */
export const THUMBNAIL_SIZE = 128;

interface RenderingParameters {
  window?: WindowLevel;
  viewport?: { width: number; height: number; region?: SourceRegion };
  quality?: number;
}

type Query = Record<string, string | string[] | undefined>;

function single(query: Query, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw HttpError.badRequest(`query parameter "${name}" is given ${value.length} times; give it once`);
  return value;
}

function integer(text: string, what: string, min: number, max: number): number {
  if (!/^[+-]?\d+$/.test(text.trim())) throw HttpError.badRequest(`${what} "${text}" is not an integer`);
  const value = Number(text);
  if (value < min || value > max) throw HttpError.badRequest(`${what} ${value} is out of range (${min} to ${max})`);
  return value;
}

function decimal(text: string, what: string): number {
  const trimmed = text.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(trimmed)) throw HttpError.badRequest(`${what} "${text}" is not a number`);
  return Number(trimmed);
}

/** `window=center,width[,function]` (PS3.18 §8.3.5.1.4); function is linear (default), linear-exact or sigmoid. */
export function parseWindowParameter(text: string): WindowLevel {
  const parts = text.split(',');
  if (parts.length < 2 || parts.length > 3) throw HttpError.badRequest(`window "${text}" must be center,width[,function]`);
  const center = decimal(parts[0]!, 'window center');
  const width = decimal(parts[1]!, 'window width');
  const fn = parts[2] === undefined || parts[2].trim() === '' ? 'LINEAR' : parseVoiLutFunction(parts[2]);
  if (!fn) throw HttpError.badRequest(`window function "${parts[2]}" is not linear, linear-exact or sigmoid`);
  return checkedWindow(center, width, fn);
}

export function checkedWindow(center: number, width: number, fn: WindowLevel['function']): WindowLevel {
  // PS3.3 C.11.2.1.2: width >= 1 for LINEAR, > 0 for LINEAR_EXACT and SIGMOID.
  if (fn === 'LINEAR' ? width < 1 : width <= 0) {
    throw HttpError.badRequest(`window width ${width} is too small: ${fn === 'LINEAR' ? 'at least 1' : 'more than 0'} for ${fn.toLowerCase().replace('_', '-')}`);
  }
  return { center, width, function: fn };
}

/** `viewport=vw,vh[,sx,sy,sw,sh]` (PS3.18 §8.3.5.1.3); empty sx..sh take their defaults (whole image). */
export function parseViewportParameter(text: string, allowRegion: boolean): NonNullable<RenderingParameters['viewport']> {
  const parts = text.split(',');
  if (parts.length !== 2 && parts.length !== 6) throw HttpError.badRequest(`viewport "${text}" must be vw,vh or vw,vh,sx,sy,sw,sh`);
  if (!allowRegion && parts.length === 6) throw HttpError.badRequest('a thumbnail viewport is vw,vh only');
  const width = integer(parts[0]!, 'viewport width', 1, MAX_VIEWPORT);
  const height = integer(parts[1]!, 'viewport height', 1, MAX_VIEWPORT);
  if (parts.length === 2 || parts.slice(2).every((p) => p.trim() === '')) return { width, height };
  const [sx, sy, sw, sh] = parts.slice(2).map((p) => p.trim());
  if (sw === '' || sh === '') throw HttpError.badRequest(`viewport "${text}": give both sw and sh, or neither`);
  const region = {
    x: sx === '' ? 0 : integer(sx!, 'viewport sx', 0, 1 << 20),
    y: sy === '' ? 0 : integer(sy!, 'viewport sy', 0, 1 << 20),
    width: integer(sw!, 'viewport sw', -(1 << 20), 1 << 20),
    height: integer(sh!, 'viewport sh', -(1 << 20), 1 << 20),
  };
  if (region.width === 0 || region.height === 0) throw HttpError.badRequest(`viewport "${text}": sw and sh must not be 0`);
  return { width, height, region };
}

function parseRenderingParameters(query: Query, thumbnail: boolean): RenderingParameters {
  const parameters: RenderingParameters = {};
  const annotation = single(query, 'annotation');
  if (annotation !== undefined) throw HttpError.badRequest('annotation is not supported: Loire renders images without burned-in text');
  const icc = single(query, 'iccprofile');
  if (icc !== undefined && icc.toLowerCase() !== 'no') throw HttpError.badRequest(`iccprofile "${icc}" is not supported: Loire renders without an ICC profile (iccprofile=no)`);
  const viewport = single(query, 'viewport');
  if (viewport !== undefined) parameters.viewport = parseViewportParameter(viewport, !thumbnail);
  const quality = single(query, 'quality');
  if (quality !== undefined) parameters.quality = integer(quality, 'quality', 1, 100);
  if (!thumbnail) {
    const window = single(query, 'window');
    if (window !== undefined) parameters.window = parseWindowParameter(window);
  }
  return parameters;
}

/**
 * The media type to answer with, from the `accept` query parameter or else the Accept header (PS3.18 §8.3.3.1):
 * the most preferred of `offered`; image/jpeg when anything goes (PS3.18 §8.7.4, the default rendered type).
 */
export function negotiate(request: FastifyRequest, query: Query, offered: readonly string[]): string {
  const header = single(query, 'accept') ?? request.headers.accept;
  const ranges = parseAccept(header);
  for (const range of ranges) {
    // multipart/related; type="image/jpeg" names the part type of a multi-part response.
    const wanted = range.type === 'multipart/related' ? (range.parameters.type ?? '*/*').toLowerCase() : range.type;
    const match = offered.find((type) => rangeMatches({ ...range, type: wanted }, type));
    if (match) return match;
  }
  throw HttpError.notAcceptable(`none of "${header}" can be produced here; this resource is available as ${offered.join(', ')}`);
}

function outputOptions(type: RenderedImageType, parameters: RenderingParameters, thumbnail: boolean): OutputOptions {
  const size = parameters.viewport ?? (thumbnail ? { width: THUMBNAIL_SIZE, height: THUMBNAIL_SIZE } : undefined);
  return {
    type,
    ...(parameters.quality !== undefined ? { quality: parameters.quality } : {}),
    ...(parameters.viewport?.region ? { region: parameters.viewport.region } : {}),
    ...(size ? { maxWidth: size.width, maxHeight: size.height } : {}),
    enlarge: !thumbnail,
  };
}

interface Opened {
  instance: StoredInstance;
  frames: FrameSource | undefined;
}

async function openRecord({ opened }: DicomwebContext, record: StorageRecord): Promise<Opened> {
  const instance = await opened.open(record);
  return { instance, frames: frameSource(instance) };
}

/** The instance named by a URL, or 404 when the archive does not hold it under that study and series. */
export async function findInstance(archive: Archive, study: string, series: string, sop: string): Promise<InstanceRecord> {
  const record = await archive.index.getInstance(sop);
  if (!record || record.studyInstanceUid !== study || record.seriesInstanceUid !== series) {
    throw HttpError.notFound(`instance ${sop} of series ${series} in study ${study} is not in the archive`);
  }
  return record;
}

function noImage(record: StorageRecord): HttpError {
  return HttpError.notAcceptable(`instance ${record.sopInstanceUid} (SOP class ${record.sopClassUid}) has no pixel data, so it has no rendered image; retrieve it as application/dicom or read its metadata`);
}

function uid(params: Record<string, string>, name: string, label: string): string {
  return parseUid(params[name], label);
}

/** 1-based frame numbers of a `{frames}` path segment (PS3.18 §10.4.1.1.3). */
export function parseFrameList(text: string): number[] {
  const frames = text.split(',').map((part) => {
    if (!/^\d+$/.test(part.trim())) throw HttpError.badRequest(`frame list "${text}" must be comma-separated frame numbers starting at 1`);
    return Number(part.trim());
  });
  if (frames.some((n) => n < 1 || !Number.isSafeInteger(n))) throw HttpError.badRequest(`frame list "${text}": frame numbers start at 1`);
  return frames;
}

async function renderOne(opened: Opened, index: number, type: RenderedImageType, parameters: RenderingParameters, thumbnail: boolean): Promise<Buffer> {
  const image = await renderStoredFrame(opened.instance, opened.frames!, index, parameters.window);
  return encodeRendered(image, outputOptions(type, parameters, thumbnail));
}

function sendSingle(reply: FastifyReply, type: string, body: Uint8Array): FastifyReply {
  return reply.type(type).header('content-length', body.byteLength).send(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
}

function sendMultipart(reply: FastifyReply, type: string, parts: AsyncIterable<Part>): FastifyReply {
  const boundary = newBoundary();
  return reply.type(multipartContentType(boundary, type)).send(multipartStream(boundary, parts));
}

/** Maps rendering failures onto HTTP: a bad request for this image is 400, undecodable data a 500 that says why. */
async function withRenderingErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof RenderRequestError) throw HttpError.badRequest(error.message);
    if (error instanceof UnrenderableError) throw new HttpError(500, error.message);
    throw error;
  }
}

/**
 * The image a study or series thumbnail shows: the middle image of the series (by Instance Number), which in a
 * volume shows the anatomy rather than an end slice; non-image instances (SR, PR, KO…) are skipped.
 */
async function representativeOfSeries(context: DicomwebContext, study: string, series: string): Promise<Opened | undefined> {
  const records = await context.archive.index.listInstancesForRetrieve('SERIES', {
    '0020000D': { vr: 'UI', Value: [study] }, '0020000E': { vr: 'UI', Value: [series] },
  });
  const middle = Math.floor((records.length - 1) / 2);
  // From the middle outwards, so that one non-image object in the series does not hide the images.
  const order = records.map((_, i) => i).sort((a, b) => Math.abs(a - middle) - Math.abs(b - middle) || a - b);
  for (const i of order) {
    const opened = await openRecord(context, records[i]!);
    if (opened.frames) return opened;
  }
  return undefined;
}

/** The study thumbnail's series: the first series (by Series Number) that holds an image; its middle image. */
async function representativeOfStudy(context: DicomwebContext, study: string): Promise<Opened | undefined> {
  const series = await context.archive.index.findAll({
    level: 'SERIES',
    identifier: { '0020000D': { vr: 'UI', Value: [study] }, '0020000E': { vr: 'UI' }, '00200011': { vr: 'IS' } },
  });
  const ordered = series
    .map((s) => ({ uid: String(s['0020000E']?.Value?.[0] ?? ''), number: Number(s['00200011']?.Value?.[0] ?? Number.MAX_SAFE_INTEGER) }))
    .sort((a, b) => a.number - b.number);
  for (const { uid: seriesUid } of ordered) {
    const opened = await representativeOfSeries(context, study, seriesUid);
    if (opened) return opened;
  }
  return undefined;
}

async function studyExists(archive: Archive, study: string): Promise<boolean> {
  return (await archive.index.count({ level: 'STUDY', identifier: { '0020000D': { vr: 'UI', Value: [study] } } })) > 0;
}

async function seriesExists(archive: Archive, study: string, series: string): Promise<boolean> {
  return (await archive.index.count({
    level: 'SERIES', identifier: { '0020000D': { vr: 'UI', Value: [study] }, '0020000E': { vr: 'UI', Value: [series] } },
  })) > 0;
}

const IMAGE_TYPES: readonly string[] = RENDERED_IMAGE_TYPES;

export function registerRendered(app: FastifyInstance, context: DicomwebContext): void {
  const { archive } = context;
  const route = { config: { access: 'view' as const } };
  type Params = Record<string, string>;

  // Study and series: every instance's rendering as one part each (PS3.18 §10.4.1.1.4), first frame of multi-frame images.
  const renderRecords = async (request: FastifyRequest, reply: FastifyReply, records: StorageRecord[], describe: string): Promise<FastifyReply> => {
    const query = request.query as Query;
    const parameters = parseRenderingParameters(query, false);
    const type = negotiate(request, query, IMAGE_TYPES) as RenderedImageType;
    if (records.length === 0) throw HttpError.notFound(`${describe} is not in the archive`);
    const base = baseUrl(request);
    // Open the first image before answering, so that a series without images gets an error status, not an empty body.
    const images: Opened[] = [];
    const pending = [...records];
    while (pending.length > 0 && images.length === 0) {
      const opened = await openRecord(context, pending.shift()!);
      if (opened.frames) images.push(opened);
    }
    if (images.length === 0) throw HttpError.notAcceptable(`${describe} holds no image to render; retrieve its instances as application/dicom`);
    const first = await withRenderingErrors(() => renderOne(images[0]!, 0, type, parameters, false));
    const location = (opened: Opened, ids: { study: string; series: string }): string =>
      `${instanceUrl(base, { studyInstanceUid: ids.study, seriesInstanceUid: ids.series, sopInstanceUid: opened.instance.record.sopInstanceUid })}/rendered`;
    const ids = (opened: Opened): { study: string; series: string } => ({
      study: opened.instance.dataset.string(0x0020000d) ?? '', series: opened.instance.dataset.string(0x0020000e) ?? '',
    });
    async function* parts(): AsyncGenerator<Part> {
      yield { contentType: type, headers: { 'Content-Location': location(images[0]!, ids(images[0]!)) }, body: first };
      for (const record of pending) {
        const opened = await openRecord(context, record);
        if (!opened.frames) continue;
        let body: Buffer;
        try {
          body = await renderOne(opened, 0, type, parameters, false);
        } catch (error) {
          // One undecodable image should not truncate the others' response: leave it out and say so in the log.
          if (!(error instanceof UnrenderableError)) throw error;
          request.log.warn({ sopInstanceUid: record.sopInstanceUid, reason: error.message }, 'instance left out of a rendered response');
          continue;
        }
        yield { contentType: type, headers: { 'Content-Location': location(opened, ids(opened)) }, body };
      }
    }
    return sendMultipart(reply, type, parts());
  };

  app.get('/studies/:study/rendered', route, async (request, reply) => {
    const study = uid(request.params as Params, 'study', 'StudyInstanceUID');
    const records = await archive.index.listInstancesForRetrieve('STUDY', { '0020000D': { vr: 'UI', Value: [study] } });
    return renderRecords(request, reply, records, `study ${study}`);
  });

  app.get('/studies/:study/series/:series/rendered', route, async (request, reply) => {
    const params = request.params as Params;
    const study = uid(params, 'study', 'StudyInstanceUID');
    const series = uid(params, 'series', 'SeriesInstanceUID');
    const records = await context.archive.index.listInstancesForRetrieve('SERIES', {
      '0020000D': { vr: 'UI', Value: [study] }, '0020000E': { vr: 'UI', Value: [series] },
    });
    return renderRecords(request, reply, records, `series ${series} of study ${study}`);
  });

  app.get('/studies/:study/series/:series/instances/:instance/rendered', route, async (request, reply) => {
    const params = request.params as Params;
    const query = request.query as Query;
    const record = await findInstance(archive, uid(params, 'study', 'StudyInstanceUID'), uid(params, 'series', 'SeriesInstanceUID'), uid(params, 'instance', 'SOPInstanceUID'));
    const parameters = parseRenderingParameters(query, false);
    if (record.sopClassUid === ENCAPSULATED_PDF) {
      // PS3.18 §8.7.4: an encapsulated PDF's rendered representation is the PDF itself.
      negotiate(request, query, ['application/pdf']);
      const document = await encapsulatedDocument((await openRecord(context, record)).instance);
      if (!document) throw new HttpError(500, `instance ${record.sopInstanceUid} is an Encapsulated PDF without its document (0042,0011)`);
      return sendSingle(reply, 'application/pdf', document);
    }
    const type = negotiate(request, query, IMAGE_TYPES) as RenderedImageType;
    const opened = await openRecord(context, record);
    if (!opened.frames) throw noImage(record);
    // A single-frame media type shows the first frame of a multi-frame image; /frames/{list}/rendered gives the others.
    return sendSingle(reply, type, await withRenderingErrors(() => renderOne(opened, 0, type, parameters, false)));
  });

  app.get('/studies/:study/series/:series/instances/:instance/frames/:frames/rendered', route, async (request, reply) => {
    const params = request.params as Params;
    const query = request.query as Query;
    const record = await findInstance(archive, uid(params, 'study', 'StudyInstanceUID'), uid(params, 'series', 'SeriesInstanceUID'), uid(params, 'instance', 'SOPInstanceUID'));
    const frameNumbers = parseFrameList(params.frames ?? '');
    const parameters = parseRenderingParameters(query, false);
    const type = negotiate(request, query, IMAGE_TYPES) as RenderedImageType;
    const opened = await openRecord(context, record);
    if (!opened.frames) throw noImage(record);
    const count = opened.frames.numberOfFrames;
    const missing = frameNumbers.filter((n) => n > count);
    if (missing.length > 0) throw HttpError.notFound(`frame ${missing.join(', ')} of instance ${record.sopInstanceUid} does not exist: it has ${count} frame${count === 1 ? '' : 's'}`);
    if (frameNumbers.length === 1) {
      return sendSingle(reply, type, await withRenderingErrors(() => renderOne(opened, frameNumbers[0]! - 1, type, parameters, false)));
    }
    const first = await withRenderingErrors(() => renderOne(opened, frameNumbers[0]! - 1, type, parameters, false));
    const base = `${instanceUrl(baseUrl(request), { studyInstanceUid: record.studyInstanceUid, seriesInstanceUid: record.seriesInstanceUid, sopInstanceUid: record.sopInstanceUid })}/frames`;
    async function* parts(): AsyncGenerator<Part> {
      yield { contentType: type, headers: { 'Content-Location': `${base}/${frameNumbers[0]}/rendered` }, body: first };
      for (const n of frameNumbers.slice(1)) {
        yield { contentType: type, headers: { 'Content-Location': `${base}/${n}/rendered` }, body: await renderOne(opened, n - 1, type, parameters, false) };
      }
    }
    return sendMultipart(reply, type, parts());
  });

  const sendThumbnail = async (request: FastifyRequest, reply: FastifyReply, opened: Opened | undefined, frameIndex: number | undefined, describe: string): Promise<FastifyReply> => {
    const query = request.query as Query;
    const parameters = parseRenderingParameters(query, true);
    const type = negotiate(request, query, IMAGE_TYPES) as RenderedImageType;
    if (!opened?.frames) throw HttpError.notAcceptable(`${describe} has no image to show as a thumbnail`);
    // The middle frame of a multi-frame image, for the same reason as the middle image of a series.
    const index = frameIndex ?? Math.floor((opened.frames.numberOfFrames - 1) / 2);
    return sendSingle(reply, type, await withRenderingErrors(() => renderOne(opened, index, type, parameters, true)));
  };

  app.get('/studies/:study/thumbnail', route, async (request, reply) => {
    const study = uid(request.params as Params, 'study', 'StudyInstanceUID');
    parseRenderingParameters(request.query as Query, true);
    if (!(await studyExists(archive, study))) throw HttpError.notFound(`study ${study} is not in the archive`);
    return sendThumbnail(request, reply, await representativeOfStudy(context, study), undefined, `study ${study}`);
  });

  app.get('/studies/:study/series/:series/thumbnail', route, async (request, reply) => {
    const params = request.params as Params;
    const study = uid(params, 'study', 'StudyInstanceUID');
    const series = uid(params, 'series', 'SeriesInstanceUID');
    parseRenderingParameters(request.query as Query, true);
    if (!(await seriesExists(archive, study, series))) throw HttpError.notFound(`series ${series} of study ${study} is not in the archive`);
    return sendThumbnail(request, reply, await representativeOfSeries(context, study, series), undefined, `series ${series}`);
  });

  app.get('/studies/:study/series/:series/instances/:instance/thumbnail', route, async (request, reply) => {
    const params = request.params as Params;
    const record = await findInstance(archive, uid(params, 'study', 'StudyInstanceUID'), uid(params, 'series', 'SeriesInstanceUID'), uid(params, 'instance', 'SOPInstanceUID'));
    parseRenderingParameters(request.query as Query, true);
    return sendThumbnail(request, reply, await openRecord(context, record), undefined, `instance ${record.sopInstanceUid}`);
  });

  app.get('/studies/:study/series/:series/instances/:instance/frames/:frames/thumbnail', route, async (request, reply) => {
    const params = request.params as Params;
    const record = await findInstance(archive, uid(params, 'study', 'StudyInstanceUID'), uid(params, 'series', 'SeriesInstanceUID'), uid(params, 'instance', 'SOPInstanceUID'));
    const frameNumbers = parseFrameList(params.frames ?? '');
    if (frameNumbers.length !== 1) throw HttpError.badRequest('a frame thumbnail shows one frame: give a single frame number');
    parseRenderingParameters(request.query as Query, true);
    const opened = await openRecord(context, record);
    const count = opened.frames?.numberOfFrames ?? 0;
    if (opened.frames && frameNumbers[0]! > count) throw HttpError.notFound(`frame ${frameNumbers[0]} of instance ${record.sopInstanceUid} does not exist: it has ${count}`);
    return sendThumbnail(request, reply, opened, frameNumbers[0]! - 1, `instance ${record.sopInstanceUid}`);
  });
}
