// Cornerstone annotations ↔ the measurements of the study's DICOM report (TID 1500, saved and read
// through /api/studies/{study}/measurements). Pure functions: no Cornerstone state is read here.
//
// Coordinates. Cornerstone keeps an annotation's handles in patient ("world") space, in mm. The
// report keeps them in DICOM image coordinates (PS3.3 C.18.6.1.1): column then row, (0,0) the top
// left CORNER of the top left pixel, so the centre of pixel (i,j) is (i+0.5, j+0.5). Image Position
// (Patient) is the centre of that first pixel (PS3.3 C.7.6.2.1.1), hence the half pixel below.
// Cornerstone 5.14's utilities.worldToImageCoords uses the same corner convention but scales the
// direction along a row by the spacing between rows (Pixel Spacing[0]): right only for square
// pixels. These functions use Pixel Spacing as defined: [0] between rows, [1] between columns.
import type { ImageRef, MeasurementInput, SrMeasurementKind, StoredMeasurement } from '../api';

export type Vec3 = [number, number, number];

/** The geometry of one image (frame) in patient space. */
export interface ImagePlane {
  /** Image Position (Patient): the centre of the top left pixel, mm. */
  position: Vec3;
  /** Image Orientation (Patient) first triplet: the direction of increasing column (along a row). */
  rowDirection: Vec3;
  /** Second triplet: the direction of increasing row (down a column). */
  columnDirection: Vec3;
  /** Pixel Spacing[0]: mm between the centres of adjacent rows. */
  rowSpacing: number;
  /** Pixel Spacing[1]: mm between the centres of adjacent columns. */
  columnSpacing: number;
}

/** Cornerstone's imagePlaneModule (names as Cornerstone gives them: rowPixelSpacing = Pixel Spacing[0]). */
export interface CornerstoneImagePlane {
  imagePositionPatient?: number[] | null;
  rowCosines?: number[] | null;
  columnCosines?: number[] | null;
  rowPixelSpacing?: number | null;
  columnPixelSpacing?: number | null;
}

export function planeOf(module: CornerstoneImagePlane | undefined): ImagePlane | undefined {
  const { imagePositionPatient: p, rowCosines: r, columnCosines: c } = module ?? {};
  if (!p || !r || !c || p.length < 3 || r.length < 3 || c.length < 3) return undefined;
  return {
    position: [p[0]!, p[1]!, p[2]!], rowDirection: [r[0]!, r[1]!, r[2]!], columnDirection: [c[0]!, c[1]!, c[2]!],
    // Images without a spacing are measured in pixels.
    rowSpacing: module?.rowPixelSpacing || 1, columnSpacing: module?.columnPixelSpacing || 1,
  };
}

const dot = (a: readonly number[], b: readonly number[]) => a[0]! * b[0]! + a[1]! * b[1]! + a[2]! * b[2]!;

/** Patient-space point → DICOM image coordinates (column, row), corner convention. */
export function worldToImage(plane: ImagePlane, world: readonly number[]): [number, number] {
  const d = [world[0]! - plane.position[0], world[1]! - plane.position[1], world[2]! - plane.position[2]];
  return [dot(d, plane.rowDirection) / plane.columnSpacing + 0.5, dot(d, plane.columnDirection) / plane.rowSpacing + 0.5];
}

/** DICOM image coordinates (column, row), corner convention → the point on the image plane in patient space. */
export function imageToWorld(plane: ImagePlane, [column, row]: readonly [number, number]): Vec3 {
  const u = (column - 0.5) * plane.columnSpacing;
  const v = (row - 0.5) * plane.rowSpacing;
  return [0, 1, 2].map((k) => plane.position[k]! + u * plane.rowDirection[k]! + v * plane.columnDirection[k]!) as Vec3;
}

