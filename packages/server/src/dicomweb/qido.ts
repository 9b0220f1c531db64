// QIDO-RS (PS3.18 §10.6): search for studies, series and instances, answered from the index
// only, as application/dicom+json or multipart/related; type="application/dicom+xml".
import { createHash } from 'node:crypto';
import { toNativeDicomModel } from '@loire/dicom';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { QueryError, type DicomJson } from '../index/index.js';
import { TAGS } from '../index/attributes.js';
import { baseUrl, instanceUrl, parseUid, seriesUrl, studyUrl, type DicomwebContext } from './context.js';
import { negotiateDicomModel } from './dicom-model-media.js';
import { HttpError } from './http-error.js';
import { withBulkDataUris } from './metadata-json.js';
import { bulkDataUri } from './context.js';
import { multipartContentType } from './multipart.js';
import {
  INSTANCE_AVAILABILITY, parseSearchQuery, RETRIEVE_URL, type SearchQuery, type SearchResource,
} from './qido-query.js';
import { setValidators, weakEtag } from './validators.js';

/**
 * The most results one answer carries (maxResults of PS3.18 §8.3.4.4.1): a larger `limit`, or
 * none, is capped and, when matches were left out, the answer says so in a Warning header; the
 * client pages on with `offset`. Refusing a large limit would break clients that ask for
 * "everything" and page on the warning, as the standard lets them.
 */
export const MAX_RESULTS: Record<SearchResource['level'], number> = { STUDY: 1000, SERIES: 1000, IMAGE: 10_000 };

interface SearchParams {
  study?: string;
  series?: string;
}

export function registerQido(app: FastifyInstance, context: DicomwebContext): void {
  const route = (url: string, level: SearchResource['level']): void => {
    app.get(url, { config: { access: 'query' } }, (request: FastifyRequest<{ Params: SearchParams }>, reply) => search(context, request, reply, level));
  };
  route('/studies', 'STUDY');
  route('/studies/:study/series', 'SERIES');
  route('/series', 'SERIES');
  route('/studies/:study/series/:series/instances', 'IMAGE');
  route('/studies/:study/instances', 'IMAGE');
  route('/instances', 'IMAGE');
}

async function search(
  context: DicomwebContext, request: FastifyRequest<{ Params: SearchParams }>, reply: FastifyReply, level: SearchResource['level'],
): Promise<FastifyReply> {
  const resource: SearchResource = { level };
  if (request.params.study !== undefined) resource.studyInstanceUid = parseUid(request.params.study, 'StudyInstanceUID');
  if (request.params.series !== undefined) resource.seriesInstanceUid = parseUid(request.params.series, 'SeriesInstanceUID');
  const rawQuery = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
  const query = parseSearchQuery(rawQuery, resource);
  const media = negotiateDicomModel(request.headers.accept);
  await checkPathExists(context, resource);

  const base = baseUrl(request);
  const { results, truncated } = await runSearch(context, query, base);
  // No match (or an offset past the last one): 204 No Content (PS3.18 §8.3.4.4.1).
  if (results.length === 0) return reply.code(204).send();
  const warnings: string[] = [];
  if (truncated) warnings.push('The number of results exceeded the maximum supported by the server. Additional results can be requested.');
  if (query.unmatchedKeys.length > 0) {
    warnings.push(`The following attributes are not supported for matching at this level and were only returned: ${query.unmatchedKeys.join(', ')}`);
  }
  if (warnings.length > 0) reply.header('Warning', warnings.map((text) => `299 ${request.host}: "${text.replace(/["\\]/g, '')}"`).join(', '));

  let body: string;
  let contentType: string;
  if (media === 'json') {
    body = JSON.stringify(results);
    contentType = 'application/dicom+json';
  } else {
    // A fixed boundary derived from the content keeps the answer (and its ETag) deterministic.
    const boundary = `loire-${createHash('sha256').update(JSON.stringify(results)).digest('hex').slice(0, 24)}`;
    body = results.map((json) => `--${boundary}\r\nContent-Type: application/dicom+xml\r\n\r\n${toNativeDicomModel(json)}\r\n`).join('') + `--${boundary}--\r\n`;
    contentType = multipartContentType(boundary, 'application/dicom+xml');
  }
  if (setValidators(request, reply, weakEtag(contentType, body))) return reply.code(304).send();
  return reply.header('content-type', contentType).send(Buffer.from(body, 'utf8'));
}

