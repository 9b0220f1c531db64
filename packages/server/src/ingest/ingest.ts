// The one ingest pipeline behind every door (C-STORE, STOW-RS, import): bytes stream to a new
// object while they are parsed and hashed (a C-STORE's, once answered); only once the object is
// complete, valid, stored and indexed (or journalled for the index) is it acknowledged. A crash
// at any point before that leaves nothing visible; a crash after it loses nothing acknowledged.
import {
  createFileMeta, DatasetParser, DicomParseError, Part10Parser, toDicomJson,
  type Dataset, type DataElement, type DicomJson,
} from '@loire/dicom';
import type { DuplicatePolicy } from '../config/config.js';
import type { Logger } from '../logger.js';
import { parseSkippingBulk } from '../retrieve/stored-instance.js';
import { hashStoredObject, StorageError, type ObjectStorage, type ObjectWriter, type StoredObject, type WriterOptions } from '../storage/storage.js';
import { identifiersJson, INDEX_SOURCE_TAGS, IndexInputError, PIXEL_DATA_TAGS } from '../index/index.js';
import { IngestError } from './errors.js';
import { IndexClosedError, type IndexOutcome, type IndexResult, type InstanceIndexer } from './indexer.js';
import { validateInstanceIdentity, type InstanceIdentity } from './validate.js';

export interface IngestSource {
  door: 'dimse' | 'stow' | 'import';
  /** Calling AE title (DIMSE), user, or file path: whatever says where it came from. */
  from?: string;
  remoteAddress?: string;
}

export interface IngestResult extends InstanceIdentity {
  outcome: IndexOutcome;
  storageKey: string;
  size: number;
}

/** An object being received. Call write() for each chunk, then end() (or abort()). */
export interface IncomingObject {
  /** A promise only when the caller must wait before writing more (see ObjectWriter.write). */
  write(chunk: Uint8Array): void | Promise<void>;
  end(): Promise<IngestResult>;
  abort(reason?: Error): Promise<void>;
}

export interface IngestDependencies {
  storage: ObjectStorage;
  indexer: InstanceIndexer;
  logger: Logger;
  duplicatePolicy: DuplicatePolicy;
}

export class IngestService {
  constructor(private readonly deps: IngestDependencies) {}

  /**
   * A dataset as DIMSE carries it (no file meta). Loire prepends a File Meta Information
   * header of its own; the dataset bytes are stored exactly as received.
   */
  async beginDataset(args: {
    transferSyntaxUid: string; sopClassUid: string; sopInstanceUid: string; source: IngestSource;
    /**
     * Answer once the object is stored and its index entry journalled, before the entry's
     * transaction (see index/write-queue.ts): what a C-STORE needs to keep pace with its peer.
     * Ignored without an index journal, and under the "reject" duplicate policy (whose answer
     * depends on the index).
     */
    acknowledgeWhenJournaled?: boolean;
  }): Promise<IncomingObject> {
    const early = this.acknowledgesEarly(args.acknowledgeWhenJournaled ?? false);
    // Answered before its index entry is prepared: the object is hashed then too.
    const writer = await this.newWriter({ hashAfterCommit: early });
    const meta = createFileMeta({
      sopClassUid: args.sopClassUid,
      sopInstanceUid: args.sopInstanceUid,
      transferSyntaxUid: args.transferSyntaxUid,
      sourceAeTitle: args.source.from,
    });
    try {
      await writer.write(meta);
    } catch (err) {
      await writer.discard().catch(() => undefined);
      throw this.writeFailure(err);
    }
    const parser = new DatasetParser({ transferSyntaxUid: args.transferSyntaxUid, startOffset: meta.length });
    return this.incoming(writer, {
      push: (chunk) => parser.push(chunk),
      finish: () => ({ dataset: parser.end(), transferSyntaxUid: args.transferSyntaxUid }),
    }, args.source, { sopClassUid: args.sopClassUid, sopInstanceUid: args.sopInstanceUid }, {}, early);
  }

  /**
   * A whole Part 10 file (import, STOW-RS): stored byte for byte as given. With
   * `studyInstanceUid`, an object of another study is refused (STOW-RS to /studies/{study}).
   */
  async beginPart10(source: IngestSource, required: { studyInstanceUid?: string } = {}): Promise<IncomingObject> {
    const writer = await this.newWriter();
    const parser = new Part10Parser();
    return this.incoming(writer, {
      push: (chunk) => parser.push(chunk),
      finish: () => {
        const part10 = parser.end();
        return { dataset: part10.dataset, transferSyntaxUid: part10.transferSyntaxUid };
      },
    }, source, undefined, required);
  }

