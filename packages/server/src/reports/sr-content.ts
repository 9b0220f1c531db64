// Structured Report content items (PS3.3 C.17.3) as DICOM JSON: small builders for the documents
// Loire writes (measurement reports, key object selections) and readers that walk any document
// of the same templates, whoever wrote it.
import type { DicomJson, DicomJsonAttribute } from '@loire/dicom';

/** A coded concept (PS3.3 8.8): value, scheme, meaning. */
export interface Code {
  value: string;
  scheme: string;
  meaning: string;
}

export type RelationshipType = 'CONTAINS' | 'HAS OBS CONTEXT' | 'HAS CONCEPT MOD' | 'HAS PROPERTIES' | 'INFERRED FROM' | 'SELECTED FROM';

/** A referenced image: SOP class and instance, and the frame for a multi-frame image. */
export interface ImageReference {
  sopClassUid: string;
  sopInstanceUid: string;
  frame?: number;
}

export const Tags = {
  ConceptNameCodeSequence: '0040A043',
  ConceptCodeSequence: '0040A168',
  ContentSequence: '0040A730',
  RelationshipType: '0040A010',
  ValueType: '0040A040',
  TextValue: '0040A160',
  UID: '0040A124',
  PersonName: '0040A123',
  MeasuredValueSequence: '0040A300',
  NumericValue: '0040A30A',
  MeasurementUnitsCodeSequence: '004008EA',
  GraphicType: '00700023',
  GraphicData: '00700022',
  ReferencedSOPSequence: '00081199',
  ReferencedSOPClassUID: '00081150',
  ReferencedSOPInstanceUID: '00081155',
  ReferencedFrameNumber: '00081160',
  ContinuityOfContent: '0040A050',
  ContentTemplateSequence: '0040A504',
  MappingResource: '00080105',
  TemplateIdentifier: '0040DB00',
  CodeValue: '00080100',
  CodingSchemeDesignator: '00080102',
  CodeMeaning: '00080104',
} as const;

const str = (vr: string, value: string | undefined): DicomJsonAttribute => (value === undefined || value === '' ? { vr } : { vr, Value: [value] });

export function codeItem(code: Code): DicomJson {
  return {
    [Tags.CodeValue]: str('SH', code.value),
    [Tags.CodingSchemeDesignator]: str('SH', code.scheme),
    [Tags.CodeMeaning]: str('LO', code.meaning),
  };
}

function item(relationship: RelationshipType | undefined, valueType: string, concept: Code, rest: DicomJson): DicomJson {
  return {
    ...(relationship ? { [Tags.RelationshipType]: str('CS', relationship) } : {}),
    [Tags.ValueType]: str('CS', valueType),
    [Tags.ConceptNameCodeSequence]: { vr: 'SQ', Value: [codeItem(concept)] },
    ...rest,
  };
}

function children(items: readonly DicomJson[]): DicomJson {
  return items.length > 0 ? { [Tags.ContentSequence]: { vr: 'SQ', Value: [...items] } } : {};
}

export const sr = {
  container(relationship: RelationshipType | undefined, concept: Code, content: readonly DicomJson[], template?: string): DicomJson {
    return item(relationship, 'CONTAINER', concept, {
      [Tags.ContinuityOfContent]: str('CS', 'SEPARATE'),
      ...(template ? { [Tags.ContentTemplateSequence]: { vr: 'SQ', Value: [{ [Tags.MappingResource]: str('CS', 'DCMR'), [Tags.TemplateIdentifier]: str('CS', template) }] } } : {}),
      ...children(content),
    });
  },
  code(relationship: RelationshipType, concept: Code, value: Code): DicomJson {
    return item(relationship, 'CODE', concept, { [Tags.ConceptCodeSequence]: { vr: 'SQ', Value: [codeItem(value)] } });
  },
  text(relationship: RelationshipType, concept: Code, value: string): DicomJson {
    return item(relationship, 'TEXT', concept, { [Tags.TextValue]: str('UT', value) });
  },
  uidref(relationship: RelationshipType, concept: Code, uid: string): DicomJson {
    return item(relationship, 'UIDREF', concept, { [Tags.UID]: str('UI', uid) });
  },
  pname(relationship: RelationshipType, concept: Code, name: string): DicomJson {
    return item(relationship, 'PNAME', concept, { [Tags.PersonName]: { vr: 'PN', Value: [{ Alphabetic: name }] } });
  },
  num(relationship: RelationshipType, concept: Code, value: number, unit: Code, content: readonly DicomJson[] = []): DicomJson {
    return item(relationship, 'NUM', concept, {
      [Tags.MeasuredValueSequence]: { vr: 'SQ', Value: [{
        [Tags.MeasurementUnitsCodeSequence]: { vr: 'SQ', Value: [codeItem(unit)] },
        [Tags.NumericValue]: { vr: 'DS', Value: [value] },
      }] },
      ...children(content),
    });
  },
  /** Image coordinates (PS3.3 C.18.6): column, row pairs; (0,0) is the top left corner of the top left pixel. */
  scoord(relationship: RelationshipType, concept: Code, graphicType: string, points: readonly (readonly [number, number])[], image: ImageReference): DicomJson {
    return {
      [Tags.RelationshipType]: str('CS', relationship),
      [Tags.ValueType]: str('CS', 'SCOORD'),
      [Tags.ConceptNameCodeSequence]: { vr: 'SQ', Value: [codeItem(concept)] },
      [Tags.GraphicType]: str('CS', graphicType),
      [Tags.GraphicData]: { vr: 'FL', Value: points.flat() },
      ...children([sr.image('SELECTED FROM', image)]),
    };
  },
  image(relationship: RelationshipType, image: ImageReference): DicomJson {
    return {
      [Tags.RelationshipType]: str('CS', relationship),
      [Tags.ValueType]: str('CS', 'IMAGE'),
      [Tags.ReferencedSOPSequence]: { vr: 'SQ', Value: [referencedSop(image)] },
    };
  },
};

