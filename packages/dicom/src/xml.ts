// The Native DICOM Model (PS3.19 annex A.1): the XML form of a data set that DICOMweb answers with
// for `application/dicom+xml` (PS3.18 §8.7.3), written from the DICOM JSON model (PS3.18 F.2).
import { lookupTag } from './dictionary/index.js';
import type { DicomJson, DicomJsonAttribute, PersonNameJson } from './json.js';

export const NATIVE_DICOM_MODEL_NAMESPACE = 'http://dicom.nema.org/PS3.19/models/NativeDICOM';

/** PN component groups and their components, in the order of PS3.19 A.1.5 (PersonNameComponents). */
const PN_GROUPS = ['Alphabetic', 'Ideographic', 'Phonetic'] as const;
const PN_COMPONENTS = ['FamilyName', 'GivenName', 'MiddleName', 'NamePrefix', 'NameSuffix'] as const;

/** One XML document (UTF-8) holding the data set. */
export function toNativeDicomModel(json: DicomJson): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n', `<NativeDicomModel xmlns="${NATIVE_DICOM_MODEL_NAMESPACE}" xml:space="preserve">`];
  writeDataset(out, json);
  out.push('</NativeDicomModel>\n');
  return out.join('');
}

function writeDataset(out: string[], json: DicomJson): void {
  for (const tag of Object.keys(json).sort()) {
    if (!/^[0-9A-Fa-f]{8}$/.test(tag)) throw new Error(`DICOM JSON key "${tag}" is not a tag (8 hexadecimal digits)`);
    writeAttribute(out, tag.toUpperCase(), json[tag]!, json);
  }
}

function writeAttribute(out: string[], tag: string, attribute: DicomJsonAttribute, dataset: DicomJson): void {
  const number = parseInt(tag, 16) >>> 0;
  const group = number >>> 16;
  const element = number & 0xffff;
  let head = `<DicomAttribute tag="${tag}" vr="${escapeXml(attribute.vr)}"`;
  if (group % 2 === 1) {
    // Private data element (PS3.5 7.8.1): named by its block's Private Creator, not a keyword.
    if (element >= 0x1000) {
      const creator = dataset[`${tag.slice(0, 4)}00${tag.slice(4, 6)}`]?.Value?.[0];
      if (typeof creator === 'string') head += ` privateCreator="${escapeXml(creator)}"`;
    }
  } else {
    const keyword = lookupTag(number)?.keyword;
    if (keyword) head += ` keyword="${keyword}"`;
  }
  out.push(`${head}>`);
  if (attribute.BulkDataURI !== undefined) {
    out.push(`<BulkData uri="${escapeXml(attribute.BulkDataURI)}"/>`);
  } else if (attribute.InlineBinary !== undefined) {
    out.push(`<InlineBinary>${escapeXml(attribute.InlineBinary)}</InlineBinary>`);
  } else if (attribute.Value) {
    attribute.Value.forEach((value, i) => writeValue(out, attribute.vr, value, i + 1));
  }
  out.push('</DicomAttribute>');
}

function writeValue(out: string[], vr: string, value: unknown, number: number): void {
  if (vr === 'SQ') {
    out.push(`<Item number="${number}">`);
    writeDataset(out, (value ?? {}) as DicomJson);
    out.push('</Item>');
  } else if (vr === 'PN') {
    out.push(`<PersonName number="${number}">`);
    if (value !== null && value !== undefined) writePersonName(out, value);
    out.push('</PersonName>');
  } else if (value === null || value === undefined) {
    out.push(`<Value number="${number}"/>`);
  } else {
    out.push(`<Value number="${number}">${escapeXml(String(value))}</Value>`);
  }
}

function writePersonName(out: string[], value: unknown): void {
  const pn: PersonNameJson = typeof value === 'string' ? personNameFromText(value) : value as PersonNameJson;
  for (const group of PN_GROUPS) {
    const text = pn[group];
    if (!text) continue;
    out.push(`<${group}>`);
    text.split('^').forEach((component, i) => {
      const name = PN_COMPONENTS[i];
      if (name && component !== '') out.push(`<${name}>${escapeXml(component)}</${name}>`);
    });
    out.push(`</${group}>`);
  }
}

function personNameFromText(text: string): PersonNameJson {
  const [Alphabetic, Ideographic, Phonetic] = text.split('=');
  return { Alphabetic, Ideographic, Phonetic };
}

/**
 * Text as XML character data: markup characters escaped; characters XML 1.0 cannot carry
 * (C0 controls other than tab, LF, CR; lone surrogates; U+FFFE/U+FFFF) become U+FFFD.
 */
export function escapeXml(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
    .replace(/[&<>"]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;'))
    .replace(/\r/g, '&#13;');
}
