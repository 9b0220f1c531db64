// QIDO-RS query parameters (PS3.18 §8.3.4) turned into an index query: attribute matching by
// keyword or tag, includefield, fuzzymatching, limit and offset. Every parameter is validated
// here; anything the index would have to guess about is a 400 that says what to send instead.
import { lookupKeyword, lookupTag, type DictionaryEntry } from '@loire/dicom';
import { ATTRIBUTE_BY_TAG, levelRank, type QueryLevel } from '../index/attributes.js';
import type { DicomJson } from '../index/index.js';
import { parseUid } from './context.js';
import { HttpError } from './http-error.js';

/** The search resource: the level searched, and the UIDs its path pins. */
export interface SearchResource {
  level: Exclude<QueryLevel, 'PATIENT'>;
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
}

export interface SearchQuery {
  level: SearchResource['level'];
  /** Match keys (with values) and return keys (empty), as the index takes them. */
  identifier: DicomJson;
  includeAll: boolean;
  fuzzy: boolean;
  /** The limit asked for, if any. */
  limit?: number;
  offset: number;
  /** Keys sent with a value that the index cannot match on at this level (returned, not matched). */
  unmatchedKeys: string[];
}

/** Attributes the server fills in itself (PS3.18 §10.6.3.3): never passed to the index. */
export const RETRIEVE_URL = '00081190';
export const INSTANCE_AVAILABILITY = '00080056';

const MAX_VALUE_LENGTH = 1024;
const MAX_OFFSET = 1_000_000_000;

/**
 * Default return attributes per level (PS3.18 §10.6.3.3.1, Tables 10.6.3-3 to 10.6.3-5).
 * Specific Character Set is added by the index when a value needs it.
 */
const DEFAULT_KEYWORDS: Record<SearchResource['level'], readonly string[]> = {
  STUDY: ['StudyDate', 'StudyTime', 'AccessionNumber', 'InstanceAvailability', 'ModalitiesInStudy', 'ReferringPhysicianName',
    'TimezoneOffsetFromUTC', 'RetrieveURL', 'PatientName', 'PatientID', 'PatientBirthDate', 'PatientSex', 'StudyInstanceUID',
    'StudyID', 'NumberOfStudyRelatedSeries', 'NumberOfStudyRelatedInstances'],
  SERIES: ['Modality', 'TimezoneOffsetFromUTC', 'SeriesDescription', 'RetrieveURL', 'SeriesInstanceUID', 'SeriesNumber',
    'NumberOfSeriesRelatedInstances', 'PerformedProcedureStepStartDate', 'PerformedProcedureStepStartTime', 'RequestAttributesSequence'],
  IMAGE: ['SOPClassUID', 'SOPInstanceUID', 'InstanceAvailability', 'TimezoneOffsetFromUTC', 'RetrieveURL', 'InstanceNumber',
    'Rows', 'Columns', 'BitsAllocated', 'NumberOfFrames'],
};

function tagHex(tag: number): string {
  return tag.toString(16).toUpperCase().padStart(8, '0');
}

function entryOf(keyword: string): DictionaryEntry {
  const entry = lookupKeyword(keyword);
  if (!entry) throw new Error(`"${keyword}" is not in the DICOM dictionary`);
  return entry;
}

/** The levels whose default attributes a resource returns: its own, and those of levels its path does not pin (§10.6.3.3.2). */
function defaultLevels(resource: SearchResource): SearchResource['level'][] {
  switch (resource.level) {
    case 'STUDY': return ['STUDY'];
    case 'SERIES': return resource.studyInstanceUid ? ['SERIES'] : ['STUDY', 'SERIES'];
    case 'IMAGE':
      if (resource.seriesInstanceUid) return ['IMAGE'];
      return resource.studyInstanceUid ? ['SERIES', 'IMAGE'] : ['STUDY', 'SERIES', 'IMAGE'];
  }
}

/** A keyword ("PatientName") or tag ("00100010") of a standard attribute; anything else is a 400. */
export function resolveAttribute(id: string, parameter: string): DictionaryEntry {
  if (id.includes('.')) {
    throw HttpError.badRequest(`${parameter}: "${clip(id)}" is a sequence attribute path; this server matches and returns `
      + 'top-level attributes only (use the sequence attribute itself in includefield)');
  }
  const entry = /^[0-9A-Fa-f]{8}$/.test(id) ? lookupTag(parseInt(id, 16) >>> 0) : lookupKeyword(id);
  if (!entry) {
    throw HttpError.badRequest(`${parameter}: "${clip(id)}" is not a DICOM attribute: use a keyword from PS3.6 (e.g. PatientName) `
      + 'or a tag as 8 hexadecimal digits (e.g. 00100010)');
  }
  return entry;
}

