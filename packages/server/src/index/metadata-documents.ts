// Stored instance metadata as DICOM JSON text, for WADO-RS metadata and QIDO-RS includefield=all:
// inflated but not parsed, so that an adapter can stream hundreds of instances without building
// objects it would only serialise again.
import { sql } from 'kysely';
import { decodeMetadataText } from './metadata-codec.js';
import type { QueryContext } from './query.js';

export interface MetadataDocument {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  /** DICOM JSON of the instance as the index keeps it (see dicom-json.ts withoutBulkData). */
  json: string;
}

/** Which instances: a study, optionally narrowed to a series and an instance. */
export interface MetadataScope {
  studyInstanceUid: string;
  seriesInstanceUid?: string;
  sopInstanceUid?: string;
}

/** What changes whenever a study's content changes: for HTTP validators (ETag, Last-Modified). */
export interface StudyVersion {
  studyInstanceUid: string;
  /** ISO 8601 time of the last instance added. */
  updatedAt: string;
  numberOfSeries: number;
  numberOfInstances: number;
}

interface DocumentRow {
  study_instance_uid: string;
  series_instance_uid: string;
  sop_instance_uid: string;
  metadata: Uint8Array;
}

function toDocument(row: DocumentRow): MetadataDocument {
  return {
    studyInstanceUid: row.study_instance_uid,
    seriesInstanceUid: row.series_instance_uid,
    sopInstanceUid: row.sop_instance_uid,
    json: decodeMetadataText(row.metadata),
  };
}

/** The instances of the scope, by series then instance number; empty when nothing matches. */
export async function metadataDocuments(context: QueryContext, scope: MetadataScope): Promise<MetadataDocument[]> {
  const conditions = [sql`study.study_instance_uid = ${scope.studyInstanceUid}`];
  const toMake = [sql`st.study_instance_uid = ${scope.studyInstanceUid}`];
  if (scope.seriesInstanceUid !== undefined) {
    conditions.push(sql`series.series_instance_uid = ${scope.seriesInstanceUid}`);
    toMake.push(sql`se.series_instance_uid = ${scope.seriesInstanceUid}`);
  }
  if (scope.sopInstanceUid !== undefined) {
    conditions.push(sql`instance.sop_instance_uid = ${scope.sopInstanceUid}`);
    toMake.push(sql`i.sop_instance_uid = ${scope.sopInstanceUid}`);
  }
  await context.beforeMetadataRead?.(sql.join(toMake, sql` and `));
  const rows = (await sql<DocumentRow>`select study.study_instance_uid, series.series_instance_uid,
      instance.sop_instance_uid, instance.metadata
    from instance join series on series.pk = instance.series_fk join study on study.pk = series.study_fk
    where ${sql.join(conditions, sql` and `)}
    order by series.series_number, series.pk, instance.instance_number, instance.pk`.execute(context.db)).rows;
  return rows.map(toDocument);
}

/** Metadata of the given instances (any order; unknown UIDs are skipped). */
export async function metadataOfInstances(context: QueryContext, sopInstanceUids: readonly string[]): Promise<MetadataDocument[]> {
  if (sopInstanceUids.length === 0) return [];
  await context.beforeMetadataRead?.(sql`i.sop_instance_uid in (${sql.join(sopInstanceUids)})`);
  const rows = (await sql<DocumentRow>`select study.study_instance_uid, series.series_instance_uid,
      instance.sop_instance_uid, instance.metadata
    from instance join series on series.pk = instance.series_fk join study on study.pk = series.study_fk
    where instance.sop_instance_uid in (${sql.join(sopInstanceUids)})`.execute(context.db)).rows;
  return rows.map(toDocument);
}

export async function studyVersion(context: QueryContext, studyInstanceUid: string): Promise<StudyVersion | undefined> {
  const row = (await context.db.selectFrom('study')
    .select(['study_instance_uid', 'updated_at', 'number_of_study_related_series', 'number_of_study_related_instances'])
    .where('study_instance_uid', '=', studyInstanceUid)
    .executeTakeFirst());
  if (!row) return undefined;
  return {
    studyInstanceUid: row.study_instance_uid,
    updatedAt: row.updated_at,
    numberOfSeries: Number(row.number_of_study_related_series),
    numberOfInstances: Number(row.number_of_study_related_instances),
  };
}
