// The measurements on screen, read from Cornerstone's annotation state: the values its tools
// computed (length, angle, ROI statistics in the modality's unit, probe value), in one shape
// for the measurements panel.
import { annotation as annotationApi, AngleTool, EllipticalROITool, LengthTool, ProbeTool, RectangleROITool } from '@cornerstonejs/tools';
import { stackPixelValue } from './stackProbe';

export type MeasurementKind = 'length' | 'angle' | 'ellipse' | 'rectangle' | 'probe';

export interface Measurement {
  uid: string;
  kind: MeasurementKind;
  /** 1-based number among the measurements of its kind. */
  number: number;
  /** 1-based slice (frame) of its image in the series stack; 0 when unknown. */
  slice: number;
  length?: number;
  lengthUnit?: string;
  angle?: number;
  mean?: number;
  stdDev?: number;
  min?: number;
  max?: number;
  area?: number;
  areaUnit?: string;
  value?: number;
  /** Unit of mean/SD/value: HU for CT, the modality's own otherwise. */
  modalityUnit?: string;
}

const KINDS: readonly { kind: MeasurementKind; toolName: string }[] = [
  { kind: 'length', toolName: LengthTool.toolName },
  { kind: 'angle', toolName: AngleTool.toolName },
  { kind: 'ellipse', toolName: EllipticalROITool.toolName },
  { kind: 'rectangle', toolName: RectangleROITool.toolName },
  { kind: 'probe', toolName: ProbeTool.toolName },
];

type Stats = Partial<Record<'length' | 'angle' | 'mean' | 'stdDev' | 'min' | 'max' | 'area' | 'value' | 'index', unknown>> & Partial<Record<'unit' | 'areaUnit' | 'modalityUnit' | 'Modality', unknown>>;

const finite = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const word = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Every finished measurement of every viewport, with the slice it lies on (`positions`: image id → slice). */
export function readMeasurements(positions: Pick<ReadonlyMap<string, number>, 'get'>): Measurement[] {
  const found: Measurement[] = [];
  for (const { kind, toolName } of KINDS) {
    let number = 0;
    for (const a of annotationApi.state.getAllAnnotations().filter((x) => x.metadata?.toolName === toolName)) {
      const stats = Object.values((a.data as { cachedStats?: Record<string, Stats> }).cachedStats ?? {})[0];
      if (!stats) continue;
      const m: Measurement = { uid: a.annotationUID ?? '', kind, number: 0, slice: positions.get(a.metadata?.referencedImageId ?? '') ?? 0 };
      if (kind === 'length') {
        m.length = finite(stats.length);
        m.lengthUnit = word(stats.unit) ?? 'mm';
        if (m.length === undefined) continue;
      } else if (kind === 'angle') {
        m.angle = finite(stats.angle);
        if (m.angle === undefined) continue;
      } else if (kind === 'probe') {
        m.value = finite(stats.value) ?? stackPixelValue(a.metadata?.referencedImageId, stats.index);
        m.modalityUnit = word(stats.modalityUnit) ?? (stats.Modality === 'CT' ? 'HU' : undefined);
        if (m.value === undefined) continue;
      } else {
        m.mean = finite(stats.mean);
        m.stdDev = finite(stats.stdDev);
        m.min = finite(stats.min);
        m.max = finite(stats.max);
        m.area = finite(stats.area);
        m.areaUnit = word(stats.areaUnit);
        m.modalityUnit = word(stats.modalityUnit);
        if (m.mean === undefined) continue;
      }
      m.number = ++number;
      found.push(m);
    }
  }
  return found;
}

