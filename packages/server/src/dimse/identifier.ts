// C-FIND/MOVE/GET identifiers: bytes in the negotiated syntax ⇄ the DICOM JSON the index speaks.
import { DatasetParser, encodeDataset, fromDicomJson, toDicomJson, type DicomJson } from '@loire/dicom';

export type QueryLevel = 'PATIENT' | 'STUDY' | 'SERIES' | 'IMAGE';
export type InformationModel = 'PATIENT_ROOT' | 'STUDY_ROOT';

const QUERY_RETRIEVE_LEVEL = '00080052';

export const MODEL_OF_SOP_CLASS: Readonly<Record<string, InformationModel>> = {
  '1.2.840.10008.5.1.4.1.2.1.1': 'PATIENT_ROOT', // FIND
  '1.2.840.10008.5.1.4.1.2.1.2': 'PATIENT_ROOT', // MOVE
  '1.2.840.10008.5.1.4.1.2.1.3': 'PATIENT_ROOT', // GET
  '1.2.840.10008.5.1.4.1.2.2.1': 'STUDY_ROOT',
  '1.2.840.10008.5.1.4.1.2.2.2': 'STUDY_ROOT',
  '1.2.840.10008.5.1.4.1.2.2.3': 'STUDY_ROOT',
};

export class IdentifierError extends Error {
  override name = 'IdentifierError';
}

export interface ParsedIdentifier {
  model: InformationModel;
  level: QueryLevel;
  /** The identifier without Query/Retrieve Level. */
  keys: DicomJson;
}

/**
 * The last parse of each received identifier: the query service and the audit recorder both read
 * it, and parsing twice cost a C-FIND about 25 µs. Weakly held: it goes with the request.
 */
const parsedIdentifiers = new WeakMap<Uint8Array, { transferSyntaxUid: string; sopClassUid: string; parsed: ParsedIdentifier }>();

/** The identifier's model, level and keys; the result is shared between callers: read it, never change it. */
export function parseIdentifier(bytes: Uint8Array, transferSyntaxUid: string, sopClassUid: string): ParsedIdentifier {
  const known = parsedIdentifiers.get(bytes);
  if (known && known.transferSyntaxUid === transferSyntaxUid && known.sopClassUid === sopClassUid) return known.parsed;
  const parsed = parseIdentifierOnce(bytes, transferSyntaxUid, sopClassUid);
  parsedIdentifiers.set(bytes, { transferSyntaxUid, sopClassUid, parsed });
  return parsed;
}

function parseIdentifierOnce(bytes: Uint8Array, transferSyntaxUid: string, sopClassUid: string): ParsedIdentifier {
  const model = MODEL_OF_SOP_CLASS[sopClassUid];
  if (!model) throw new IdentifierError(`${sopClassUid} is not a Query/Retrieve information model Loire supports`);
  const parser = new DatasetParser({ transferSyntaxUid });
  parser.push(bytes);
  const json = toDicomJson(parser.end());
  const levelValue = json[QUERY_RETRIEVE_LEVEL]?.Value?.[0];
  const level = typeof levelValue === 'string' ? levelValue.trim().toUpperCase() : '';
  if (level !== 'PATIENT' && level !== 'STUDY' && level !== 'SERIES' && level !== 'IMAGE') {
    throw new IdentifierError(`Query/Retrieve Level (0008,0052) "${level}" is not PATIENT, STUDY, SERIES or IMAGE`);
  }
  if (level === 'PATIENT' && model === 'STUDY_ROOT') {
    throw new IdentifierError('Query/Retrieve Level PATIENT is not part of the Study Root information model');
  }
  const keys: DicomJson = { ...json };
  delete keys[QUERY_RETRIEVE_LEVEL];
  return { model, level, keys };
}

/** Attributes a C-FIND response may carry beyond the requested keys (PS3.4 C.4.1.1.3.2). */
const ALWAYS_ALLOWED = new Set(['00080005', '00080052', '00080054', '00080056', '00880130', '00880140', '00080201']);

/**
 * One C-FIND response identifier: the requested keys of the match (and nothing else), with
 * its level and where to retrieve it.
 */
export function encodeMatch(match: DicomJson, requested: DicomJson, level: QueryLevel, retrieveAeTitle: string, transferSyntaxUid: string): Uint8Array {
  const json: DicomJson = {};
  for (const [tag, attribute] of Object.entries(match)) {
    if (tag in requested || ALWAYS_ALLOWED.has(tag)) json[tag] = attribute;
  }
  json[QUERY_RETRIEVE_LEVEL] = { vr: 'CS', Value: [level] };
  json['00080054'] = { vr: 'AE', Value: [retrieveAeTitle] };
  return encodeDataset(fromDicomJson(json), { transferSyntaxUid });
}