export function parseSearchQuery(rawQuery: string, resource: SearchResource): SearchQuery {
  const identifier: DicomJson = {};
  const matchKeys = new Set<string>();
  const includes: DictionaryEntry[] = [];
  let includeAll = false;
  let fuzzy = false;
  let limit: number | undefined;
  let offset = 0;
  const seen = new Set<string>();

  let params: URLSearchParams;
  try {
    params = new URLSearchParams(rawQuery);
  } catch {
    throw HttpError.badRequest('the query string is not valid URL encoding');
  }
  for (const [name, value] of params) {
    checkText(name, 'query parameter name');
    checkText(value, `query parameter ${clip(name)}`);
    const lower = name.toLowerCase();
    if (lower !== 'includefield') {
      if (seen.has(lower)) throw HttpError.badRequest(`query parameter ${clip(name)} is given twice; give it once (UID lists are comma-separated)`);
      seen.add(lower);
    }
    switch (lower) {
      case 'limit': limit = parseCount(name, value, 1, Number.MAX_SAFE_INTEGER); break;
      case 'offset': offset = parseCount(name, value, 0, MAX_OFFSET); break;
      case 'fuzzymatching':
        if (value !== 'true' && value !== 'false') throw HttpError.badRequest(`fuzzymatching must be "true" or "false", not "${clip(value)}"`);
        fuzzy = value === 'true';
        break;
      case 'emptyvaluematching':
      case 'multiplevaluematching':
        // PS3.18 Table 8.3.4-1. "false" is this server's behaviour; the extended matching is not implemented.
        if (value === 'false') break;
        if (value === 'true') throw HttpError.badRequest(`${lower}=true is not supported by this server; omit the parameter or send false`);
        throw HttpError.badRequest(`${lower} must be "true" or "false", not "${clip(value)}"`);
      case 'includefield':
        for (const id of value.split(',').map((v) => v.trim())) {
          if (id === '') throw HttpError.badRequest('includefield has an empty attribute; give keywords or tags separated by commas');
          if (id.toLowerCase() === 'all') includeAll = true;
          else includes.push(resolveAttribute(id, 'includefield'));
        }
        break;
      default: {
        const entry = resolveAttribute(name, 'query parameter');
        const tag = tagHex(entry.tag);
        if (identifier[tag]) throw HttpError.badRequest(`attribute ${entry.keyword || tag} is given twice`);
        identifier[tag] = matchElement(entry, value);
        if (value !== '') matchKeys.add(tag);
      }
    }
  }

  // The path's UIDs are match keys too; a query parameter may not contradict them.
  for (const [keyword, uid] of [['StudyInstanceUID', resource.studyInstanceUid], ['SeriesInstanceUID', resource.seriesInstanceUid]] as const) {
    if (uid === undefined) continue;
    const tag = tagHex(entryOf(keyword).tag);
    if (identifier[tag]) throw HttpError.badRequest(`${keyword} is already given by the URL path; remove it from the query parameters`);
    identifier[tag] = { vr: 'UI', Value: [uid] };
    matchKeys.add(tag);
  }

  for (const level of defaultLevels(resource)) {
    for (const keyword of DEFAULT_KEYWORDS[level]) addReturnKey(identifier, entryOf(keyword));
  }
  for (const entry of includes) addReturnKey(identifier, entry);
  if (includeAll) {
    // All attributes the index keeps at this level and above; at instance level the whole
    // instance is added from its stored metadata (see qido.ts).
    for (const attribute of ATTRIBUTE_BY_TAG.values()) {
      if (levelRank(attribute.level) <= levelRank(resource.level)) addReturnKey(identifier, entryOf(attribute.keyword));
    }
  }
  const unmatchedKeys = [...matchKeys].filter((tag) => {
    const attribute = ATTRIBUTE_BY_TAG.get(tag);
    return !attribute || levelRank(attribute.level) > levelRank(resource.level);
  });
  return { level: resource.level, identifier, includeAll, fuzzy, ...(limit !== undefined ? { limit } : {}), offset, unmatchedKeys };
}