export function normalOf(plane: ImagePlane): Vec3 {
  const [a, b] = [plane.rowDirection, plane.columnDirection];
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

/** Cornerstone's tool name for each kind the report keeps. */
export const TOOL_OF_KIND: Readonly<Record<SrMeasurementKind, string>> = {
  length: 'Length', angle: 'Angle', ellipse: 'EllipticalROI', rectangle: 'RectangleROI',
};
const KIND_OF_TOOL = new Map(Object.entries(TOOL_OF_KIND).map(([kind, tool]) => [tool, kind as SrMeasurementKind]));

/** What of a Cornerstone annotation the conversion reads (a structural subset of its Annotation type). */
export interface AnnotationLike {
  annotationUID?: string;
  metadata?: { toolName?: string; referencedImageId?: string };
  data?: { label?: string; handles?: { points?: number[][] }; cachedStats?: Record<string, Record<string, unknown> | undefined> };
}

/** What the conversion needs to know about an annotation's image. */
export interface ImageContext {
  plane: ImagePlane;
  image: ImageRef;
}

const finite = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/**
 * A UID for an annotation's Tracking Unique Identifier: its own when it is one already (a
 * measurement read from a report keeps its UID), else the UUID as a 2.25 UID (PS3.5 B.2).
 */
export function trackingUidOf(annotationUid: string): string {
  if (/^[0-9]+(\.[0-9]+)*$/.test(annotationUid) && annotationUid.length <= 64) return annotationUid;
  const hex = annotationUid.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new Error(`annotation ${annotationUid} has neither a UID nor a UUID`);
  return `2.25.${BigInt(`0x${hex}`).toString()}`;
}

/** Cornerstone handles (patient space) → the report's points, in the order PS3.3 C.18.6.1.2 asks for. */
export function reportPoints(kind: SrMeasurementKind, handles: readonly (readonly number[])[], plane: ImagePlane): [number, number][] | undefined {
  const p = handles.map((h) => worldToImage(plane, h));
  switch (kind) {
    case 'length': return p.length === 2 ? p : undefined;
    case 'angle': return p.length === 3 ? p : undefined;
    case 'rectangle': {
      // Cornerstone: top left, top right, bottom left, bottom right; the report: a closed polyline.
      if (p.length !== 4) return undefined;
      const [tl, tr, bl, br] = p as [[number, number], [number, number], [number, number], [number, number]];
      return [tl, tr, br, bl, [tl[0], tl[1]]];
    }
    case 'ellipse': {
      // Cornerstone: bottom, top, left, right; the report: the major axis first.
      if (p.length !== 4) return undefined;
      const [bottom, top, left, right] = p as [[number, number], [number, number], [number, number], [number, number]];
      const vertical = Math.hypot(top[0] - bottom[0], top[1] - bottom[1]);
      const horizontal = Math.hypot(right[0] - left[0], right[1] - left[1]);
      return vertical >= horizontal ? [top, bottom, left, right] : [left, right, top, bottom];
    }
  }
}

/** The report's points → Cornerstone handles (patient space); undefined when they do not fit the kind. */
export function annotationHandles(kind: SrMeasurementKind, points: readonly [number, number][], plane: ImagePlane): Vec3[] | undefined {
  const w = points.map((p) => imageToWorld(plane, p));
  switch (kind) {
    case 'length': return w.length === 2 ? w : undefined;
    case 'angle': return w.length === 3 ? w : undefined;
    case 'rectangle': {
      // Any corner order: Cornerstone wants top left, top right, bottom left, bottom right of the image.
      if (points.length !== 5 && points.length !== 4) return undefined;
      const corners = points.slice(0, 4);
      const columns = corners.map((p) => p[0]);
      const rows = corners.map((p) => p[1]);
      const [c0, c1, r0, r1] = [Math.min(...columns), Math.max(...columns), Math.min(...rows), Math.max(...rows)];
      return ([[c0, r0], [c1, r0], [c0, r1], [c1, r1]] as [number, number][]).map((p) => imageToWorld(plane, p));
    }
    case 'ellipse': {
      // The axis closer to the image's vertical becomes Cornerstone's bottom/top pair.
      if (points.length !== 4) return undefined;
      const [a0, a1, b0, b1] = points as [[number, number], [number, number], [number, number], [number, number]];
      const aVertical = Math.abs(a1[1] - a0[1]) >= Math.abs(a1[0] - a0[0]);
      const [v0, v1, h0, h1] = aVertical ? [a0, a1, b0, b1] : [b0, b1, a0, a1];
      const [bottom, top] = v0[1] >= v1[1] ? [v0, v1] : [v1, v0];
      const [left, right] = h0[0] <= h1[0] ? [h0, h1] : [h1, h0];
      return [bottom, top, left, right].map((p) => imageToWorld(plane, p));
    }
  }
}

/**
 * An annotation as the report keeps it; undefined for annotations the report cannot hold
 * (probes, unfinished ones, lengths without a Pixel Spacing: the report's unit is mm).
 */
export function toMeasurementInput(a: AnnotationLike, context: ImageContext): MeasurementInput | undefined {
  const kind = KIND_OF_TOOL.get(a.metadata?.toolName ?? '');
  const handles = a.data?.handles?.points;
  const stats = Object.values(a.data?.cachedStats ?? {})[0];
  if (!kind || !handles || !stats || !a.annotationUID) return undefined;
  const points = reportPoints(kind, handles, context.plane);
  if (!points) return undefined;
  const values: MeasurementInput['values'] = {};
  let pixelUnit: MeasurementInput['pixelUnit'] = 'none';
  if (kind === 'length') {
    if (stats.unit !== 'mm' || finite(stats.length) === undefined) return undefined;
    values.length = finite(stats.length);
  } else if (kind === 'angle') {
    if (finite(stats.angle) === undefined) return undefined;
    values.angle = finite(stats.angle);
  } else {
    if (stats.areaUnit !== 'mm²' || finite(stats.area) === undefined) return undefined;
    values.area = finite(stats.area);
    for (const name of ['mean', 'stdDev', 'min', 'max'] as const) {
      const v = finite(stats[name]);
      if (v !== undefined) values[name] = v;
    }
    if (stats.modalityUnit === 'HU') pixelUnit = 'HU';
  }
  return { trackingUid: trackingUidOf(a.annotationUID), label: a.data?.label ?? '', kind, image: context.image, points, values, pixelUnit };
}

/** The cached statistics Cornerstone's tool of `kind` keeps, filled from a report's values (shown before the tool recomputes them). */
export function statsOf(m: Pick<StoredMeasurement, 'kind' | 'values' | 'pixelUnit'>): Record<string, unknown> {
  const v = m.values;
  switch (m.kind) {
    case 'length': return { length: v.length, unit: 'mm' };
    case 'angle': return { angle: v.angle };
    default: return {
      area: v.area, areaUnit: 'mm²', mean: v.mean, stdDev: v.stdDev, min: v.min, max: v.max,
      ...(m.pixelUnit === 'HU' ? { modalityUnit: 'HU' } : {}),
    };
  }
}

/** Whether a stored measurement can be drawn (and saved again) as a Cornerstone annotation. */
export function isDrawable(m: StoredMeasurement): m is StoredMeasurement & { kind: SrMeasurementKind; image: ImageRef; points: [number, number][] } {
  return m.kind !== 'other' && m.image !== undefined && m.points !== undefined;
}

/** A stored measurement as the server takes it again. */
export function inputOf(m: StoredMeasurement & { kind: SrMeasurementKind; image: ImageRef; points: [number, number][] }): MeasurementInput {
  const image: ImageRef = { sopInstanceUid: m.image.sopInstanceUid, ...(m.image.frame !== undefined ? { frame: m.image.frame } : {}) };
  return { trackingUid: m.trackingUid, label: m.label, kind: m.kind, image, points: m.points, values: m.values, pixelUnit: m.pixelUnit };
}

/**
 * What identifies a measurement's geometry, to tell saved from changed (to 1/1000 pixel). The
 * points of a rectangle or an ellipse are a set: another writer may start at another corner or
 * axis end, and the shape is the same.
 */
export function geometryKey(m: Pick<MeasurementInput, 'kind' | 'image' | 'points'>): string {
  const points = m.points.map(([c, r]) => `${c.toFixed(3)},${r.toFixed(3)}`);
  const shape = m.kind === 'rectangle' || m.kind === 'ellipse' ? [...new Set(points)].sort() : points;
  return `${m.kind}|${m.image.sopInstanceUid}|${m.image.frame ?? ''}|${shape.join(';')}`;
}

/** The key of an image reference (frame only for multi-frame images). */
export function imageKey(ref: ImageRef): string {
  return `${ref.sopInstanceUid}/${ref.frame ?? ''}`;
}

/** A saved measurement as one line of text, from the values as the report gives them (any kind, any writer). */
export function describeStored(m: Pick<StoredMeasurement, 'label' | 'kind' | 'quantities'>): string {
  const values = m.quantities.map((q) => `${q.name} ${roundForText(q.value)} ${UNIT_TEXT[q.unit] ?? q.unit}`.trim());
  return `${m.label || m.kind}: ${values.join(', ')}`;
}

/** UCUM codes as a reader writes them. */
const UNIT_TEXT: Record<string, string> = { mm: 'mm', mm2: 'mm²', deg: '°', "[hnsf'U]": 'HU', '1': '' };

function roundForText(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : String(Number(value.toFixed(2)));
}
