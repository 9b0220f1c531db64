// Test-only: the sample files, their attributes and reference pixels from decoders independent of Loire's
// (see reference_pixels.py). Locates Pixel Data without Loire's parser.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { PixelFormat } from '../pixel-layout.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../../../../..');
export const samplesRoot = path.resolve(repoRoot, '../shared/dicom-samples');
const helper = path.join(here, 'reference_pixels.py');
const python = '/usr/bin/python3'; // Debian's, where python3-pydicom and numpy are installed (and libopenjp2, which Pillow brings)

export interface ManifestEntry {
  readonly path: string;
  readonly transferSyntaxUID: string | null;
  readonly rows: number | null;
  readonly cols: number | null;
  readonly frames: number | null;
}

export function readManifest(): ManifestEntry[] {
  return JSON.parse(readFileSync(path.join(samplesRoot, 'manifest.json'), 'utf8')) as ManifestEntry[];
}

export interface SampleDescription extends PixelFormat {
  readonly numberOfFrames: number;
  readonly transferSyntaxUid: string;
  readonly pixelDataOffset: number;
  /** -1 for undefined length (encapsulated). */
  readonly pixelDataLength: number;
  readonly extendedOffsetTable: string | null;
}

const run = promisify(execFile);

/** Runs the Python helper without blocking the test worker (large images take seconds). */
async function runHelper(args: string[]): Promise<string> {
  const { stdout } = await run(python, [helper, ...args], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return stdout;
}

export async function describeSample(file: string): Promise<SampleDescription> {
  return JSON.parse(await runHelper(['describe', file])) as SampleDescription;
}

/** The Pixel Data value of a sample: from its first item to the end of the file for encapsulated data. */
export async function pixelDataValue(file: string, description: SampleDescription): Promise<Uint8Array> {
  const bytes = new Uint8Array(await readFile(file));
  const end = description.pixelDataLength < 0 ? bytes.byteLength : description.pixelDataOffset + description.pixelDataLength;
  return bytes.subarray(description.pixelDataOffset, end);
}

export interface ReferencePixels {
  readonly frames: Uint8Array[];
  readonly photometricInterpretation: string;
  readonly decoder: string;
}

/**
 * Reference frames of `file`: decoded by DCMTK or OpenJPEG (mode 'decode'), or native frames read by pydicom with
 * 1-bit pixels unpacked to one byte each (mode 'native').
 */
export async function referencePixels(file: string, frameLength: number, mode: 'decode' | 'native' = 'decode'): Promise<ReferencePixels> {
  const directory = await mkdtemp(path.join(tmpdir(), 'loire-codec-ref-'));
  try {
    const out = path.join(directory, 'frames.raw');
    const result = JSON.parse(await runHelper([mode, file, out])) as {
      photometricInterpretation: string; frames: number; decoder: string;
    };
    const all = new Uint8Array(await readFile(out));
    const frames = Array.from({ length: result.frames }, (_, index) => all.subarray(index * frameLength, (index + 1) * frameLength));
    return { frames, photometricInterpretation: result.photometricInterpretation, decoder: result.decoder };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/** Largest absolute difference between two frames of samples of the given format, and how many samples differ. */
export function compareSamples(actual: Uint8Array, expected: Uint8Array, format: PixelFormat): { maxDifference: number; differing: number } {
  if (actual.byteLength !== expected.byteLength) return { maxDifference: Number.POSITIVE_INFINITY, differing: Number.POSITIVE_INFINITY };
  const bytes = format.bitsAllocated / 8;
  const a = new DataView(actual.buffer, actual.byteOffset, actual.byteLength);
  const e = new DataView(expected.buffer, expected.byteOffset, expected.byteLength);
  const read = (view: DataView, at: number): number => {
    if (bytes === 1) return format.pixelRepresentation ? view.getInt8(at) : view.getUint8(at);
    if (bytes === 2) return format.pixelRepresentation ? view.getInt16(at, true) : view.getUint16(at, true);
    return format.pixelRepresentation ? view.getInt32(at, true) : view.getUint32(at, true);
  };
  let maxDifference = 0;
  let differing = 0;
  for (let at = 0; at < actual.byteLength; at += bytes) {
    const difference = Math.abs(read(a, at) - read(e, at));
    if (difference > 0) differing++;
    if (difference > maxDifference) maxDifference = difference;
  }
  return { maxDifference, differing };
}