  private incoming(
    writer: ObjectWriter,
    parse: { push(chunk: Uint8Array): void; finish(): { dataset: Dataset; transferSyntaxUid: string } },
    source: IngestSource,
    announced: { sopClassUid: string; sopInstanceUid: string } | undefined,
    required: { studyInstanceUid?: string } = {},
    early = false,
  ): IncomingObject {
    let parseError: unknown;
    let finished = false;
    const fail = async (error: unknown): Promise<never> => {
      finished = true;
      await writer.discard();
      throw error;
    };
    return {
      write: (chunk) => {
        if (parseError !== undefined) return; // keep reading what the peer sends; refuse at the end
        try {
          parse.push(chunk);
        } catch (err) {
          parseError = err;
          return;
        }
        try {
          const wait = writer.write(chunk);
          return wait?.catch((err: unknown) => { throw this.writeFailure(err); });
        } catch (err) {
          throw this.writeFailure(err);
        }
      },
      abort: async () => {
        if (finished) return;
        finished = true;
        await writer.discard();
      },
      end: async () => {
        if (finished) throw new Error('end() called twice');
        if (parseError !== undefined) return fail(asIngestError(parseError));
        let parsed: { dataset: Dataset; transferSyntaxUid: string } | undefined;
        let identity: InstanceIdentity;
        try {
          parsed = parse.finish();
          identity = validateInstanceIdentity(parsed.dataset, parsed.transferSyntaxUid, announced, required);
        } catch (err) {
          return fail(asIngestError(err).about({
            sopClassUid: parsed?.dataset.string(0x00080016) ?? announced?.sopClassUid,
            sopInstanceUid: parsed?.dataset.string(0x00080018) ?? announced?.sopInstanceUid,
          }));
        }
        finished = true;
        // The object goes to storage: a small one at once, a large one in the thread pool while its
        // index entry is built here.
        const committing = writer.commit(identity.sopInstanceUid);
        // Where the index makes the metadata document later, only what its columns need is converted.
        const metadataLater = this.deps.indexer.makesMetadataLater;
        let json: DicomJson | (() => DicomJson);
        if (early) {
          // Converted once the sender has its answer (see index/write-queue.ts).
          const dataset = parsed.dataset;
          json = () => this.indexJson(dataset, metadataLater, identity);
        } else {
          try {
            json = indexedAttributesJson(parsed.dataset, metadataLater);
          } catch (err) {
            await committing.then((s) => this.deps.storage.delete(s.key), () => undefined).catch(() => undefined);
            throw IngestError.cannotUnderstand(`cannot read the dataset: ${(err as Error).message}`, err).about(identity);
          }
        }
        let stored: StoredObject;
        try {
          stored = await committing;
        } catch (err) {
          throw this.writeFailure(err).about(identity);
        }
        return this.index(json, metadataLater, identity, stored, source, early);
      },
    };
  }

  /** A new object in storage; Out of Resources when storage cannot make one (a full disk). */
  private async newWriter(options?: WriterOptions): Promise<ObjectWriter> {
    try {
      return await this.deps.storage.createWriter(options);
    } catch (err) {
      throw this.writeFailure(err);
    }
  }

  /** A write storage failed (a full disk): Out of Resources, naming the storage and the cause. */
  private writeFailure(err: unknown): IngestError {
    return IngestError.outOfResources(`cannot write object to ${this.deps.storage.description}: ${(err as Error).message}`, err);
  }

  /** Whether an object is acknowledged once journalled, before its commit (see beginDataset). */
  private acknowledgesEarly(acknowledgeWhenJournaled: boolean): boolean {
    return acknowledgeWhenJournaled && this.deps.indexer.journaled && this.deps.duplicatePolicy !== 'reject';
  }

  /**
   * The DICOM JSON an acknowledged object is indexed with. Its identifying UIDs were checked
   * before the answer; should another indexed attribute not convert, the object is indexed by
   * its identifiers alone rather than lost to the index.
   */
  private indexJson(dataset: Dataset, metadataLater: boolean, identity: InstanceIdentity): DicomJson {
    try {
      return indexedAttributesJson(dataset, metadataLater);
    } catch (err) {
      this.deps.logger.error({ err, sopInstanceUid: identity.sopInstanceUid },
        'the attributes of a stored object cannot be read: it is indexed by its identifying UIDs alone; check the sender\'s encoding');
      return identifiersJson(identity);
    }
  }

