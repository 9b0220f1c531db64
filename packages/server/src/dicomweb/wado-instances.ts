// Finding the stored instances a WADO-RS URL names.
import type { StorageRecord } from '../index/index.js';
import { parseUid, type DicomwebContext, type InstanceIds } from './context.js';
import { HttpError } from './http-error.js';

const STUDY_UID = '0020000D';
const SERIES_UID = '0020000E';
const SOP_INSTANCE_UID = '00080018';

export interface RetrieveTarget {
  studyInstanceUid: string;
  seriesInstanceUid?: string;
  sopInstanceUid?: string;
}

/** The UIDs of a WADO-RS path, each checked (PS3.5 9.1) before anything else reads them. */
export function retrieveTarget(params: { study?: string; series?: string; instance?: string }): RetrieveTarget {
  return {
    studyInstanceUid: parseUid(params.study, 'Study Instance UID'),
    ...(params.series !== undefined ? { seriesInstanceUid: parseUid(params.series, 'Series Instance UID') } : {}),
    ...(params.instance !== undefined ? { sopInstanceUid: parseUid(params.instance, 'SOP Instance UID') } : {}),
  };
}

function describeTarget(target: RetrieveTarget): string {
  if (target.sopInstanceUid) return `instance ${target.sopInstanceUid} in series ${target.seriesInstanceUid} of study ${target.studyInstanceUid}`;
  if (target.seriesInstanceUid) return `series ${target.seriesInstanceUid} in study ${target.studyInstanceUid}`;
  return `study ${target.studyInstanceUid}`;
}

/** Storage records of every instance under the target, in study/series/instance-number order; 404 when none. */
export async function findInstances(context: DicomwebContext, target: RetrieveTarget): Promise<StorageRecord[]> {
  const identifier: Record<string, { vr: string; Value: string[] }> = { [STUDY_UID]: { vr: 'UI', Value: [target.studyInstanceUid] } };
  if (target.seriesInstanceUid) identifier[SERIES_UID] = { vr: 'UI', Value: [target.seriesInstanceUid] };
  if (target.sopInstanceUid) identifier[SOP_INSTANCE_UID] = { vr: 'UI', Value: [target.sopInstanceUid] };
  const level = target.sopInstanceUid ? 'IMAGE' : target.seriesInstanceUid ? 'SERIES' : 'STUDY';
  const records = await context.archive.index.listInstancesForRetrieve(level, identifier);
  if (records.length === 0) throw HttpError.notFound(`Loire holds no ${describeTarget(target)}`);
  return records;
}

export async function findInstance(context: DicomwebContext, ids: InstanceIds): Promise<StorageRecord> {
  return (await findInstances(context, ids))[0]!;
}
