// The patient's other studies, for comparison: found by Patient ID (QIDO-RS), newest first, each
// with its series list and, for the hanging protocols, one description per series (modality,
// orientation, view position…). Series UIDs are unique, so a viewport cell names a series alone
// and the study it belongs to is looked up here.
import { patientStudies, searchSeries, studyInstancesForHanging } from '../api';
import { text, texts, numbers, Tag, type DicomJsonDataset } from '../dicom-json';
import { assignViewports, type HangingProtocol, type SeriesInfo, type StudyInfo } from '../hanging-protocols';
import { SeriesLoader, seriesEntries, type Progress, type SeriesEntry } from './series';

/** Priors listed and loaded at most: the newest ones matter for reading. */
export const MAX_PRIORS = 10;

export interface PriorStudy {
  uid: string;
  /** The study as QIDO-RS answered (patient, date, description): the overlay of its cells shows it. */
  dataset: DicomJsonDataset;
  date: string;
  time: string;
  description: string;
  modalities: string[];
  series: SeriesEntry[];
}

export function priorFromDataset(dataset: DicomJsonDataset, series: SeriesEntry[]): PriorStudy {
  return {
    uid: text(dataset, Tag.StudyInstanceUID),
    dataset,
    date: text(dataset, Tag.StudyDate),
    time: text(dataset, Tag.StudyTime),
    description: text(dataset, Tag.StudyDescription),
    modalities: texts(dataset, Tag.ModalitiesInStudy),
    series,
  };
}

/** The patient's studies other than `currentUid`, newest first, with their series. */
export async function loadPriors(patientId: string, currentUid: string): Promise<PriorStudy[]> {
  if (!patientId) return [];
  const studies = (await patientStudies(patientId)).filter((s) => text(s, Tag.StudyInstanceUID) !== currentUid).slice(0, MAX_PRIORS);
  return Promise.all(studies.map(async (s) => priorFromDataset(s, seriesEntries(await searchSeries(text(s, Tag.StudyInstanceUID))))));
}

/** One SeriesInfo per series, from the study's instances (the first instance of each series speaks for it). */
export function seriesInfos(instances: readonly DicomJsonDataset[], entries: readonly SeriesEntry[]): SeriesInfo[] {
  const first = new Map<string, DicomJsonDataset>();
  for (const instance of instances) {
    const uid = text(instance, Tag.SeriesInstanceUID);
    if (!first.has(uid)) first.set(uid, instance);
  }
  return entries.filter((e) => !e.document).map((e) => {
    const instance = first.get(e.uid);
    const orientation = instance ? numbers(instance, Tag.ImageOrientationPatient) : [];
    const viewPosition = instance ? text(instance, '00185101') : '';
    const laterality = instance ? text(instance, '00200062') || text(instance, '00200060') : '';
    const bodyPart = instance ? text(instance, '00180015') : '';
    return {
      uid: e.uid,
      modality: e.modality,
      description: e.description,
      ...(orientation.length === 6 ? { orientation } : {}),
      ...(viewPosition ? { viewPosition } : {}),
      ...(laterality ? { laterality } : {}),
      ...(bodyPart ? { bodyPart } : {}),
      ...(Number.isFinite(Number(e.number)) && e.number !== '' ? { seriesNumber: Number(e.number) } : {}),
    };
  });
}

/**
 * A study as the hanging protocols see it; without its instances (a failed query), series carry no
 * orientation. `known` are the study's instances when the caller has them already (the study being
 * read: the viewer queried them to open it), saving the same query again.
 */
export async function studyInfo(uid: string, date: string, time: string, description: string, entries: readonly SeriesEntry[], known?: readonly DicomJsonDataset[]): Promise<StudyInfo> {
  const instances = known ?? await studyInstancesForHanging(uid).catch(() => []);
  return { uid, date, time, description, series: seriesInfos(instances, entries) };
}

/** Side by side: the series being read, then the prior's series most like it (same modality, then plane, then description). */
const COMPARE: HangingProtocol = { id: 'compare', name: 'Compare', match: {}, layout: '1x2', viewports: [{ series: {} }, { prior: 1, like: 0 }] };

/** The series of `prior` most like `seriesUid` of `current`, or undefined when none shares its modality. */
export function bestMatchingSeries(current: StudyInfo, seriesUid: string, prior: StudyInfo): string | undefined {
  const only = { ...current, series: current.series.filter((s) => s.uid === seriesUid) };
  return assignViewports(COMPARE, only, [prior])[1]?.seriesUid;
}

/** One series loader per study, the study being read's own included, made on first use. */
export function studyLoaders(current: SeriesLoader, onProgress: (seriesUid: string, update: Partial<Progress>) => void): (studyUid: string | undefined) => SeriesLoader {
  const loaders = new Map<string, SeriesLoader>([[current.studyUid, current]]);
  return (studyUid) => {
    if (!studyUid) return current;
    let found = loaders.get(studyUid);
    if (!found) loaders.set(studyUid, found = new SeriesLoader(studyUid, onProgress));
    return found;
  };
}

/** Where a series shown in a cell comes from: one of the priors, or (undefined) the study being read. */
export function priorOfSeries(priors: readonly PriorStudy[]): Map<string, { prior: PriorStudy; series: SeriesEntry }> {
  return new Map(priors.flatMap((prior) => prior.series.map((series) => [series.uid, { prior, series }] as const)));
}
