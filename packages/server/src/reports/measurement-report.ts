// Measurements as a DICOM Measurement Report (PS3.16 TID 1500) in a Comprehensive SR: each
// measurement a Measurement Group (TID 1501) with its tracking identifier and UID, and each value
// a NUM (TID 300) inferred from its image region (SCOORD) selected from the image. This is the
// structure other viewers (OHIF/Cornerstone, dcmqi, 3D Slicer) write and read, so measurements
// made here open there and the other way round.
import { z } from 'zod';
import type { DicomJson } from '@loire/dicom';
import {
  conceptOf, contentOf, graphicOf, imageOf, itemsOf, numericValueOf, sameCode, sr, stringOf, valueTypeOf, Tags,
  type Code, type ImageReference,
} from './sr-content.js';

export const COMPREHENSIVE_SR = '1.2.840.10008.5.1.4.1.1.88.33';
export const COMPREHENSIVE_3D_SR = '1.2.840.10008.5.1.4.1.1.88.34';
/** SR storage classes whose documents may hold a TID 1500 report. */
export const MEASUREMENT_REPORT_CLASSES = new Set([
  '1.2.840.10008.5.1.4.1.1.88.22', // Enhanced SR
  COMPREHENSIVE_SR,
  COMPREHENSIVE_3D_SR,
]);

const DCM = (value: string, meaning: string): Code => ({ value, scheme: 'DCM', meaning });
const SCT = (value: string, meaning: string): Code => ({ value, scheme: 'SCT', meaning });
const SRT = (value: string, meaning: string): Code => ({ value, scheme: 'SRT', meaning });
const UCUM = (value: string, meaning: string): Code => ({ value, scheme: 'UCUM', meaning });

export const Codes = {
  report: DCM('126000', 'Imaging Measurement Report'),
  language: DCM('121049', 'Language of Content Item and Descendants'),
  english: { value: 'eng', scheme: 'RFC5646', meaning: 'English' } as Code,
  observerType: DCM('121005', 'Observer Type'),
  person: DCM('121006', 'Person'),
  personObserverName: DCM('121008', 'Person Observer Name'),
  procedureReported: DCM('121058', 'Procedure reported'),
  imagingProcedure: SCT('363679005', 'Imaging procedure'),
  imageLibrary: DCM('111028', 'Image Library'),
  imageLibraryGroup: DCM('126200', 'Image Library Group'),
  imagingMeasurements: DCM('126010', 'Imaging Measurements'),
  measurementGroup: DCM('125007', 'Measurement Group'),
  trackingIdentifier: DCM('112039', 'Tracking Identifier'),
  trackingUid: DCM('112040', 'Tracking Unique Identifier'),
  imageRegion: DCM('111030', 'Image Region'),
} as const;

/** What a measurement's values are, with the concept each is reported under and its unit. */
const VALUES = {
  length: { concept: SCT('410668003', 'Length'), legacy: SRT('G-D7FE', 'Length'), unit: UCUM('mm', 'millimeter') },
  angle: { concept: SCT('1483009', 'Angle'), legacy: SCT('1483009', 'Angle'), unit: UCUM('deg', 'degree') },
  area: { concept: SCT('42798000', 'Area'), legacy: SRT('G-A166', 'Area'), unit: UCUM('mm2', 'square millimeter') },
  mean: { concept: SCT('373098007', 'Mean'), legacy: SRT('R-00317', 'Mean'), unit: undefined },
  stdDev: { concept: SCT('386136009', 'Standard Deviation'), legacy: SRT('R-10047', 'Standard Deviation'), unit: undefined },
  min: { concept: SCT('255605001', 'Minimum'), legacy: SRT('R-404FB', 'Minimum'), unit: undefined },
  max: { concept: SCT('56851009', 'Maximum'), legacy: SRT('G-A437', 'Maximum'), unit: undefined },
} as const;
type ValueName = keyof typeof VALUES;
const VALUE_NAMES = Object.keys(VALUES) as ValueName[];

/** Units of pixel statistics: Hounsfield units on CT, otherwise the image's own (unitless) values. */
const PIXEL_UNITS = {
  HU: UCUM("[hnsf'U]", 'Hounsfield unit'),
  none: UCUM('1', 'no units'),
} as const;

