// WADO-URI (PS3.18 §9, parameters §9.1 and §8.1–8.2 of earlier editions): one object by its UIDs,
// as a DICOM file or rendered as a consumer image, for older viewers and EHR links.
import { PassThrough, Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createFileMeta, ExplicitVRLittleEndian, transferSyntax } from '@loire/dicom';
import type { Archive } from '../archive.js';
import type { InstanceRecord } from '../index/index.js';
import { ENCAPSULATED_PDF, encapsulatedDocument, encodeRendered, renderStoredFrame, type RenderedImageType, type SourceRegion } from '../retrieve/rendering.js';
import { frameSource, openStoredInstance } from '../retrieve/stored-instance.js';
import { StorageTranscoder } from '../retrieve/transcoder.js';
import { parseAccept, rangeMatches } from './accept.js';
import { parseUid, type DicomwebContext } from './context.js';
import { HttpError } from './http-error.js';
import { checkedWindow, findInstance } from './rendered.js';

const MAX_SIZE = 16384;

type Query = Record<string, string | string[] | undefined>;

function single(query: Query, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw HttpError.badRequest(`WADO-URI parameter "${name}" is given ${value.length} times; give it once`);
  return value === '' ? undefined : value;
}

function integer(text: string, what: string, min: number, max: number): number {
  if (!/^\d+$/.test(text.trim())) throw HttpError.badRequest(`${what} "${text}" is not a positive integer`);
  const value = Number(text.trim());
  if (value < min || value > max) throw HttpError.badRequest(`${what} ${value} is out of range (${min} to ${max})`);
  return value;
}

function decimal(text: string, what: string): number {
  if (!/^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(text)) throw HttpError.badRequest(`${what} "${text}" is not a number`);
  return Number(text);
}

interface ImageParameters {
  frameNumber?: number;
  rows?: number;
  columns?: number;
  /** Normalised to the image: xmin, ymin, xmax, ymax in [0, 1] (the WADO-URI "region" parameter). */
  region?: [number, number, number, number];
  windowCenter?: number;
  windowWidth?: number;
  imageQuality?: number;
}

const IMAGE_PARAMETERS = ['frameNumber', 'rows', 'columns', 'region', 'windowCenter', 'windowWidth', 'imageQuality'] as const;

function parseImageParameters(query: Query): ImageParameters {
  const parameters: ImageParameters = {};
  const frame = single(query, 'frameNumber');
  if (frame !== undefined) parameters.frameNumber = integer(frame, 'frameNumber', 1, 2 ** 31);
  const rows = single(query, 'rows');
  if (rows !== undefined) parameters.rows = integer(rows, 'rows', 1, MAX_SIZE);
  const columns = single(query, 'columns');
  if (columns !== undefined) parameters.columns = integer(columns, 'columns', 1, MAX_SIZE);
  const region = single(query, 'region');
  if (region !== undefined) {
    const values = region.split(',').map((v) => decimal(v, 'region value'));
    if (values.length !== 4 || values.some((v) => v < 0 || v > 1)) throw HttpError.badRequest(`region "${region}" must be xmin,ymin,xmax,ymax between 0.0 and 1.0`);
    const [xmin, ymin, xmax, ymax] = values as [number, number, number, number];
    if (xmin >= xmax || ymin >= ymax) throw HttpError.badRequest(`region "${region}": xmin must be less than xmax and ymin less than ymax`);
    parameters.region = [xmin, ymin, xmax, ymax];
  }
  const center = single(query, 'windowCenter');
  const width = single(query, 'windowWidth');
  if ((center === undefined) !== (width === undefined)) throw HttpError.badRequest('give windowCenter and windowWidth together');
  if (center !== undefined && width !== undefined) {
    parameters.windowCenter = decimal(center, 'windowCenter');
    parameters.windowWidth = decimal(width, 'windowWidth');
    checkedWindow(parameters.windowCenter, parameters.windowWidth, 'LINEAR');
  }
  const quality = single(query, 'imageQuality');
  if (quality !== undefined) parameters.imageQuality = integer(quality, 'imageQuality', 1, 100);
  return parameters;
}

