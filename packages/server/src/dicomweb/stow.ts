// STOW-RS, the Studies Store transaction (PS3.18 §10.5): POST /studies and /studies/{study}
// with a multipart/related body of DICOM instances (application/dicom), or of DICOM JSON
// metadata with its bulk data (application/dicom+json). DICOM parts stream through the one
// ingest pipeline into storage as they arrive, so memory stays constant whatever the size; each
// instance is acknowledged only once ingest has stored and indexed it.
import type { Readable } from 'node:stream';
import {
  ExplicitVRLittleEndian, fromDicomJson, Part10Parser, Tag, transferSyntax, UNDEFINED_LENGTH, writePart10, type ByteRange, type DicomJson,
} from '@loire/dicom';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Archive } from '../archive.js';
import { DicomStatus, IngestError, type RefusedInstance } from '../ingest/errors.js';
import type { IngestResult, IngestSource } from '../ingest/ingest.js';
import { isStorageFull } from '../storage/storage.js';
import { parseAccept, parseMediaType, rangeMatches } from './accept.js';
import { baseUrl, instanceUrl, parseUid, studyUrl, type DicomwebContext } from './context.js';
import { HttpError } from './http-error.js';
import { ClientGoneError, MultipartError, MultipartReader, type MultipartLimits, type PartHeaders } from './multipart-reader.js';
import { DICOM_MEDIA_TYPE, OCTET_STREAM, PIXEL_MEDIA_TYPES } from './wado-negotiation.js';

const DICOM = DICOM_MEDIA_TYPE;
const DICOM_JSON = 'application/dicom+json';
const DICOM_XML = 'application/dicom+xml';

/** PS3.18 I.2.2 Failure Reason values (and 0x0111, PS3.7 C.4.3's duplicate, for the "reject" policy). */
export const FailureReason = {
  OutOfResources: DicomStatus.OutOfResources,
  DataSetDoesNotMatchSopClass: DicomStatus.DataSetDoesNotMatchSopClass,
  CannotUnderstand: DicomStatus.CannotUnderstand,
  TransferSyntaxNotSupported: 0xc122,
  ProcessingFailure: DicomStatus.ProcessingFailure,
  DuplicateSopInstance: DicomStatus.DuplicateSopInstance,
} as const;

interface StoredItem { sopClassUid: string; sopInstanceUid: string; studyInstanceUid: string; seriesInstanceUid: string }
interface FailedItem extends RefusedInstance { reason: number; message: string; part: number; wrongMediaType?: boolean }

export function registerStow(app: FastifyInstance, context: DicomwebContext): void {
  // Own scope, so that its body handling applies to these routes only.
  void app.register(async (scope) => {
    // The body stays the raw request stream: the multipart reader pulls it as ingest writes it.
    // Fastify's bodyLimit applies only to bodies Fastify buffers, so the limits are enforced
    // here (stow.maxRequestBytes in the configuration, checked on Content-Length and on the bytes read).
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    const handler = (withStudy: boolean) => async (request: FastifyRequest<{ Params: { study?: string } }>, reply: FastifyReply) => {
      const study = withStudy ? parseUid(request.params.study, 'StudyInstanceUID') : undefined;
      return storeInstances(context.archive, request, reply, study);
    };
    scope.post('/studies', { config: { access: 'store' } }, handler(false));
    scope.post('/studies/:study', { config: { access: 'store' } }, handler(true));
  });
}

