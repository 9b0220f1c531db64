// The ingest-documents scenario against the built Loire and dcmtk: the documents it waits for
// are really made (the index it watches ends with none missing), and its figures add up.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { documentsTable, runDocumentsScenario } from './documents.mjs';
import { ensureDatasets } from './generate.mjs';

const haveDcmtk = ['storescu', 'storescp'].every((command) => spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0);
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'loire-documents-test-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe.skipIf(!haveDcmtk)('ingest-documents scenario', () => {
  it('times the documents Loire makes after an ingest until none is missing', async () => {
    const sets = await ensureDatasets({ out: path.join(root, 'data'), small: 400 });
    const lines: string[] = [];
    const row = await runDocumentsScenario({ sets, workRoot: fs.mkdtempSync(path.join(root, 'work-')), log: (line) => lines.push(line) });
    expect(row).toMatchObject({ status: 'ok', instances: 400 });
    expect(row.pendingAtIngestEnd).toBeGreaterThanOrEqual(0);
    expect(row.pendingAtIngestEnd).toBeLessThanOrEqual(400);
    expect(row.completePerSecond).toBeLessThanOrEqual(row.ingestPerSecond!);
    expect(row.storescpPerSecond).toBeGreaterThan(0);
    expect(documentsTable(row).lines[0]).toHaveLength(documentsTable(row).header.length);
    expect(lines.some((line) => line.includes('documents made in'))).toBe(true);
  }, 180_000);
});
