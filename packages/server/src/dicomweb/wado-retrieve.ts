// WADO-RS retrieve of whole instances (PS3.18 §10.4): a study, a series or one instance as
// multipart/related; type="application/dicom", each part a Part 10 file, streamed.
import { once } from 'node:events';
import { CodecError, createFileMeta, TranscodeError, transferSyntax } from '@loire/dicom';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { StorageRecord } from '../index/index.js';
import { StorageTranscoder } from '../retrieve/transcoder.js';
import { MISSING_OBJECT } from '../storage/storage.js';
import { baseUrl, instanceUrl, type DicomwebContext } from './context.js';
import { HttpError } from './http-error.js';
import { multipartContentType, multipartStream, newBoundary, type Part } from './multipart.js';
import { findInstances, retrieveTarget, type RetrieveTarget } from './wado-instances.js';
import { DICOM_MEDIA_TYPE, instanceAcceptance, planInstance, type InstancePlan } from './wado-negotiation.js';

interface RetrieveParams { study: string; series?: string; instance?: string }

export function registerWadoRetrieve(app: FastifyInstance, context: DicomwebContext): void {
  const transcoder = new StorageTranscoder(context.archive.storage);
  const handler = async (request: FastifyRequest<{ Params: RetrieveParams }>, reply: FastifyReply): Promise<FastifyReply> => {
    const target = retrieveTarget(request.params);
    const acceptance = instanceAcceptance(request.headers.accept);
    const records = await findInstances(context, target);
    const planned: { record: StorageRecord; plan: InstancePlan }[] = [];
    const unservable: StorageRecord[] = [];
    for (const record of records) {
      const plan = planInstance(acceptance, record.transferSyntaxUid);
      if (plan) planned.push({ record, plan }); else unservable.push(record);
    }
    const syntaxNames = (list: StorageRecord[]): string => [...new Set(list.map((r) => transferSyntax(r.transferSyntaxUid)?.name ?? r.transferSyntaxUid))].join(', ');
    if (planned.length === 0) {
      throw HttpError.notAcceptable(`cannot send ${records.length === 1 ? 'this instance' : 'any of these instances'} in a transfer syntax the Accept header allows (${acceptance.syntaxes.join(', ')}): stored as ${syntaxNames(unservable)}; ask with transfer-syntax=* for the stored bytes`);
    }
    if (unservable.length > 0) {
      // PS3.18 §10.4.3: a partial response carries a warning naming what was left out.
      reply.header('Warning', `299 Loire "${unservable.length} of ${records.length} instances were left out: stored as ${syntaxNames(unservable)}, which cannot be converted to ${acceptance.syntaxes.join(', ')}"`);
      request.log.warn({ left: unservable.map((r) => r.sopInstanceUid), accept: request.headers.accept }, 'WADO-RS retrieve left out instances it cannot convert');
    }
    const locate = await instanceLocator(context, baseUrl(request), target);
    const boundary = newBoundary();
    // A single instance is opened (and converted) before the status is sent, so that a failure is a clear error, not a cut body.
    const parts = planned.length === 1
      ? single(await onlyPart(context, transcoder, planned[0]!.record, planned[0]!.plan, locate(planned[0]!.record), request))
      : instanceParts(context, transcoder, planned, locate, request);
    reply.header('Content-Type', multipartContentType(boundary, DICOM_MEDIA_TYPE));
    return reply.send(multipartStream(boundary, parts));
  };
  const config = { access: 'view' } as const;
  app.get('/studies/:study', { config }, handler);
  app.get('/studies/:study/series/:series', { config }, handler);
  app.get('/studies/:study/series/:series/instances/:instance', { config }, handler);
}

/** The series of each instance of a study, in one index query (for Content-Location). */
async function seriesOfInstances(context: DicomwebContext, studyInstanceUid: string): Promise<Map<string, string>> {
  const rows = await context.archive.index.db.selectFrom('instance')
    .innerJoin('series', 'series.pk', 'instance.series_fk')
    .innerJoin('study', 'study.pk', 'series.study_fk')
    .select(['instance.sop_instance_uid', 'series.series_instance_uid'])
    .where('study.study_instance_uid', '=', studyInstanceUid)
    .execute();
  return new Map(rows.map((row) => [row.sop_instance_uid, row.series_instance_uid]));
}