async function storeInstances(archive: Archive, request: FastifyRequest, reply: FastifyReply, expectedStudy: string | undefined): Promise<FastifyReply> {
  const { reader, rootType } = openBody(archive, request);
  const source: IngestSource = { door: 'stow', from: request.principal?.username ?? request.ip, remoteAddress: request.ip };
  const outcome = new StowOutcome();
  const log = request.log.child({ door: 'stow', from: source.from });
  const started = Date.now();
  let bodyError: HttpError | undefined;
  try {
    if (rootType === DICOM) await storeDicomParts(archive, reader, source, expectedStudy, outcome);
    else await storeMetadataUpload(archive, reader, source, expectedStudy, outcome);
    await reader.drainEpilogue();
  } catch (error) {
    if (error instanceof ClientGoneError) {
      log.warn({ stored: outcome.stored.length, reason: error.message }, 'STOW-RS request abandoned by the client; the instance in transfer was discarded');
      return reply.code(400).header('connection', 'close').send();
    }
    if (!(error instanceof HttpError)) throw error;
    bodyError = error;
  }
  const summary = {
    stored: outcome.stored.length, failed: outcome.failed.length, bytes: reader.bytesReceived, ms: Date.now() - started,
    ...(bodyError ? { error: bodyError.message } : {}),
    ...(outcome.failed.length ? { failures: outcome.failed.map((f) => ({ part: f.part, sopInstanceUid: f.sopInstanceUid, reason: f.reason, message: f.message })) } : {}),
  };
  if (outcome.storageFull) log.error(summary, 'STOW-RS request: instances refused (Out of Resources), nothing of them kept: the storage is full; free space or add storage, and clients can send again');
  else log.info(summary, 'STOW-RS request');

  if (bodyError) {
    // The body broke off: what was stored before is acknowledged, the part in transfer is gone.
    if (outcome.stored.length === 0) throw closing(bodyError);
    outcome.failed.push({ reason: FailureReason.CannotUnderstand, message: bodyError.message, part: 0 });
    reply.header('connection', 'close');
  } else if (outcome.stored.length === 0 && outcome.failed.length === 0) {
    throw HttpError.badRequest('the multipart body has no part: send at least one instance');
  }
  const status = outcome.status();
  if (status === 415) throw new HttpError(415, `no part has the media type this request announces (${rootType}): ${outcome.failed[0]?.message ?? ''}`);
  if (outcome.failed.length > 0) reply.header('warning', warningHeader(outcome.failed));
  return reply.code(status).type(DICOM_JSON).send(outcome.response(baseUrl(request), expectedStudy));
}

/** An error answered before the body is read closes the connection: the unread body cannot be skipped cheaply. */
function closing(error: HttpError): HttpError {
  return new HttpError(error.statusCode, error.message, { ...error.headers, connection: 'close' });
}

/** Checks what can be checked before reading the body, and opens the multipart reader on it. */
function openBody(archive: Archive, request: FastifyRequest): { reader: MultipartReader; rootType: string } {
  try {
    negotiateResponse(request.headers.accept);
    const { boundary, rootType } = parseRequestType(request.headers['content-type']);
    checkDeclaredLength(request.headers['content-length'], archive.config.stow.maxRequestBytes);
    const stream = request.body as Readable | undefined;
    if (!stream || typeof stream.pipe !== 'function') throw HttpError.badRequest('the request has no body: send a multipart/related body of DICOM instances');
    const limits: MultipartLimits = {
      maxHeaderBytes: 16 * 1024,
      maxPreambleBytes: 64 * 1024,
      maxBodyBytes: archive.config.stow.maxRequestBytes,
      idleTimeoutMs: archive.config.stow.idleTimeoutSeconds * 1000,
    };
    return { reader: new MultipartReader(stream, boundary, limits), rootType };
  } catch (error) {
    throw error instanceof HttpError ? closing(error) : error;
  }
}

/** Each failure also in words, in the Warning header PS3.18 uses for explanations (warn-code 299, RFC 7234 §5.5.7), ASCII only. */
function warningHeader(failed: readonly FailedItem[]): string {
  return failed.slice(0, 20).map((f) => {
    const text = `${f.part ? `part ${f.part}` : 'request'}${f.sopInstanceUid ? ` (${f.sopInstanceUid})` : ''}: ${f.message}`;
    return `299 loire "${text.replace(/[^\x20-\x7e]|["\\]/g, ' ').slice(0, 300)}"`;
  }).join(', ');
}

/** PS3.18 §10.5.3: the response is application/dicom+json (default) or dicom+xml, which Loire does not produce. */
function negotiateResponse(accept: string | undefined): void {
  for (const range of parseAccept(accept)) {
    if (rangeMatches(range, DICOM_JSON) || rangeMatches(range, 'application/json')) return;
  }
  throw HttpError.notAcceptable(`the STOW-RS response is available as ${DICOM_JSON} only (${DICOM_XML} is not implemented): accept ${DICOM_JSON}`);
}

