// Key images and measurements of a study, for the reading console and scripts: read from the
// DICOM documents in the study (whoever wrote them), saved as new DICOM documents (TID 1500
// measurement reports, Key Object Selections) that any DICOM viewer can open.
//
//   GET  /api/studies/{study}/measurements   current measurements and the report history
//   POST /api/studies/{study}/measurements   { measurements: [...], keep?: [{ report, group }] } → a new report (201)
//   GET  /api/studies/{study}/key-images     the study's key object selections
//   POST /api/studies/{study}/key-images     { title?, description?, images: [...] } → a new selection (201)
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Archive } from '../archive.js';
import { parseUid } from '../dicomweb/context.js';
import { HttpError } from '../dicomweb/http-error.js';
import { keyImagesSchema } from '../reports/key-objects.js';
import { measurementReportSchema } from '../reports/measurement-report.js';
import { ReportInputError, ReportService, type Author } from '../reports/report-service.js';
import '../security/principal.js';

/** A measurement report of 1,000 measurements stays well under this. */
const BODY_LIMIT = 2 * 1024 * 1024;

function parseBody<T extends z.ZodTypeAny>(schema: T, body: unknown): z.infer<T> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.length > 0 ? issue.path.join('.') : 'body';
  throw HttpError.badRequest(`${field}: ${issue.message}`);
}

async function authorOf(archive: Archive, request: FastifyRequest): Promise<Author> {
  const username = request.principal?.username ?? 'anonymous';
  const account = await archive.accounts.get(username).catch(() => undefined);
  return { username, displayName: account?.displayName ?? username };
}

/** Runs a report operation, turning the study's refusals into 400/404 answers. */
async function answering<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ReportInputError) throw new HttpError(error.status, error.message);
    throw error;
  }
}

export function registerReportRoutes(app: FastifyInstance, archive: Archive): void {
  const reports = new ReportService(archive);
  const studyOf = (request: FastifyRequest) => parseUid((request.params as { study?: string }).study, 'Study Instance UID');

  app.get('/api/studies/:study/measurements', { config: { access: 'view' } }, async (request) => {
    const study = studyOf(request);
    return answering(() => reports.measurements(study));
  });

  app.post('/api/studies/:study/measurements', { config: { access: 'store' }, bodyLimit: BODY_LIMIT }, async (request, reply) => {
    const study = studyOf(request);
    const { measurements, keep } = parseBody(measurementReportSchema, request.body);
    const stored = await answering(async () => reports.saveMeasurements(study, measurements, await authorOf(archive, request), keep));
    request.auditObjects = { summary: { measurements: measurements.length, kept: keep.length, report: stored.sopInstanceUid } };
    return reply.code(201).send({ sopInstanceUid: stored.sopInstanceUid, seriesInstanceUid: stored.seriesInstanceUid, measurements: measurements.length + keep.length });
  });

  app.get('/api/studies/:study/key-images', { config: { access: 'view' } }, async (request) => {
    const study = studyOf(request);
    return answering(() => reports.keyImages(study));
  });

  app.post('/api/studies/:study/key-images', { config: { access: 'store' }, bodyLimit: BODY_LIMIT }, async (request, reply) => {
    const study = studyOf(request);
    const input = parseBody(keyImagesSchema, request.body);
    const stored = await answering(async () => reports.saveKeyImages(study, input, await authorOf(archive, request)));
    request.auditObjects = { summary: { keyImages: input.images.length, document: stored.sopInstanceUid } };
    return reply.code(201).send({ sopInstanceUid: stored.sopInstanceUid, seriesInstanceUid: stored.seriesInstanceUid, images: input.images.length });
  });
}
