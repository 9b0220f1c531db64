// What ingest needs from the index: one call, implemented by the archive index.
import type { ArchiveIndex } from '../index/index.js';

export type { IndexOutcome, IndexRequest } from '../index/index.js';
export type InstanceIndexer = Pick<ArchiveIndex, 'indexInstance'>;