export const MEASUREMENT_KINDS = ['length', 'angle', 'ellipse', 'rectangle'] as const;
export type MeasurementKind = (typeof MEASUREMENT_KINDS)[number];

/** How each kind's region is drawn (PS3.3 C.18.6.1.2) and how many points it has. */
const GRAPHIC: Readonly<Record<MeasurementKind, { type: 'POLYLINE' | 'ELLIPSE'; points: number }>> = {
  length: { type: 'POLYLINE', points: 2 },
  angle: { type: 'POLYLINE', points: 3 },
  ellipse: { type: 'ELLIPSE', points: 4 },
  rectangle: { type: 'POLYLINE', points: 5 },
};

const UID = z.string().regex(/^[0-9]+(\.[0-9]+)*$/, 'a UID: digits and dots').max(64);
const coordinate = z.number().finite().min(-1e6).max(1e6);

/** One measurement as the console sends it; points in image coordinates (column, row; (0,0) the top left corner of the image). */
export const measurementSchema = z.object({
  trackingUid: UID,
  label: z.string().max(64).default(''),
  kind: z.enum(MEASUREMENT_KINDS),
  image: z.object({ sopInstanceUid: UID, frame: z.number().int().min(1).max(100_000).optional() }).strict(),
  points: z.array(z.tuple([coordinate, coordinate])).min(2).max(5),
  values: z.object(Object.fromEntries(VALUE_NAMES.map((n) => [n, z.number().finite().optional()])) as Record<ValueName, z.ZodOptional<z.ZodNumber>>).strict(),
  /** Unit of mean, standard deviation, minimum and maximum. */
  pixelUnit: z.enum(['HU', 'none']).default('none'),
}).strict().superRefine((m, ctx) => {
  const expected = GRAPHIC[m.kind].points;
  if (m.points.length !== expected) ctx.addIssue({ code: 'custom', path: ['points'], message: `a ${m.kind} has ${expected} points, not ${m.points.length}` });
  const needed: ValueName = m.kind === 'length' ? 'length' : m.kind === 'angle' ? 'angle' : 'area';
  if (m.values[needed] === undefined) ctx.addIssue({ code: 'custom', path: ['values', needed], message: `a ${m.kind} needs its ${needed}` });
});

/**
 * A measurement of an earlier report of the study, copied into the new report as it was written
 * (any kind, any writer): `report` its SOP Instance UID, `group` the 1-based position of its
 * Measurement Group in that report. A report is never changed, so the pair names it for good.
 */
export const keptMeasurementSchema = z.object({ report: UID, group: z.number().int().min(1).max(100_000) }).strict();

export const measurementReportSchema = z.object({
  measurements: z.array(measurementSchema).max(1000),
  /** The study's saved measurements the client keeps without rewriting them (those it cannot draw, or did not change). */
  keep: z.array(keptMeasurementSchema).max(1000).default([]),
}).strict();

export type KeptMeasurement = z.infer<typeof keptMeasurementSchema>;

export type MeasurementInput = z.infer<typeof measurementSchema>;

/** A measurement read back from a report (kinds this reader does not know come back as 'other'). */
export interface StoredMeasurement {
  /** 1-based position of its Measurement Group in the report: what `keep` names it by. */
  group: number;
  trackingUid: string;
  label: string;
  kind: MeasurementKind | 'other';
  /** The image the region was drawn on, when the report names one. */
  image?: ImageReference;
  /** The region in image coordinates, when the report gives one (not for 3D coordinates). */
  points?: [number, number][];
  /** The values this reader knows by concept. */
  values: Partial<Record<ValueName, number>>;
  pixelUnit: 'HU' | 'none';
  /** Every value of the group as written (concept and unit meanings), for display. */
  quantities: { name: string; value: number; unit: string }[];
  /** Who measured it, when the group names its own observer (a measurement kept from another reader's report). */
  author?: string;
}

/**
 * The content of a TID 1500 report (root container and its tree), to go under a document header:
 * the `kept` Measurement Groups first, as they were written, then one for each of `measurements`.
 */
