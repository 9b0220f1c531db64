// Indexing of received instances: patient/study/series upsert, instance insert and the derived
// study attributes, all in one transaction per instance or per batch (group commit).
import { withoutBulkData, type DicomJson } from './dicom-json.js';
import { COLUMN_NAMES, IndexInputError, instanceFields, type InstanceFields } from './instance-fields.js';
import { encodeMetadata, METADATA_TO_MAKE } from './metadata-codec.js';
import { get, all, run, type SqlProgram, type TransactionRunner } from './transaction-runner.js';

export type DuplicatePolicy = 'reject' | 'overwrite' | 'keep-first';
export type IndexOutcome = 'stored' | 'duplicate-ignored' | 'replaced' | 'rejected-duplicate';

export interface IndexRequest {
  /**
   * The instance's DICOM JSON; with `metadataLater`, only its attributes of INDEX_SOURCE_TAGS. A
   * function makes it when first needed: for a journalled request, after its caller is answered
   * (see write-queue.ts).
   */
  json: DicomJson | (() => DicomJson);
  /**
   * The metadata document is made after the commit, from the stored object (see
   * metadata-filler.ts), instead of from `json`: what ingest does to keep pace with its peers.
   */
  metadataLater?: boolean;
  /**
   * Where the object is stored. A function for `sha256` computes it when the request is prepared:
   * for a journalled request, after its caller is answered, like `json`.
   */
  storage: { key: string; size: number; sha256: string | (() => string); transferSyntaxUid: string };
  /** Calling AE title or other source description. */
  receivedFrom?: string | undefined;
  duplicatePolicy: DuplicatePolicy;
}

export interface IndexResult {
  outcome: IndexOutcome;
  /** Storage key of the replaced copy, when it differs from the new one: the caller deletes it. */
  replacedStorageKey?: string;
  /** Inconsistencies that did not stop indexing (e.g. a known study received with another patient). */
  warnings: string[];
}

/** Where a prepared instance is stored, its SHA-256 computed. */
export type StoredInstance = IndexRequest['storage'] & { sha256: string };

export type BatchIndexResult = IndexResult | { outcome: 'invalid'; error: IndexInputError };

/**
 * A request checked and turned into column values: indexing it can fail only for database
 * reasons. Its metadata document is encoded when first needed (see encodeMetadata()), so that a
 * caller answered before the commit (see write-queue.ts) does not wait for it.
 */
export class PreparedRequest {
  readonly storage: StoredInstance;
  readonly receivedFrom: string | undefined;
  readonly duplicatePolicy: DuplicatePolicy;
  /** Until the document is encoded: queued entries may wait tens of milliseconds, and the object graph is many times the size of its encoding. */
  private json: DicomJson | undefined;
  private encoded: Buffer | undefined;

  constructor(request: IndexRequest, json: DicomJson, readonly fields: InstanceFields) {
    const { storage } = request;
    this.storage = typeof storage.sha256 === 'string' ? storage as StoredInstance : { ...storage, sha256: storage.sha256() };
    this.receivedFrom = request.receivedFrom;
    this.duplicatePolicy = request.duplicatePolicy;
    if (request.metadataLater) this.encoded = METADATA_TO_MAKE;
    else this.json = json;
  }

  /** Encodes the metadata document now, if not done yet, and lets go of the DICOM JSON. */
  encodeMetadata(): void {
    if (this.encoded !== undefined) return;
    this.encoded = encodeMetadata(withoutBulkData(this.json!));
    this.json = undefined;
  }

  /** The metadata document as the index keeps it: without bulk data, compressed. */
  get metadata(): Buffer {
    this.encodeMetadata();
    return this.encoded!;
  }
}

/** Checks a request and computes its columns; throws IndexInputError when it cannot be indexed. */
export function prepare(request: IndexRequest): PreparedRequest {
  const json = typeof request.json === 'function' ? request.json() : request.json;
  return new PreparedRequest(request, json, instanceFields(json));
}

/**
 * Indexes many instances in one transaction. Invalid instances are reported, not fatal; a
 * database error fails the whole batch (the caller may retry the items one by one).
 */
export async function indexInstances(runner: TransactionRunner, requests: readonly IndexRequest[]): Promise<BatchIndexResult[]> {
  const results: BatchIndexResult[] = new Array(requests.length);
  const valid: { position: number; prepared: PreparedRequest }[] = [];
  requests.forEach((request, position) => {
    try {
      valid.push({ position, prepared: prepare(request) });
    } catch (error) {
      if (!(error instanceof IndexInputError)) throw error;
      results[position] = { outcome: 'invalid', error };
    }
  });
  const outcomes = await indexPrepared(runner, valid.map((item) => item.prepared));
  valid.forEach((item, i) => { results[item.position] = outcomes[i]!; });
  return results;
}

