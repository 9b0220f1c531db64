// Stored instance metadata as DICOM JSON text, for WADO-RS metadata and QIDO-RS includefield=all:
// inflated but not parsed, so that an adapter can stream hundreds of instances without building
// objects it would only serialise again.
import { sql, type RawBuilder } from 'kysely';
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

/**
 * The documents of the instances `where` selects (a condition on instance `i`, series `se` and
 * study `st`, the aliases QueryContext.beforeMetadataRead takes), made first where still to make.
 */
async function documentsWhere(context: QueryContext, where: RawBuilder<unknown>, orderBy: RawBuilder<unknown> = sql``): Promise<MetadataDocument[]> {
  await context.beforeMetadataRead?.(where);
  const rows = (await sql<DocumentRow>`select st.study_instance_uid, se.series_instance_uid, i.sop_instance_uid, i.metadata
    from instance i join series se on se.pk = i.series_fk join study st on st.pk = se.study_fk
    where ${where} ${orderBy}`.execute(context.db)).rows;
  return rows.map(toDocument);
}

/** The instances of the scope, by series then instance number; empty when nothing matches. */
export async function metadataDocuments(context: QueryContext, scope: MetadataScope): Promise<MetadataDocument[]> {
  const conditions = [sql`st.study_instance_uid = ${scope.studyInstanceUid}`];
  if (scope.seriesInstanceUid !== undefined) conditions.push(sql`se.series_instance_uid = ${scope.seriesInstanceUid}`);
  if (scope.sopInstanceUid !== undefined) conditions.push(sql`i.sop_instance_uid = ${scope.sopInstanceUid}`);
  return documentsWhere(context, sql.join(conditions, sql` and `),
    sql`order by se.series_number, se.pk, i.instance_number, i.pk`);
}

/** Metadata of the given instances (any order; unknown UIDs are skipped). */
export async function metadataOfInstances(context: QueryContext, sopInstanceUids: readonly string[]): Promise<MetadataDocument[]> {
  if (sopInstanceUids.length === 0) return [];
  return documentsWhere(context, sql`i.sop_instance_uid in (${sql.join(sopInstanceUids)})`);
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
