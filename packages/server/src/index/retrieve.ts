// Reads for C-MOVE/C-GET, WADO-RS and verification: instance storage records and metadata.
import { sql } from 'kysely';
import { ATTRIBUTE_BY_TAG, levelRank, LEVELS, UNIQUE_KEY_OF_LEVEL, type QueryLevel } from './attributes.js';
import type { DicomJson } from './dicom-json.js';
import { matchPredicate, queryValues } from './matching.js';
import { decodeMetadata } from './metadata-codec.js';
import { QueryError, type QueryContext } from './query.js';

export interface StorageRecord {
  sopInstanceUid: string;
  sopClassUid: string;
  transferSyntaxUid: string;
  storageKey: string;
  size: number;
  sha256: string;
}

export interface InstanceRecord extends StorageRecord {
  seriesInstanceUid: string;
  studyInstanceUid: string;
  receivedAt: string;
  sourceAe: string | null;
  metadata: DicomJson;
}

interface StorageRow {
  sop_instance_uid: string;
  sop_class_uid: string;
  transfer_syntax_uid: string;
  storage_key: string;
  size: number | string;
  sha256: string;
}

function toStorageRecord(row: StorageRow): StorageRecord {
  return {
    sopInstanceUid: row.sop_instance_uid,
    sopClassUid: row.sop_class_uid,
    transferSyntaxUid: row.transfer_syntax_uid,
    storageKey: row.storage_key,
    size: Number(row.size),
    sha256: row.sha256,
  };
}

const STORAGE_COLUMNS = sql`instance.sop_instance_uid, instance.sop_class_uid, instance.transfer_syntax_uid,
  instance.storage_key, instance.size, instance.sha256`;
const INSTANCE_FROM = sql`instance join series on series.pk = instance.series_fk
  join study on study.pk = series.study_fk join patient on patient.pk = study.patient_fk`;

/**
 * The instances a C-MOVE/C-GET identifier designates (PS3.4 C.4.2.2.1): the unique keys of the
 * retrieve level and above, matched as single values or UID lists. The unique key of the level
 * itself is required, so that an empty identifier never retrieves the whole archive.
 */
export async function listInstancesForRetrieve(
  context: QueryContext, level: QueryLevel, identifier: DicomJson,
): Promise<StorageRecord[]> {
  const levelKey = UNIQUE_KEY_OF_LEVEL[level];
  const levelElement = identifier[levelKey];
  if (!levelElement || queryValues(levelElement).length === 0) {
    const keyword = ATTRIBUTE_BY_TAG.get(levelKey)?.keyword ?? levelKey;
    throw new QueryError(`A ${level}-level retrieve needs ${keyword} (${levelKey.slice(0, 4)},${levelKey.slice(4)})`, 0xa900);
  }
  const where = LEVELS.slice(0, levelRank(level) + 1).flatMap((upper) => {
    const tag = UNIQUE_KEY_OF_LEVEL[upper];
    const element = identifier[tag];
    if (!element) return [];
    const predicate = matchPredicate(ATTRIBUTE_BY_TAG.get(tag)!, element, { dialect: context.dialect, fuzzyPersonNames: false });
    return predicate ? [predicate] : [];
  });
  const rows = (await sql<StorageRow>`select ${STORAGE_COLUMNS} from ${INSTANCE_FROM}
    where ${sql.join(where, sql` and `)}
    order by study.pk, series.pk, instance.instance_number, instance.pk`.execute(context.db)).rows;
  return rows.map(toStorageRecord);
}

export async function getInstance(context: QueryContext, sopInstanceUid: string): Promise<InstanceRecord | undefined> {
  await context.beforeMetadataRead?.(sql`i.sop_instance_uid = ${sopInstanceUid}`);
  const row = (await sql<StorageRow & {
    series_instance_uid: string; study_instance_uid: string; received_at: string; source_ae: string | null; metadata: Uint8Array;
  }>`select ${STORAGE_COLUMNS}, series.series_instance_uid, study.study_instance_uid, instance.received_at,
      instance.source_ae, instance.metadata
    from ${INSTANCE_FROM} where instance.sop_instance_uid = ${sopInstanceUid}`.execute(context.db)).rows[0];
  if (!row) return undefined;
  return {
    ...toStorageRecord(row),
    seriesInstanceUid: row.series_instance_uid,
    studyInstanceUid: row.study_instance_uid,
    receivedAt: row.received_at,
    sourceAe: row.source_ae,
    metadata: decodeMetadata(row.metadata),
  };
}

/** Full metadata (without bulk data) of every instance of a series, by instance number, no file read. */
export async function seriesMetadata(context: QueryContext, seriesInstanceUid: string): Promise<DicomJson[]> {
  await context.beforeMetadataRead?.(sql`se.series_instance_uid = ${seriesInstanceUid}`);
  const rows = (await context.db.selectFrom('instance')
    .innerJoin('series', 'series.pk', 'instance.series_fk')
    .select(['instance.metadata'])
    .where('series.series_instance_uid', '=', seriesInstanceUid)
    .orderBy('instance.instance_number')
    .orderBy('instance.pk')
    .execute());
  return rows.map((r) => decodeMetadata(r.metadata));
}

/** Every storage record, in pages by primary key (constant memory), for `loire verify`. */
export async function* allStorageRecords(context: QueryContext, pageSize = 1000): AsyncGenerator<StorageRecord> {
  let after = 0;
  for (;;) {
    const rows = await context.db.selectFrom('instance')
      .select(['pk', 'sop_instance_uid', 'sop_class_uid', 'transfer_syntax_uid', 'storage_key', 'size', 'sha256'])
      .where('pk', '>', after)
      .orderBy('pk')
      .limit(pageSize)
      .execute();
    for (const row of rows) yield toStorageRecord(row);
    if (rows.length < pageSize) return;
    after = Number(rows[rows.length - 1]!.pk);
  }
}
