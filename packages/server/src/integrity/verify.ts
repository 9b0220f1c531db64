// Re-hashes every stored object and compares it with what the index recorded at ingest.
import { hashStoredObject, type ObjectStorage } from '../storage/storage.js';

export interface StorageRecord {
  sopInstanceUid: string;
  storageKey: string;
  size: number;
  sha256: string;
}

export interface VerifyProblem {
  sopInstanceUid: string;
  storageKey: string;
  problem: 'missing' | 'size-mismatch' | 'hash-mismatch' | 'unreadable';
  detail: string;
}

export interface VerifyReport {
  checked: number;
  bytes: number;
  problems: VerifyProblem[];
}

export async function verifyStorage(
  storage: ObjectStorage,
  records: AsyncIterable<StorageRecord>,
  onProgress?: (checked: number) => void,
): Promise<VerifyReport> {
  const report: VerifyReport = { checked: 0, bytes: 0, problems: [] };
  for await (const record of records) {
    report.checked++;
    try {
      const actual = await hashStoredObject(storage, record.storageKey);
      report.bytes += actual.size;
      if (actual.size !== record.size) {
        report.problems.push({ ...pick(record), problem: 'size-mismatch', detail: `index says ${record.size} bytes, storage has ${actual.size}` });
      } else if (actual.sha256 !== record.sha256) {
        report.problems.push({ ...pick(record), problem: 'hash-mismatch', detail: `index SHA-256 ${record.sha256}, storage ${actual.sha256}` });
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      report.problems.push({ ...pick(record), problem: code === 'ENOENT' ? 'missing' : 'unreadable', detail: (err as Error).message });
    }
    onProgress?.(report.checked);
  }
  return report;
}

function pick(record: StorageRecord): { sopInstanceUid: string; storageKey: string } {
  return { sopInstanceUid: record.sopInstanceUid, storageKey: record.storageKey };
}