export function measurementReportContent(measurements: readonly (MeasurementInput & { image: ImageReference })[], observer: string, kept: readonly DicomJson[] = []): DicomJson {
  const images = new Map<string, ImageReference>();
  for (const image of [...kept.flatMap(imagesOf), ...measurements.map((m) => m.image)]) images.set(`${image.sopInstanceUid}/${image.frame ?? ''}`, image);
  const groups = measurements.map((m) => {
    const graphic = GRAPHIC[m.kind];
    const region = sr.scoord('INFERRED FROM', Codes.imageRegion, graphic.type, m.points, m.image);
    const values = VALUE_NAMES.filter((name) => m.values[name] !== undefined).map((name) => {
      const unit = VALUES[name].unit ?? PIXEL_UNITS[m.pixelUnit];
      return sr.num('CONTAINS', VALUES[name].concept, m.values[name]!, unit, [region]);
    });
    return sr.container('CONTAINS', Codes.measurementGroup, [
      sr.text('HAS OBS CONTEXT', Codes.trackingIdentifier, m.label || `${m.kind} ${m.trackingUid.slice(-6)}`),
      sr.uidref('HAS OBS CONTEXT', Codes.trackingUid, m.trackingUid),
      ...values,
    ], '1501');
  });
  const root = sr.container(undefined, Codes.report, [
    sr.code('HAS CONCEPT MOD', Codes.language, Codes.english),
    sr.code('HAS OBS CONTEXT', Codes.observerType, Codes.person),
    sr.pname('HAS OBS CONTEXT', Codes.personObserverName, observer),
    sr.code('HAS CONCEPT MOD', Codes.procedureReported, Codes.imagingProcedure),
    sr.container('CONTAINS', Codes.imageLibrary, [
      sr.container('CONTAINS', Codes.imageLibraryGroup, [...images.values()].map((image) => sr.image('CONTAINS', image))),
    ]),
    sr.container('CONTAINS', Codes.imagingMeasurements, [...kept, ...groups]),
  ], '1500');
  // The root content item's attributes sit at the top level of the document (PS3.3 C.17.3).
  delete root[Tags.RelationshipType];
  return root;
}

/** Whether a document's root is a TID 1500 Imaging Measurement Report. */
export function isMeasurementReport(document: DicomJson): boolean {
  return MEASUREMENT_REPORT_CLASSES.has(stringOf(document, '00080016') ?? '') && sameCode(conceptOf(document), Codes.report);
}

/**
 * The measurements of a TID 1500 report, whoever wrote it: every Measurement Group with at least
 * one value. Its region may sit under each value (TID 300, as Loire and Cornerstone write it) or
 * in the group (TID 1410 "Image Region"); the image may also be named by a group-level IMAGE item.
 */
export function readMeasurementReport(document: DicomJson): StoredMeasurement[] {
  const found: StoredMeasurement[] = [];
  const measurementsContainer = contentOf(document).find((c) => sameCode(conceptOf(c), Codes.imagingMeasurements));
  if (!measurementsContainer) return found;
  for (const [index, group] of contentOf(measurementsContainer).entries()) {
    if (valueTypeOf(group) !== 'CONTAINER') continue;
    const items = contentOf(group);
    const trackingUid = items.map((c) => (sameCode(conceptOf(c), Codes.trackingUid) ? stringOf(c, Tags.UID) : undefined)).find(Boolean);
    const label = items.map((c) => (sameCode(conceptOf(c), Codes.trackingIdentifier) ? stringOf(c, Tags.TextValue) : undefined)).find(Boolean) ?? '';
    const author = items.map((c) => (sameCode(conceptOf(c), Codes.personObserverName) ? personNameOf(c) : undefined)).find(Boolean);
    const values: Partial<Record<ValueName, number>> = {};
    const quantities: StoredMeasurement['quantities'] = [];
    let pixelUnit: 'HU' | 'none' = 'none';
    let region = items.find((c) => valueTypeOf(c) === 'SCOORD');
    for (const c of items) {
      if (valueTypeOf(c) !== 'NUM') continue;
      const concept = conceptOf(c);
      const numeric = numericValueOf(c);
      if (!concept || !numeric) continue;
      quantities.push({ name: concept.meaning, value: numeric.value, unit: numeric.unit?.value ?? '' });
      const name = VALUE_NAMES.find((n) => sameCode(concept, VALUES[n].concept, VALUES[n].legacy));
      if (name) values[name] = numeric.value;
      if (numeric.unit?.value === PIXEL_UNITS.HU.value) pixelUnit = 'HU';
      region ??= contentOf(c).find((child) => valueTypeOf(child) === 'SCOORD');
    }
    if (quantities.length === 0) continue;
    const graphic = region ? graphicOf(region) : undefined;
    const image = (region ? imageOf(region) : undefined) ?? items.filter((c) => valueTypeOf(c) === 'IMAGE').map(imageOf).find(Boolean);
    found.push({
      group: index + 1, trackingUid: trackingUid ?? '', label, ...(author ? { author } : {}), kind: graphic ? kindOf(graphic, values) : 'other',
      ...(image ? { image } : {}), ...(graphic ? { points: graphic.points } : {}), values, pixelUnit, quantities,
    });
  }
  return found;
}

