// The study's series as thumbnails: click (or Enter) loads one into the active viewport; drag
// one onto any viewport to load it there. Each shows its loading progress. Below them, the
// patient's other studies (see PriorsPanel), given as children.
import type { ReactNode } from 'react';
import { seriesThumbnailUrl } from '../api';
import type { Progress, SeriesEntry } from './series';
import { SERIES_DRAG_TYPE } from './ViewportCell';

interface SeriesPanelProps {
  studyUid: string;
  series: SeriesEntry[];
  /** Series shown in the active viewport. */
  activeSeries: string;
  progress: Record<string, Progress>;
  onBack: () => void;
  onChoose: (seriesUid: string) => void;
  children?: ReactNode;
  /** Series holding a key image: their thumbnails say so. */
  keySeries?: ReadonlySet<string>;
}

interface SeriesButtonProps {
  studyUid: string;
  series: SeriesEntry;
  active: boolean;
  progress: Progress | undefined;
  onChoose: (seriesUid: string) => void;
  /** It holds a key image. */
  keyImages?: boolean;
}

/** One series thumbnail: click to show in the active viewport, or drag onto a viewport. */
export function SeriesButton({ studyUid, series: s, active, progress: pr, onChoose, keyImages }: SeriesButtonProps) {
  return (
    <button
      type="button" className={`series${active ? ' active' : ''}`} data-series-uid={s.uid} data-study-uid={studyUid}
      title="Click to show in the active viewport, or drag onto a viewport"
      draggable
      onDragStart={(e) => {
        e.dataTransfer.setData(SERIES_DRAG_TYPE, s.uid);
        e.dataTransfer.effectAllowed = 'copy';
      }}
      onClick={() => onChoose(s.uid)}
    >
      {s.document
        ? <div className="thumb-placeholder">{s.modality || 'DOC'}</div>
        : <img src={seriesThumbnailUrl(studyUid, s.uid)} alt="" width={96} height={96} draggable={false} />}
      <span className="series-label">#{s.number} {s.modality} · {s.instances} im.</span>
      <span className="series-label">{s.description}</span>
      {keyImages && <span className="key-badge" data-key-images="true">★ Key images</span>}
      {pr && pr.total > 0 && pr.loaded < pr.total && !pr.error && (
        <progress max={pr.total} value={pr.loaded} aria-label={`Loading series ${s.number}`} />
      )}
      {pr?.error && <span className="error">{pr.error}</span>}
    </button>
  );
}

export function SeriesPanel({ studyUid, series, activeSeries, progress, onBack, onChoose, children, keySeries }: SeriesPanelProps) {
  return (
    <aside className="series-panel" aria-label="Series">
      <button type="button" className="back" onClick={onBack}>← Study list</button>
      {series.map((s) => (
        <SeriesButton key={s.uid} studyUid={studyUid} series={s} active={s.uid === activeSeries} progress={progress[s.uid]} onChoose={onChoose} keyImages={keySeries?.has(s.uid) ?? false} />
      ))}
      {children}
    </aside>
  );
}