export function referencedSop(image: ImageReference): DicomJson {
  return {
    [Tags.ReferencedSOPClassUID]: str('UI', image.sopClassUid),
    [Tags.ReferencedSOPInstanceUID]: str('UI', image.sopInstanceUid),
    ...(image.frame !== undefined ? { [Tags.ReferencedFrameNumber]: { vr: 'IS', Value: [image.frame] } } : {}),
  };
}

// --- reading ---------------------------------------------------------------------------------

export function stringOf(json: DicomJson | undefined, tag: string): string | undefined {
  const value = json?.[tag]?.Value?.[0];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'object' && 'Alphabetic' in (value as object)) return (value as { Alphabetic?: string }).Alphabetic;
  return String(value);
}

export function itemsOf(json: DicomJson | undefined, tag: string): DicomJson[] {
  const value = json?.[tag]?.Value;
  return Array.isArray(value) ? (value.filter((v) => v !== null && typeof v === 'object') as DicomJson[]) : [];
}

export function codeOf(json: DicomJson | undefined): Code | undefined {
  if (!json) return undefined;
  const value = stringOf(json, Tags.CodeValue);
  const scheme = stringOf(json, Tags.CodingSchemeDesignator);
  if (!value || !scheme) return undefined;
  return { value, scheme, meaning: stringOf(json, Tags.CodeMeaning) ?? '' };
}

/** The item's concept name. */
export function conceptOf(content: DicomJson): Code | undefined {
  return codeOf(itemsOf(content, Tags.ConceptNameCodeSequence)[0]);
}

/**
 * Whether two codes mean the same concept. SNOMED codes moved from SNOMED-RT (SRT) to SNOMED CT
 * (SCT) identifiers: documents of either generation are read, by their code value in either scheme.
 */
export function sameCode(a: Code | undefined, b: Code, ...alternatives: Code[]): boolean {
  if (!a) return false;
  return [b, ...alternatives].some((c) => c.value === a.value && c.scheme === a.scheme);
}

export function contentOf(json: DicomJson): DicomJson[] {
  return itemsOf(json, Tags.ContentSequence);
}

export function valueTypeOf(content: DicomJson): string | undefined {
  return stringOf(content, Tags.ValueType);
}

/** Referenced image of an IMAGE item (or of the first IMAGE child of an SCOORD item). */
export function imageOf(content: DicomJson): ImageReference | undefined {
  const target = valueTypeOf(content) === 'IMAGE' ? content : contentOf(content).find((c) => valueTypeOf(c) === 'IMAGE');
  const ref = itemsOf(target, Tags.ReferencedSOPSequence)[0];
  const sopClassUid = stringOf(ref, Tags.ReferencedSOPClassUID);
  const sopInstanceUid = stringOf(ref, Tags.ReferencedSOPInstanceUID);
  if (!sopClassUid || !sopInstanceUid) return undefined;
  const frame = Number(stringOf(ref, Tags.ReferencedFrameNumber));
  return { sopClassUid, sopInstanceUid, ...(Number.isInteger(frame) && frame > 0 ? { frame } : {}) };
}

export function numericValueOf(content: DicomJson): { value: number; unit: Code | undefined } | undefined {
  const measured = itemsOf(content, Tags.MeasuredValueSequence)[0];
  const value = Number(stringOf(measured, Tags.NumericValue));
  if (!measured || !Number.isFinite(value)) return undefined;
  return { value, unit: codeOf(itemsOf(measured, Tags.MeasurementUnitsCodeSequence)[0]) };
}

export function graphicOf(content: DicomJson): { type: string; points: [number, number][] } | undefined {
  const type = stringOf(content, Tags.GraphicType);
  const data = content[Tags.GraphicData]?.Value;
  if (!type || !Array.isArray(data) || data.length < 2) return undefined;
  const numbers = data.map(Number);
  if (numbers.some((n) => !Number.isFinite(n))) return undefined;
  const points: [number, number][] = [];
  for (let i = 0; i + 1 < numbers.length; i += 2) points.push([numbers[i]!, numbers[i + 1]!]);
  return { type, points };
}
