// Part10Parser.skipAhead(): jumping over bulk values by position gives the same data set as
// pushing every byte (what a reader of a stored file relies on to read headers only).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Dataset, DataElement } from '../dataset.js';
import { tagHex } from '../tag.js';
import { Part10Parser, parsePart10, type Part10 } from './index.js';

const samples = path.resolve(__dirname, '../../../../../shared/dicom-samples');
const manifest = JSON.parse(readFileSync(path.join(samples, 'manifest.json'), 'utf8')) as { path: string; isDicom: boolean; parseError: string | null }[];

function dump(ds: Dataset, indent = ''): string[] {
  const out: string[] = [];
  for (const tag of ds.tags()) {
    const el = ds.get(tag)!;
    out.push(`${indent}${tagHex(tag)} ${el.vr} ${describeElement(el)}`);
    el.items?.forEach((item, i) => { out.push(`${indent} item ${i}`); out.push(...dump(item, `${indent}  `)); });
  }
  return out;
}

function describeElement(el: DataElement): string {
  if (el.fragments) return `fragments ${el.fragments.map((f) => `${f.offset}+${f.length}`).join(',')}`;
  if (el.items) return `items ${el.items.length}`;
  return el.value ? Buffer.from(el.value).toString('hex') : `bulk ${el.position?.offset}+${el.position?.length}`;
}

/** Reads `bytes` in chunks of `chunk`, jumping over whatever the parser says it may skip; returns the bytes it pushed. */
function parseSkipping(bytes: Uint8Array, chunk: number): { part10: Part10; pushed: number } {
  const parser = new Part10Parser();
  let position = 0;
  let pushed = 0;
  while (position < bytes.length) {
    const piece = bytes.subarray(position, Math.min(bytes.length, position + chunk));
    parser.push(piece);
    pushed += piece.length;
    position += piece.length;
    const skip = Math.min(parser.skippable, bytes.length - position);
    if (skip > 0) { parser.skipAhead(skip); position += skip; }
  }
  return { part10: parser.end(), pushed };
}

describe('Part10Parser.skipAhead', () => {
  const files = manifest.filter((e) => e.isDicom && e.parseError === null && !e.path.startsWith('malformed/'));
  it('gives the same data set as a full parse for every well-formed sample, in small and large reads', () => {
    let checked = 0;
    for (const entry of files) {
      const bytes = new Uint8Array(readFileSync(path.join(samples, entry.path)));
      let full: Part10;
      try { full = parsePart10(bytes); } catch { continue; }
      for (const chunk of [4096, 65536]) {
        const { part10 } = parseSkipping(bytes, chunk);
        expect(dump(part10.dataset), `${entry.path} in ${chunk}-byte reads`).toEqual(dump(full.dataset));
        expect(part10.transferSyntaxUid).toBe(full.transferSyntaxUid);
      }
      checked++;
    }
    expect(checked).toBeGreaterThan(500);
  });

  it('reads only the header of a native CT slice', () => {
    const entry = manifest.find((e) => e.path.startsWith('ct-series/philips-head-ct-std-brain-1mm/'))!;
    const bytes = new Uint8Array(readFileSync(path.join(samples, entry.path)));
    const { pushed } = parseSkipping(bytes, 16384);
    expect(pushed).toBeLessThan(bytes.length / 10);
  });

  it('refuses to skip more than the value holds, and nothing in the meta header', () => {
    const parser = new Part10Parser();
    expect(parser.skippable).toBe(0);
    expect(() => parser.skipAhead(1)).toThrow(/before the data set/);
  });
});
