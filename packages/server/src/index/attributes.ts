// The attributes the index keeps in columns, per query/retrieve level (PS3.4 C.6.1/C.6.2), and
// how each one is matched. Everything else is answered from the stored instance metadata.
import { lookupKeyword } from '@loire/dicom';

export type QueryLevel = 'PATIENT' | 'STUDY' | 'SERIES' | 'IMAGE';
export const LEVELS: readonly QueryLevel[] = ['PATIENT', 'STUDY', 'SERIES', 'IMAGE'];

export type IndexTableName = 'patient' | 'study' | 'series' | 'instance';
export const TABLE_OF_LEVEL: Record<QueryLevel, IndexTableName> = {
  PATIENT: 'patient',
  STUDY: 'study',
  SERIES: 'series',
  IMAGE: 'instance',
};

/**
 * How a key is matched and its column value rendered:
 * - uid: single value or list (PS3.4 C.2.2.2.2), never wildcards;
 * - string / pn: single value or wildcard (C.2.2.2.1/C.2.2.2.4);
 * - date / time / datetime: single value or range (C.2.2.2.5);
 * - integer: single value;
 * - modalities / sop-classes: derived multi-valued study attributes, matched via the series or
 *   instance rows they summarise;
 * - count: derived, returned only.
 */
export type MatchKind =
  | 'uid' | 'string' | 'pn' | 'date' | 'time' | 'datetime' | 'integer'
  | 'modalities' | 'sop-classes' | 'count';

export interface IndexedAttribute {
  readonly keyword: string;
  readonly tag: string;
  readonly vr: string;
  readonly level: QueryLevel;
  readonly table: IndexTableName;
  /** Column holding the value; for patient-level counts, the name of a computed expression. */
  readonly column: string;
  readonly kind: MatchKind;
  /** PN only: the upper-case, accent-free column used by fuzzy matching. */
  readonly searchColumn?: string;
  /** Derived by the index, never read from the instance. */
  readonly derived?: boolean;
}

type Row = [keyword: string, level: QueryLevel, column: string, kind: MatchKind, searchColumn?: string];

const ROWS: readonly Row[] = [
  ['PatientID', 'PATIENT', 'patient_id', 'string'],
  ['IssuerOfPatientID', 'PATIENT', 'issuer_of_patient_id', 'string'],
  ['PatientName', 'PATIENT', 'patient_name', 'pn', 'patient_name_search'],
  ['PatientBirthDate', 'PATIENT', 'patient_birth_date', 'date'],
  ['PatientSex', 'PATIENT', 'patient_sex', 'string'],
  ['NumberOfPatientRelatedStudies', 'PATIENT', 'number_of_patient_related_studies', 'count'],
  ['NumberOfPatientRelatedSeries', 'PATIENT', 'number_of_patient_related_series', 'count'],
  ['NumberOfPatientRelatedInstances', 'PATIENT', 'number_of_patient_related_instances', 'count'],

  ['StudyInstanceUID', 'STUDY', 'study_instance_uid', 'uid'],
  ['StudyDate', 'STUDY', 'study_date', 'date'],
  ['StudyTime', 'STUDY', 'study_time', 'time'],
  ['AccessionNumber', 'STUDY', 'accession_number', 'string'],
  ['StudyID', 'STUDY', 'study_id', 'string'],
  ['ReferringPhysicianName', 'STUDY', 'referring_physician_name', 'pn', 'referring_physician_name_search'],
  ['StudyDescription', 'STUDY', 'study_description', 'string'],
  ['ModalitiesInStudy', 'STUDY', 'modalities_in_study', 'modalities'],
  ['SOPClassesInStudy', 'STUDY', 'sop_classes_in_study', 'sop-classes'],
  ['NumberOfStudyRelatedSeries', 'STUDY', 'number_of_study_related_series', 'count'],
  ['NumberOfStudyRelatedInstances', 'STUDY', 'number_of_study_related_instances', 'count'],

  ['SeriesInstanceUID', 'SERIES', 'series_instance_uid', 'uid'],
  ['Modality', 'SERIES', 'modality', 'string'],
  ['SeriesNumber', 'SERIES', 'series_number', 'integer'],
  ['SeriesDescription', 'SERIES', 'series_description', 'string'],
  ['SeriesDate', 'SERIES', 'series_date', 'date'],
  ['SeriesTime', 'SERIES', 'series_time', 'time'],
  ['BodyPartExamined', 'SERIES', 'body_part_examined', 'string'],
  ['Laterality', 'SERIES', 'laterality', 'string'],
  ['PerformedProcedureStepStartDate', 'SERIES', 'performed_procedure_step_start_date', 'date'],
  ['PerformedProcedureStepStartTime', 'SERIES', 'performed_procedure_step_start_time', 'time'],
  ['StationName', 'SERIES', 'station_name', 'string'],
  ['InstitutionName', 'SERIES', 'institution_name', 'string'],
  ['InstitutionalDepartmentName', 'SERIES', 'institutional_department_name', 'string'],
  ['NumberOfSeriesRelatedInstances', 'SERIES', 'number_of_series_related_instances', 'count'],

  ['SOPInstanceUID', 'IMAGE', 'sop_instance_uid', 'uid'],
  ['SOPClassUID', 'IMAGE', 'sop_class_uid', 'uid'],
  ['InstanceNumber', 'IMAGE', 'instance_number', 'integer'],
  ['Rows', 'IMAGE', 'rows', 'integer'],
  ['Columns', 'IMAGE', 'columns', 'integer'],
  ['NumberOfFrames', 'IMAGE', 'number_of_frames', 'integer'],
  ['ContentDate', 'IMAGE', 'content_date', 'date'],
  ['ContentTime', 'IMAGE', 'content_time', 'time'],
];