/** Indexes prepared requests in one transaction; the results are in the order of the requests. */
export async function indexPrepared(runner: TransactionRunner, prepared: readonly PreparedRequest[]): Promise<IndexResult[]> {
  // One lock order for every batch (patient and study rows it creates, series, instances, then
  // the studies' counts, each by UID) so that concurrent batches on PostgreSQL wait on each
  // other instead of deadlocking.
  const order = prepared.map((_, i) => i).sort((a, b) => compareKeys(prepared[a]!.fields, prepared[b]!.fields));
  const outcomes = await runner.transaction(function* () {
    const batch = new BatchState(new Date().toISOString());
    const out: IndexResult[] = [];
    for (const i of order) out.push(yield* indexProgram(prepared[i]!, batch));
    yield* batch.flushCounts();
    return out;
  });
  const results: IndexResult[] = new Array(prepared.length);
  order.forEach((position, i) => { results[position] = outcomes[i]!; });
  return results;
}

function compareKeys(a: InstanceFields, b: InstanceFields): number {
  return compare(a.studyInstanceUid, b.studyInstanceUid)
    || compare(a.seriesInstanceUid, b.seriesInstanceUid)
    || compare(a.sopInstanceUid, b.sopInstanceUid);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function placeholders(n: number): string {
  return new Array<string>(n).fill('?').join(', ');
}

const SQL = {
  findInstance: 'SELECT pk, storage_key FROM instance WHERE sop_instance_uid = ?',
  findStudy: `SELECT s.pk, p.patient_id, p.issuer_of_patient_id FROM study s
    JOIN patient p ON p.pk = s.patient_fk WHERE s.study_instance_uid = ?`,
  insertPatientWithId: `INSERT INTO patient (${COLUMN_NAMES.patient.join(', ')}, created_at, updated_at)
    VALUES (${placeholders(COLUMN_NAMES.patient.length + 2)})
    ON CONFLICT (patient_id, issuer_of_patient_id) DO NOTHING RETURNING pk`,
  insertPatientWithoutId: `INSERT INTO patient (${COLUMN_NAMES.patient.join(', ')}, created_at, updated_at)
    VALUES (${placeholders(COLUMN_NAMES.patient.length + 2)}) RETURNING pk`,
  findPatient: 'SELECT pk FROM patient WHERE patient_id = ? AND issuer_of_patient_id = ?',
  insertStudy: `INSERT INTO study (patient_fk, ${COLUMN_NAMES.study.join(', ')}, created_at, updated_at)
    VALUES (${placeholders(COLUMN_NAMES.study.length + 3)})
    ON CONFLICT (study_instance_uid) DO NOTHING RETURNING pk`,
  upsertSeries: `INSERT INTO series (study_fk, ${COLUMN_NAMES.series.join(', ')}, number_of_series_related_instances, created_at)
    VALUES (${placeholders(COLUMN_NAMES.series.length + 3)})
    ON CONFLICT (series_instance_uid) DO UPDATE
      SET number_of_series_related_instances = series.number_of_series_related_instances + 1
    RETURNING pk, study_fk, number_of_series_related_instances AS count`,
  addToSeries: 'UPDATE series SET number_of_series_related_instances = number_of_series_related_instances + ? WHERE pk = ?',
  countInStudy: `UPDATE study SET
      number_of_study_related_instances = number_of_study_related_instances + ?,
      number_of_study_related_series = number_of_study_related_series + ?,
      updated_at = ?
    WHERE pk = ? RETURNING modalities_in_study, sop_classes_in_study`,
  setStudySummary: 'UPDATE study SET modalities_in_study = ?, sop_classes_in_study = ? WHERE pk = ?',
  insertInstance: `INSERT INTO instance (series_fk, ${COLUMN_NAMES.instance.join(', ')},
      transfer_syntax_uid, storage_key, size, sha256, received_at, source_ae, metadata)
    VALUES (${placeholders(COLUMN_NAMES.instance.length + 8)})`,

  instanceForDelete: `SELECT i.pk, i.storage_key, i.sop_class_uid, i.series_fk, s.study_fk, st.patient_fk
    FROM instance i JOIN series s ON s.pk = i.series_fk JOIN study st ON st.pk = s.study_fk
    WHERE i.sop_instance_uid = ?`,
  instanceInHierarchy: `SELECT 1 AS found FROM instance i JOIN series s ON s.pk = i.series_fk JOIN study st ON st.pk = s.study_fk
    WHERE i.sop_instance_uid = ? AND s.series_instance_uid = ? AND st.study_instance_uid = ?`,
  studyForDelete: 'SELECT pk, patient_fk FROM study WHERE study_instance_uid = ?',
  seriesForDelete: `SELECT s.pk, s.study_fk, st.patient_fk, s.number_of_series_related_instances AS count, st.sop_classes_in_study
    FROM series s JOIN study st ON st.pk = s.study_fk WHERE s.series_instance_uid = ? AND st.study_instance_uid = ?`,
  // RETURNING: the keys of exactly the rows deleted, even if an instance arrived meanwhile.
  deleteInstancesOfSeries: 'DELETE FROM instance WHERE series_fk = ? RETURNING storage_key',
  deleteInstancesOfStudy: 'DELETE FROM instance WHERE series_fk IN (SELECT pk FROM series WHERE study_fk = ?) RETURNING storage_key',
  deleteSeriesOfStudy: 'DELETE FROM series WHERE study_fk = ?',
  uncountSeriesInStudy: `UPDATE study SET
      number_of_study_related_instances = number_of_study_related_instances - ?,
      number_of_study_related_series = number_of_study_related_series - 1
    WHERE pk = ? RETURNING number_of_study_related_instances AS count`,
  sopClassesOfStudy: 'SELECT DISTINCT i.sop_class_uid FROM instance i JOIN series s ON s.pk = i.series_fk WHERE s.study_fk = ?',
  deleteInstance: 'DELETE FROM instance WHERE pk = ?',
  uncountInSeries: `UPDATE series SET number_of_series_related_instances = number_of_series_related_instances - 1
    WHERE pk = ? RETURNING number_of_series_related_instances AS count`,
  deleteSeries: 'DELETE FROM series WHERE pk = ?',
  uncountInStudy: `UPDATE study SET
      number_of_study_related_instances = number_of_study_related_instances - 1,
      number_of_study_related_series = number_of_study_related_series - ?
    WHERE pk = ? RETURNING number_of_study_related_instances AS count, sop_classes_in_study`,
  deleteStudy: 'DELETE FROM study WHERE pk = ?',
  studyModalities: 'SELECT DISTINCT modality FROM series WHERE study_fk = ? AND modality IS NOT NULL ORDER BY modality',
  sopClassStillInStudy: `SELECT 1 AS found FROM instance i JOIN series s ON s.pk = i.series_fk
    WHERE s.study_fk = ? AND i.sop_class_uid = ? LIMIT 1`,
  setStudyModalities: 'UPDATE study SET modalities_in_study = ? WHERE pk = ?',
  setStudySopClasses: 'UPDATE study SET sop_classes_in_study = ? WHERE pk = ?',
  patientHasStudy: 'SELECT 1 AS found FROM study WHERE patient_fk = ? LIMIT 1',
  deletePatient: 'DELETE FROM patient WHERE pk = ?',
} as const;

/**
 * What a batch's transaction knows of the studies and series it files instances under, and the
 * counts it owes them: a series or study is looked up once per batch, and its counts and
 * summary are written once, at the end (flushCounts), rather than for every instance. Of the
 * five statements an instance took, two are left: its duplicate check and its row (bench
 * `index-commit`, 120 instances per transaction, 50 per series: 25.7 to 15.4 µs per instance on
 * SQLite, 859 to 350 µs on PostgreSQL). Asking for the whole batch's duplicates in one query
 * gained nothing on SQLite and lost on PostgreSQL, whose cached plan for it scans the table it
 * saw empty.
 */
class BatchState {
  private readonly studies = new Map<string, StudyRow>();
  private readonly series = new Map<string, { pk: number; study_fk: number; owed: number }>();
  /** By study pk: instances and series added, and the modalities and SOP classes they bring. */
  private readonly studyCounts = new Map<number, { instances: number; series: number; modalities: string[]; sopClasses: string[] }>();

  constructor(readonly now: string) {}

  /** The study to file an instance under, created (with its patient) when new. */
  *studyOf(fields: InstanceFields, warnings: string[]): SqlProgram<number> {
    let study = this.studies.get(fields.studyInstanceUid);
    if (!study) {
      study = yield* resolveStudy(fields, this.now);
      this.studies.set(fields.studyInstanceUid, study);
    }
    const samePatient = (study.patient_id ?? undefined) === fields.patientId
      && study.issuer_of_patient_id === fields.issuerOfPatientId;
    if (!samePatient) {
      warnings.push(`Study ${fields.studyInstanceUid} is filed under patient "${study.patient_id ?? ''}"`
        + `${study.issuer_of_patient_id ? ` (issuer ${study.issuer_of_patient_id})` : ''}; this instance says `
        + `"${fields.patientId ?? ''}"${fields.issuerOfPatientId ? ` (issuer ${fields.issuerOfPatientId})` : ''}. `
        + 'The study keeps its patient; correct the identity through a patient update.');
    }
    return study.pk;
  }

  /** The series to file an instance under, created when new, counting the instance. */
  *seriesOf(fields: InstanceFields, studyPk: number): SqlProgram<{ pk: number; study_fk: number; isNew: boolean }> {
    const known = this.series.get(fields.seriesInstanceUid);
    if (known) {
      known.owed++;
      return { pk: known.pk, study_fk: known.study_fk, isNew: false };
    }
    const row = yield* get<{ pk: number; study_fk: number; count: number }>(
      SQL.upsertSeries, studyPk, ...fields.series.values, 1, this.now,
    );
    if (!row) throw new Error(`Index: series ${fields.seriesInstanceUid} was neither inserted nor found`);
    this.series.set(fields.seriesInstanceUid, { pk: row.pk, study_fk: row.study_fk, owed: 0 });
    return { pk: row.pk, study_fk: row.study_fk, isNew: row.count === 1 };
  }

  /** Counts an instance (and its series, when new) in its study. */
  countInStudy(studyPk: number, fields: InstanceFields, isNewSeries: boolean): void {
    let counts = this.studyCounts.get(studyPk);
    if (!counts) this.studyCounts.set(studyPk, counts = { instances: 0, series: 0, modalities: [], sopClasses: [] });
    counts.instances++;
    if (isNewSeries) counts.series++;
    if (fields.modality && !counts.modalities.includes(fields.modality)) counts.modalities.push(fields.modality);
    if (fields.sopClassUid && !counts.sopClasses.includes(fields.sopClassUid)) counts.sopClasses.push(fields.sopClassUid);
  }

  /** Writes the counts owed so far; before anything reads them (a delete), and at the end. */
  *flushCounts(): SqlProgram<void> {
    for (const series of this.series.values()) {
      if (series.owed === 0) continue;
      yield* run(SQL.addToSeries, series.owed, series.pk);
      series.owed = 0;
    }
    for (const [studyPk, counts] of this.studyCounts) {
      const study = yield* get<{ modalities_in_study: string; sop_classes_in_study: string }>(
        SQL.countInStudy, counts.instances, counts.series, this.now, studyPk,
      );
      if (!study) continue;
      // The UPDATE above holds the study row lock, so this read-modify-write cannot race.
      const modalities = counts.modalities.reduce(withValue, study.modalities_in_study);
      const sopClasses = counts.sopClasses.reduce(withValue, study.sop_classes_in_study);
      if (modalities !== study.modalities_in_study || sopClasses !== study.sop_classes_in_study) {
        yield* run(SQL.setStudySummary, modalities, sopClasses, studyPk);
      }
    }
    this.studyCounts.clear();
  }

  /** Forgets what it knows of series and studies: a delete may have removed them. */
  forget(): void {
    this.studies.clear();
    this.series.clear();
  }
}

function* indexProgram(prepared: PreparedRequest, batch: BatchState): SqlProgram<IndexResult> {
  const { fields, storage } = prepared;
  const warnings: string[] = [];
  let replacedStorageKey: string | undefined;

  const existing = yield* get<{ pk: number; storage_key: string }>(SQL.findInstance, fields.sopInstanceUid);
  // The very object already indexed (a journal replayed after a crash that followed its commit).
  if (existing?.storage_key === storage.key) return { outcome: 'stored', warnings };
  if (existing) {
    if (prepared.duplicatePolicy === 'keep-first') return { outcome: 'duplicate-ignored', warnings };
    if (prepared.duplicatePolicy === 'reject') return { outcome: 'rejected-duplicate', warnings };
    // The delete reads and changes the counts, and may remove the series, study and patient.
    yield* batch.flushCounts();
    yield* deleteProgram(fields.sopInstanceUid);
    batch.forget();
    if (existing.storage_key !== storage.key) replacedStorageKey = existing.storage_key;
  }

  let studyPk = yield* batch.studyOf(fields, warnings);
  const series = yield* batch.seriesOf(fields, studyPk);
  if (series.study_fk !== studyPk) {
    warnings.push(`Series ${fields.seriesInstanceUid} already belongs to another study than ${fields.studyInstanceUid}; `
      + 'the instance was filed under the existing series and its study');
    studyPk = series.study_fk;
  }
  batch.countInStudy(studyPk, fields, series.isNew);
  yield* run(
    SQL.insertInstance, series.pk, ...fields.instance.values,
    storage.transferSyntaxUid, storage.key, storage.size, storage.sha256,
    batch.now, prepared.receivedFrom ?? null, prepared.metadata,
  );
  const result: IndexResult = { outcome: existing ? 'replaced' : 'stored', warnings };
  if (replacedStorageKey !== undefined) result.replacedStorageKey = replacedStorageKey;
  return result;
}

type StudyRow = { pk: number; patient_id: string | null; issuer_of_patient_id: string };

/** The study of an instance, created (with its patient) when new. */
function* resolveStudy(fields: InstanceFields, now: string): SqlProgram<StudyRow> {
  const study = yield* get<StudyRow>(SQL.findStudy, fields.studyInstanceUid);
  if (study) return study;
  const patientPk = yield* resolvePatient(fields, now);
  const inserted = yield* get<{ pk: number }>(SQL.insertStudy, patientPk, ...fields.study.values, now, now);
  // The patient row the study was just filed under.
  if (inserted) return { pk: inserted.pk, patient_id: fields.patientId ?? null, issuer_of_patient_id: fields.issuerOfPatientId };
  // Another transaction created the study meanwhile (PostgreSQL): use it.
  const found = yield* get<StudyRow>(SQL.findStudy, fields.studyInstanceUid);
  if (!found) throw new Error(`Index: study ${fields.studyInstanceUid} was neither inserted nor found`);
  return found;
}

function* resolvePatient(fields: InstanceFields, now: string): SqlProgram<number> {
  if (fields.patientId === undefined) {
    // Without a Patient ID there is nothing to link studies by: each study gets its own patient.
    const row = yield* get<{ pk: number }>(SQL.insertPatientWithoutId, ...fields.patient.values, now, now);
    return row!.pk;
  }
  const inserted = yield* get<{ pk: number }>(SQL.insertPatientWithId, ...fields.patient.values, now, now);
  if (inserted) return inserted.pk;
  const found = yield* get<{ pk: number }>(SQL.findPatient, fields.patientId, fields.issuerOfPatientId);
  if (!found) throw new Error(`Index: patient ${fields.patientId} was neither inserted nor found`);
  return found.pk;
}

/** Adds a value to a backslash-separated set, keeping first-seen order. */
function withValue(set: string, value: string | undefined): string {
  if (!value) return set;
  const values = set ? set.split('\\') : [];
  return values.includes(value) ? set : [...values, value].join('\\');
}

function withoutValue(set: string, value: string): string {
  return set.split('\\').filter((v) => v && v !== value).join('\\');
}

export interface DeletedInstance {
  storageKey: string;
}

/**
 * Removes an instance from the index, updates the derived attributes, and removes the series,
 * study and patient it leaves empty. Returns its storage key (the caller deletes the object).
 */
export function* deleteProgram(sopInstanceUid: string): SqlProgram<DeletedInstance | undefined> {
  type Row = { pk: number; storage_key: string; sop_class_uid: string; series_fk: number; study_fk: number; patient_fk: number };
  const row = yield* get<Row>(SQL.instanceForDelete, sopInstanceUid);
  if (!row) return undefined;
  yield* run(SQL.deleteInstance, row.pk);
  const series = yield* get<{ count: number }>(SQL.uncountInSeries, row.series_fk);
  const seriesRemoved = (series?.count ?? 0) <= 0;
  if (seriesRemoved) yield* run(SQL.deleteSeries, row.series_fk);
  const study = yield* get<{ count: number; sop_classes_in_study: string }>(SQL.uncountInStudy, seriesRemoved ? 1 : 0, row.study_fk);
  if (!study || study.count <= 0) {
    yield* run(SQL.deleteStudy, row.study_fk);
    const other = yield* get<{ found: number }>(SQL.patientHasStudy, row.patient_fk);
    if (!other) yield* run(SQL.deletePatient, row.patient_fk);
  } else {
    if (seriesRemoved) {
      const modalities = yield* all<{ modality: string }>(SQL.studyModalities, row.study_fk);
      yield* run(SQL.setStudyModalities, modalities.map((m) => m.modality).join('\\'), row.study_fk);
    }
    const stillThere = yield* get<{ found: number }>(SQL.sopClassStillInStudy, row.study_fk, row.sop_class_uid);
    if (!stillThere) {
      yield* run(SQL.setStudySopClasses, withoutValue(study.sop_classes_in_study, row.sop_class_uid), row.study_fk);
    }
  }
  return { storageKey: row.storage_key };
}

export function deleteInstance(runner: TransactionRunner, sopInstanceUid: string): Promise<DeletedInstance | undefined> {
  return runner.transaction(() => deleteProgram(sopInstanceUid));
}

/** What a study, series or instance deletion removed from the index: the objects to delete next. */
export interface DeletedObjects {
  storageKeys: string[];
}

/** An instance, only if it belongs to the given series of the given study (the DICOMweb resource path). */
export function deleteInstanceAt(
  runner: TransactionRunner, ids: { studyInstanceUid: string; seriesInstanceUid: string; sopInstanceUid: string },
): Promise<DeletedObjects | undefined> {
  return runner.transaction(function* () {
    const found = yield* get<{ found: number }>(SQL.instanceInHierarchy, ids.sopInstanceUid, ids.seriesInstanceUid, ids.studyInstanceUid);
    if (!found) return undefined;
    const deleted = yield* deleteProgram(ids.sopInstanceUid);
    return deleted ? { storageKeys: [deleted.storageKey] } : undefined;
  });
}

/**
 * A series and its instances, in one transaction: the study's counts, modalities and SOP classes
 * follow; a study (and a patient) left empty goes too.
 */
export function deleteSeries(
  runner: TransactionRunner, ids: { studyInstanceUid: string; seriesInstanceUid: string },
): Promise<DeletedObjects | undefined> {
  return runner.transaction(function* () {
    type Row = { pk: number; study_fk: number; patient_fk: number; count: number; sop_classes_in_study: string };
    const series = yield* get<Row>(SQL.seriesForDelete, ids.seriesInstanceUid, ids.studyInstanceUid);
    if (!series) return undefined;
    const keys = yield* all<{ storage_key: string }>(SQL.deleteInstancesOfSeries, series.pk);
    yield* run(SQL.deleteSeries, series.pk);
    const study = yield* get<{ count: number }>(SQL.uncountSeriesInStudy, keys.length, series.study_fk);
    if (!study || study.count <= 0) {
      yield* removeStudyRow(series.study_fk, series.patient_fk);
    } else {
      const modalities = yield* all<{ modality: string }>(SQL.studyModalities, series.study_fk);
      yield* run(SQL.setStudyModalities, modalities.map((m) => m.modality).join('\\'), series.study_fk);
      const remaining = new Set((yield* all<{ sop_class_uid: string }>(SQL.sopClassesOfStudy, series.study_fk)).map((r) => r.sop_class_uid));
      const sopClasses = series.sop_classes_in_study.split('\\').filter((uid) => remaining.has(uid)).join('\\');
      yield* run(SQL.setStudySopClasses, sopClasses, series.study_fk);
    }
    return { storageKeys: keys.map((k) => k.storage_key) };
  });
}

/** A study with its series and instances, in one transaction; its patient too when left without studies. */
export function deleteStudy(runner: TransactionRunner, studyInstanceUid: string): Promise<DeletedObjects | undefined> {
  return runner.transaction(function* () {
    const study = yield* get<{ pk: number; patient_fk: number }>(SQL.studyForDelete, studyInstanceUid);
    if (!study) return undefined;
    const keys = yield* all<{ storage_key: string }>(SQL.deleteInstancesOfStudy, study.pk);
    yield* run(SQL.deleteSeriesOfStudy, study.pk);
    yield* removeStudyRow(study.pk, study.patient_fk);
    return { storageKeys: keys.map((k) => k.storage_key) };
  });
}

function* removeStudyRow(studyPk: number, patientPk: number): SqlProgram<void> {
  yield* run(SQL.deleteStudy, studyPk);
  const other = yield* get<{ found: number }>(SQL.patientHasStudy, patientPk);
  if (!other) yield* run(SQL.deletePatient, patientPk);
}