/** A search under /studies/{s}[/series/{se}] on a study or series the archive does not hold is a 404, not an empty list. */
async function checkPathExists(context: DicomwebContext, resource: SearchResource): Promise<void> {
  const { index } = context.archive;
  if (resource.studyInstanceUid === undefined) return;
  if (!(await index.studyVersion(resource.studyInstanceUid))) throw HttpError.notFound(`Study ${resource.studyInstanceUid} is not in the archive`);
  if (resource.seriesInstanceUid === undefined) return;
  const found = await index.count({
    level: 'SERIES',
    identifier: { [TAGS.StudyInstanceUID]: { vr: 'UI', Value: [resource.studyInstanceUid] }, [TAGS.SeriesInstanceUID]: { vr: 'UI', Value: [resource.seriesInstanceUid] } },
    options: { relational: true },
  });
  if (found === 0) throw HttpError.notFound(`Series ${resource.seriesInstanceUid} is not in study ${resource.studyInstanceUid}`);
}

async function runSearch(context: DicomwebContext, query: SearchQuery, base: string): Promise<{ results: DicomJson[]; truncated: boolean }> {
  const { index } = context.archive;
  const max = MAX_RESULTS[query.level];
  const wanted = Math.min(query.limit ?? max, max);
  // One more than the cap tells whether results were left out.
  const probe = query.limit === undefined || query.limit > max ? wanted + 1 : wanted;
  const identifier: DicomJson = { ...query.identifier };
  const returnRetrieveUrl = identifier[RETRIEVE_URL] !== undefined;
  const returnAvailability = identifier[INSTANCE_AVAILABILITY] !== undefined;
  delete identifier[RETRIEVE_URL];
  delete identifier[INSTANCE_AVAILABILITY];
  let results: DicomJson[];
  try {
    results = await index.findAll({
      level: query.level, identifier,
      options: { relational: true, fuzzyPersonNames: query.fuzzy, limit: probe, offset: query.offset },
    });
  } catch (error) {
    if (error instanceof QueryError) throw HttpError.badRequest(error.message);
    throw error;
  }
  const truncated = results.length > wanted;
  if (truncated) results = results.slice(0, wanted);
  if (query.includeAll && query.level === 'IMAGE') results = await withWholeInstances(context, results, base);
  return { results: results.map((json) => finish(json, query, base, returnRetrieveUrl, returnAvailability)), truncated };
}

/** includefield=all at instance level: every attribute of the stored metadata, binary values as BulkDataURIs. */
async function withWholeInstances(context: DicomwebContext, results: DicomJson[], base: string): Promise<DicomJson[]> {
  const sopUids = results.map((json) => String(json[TAGS.SOPInstanceUID]?.Value?.[0] ?? ''));
  const documents = new Map((await context.archive.index.metadataOfInstances(sopUids)).map((d) => [d.sopInstanceUid, d]));
  return results.map((json, i) => {
    const document = documents.get(sopUids[i]!);
    if (!document) return json;
    const ids = { studyInstanceUid: document.studyInstanceUid, seriesInstanceUid: document.seriesInstanceUid, sopInstanceUid: document.sopInstanceUid };
    const whole = withBulkDataUris(JSON.parse(document.json) as DicomJson, (path) => bulkDataUri(base, ids, path));
    return { ...whole, ...json };
  });
}

/** Adds the attributes the server computes (PS3.18 §10.6.3.3): Retrieve URL and Instance Availability. */
function finish(json: DicomJson, query: SearchQuery, base: string, retrieveUrl: boolean, availability: boolean): DicomJson {
  const out: DicomJson = { ...json };
  delete out[TAGS.QueryRetrieveLevel]; // a C-FIND attribute, not part of a QIDO-RS answer
  if (availability) out[INSTANCE_AVAILABILITY] = { vr: 'CS', Value: ['ONLINE'] };
  if (retrieveUrl) {
    const study = String(json[TAGS.StudyInstanceUID]?.Value?.[0] ?? '');
    const series = String(json[TAGS.SeriesInstanceUID]?.Value?.[0] ?? '');
    const sop = String(json[TAGS.SOPInstanceUID]?.Value?.[0] ?? '');
    const url = query.level === 'STUDY' ? studyUrl(base, study)
      : query.level === 'SERIES' ? seriesUrl(base, { studyInstanceUid: study, seriesInstanceUid: series })
        : instanceUrl(base, { studyInstanceUid: study, seriesInstanceUid: series, sopInstanceUid: sop });
    out[RETRIEVE_URL] = { vr: 'UR', Value: [url] };
  }
  const sorted: DicomJson = {};
  for (const tag of Object.keys(out).sort()) sorted[tag] = out[tag]!;
  return sorted;
}
