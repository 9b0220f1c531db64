// Row types of the archive index tables, for Kysely. Column names follow the DICOM keywords
// in snake_case so that an administrator reading SQL recognises them.
import type { ColumnType, Generated } from 'kysely';

export interface PatientTable {
  pk: Generated<number>;
  /** NULL when the instances carried no Patient ID: each such study then gets its own patient. */
  patient_id: string | null;
  /** '' when absent, so that the (patient_id, issuer) unique key also holds without issuer. */
  issuer_of_patient_id: string;
  /** PN as received, component groups joined by '='. */
  patient_name: string | null;
  /** Upper-case, accent-free form of patient_name for fuzzy matching. */
  patient_name_search: string | null;
  patient_birth_date: string | null;
  patient_sex: string | null;
  created_at: string;
  updated_at: string;
}

export interface StudyTable {
  pk: Generated<number>;
  patient_fk: number;
  study_instance_uid: string;
  study_date: string | null;
  study_time: string | null;
  accession_number: string | null;
  study_id: string | null;
  referring_physician_name: string | null;
  referring_physician_name_search: string | null;
  study_description: string | null;
  /** Derived, backslash-separated, maintained at ingest. */
  modalities_in_study: string;
  sop_classes_in_study: string;
  number_of_study_related_series: number;
  number_of_study_related_instances: number;
  created_at: string;
  updated_at: string;
}

export interface SeriesTable {
  pk: Generated<number>;
  study_fk: number;
  series_instance_uid: string;
  modality: string | null;
  series_number: number | null;
  series_description: string | null;
  series_date: string | null;
  series_time: string | null;
  body_part_examined: string | null;
  laterality: string | null;
  performed_procedure_step_start_date: string | null;
  performed_procedure_step_start_time: string | null;
  station_name: string | null;
  institution_name: string | null;
  institutional_department_name: string | null;
  number_of_series_related_instances: number;
  created_at: string;
}

export interface InstanceTable {
  pk: Generated<number>;
  series_fk: number;
  sop_instance_uid: string;
  sop_class_uid: string;
  instance_number: number | null;
  transfer_syntax_uid: string;
  rows: number | null;
  columns: number | null;
  number_of_frames: number | null;
  content_date: string | null;
  content_time: string | null;
  storage_key: string;
  size: number;
  sha256: string;
  received_at: string;
  source_ae: string | null;
  /** Raw-deflated UTF-8 DICOM JSON without bulk data (see metadata-codec.ts). */
  metadata: ColumnType<Buffer, Buffer | Uint8Array, Buffer | Uint8Array>;
}

/** One audit record (see audit/store.ts for the hash chain). */
export interface AuditEventTable {
  seq: number;
  event_uid: string;
  event_time: string;
  event_id: string;
  event_type: string | null;
  action: string;
  outcome: number;
  user_id: string | null;
  user_address: string | null;
  patient_id: string | null;
  /** Study Instance UIDs joined by backslashes. */
  study_uids: string | null;
  /** JSON: what was asked (query parameters, counts, reason), for the auditor. */
  summary: string;
  /** The PS3.15 A.5 XML audit message. */
  message: string;
  /** SHA-256 (hex) of the previous row's hash followed by this row's canonical form. */
  hash: string;
}

export interface AuditForwardTable {
  collector: string;
  next_seq: number;
}

export interface IndexDatabase {
  patient: PatientTable;
  study: StudyTable;
  series: SeriesTable;
  instance: InstanceTable;
  audit_event: AuditEventTable;
  audit_forward: AuditForwardTable;
}
