// Specific Character Set (0008,0005) → Unicode (PS3.5 section 6.1, PS3.3 C.12.1.1.2).
// Single-value terms name one encoding; ISO 2022 terms allow code extensions switched by
// escape sequences inside the value, so those values are split on escapes and each run
// decoded with the character set it designates.
import { TextDecoder } from 'node:util';
import type { VR } from './dataset.js';

const ESC = 0x1b;

/** Terms without code extensions → WHATWG encoding label (Node's TextDecoder has full ICU). */
const SINGLE_TERMS: Readonly<Record<string, string>> = {
  'ISO_IR 6': 'latin1', // default repertoire; bytes above 0x7F are invalid but latin1 keeps them visible
  'ISO_IR 100': 'latin1',
  'ISO_IR 101': 'iso-8859-2',
  'ISO_IR 109': 'iso-8859-3',
  'ISO_IR 110': 'iso-8859-4',
  'ISO_IR 144': 'iso-8859-5',
  'ISO_IR 127': 'iso-8859-6',
  'ISO_IR 126': 'iso-8859-7',
  'ISO_IR 138': 'iso-8859-8',
  'ISO_IR 148': 'iso-8859-9',
  'ISO_IR 166': 'windows-874', // TIS 620-2533 is a subset of windows-874
  'ISO_IR 13': 'shift_jis', // JIS X 0201: romaji + half-width katakana, as shift_jis single bytes
  'ISO_IR 192': 'utf-8',
  'GB18030': 'gb18030',
  'GBK': 'gbk',
};

type G0 = 'ascii' | 'jisx0208' | 'jisx0212';
/** What the bytes 0x80-0xFF (G1, right half) mean: an encoding label whose upper half is that set. */
type G1 = string | undefined;

interface Designation { readonly g0?: G0; readonly g1?: string }

/** ISO 2022 escape sequences (intermediate + final bytes after ESC) → what they designate. */
const ESCAPES: Readonly<Record<string, Designation>> = {
  '(B': { g0: 'ascii' }, // ISO 2022 IR 6
  '(J': { g0: 'ascii' }, // ISO 2022 IR 13 romaji: ASCII but for ¥ and ‾, read as ASCII like other toolkits
  ')I': { g1: 'shift_jis' }, // ISO 2022 IR 13 katakana
  '$B': { g0: 'jisx0208' }, // ISO 2022 IR 87
  '$@': { g0: 'jisx0208' }, // JIS C 6226-1978, the predecessor of IR 87
  '$(D': { g0: 'jisx0212' }, // ISO 2022 IR 159
  '$)C': { g1: 'euc-kr' }, // ISO 2022 IR 149 (KS X 1001)
  '$)A': { g1: 'gbk' }, // ISO 2022 IR 58 (GB 2312)
  '-A': { g1: 'latin1' }, // IR 100
  '-B': { g1: 'iso-8859-2' }, // IR 101
  '-C': { g1: 'iso-8859-3' }, // IR 109
  '-D': { g1: 'iso-8859-4' }, // IR 110
  '-L': { g1: 'iso-8859-5' }, // IR 144
  '-G': { g1: 'iso-8859-6' }, // IR 127
  '-F': { g1: 'iso-8859-7' }, // IR 126
  '-H': { g1: 'iso-8859-8' }, // IR 138
  '-M': { g1: 'iso-8859-9' }, // IR 148
  '-T': { g1: 'windows-874' }, // IR 166
};

/** Initial G0/G1 designation implied by a term used as value 1 with code extensions. */
const INITIAL_G1: Readonly<Record<string, string>> = {
  '100': 'latin1', '101': 'iso-8859-2', '109': 'iso-8859-3', '110': 'iso-8859-4', '144': 'iso-8859-5',
  '127': 'iso-8859-6', '126': 'iso-8859-7', '138': 'iso-8859-8', '148': 'iso-8859-9', '166': 'windows-874',
  '13': 'shift_jis', '149': 'euc-kr', '58': 'gbk',
};

const decoders = new Map<string, TextDecoder>();
function decoderFor(label: string): TextDecoder {
  let d = decoders.get(label);
  if (!d) {
    d = new TextDecoder(label);
    decoders.set(label, d);
  }
  return d;
}

/** Below this many bytes, a value is decoded without a Buffer view: half the cost for the short values most elements hold. */
const SHORT_TEXT = 64;

/** Real ISO 8859-1 (WHATWG's "latin1" label is windows-1252, which differs at 0x80-0x9F). */
function decodeLatin1(bytes: Uint8Array): string {
  // ISO 8859-1 maps each byte to the code point of the same number.
  if (bytes.length <= SHORT_TEXT) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

function decodeWith(label: string | undefined, bytes: Uint8Array): string {
  if (bytes.length === 0) return '';
  if (label === undefined || label === 'latin1') return decodeLatin1(bytes);
  return decoderFor(label).decode(bytes);
}

/** Splits a Specific Character Set value into its terms, normalising common misspellings. */
export function parseSpecificCharacterSet(value: string | undefined): string[] {
  if (!value) return [];
  return value.split('\\').map(normaliseTerm);
}

function normaliseTerm(raw: string): string {
  const t = raw.trim().toUpperCase();
  if (t === '') return '';
  const iso2022 = /^ISO[ _-]?2022[ _-]?IR[ _-]?(\d+)$/.exec(t);
  if (iso2022) return `ISO 2022 IR ${iso2022[1]}`;
  const isoIr = /^ISO[ _-]?IR[ _-]?(\d+)$/.exec(t);
  if (isoIr) return `ISO_IR ${isoIr[1]}`;
  return t;
}

function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! >= 0x80 || bytes[i] === ESC) return false;
  return true;
}

