// Content negotiation (RFC 9110 §12.5.1 and PS3.18 §8.7): Accept header → media ranges by preference.
import { HttpError } from './http-error.js';

export interface MediaRange {
  /** Lower-case "type/subtype", possibly with wildcards ("*\/*", "image/*"). */
  readonly type: string;
  /** Parameters with lower-case names, quotes removed (e.g. type, transfer-syntax). */
  readonly parameters: Readonly<Record<string, string>>;
  readonly q: number;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Parses one Content-Type or media range: `type/subtype; name=value; name="quoted value"`. */
export function parseMediaType(text: string): { type: string; parameters: Record<string, string> } {
  const parts = splitOutsideQuotes(text, ';');
  const type = (parts.shift() ?? '').trim().toLowerCase();
  const [main, sub] = type.split('/');
  if (!main || !sub || !TOKEN.test(main) || !TOKEN.test(sub)) throw HttpError.badRequest(`"${text}" is not a media type`);
  const parameters: Record<string, string> = {};
  for (const part of parts) {
    const equals = part.indexOf('=');
    if (equals <= 0) { if (part.trim() === '') continue; throw HttpError.badRequest(`media type parameter "${part.trim()}" has no value`); }
    const name = part.slice(0, equals).trim().toLowerCase();
    let value = part.slice(equals + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    if (!TOKEN.test(name)) throw HttpError.badRequest(`media type parameter name "${name}" is not a token`);
    parameters[name] = value;
  }
  return { type, parameters };
}

/** The Accept header as media ranges, most preferred first; a missing header accepts anything. */
export function parseAccept(header: string | undefined): MediaRange[] {
  if (header === undefined || header.trim() === '') return [{ type: '*/*', parameters: {}, q: 1 }];
  const ranges: MediaRange[] = [];
  for (const item of splitOutsideQuotes(header, ',')) {
    if (item.trim() === '') continue;
    const { type, parameters } = parseMediaType(item);
    let q = 1;
    if (parameters.q !== undefined) {
      q = Number(parameters.q);
      if (!/^[01](\.\d{0,3})?$/.test(parameters.q) || q > 1) throw HttpError.badRequest(`Accept: q value "${parameters.q}" is not between 0 and 1`);
      delete parameters.q;
    }
    if (q > 0) ranges.push({ type, parameters, q });
  }
  // Stable sort: equal q keeps header order; more specific ranges first among equals (RFC 9110 §12.5.1).
  return ranges
    .map((range, order) => ({ range, order }))
    .sort((a, b) => b.range.q - a.range.q || specificity(b.range) - specificity(a.range) || a.order - b.order)
    .map(({ range }) => range);
}

/** Whether a range accepts a concrete media type ("image/jpeg" matches "image/*" and "*\/*"). */
export function rangeMatches(range: MediaRange, type: string): boolean {
  if (range.type === '*/*') return true;
  const [main, sub] = range.type.split('/');
  const [typeMain, typeSub] = type.toLowerCase().split('/');
  return main === typeMain && (sub === '*' || sub === typeSub);
}

function specificity(range: MediaRange): number {
  if (range.type === '*/*') return 0;
  if (range.type.endsWith('/*')) return 1;
  return 2 + Object.keys(range.parameters).length;
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"' && text[i - 1] !== '\\') quoted = !quoted;
    if (c === separator && !quoted) { out.push(current); current = ''; } else current += c;
  }
  out.push(current);
  return out;
}
