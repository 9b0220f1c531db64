// The archive index: one object over SQLite or PostgreSQL that ingest, DIMSE and DICOMweb
// adapters call. Open it with `openIndex(url)`.
import type { Logger } from 'pino';
import type { QueryLevel } from './attributes.js';
import { openIndexDatabase, type IndexConnection } from './database.js';
import type { DicomJson } from './dicom-json.js';
import type { TransactionRunner } from './transaction-runner.js';
import {
  metadataDocuments, metadataOfInstances, studyVersion,
  type MetadataDocument, type MetadataScope, type StudyVersion,
} from './metadata-documents.js';
import { count, find, findAll, type FindQuery, type QueryContext } from './query.js';
import {
  allStorageRecords, getInstance, listInstancesForRetrieve, seriesMetadata,
  type InstanceRecord, type StorageRecord,
} from './retrieve.js';
import {
  deleteInstance, deleteInstanceAt, deleteSeries, deleteStudy, indexInstance, indexInstances,
  type BatchIndexResult, type DeletedInstance, type DeletedObjects, type IndexRequest, type IndexResult,
} from './store.js';

export class ArchiveIndex {
  private readonly context: QueryContext;

  constructor(private readonly connection: IndexConnection, private readonly logger?: Logger) {
    this.context = { db: connection.db, dialect: connection.dialect };
  }

  get dialect(): IndexConnection['dialect'] {
    return this.connection.dialect;
  }

  /** The Kysely instance, for other domain modules that add their own tables/migrations later. */
  get db(): IndexConnection['db'] {
    return this.connection.db;
  }

  /** Runs write transactions (SQLite IMMEDIATE, PostgreSQL with retries) for other domain modules. */
  get transactions(): TransactionRunner {
    return this.connection.runner;
  }

  async indexInstance(request: IndexRequest): Promise<IndexResult> {
    const result = await indexInstance(this.connection.runner, request);
    this.logWarnings(result);
    return result;
  }

  /** Group commit: many instances in one transaction (see store.ts for failure semantics). */
  async indexInstances(requests: readonly IndexRequest[]): Promise<BatchIndexResult[]> {
    const results = await indexInstances(this.connection.runner, requests);
    for (const result of results) if (result.outcome !== 'invalid') this.logWarnings(result);
    return results;
  }

  find(query: FindQuery): AsyncGenerator<DicomJson> {
    return find(this.context, query);
  }

  findAll(query: FindQuery): Promise<DicomJson[]> {
    return findAll(this.context, query);
  }

  count(query: FindQuery): Promise<number> {
    return count(this.context, query);
  }

  listInstancesForRetrieve(level: QueryLevel, identifier: DicomJson): Promise<StorageRecord[]> {
    return listInstancesForRetrieve(this.context, level, identifier);
  }

  getInstance(sopInstanceUid: string): Promise<InstanceRecord | undefined> {
    return getInstance(this.context, sopInstanceUid);
  }

  seriesMetadata(seriesInstanceUid: string): Promise<DicomJson[]> {
    return seriesMetadata(this.context, seriesInstanceUid);
  }

  /** Stored metadata text (not parsed) of a study, series or instance, for WADO-RS metadata. */
  metadataDocuments(scope: MetadataScope): Promise<MetadataDocument[]> {
    return metadataDocuments(this.context, scope);
  }

  metadataOfInstances(sopInstanceUids: readonly string[]): Promise<MetadataDocument[]> {
    return metadataOfInstances(this.context, sopInstanceUids);
  }

  /** Last change and counts of a study, for HTTP validators; undefined for an unknown study. */
  studyVersion(studyInstanceUid: string): Promise<StudyVersion | undefined> {
    return studyVersion(this.context, studyInstanceUid);
  }

  allStorageRecords(): AsyncGenerator<StorageRecord> {
    return allStorageRecords(this.context);
  }

  deleteInstance(sopInstanceUid: string): Promise<DeletedInstance | undefined> {
    return deleteInstance(this.connection.runner, sopInstanceUid);
  }

  /** Deletes an instance only where the resource path puts it; undefined when it is not there. */
  deleteInstanceAt(ids: { studyInstanceUid: string; seriesInstanceUid: string; sopInstanceUid: string }): Promise<DeletedObjects | undefined> {
    return deleteInstanceAt(this.connection.runner, ids);
  }

  /** Deletes a series of a study in one transaction; undefined when the study has no such series. */
  deleteSeries(ids: { studyInstanceUid: string; seriesInstanceUid: string }): Promise<DeletedObjects | undefined> {
    return deleteSeries(this.connection.runner, ids);
  }

  /** Deletes a study in one transaction; undefined when it is unknown. */
  deleteStudy(studyInstanceUid: string): Promise<DeletedObjects | undefined> {
    return deleteStudy(this.connection.runner, studyInstanceUid);
  }

  close(): Promise<void> {
    return this.connection.close();
  }

  private logWarnings(result: IndexResult): void {
    for (const warning of result.warnings) this.logger?.warn({ outcome: result.outcome }, warning);
  }
}

/** Opens (and migrates) the index: `sqlite:///path/index.db`, a plain path, or `postgres://…`. */
export async function openIndex(url: string, logger?: Logger): Promise<ArchiveIndex> {
  const connection = await openIndexDatabase(url, (error) => {
    logger?.warn({ err: error }, 'an idle PostgreSQL connection of the index was closed by the server; it will be reopened on next use');
  });
  return new ArchiveIndex(connection, logger);
}

export type { QueryLevel } from './attributes.js';
export { parseIndexUrl } from './database.js';
export type { DicomJson, DicomJsonElement, PersonNameJson } from './dicom-json.js';
export { IndexInputError } from './instance-fields.js';
export { QueryError, type FindOptions, type FindQuery, type InformationModel } from './query.js';
export type { InstanceRecord, StorageRecord } from './retrieve.js';
export type { MetadataDocument, MetadataScope, StudyVersion } from './metadata-documents.js';
export type {
  BatchIndexResult, DeletedInstance, DeletedObjects, DuplicatePolicy, IndexOutcome, IndexRequest, IndexResult,
} from './store.js';
export { fillSynthetic, syntheticInstance, syntheticRequest, type SyntheticOptions } from './synthetic.js';
