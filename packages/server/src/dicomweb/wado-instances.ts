// Finding the stored instances a WADO-RS URL names, and keeping recently opened ones parsed.
import { transferSyntax } from '@loire/dicom';
import type { StorageRecord } from '../index/index.js';
import { openStoredInstance, type StoredInstance } from '../retrieve/stored-instance.js';
import type { ObjectStorage } from '../storage/storage.js';
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

/**
 * A bounded LRU of opened (parsed, bulk data left on disk) instances, keyed by storage key: a
 * stored object never changes under its key, so an entry cannot go stale. Viewers ask for the
 * frames of one instance in several requests; each after the first reads only frame bytes.
 */
export class OpenedInstances {
  private readonly entries = new Map<string, Promise<StoredInstance>>();

  constructor(private readonly storage: ObjectStorage, private readonly capacity = 512) {}

  open(record: StorageRecord): Promise<StoredInstance> {
    // A deflated object is held inflated in memory once opened: not worth keeping.
    if (transferSyntax(record.transferSyntaxUid)?.deflated) return openStoredInstance(this.storage, record);
    const cached = this.entries.get(record.storageKey);
    if (cached) {
      this.entries.delete(record.storageKey);
      this.entries.set(record.storageKey, cached);
      return cached;
    }
    const opening = openStoredInstance(this.storage, record);
    this.entries.set(record.storageKey, opening);
    opening.catch(() => this.entries.delete(record.storageKey));
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return opening;
  }
}