/** PS3.18 §10.5.1.2: multipart/related; type="application/dicom" or "application/dicom+json"; boundary=… */
function parseRequestType(header: string | undefined): { boundary: string; rootType: string } {
  if (!header) throw HttpError.unsupportedMediaType(`the request has no Content-Type: send multipart/related; type="${DICOM}"; boundary=…`);
  const { type, parameters } = parseMediaType(header);
  if (type !== 'multipart/related') {
    throw HttpError.unsupportedMediaType(`Content-Type ${type} is not supported: STOW-RS takes multipart/related; type="${DICOM}" (or "${DICOM_JSON}" with bulk data parts)`);
  }
  const boundary = parameters.boundary;
  if (!boundary) throw HttpError.badRequest('the multipart/related Content-Type has no boundary parameter');
  const rootType = (parameters.type ?? DICOM).toLowerCase();
  if (rootType !== DICOM && rootType !== DICOM_JSON) {
    throw HttpError.unsupportedMediaType(`multipart/related type "${rootType}" is not supported: use "${DICOM}" or "${DICOM_JSON}"${rootType === DICOM_XML ? ' (XML metadata is not implemented)' : ''}`);
  }
  return { boundary, rootType };
}

function checkDeclaredLength(header: string | undefined, max: number): void {
  if (header === undefined) return;
  const length = Number(header);
  if (Number.isSafeInteger(length) && length > max) {
    throw new HttpError(413, `the request body of ${length} bytes exceeds ${max} bytes, the most this server accepts in one request: send fewer instances per request`);
  }
}

/** Each part is one Part 10 instance, streamed into ingest as it arrives. */
async function storeDicomParts(archive: Archive, reader: MultipartReader, source: IngestSource, expectedStudy: string | undefined, outcome: StowOutcome): Promise<void> {
  for (let part = await reader.nextPart(); part; part = await reader.nextPart()) {
    const mediaType = partMediaType(part, DICOM);
    if (mediaType !== DICOM) {
      outcome.failed.push({
        reason: FailureReason.CannotUnderstand, part: part.index, wrongMediaType: true,
        message: `part ${part.index} is ${mediaType}; a request of type ${DICOM} takes ${DICOM} parts only`,
      });
      continue; // nextPart() skips its body
    }
    const incoming = await archive.ingest.beginPart10(source, expectedStudy ? { studyInstanceUid: expectedStudy } : {});
    // Storage that cannot take the part (a full disk) fails this part only: the rest of its body
    // is read and dropped, and the next parts are tried.
    let storageError: unknown;
    const head = new FileMetaReader();
    try {
      for (let chunk = await reader.readBody(); chunk; chunk = await reader.readBody()) {
        head.push(chunk);
        if (storageError !== undefined) continue;
        try {
          const wait = incoming.write(chunk);
          if (wait) await wait;
        } catch (error) {
          storageError = error;
          await incoming.abort();
        }
      }
    } catch (error) {
      await incoming.abort();
      throw error;
    }
    if (storageError !== undefined) {
      // Its identity is read at its end, which was never reached: the File Meta Information names it.
      if (storageError instanceof IngestError) storageError.about(head.identity());
      await settle(() => Promise.reject(storageError), part.index, outcome);
      continue;
    }
    await settle(() => incoming.end(), part.index, outcome);
  }
}

/**
 * The SOP Class and Instance UIDs a Part 10 part's File Meta Information gives, read from its
 * first bytes: what a failed part is reported with when it failed before its end.
 */
class FileMetaReader {
  private parser: Part10Parser | undefined = new Part10Parser();
  private read = 0;

  push(chunk: Uint8Array): void {
    if (this.parser === undefined || this.parser.fileMeta !== undefined) return;
    this.read += chunk.length;
    try {
      this.parser.push(chunk);
    } catch {
      this.parser = undefined; // not readable: the part is reported without them
      return;
    }
    if (this.read > FILE_META_READ_MAX && this.parser.fileMeta === undefined) this.parser = undefined;
  }

