// Lookup over the generated data dictionary (PS3.6 section 6) and UID registry (PS3.6 annex A).
import { DATA_ELEMENTS, REPEATING_ELEMENTS, type DictionaryRow } from './data-elements.generated.js';
import { UIDS, type UidRow } from './uids.generated.js';
import { SUPPLEMENT_UIDS } from './supplement.js';

export interface DictionaryEntry {
  readonly tag: number;
  /** First VR listed by PS3.6; `vrs` holds every alternative (e.g. US|SS). */
  readonly vr: string;
  readonly vrs: readonly string[];
  readonly vm: string;
  readonly keyword: string;
  readonly retired: boolean;
}

export interface UidEntry {
  readonly uid: string;
  readonly name: string;
  readonly type: string;
  readonly keyword: string;
  readonly retired: boolean;
}

const byTag = new Map<number, DictionaryEntry>();
const byKeyword = new Map<string, DictionaryEntry>();

function toEntry(tag: number, row: DictionaryRow): DictionaryEntry {
  const vrs = row[1].split('|');
  return { tag, vr: vrs[0] ?? 'UN', vrs, vm: row[2], keyword: row[3], retired: row[4] === 1 };
}

for (const row of DATA_ELEMENTS) {
  const entry = toEntry(parseInt(row[0], 16) >>> 0, row);
  byTag.set(entry.tag, entry);
  if (entry.keyword) byKeyword.set(entry.keyword, entry);
}

interface RepeatingEntry { readonly mask: number; readonly value: number; readonly row: DictionaryRow }
const repeating: RepeatingEntry[] = REPEATING_ELEMENTS.map((row) => {
  const hex = row[0];
  let mask = 0;
  let value = 0;
  for (const ch of hex) {
    mask = (mask << 4) | (ch === 'X' ? 0 : 0xf);
    value = (value << 4) | (ch === 'X' ? 0 : parseInt(ch, 16));
  }
  return { mask: mask >>> 0, value: value >>> 0, row };
});

/** The dictionary entry of a standard tag, including repeating groups (50xx, 60xx). */
export function lookupTag(tag: number): DictionaryEntry | undefined {
  const entry = byTag.get(tag);
  if (entry) return entry;
  for (const r of repeating) {
    if (((tag & r.mask) >>> 0) === r.value) return toEntry(tag, r.row);
  }
  return undefined;
}

export function lookupKeyword(keyword: string): DictionaryEntry | undefined {
  return byKeyword.get(keyword);
}

const uids = new Map<string, UidEntry>();
function addUid(row: UidRow): void {
  uids.set(row[0], { uid: row[0], name: row[1], type: row[2], keyword: row[3], retired: row[4] === 1 });
}
UIDS.forEach(addUid);
SUPPLEMENT_UIDS.forEach(addUid);

export function lookupUid(uid: string): UidEntry | undefined {
  return uids.get(uid);
}

export function allUids(): IterableIterator<UidEntry> {
  return uids.values();
}
