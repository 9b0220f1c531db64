// WADO-RS Retrieve Metadata (PS3.18 §10.4.1.1.2): the DICOM JSON (or XML) of every instance of a
// study, series or instance, from the index alone (no stored object is opened), with a
// BulkDataURI for each binary value (see metadata-json.ts and context.ts bulkDataUri).
import { toNativeDicomModel, type DicomJson } from '@loire/dicom';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { MetadataDocument, MetadataScope } from '../index/index.js';
import { baseUrl, bulkDataUri, parseUid, type DicomwebContext } from './context.js';
import { negotiateDicomModel } from './dicom-model-media.js';
import { HttpError } from './http-error.js';
import { metadataWithBulkDataUris } from './metadata-json.js';
import { multipartContentType, newBoundary } from './multipart.js';
import { setValidators, weakEtag } from './validators.js';

interface MetadataParams {
  study?: string;
  series?: string;
  instance?: string;
}

export function registerMetadata(app: FastifyInstance, context: DicomwebContext): void {
  const handler = (request: FastifyRequest<{ Params: MetadataParams }>, reply: FastifyReply) => sendMetadata(context, request, reply);
  const config = { access: 'view' as const };
  app.get('/studies/:study/metadata', { config }, handler);
  app.get('/studies/:study/series/:series/metadata', { config }, handler);
  app.get('/studies/:study/series/:series/instances/:instance/metadata', { config }, handler);
}

async function sendMetadata(context: DicomwebContext, request: FastifyRequest<{ Params: MetadataParams }>, reply: FastifyReply): Promise<FastifyReply> {
  const scope = scopeOf(request.params);
  const media = negotiateDicomModel(request.headers.accept);
  const { index } = context.archive;
  const version = await index.studyVersion(scope.studyInstanceUid);
  if (!version) throw HttpError.notFound(`Study ${scope.studyInstanceUid} is not in the archive`);
  const base = baseUrl(request);
  // The answer changes when an instance is added or removed (counts, time of last addition), and
  // with the base URL its BulkDataURIs carry.
  const etag = weakEtag(media, base, request.url, version.updatedAt, version.numberOfSeries, version.numberOfInstances);
  if (setValidators(request, reply, etag, new Date(version.updatedAt))) return reply.code(304).send();

  const documents = await index.metadataDocuments(scope);
  if (documents.length === 0) throw HttpError.notFound(notFoundMessage(scope));
  const texts = documents.map((document) => withUris(base, document));
  // A Buffer, so that Fastify adds no charset parameter: DICOM JSON is UTF-8 by definition (PS3.18 F.1).
  if (media === 'json') return reply.header('content-type', 'application/dicom+json').send(Buffer.from(`[${texts.join(',')}]`, 'utf8'));

  const boundary = newBoundary();
  const parts = texts.map((text) => `--${boundary}\r\nContent-Type: application/dicom+xml\r\n\r\n${toNativeDicomModel(JSON.parse(text) as DicomJson)}\r\n`);
  return reply.header('content-type', multipartContentType(boundary, 'application/dicom+xml')).send(Buffer.from(`${parts.join('')}--${boundary}--\r\n`, 'utf8'));
}

function scopeOf(params: MetadataParams): MetadataScope {
  const scope: MetadataScope = { studyInstanceUid: parseUid(params.study, 'StudyInstanceUID') };
  if (params.series !== undefined) scope.seriesInstanceUid = parseUid(params.series, 'SeriesInstanceUID');
  if (params.instance !== undefined) scope.sopInstanceUid = parseUid(params.instance, 'SOPInstanceUID');
  return scope;
}

function withUris(base: string, document: MetadataDocument): string {
  const ids = { studyInstanceUid: document.studyInstanceUid, seriesInstanceUid: document.seriesInstanceUid, sopInstanceUid: document.sopInstanceUid };
  return metadataWithBulkDataUris(document.json, (path) => bulkDataUri(base, ids, path));
}

function notFoundMessage(scope: MetadataScope): string {
  if (scope.sopInstanceUid !== undefined) {
    return `Instance ${scope.sopInstanceUid} is not in series ${scope.seriesInstanceUid} of study ${scope.studyInstanceUid}`;
  }
  return `Series ${scope.seriesInstanceUid} is not in study ${scope.studyInstanceUid}`;
}
