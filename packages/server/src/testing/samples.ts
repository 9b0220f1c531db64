// The shared sample data set (../shared/dicom-samples beside the checkout, or LOIRE_SAMPLES).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

export function samplesDir(): string {
  const dir = process.env.LOIRE_SAMPLES ?? path.resolve(repoRoot, '../shared/dicom-samples');
  if (!existsSync(path.join(dir, 'manifest.json'))) {
    throw new Error(`DICOM samples not found in ${dir}: put them at ../shared/dicom-samples beside the checkout or set LOIRE_SAMPLES`);
  }
  return dir;
}

export interface SampleEntry {
  path: string;
  bytes: number;
  sha256: string;
  isDicom: boolean;
  sopClassUID: string | null;
  transferSyntaxUID: string | null;
  modality: string | null;
  studyUID: string | null;
  seriesUID: string | null;
  sopInstanceUID: string | null;
  rows: number | null;
  cols: number | null;
  frames: number | null;
  parseError: string | null;
}

let manifest: SampleEntry[] | undefined;

export function sampleManifest(): SampleEntry[] {
  manifest ??= JSON.parse(readFileSync(path.join(samplesDir(), 'manifest.json'), 'utf8')) as SampleEntry[];
  return manifest;
}

export function samplePath(entry: SampleEntry | string): string {
  return path.join(samplesDir(), typeof entry === 'string' ? entry : entry.path);
}

/** Files an archive must accept: DICOM, not in malformed/, with the four identifying UIDs. */
export function storableSamples(): SampleEntry[] {
  return sampleManifest().filter((e) => e.isDicom && !e.path.startsWith('malformed/') &&
    e.sopInstanceUID && e.studyUID && e.seriesUID && e.sopClassUID && e.sopClassUID !== '1.2.840.10008.1.3.10');
}
