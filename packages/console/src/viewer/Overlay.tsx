// The text over a viewport: patient and study (top), slice and position (bottom left), window
// and zoom (bottom right), the patient-direction letters at the four edges, and the scale bar.
import { formatDate, text, Tag, type DicomJsonDataset } from '../dicom-json';
import type { SeriesEntry } from './series';
import type { ViewState } from './viewState';

interface OverlayProps {
  view: ViewState;
  patient: DicomJsonDataset | undefined;
  series: SeriesEntry | undefined;
  instance: DicomJsonDataset | undefined;
}

export function Overlay({ view, patient: p, series, instance }: OverlayProps) {
  return (
    <div className="overlay" aria-live="off">
      <div className="tl">
        <div data-overlay="patient">{p ? text(p, Tag.PatientName) : ''}</div>
        <div>{p ? `ID ${text(p, Tag.PatientID)}` : ''}</div>
        <div>{p ? `${formatDate(text(p, Tag.PatientBirthDate))} ${text(p, Tag.PatientSex)}` : ''}</div>
      </div>
      <div className="tr">
        <div>{p ? text(p, Tag.StudyDescription) : ''}</div>
        <div data-overlay="study-date">{p ? formatDate(text(p, Tag.StudyDate)) : ''}</div>
        <div data-overlay="series">Se {series?.number} {series?.description}</div>
      </div>
      <div className="bl">
        <div data-overlay="slice">Im {view.slice}/{view.slices}</div>
        <div>{view.position}</div>
        <div>{instance ? text(instance, Tag.Modality) : ''}</div>
      </div>
      <div className="br">
        <div data-overlay="window">W {view.windowWidth} L {view.windowCenter}{view.invert ? ' inv' : ''}</div>
        <div>Zoom {view.zoom.toFixed(2)}{view.rotation ? `  Rot ${view.rotation}°` : ''}</div>
      </div>
      {view.orientation && (['left', 'right', 'top', 'bottom'] as const).map((edge) => (
        <div key={edge} className={`marker ${edge}`} data-orientation={edge}>{view.orientation![edge]}</div>
      ))}
      {view.scale && (
        <div className="scale-bar" data-scale-mm={view.scale.mm} data-scale-px={view.scale.pixels.toFixed(2)}>
          <div className="scale-line" style={{ width: `${view.scale.pixels}px` }} />
          <span>{view.scale.mm >= 10 ? `${view.scale.mm / 10} cm` : `${view.scale.mm} mm`}</span>
        </div>
      )}
    </div>
  );
}