/** The media type to answer with, from the contentType parameter (a list, in order of preference) and what the object offers. */
function chooseContentType(contentType: string | undefined, offered: readonly string[], record: InstanceRecord): string {
  if (contentType === undefined) return offered[0]!;
  for (const range of parseAccept(contentType)) {
    const match = offered.find((type) => rangeMatches(range, type));
    if (match) return match;
  }
  throw HttpError.notAcceptable(`instance ${record.sopInstanceUid} cannot be returned as "${contentType}"; it is available as ${offered.join(', ')}`);
}

/** Whether the stored object starts with a Part 10 preamble and DICM prefix (objects received without one are stored as they came). */
async function hasFileMeta(archive: Archive, record: InstanceRecord): Promise<boolean> {
  if (record.size < 132) return false;
  const chunks: Buffer[] = [];
  for await (const chunk of archive.storage.read(record.storageKey, { start: 128, end: 131 })) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('latin1') === 'DICM';
}

/**
 * The object as a DICOM file (PS3.18 §8.2.11 of 2019, §9.4.2.4 today): Explicit VR Little Endian by default, or the
 * transferSyntax asked for when it can be produced, else Explicit VR Little Endian. Lossy compressed objects are sent
 * as received when no syntax is asked for (PS3.18 §8.7.3.4), as decompressing them gains nothing.
 */
async function sendDicom(archive: Archive, request: FastifyRequest, reply: FastifyReply, record: InstanceRecord, requested: string | undefined): Promise<FastifyReply> {
  const stored = transferSyntax(record.transferSyntaxUid);
  const target = requested !== undefined && producible(requested, record.transferSyntaxUid) ? requested : ExplicitVRLittleEndian;
  const asStored = target === record.transferSyntaxUid || (requested === undefined && stored?.lossy === true);
  if (asStored && await hasFileMeta(archive, record)) {
    return reply.type('application/dicom').header('content-length', record.size).send(archive.storage.read(record.storageKey));
  }
  const syntax = asStored ? record.transferSyntaxUid : target;
  let dataset: Readable;
  try {
    dataset = await new StorageTranscoder(archive.storage).transcode(record, syntax);
  } catch (error) {
    // Pixel data Loire cannot decode: the object as stored is still the most useful answer.
    request.log.warn({ sopInstanceUid: record.sopInstanceUid, from: record.transferSyntaxUid, to: syntax, reason: (error as Error).message }, 'WADO-URI: sending the object in its stored transfer syntax');
    if (await hasFileMeta(archive, record)) {
      return reply.type('application/dicom').header('content-length', record.size).send(archive.storage.read(record.storageKey));
    }
    throw new HttpError(500, `instance ${record.sopInstanceUid} cannot be converted to ${syntax}: ${(error as Error).message}`);
  }
  const out = new PassThrough();
  out.write(createFileMeta({ sopClassUid: record.sopClassUid, sopInstanceUid: record.sopInstanceUid, transferSyntaxUid: syntax }));
  dataset.on('error', (error) => out.destroy(error));
  dataset.pipe(out);
  return reply.type('application/dicom').send(out);
}

/** Syntaxes a retrieval can be converted to: the stored one, or a native one WADO-URI allows (no implicit VR, no big endian). */
function producible(requested: string, stored: string): boolean {
  if (requested === stored) return true;
  const syntax = transferSyntax(requested);
  return syntax !== undefined && syntax.explicitVR && syntax.littleEndian && !syntax.encapsulated && !syntax.deflated;
}

function pixelRegion(region: ImageParameters['region'], columns: number, rows: number): SourceRegion | undefined {
  if (!region) return undefined;
  const [xmin, ymin, xmax, ymax] = region;
  const x = Math.floor(xmin * columns);
  const y = Math.floor(ymin * rows);
  return { x, y, width: Math.max(1, Math.round(xmax * columns) - x), height: Math.max(1, Math.round(ymax * rows) - y) };
}

