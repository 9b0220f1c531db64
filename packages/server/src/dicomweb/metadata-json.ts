// WADO-RS metadata from the index's stored DICOM JSON (PS3.18 §10.4.1.1.2 and annex F.2.6): the
// value of every binary attribute (OB, OD, OF, OL, OV, OW, UN), whether the index kept it inline,
// as a byte range of the stored object, or only as a `{ vr }` marker (pixel data, large values),
// is replaced by a BulkDataURI; so is any other value left in the stored object at ingest (a text
// of more than 64 KiB, recorded with a byte range). The stored text is rewritten by a scanner that copies everything
// else through unchanged, so that a series of hundreds of instances needs no parse/serialise.
import type { DicomJson, DicomJsonElement } from '../index/index.js';

const BINARY_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);

/** Tag path of an element: sequence tag, 0-based item index, …, element tag (see context.ts bulkDataUri). */
export type TagPath = readonly (string | number)[];
export type BulkDataUriOf = (path: TagPath) => string;

/** Thrown when the text is not DICOM JSON shaped as the index writes it. */
class UnexpectedShape extends Error {}

/**
 * The metadata text with BulkDataURIs. Works on compact JSON as JSON.stringify writes it; any
 * other shape falls back to parse, rewrite and serialise (same result, slower).
 */
export function metadataWithBulkDataUris(text: string, uriOf: BulkDataUriOf): string {
  try {
    return new Scanner(text, uriOf).run();
  } catch (error) {
    if (!(error instanceof UnexpectedShape)) throw error;
    return JSON.stringify(withBulkDataUris(JSON.parse(text) as DicomJson, uriOf));
  }
}

/** The same rewrite on parsed DICOM JSON. */
export function withBulkDataUris(json: DicomJson, uriOf: BulkDataUriOf, prefix: TagPath = []): DicomJson {
  const out: DicomJson = {};
  for (const [tag, element] of Object.entries(json)) {
    const path = [...prefix, tag];
    if (BINARY_VRS.has(element.vr) || element.BulkDataURI !== undefined) {
      out[tag] = { vr: element.vr, BulkDataURI: uriOf(path) };
    } else if (element.vr === 'SQ' && element.Value) {
      out[tag] = { vr: 'SQ', Value: element.Value.map((item, i) => withBulkDataUris(item as DicomJson, uriOf, [...path, i])) };
    } else {
      out[tag] = element as DicomJsonElement;
    }
  }
  return out;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

class Scanner {
  private readonly parts: string[] = [];
  private copiedUpTo = 0;

  constructor(private readonly text: string, private readonly uriOf: BulkDataUriOf) {}

  /**
   * The top level is not walked element by element: a regular expression (native speed) finds
   * the elements that matter. `"vr":"` with unescaped quotes can only be structure (inside a
   * JSON string its quotes are escaped), and a sequence is consumed whole by the walking
   * scanner before the search goes on, so every hit of the search is a top-level element.
   */
  run(): string {
    const text = this.text;
    // Compact JSON ({"… or {}), as JSON.stringify writes it; anything else takes the slow path.
    if (text.charCodeAt(0) !== 0x7b || text.charCodeAt(text.length - 1) !== 0x7d || (text.length > 2 && text.charCodeAt(1) !== QUOTE)) {
      throw new UnexpectedShape();
    }
    const candidates = /"vr":"(?:O[BDFLVW]|UN|SQ)"|"BulkDataURI":"/g;
    for (let hit = candidates.exec(text); hit !== null; hit = candidates.exec(text)) {
      const start = hit[0].charCodeAt(1) === 0x76 /* v */ ? hit.index - 1 : text.lastIndexOf('{"vr":"', hit.index);
      // "GGGGEEEE":{
      if (start < 11 || text.charCodeAt(start - 1) !== 0x3a || text.charCodeAt(start - 2) !== QUOTE || text.charCodeAt(start - 11) !== QUOTE) {
        throw new UnexpectedShape();
      }
      candidates.lastIndex = this.element(start, [text.slice(start - 10, start - 2)]);
    }
    if (this.copiedUpTo === 0) return text;
    this.parts.push(this.text.slice(this.copiedUpTo));
    return this.parts.join('');
  }

  /** A data set `{"GGGGEEEE":{…},…}` starting at `pos`; returns the position after it. */
  private dataset(pos: number, prefix: TagPath): number {
    const text = this.text;
    if (text.charCodeAt(pos) !== 0x7b) throw new UnexpectedShape();
    pos++;
    if (text.charCodeAt(pos) === 0x7d) return pos + 1;
    for (;;) {
      // "GGGGEEEE":
      if (text.charCodeAt(pos) !== QUOTE || text.charCodeAt(pos + 9) !== QUOTE || text.charCodeAt(pos + 10) !== 0x3a) throw new UnexpectedShape();
      const tag = text.slice(pos + 1, pos + 9);
      pos = this.element(pos + 11, [...prefix, tag]);
      const next = text.charCodeAt(pos);
      if (next === 0x2c) { pos++; continue; }
      if (next === 0x7d) return pos + 1;
      throw new UnexpectedShape();
    }
  }

  /** One element `{"vr":"XX",…}`; rewrites binary ones, descends into sequences. */
  private element(pos: number, path: TagPath): number {
    const text = this.text;
    if (!text.startsWith('{"vr":"', pos) || text.charCodeAt(pos + 9) !== QUOTE) throw new UnexpectedShape();
    const vr = text.slice(pos + 7, pos + 9);
    const afterVr = pos + 10;
    if (BINARY_VRS.has(vr) || text.startsWith(',"BulkDataURI":"', afterVr)) {
      const end = skipValue(text, pos);
      this.parts.push(text.slice(this.copiedUpTo, pos), `{"vr":"${vr}","BulkDataURI":${JSON.stringify(this.uriOf(path))}}`);
      this.copiedUpTo = end;
      return end;
    }
    if (vr === 'SQ' && text.startsWith(',"Value":[', afterVr)) {
      let cursor = afterVr + 10;
      let index = 0;
      if (text.charCodeAt(cursor) !== 0x5d) {
        for (;;) {
          cursor = this.dataset(cursor, [...path, index++]);
          const next = text.charCodeAt(cursor);
          if (next === 0x2c) { cursor++; continue; }
          if (next === 0x5d) break;
          throw new UnexpectedShape();
        }
      }
      // "]" then "}" closing the element (the index writes nothing after Value).
      if (text.charCodeAt(cursor + 1) !== 0x7d) throw new UnexpectedShape();
      return cursor + 2;
    }
    return skipValue(text, pos);
  }
}

/** Position after the JSON object or array starting at `pos` (strings skipped with their escapes). */
function skipValue(text: string, pos: number): number {
  let depth = 0;
  for (let i = pos; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = stringEnd(text, i);
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  throw new UnexpectedShape();
}

/** Position of the quote closing the string that opens at `pos` (indexOf runs natively, far faster than a loop). */
function stringEnd(text: string, pos: number): number {
  let end = text.indexOf('"', pos + 1);
  for (;;) {
    if (end < 0) throw new UnexpectedShape();
    let backslashes = 0;
    while (text.charCodeAt(end - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return end;
    end = text.indexOf('"', end + 1);
  }
}
