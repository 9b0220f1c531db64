// A Structured Report (PS3.3 C.17.3) as readable text: the content tree, one line per item,
// "Concept: value" with its unit or code meaning, nested as the document nests it. Works for
// every SR template (Basic Text, Enhanced, Comprehensive, measurement reports) since it only
// follows the content item structure.
import type { DicomJsonDataset } from '../dicom-json';

export interface SrLine {
  depth: number;
  /** The item's concept name (code meaning), or '' when it has none. */
  concept: string;
  /** The value as text ('' for a container: the concept is its heading). */
  value: string;
  valueType: string;
  /** How it relates to its parent: "contains", "has obs context"… */
  relationship: string;
}

type Item = DicomJsonDataset;

const first = (item: Item | undefined, tag: string): unknown => item?.[tag]?.Value?.[0];

function textOf(item: Item | undefined, tag: string): string {
  const value = first(item, tag);
  if (value === undefined || value === null) return '';
  if (typeof value === 'object' && 'Alphabetic' in (value as object)) {
    const pn = value as { Alphabetic?: string; Ideographic?: string };
    return (pn.Alphabetic ?? pn.Ideographic ?? '').replaceAll('^', ' ').trim();
  }
  return String(value);
}

function sequence(item: Item | undefined, tag: string): Item[] {
  const value = item?.[tag]?.Value;
  return Array.isArray(value) ? (value as Item[]).filter((v) => v && typeof v === 'object') : [];
}

function codeMeaning(item: Item | undefined): string {
  return textOf(item, '00080104') || textOf(item, '00080100');
}

const dicomDate = (v: string) => (/^\d{8}/.test(v) ? `${v.slice(0, 4)}-${v.slice(4, 6)}-${v.slice(6, 8)}` : v);
const dicomTime = (v: string) => (/^\d{4}/.test(v) ? `${v.slice(0, 2)}:${v.slice(2, 4)}${v.length >= 6 ? `:${v.slice(4, 6)}` : ''}` : v);

function valueText(item: Item): string {
  switch (textOf(item, '0040A040')) {
    case 'TEXT': return textOf(item, '0040A160');
    case 'CODE': return codeMeaning(sequence(item, '0040A168')[0]);
    case 'NUM': {
      const measured = sequence(item, '0040A300')[0];
      if (!measured) return '(no value)';
      const unit = sequence(measured, '004008EA')[0];
      const unitText = textOf(unit, '00080100');
      return `${textOf(measured, '0040A30A')}${unitText && unitText !== '1' ? ` ${unitText}` : ''}`;
    }
    case 'PNAME': return textOf(item, '0040A123');
    case 'DATE': return dicomDate(textOf(item, '0040A121'));
    case 'TIME': return dicomTime(textOf(item, '0040A122'));
    case 'DATETIME': {
      const dt = textOf(item, '0040A120');
      return `${dicomDate(dt.slice(0, 8))} ${dicomTime(dt.slice(8))}`.trim();
    }
    case 'UIDREF': return textOf(item, '0040A124');
    case 'IMAGE': case 'COMPOSITE': case 'WAVEFORM': {
      const ref = sequence(item, '00081199')[0];
      const frame = textOf(ref, '00081160');
      return `image ${textOf(ref, '00081155')}${frame ? `, frame ${frame}` : ''}`;
    }
    case 'SCOORD': case 'SCOORD3D': return `${textOf(item, '00700023')} region`;
    case 'TCOORD': return 'time region';
    case 'CONTAINER': return '';
    default: return '';
  }
}

/** The document's lines: its title (the root concept) at depth 0, then its content tree. */
export function srLines(document: DicomJsonDataset): SrLine[] {
  const lines: SrLine[] = [{ depth: 0, concept: codeMeaning(sequence(document, '0040A043')[0]) || 'Report', value: '', valueType: 'CONTAINER', relationship: '' }];
  const walk = (items: Item[], depth: number) => {
    for (const item of items) {
      lines.push({
        depth,
        concept: codeMeaning(sequence(item, '0040A043')[0]),
        value: valueText(item),
        valueType: textOf(item, '0040A040'),
        relationship: textOf(item, '0040A010').toLowerCase(),
      });
      walk(sequence(item, '0040A730'), depth + 1);
    }
  };
  walk(sequence(document, '0040A730'), 1);
  return lines;
}

/** Header facts of a report: completion, verification, content date and the verifying observer. */
export function srHeader(document: DicomJsonDataset): { date: string; completion: string; verification: string } {
  return {
    date: `${dicomDate(textOf(document, '00080023'))} ${dicomTime(textOf(document, '00080033'))}`.trim(),
    completion: textOf(document, '0040A491'),
    verification: textOf(document, '0040A493'),
  };
}