  identity(): RefusedInstance {
    const meta = this.parser?.fileMeta;
    return { sopClassUid: meta?.string(Tag.MediaStorageSOPClassUID), sopInstanceUid: meta?.string(Tag.MediaStorageSOPInstanceUID) };
  }
}

/** Past this many bytes without a whole File Meta Information, a part has none worth reading. */
const FILE_META_READ_MAX = 64 * 1024;

/**
 * PS3.18 §10.5.1.2.2: DICOM JSON metadata parts, and bulk data parts whose Content-Location is
 * the BulkDataURI the metadata gives. The metadata and bulk data are assembled in memory (at most
 * stow.maxMetadataUploadBytes), each instance is encoded as a Part 10 file in Explicit VR Little
 * Endian and ingested like any other.
 */
async function storeMetadataUpload(archive: Archive, reader: MultipartReader, source: IngestSource, expectedStudy: string | undefined, outcome: StowOutcome): Promise<void> {
  const max = archive.config.stow.maxMetadataUploadBytes;
  let held = 0;
  const instances: { json: DicomJson; part: number }[] = [];
  const bulk = new Map<string, BulkPart>();
  for (let part = await reader.nextPart(); part; part = await reader.nextPart()) {
    const { type: mediaType, transferSyntaxUid } = partMediaTypeWithSyntax(part, DICOM_JSON);
    const chunks: Buffer[] = [];
    for (let chunk = await reader.readBody(); chunk; chunk = await reader.readBody()) {
      held += chunk.length;
      if (held > max) {
        throw new HttpError(413, `a metadata upload is assembled in memory and may hold at most ${max} bytes of metadata and bulk data: send large objects as ${DICOM} parts`);
      }
      chunks.push(chunk);
    }
    const bytes = Buffer.concat(chunks);
    if (mediaType === DICOM_JSON) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(bytes.toString('utf8'));
      } catch (error) {
        outcome.failed.push({ reason: FailureReason.CannotUnderstand, part: part.index, message: `part ${part.index} is not valid JSON: ${(error as Error).message}` });
        continue;
      }
      const list = Array.isArray(parsed) ? parsed : [parsed];
      for (const json of list) {
        if (json === null || typeof json !== 'object' || Array.isArray(json)) {
          outcome.failed.push({ reason: FailureReason.CannotUnderstand, part: part.index, message: `part ${part.index} holds a JSON value that is not a DICOM JSON data set` });
        } else {
          instances.push({ json: json as DicomJson, part: part.index });
        }
      }
    } else if (mediaType === DICOM) {
      outcome.failed.push({ reason: FailureReason.CannotUnderstand, part: part.index, wrongMediaType: true, message: `part ${part.index} is ${DICOM}; a request of type ${DICOM_JSON} takes metadata and bulk data parts` });
    } else if (!part.contentLocation) {
      outcome.failed.push({ reason: FailureReason.CannotUnderstand, part: part.index, message: `bulk data part ${part.index} has no Content-Location: the metadata cannot refer to it` });
    } else {
      bulk.set(part.contentLocation, { mediaType, transferSyntaxUid, bytes });
    }
  }
  for (const { json, part } of instances) {
    const identity = { sopClassUid: jsonString(json, '00080016'), sopInstanceUid: jsonString(json, '00080018') };
    let encoded: Uint8Array;
    try {
      encoded = encodeMetadataInstance(json, bulk);
    } catch (error) {
      const failure = error instanceof IngestError ? error : IngestError.cannotUnderstand(`the DICOM JSON cannot be encoded: ${(error as Error).message}`);
      outcome.failed.push({ ...identity, reason: failure.dicomStatus, part, message: failure.message });
      continue;
    }
    const incoming = await archive.ingest.beginPart10(source, expectedStudy ? { studyInstanceUid: expectedStudy } : {});
    const wait = incoming.write(encoded);
    if (wait) await wait;
    await settle(() => incoming.end(), part, outcome);
  }
}

