// The study list: a QIDO-RS search (PS3.18 10.6) with the usual worklist filters, sortable
// columns (within the page shown) and paging by limit/offset. From the user's profile on the
// server: the columns shown and the saved filters (a search kept under a name). Each row's
// "History" button opens the patient's history: every study of the patient, newest first, with a
// thumbnail, one click from the viewer.
import { useCallback, useEffect, useMemo, useState, type FormEvent, type ReactNode } from 'react';
import {
  EMPTY_PROFILE, getProfile, patientStudies, searchSeries, searchStudies, seriesThumbnailUrl, studySearchParams, updateProfile,
  withoutSavedFilter, withSavedFilter, type ConsoleProfile, type FilterFields, type SavedFilter, type StudyQuery,
} from './api';
import { formatDate, formatTime, text, texts, Tag, type DicomJsonDataset } from './dicom-json';
import type { Navigate } from './main';
import { NON_IMAGE_MODALITIES } from './viewer/series';

const PAGE_SIZE = 25;
const MODALITIES = ['', 'CT', 'MR', 'CR', 'DX', 'MG', 'US', 'XA', 'NM', 'PT', 'RF', 'OT', 'SC', 'SR', 'DOC'];

interface Row {
  uid: string;
  patientName: string;
  patientId: string;
  birthDate: string;
  date: string;
  time: string;
  accession: string;
  referring: string;
  modalities: string;
  description: string;
  series: number;
  instances: number;
}

type SortKey = 'patientName' | 'patientId' | 'birthDate' | 'date' | 'accession' | 'modalities' | 'description' | 'referring' | 'series' | 'instances';
interface Column { key: SortKey; label: string; cell(row: Row): ReactNode }
/** Every column the list can show; the profile's `studyListColumns` picks and orders them. */
const ALL_COLUMNS: readonly Column[] = [
  { key: 'patientName', label: 'Patient', cell: (r) => r.patientName },
  { key: 'patientId', label: 'Patient ID', cell: (r) => r.patientId },
  { key: 'birthDate', label: 'Birth date', cell: (r) => formatDate(r.birthDate) },
  { key: 'date', label: 'Date', cell: (r) => `${formatDate(r.date)} ${formatTime(r.time)}` },
  { key: 'accession', label: 'Accession', cell: (r) => r.accession },
  { key: 'modalities', label: 'Modality', cell: (r) => r.modalities },
  { key: 'description', label: 'Description', cell: (r) => r.description },
  { key: 'referring', label: 'Referring', cell: (r) => r.referring },
  { key: 'series', label: 'Series', cell: (r) => r.series },
  { key: 'instances', label: 'Images', cell: (r) => r.instances },
];
const DEFAULT_COLUMNS: readonly SortKey[] = ['patientName', 'patientId', 'date', 'accession', 'modalities', 'description', 'referring', 'instances'];

/** The profile's columns that this console knows, in the profile's order; the defaults when none. */
function columnsOf(profile: ConsoleProfile): Column[] {
  const chosen = (profile.studyListColumns ?? []).map((key) => ALL_COLUMNS.find((c) => c.key === key)).filter((c): c is Column => c !== undefined);
  return chosen.length > 0 ? chosen : DEFAULT_COLUMNS.map((key) => ALL_COLUMNS.find((c) => c.key === key)!);
}

function toRow(d: DicomJsonDataset): Row {
  return {
    uid: text(d, Tag.StudyInstanceUID),
    patientName: text(d, Tag.PatientName),
    patientId: text(d, Tag.PatientID),
    birthDate: text(d, Tag.PatientBirthDate),
    date: text(d, Tag.StudyDate),
    time: text(d, Tag.StudyTime),
    accession: text(d, Tag.AccessionNumber),
    referring: text(d, Tag.ReferringPhysicianName),
    modalities: texts(d, Tag.ModalitiesInStudy).join(', '),
    description: text(d, Tag.StudyDescription),
    series: Number(text(d, Tag.NumberOfStudyRelatedSeries)) || 0,
    instances: Number(text(d, Tag.NumberOfStudyRelatedInstances)) || 0,
  };
}

const EMPTY: FilterFields = { patientName: '', patientId: '', accessionNumber: '', referringPhysician: '', dateFrom: '', dateTo: '', modality: '' };

