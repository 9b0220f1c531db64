// What ingest needs from the index: queue an instance, know whether it can be journalled and
// whether it makes metadata documents itself later, and tell an instance left queued at close (still journalled) from one the index refused.
import type { ArchiveIndex } from '../index/index.js';

export { IndexClosedError } from '../index/index.js';
export type { IndexOutcome, IndexRequest, IndexResult } from '../index/index.js';
export type InstanceIndexer = Pick<ArchiveIndex, 'enqueueInstance' | 'journaled' | 'makesMetadataLater'>;