function kindOf(graphic: { type: string; points: [number, number][] }, values: Partial<Record<ValueName, number>>): MeasurementKind | 'other' {
  if (graphic.type === 'ELLIPSE' && graphic.points.length === 4) return 'ellipse';
  if (graphic.type !== 'POLYLINE') return 'other';
  if (graphic.points.length === 2 && values.length !== undefined) return 'length';
  if (graphic.points.length === 3 && values.angle !== undefined) return 'angle';
  if (graphic.points.length === 5 && values.area !== undefined) return 'rectangle';
  return 'other';
}

/** The Measurement Groups of a report, by position (1-based, as StoredMeasurement.group counts them). */
export function measurementGroupOf(document: DicomJson, group: number): DicomJson | undefined {
  const container = contentOf(document).find((c) => sameCode(conceptOf(c), Codes.imagingMeasurements));
  const found = container ? contentOf(container)[group - 1] : undefined;
  return found && valueTypeOf(found) === 'CONTAINER' && sameCode(conceptOf(found), Codes.measurementGroup) ? found : undefined;
}

/** The tracking UID of a Measurement Group, if it has one. */
export function trackingUidOfGroup(group: DicomJson): string | undefined {
  return contentOf(group).map((c) => (sameCode(conceptOf(c), Codes.trackingUid) ? stringOf(c, Tags.UID) : undefined)).find(Boolean);
}

/**
 * A Measurement Group kept from a report of another reader, with that reader named as its observer
 * (TID 1501's own observation context), unless it names one already: the new report's observer is
 * whoever saves it, and the measurement must not become theirs.
 */
export function withObserver(group: DicomJson, observer: string): DicomJson {
  const copy = structuredClone(group);
  const items = contentOf(copy);
  if (!observer || items.some((c) => sameCode(conceptOf(c), Codes.personObserverName))) return copy;
  const context = [sr.code('HAS OBS CONTEXT', Codes.observerType, Codes.person), sr.pname('HAS OBS CONTEXT', Codes.personObserverName, observer)];
  // After the tracking identifiers, which TID 1501 lists first.
  const at = items.findIndex((c) => !sameCode(conceptOf(c), Codes.trackingIdentifier) && !sameCode(conceptOf(c), Codes.trackingUid));
  items.splice(at < 0 ? items.length : at, 0, ...context);
  copy[Tags.ContentSequence] = { vr: 'SQ', Value: items };
  return copy;
}

/** Every image a content item or its descendants reference. */
export function imagesOf(content: DicomJson): ImageReference[] {
  const own = itemsOf(content, Tags.ReferencedSOPSequence).map((ref) => {
    const sopClassUid = stringOf(ref, Tags.ReferencedSOPClassUID);
    const sopInstanceUid = stringOf(ref, Tags.ReferencedSOPInstanceUID);
    const frame = Number(stringOf(ref, Tags.ReferencedFrameNumber));
    return sopClassUid && sopInstanceUid ? { sopClassUid, sopInstanceUid, ...(Number.isInteger(frame) && frame > 0 ? { frame } : {}) } : undefined;
  }).filter((r): r is ImageReference => r !== undefined);
  return [...own, ...contentOf(content).flatMap(imagesOf)];
}

function personNameOf(content: DicomJson): string | undefined {
  const value = content[Tags.PersonName]?.Value?.[0] as { Alphabetic?: string } | string | undefined;
  return typeof value === 'string' ? value : value?.Alphabetic;
}

/** Whether a content item or one of its descendants has value type `type`. */
export function hasValueType(content: DicomJson, type: string): boolean {
  return valueTypeOf(content) === type || contentOf(content).some((c) => hasValueType(c, type));
}
