// What ingest needs from the index: queue an instance, and know whether it can be journalled.
import type { ArchiveIndex } from '../index/index.js';

export type { IndexOutcome, IndexRequest, IndexResult } from '../index/index.js';
export type InstanceIndexer = Pick<ArchiveIndex, 'enqueueInstance' | 'journaled'>;
