// Turns an instance's DICOM JSON into the column values of each index table.
import { storedAttributes, TAGS, type IndexedAttribute, type IndexTableName } from './attributes.js';
import { firstInteger, firstString, type DicomJson } from './dicom-json.js';
import { personNameSearchForm } from './person-name-search.js';
import type { SqlParam } from './transaction-runner.js';

/** An instance the index refuses: the message names the missing attribute for the administrator. */
export class IndexInputError extends Error {
  override readonly name = 'IndexInputError';
}

export interface TableColumns {
  readonly names: readonly string[];
  readonly values: readonly SqlParam[];
}

export interface InstanceFields {
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly sopInstanceUid: string;
  readonly sopClassUid: string;
  readonly patientId: string | undefined;
  readonly issuerOfPatientId: string;
  readonly modality: string | undefined;
  readonly patient: TableColumns;
  readonly study: TableColumns;
  readonly series: TableColumns;
  readonly instance: TableColumns;
}

/** Column names per table, in a fixed order, so that the SQL text (and its prepared statement) never varies. */
export const COLUMN_NAMES: Record<IndexTableName, readonly string[]> = {
  patient: columnNames('patient'),
  study: columnNames('study'),
  series: columnNames('series'),
  instance: columnNames('instance'),
};

function columnNames(table: IndexTableName): string[] {
  return storedAttributes(table).flatMap((a) => (a.searchColumn ? [a.column, a.searchColumn] : [a.column]));
}

function columnValues(json: DicomJson, table: IndexTableName): TableColumns {
  const values: SqlParam[] = [];
  for (const attribute of storedAttributes(table)) {
    const value = columnValue(json, attribute);
    values.push(value);
    if (attribute.searchColumn) values.push(typeof value === 'string' ? personNameSearchForm(value) : null);
  }
  return { names: COLUMN_NAMES[table], values };
}

function columnValue(json: DicomJson, attribute: IndexedAttribute): SqlParam {
  switch (attribute.kind) {
    case 'integer':
      return firstInteger(json, attribute.tag) ?? null;
    case 'date':
      // ACR-NEMA style "2020.01.31" still arrives from old modalities.
      return firstString(json, attribute.tag)?.replace(/\./g, '') ?? null;
    case 'time':
      return firstString(json, attribute.tag)?.replace(/:/g, '') ?? null;
    default:
      return firstString(json, attribute.tag) ?? null;
  }
}

function required(json: DicomJson, tag: string, keyword: string): string {
  const value = firstString(json, tag);
  if (value === undefined) {
    throw new IndexInputError(`The instance has no ${keyword} (${tag.slice(0, 4)},${tag.slice(4)}); it cannot be indexed`);
  }
  return value;
}

export function instanceFields(json: DicomJson): InstanceFields {
  const patient = columnValues(json, 'patient');
  const issuerIndex = COLUMN_NAMES.patient.indexOf('issuer_of_patient_id');
  // '' rather than NULL so that the (patient_id, issuer) unique key also applies without issuer.
  const issuer = (patient.values[issuerIndex] as string | null) ?? '';
  const patientValues = [...patient.values];
  patientValues[issuerIndex] = issuer;
  return {
    studyInstanceUid: required(json, TAGS.StudyInstanceUID, 'StudyInstanceUID'),
    seriesInstanceUid: required(json, TAGS.SeriesInstanceUID, 'SeriesInstanceUID'),
    sopInstanceUid: required(json, TAGS.SOPInstanceUID, 'SOPInstanceUID'),
    sopClassUid: required(json, TAGS.SOPClassUID, 'SOPClassUID'),
    patientId: firstString(json, TAGS.PatientID),
    issuerOfPatientId: issuer,
    modality: firstString(json, TAGS.Modality),
    patient: { names: patient.names, values: patientValues },
    study: columnValues(json, 'study'),
    series: columnValues(json, 'series'),
    instance: columnValues(json, 'instance'),
  };
}
