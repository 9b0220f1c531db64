// A fresh, throw-away index for tests (see testing/database.ts for where it lives).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '../testing/database.js';
import { openIndex, type ArchiveIndex } from './index.js';

export interface TestIndex {
  index: ArchiveIndex;
  dispose(): Promise<void>;
}

export async function openTestIndex(): Promise<TestIndex> {
  const dir = mkdtempSync(join(tmpdir(), 'loire-index-'));
  const database = await createTestDatabase(dir);
  const index = await openIndex(database.url);
  return {
    index,
    async dispose() {
      await index.close();
      await database.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