function addReturnKey(identifier: DicomJson, entry: DictionaryEntry): void {
  const tag = tagHex(entry.tag);
  identifier[tag] ??= { vr: entry.vr };
}

/** A match value checked against its VR's matching rules (PS3.4 C.2.2.2, PS3.18 §8.3.4.1). */
function matchElement(entry: DictionaryEntry, value: string): DicomJson[string] {
  const name = entry.keyword || tagHex(entry.tag);
  const vr = entry.vr;
  if (value === '') return { vr }; // universal matching: a return key
  if (value.length > MAX_VALUE_LENGTH) throw HttpError.badRequest(`${name}: the value is longer than ${MAX_VALUE_LENGTH} characters`);
  switch (vr) {
    case 'UI': {
      // UID list matching: values separated by commas or backslashes.
      const uids = value.split(/[,\\]/).map((uid) => parseUid(uid.trim(), name));
      return { vr, Value: uids };
    }
    case 'DA': return { vr, Value: [checkRange(name, value, /^\d{8}$/, 'YYYYMMDD')] };
    case 'TM': return { vr, Value: [checkRange(name, value, /^\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?$/, 'HH[MM[SS[.FFFFFF]]]')] };
    case 'DT': return { vr, Value: [checkRange(name, value, /^\d{4}(\d{2}(\d{2}(\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?)?)?)?([+-]\d{4})?$/, 'YYYY[MM[DD[HH[MM[SS[.F]]]]]][&ZZXX]')] };
    case 'IS': case 'SS': case 'US': case 'SL': case 'UL': case 'SV': case 'UV':
      if (!/^[+-]?\d{1,20}$/.test(value)) throw HttpError.badRequest(`${name} (${vr}) must be an integer, not "${clip(value)}"`);
      return { vr, Value: [value] };
    case 'DS': case 'FL': case 'FD':
      if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(value)) throw HttpError.badRequest(`${name} (${vr}) must be a decimal number, not "${clip(value)}"`);
      return { vr, Value: [value] };
    case 'SQ': case 'OB': case 'OD': case 'OF': case 'OL': case 'OV': case 'OW': case 'UN':
      throw HttpError.badRequest(`${name} (${vr}) cannot be matched on a value; use it in includefield to have it returned`);
    default:
      // Text, with "*" and "?" as wildcards (C.2.2.2.4). A backslash would separate values.
      if (value.includes('\\')) throw HttpError.badRequest(`${name}: a backslash is not allowed in a match value`);
      return { vr, Value: [value] };
  }
}

function checkRange(name: string, value: string, single: RegExp, form: string): string {
  const dash = value.indexOf('-');
  // A DT may carry a negative UTC offset: only a dash outside an offset separates a range.
  const isRange = dash >= 0 && !(single.test(value));
  if (!isRange) {
    if (!single.test(value)) throw HttpError.badRequest(`${name} must be ${form} or a range "from-to", not "${clip(value)}"`);
    return value;
  }
  const parts = splitRange(value, single);
  if (!parts) throw HttpError.badRequest(`${name} must be ${form} or a range "from-to" (either side may be empty), not "${clip(value)}"`);
  return value;
}

function splitRange(value: string, single: RegExp): [string, string] | undefined {
  for (let i = value.indexOf('-'); i >= 0; i = value.indexOf('-', i + 1)) {
    const from = value.slice(0, i);
    const to = value.slice(i + 1);
    if ((from === '' || single.test(from)) && (to === '' || single.test(to)) && (from !== '' || to !== '')) return [from, to];
  }
  return undefined;
}

function parseCount(name: string, value: string, min: number, max: number): number {
  if (!/^\d{1,15}$/.test(value)) throw HttpError.badRequest(`${name} must be a whole number, not "${clip(value)}"`);
  const n = Number(value);
  if (n < min) throw HttpError.badRequest(`${name} must be at least ${min}`);
  if (n > max) throw HttpError.badRequest(`${name} must be at most ${max}`);
  return n;
}

/** Control characters (NUL included) have no place in a DICOM match value or a parameter name. */
function checkText(text: string, what: string): void {
  if (/[\u0000-\u001f\u007f]/.test(text)) throw HttpError.badRequest(`${what} contains a control character`);
}

function clip(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}…` : text;
}