/**
 * Decodes a text value. `charsets` are the terms of (0008,0005) in effect (already split);
 * `vr` matters for PN, whose component delimiters also reset code extensions.
 */
export function decodeText(bytes: Uint8Array, charsets: readonly string[], vr?: VR): string {
  if (isAscii(bytes)) return decodeLatin1(bytes);
  const first = charsets[0] ?? '';
  const codeExtensions = charsets.length > 1 || first.startsWith('ISO 2022');
  if (!codeExtensions) return decodeWith(SINGLE_TERMS[first] ?? 'latin1', bytes);
  // UTF-8 and GB18030 cannot be combined with code extensions: decode as the first term says.
  if (first === 'ISO_IR 192' || first === 'GB18030' || first === 'GBK') return decodeWith(SINGLE_TERMS[first], bytes);
  return decodeIso2022(bytes, initialG1(first), vr === 'PN');
}

function initialG1(term: string): G1 {
  const m = /(\d+)$/.exec(term);
  return m ? INITIAL_G1[m[1]!] : undefined;
}

function isDelimiter(b: number, pn: boolean): boolean {
  // PS3.5 6.1.2.5.3: the initial designation returns before CR LF TAB FF and value
  // delimiters, and, in person names, before the component group and component delimiters.
  return b === 0x5c || b === 0x0d || b === 0x0a || b === 0x09 || b === 0x0c || (pn && (b === 0x5e || b === 0x3d));
}

function decodeIso2022(bytes: Uint8Array, g1Initial: G1, pn: boolean): string {
  let g0: G0 = 'ascii';
  let g1: G1 = g1Initial;
  let out = '';
  let runStart = 0;
  const flush = (end: number): void => {
    if (end > runStart) out += decodeRun(bytes.subarray(runStart, end), g0, g1);
  };
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b === ESC) {
      flush(i);
      let j = i + 1;
      while (j < bytes.length && bytes[j]! >= 0x20 && bytes[j]! <= 0x2f) j++;
      const seq = String.fromCharCode(...bytes.subarray(i + 1, Math.min(j + 1, bytes.length)));
      const d = ESCAPES[seq];
      if (d?.g0) g0 = d.g0;
      if (d?.g1) g1 = d.g1;
      i = j + 1;
      runStart = i;
      continue;
    }
    if (g0 === 'ascii' && b < 0x80 && isDelimiter(b, pn)) {
      flush(i + 1);
      g0 = 'ascii';
      g1 = g1Initial;
      runStart = i + 1;
    }
    i++;
  }
  flush(bytes.length);
  return out;
}

/** Decodes bytes under one designation: left-half bytes by G0, right-half bytes by G1. */
function decodeRun(run: Uint8Array, g0: G0, g1: G1): string {
  if (g0 === 'ascii') return decodeWith(g1, run);
  let out = '';
  let start = 0;
  while (start < run.length) {
    const high = run[start]! >= 0x80;
    let end = start;
    while (end < run.length && (run[end]! >= 0x80) === high) end++;
    const part = run.subarray(start, end);
    out += high ? decodeWith(g1, part) : decodeJis(part, g0);
    start = end;
  }
  return out;
}

/** JIS X 0208/0212 in G0 → EUC-JP bytes (set the high bit; 0x8F prefixes JIS X 0212). */
function decodeJis(part: Uint8Array, g0: 'jisx0208' | 'jisx0212'): string {
  const pairs = part.length >> 1;
  const width = g0 === 'jisx0212' ? 3 : 2;
  const euc = new Uint8Array(pairs * width);
  for (let p = 0, o = 0; p < pairs; p++) {
    if (width === 3) euc[o++] = 0x8f;
    euc[o++] = part[2 * p]! | 0x80;
    euc[o++] = part[2 * p + 1]! | 0x80;
  }
  return decoderFor('euc-jp').decode(euc) + (part.length % 2 ? '\ufffd' : '');
}

/** Thrown when text cannot be represented in the dataset's Specific Character Set. */
export class CharsetEncodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CharsetEncodeError';
  }
}

/**
 * Encodes text for a dataset whose (0008,0005) holds `charsets`. Supports the default
 * repertoire, ISO_IR 100 and ISO_IR 192 (UTF-8): what Loire itself writes.
 */
export function encodeText(text: string, charsets: readonly string[]): Uint8Array {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(text)) return Buffer.from(text, 'latin1');
  if (charsets.includes('ISO_IR 192')) return Buffer.from(text, 'utf8');
  if (charsets[0] === 'ISO_IR 100' && /^[\x00-\xff]*$/.test(text)) return Buffer.from(text, 'latin1');
  throw new CharsetEncodeError(
    `Cannot encode "${text}" with Specific Character Set "${charsets.join('\\')}": set (0008,0005) to ISO_IR 192 (UTF-8) first`);
}
