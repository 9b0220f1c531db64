// The patient's other studies, newest first (date, modalities, description), each opening onto
// its series thumbnails: a prior's series loads into a viewport like one of the study's own.
// "Compare with prior" puts the active series beside the newest prior's most similar series.
import { useState } from 'react';
import { formatDate } from '../dicom-json';
import type { PriorStudy } from './priors';
import type { Progress } from './series';
import { SeriesButton } from './SeriesPanel';

interface PriorsPanelProps {
  /** Undefined while they are being looked for. */
  priors: PriorStudy[] | undefined;
  error: string;
  /** The priors are described well enough to choose the series to compare. */
  ready: boolean;
  activeSeries: string;
  progress: Record<string, Progress>;
  onChoose: (seriesUid: string) => void;
  onCompare: () => void;
}

export function PriorsPanel({ priors: found, error, ready, activeSeries, progress, onChoose, onCompare }: PriorsPanelProps) {
  const priors = found ?? [];
  const [open, setOpen] = useState<Record<string, boolean>>({});
  return (
    <section className="priors" aria-label="Priors" data-priors={found ? priors.length : ''} style={{ display: 'flex', flexDirection: 'column', gap: 6 }}>
      <h3 className="series-label">Priors</h3>
      {error && <span className="error">{error}</span>}
      {!found && <span className="series-label">Looking for other studies…</span>}
      {found && priors.length === 0 && !error && <span className="series-label">No other study of this patient</span>}
      {priors.length > 0 && (
        <button type="button" data-action="compare-prior" disabled={!ready} title="The active series beside the newest prior's most similar series" onClick={onCompare}>
          Compare with prior
        </button>
      )}
      {priors.map((p) => (
        <div key={p.uid} className="prior" data-prior-study-uid={p.uid} data-study-date={p.date} style={{ display: 'flex', flexDirection: 'column', gap: 6 }}>
          <button
            type="button" className="prior-study" style={{ display: 'flex', flexDirection: 'column', alignItems: 'flex-start', gap: 2, padding: 4, fontSize: 12 }} aria-expanded={Boolean(open[p.uid])} title={`${p.date} ${p.description}`}
            onClick={() => setOpen((o) => ({ ...o, [p.uid]: !o[p.uid] }))}
          >
            <span className="series-label">{open[p.uid] ? '▾' : '▸'} {formatDate(p.date)}</span>
            <span className="series-label">{p.modalities.join('/') || p.series.map((s) => s.modality).join('/')} · {p.series.length} series</span>
            <span className="series-label">{p.description}</span>
          </button>
          {open[p.uid] && p.series.map((s) => (
            <SeriesButton key={s.uid} studyUid={p.uid} series={s} active={s.uid === activeSeries} progress={progress[s.uid]} onChoose={onChoose} />
          ))}
        </div>
      ))}
    </section>
  );
}
