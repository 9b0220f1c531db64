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
  deleteInstance, deleteInstanceAt, deleteSeries, deleteStudy, indexInstances, indexPrepared,
  type BatchIndexResult, type DeletedInstance, type DeletedObjects, type IndexRequest, type IndexResult,
} from './store.js';
import { MetadataFiller, type MetadataFillerOptions } from './metadata-filler.js';
import { IndexWriteQueue, type QueuedInstance, type ReplayedInstance, type StoredMetadataReader, type StoredObjectHasher } from './write-queue.js';

export interface IndexOptions {
  /**
   * Directory of the index journal, which lets ingest acknowledge an instance once journalled
   * (see write-queue.ts). One process per journal: the server has one, command-line runs do not.
   */
  journalDir?: string;
}

export class ArchiveIndex {
  private readonly context: QueryContext;
  private readonly writes: IndexWriteQueue;
  private filler: MetadataFiller | undefined;

  constructor(private readonly connection: IndexConnection, private readonly logger?: Logger, options: IndexOptions = {}) {
    this.context = {
      db: connection.db, dialect: connection.dialect,
      beforeMetadataRead: (scope) => this.filler?.settled(scope) ?? Promise.resolve(),
    };
    this.writes = new IndexWriteQueue({
      commit: async (prepared) => {
        const results = await indexPrepared(connection.runner, prepared);
        for (const result of results) this.logWarnings(result);
        this.filler?.noteCommitted();
        return results;
      },
      probe: async () => { await connection.db.selectFrom('study').select('pk').limit(1).execute(); },
      logger, journalDir: options.journalDir,
    });
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

  /** Indexes an instance, in one transaction with the others that arrive meanwhile (group commit). */
  async indexInstance(request: IndexRequest): Promise<IndexResult> {
    return this.writes.enqueue(request).indexed;
  }

  /** True when enqueueInstance() can journal (the index was opened with a journal). */
  get journaled(): boolean {
    return this.writes.journaled;
  }

  /**
   * Queues an instance; with `journal`, it is in the index journal when this returns, so that it
   * may be acknowledged at once: no crash loses it, and every read waits for its commit. Throws
   * IndexInputError when the instance cannot be indexed.
   */
  enqueueInstance(request: IndexRequest, options: { journal?: boolean } = {}): QueuedInstance {
    return this.writes.enqueue(request, options);
  }

  /** Indexes what the journal of an interrupted run holds; call once at start-up. */
  replayJournal(read: StoredMetadataReader, hash: StoredObjectHasher): Promise<ReplayedInstance[]> {
    return this.writes.replayJournal(read, hash);
  }

  /**
   * From now on, instances indexed with `metadataLater` get their metadata documents made from
   * their stored objects with `read` (see metadata-filler.ts), including those an earlier run left.
   */
  makeMetadataLater(read: StoredMetadataReader, options?: MetadataFillerOptions): void {
    if (this.filler) throw new Error('makeMetadataLater() was called twice');
    this.filler = new MetadataFiller(this.connection, read, this.logger, options);
    this.filler.noteCommitted();
  }

  /** True once makeMetadataLater() was called: ingest may then send `metadataLater` requests. */
  get makesMetadataLater(): boolean {
    return this.filler !== undefined;
  }

  /** Resolves once every instance queued so far is committed (reads call it first). */
  settled(): Promise<void> | undefined {
    return this.writes.settled();
  }

  /** Group commit: many instances in one transaction (see store.ts for failure semantics). */
  async indexInstances(requests: readonly IndexRequest[]): Promise<BatchIndexResult[]> {
    const results = await indexInstances(this.connection.runner, requests);
    for (const result of results) if (result.outcome !== 'invalid') this.logWarnings(result);
    return results;
  }

  async *find(query: FindQuery): AsyncGenerator<DicomJson> {
    await this.writes.settled();
    yield* find(this.context, query);
  }

  async findAll(query: FindQuery): Promise<DicomJson[]> {
    await this.writes.settled();
    return findAll(this.context, query);
  }

  async count(query: FindQuery): Promise<number> {
    await this.writes.settled();
    return count(this.context, query);
  }

  async listInstancesForRetrieve(level: QueryLevel, identifier: DicomJson): Promise<StorageRecord[]> {
    await this.writes.settled();
    return listInstancesForRetrieve(this.context, level, identifier);
  }

  async getInstance(sopInstanceUid: string): Promise<InstanceRecord | undefined> {
    await this.writes.settled();
    return getInstance(this.context, sopInstanceUid);
  }

  async seriesMetadata(seriesInstanceUid: string): Promise<DicomJson[]> {
    await this.writes.settled();
    return seriesMetadata(this.context, seriesInstanceUid);
  }

  /** Stored metadata text (not parsed) of a study, series or instance, for WADO-RS metadata. */
  async metadataDocuments(scope: MetadataScope): Promise<MetadataDocument[]> {
    await this.writes.settled();
    return metadataDocuments(this.context, scope);
  }

  async metadataOfInstances(sopInstanceUids: readonly string[]): Promise<MetadataDocument[]> {
    await this.writes.settled();
    return metadataOfInstances(this.context, sopInstanceUids);
  }

  /** Last change and counts of a study, for HTTP validators; undefined for an unknown study. */
  async studyVersion(studyInstanceUid: string): Promise<StudyVersion | undefined> {
    await this.writes.settled();
    return studyVersion(this.context, studyInstanceUid);
  }

  async *allStorageRecords(): AsyncGenerator<StorageRecord> {
    await this.writes.settled();
    yield* allStorageRecords(this.context);
  }

  async deleteInstance(sopInstanceUid: string): Promise<DeletedInstance | undefined> {
    await this.writes.settled();
    return deleteInstance(this.connection.runner, sopInstanceUid);
  }

  /** Deletes an instance only where the resource path puts it; undefined when it is not there. */
  async deleteInstanceAt(ids: { studyInstanceUid: string; seriesInstanceUid: string; sopInstanceUid: string }): Promise<DeletedObjects | undefined> {
    await this.writes.settled();
    return deleteInstanceAt(this.connection.runner, ids);
  }

  /** Deletes a series of a study in one transaction; undefined when the study has no such series. */
  async deleteSeries(ids: { studyInstanceUid: string; seriesInstanceUid: string }): Promise<DeletedObjects | undefined> {
    await this.writes.settled();
    return deleteSeries(this.connection.runner, ids);
  }

  /** Deletes a study in one transaction; undefined when it is unknown. */
  async deleteStudy(studyInstanceUid: string): Promise<DeletedObjects | undefined> {
    await this.writes.settled();
    return deleteStudy(this.connection.runner, studyInstanceUid);
  }

  /** Commits what is queued (what cannot be stays in the journal), then closes the database. */
  async close(): Promise<void> {
    await this.writes.close();
    await this.filler?.close();
    await this.connection.close();
  }

  private logWarnings(result: IndexResult): void {
    for (const warning of result.warnings) this.logger?.warn({ outcome: result.outcome }, warning);
  }
}

/** Opens (and migrates) the index: `sqlite:///path/index.db`, a plain path, or `postgres://…`. */
export async function openIndex(url: string, logger?: Logger, options: IndexOptions = {}): Promise<ArchiveIndex> {
  const connection = await openIndexDatabase(url, (error) => {
    logger?.warn({ err: error }, 'an idle PostgreSQL connection of the index was closed by the server; it will be reopened on next use');
  });
  return new ArchiveIndex(connection, logger, options);
}

export type { QueryLevel } from './attributes.js';
export { parseIndexUrl } from './database.js';
export type { DicomJson, DicomJsonElement, PersonNameJson } from './dicom-json.js';
export { identifiersJson, PIXEL_DATA_TAGS } from './dicom-json.js';
export { IndexInputError } from './instance-fields.js';
export { QueryError, type FindOptions, type FindQuery, type InformationModel } from './query.js';
export type { InstanceRecord, StorageRecord } from './retrieve.js';
export type { MetadataDocument, MetadataScope, StudyVersion } from './metadata-documents.js';
export type {
  BatchIndexResult, DeletedInstance, DeletedObjects, DuplicatePolicy, IndexOutcome, IndexRequest, IndexResult,
} from './store.js';
export { IndexClosedError } from './write-queue.js';
export type { MetadataFillerOptions } from './metadata-filler.js';
export { INDEX_SOURCE_TAGS } from './attributes.js';
export type { QueuedInstance, ReplayedInstance, StoredMetadataReader, StoredObjectHasher } from './write-queue.js';
export { fillSynthetic, syntheticInstance, syntheticRequest, type SyntheticOptions } from './synthetic.js';
