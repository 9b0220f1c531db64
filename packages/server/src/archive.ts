// The archive's domain services, wired together: storage, index, ingest, audit trail. Every door
// (DIMSE, HTTP, the command line) works through this one context, which a test can build in a temp dir.
import path from 'node:path';
import { SyslogForwarder } from './audit/syslog.js';
import { AuditTrail } from './audit/trail.js';
import type { LoireConfig } from './config/config.js';
import { lockDataDirectory } from './data-lock.js';
import { IngestService } from './ingest/ingest.js';
import { openIndex, type ArchiveIndex } from './index/index.js';
import type { Logger } from './logger.js';
import { AccountService } from './security/accounts.js';
import { FilesystemStorage } from './storage/filesystem.js';
import type { ObjectStorage } from './storage/storage.js';

export interface Archive {
  config: LoireConfig;
  logger: Logger;
  storage: ObjectStorage;
  index: ArchiveIndex;
  ingest: IngestService;
  /** Users, sessions and API tokens (in the index database). */
  accounts: AccountService;
  /** Every door records what it was asked here (PS3.15 A.5 audit messages). */
  audit: AuditTrail;
  close(): Promise<void>;
}

export interface ArchiveOptions {
  /**
   * Keep the audit crash journal in the data directory and replay it at open (the server does;
   * short command-line runs flush before they exit). One process per data directory may.
   */
  auditJournal?: boolean;
  /**
   * Keep the index journal in the data directory and replay it at open: C-STORE is then answered
   * once an instance is stored and journalled, its index transaction shared with the next ones
   * (the server does; command-line runs wait for their commits). One process per data directory may.
   */
  indexJournal?: boolean;
}

export const AUDIT_JOURNAL = 'audit-journal.ndjson';
export const INDEX_JOURNAL = 'index-journal';

export async function openArchive(config: LoireConfig, logger: Logger, options: ArchiveOptions = {}): Promise<Archive> {
  const storage = new FilesystemStorage(config.dataDir);
  await storage.init();
  // The journals' owner: one per data directory (see data-lock.ts).
  const lock = options.indexJournal || options.auditJournal ? lockDataDirectory(config.dataDir) : undefined;
  let index: ArchiveIndex;
  try {
    index = await openIndex(config.database, logger, options.indexJournal ? { journalDir: path.join(config.dataDir, INDEX_JOURNAL) } : {});
  } catch (err) {
    lock?.release();
    throw err;
  }
  /** What every door stands on, closed last (and alone when opening fails half-way). */
  const closeCore = async (): Promise<void> => {
    await storage.close();
    await index.close();
    lock?.release();
  };
  const ingest = new IngestService({
    storage, logger, indexer: index, duplicatePolicy: config.duplicatePolicy,
  });
  try {
    for (const { request, sopInstanceUid, result } of await index.replayJournal((stored) => ingest.readStoredMetadata(stored), (stored) => ingest.hashStored(stored))) {
      await ingest.afterIndexed(result, { sopInstanceUid }, request.storage, { door: 'dimse', from: request.receivedFrom });
    }
    // Only the process that owns the data directory (the server) may judge what is pending: a
    // command run beside it would take the server's objects in progress for leftovers.
    if (options.indexJournal) {
      const { removedPartialObjects } = await storage.recover(async (key, sopInstanceUid) => (await index.getInstance(sopInstanceUid))?.storageKey === key);
      if (removedPartialObjects > 0) logger.warn({ removedPartialObjects }, 'removed objects an interrupted run left half-written or unindexed');
      // The server's ingest leaves metadata documents to be made from storage once ingest pauses
      // (see index/metadata-filler.ts); a command run makes its own at once, and leaves none behind.
      index.makeMetadataLater((stored) => ingest.readStoredMetadata(stored));
    }
  } catch (err) {
    await closeCore();
    throw err;
  }
  const accounts = new AccountService(index.db, config.security);
  let audit: AuditTrail;
  let forwarder: SyslogForwarder | undefined;
  try {
    audit = await AuditTrail.open({
      index, logger: logger.child({ module: 'audit' }), enabled: config.audit.enabled,
      source: { sourceId: config.aeTitle },
      ...(options.auditJournal ? { journalPath: path.join(config.dataDir, AUDIT_JOURNAL) } : {}),
    });
    if (config.audit.enabled && config.audit.syslog) {
      const syslog = new SyslogForwarder(index.db, config.audit.syslog, logger.child({ module: 'audit-syslog' }));
      await syslog.start();
      audit.onCommitted = () => syslog.notify();
      forwarder = syslog;
    }
  } catch (err) {
    await closeCore();
    throw err;
  }
  return {
    config, logger, storage, index, ingest, accounts, audit,
    close: async () => {
      await audit.close();
      await forwarder?.close();
      await closeCore();
    },
  };
}
