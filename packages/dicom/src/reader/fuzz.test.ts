// Robustness: mutated files must fail only with DicomParseError, finish, and never hold more
// value bytes than they were given (no allocation from declared lengths).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Dataset } from '../dataset.js';
import { DicomParseError, Part10Parser } from './index.js';

const repoRoot = path.resolve(__dirname, '../../../..');
const samples = path.resolve(repoRoot, '../shared/dicom-samples');

interface ManifestEntry { path: string; isDicom: boolean; bytes: number; parseError: string | null }
const manifest = JSON.parse(readFileSync(path.join(samples, 'manifest.json'), 'utf8')) as ManifestEntry[];

const MUST_HAVE = [
  'syntaxes/orthanc-by-ts-uid/1.2.840.10008.1.2.1.99.dcm',
  'syntaxes/orthanc-by-ts-uid/1.2.840.10008.1.2.2.dcm',
  'syntaxes/orthanc-by-ts-uid/1.2.840.10008.1.2.dcm',
  'syntaxes/misc/LenaTwiceWithFragments.dcm',
  'pydicom-test-files/UN_sequence.dcm',
  'modalities/sr/sr_document.dcm',
  'malformed/charsets/chrSQEncoding1.dcm',
  'modalities/cr-dx/CR-MONO1-10-chest',
];
// Small files from every folder, chosen deterministically, up to 30 in all.
const small = manifest
  .filter((e) => e.isDicom && !e.parseError && e.bytes < 150_000 && !MUST_HAVE.includes(e.path))
  .sort((a, b) => (a.path < b.path ? -1 : 1))
  .filter((_, i, all) => i % Math.ceil(all.length / 22) === 0)
  .map((e) => e.path);
const FILES = [...MUST_HAVE, ...small].slice(0, 30);

/** Deterministic PRNG (mulberry32) so that a failure can be replayed from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mutate(src: Uint8Array, rand: () => number): Uint8Array {
  const int = (n: number): number => Math.floor(rand() * n);
  // Headers are dense at the start; pixel data is not interesting to corrupt.
  const hot = (): number => (rand() < 0.8 ? int(Math.min(src.length, 4096)) : int(src.length));
  const kind = int(4);
  if (kind === 0) return src.subarray(0, int(src.length)); // truncation
  const out = Uint8Array.from(src);
  const dv = new DataView(out.buffer);
  const edits = 1 + int(8);
  for (let i = 0; i < edits; i++) {
    const at = hot();
    if (kind === 1) out[at] = int(256); // byte flip
    else if (kind === 2 && at + 4 <= out.length) {
      // length field corruption: huge, undefined, off by a little, or random
      const choices = [0xffffffff, 0x7fffffff, 0xfffffff0, dv.getUint32(at, true) + 1 + int(64), int(0x100000000)];
      dv.setUint32(at, choices[int(choices.length)]! >>> 0, true);
    } else if (at + 2 <= out.length) {
      dv.setUint16(at, [0xffff, 0xfffe, 0xe000, 0xe00d, 0xe0dd, int(0x10000)][int(6)]!, true); // tags/delimiters
    }
  }
  return out;
}

function valueBytes(ds: Dataset): number {
  let total = 0;
  for (const tag of ds.tags()) {
    const el = ds.get(tag)!;
    total += el.value?.length ?? 0;
    for (const item of el.items ?? []) total += valueBytes(item);
  }
  return total;
}

describe('fuzz: mutated samples fail only with DicomParseError', () => {
  it('uses about 30 samples', () => expect(FILES.length).toBe(30));
  FILES.forEach((rel, fileIndex) => {
    it(rel, () => {
      const src = readFileSync(path.join(samples, rel));
      const deflated = rel.includes('1.2.840.10008.1.2.1.99');
      for (let iter = 0; iter < 120; iter++) {
        const seed = fileIndex * 100_000 + iter;
        const rand = rng(seed);
        const input = mutate(src, rand);
        const chunk = 1 + Math.floor(rand() * 70_000);
        try {
          const p = new Part10Parser({ maxDepth: 16 });
          for (let o = 0; o < input.length; o += chunk) p.push(input.subarray(o, o + chunk));
          const r = p.end();
          // Values are copies of bytes that were really read, never buffers sized by a length field.
          if (!deflated) expect(valueBytes(r.dataset) + (r.meta ? valueBytes(r.meta) : 0), `seed ${seed}`).toBeLessThanOrEqual(input.length);
        } catch (e) {
          if (!(e instanceof DicomParseError)) throw new Error(`seed ${seed}: ${(e as Error).stack}`);
        }
      }
    });
  });
});
