// Hanging protocols in the viewer: when a study opens, its priors and the user's own protocols
// are read, the protocol is chosen (the user's first, then the defaults, see ../hanging-protocols)
// and the viewer is laid out by it; the reader may switch protocol, compare with the newest prior,
// or save the current layout as a protocol of their own (kept in the server profile).
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { withHangingProtocol, type ConsoleProfile } from '../api';
import { text, Tag, type DicomJsonDataset } from '../dicom-json';
import { CT_PRESETS, type WindowPreset } from '../presets';
import {
  assignViewports, chooseProtocol, comparablePriors, DEFAULT_HANGING_PROTOCOLS, type HangingProtocol, type StudyInfo,
} from '../hanging-protocols';
import { hangingLayout, protocolFromLayout, type Hanging } from './hangingLayout';
import { cellCount, layoutById } from './layouts';
import { bestMatchingSeries, loadPriors, studyInfo, type PriorStudy } from './priors';
import { describeError, type SeriesEntry } from './series';

export type { Hanging } from './hangingLayout';

/** The protocol that fits every study: when it is the one chosen, no protocol decided the layout. */
const FALLBACK_PROTOCOL_ID = 'default';

interface Options {
  studyUid: string;
  patient: DicomJsonDataset | undefined;
  series: readonly SeriesEntry[];
  /** The study's instances as the viewer read them when it opened (studyInstancesForHanging). */
  instances: readonly DicomJsonDataset[];
  /** The reader's profile (their own protocols and presets, the default layout); undefined while it is read. */
  profile: ConsoleProfile | undefined;
  /** Saves a change of the profile (see useViewerProfile). */
  updateProfile: (change: (profile: ConsoleProfile) => ConsoleProfile) => Promise<ConsoleProfile>;
  /** Lays the viewer out. */
  apply: (hanging: Hanging) => void;
}

export interface HangingProtocolState {
  /** The patient's other studies, newest first; undefined while they are being looked for. */
  priors: PriorStudy[] | undefined;
  priorsError: string;
  /** The protocol in use, once chosen. */
  protocol: HangingProtocol | undefined;
  /** The reader's own protocols, then the defaults. */
  protocols: HangingProtocol[];
  choose: (id: string) => void;
  /** The active series beside the newest prior's most similar series. */
  compare: (seriesUid: string) => void;
  save: (layoutId: string, cells: readonly string[]) => void;
  /** The study and its priors are described: comparing and saving can work. */
  ready: boolean;
  /** A window preset a protocol names: the reader's own (profile) first, then the built-in ones. */
  windowPreset: (id: string | undefined) => WindowPreset | undefined;
  /** What the last save did, for the reader. */
  saveMessage: string;
}

export function useHangingProtocol({ studyUid, patient, series, instances, profile, updateProfile, apply }: Options): HangingProtocolState {
  const [priors, setPriors] = useState<PriorStudy[] | undefined>();
  const [priorsError, setPriorsError] = useState('');
  const [infos, setInfos] = useState<{ current: StudyInfo; priors: StudyInfo[] } | undefined>();
  const [userProtocols, setUserProtocols] = useState<HangingProtocol[] | undefined>();
  /** A ref: the lookup stays the same function, so that viewports need not reload when the profile arrives. */
  const userPresets = useRef<WindowPreset[]>([]);
  const [protocol, setProtocol] = useState<HangingProtocol | undefined>();
  const [saveMessage, setSaveMessage] = useState('');
  const hung = useRef('');
  const patientId = patient ? text(patient, Tag.PatientID) : '';

  useEffect(() => {
    if (!profile) return;
    setUserProtocols(profile.hangingProtocols ?? []);
    userPresets.current = profile.windowPresets ?? [];
  }, [profile]);

  // The priors (QIDO-RS by Patient ID), then what the protocols look at in every study.
  useEffect(() => {
    if (!patient || series.length === 0) return;
    let cancelled = false;
    setPriorsError('');
    setPriors(undefined);
    setInfos(undefined);
    loadPriors(patientId, studyUid).then(async (found) => {
      if (cancelled) return;
      setPriors(found);
      const [current, ...others] = await Promise.all([
        studyInfo(studyUid, text(patient, Tag.StudyDate), text(patient, Tag.StudyTime), text(patient, Tag.StudyDescription), series, instances),
        ...found.map((p) => studyInfo(p.uid, p.date, p.time, p.description, p.series)),
      ]);
      if (!cancelled) setInfos({ current: current!, priors: others });
    }).catch((error: unknown) => {
      if (cancelled) return;
      setPriorsError(`The patient's other studies could not be listed (${describeError(error)}).`);
      setPriors([]);
      setInfos({ current: { uid: studyUid, date: text(patient, Tag.StudyDate), series: [] }, priors: [] });
    });
    return () => { cancelled = true; };
  }, [patient, patientId, studyUid, series, instances]);

  const protocols = useMemo(() => [...(userProtocols ?? []), ...DEFAULT_HANGING_PROTOCOLS], [userProtocols]);

  const defaultLayout = profile?.layout;
  /**
   * Lays the study out by `chosen`. When the protocol chosen for the study is only the catch-all one
   * (`byDefault`), no protocol decides: the reader's default layout (profile) applies, filled with
   * the study's image series in order.
   */
  const hang = useCallback((chosen: HangingProtocol, byDefault = false) => {
    if (!infos) return;
    if (byDefault && defaultLayout && chosen.id === FALLBACK_PROTOCOL_ID) {
      const cells = infos.current.series.map((s) => s.uid).slice(0, cellCount(layoutById(defaultLayout)));
      setProtocol(chosen);
      apply({ layoutId: defaultLayout, cells, presets: [] });
      return;
    }
    const [rows, columns] = chosen.layout.split('x').map(Number) as [number, number];
    const viewports = assignViewports(chosen, infos.current, comparablePriors(infos.current, infos.priors));
    const hanging = hangingLayout(rows, columns, viewports);
    // Nothing at all fits (a study whose series the query could not describe): leave the viewer as it is.
    if (hanging.cells.every((c) => !c)) return;
    setProtocol(chosen);
    apply(hanging);
  }, [infos, apply, defaultLayout]);

  // Once per study, when everything is known.
  useEffect(() => {
    if (!infos || !userProtocols || hung.current === studyUid || infos.current.series.length === 0) return;
    hung.current = studyUid;
    hang(chooseProtocol(infos.current, infos.priors, userProtocols), true);
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
  }, [infos, updateProfile]);

  const windowPreset = useCallback((id: string | undefined) => (id ? [...userPresets.current, ...CT_PRESETS].find((p) => p.id === id) : undefined), []);

  return { priors, priorsError, protocol, protocols, choose, compare, save, saveMessage, ready: infos !== undefined, windowPreset };
}