export function registerWadoUri(app: FastifyInstance, { archive, opened }: DicomwebContext): void {
  app.get('/wado', { config: { access: 'view' } }, async (request, reply) => {
    const query = request.query as Query;
    const requestType = single(query, 'requestType');
    if (requestType !== 'WADO') throw HttpError.badRequest(`requestType must be WADO${requestType === undefined ? '' : `, not "${requestType}"`}`);
    const study = parseUid(single(query, 'studyUID'), 'studyUID');
    const series = parseUid(single(query, 'seriesUID'), 'seriesUID');
    const object = parseUid(single(query, 'objectUID'), 'objectUID');
    if (single(query, 'anonymize') !== undefined) throw HttpError.badRequest('anonymize is not supported: Loire does not de-identify on retrieval');
    if (single(query, 'annotation') !== undefined) throw HttpError.badRequest('annotation is not supported: Loire renders images without burned-in text');
    if (single(query, 'presentationUID') !== undefined || single(query, 'presentationSeriesUID') !== undefined) {
      throw HttpError.badRequest('presentationUID is not supported: Loire does not apply presentation states when rendering');
    }
    const requestedSyntax = single(query, 'transferSyntax');
    if (requestedSyntax !== undefined) parseUid(requestedSyntax, 'transferSyntax');
    const imageParameters = parseImageParameters(query);
    const record = await findInstance(archive, study, series, object);
    const contentType = single(query, 'contentType');

    if (record.sopClassUid === ENCAPSULATED_PDF || !isImage(record)) {
      const offered = record.sopClassUid === ENCAPSULATED_PDF ? ['application/pdf', 'application/dicom'] : ['application/dicom'];
      const type = chooseContentType(contentType, offered, record);
      if (type === 'application/pdf') return sendPdf(archive, reply, record);
      return dicomWithChecks(archive, request, reply, record, requestedSyntax, query);
    }
    const type = chooseContentType(contentType, ['image/jpeg', 'image/png', 'image/gif', 'application/dicom'], record);
    if (type === 'application/dicom') return dicomWithChecks(archive, request, reply, record, requestedSyntax, query);
    if (requestedSyntax !== undefined) throw HttpError.badRequest('transferSyntax applies only to contentType=application/dicom');

    const instance = await opened.open(record);
    const frames = frameSource(instance);
    if (!frames) throw HttpError.notAcceptable(`instance ${record.sopInstanceUid} has no pixel data to render; ask for contentType=application/dicom`);
    const frameNumber = imageParameters.frameNumber ?? 1;
    if (frameNumber > frames.numberOfFrames) throw HttpError.notFound(`frame ${frameNumber} of instance ${record.sopInstanceUid} does not exist: it has ${frames.numberOfFrames}`);
    const window = imageParameters.windowCenter !== undefined ? checkedWindow(imageParameters.windowCenter, imageParameters.windowWidth!, 'LINEAR') : undefined;
    let image;
    try {
      image = await renderStoredFrame(instance, frames, frameNumber - 1, window);
    } catch (error) {
      throw new HttpError(500, (error as Error).message);
    }
    const region = pixelRegion(imageParameters.region, image.columns, image.rows);
    const body = await encodeRendered(image, {
      type: type as RenderedImageType,
      ...(imageParameters.imageQuality !== undefined ? { quality: imageParameters.imageQuality } : {}),
      ...(region ? { region } : {}),
      ...(imageParameters.columns !== undefined ? { maxWidth: imageParameters.columns } : {}),
      ...(imageParameters.rows !== undefined ? { maxHeight: imageParameters.rows } : {}),
      enlarge: true,
    });
    return reply.type(type).header('content-length', body.byteLength).send(body);
  });
}

/** Rows (Image Pixel module, PS3.3 C.7.6.3) tells an image from other objects from the index, without reading the file. */
function isImage(record: InstanceRecord): boolean {
  return record.metadata['00280010'] !== undefined;
}

function dicomWithChecks(archive: Archive, request: FastifyRequest, reply: FastifyReply, record: InstanceRecord, requestedSyntax: string | undefined, query: Query): Promise<FastifyReply> {
  // PS3.18: rendering parameters shall not be present with application/dicom.
  const misplaced = IMAGE_PARAMETERS.filter((name) => query[name] !== undefined && name !== 'frameNumber');
  if (misplaced.length > 0) throw HttpError.badRequest(`${misplaced.join(', ')} apply to rendered images, not to contentType=application/dicom`);
  return sendDicom(archive, request, reply, record, requestedSyntax);
}

async function sendPdf(archive: Archive, reply: FastifyReply, record: InstanceRecord): Promise<FastifyReply> {
  const body = await encapsulatedDocument(await openStoredInstance(archive.storage, record));
  if (!body) throw new HttpError(500, `instance ${record.sopInstanceUid} is an Encapsulated PDF without its document (0042,0011)`);
  return reply.type('application/pdf').header('content-length', body.byteLength).send(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
}
