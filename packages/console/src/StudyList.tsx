// The study list: a QIDO-RS search (PS3.18 10.6) with the usual worklist filters, sortable
// columns (within the page shown) and paging by limit/offset.
import { useCallback, useEffect, useMemo, useState, type FormEvent } from 'react';
import { searchStudies, studySearchParams, type StudyQuery } from './api';
import { formatDate, formatTime, text, texts, Tag, type DicomJsonDataset } from './dicom-json';
import type { Navigate } from './main';

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

type SortKey = 'patientName' | 'patientId' | 'date' | 'accession' | 'modalities' | 'description' | 'referring' | 'instances';
const COLUMNS: { key: SortKey; label: string }[] = [
  { key: 'patientName', label: 'Patient' },
  { key: 'patientId', label: 'Patient ID' },
  { key: 'date', label: 'Date' },
  { key: 'accession', label: 'Accession' },
  { key: 'modalities', label: 'Modality' },
  { key: 'description', label: 'Description' },
  { key: 'referring', label: 'Referring' },
  { key: 'instances', label: 'Images' },
];

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

const EMPTY: Omit<StudyQuery, 'limit' | 'offset'> = { patientName: '', patientId: '', accessionNumber: '', referringPhysician: '', dateFrom: '', dateTo: '', modality: '' };

export function StudyList({ navigate }: { navigate: Navigate }) {
  const [filters, setFilters] = useState(EMPTY);
  const [query, setQuery] = useState<StudyQuery>({ ...EMPTY, limit: PAGE_SIZE, offset: 0 });
  const [rows, setRows] = useState<Row[]>([]);
  const [hasMore, setHasMore] = useState(false);
  const [state, setState] = useState<'loading' | 'ready' | 'error'>('loading');
  const [error, setError] = useState('');
  const [sort, setSort] = useState<{ key: SortKey; descending: boolean }>({ key: 'date', descending: true });

  useEffect(() => {
    let cancelled = false;
    setState('loading');
    searchStudies(query).then((found) => {
      if (cancelled) return;
      setRows(found.slice(0, query.limit).map(toRow));
      setHasMore(found.length > query.limit);
      setState('ready');
    }, (e: Error) => {
      if (cancelled) return;
      setError(e.message);
      setState('error');
    });
    return () => { cancelled = true; };
  }, [query]);

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
      {state === 'error' && <p className="error" role="alert">{error}</p>}
      <table className="studies" data-state={state} data-query={studySearchParams(query).toString()}>
        <thead>
          <tr>
            {COLUMNS.map((c) => (
              <th key={c.key} aria-sort={sort.key === c.key ? (sort.descending ? 'descending' : 'ascending') : 'none'}>
                <button type="button" onClick={() => setSort({ key: c.key, descending: sort.key === c.key ? !sort.descending : false })}>
                  {c.label}{sort.key === c.key ? (sort.descending ? ' ▼' : ' ▲') : ''}
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {sorted.map((r) => (
            <tr key={r.uid} data-study-uid={r.uid} tabIndex={0} onClick={() => open(r.uid)} onKeyDown={(e) => { if (e.key === 'Enter') open(r.uid); }}>
              <td>{r.patientName}</td>
              <td>{r.patientId}</td>
              <td>{formatDate(r.date)} {formatTime(r.time)}</td>
              <td>{r.accession}</td>
              <td>{r.modalities}</td>
              <td>{r.description}</td>
              <td>{r.referring}</td>
              <td>{r.instances}</td>
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
    </main>
  );
}
