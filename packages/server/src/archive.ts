// The archive's domain services, wired together: storage, index, ingest. Every door (DIMSE,
// HTTP, the command line) works through this one context, which a test can build in a temp dir.
import type { LoireConfig } from './config/config.js';
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
  close(): Promise<void>;
}

export async function openArchive(config: LoireConfig, logger: Logger): Promise<Archive> {
  const storage = new FilesystemStorage(config.dataDir);
  await storage.init();
  const { removedPartialObjects } = await storage.recover();
  if (removedPartialObjects > 0) logger.warn({ removedPartialObjects }, 'removed objects left half-written by an interrupted run');
  const index = await openIndex(config.database, logger);
  const ingest = new IngestService({
    storage, logger, indexer: index, duplicatePolicy: config.duplicatePolicy,
  });
  const accounts = new AccountService(index.db, config.security);
  return {
    config, logger, storage, index, ingest, accounts,
    close: async () => {
      await storage.close();
      await index.close();
    },
  };
}