/** One part: the stored file as a stream, or the converted file (converted in memory: decoders need whole frames). */
async function instancePart(
  context: DicomwebContext, transcoder: StorageTranscoder, record: StorageRecord, plan: InstancePlan, location: string | undefined,
): Promise<Part> {
  const headers: Record<string, string> = location ? { 'Content-Location': location } : {};
  const contentType = `${DICOM_MEDIA_TYPE}; transfer-syntax=${plan.transferSyntaxUid}`;
  if (plan.kind === 'stored') {
    // Stored objects are Part 10 files with their File Meta (ingest keeps them byte for byte).
    const body = context.archive.storage.read(record.storageKey);
    // Its first bytes before its part begins: an object missing from storage fails here, and is left out whole.
    await once(body, 'readable');
    return { contentType, headers: { ...headers, 'Content-Length': String(record.size) }, body };
  }
  let dataset;
  try {
    dataset = await transcoder.transcode({ ...record }, plan.transferSyntaxUid);
  } catch (error) {
    if (error instanceof TranscodeError || error instanceof CodecError) {
      throw HttpError.notAcceptable(`instance ${record.sopInstanceUid} cannot be converted to ${transferSyntax(plan.transferSyntaxUid)?.name ?? plan.transferSyntaxUid}: ${error.message}`);
    }
    throw error;
  }
  const chunks: Buffer[] = [Buffer.from(createFileMeta({ sopClassUid: record.sopClassUid, sopInstanceUid: record.sopInstanceUid, transferSyntaxUid: plan.transferSyntaxUid }))];
  for await (const chunk of dataset) chunks.push(chunk as Buffer);
  return { contentType, headers, body: Buffer.concat(chunks) };
}

/** The Content-Location of each instance: its retrieve URL (the series comes from the index for a study-level request). */
async function instanceLocator(context: DicomwebContext, base: string, target: RetrieveTarget): Promise<(record: StorageRecord) => string | undefined> {
  const seriesOf = target.seriesInstanceUid ? undefined : await seriesOfInstances(context, target.studyInstanceUid);
  return (record) => {
    const seriesInstanceUid = target.seriesInstanceUid ?? seriesOf?.get(record.sopInstanceUid);
    return seriesInstanceUid
      ? instanceUrl(base, { studyInstanceUid: target.studyInstanceUid, seriesInstanceUid, sopInstanceUid: record.sopInstanceUid })
      : undefined;
  };
}

async function* instanceParts(
  context: DicomwebContext, transcoder: StorageTranscoder, planned: { record: StorageRecord; plan: InstancePlan }[],
  locate: (record: StorageRecord) => string | undefined, request: FastifyRequest,
): AsyncGenerator<Part> {
  for (const { record, plan } of planned) {
    let part: Part;
    try {
      part = await instancePart(context, transcoder, record, plan, locate(record));
    } catch (error) {
      // Headers are sent: an instance that cannot be read or converted is left out and logged (PS3.18 §10.4.3).
      if (isMissing(error)) request.log.error({ sopInstanceUid: record.sopInstanceUid, storageKey: record.storageKey }, `WADO-RS retrieve left out an instance: ${MISSING_OBJECT}`);
      else request.log.warn({ err: error, sopInstanceUid: record.sopInstanceUid, to: plan.transferSyntaxUid }, 'WADO-RS retrieve left out an instance that failed to convert');
      continue;
    }
    yield part;
  }
}

/** The part of a request for one instance: an object missing from storage is a server error that says so. */
async function onlyPart(
  context: DicomwebContext, transcoder: StorageTranscoder, record: StorageRecord, plan: InstancePlan, location: string | undefined, request: FastifyRequest,
): Promise<Part> {
  try {
    return await instancePart(context, transcoder, record, plan, location);
  } catch (error) {
    if (!isMissing(error)) throw error;
    request.log.error({ sopInstanceUid: record.sopInstanceUid, storageKey: record.storageKey }, `WADO-RS retrieve: ${MISSING_OBJECT}`);
    throw new HttpError(500, `instance ${record.sopInstanceUid} is in the index but its object is missing from storage; the administrator can list every such object with loire verify`);
  }
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

async function* single(part: Part): AsyncGenerator<Part> {
  yield part;
}