export function StudyList({ navigate }: { navigate: Navigate }) {
  const [profile, setProfile] = useState<ConsoleProfile>(EMPTY_PROFILE);
  const [profileState, setProfileState] = useState<'loading' | 'ready' | 'saving' | 'error'>('loading');
  const [profileError, setProfileError] = useState('');
  const [history, setHistory] = useState<{ patientId: string; patientName: string; studyUid: string } | undefined>(undefined);
  const [filters, setFilters] = useState(EMPTY);
  const [query, setQuery] = useState<StudyQuery>({ ...EMPTY, limit: PAGE_SIZE, offset: 0 });
  const [rows, setRows] = useState<Row[]>([]);
  const [hasMore, setHasMore] = useState(false);
  // The query whose answer is shown: until the new one's is in, the list says "loading" (data-state), never "ready" with the old rows.
  const [answer, setAnswer] = useState<{ query: StudyQuery; state: 'ready' | 'error' } | undefined>(undefined);
  const state = answer?.query === query ? answer.state : 'loading';
  const [error, setError] = useState('');
  const [sort, setSort] = useState<{ key: SortKey; descending: boolean }>({ key: 'date', descending: true });

  useEffect(() => {
    let cancelled = false;
    searchStudies(query).then((found) => {
      if (cancelled) return;
      setRows(found.slice(0, query.limit).map(toRow));
      setHasMore(found.length > query.limit);
      setAnswer({ query, state: 'ready' });
    }, (e: Error) => {
      if (cancelled) return;
      setError(e.message);
      setAnswer({ query, state: 'error' });
    });
    return () => { cancelled = true; };
  }, [query]);

  useEffect(() => {
    let cancelled = false;
    getProfile().then((p) => {
      if (cancelled) return;
      setProfile(p);
      setProfileState('ready');
    }, (e: Error) => {
      if (cancelled) return;
      setProfileError(e.message);
      setProfileState('error');
    });
    return () => { cancelled = true; };
  }, []);

  /** Shows the change at once, then saves it; on failure, says why and shows what the server kept. */
  const changeProfile = useCallback(async (change: (p: ConsoleProfile) => ConsoleProfile) => {
    setProfile(change);
    setProfileState('saving');
    try {
      setProfile(await updateProfile(change));
      setProfileError('');
      setProfileState('ready');
    } catch (e) {
      setProfileError((e as Error).message);
      setProfileState('error');
      getProfile().then(setProfile, () => undefined);
    }
  }, []);

  const columns = useMemo(() => columnsOf(profile), [profile]);

  const sorted = useMemo(() => {
    const direction = sort.descending ? -1 : 1;
    return [...rows].sort((a, b) => {
      const x = a[sort.key];
      const y = b[sort.key];
      const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y), undefined, { sensitivity: 'base' });
      return order !== 0 ? order * direction : (a.date + a.time).localeCompare(b.date + b.time) * -1;
    });
  }, [rows, sort]);

  const search = (event: FormEvent) => {
    event.preventDefault();
    setQuery({ ...filters, limit: PAGE_SIZE, offset: 0 });
  };
  const clear = () => {
    setFilters(EMPTY);
    setQuery({ ...EMPTY, limit: PAGE_SIZE, offset: 0 });
  };
  const field = (key: keyof typeof EMPTY) => ({
    name: key, value: filters[key],
    onChange: (e: { target: { value: string } }) => setFilters({ ...filters, [key]: e.target.value }),
  });
  const open = useCallback((uid: string) => navigate(`/viewer?StudyInstanceUIDs=${encodeURIComponent(uid)}`), [navigate]);
  const applyFilter = (saved: SavedFilter) => {
    const fields = { ...EMPTY, ...saved.query };
    setFilters(fields);
    setQuery({ ...fields, limit: PAGE_SIZE, offset: 0 });
  };
  const toggleColumn = (key: SortKey) => {
    const shown = columns.map((c) => c.key);
    const next = shown.includes(key) ? shown.filter((k) => k !== key) : ALL_COLUMNS.map((c) => c.key).filter((k) => k === key || shown.includes(k));
    if (next.length > 0) void changeProfile((p) => ({ ...p, studyListColumns: next }));
  };

  return (
    <main className="study-list">
      <form className="filters" onSubmit={search} aria-label="Search studies">
        <label>Patient name<input {...field('patientName')} placeholder="e.g. Dupont" /></label>
        <label>Patient ID<input {...field('patientId')} /></label>
        <label>Accession<input {...field('accessionNumber')} /></label>
        <label>Referring physician<input {...field('referringPhysician')} /></label>
        <label>From<input type="date" {...field('dateFrom')} /></label>
        <label>To<input type="date" {...field('dateTo')} /></label>
        <label>Modality
          <select {...field('modality')}>{MODALITIES.map((m) => <option key={m} value={m}>{m || 'Any'}</option>)}</select>
        </label>
        <button type="submit">Search</button>
        <button type="button" onClick={clear}>Clear</button>
      </form>
      <SavedFilters
        profile={profile} state={profileState} error={profileError} columns={columns}
        onSave={(name) => changeProfile((p) => withSavedFilter(p, name, filters))}
        onApply={applyFilter}
        onDelete={(name) => changeProfile((p) => withoutSavedFilter(p, name))}
        onToggleColumn={toggleColumn}
      />
      {state === 'error' && <p className="error" role="alert">{error}</p>}
      <div className="studylist-body">
        <div className="studylist-results">
          <table className="studies" data-state={state} data-query={studySearchParams(query).toString()}>
            <thead>
              <tr>
                {columns.map((c) => (
                  <th key={c.key} aria-sort={sort.key === c.key ? (sort.descending ? 'descending' : 'ascending') : 'none'}>
                    <button type="button" onClick={() => setSort({ key: c.key, descending: sort.key === c.key ? !sort.descending : false })}>
                      {c.label}{sort.key === c.key ? (sort.descending ? ' ▼' : ' ▲') : ''}
                    </button>
                  </th>
                ))}
                <th><span className="studylist-sr-only">Patient history</span></th>
              </tr>
            </thead>
            <tbody>
              {sorted.map((r) => (
                <tr key={r.uid} data-study-uid={r.uid} tabIndex={0} aria-selected={history?.studyUid === r.uid}
                  className={history?.studyUid === r.uid ? 'studylist-selected' : undefined}
                  onClick={() => open(r.uid)} onKeyDown={(e) => { if (e.key === 'Enter') open(r.uid); }}>
                  {columns.map((c) => <td key={c.key}>{c.cell(r)}</td>)}
                  <td className="studylist-history-cell">
                    <button
                      type="button" className="history-button" disabled={!r.patientId}
                      title={r.patientId ? 'Every study of this patient' : 'This study has no Patient ID'}
                      onClick={(e) => { e.stopPropagation(); setHistory({ patientId: r.patientId, patientName: r.patientName, studyUid: r.uid }); }}
                      onKeyDown={(e) => e.stopPropagation()}
                    >History</button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {state === 'ready' && rows.length === 0 && <p className="empty">No study matches these filters.</p>}
          {state === 'loading' && <p className="empty">Searching…</p>}
          <nav className="pager">
            <button type="button" disabled={query.offset === 0 || state === 'loading'} onClick={() => setQuery({ ...query, offset: Math.max(0, query.offset - query.limit) })}>Previous</button>
            <span>{rows.length ? `${query.offset + 1}–${query.offset + rows.length}` : ''}</span>
            <button type="button" disabled={!hasMore || state === 'loading'} onClick={() => setQuery({ ...query, offset: query.offset + query.limit })}>Next</button>
          </nav>
        </div>
        {history && <PatientHistory {...history} open={open} onClose={() => setHistory(undefined)} />}
      </div>
    </main>
  );
}

interface SavedFiltersProps {
  profile: ConsoleProfile;
  state: 'loading' | 'ready' | 'saving' | 'error';
  error: string;
  columns: Column[];
  onSave(name: string): Promise<void>;
  onApply(filter: SavedFilter): void;
  onDelete(name: string): Promise<void>;
  onToggleColumn(key: SortKey): void;
}

/** Saved searches from the profile (apply, delete, save the current one) and the column chooser. */
function SavedFilters({ profile, state, error, columns, onSave, onApply, onDelete, onToggleColumn }: SavedFiltersProps) {
  const [name, setName] = useState('');
  const saved = profile.savedFilters ?? [];
  const save = async (event: FormEvent) => {
    event.preventDefault();
    const trimmed = name.trim();
    if (!trimmed) return;
    await onSave(trimmed);
    setName('');
  };
  return (
    <section className="studylist-saved" aria-label="Saved filters" data-state={state} data-filters={saved.map((f) => f.name).join('\n')}>
      <span className="studylist-saved-title">Saved filters</span>
      {state === 'loading' && <span className="hint">Loading your profile…</span>}
      {saved.length === 0 && state !== 'loading' && <span className="hint">none yet</span>}
      <ul className="studylist-saved-list">
        {saved.map((f) => (
          <li key={f.name} className="studylist-saved-filter" data-filter-name={f.name}>
            <button type="button" className="studylist-apply" title={describeFilter(f)} onClick={() => onApply(f)}>{f.name}</button>
            <button type="button" className="studylist-delete" aria-label={`Delete the saved filter ${f.name}`} title="Delete" disabled={state === 'saving'} onClick={() => void onDelete(f.name)}>×</button>
          </li>
        ))}
      </ul>
      <form className="studylist-save" onSubmit={(e) => void save(e)}>
        <input name="filterName" value={name} maxLength={100} placeholder="Name this search" onChange={(e) => setName(e.target.value)} aria-label="Name of the saved filter" />
        <button type="submit" disabled={!name.trim() || state === 'saving' || state === 'loading'}>Save search</button>
      </form>
      <details className="studylist-columns">
        <summary>Columns</summary>
        <div className="studylist-columns-menu">
          {ALL_COLUMNS.map((c) => (
            <label key={c.key}>
              <input type="checkbox" name={`column-${c.key}`} checked={columns.some((s) => s.key === c.key)} disabled={state === 'saving'} onChange={() => onToggleColumn(c.key)} />
              {c.label}
            </label>
          ))}
        </div>
      </details>
      {state === 'error' && <span className="error" role="alert">{error}</span>}
    </section>
  );
}

function describeFilter(filter: SavedFilter): string {
  return Object.entries(filter.query).map(([key, value]) => `${key}: ${value}`).join(', ') || 'every study';
}

interface HistoryStudy {
  uid: string;
  date: string;
  time: string;
  description: string;
  modalities: string;
  instances: number;
  /** The series whose thumbnail stands for the study (the first image series by number), once known. */
  thumbnail?: string;
}

async function representativeThumbnail(studyUid: string): Promise<string | undefined> {
  const series = await searchSeries(studyUid);
  const images = series
    // Series that are not images (reports, presentation states, key-object selections) make no thumbnail.
    .filter((s) => !NON_IMAGE_MODALITIES.has(text(s, Tag.Modality)))
    .sort((a, b) => (Number(text(a, Tag.SeriesNumber)) || 0) - (Number(text(b, Tag.SeriesNumber)) || 0));
  const first = images[0];
  return first ? seriesThumbnailUrl(studyUid, text(first, Tag.SeriesInstanceUID)) : undefined;
}

/** Every study of the patient, newest first, each with a thumbnail; a click opens it in the viewer. */
function PatientHistory({ patientId, patientName, studyUid, open, onClose }: {
  patientId: string; patientName: string; studyUid: string; open(uid: string): void; onClose(): void;
}) {
  const [studies, setStudies] = useState<HistoryStudy[]>([]);
  // Whose studies are shown: another patient's are "loading" until theirs are in.
  const [answer, setAnswer] = useState<{ patientId: string; state: 'ready' | 'error' } | undefined>(undefined);
  const state = answer?.patientId === patientId ? answer.state : 'loading';
  const [error, setError] = useState('');

  useEffect(() => {
    let cancelled = false;
    setStudies([]);
    patientStudies(patientId).then(async (found) => {
      if (cancelled) return;
      const list = found.map((d): HistoryStudy => ({
        uid: text(d, Tag.StudyInstanceUID), date: text(d, Tag.StudyDate), time: text(d, Tag.StudyTime),
        description: text(d, Tag.StudyDescription), modalities: texts(d, Tag.ModalitiesInStudy).join(', '),
        instances: Number(text(d, Tag.NumberOfStudyRelatedInstances)) || 0,
      }));
      setStudies(list);
      setAnswer({ patientId, state: 'ready' });
      // Thumbnails after the list: the dates are what the reader looks for first.
      const thumbnails = await Promise.all(list.map((s) => representativeThumbnail(s.uid).catch(() => undefined)));
      if (!cancelled) setStudies(list.map((s, i) => ({ ...s, ...(thumbnails[i] ? { thumbnail: thumbnails[i] } : {}) })));
    }).catch((e: Error) => {
      if (cancelled) return;
      setError(e.message);
      setAnswer({ patientId, state: 'error' });
    });
    return () => { cancelled = true; };
  }, [patientId]);

  return (
    <aside className="history-panel" aria-label="Patient history" data-state={state} data-patient-id={patientId}>
      <header className="history-header">
        <div>
          <div className="history-title">Patient history</div>
          <div className="history-patient">{patientName} <span className="hint">({patientId})</span></div>
        </div>
        <button type="button" className="history-close" aria-label="Close the patient history" onClick={onClose}>×</button>
      </header>
      {state === 'loading' && <p className="empty">Searching the patient's studies…</p>}
      {state === 'error' && <p className="error" role="alert">{error}</p>}
      {state === 'ready' && <p className="hint history-count">{studies.length} {studies.length === 1 ? 'study' : 'studies'}, newest first</p>}
      <ol className="history-list">
        {studies.map((s) => (
          <li key={s.uid}>
            <button
              type="button" className={`history-study${s.uid === studyUid ? ' history-current' : ''}`} data-study-uid={s.uid}
              title="Open in the viewer" onClick={() => open(s.uid)}
            >
              {s.thumbnail ? <img className="history-thumb" src={s.thumbnail} alt="" /> : <span className="history-thumb history-no-thumb" />}
              <span className="history-text">
                <span className="history-date">{formatDate(s.date) || 'no date'} {formatTime(s.time)}</span>
                <span className="history-modalities">{s.modalities}</span>
                <span className="history-description">{s.description || '—'}</span>
                <span className="hint">{s.instances} {s.instances === 1 ? 'image' : 'images'}</span>
              </span>
            </button>
          </li>
        ))}
      </ol>
    </aside>
  );
}