  private async index(
    json: DicomJson | (() => DicomJson), metadataLater: boolean, identity: InstanceIdentity, stored: StoredObject, source: IngestSource, early: boolean,
  ): Promise<IngestResult> {
    const { indexer, duplicatePolicy } = this.deps;
    let indexed: Promise<IndexResult>;
    let room: void | Promise<void>;
    try {
      ({ indexed, room } = indexer.enqueueInstance({
        json, metadataLater, storage: { key: stored.key, size: stored.size, sha256: stored.sha256, transferSyntaxUid: identity.transferSyntaxUid },
        receivedFrom: source.from, duplicatePolicy,
      }, { journal: early }));
    } catch (err) {
      await this.deps.storage.delete(stored.key).catch(() => undefined);
      throw IngestError.outOfResources(`cannot index SOP Instance ${identity.sopInstanceUid}: ${(err as Error).message}`, err).about(identity);
    }
    if (early) {
      // Acknowledged now: the journal holds the entry, and every read waits for its commit.
      this.deps.storage.claim(stored.key);
      void indexed.then(
        (result) => this.afterIndexed(result, identity, stored, source),
        (err: unknown) => {
          // Still in the journal, which the next start indexes (the index logged how many).
          if (err instanceof IndexClosedError) return;
          const fields = { err, sopInstanceUid: identity.sopInstanceUid, storageKey: stored.key };
          if (err instanceof IndexInputError) this.deps.logger.error(fields, `an acknowledged object cannot be indexed (${err.message}): its file is kept in storage`);
          else this.deps.logger.error(fields, 'an acknowledged object could not be indexed: its file is kept in storage; import it again once the index database is repaired');
        },
      ).catch((err: unknown) => this.deps.logger.error({ err, sopInstanceUid: identity.sopInstanceUid }, 'cleaning up after indexing failed'));
      await room;
      return { ...identity, outcome: 'stored', storageKey: stored.key, size: stored.size };
    }
    let result: IndexResult;
    try {
      result = await indexed;
    } catch (err) {
      await this.deps.storage.delete(stored.key).catch(() => undefined);
      throw IngestError.outOfResources(`cannot index SOP Instance ${identity.sopInstanceUid}: ${(err as Error).message}`, err).about(identity);
    }
    this.deps.storage.claim(stored.key);
    const outcome = await this.afterIndexed(result, identity, stored, source);
    if (outcome === 'rejected-duplicate') throw IngestError.duplicate(identity.sopInstanceUid);
    return { ...identity, outcome, storageKey: stored.key, size: stored.size };
  }

  /**
   * A stored object's DICOM JSON as ingest made it when the object arrived, read back: what the
   * index journal's replay indexes (see index/write-queue.ts). Undefined when the object is gone
   * or is no longer readable DICOM; a storage that cannot be read throws.
   */
  async readStoredMetadata(stored: Pick<StoredObject, 'key' | 'size'>): Promise<DicomJson | undefined> {
    try {
      // Only the header is read: bulk values are referenced by position, as when the object arrived.
      const { dataset } = await parseSkippingBulk(this.deps.storage, stored.key, stored.size);
      return toDicomJson(dataset, { bulkDataUri: bulkReference });
    } catch (err) {
      if (noLongerStored(err)) return undefined;
      if ((err as NodeJS.ErrnoException).code !== undefined) throw err; // the storage failed, not the object
      this.deps.logger.error({ err, storageKey: stored.key }, 'a stored object no longer reads as DICOM');
      return undefined;
    }
  }

  /**
   * A stored object's SHA-256, read back whole: for an index journal line written before its
   * object was hashed (see WriterOptions.hashAfterCommit). Undefined when the object is gone.
   */
  async hashStored(stored: Pick<StoredObject, 'key'>): Promise<string | undefined> {
    try {
      return (await hashStoredObject(this.deps.storage, stored.key)).sha256;
    } catch (err) {
      if (noLongerStored(err)) return undefined;
      throw err;
    }
  }

  /**
   * What the index decided, applied to storage: the copy it did not keep is deleted. Also called
   * for each instance the index journal gave back at start-up.
   */
  async afterIndexed(result: IndexResult, identity: Pick<InstanceIdentity, 'sopInstanceUid'>, stored: Pick<StoredObject, 'key'>, source: IngestSource): Promise<IndexOutcome> {
    const { outcome, replacedStorageKey } = result;
    if (outcome === 'duplicate-ignored' || outcome === 'rejected-duplicate') await this.deps.storage.delete(stored.key);
    if (replacedStorageKey) await this.deps.storage.delete(replacedStorageKey);
    this.deps.logger.debug({ sopInstanceUid: identity.sopInstanceUid, outcome, door: source.door, from: source.from }, 'object stored');
    return outcome;
  }
}

/** The DICOM JSON the index is given: only what its columns need where it makes the metadata document later. */
function indexedAttributesJson(dataset: Dataset, metadataLater: boolean): DicomJson {
  return toDicomJson(dataset, { bulkDataUri: bulkReference, ...(metadataLater ? { only: INDEX_SOURCE_TAGS } : {}) });
}

/**
 * Bulk data kept out of the index is referenced by its byte range in the stored object. Pixel
 * data is not: the index's documents leave it out (see withoutBulkData).
 */
function bulkReference(element: DataElement): string | undefined {
  if (element.value !== undefined || element.position === undefined || PIXEL_DATA_TAGS.has(element.tag)) return undefined;
  return `bytes=${element.position.offset}-${element.position.offset + element.position.length - 1}`;
}

/**
 * A read of a journalled object found nothing to read: the object is gone, or the key is not one
 * this storage makes (a damaged journal line).
 */
function noLongerStored(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT' || err instanceof StorageError;
}

function asIngestError(err: unknown): IngestError {
  if (err instanceof IngestError) return err;
  if (err instanceof DicomParseError) return IngestError.cannotUnderstand(`not a valid DICOM dataset: ${err.message}`, err);
  return IngestError.cannotUnderstand(`cannot read the dataset: ${(err as Error).message}`, err);
}

export type { DicomJson };
