// Hanging protocols in the viewer: when a study opens, its priors and the user's own protocols
// are read, the protocol is chosen (the user's first, then the defaults, see ../hanging-protocols)
// and the viewer is laid out by it; the reader may switch protocol, compare with the newest prior,
// or save the current layout as a protocol of their own (kept in the server profile).
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { getProfile, updateProfile, withHangingProtocol } from '../api';
import { text, Tag, type DicomJsonDataset } from '../dicom-json';
import {
  assignViewports, chooseProtocol, comparablePriors, DEFAULT_HANGING_PROTOCOLS, orientationOf,
  type HangingProtocol, type StudyInfo, type ViewportRule,
} from '../hanging-protocols';
import { cellCount, LAYOUTS } from './layouts';
import { bestMatchingSeries, loadPriors, studyInfo, type PriorStudy } from './priors';
import { describeError, type SeriesEntry } from './series';

/** What the viewer shows: a layout, the series of each cell ('' for none), a window preset per cell. */
export interface Hanging { layoutId: string; cells: string[]; presets: string[] }

/**
 * The viewer's grid for a protocol's result. Cells nothing fits are dropped and the rest keep their
 * order, in the smallest layout that holds them (a CT with one series opens in one viewport).
 */
export function hangingLayout(rows: number, columns: number, cells: readonly { seriesUid?: string; windowPreset?: string }[]): Hanging {
  const exact = LAYOUTS.find((l) => l.rows === rows && l.columns === columns);
  const kept = exact && cells.every((c) => c.seriesUid) ? cells : cells.filter((c) => c.seriesUid);
  const layout = (kept === cells && exact) || LAYOUTS.find((l) => cellCount(l) >= Math.max(1, kept.length)) || LAYOUTS[LAYOUTS.length - 1]!;
  const shown = kept.slice(0, cellCount(layout));
  return { layoutId: layout.id, cells: shown.map((c) => c.seriesUid ?? ''), presets: shown.map((c) => c.windowPreset ?? '') };
}