interface BulkPart { mediaType: string; transferSyntaxUid: string | undefined; bytes: Buffer }

const PIXEL_DATA = '7FE00010';

/**
 * Transfer syntax of compressed pixel data sent as bulk data, when its part gives no
 * `transfer-syntax` parameter: the default of its media type (PS3.18 Table 8.7.3-5).
 */
const DEFAULT_SYNTAX_OF_MEDIA_TYPE: Readonly<Record<string, string>> = {
  ...Object.fromEntries(Object.entries(PIXEL_MEDIA_TYPES).map(([type, syntaxes]) => [type, syntaxes[0]!])),
  // Accepted on upload only: never offered for frames.
  'image/x-jls': '1.2.840.10008.1.2.4.80',
  'image/jxl': '1.2.840.10008.1.2.4.110',
  'video/mpeg2': '1.2.840.10008.1.2.4.100',
  'video/mp4': '1.2.840.10008.1.2.4.102',
  'video/h265': '1.2.840.10008.1.2.4.107',
};

/**
 * Encodes one instance of a metadata upload as a Part 10 file. Bulk data is uncompressed
 * (application/octet-stream), except Pixel Data, which may be one compressed frame or a video
 * stream: the instance then takes that transfer syntax, with the pixel data as one fragment
 * after an empty Basic Offset Table (PS3.5 A.4).
 */
function encodeMetadataInstance(json: DicomJson, bulk: ReadonlyMap<string, BulkPart>): Uint8Array {
  const pixelUri = json[PIXEL_DATA]?.BulkDataURI;
  let compressed: { part: BulkPart; transferSyntaxUid: string } | undefined;
  for (const uri of bulkDataUris(json)) {
    const found = bulk.get(uri);
    if (!found) throw IngestError.cannotUnderstand(`BulkDataURI ${uri} has no part with that Content-Location in the request`);
    if (found.mediaType === OCTET_STREAM) continue;
    if (uri !== pixelUri) {
      throw IngestError.cannotUnderstand(`bulk data ${uri} is ${found.mediaType}: bulk data other than Pixel Data must be ${OCTET_STREAM}`);
    }
    compressed = { part: found, transferSyntaxUid: compressedSyntax(found, json) };
  }
  const dataset = fromDicomJson(json, { bulkData: (uri) => (compressed && uri === pixelUri ? undefined : bulk.get(uri)?.bytes) });
  if (!compressed) return writePart10(dataset, { transferSyntaxUid: ExplicitVRLittleEndian });
  const stream = compressed.part.bytes;
  const fragments: ByteRange[] = [{ offset: 0, length: 0 }, { offset: 0, length: stream.length }];
  dataset.set({ tag: 0x7fe00010, vr: 'OB', length: UNDEFINED_LENGTH, fragments });
  return writePart10(dataset, { transferSyntaxUid: compressed.transferSyntaxUid, readBulk: (range) => stream.subarray(range.offset, range.offset + range.length) });
}

function compressedSyntax(part: BulkPart, json: DicomJson): string {
  const uid = part.transferSyntaxUid ?? DEFAULT_SYNTAX_OF_MEDIA_TYPE[part.mediaType];
  const syntax = uid ? transferSyntax(uid) : undefined;
  if (!syntax?.encapsulated) {
    throw new IngestError(`Pixel Data is ${part.mediaType}${part.transferSyntaxUid ? `; transfer-syntax=${part.transferSyntaxUid}` : ''}, `
      + 'which names no compressed transfer syntax Loire knows', FailureReason.TransferSyntaxNotSupported, 415);
  }
  const frames = Number(json['00280008']?.Value?.[0] ?? 1);
  if (frames > 1 && !part.mediaType.startsWith('video/')) {
    // One part holds one frame: the frames of a multi-frame image cannot be told apart in it.
    throw new IngestError(`Pixel Data of ${frames} frames sent as one ${part.mediaType} part: send multi-frame compressed instances as ${DICOM} parts`,
      FailureReason.TransferSyntaxNotSupported, 415);
  }
  return syntax.uid;
}

