// The list of measurements with their values; each entry publishes its numbers in data-*
// attributes (data-length-mm, data-angle-deg, data-mean, data-sd, data-area, data-value).
import type { Measurement, MeasurementKind } from './measurements';

const LABELS: Record<MeasurementKind, string> = { length: 'Length', angle: 'Angle', ellipse: 'Ellipse', rectangle: 'Rect', probe: 'Probe' };

function fixed(value: number | undefined, digits: number): string {
  return value === undefined ? '' : value.toFixed(digits);
}

function describe(m: Measurement): string {
  const unit = m.modalityUnit ? ` ${m.modalityUnit}` : '';
  switch (m.kind) {
    case 'length': return `${fixed(m.length, 1)} ${m.lengthUnit}`;
    case 'angle': return `${fixed(m.angle, 1)}°`;
    case 'probe': return `${fixed(m.value, 1)}${unit}`;
    default: return `mean ${fixed(m.mean, 1)}${unit}, SD ${fixed(m.stdDev, 1)}, area ${fixed(m.area, 1)} ${m.areaUnit ?? ''}`.trimEnd();
  }
}

export function MeasurementsPanel({ measurements, onClear }: { measurements: Measurement[]; onClear: () => void }) {
  return (
    <div className="measurements" aria-label="Measurements">
      {measurements.length === 0
        ? <span className="hint">Measure with Length (l), Angle (a), Ellipse (e), Rect (b) or Probe (x): draw on the image.</span>
        : measurements.map((m) => (
          <span
            key={m.uid} className="measurement" data-kind={m.kind}
            data-length-mm={m.kind === 'length' && m.lengthUnit === 'mm' ? fixed(m.length, 3) : undefined}
            data-angle-deg={m.kind === 'angle' ? fixed(m.angle, 3) : undefined}
            data-mean={fixed(m.mean, 3) || undefined}
            data-sd={fixed(m.stdDev, 3) || undefined}
            data-area={fixed(m.area, 3) || undefined}
            data-area-unit={m.areaUnit}
            data-value={fixed(m.value, 3) || undefined}
            data-unit={m.modalityUnit}
          >
            {LABELS[m.kind]} {m.number} (Im {m.slice}): {describe(m)}
          </span>
        ))}
      {measurements.length > 0 && <button type="button" className="clear" onClick={onClear} title="Delete every measurement">Clear</button>}
    </div>
  );
}