function escapeRegex(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Matches no series: keeps a cell of a saved protocol empty. */
const NOTHING = '(?!)';

/** The current layout as a protocol of the reader's own: each cell as a rule on its series. */
export function protocolFromLayout(layoutId: string, cells: readonly string[], current: StudyInfo, priors: readonly StudyInfo[]): HangingProtocol {
  const comparable = comparablePriors(current, priors);
  const modalities = [...new Set(current.series.map((s) => s.modality.toUpperCase()))].sort();
  let usesPriors = false;
  const viewports: ViewportRule[] = cells.map((uid, index) => {
    const own = current.series.find((s) => s.uid === uid);
    if (own) {
      const orientation = orientationOf(own.orientation);
      return { series: { modality: [own.modality], ...(own.description ? { description: `^${escapeRegex(own.description)}$` } : {}), ...(orientation ? { orientation } : {}) } };
    }
    const prior = comparable.findIndex((p) => p.series.some((s) => s.uid === uid));
    if (prior >= 0) {
      usesPriors = true;
      const model = cells.findIndex((u, i) => i < index && current.series.some((s) => s.uid === u));
      const series = comparable[prior]!.series.find((s) => s.uid === uid)!;
      return model >= 0 ? { prior: prior + 1, like: model } : { prior: prior + 1, series: { modality: [series.modality] } };
    }
    return { series: { description: NOTHING } };
  });
  const id = `my-${modalities.join('-').toLowerCase() || 'any'}-${layoutId}${usesPriors ? '-priors' : ''}`.replace(/[^A-Za-z0-9._-]/g, '');
  return {
    id, name: `My ${modalities.join('/') || 'studies'} ${layoutId}${usesPriors ? ' with prior' : ''}`, priority: usesPriors ? 20 : 10,
    match: { ...(modalities.length ? { modality: modalities } : {}), ...(usesPriors ? { minPriors: 1 } : {}) },
    layout: layoutId, viewports,
  };
}

interface Options {
  studyUid: string;
  patient: DicomJsonDataset | undefined;
  series: readonly SeriesEntry[];
  /** Lays the viewer out. */
  apply: (hanging: Hanging) => void;
}

export interface HangingProtocolState {
  priors: PriorStudy[];
  priorsError: string;
  /** The protocol in use, once chosen. */
  protocol: HangingProtocol | undefined;
  /** The reader's own protocols, then the defaults. */
  protocols: HangingProtocol[];
  choose: (id: string) => void;
  /** The active series beside the newest prior's most similar series. */
  compare: (seriesUid: string) => void;
  save: (layoutId: string, cells: readonly string[]) => void;
  /** What the last save did, for the reader. */
  saveMessage: string;
}

export function useHangingProtocol({ studyUid, patient, series, apply }: Options): HangingProtocolState {
  const [priors, setPriors] = useState<PriorStudy[]>([]);
  const [priorsError, setPriorsError] = useState('');
  const [infos, setInfos] = useState<{ current: StudyInfo; priors: StudyInfo[] } | undefined>();
  const [userProtocols, setUserProtocols] = useState<HangingProtocol[] | undefined>();
  const [protocol, setProtocol] = useState<HangingProtocol | undefined>();
  const [saveMessage, setSaveMessage] = useState('');
  const hung = useRef('');
  const patientId = patient ? text(patient, Tag.PatientID) : '';

  useEffect(() => {
    let cancelled = false;
    getProfile().then((p) => { if (!cancelled) setUserProtocols(p.hangingProtocols ?? []); }, () => { if (!cancelled) setUserProtocols([]); });
    return () => { cancelled = true; };
  }, [studyUid]);

  // The priors (QIDO-RS by Patient ID), then what the protocols look at in every study.
  useEffect(() => {
    if (!patient || series.length === 0) return;
    let cancelled = false;
    setPriorsError('');
    loadPriors(patientId, studyUid).then(async (found) => {
      if (cancelled) return;
      setPriors(found);
      const [current, ...others] = await Promise.all([
        studyInfo(studyUid, text(patient, Tag.StudyDate), text(patient, Tag.StudyTime), text(patient, Tag.StudyDescription), series),
        ...found.map((p) => studyInfo(p.uid, p.date, p.time, p.description, p.series)),
      ]);
      if (!cancelled) setInfos({ current: current!, priors: others });
    }).catch((error: unknown) => {
      if (cancelled) return;
      setPriorsError(`The patient's other studies could not be listed (${describeError(error)}).`);
      setInfos({ current: { uid: studyUid, date: text(patient, Tag.StudyDate), series: [] }, priors: [] });
    });
    return () => { cancelled = true; };
  }, [patient, patientId, studyUid, series]);

  const protocols = useMemo(() => [...(userProtocols ?? []), ...DEFAULT_HANGING_PROTOCOLS], [userProtocols]);

  const hang = useCallback((chosen: HangingProtocol) => {
    if (!infos) return;
    const [rows, columns] = chosen.layout.split('x').map(Number) as [number, number];
    const viewports = assignViewports(chosen, infos.current, comparablePriors(infos.current, infos.priors));
    const hanging = hangingLayout(rows, columns, viewports);
    // Nothing at all fits (a study whose series the query could not describe): leave the viewer as it is.
    if (hanging.cells.every((c) => !c)) return;
    setProtocol(chosen);
    apply(hanging);
  }, [infos, apply]);

  // Once per study, when everything is known.
  useEffect(() => {
    if (!infos || !userProtocols || hung.current === studyUid || infos.current.series.length === 0) return;
    hung.current = studyUid;
    hang(chooseProtocol(infos.current, infos.priors, userProtocols));
  }, [infos, userProtocols, studyUid, hang]);

  const choose = useCallback((id: string) => {
    const chosen = protocols.find((p) => p.id === id);
    if (chosen) hang(chosen);
  }, [protocols, hang]);

  const compare = useCallback((seriesUid: string) => {
    if (!infos) return;
    const newest = comparablePriors(infos.current, infos.priors)[0] ?? infos.priors[0];
    if (!newest) return;
    const current = infos.current.series.some((s) => s.uid === seriesUid) ? seriesUid : infos.current.series[0]?.uid ?? seriesUid;
    const prior = bestMatchingSeries(infos.current, current, newest) ?? newest.series[0]?.uid ?? '';
    setProtocol(DEFAULT_HANGING_PROTOCOLS.find((p) => p.id === 'default-compare'));
    apply({ layoutId: '1x2', cells: [current, prior], presets: ['', ''] });
  }, [infos, apply]);

  const save = useCallback((layoutId: string, cells: readonly string[]) => {
    if (!infos) return;
    const mine = protocolFromLayout(layoutId, cells, infos.current, infos.priors);
    setSaveMessage('Saving…');
    updateProfile((p) => withHangingProtocol(p, mine)).then((saved) => {
      setUserProtocols(saved.hangingProtocols ?? []);
      setProtocol(mine);
      setSaveMessage(`Saved as "${mine.name}"`);
    }, (error: unknown) => setSaveMessage(`Not saved: ${describeError(error)}`));
  }, [infos]);

  return { priors, priorsError, protocol, protocols, choose, compare, save, saveMessage };
}
