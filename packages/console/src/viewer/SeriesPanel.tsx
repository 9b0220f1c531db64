// The study's series as thumbnails: click (or Enter) loads one into the active viewport; drag
// one onto any viewport to load it there. Each shows its loading progress.
import { seriesThumbnailUrl } from '../api';
import { NON_IMAGE_MODALITIES, type Progress, type SeriesEntry } from './series';
import { SERIES_DRAG_TYPE } from './ViewportCell';

interface SeriesPanelProps {
  studyUid: string;
  series: SeriesEntry[];
  /** Series shown in the active viewport. */
  activeSeries: string;
  progress: Record<string, Progress>;
  onBack: () => void;
  onChoose: (seriesUid: string) => void;
  /** Series holding a key image: their thumbnails say so. */
  keySeries?: ReadonlySet<string>;
}

export function SeriesPanel({ studyUid, series, activeSeries, progress, onBack, onChoose, keySeries }: SeriesPanelProps) {
  return (
    <aside className="series-panel" aria-label="Series">
      <button type="button" className="back" onClick={onBack}>← Study list</button>
      {series.map((s) => {
        const pr = progress[s.uid];
        return (
          <button
            type="button" key={s.uid} className={`series${s.uid === activeSeries ? ' active' : ''}`} data-series-uid={s.uid}
            title="Click to show in the active viewport, or drag onto a viewport"
            draggable
            onDragStart={(e) => {
              e.dataTransfer.setData(SERIES_DRAG_TYPE, s.uid);
              e.dataTransfer.effectAllowed = 'copy';
            }}
            onClick={() => onChoose(s.uid)}
          >
            {NON_IMAGE_MODALITIES.has(s.modality)
              ? <div className="thumb-placeholder">{s.modality}</div>
              : <img src={seriesThumbnailUrl(studyUid, s.uid)} alt="" width={96} height={96} draggable={false} />}
            <span className="series-label">#{s.number} {s.modality} · {s.instances} im.</span>
            <span className="series-label">{s.description}</span>
            {keySeries?.has(s.uid) && <span className="key-badge" data-key-images="true">★ Key images</span>}
            {pr && pr.total > 0 && pr.loaded < pr.total && !pr.error && (
              <progress max={pr.total} value={pr.loaded} aria-label={`Loading series ${s.number}`} />
            )}
            {pr?.error && <span className="error">{pr.error}</span>}
          </button>
        );
      })}
    </aside>
  );
}