function* bulkDataUris(json: DicomJson): Generator<string> {
  for (const attribute of Object.values(json)) {
    if (typeof attribute?.BulkDataURI === 'string') yield attribute.BulkDataURI;
    if (attribute?.vr === 'SQ') {
      for (const item of attribute.Value ?? []) if (item && typeof item === 'object') yield* bulkDataUris(item as DicomJson);
    }
  }
}

function jsonString(json: DicomJson, tag: string): string | undefined {
  const value = json[tag]?.Value?.[0];
  return typeof value === 'string' ? value : undefined;
}

/** A part's media type with its transfer-syntax parameter (PS3.18 §8.7.3.5). */
function partMediaTypeWithSyntax(part: PartHeaders, requestType: string): { type: string; transferSyntaxUid: string | undefined } {
  if (!part.contentType) return { type: requestType, transferSyntaxUid: undefined };
  try {
    const { type, parameters } = parseMediaType(part.contentType);
    return { type, transferSyntaxUid: parameters['transfer-syntax'] };
  } catch {
    return { type: part.contentType.toLowerCase(), transferSyntaxUid: undefined };
  }
}

/** A part's media type, its own or (RFC 2387 §3.1 lets the root type stand for it) the request's. */
function partMediaType(part: PartHeaders, requestType: string): string {
  if (!part.contentType) return requestType;
  try {
    return parseMediaType(part.contentType).type;
  } catch {
    return part.contentType.toLowerCase();
  }
}

/** Waits for ingest to store and index the instance, and files the outcome. */
async function settle(end: () => Promise<IngestResult>, part: number, outcome: StowOutcome): Promise<void> {
  try {
    const result = await end();
    outcome.stored.push(result);
  } catch (error) {
    if (!(error instanceof IngestError)) throw error;
    outcome.failed.push({ ...error.instance, reason: error.dicomStatus, part, message: error.message });
    if (isStorageFull(error)) outcome.storageFull = true;
  }
}

/** What the response reports (PS3.18 Annex I, Store Instances Response Module) and its status (Table 10.5.3-1). */
class StowOutcome {
  readonly stored: StoredItem[] = [];
  readonly failed: FailedItem[] = [];
  /** Some instance was refused because the storage is full. */
  storageFull = false;

  status(): number {
    if (this.failed.length === 0) return this.stored.length > 0 ? 200 : 400;
    if (this.stored.length > 0) return 202;
    if (this.failed.every((f) => f.wrongMediaType)) return 415;
    // Nothing could be stored for want of resources (a full disk): the server is unavailable,
    // the request itself is fine and may be sent again.
    if (this.failed.every((f) => f.reason === DicomStatus.OutOfResources)) return 503;
    return 409;
  }

  response(base: string, expectedStudy: string | undefined): DicomJson {
    const studies = new Set(this.stored.map((s) => s.studyInstanceUid));
    const study = expectedStudy ?? (studies.size === 1 ? [...studies][0] : undefined);
    const json: DicomJson = {
      // Type 2: empty when the instances stored belong to several studies (or none was stored).
      '00081190': study ? { vr: 'UR', Value: [studyUrl(base, study)] } : { vr: 'UR' },
    };
    if (this.failed.length > 0) {
      json['00081198'] = {
        vr: 'SQ',
        Value: this.failed.map((f) => ({
          '00081150': f.sopClassUid ? { vr: 'UI', Value: [f.sopClassUid] } : { vr: 'UI' },
          '00081155': f.sopInstanceUid ? { vr: 'UI', Value: [f.sopInstanceUid] } : { vr: 'UI' },
          '00081197': { vr: 'US', Value: [f.reason] },
        })),
      };
    }
    if (this.stored.length > 0) {
      json['00081199'] = {
        vr: 'SQ',
        Value: this.stored.map((s) => ({
          '00081150': { vr: 'UI', Value: [s.sopClassUid] },
          '00081155': { vr: 'UI', Value: [s.sopInstanceUid] },
          '00081190': { vr: 'UR', Value: [instanceUrl(base, s)] },
        })),
      };
    }
    return json;
  }
}