/** Attributes computed by the index rather than copied from the instance. */
const DERIVED_KINDS: ReadonlySet<MatchKind> = new Set(['modalities', 'sop-classes', 'count']);

function tagHex(tag: number): string {
  return tag.toString(16).toUpperCase().padStart(8, '0');
}

function build(row: Row): IndexedAttribute {
  const [keyword, level, column, kind, searchColumn] = row;
  const entry = lookupKeyword(keyword);
  if (!entry) throw new Error(`Index attribute table: "${keyword}" is not in the DICOM dictionary`);
  return {
    keyword,
    tag: tagHex(entry.tag),
    vr: entry.vr,
    level,
    table: TABLE_OF_LEVEL[level],
    column,
    kind,
    ...(searchColumn ? { searchColumn } : {}),
    ...(DERIVED_KINDS.has(kind) ? { derived: true } : {}),
  };
}

export const INDEXED_ATTRIBUTES: readonly IndexedAttribute[] = ROWS.map(build);
export const ATTRIBUTE_BY_TAG: ReadonlyMap<string, IndexedAttribute> = new Map(
  INDEXED_ATTRIBUTES.map((a) => [a.tag, a]),
);

/** Columns copied from the instance at ingest, per table. */
export function storedAttributes(table: IndexTableName): IndexedAttribute[] {
  return INDEXED_ATTRIBUTES.filter((a) => a.table === table && !a.derived);
}

function tagOf(keyword: string): string {
  const entry = lookupKeyword(keyword);
  if (!entry) throw new Error(`"${keyword}" is not in the DICOM dictionary`);
  return tagHex(entry.tag);
}

export const TAGS = {
  SpecificCharacterSet: tagOf('SpecificCharacterSet'),
  QueryRetrieveLevel: tagOf('QueryRetrieveLevel'),
  PatientID: tagOf('PatientID'),
  IssuerOfPatientID: tagOf('IssuerOfPatientID'),
  StudyInstanceUID: tagOf('StudyInstanceUID'),
  SeriesInstanceUID: tagOf('SeriesInstanceUID'),
  SOPInstanceUID: tagOf('SOPInstanceUID'),
  SOPClassUID: tagOf('SOPClassUID'),
  Modality: tagOf('Modality'),
  InstanceNumber: tagOf('InstanceNumber'),
} as const;

/**
 * Every attribute an instance's index columns are computed from (see instance-fields.ts), with
 * the Specific Character Set that decodes their text: all ingest must convert before the
 * instance's metadata document is made.
 */
export const INDEX_SOURCE_TAGS: ReadonlySet<number> = new Set([
  ...INDEXED_ATTRIBUTES.filter((a) => !a.derived).map((a) => a.tag),
  ...Object.values(TAGS),
].map((tag) => parseInt(tag, 16)));

/** The unique key of each level (PS3.4 C.6.1.1/C.6.2.1). */
export const UNIQUE_KEY_OF_LEVEL: Record<QueryLevel, string> = {
  PATIENT: TAGS.PatientID,
  STUDY: TAGS.StudyInstanceUID,
  SERIES: TAGS.SeriesInstanceUID,
  IMAGE: TAGS.SOPInstanceUID,
};

export function levelRank(level: QueryLevel): number {
  return LEVELS.indexOf(level);
}
