// What ingest needs from the index: the port, implemented by the archive index.
import type { DicomJson } from '@loire/dicom';
import type { DuplicatePolicy } from '../config/config.js';

export type IndexOutcome = 'stored' | 'duplicate-ignored' | 'replaced' | 'rejected-duplicate';

export interface IndexRequest {
  json: DicomJson;
  storage: { key: string; size: number; sha256: string; transferSyntaxUid: string };
  receivedFrom?: string | undefined;
  duplicatePolicy: DuplicatePolicy;
}

export interface InstanceIndexer {
  indexInstance(request: IndexRequest): Promise<{ outcome: IndexOutcome; replacedStorageKey?: string | undefined }>;
}
