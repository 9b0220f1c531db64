// Rendering of stored objects that the HTTP door cannot address (a UID with leading zeros), checked against
// DCMTK's decompression and pydicom's Modality LUT.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { importFile } from '../cli/import.js';
import { startTestLoire, type TestLoire } from '../testing/loire.js';
import { samplePath } from '../testing/samples.js';
import { renderStoredFrame } from './rendering.js';
import { frameSource, openStoredInstance } from './stored-instance.js';

const run = promisify(execFile);
const reference = path.join(path.dirname(fileURLToPath(import.meta.url)), '../dicomweb/test-support/rendering_reference.py');
let loire: TestLoire;
let temp: string;

beforeAll(async () => {
  loire = await startTestLoire();
  temp = mkdtempSync(path.join(os.tmpdir(), 'loire-rendering-'));
});

afterAll(async () => {
  await loire?.stop();
  if (temp) rmSync(temp, { recursive: true, force: true });
});

it('a MONOCHROME1 CR with a Modality LUT Sequence and no window: the table, then the data range, then inversion', async () => {
  const file = samplePath('modalities/cr-dx/CR-ModalitySequenceLUT.dcm');
  await importFile(loire.server.archive.ingest, file);
  const decompressed = path.join(temp, 'cr.dcm');
  await run('dcmdjpeg', [file, decompressed]);
  const raw = path.join(temp, 'cr.raw');
  const { stdout } = await run('/usr/bin/python3', [reference, 'modality', decompressed, raw]);
  const { stdout: sop } = await run('/usr/bin/python3', ['-c', 'import pydicom,sys;print(pydicom.dcmread(sys.argv[1],stop_before_pixels=True).SOPInstanceUID)', file]);
  const info = JSON.parse(stdout) as { rows: number; columns: number; photometricInterpretation: string };
  expect(info.photometricInterpretation).toBe('MONOCHROME1');
  const bytes = readFileSync(raw);
  const values = new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);

  const record = await loire.server.archive.index.getInstance(sop.trim());
  const instance = await openStoredInstance(loire.server.archive.storage, record!);
  const image = await renderStoredFrame(instance, frameSource(instance)!, 0);

  // No window in the object: the whole range of the Modality LUT output, linearly (LINEAR_EXACT), then inverted.
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) { min = Math.min(min, v); max = Math.max(max, v); }
  const center = (min + max) / 2;
  const width = max - min;
  expect(width).toBeGreaterThan(0);
  let worst = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    const linear = x <= center - width / 2 ? 0 : x > center + width / 2 ? 255 : ((x - center) / width + 0.5) * 255;
    worst = Math.max(worst, Math.abs(image.data[i]! - (255 - Math.round(linear))));
  }
  expect([image.columns, image.rows, image.channels]).toEqual([info.columns, info.rows, 1]);
  expect(worst).toBeLessThanOrEqual(1);
});
