import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeText, encodeText, parseSpecificCharacterSet } from './charset.js';
import type { Dataset } from './dataset.js';
import { readPart10File } from './reader/index.js';

const repoRoot = path.resolve(__dirname, '../../..');
const samples = path.resolve(repoRoot, '../shared/dicom-samples');

interface Expectation { charset: string; values: Record<string, string[]> }
const expectations = JSON.parse(readFileSync(path.join(__dirname, 'charset.expectations.json'), 'utf8')) as Record<string, Expectation>;

// pydicom 2.3 leaves the ESC $ ) A designations of ISO 2022 IR 58 in the text; checked by hand
// against the bytes (GB 2312 in G1: D5C5 = 张, D0A1 B6AB = 小东).
const PYDICOM_MISTAKES: Record<string, Record<string, string[]>> = {
  'malformed/charsets/chrGB2312.dcm': { '00100010': ['Zhang^XiaoDong=张^小东'] },
};

/** Follows "00321064/0/00100010" through sequence items. */
function lookup(ds: Dataset, key: string): string[] {
  const parts = key.split('/');
  let cur: Dataset | undefined = ds;
  for (let i = 0; i < parts.length - 1; i += 2) {
    cur = cur?.get(parseInt(parts[i]!, 16))?.items?.[Number(parts[i + 1])];
  }
  return cur ? cur.strings(parseInt(parts[parts.length - 1]!, 16)) : [];
}

describe('character sets against pydicom on every sample file with non-ASCII text', () => {
  const files = Object.keys(expectations);
  it('covers the charset folders and the FURU data', () => {
    expect(files.length).toBeGreaterThan(150);
    expect(files.filter((f) => f.startsWith('malformed/charsets/')).length).toBe(33);
  });
  for (const file of files) {
    const exp = expectations[file]!;
    if (Object.keys(exp.values).length === 0) continue;
    it(`${file} (${exp.charset || 'default'})`, async () => {
      const { dataset } = await readPart10File(path.join(samples, file));
      const want = { ...exp.values, ...PYDICOM_MISTAKES[file] };
      for (const [key, values] of Object.entries(want)) {
        expect(lookup(dataset, key).map((v) => v.trim()), key).toEqual(values.map((v) => v.trim()));
      }
    });
  }
});

const bytes = (...parts: (string | number[])[]): Uint8Array =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
const ESC = 0x1b;

describe('decodeText', () => {
  it('decodes single-byte sets, with real ISO 8859-1 (not windows-1252) for ISO_IR 100', () => {
    expect(decodeText(bytes([0x80, 0xe9]), ['ISO_IR 100'])).toBe('\u0080é');
    expect(decodeText(bytes([0xb4, 0xe9]), ['ISO_IR 144'])).toBe('Дщ');
    expect(decodeText(bytes([0xfb]), ['ISO_IR 166'])).toBe('๛');
  });

  it('decodes ISO 8859-1 values short and long alike, each byte to the code point of its number', () => {
    for (const length of [1, 63, 64, 65, 300]) {
      const value = Array.from({ length }, (_, i) => (i % 2 === 0 ? 0x41 + (i % 26) : 0xa0 + (i % 96)));
      expect(decodeText(bytes(value), ['ISO_IR 100'])).toBe(String.fromCodePoint(...value));
      const ascii = value.map((b) => b & 0x7f || 0x20);
      expect(decodeText(bytes(ascii), [])).toBe(String.fromCodePoint(...ascii));
    }
  });

  it('decodes ISO 2022 Japanese (JIS X 0208 in G0, katakana in G1)', () => {
    const yamada = bytes([ESC], '$B', [0x3b, 0x33, 0x45, 0x44], [ESC], '(B');
    expect(decodeText(yamada, ['', 'ISO 2022 IR 87'], 'PN')).toBe('山田');
    expect(decodeText(bytes([0xd4, 0xcf]), ['ISO 2022 IR 13', 'ISO 2022 IR 87'], 'PN')).toBe('ﾔﾏ');
  });

  it('decodes JIS X 0212 (ISO 2022 IR 159)', () => {
    // JIS X 0212 0x3021 is 丂 (U+4E02)
    expect(decodeText(bytes([ESC], '$(D', [0x30, 0x21], [ESC], '(B'), ['', 'ISO 2022 IR 159'])).toBe('丂');
  });

  it('returns to the initial designation at PN delimiters and value delimiters', () => {
    // G1 switched to Korean, then "^": the next high bytes are read with the initial set (none → latin1).
    const v = bytes([ESC], '$)C', [0xc8, 0xab], '^', [0xc8, 0xab]);
    expect(decodeText(v, ['', 'ISO 2022 IR 149'], 'PN')).toBe('홍^È«');
    // Not a delimiter outside PN: the Korean designation stays.
    expect(decodeText(v, ['', 'ISO 2022 IR 149'], 'LO')).toBe('홍^홍');
    const multi = bytes([ESC], '$)C', [0xc8, 0xab], '\\', [0xc8, 0xab]);
    expect(decodeText(multi, ['', 'ISO 2022 IR 149'], 'LO')).toBe('홍\\È«');
  });

  it('keeps an unknown charset readable as latin1', () => {
    expect(decodeText(bytes([0xe9]), ['NOT_A_CHARSET'])).toBe('é');
  });
});

describe('parseSpecificCharacterSet and encodeText', () => {
  it('normalises common misspellings of the defined terms', () => {
    expect(parseSpecificCharacterSet('ISO_IR_100')).toEqual(['ISO_IR 100']);
    expect(parseSpecificCharacterSet('\\ISO 2022 IR 87')).toEqual(['', 'ISO 2022 IR 87']);
    expect(parseSpecificCharacterSet('iso-ir 192')).toEqual(['ISO_IR 192']);
  });

  it('encodes UTF-8 and latin1 and refuses what the character set cannot hold', () => {
    expect(Buffer.from(encodeText('é', ['ISO_IR 192'])).toString('hex')).toBe('c3a9');
    expect(Buffer.from(encodeText('é', ['ISO_IR 100'])).toString('hex')).toBe('e9');
    expect(() => encodeText('山', ['ISO_IR 100'])).toThrow(/ISO_IR 192/);
  });
});
