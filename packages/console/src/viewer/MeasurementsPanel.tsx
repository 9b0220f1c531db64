// The list of measurements with their values; each entry publishes its numbers in data-*
// attributes (data-length-mm, data-angle-deg, data-mean, data-sd, data-area, data-value).
// With the study's report (reports): who saved each one, what changed since, the saved ones the
// viewer cannot draw as text, Save and the key image toggle.
import type { Measurement, MeasurementKind } from './measurements';
import type { ReportedMeasurement, StudyReports } from './useStudyReports';
import './reports.css';

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

interface PanelProps {
  measurements: (Measurement | ReportedMeasurement)[];
  onClear: () => void;
  reports?: StudyReports;
  /** The key that marks a key image, for its button's title. */
  keyImageKey?: string;
}

export function MeasurementsPanel({ measurements, onClear, reports, keyImageKey = '' }: PanelProps) {
  const others = reports?.textMeasurements ?? [];
  const empty = measurements.length === 0 && others.length === 0;
  return (
    <div className="measurements" aria-label="Measurements">
      {reports && <ReportActions reports={reports} keyImageKey={keyImageKey} />}
      {empty
        ? <span className="hint">Measure with Length (l), Angle (a), Ellipse (e), Rect (b) or Probe (x): draw on the image.</span>
        : measurements.map((m) => {
          const reported = 'unsaved' in m ? m : undefined;
          return (
            <span
              key={m.uid} className={`measurement${reported?.unsaved ? ' unsaved' : ''}`} data-kind={m.kind}
              data-length-mm={m.kind === 'length' && m.lengthUnit === 'mm' ? fixed(m.length, 3) : undefined}
              data-angle-deg={m.kind === 'angle' ? fixed(m.angle, 3) : undefined}
              data-mean={fixed(m.mean, 3) || undefined}
              data-sd={fixed(m.stdDev, 3) || undefined}
              data-area={fixed(m.area, 3) || undefined}
              data-area-unit={m.areaUnit}
              data-value={fixed(m.value, 3) || undefined}
              data-unit={m.modalityUnit}
              data-slice={m.slice}
              data-author={reported?.author}
              data-unsaved={reported ? String(reported.unsaved) : undefined}
              title={reported?.unsaved ? 'Not saved yet' : reported?.author ? `Saved by ${reported.author}` : undefined}
            >
              {reported?.unsaved && <span className="unsaved-mark" aria-label="not saved">● </span>}
              {LABELS[m.kind]} {m.number} (Im {m.slice}): {describe(m)}
              {reported?.author && <span className="author"> · {reported.author}</span>}
            </span>
          );
        })}
      {others.map((o) => (
        <span key={o.key} className="measurement text-only" data-kind="text">
          {o.text}{o.author && <span className="author"> · {o.author}</span>}
        </span>
      ))}
      {measurements.length > 0 && <button type="button" className="clear" onClick={onClear} title="Delete every measurement">Clear</button>}
    </div>
  );
}

function ReportActions({ reports: r, keyImageKey }: { reports: StudyReports; keyImageKey: string }) {
  return (
    <span className="report-actions">
      <button
        type="button" data-action="key-image" aria-pressed={r.activeIsKey} disabled={!r.activeImageId}
        title={`Mark or unmark the image of the active viewport as a key image, saved with Save${keyImageKey ? ` (${keyImageKey})` : ''}`} onClick={r.toggleKeyImage}
      >
        {r.activeIsKey ? '★' : '☆'} Key image
      </button>
      <button
        type="button" data-action="save" data-dirty={r.dirty} disabled={Boolean(r.whyNotSave)}
        title={r.whyNotSave || 'Save the measurements and key images into the study (Ctrl+S)'} onClick={r.save}
      >
        Save{r.dirty ? ' •' : ''}
      </button>
      <span className={`save-status ${r.status.state}`} data-save-state={r.status.state} role={r.status.state === 'error' ? 'alert' : 'status'}>
        {r.status.message}
      </span>
    </span>
  );
}
