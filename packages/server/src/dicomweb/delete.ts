// Deletion of studies, series and instances: DELETE on the Studies resources. A Loire extension:
// PS3.18 defines no delete transaction (its Studies Service only stores, retrieves and searches).
// The index rows go first, in one transaction, so that from then on nobody finds or retrieves the
// resource; the stored objects are removed after. An object whose removal fails is only disk
// space left behind, and is logged with its storage key so that an administrator can remove it.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Archive } from '../archive.js';
import type { DeletedObjects } from '../index/index.js';
import { parseUid, type DicomwebContext } from './context.js';
import { HttpError } from './http-error.js';

/** Objects removed from storage at once. */
const REMOVAL_CONCURRENCY = 16;

type Params = { study: string; series?: string; instance?: string };

export function registerDelete(app: FastifyInstance, context: DicomwebContext): void {
  const { archive } = context;
  // The audit record is written after the response, when the study's patient can no longer be
  // looked up: name it before the rows go.
  app.addHook('preHandler', async (request) => {
    if (request.method !== 'DELETE') return;
    const study = (request.params as Partial<Params>).study;
    if (study === undefined || !/^[0-9.]{1,64}$/.test(study)) return;
    const patient = await patientOfStudy(archive, study);
    if (patient) request.auditObjects = { ...request.auditObjects, patients: [patient] };
  });
  app.delete<{ Params: Params }>('/studies/:study', { config: { access: 'delete' } }, async (request, reply) => {
    const study = parseUid(request.params.study, 'StudyInstanceUID');
    const deleted = await archive.index.deleteStudy(study);
    if (!deleted) throw HttpError.notFound(`study ${study} is not in the archive`);
    return done(archive, request, reply, { level: 'study', studyInstanceUid: study }, deleted);
  });
  app.delete<{ Params: Params }>('/studies/:study/series/:series', { config: { access: 'delete' } }, async (request, reply) => {
    const study = parseUid(request.params.study, 'StudyInstanceUID');
    const series = parseUid(request.params.series, 'SeriesInstanceUID');
    const deleted = await archive.index.deleteSeries({ studyInstanceUid: study, seriesInstanceUid: series });
    if (!deleted) throw HttpError.notFound(`series ${series} of study ${study} is not in the archive`);
    return done(archive, request, reply, { level: 'series', studyInstanceUid: study, seriesInstanceUid: series }, deleted);
  });
  app.delete<{ Params: Params }>('/studies/:study/series/:series/instances/:instance', { config: { access: 'delete' } }, async (request, reply) => {
    const ids = {
      studyInstanceUid: parseUid(request.params.study, 'StudyInstanceUID'),
      seriesInstanceUid: parseUid(request.params.series, 'SeriesInstanceUID'),
      sopInstanceUid: parseUid(request.params.instance, 'SOPInstanceUID'),
    };
    const deleted = await archive.index.deleteInstanceAt(ids);
    if (!deleted) throw HttpError.notFound(`instance ${ids.sopInstanceUid} of series ${ids.seriesInstanceUid} of study ${ids.studyInstanceUid} is not in the archive`);
    return done(archive, request, reply, { level: 'instance', ...ids }, deleted);
  });
}

async function done(archive: Archive, request: FastifyRequest, reply: FastifyReply, resource: Record<string, string>, deleted: DeletedObjects): Promise<FastifyReply> {
  const failures = await removeObjects(archive, deleted.storageKeys);
  const log = { ...resource, instances: deleted.storageKeys.length, by: request.principal?.username ?? request.ip };
  if (failures.length > 0) {
    request.log.warn({ ...log, objectsNotRemoved: failures }, 'deleted from the index, but some stored objects could not be removed: they only take disk space; remove them by their keys');
  } else {
    request.log.info(log, `${resource.level} deleted`);
  }
  return reply.code(204).send();
}

async function removeObjects(archive: Archive, keys: readonly string[]): Promise<{ key: string; error: string }[]> {
  const failures: { key: string; error: string }[] = [];
  for (let i = 0; i < keys.length; i += REMOVAL_CONCURRENCY) {
    await Promise.all(keys.slice(i, i + REMOVAL_CONCURRENCY).map(async (key) => {
      try {
        await archive.storage.delete(key);
      } catch (error) {
        failures.push({ key, error: (error as Error).message });
      }
    }));
  }
  return failures;
}

async function patientOfStudy(archive: Archive, studyInstanceUid: string): Promise<{ id: string; name?: string } | undefined> {
  const [study] = await archive.index.findAll({
    level: 'STUDY',
    identifier: { '0020000D': { vr: 'UI', Value: [studyInstanceUid] }, '00100020': { vr: 'LO' }, '00100010': { vr: 'PN' } },
    options: { relational: true, limit: 1 },
  });
  const id = study?.['00100020']?.Value?.[0];
  if (typeof id !== 'string') return undefined;
  const name = (study?.['00100010']?.Value?.[0] as { Alphabetic?: string } | undefined)?.Alphabetic;
  return { id, ...(name ? { name } : {}) };
}
