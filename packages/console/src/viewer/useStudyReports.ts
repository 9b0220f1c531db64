// The saved measurements and key images in the viewer: read when the study opens (the newest
// measurement report and key object selection, whoever wrote them) and, for a prior, when one of
// its series is first shown; drawn as Cornerstone annotations on their images once a viewport loads
// their series, marked when changed, and saved back as new DICOM documents with Save (Ctrl+S): the
// measurements of each study into that study (a prior's into the prior, see reportPlan.ts), keeping
// as written those the viewer did not change or cannot draw. K marks the active image as key image.
import { Enums, metaData, type RenderingEngine, type StackViewport } from '@cornerstonejs/core';
import { annotation as annotationApi } from '@cornerstonejs/tools';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import {
  getKeyImages, getMeasurements, me, saveKeyImages, saveMeasurements, STORING_ROLES,
  type ImageRef, type MeasurementInput, type StoredMeasurement,
} from '../api';
import { studyOfImageId } from '../series-images';
import { text, Tag, type DicomJsonDataset } from '../dicom-json';
import type { Measurement } from './measurements';
import { describeError, type SeriesLoader, type Stack } from './series';
import { afterSave, planSaves, type DrawnMeasurement, type SavedMeasurement } from './reportPlan';
import {
  annotationHandles, describeStored, geometryKey, imageKey, isDrawable, normalOf, planeOf, statsOf, toMeasurementInput, TOOL_OF_KIND, trackingUidOf,
  type CornerstoneImagePlane,
} from './srMeasurements';

const FRAME_OF_REFERENCE_UID = '00200052';

export interface SaveStatus { state: 'idle' | 'loading' | 'saving' | 'saved' | 'error'; message: string }

/** A measurement of the panel with what the report says of it. */
export interface ReportedMeasurement extends Measurement {
  /** Who saved it (the report's author), for measurements read from or written to a report. */
  author?: string;
  /** Drawn or changed since the last save. */
  unsaved: boolean;
}

/** A saved measurement the viewer cannot draw now (a kind it does not know, or its series not shown yet), as text. */
export interface TextMeasurement { key: string; text: string; author: string }

export interface StudyReports {
  decorate: (measurements: Measurement[]) => ReportedMeasurement[];
  textMeasurements: TextMeasurement[];
  canStore: boolean;
  /** Why Save is disabled, for its tooltip. */
  whyNotSave: string;
  dirty: boolean;
  status: SaveStatus;
  save: () => void;
  /** Image ids of the key images known so far. */
  keyImageIds: ReadonlySet<string>;
  /** Series holding a key image. */
  keySeries: ReadonlySet<string>;
  activeIsKey: boolean;
  activeImageId: string;
  toggleKeyImage: () => void;
  /** Draws the saved measurements that lie on a newly loaded stack. */
  placeStack: (stack: Stack) => void;
  /** The studies Save would write measurements into (the study being read, priors). */
  dirtyStudies: string[];
}

interface Options {
  studyUid: string;
  /** The loader of a study's series: the study being read's (no argument) or a prior's. */
  loaderFor: (studyUid: string | undefined) => SeriesLoader;
  engine: RenderingEngine | undefined;
  /** The measurements on screen; a new array after every annotation change. */
  measurements: Measurement[];
  /** The active viewport (Cornerstone id) and the series it shows. */
  activeViewportId: string;
  activeSeriesUid: string;
  /** The study's instances as the viewer read them when it opened: where each image lives. */
  instances: readonly DicomJsonDataset[];
}

const frameOf = (imageId: string): number | undefined => {
  const match = /\/frames\/(\d+)$/.exec(imageId);
  return match ? Number(match[1]) : undefined;
};

export function useStudyReports({ studyUid, loaderFor, engine, measurements, activeViewportId, activeSeriesUid, instances }: Options): StudyReports {
  const [username, setUsername] = useState('');
  const [roles, setRoles] = useState<string[] | undefined>();
  const [status, setStatus] = useState<SaveStatus>({ state: 'loading', message: '' });
  /** The saved measurements not drawn yet (their series not loaded, or a kind the viewer cannot draw), with their study. */
  const [pending, setPending] = useState<(StoredMeasurement & { studyUid: string })[]>([]);
  const [reportAuthor, setReportAuthor] = useState('');
  /** Every saved measurement of the studies read, by tracking UID (report#group for one without). */
  const [saved, setSaved] = useState<ReadonlyMap<string, SavedMeasurement>>(new Map());
  /** The saved measurements drawn as annotations: one of them no longer drawn was deleted. */
  const [placed, setPlaced] = useState<ReadonlySet<string>>(new Set());
  /** The studies whose saved measurements were read (saving one without it would drop them), or are being read. */
  const [reads, setReads] = useState<ReadonlyMap<string, 'reading' | 'read' | 'failed'>>(new Map());
  const [keyRefs, setKeyRefs] = useState<ReadonlyMap<string, ImageRef>>(new Map());
  const [savedKeys, setSavedKeys] = useState('');
  const seriesBySop = useMemo(() => new Map(instances.map((i) => [text(i, Tag.SOPInstanceUID), text(i, Tag.SeriesInstanceUID)])), [instances]);
  /** Image key → image id, for every image of the stacks loaded so far. */
  const imageIds = useRef(new Map<string, string>());
  const [stacksVersion, setStacksVersion] = useState(0);
  const [activeImageId, setActiveImageId] = useState('');
  const readSaved = reads.get(studyUid) === 'read';
  /** The priors whose saved measurements were asked for. */
  const priorsRead = useRef(new Set<string>());

  /** The image (and frame, for a multi-frame image) behind an image id of any study shown. */
  const refOf = useCallback((imageId: string): ImageRef | undefined => {
    const study = studyOfImageId(imageId);
    const instance = loaderFor(study === studyUid ? undefined : study).metadata.get(imageId);
    if (!instance) return undefined;
    const frames = Number(text(instance, Tag.NumberOfFrames)) || 1;
    const frame = frameOf(imageId);
    return { sopInstanceUid: text(instance, Tag.SOPInstanceUID), ...(frames > 1 && frame !== undefined ? { frame } : {}) };
  }, [loaderFor, studyUid]);

  /** Reads a study's saved measurements once: they are drawn, and kept when the study's measurements are saved. */
  const readStudy = useCallback((study: string, current: { cancelled: boolean } = { cancelled: false }) => {
    setReads((r) => new Map(r).set(study, 'reading'));
    return getMeasurements(study).then((m) => {
      if (current.cancelled) return;
      const report = m.current;
      const stored = report?.measurements ?? [];
      const keyOf = (x: StoredMeasurement) => x.trackingUid || `${report?.sopInstanceUid ?? ''}#${x.group}`;
      setPending((p) => [...p.filter((x) => x.studyUid !== study), ...stored.map((x) => ({ ...x, studyUid: study }))]);
      setSaved((s) => new Map([...[...s].filter(([, e]) => e.studyUid !== study), ...stored.map((x) => [keyOf(x), {
        studyUid: study, report: report!.sopInstanceUid, group: x.group, geometry: isDrawable(x) ? geometryKey(x) : '', author: x.author ?? report!.author,
      }] as const)]));
      if (study === studyUid) setReportAuthor(report?.author ?? '');
      setReads((r) => new Map(r).set(study, 'read'));
    }, (error: unknown) => {
      if (current.cancelled) return;
      setReads((r) => new Map(r).set(study, 'failed'));
      setStatus({ state: 'error', message: describeError(error) });
    });
  }, [studyUid]);

  // Who we are (Save needs the 'store' permission) and what is saved.
  useEffect(() => {
    const current = { cancelled: false };
    me().then((account) => {
      if (current.cancelled) return;
      setUsername(account?.username ?? '');
      setRoles(account?.roles ?? []);
    }, () => { if (!current.cancelled) setRoles([]); });
    Promise.all([readStudy(studyUid, current), getKeyImages(studyUid)]).then(([, k]) => {
      if (current.cancelled) return;
      const images = k.documents[0]?.images ?? [];
      setKeyRefs(new Map(images.map((i) => [imageKey(i), i])));
      setSavedKeys(keySignature(images));
      setStatus((s) => (s.state === 'error' ? s : { state: 'idle', message: '' }));
    }, (error: unknown) => { if (!current.cancelled) setStatus({ state: 'error', message: describeError(error) }); });
    return () => { current.cancelled = true; };
  }, [studyUid, readStudy]);

  const placeStack = useCallback((stack: Stack) => {
    for (const id of stack.imageIds) {
      const ref = refOf(id);
      if (ref) imageIds.current.set(imageKey(ref), id);
    }
    // A prior's first series on screen: its saved measurements, to draw them and to keep them.
    const study = stack.imageIds[0] ? studyOfImageId(stack.imageIds[0]) : '';
    if (study && study !== studyUid && !priorsRead.current.has(study)) {
      priorsRead.current.add(study);
      void readStudy(study);
    }
    setStacksVersion((v) => v + 1);
  }, [refOf, studyUid, readStudy]);

  // Saved measurements become annotations as soon as their image's stack is known.
  useEffect(() => {
    const drawnNow = new Set<string>();
    for (const m of pending) {
      // A measurement without a tracking UID could not be told apart once drawn: it stays text, and is kept.
      if (!isDrawable(m) || !m.trackingUid) continue;
      const imageId = imageIds.current.get(imageKey(m.image)) ?? imageIds.current.get(imageKey({ sopInstanceUid: m.image.sopInstanceUid }));
      const plane = imageId ? planeOf(metaData.get('imagePlaneModule', imageId) as CornerstoneImagePlane | undefined) : undefined;
      // Cornerstone groups annotations by Frame of Reference: the one of the viewport showing the image.
      const loader = imageId ? loaderFor(studyOfImageId(imageId) === studyUid ? undefined : studyOfImageId(imageId)) : undefined;
      const frameOfReference = imageId ? text(loader?.metadata.get(imageId) ?? {}, FRAME_OF_REFERENCE_UID) : '';
      const handles = plane ? annotationHandles(m.kind, m.points, plane) : undefined;
      if (!imageId || !plane || !handles) continue;
      annotationApi.state.addAnnotation({
        annotationUID: m.trackingUid,
        highlighted: false, isLocked: false, isVisible: true, invalidated: true,
        metadata: {
          toolName: TOOL_OF_KIND[m.kind], referencedImageId: imageId, FrameOfReferenceUID: frameOfReference,
          viewPlaneNormal: normalOf(plane), viewUp: plane.columnDirection.map((v) => -v) as [number, number, number],
        },
        data: {
          label: m.label,
          handles: {
            points: handles, activeHandleIndex: null,
            textBox: { hasMoved: false, worldPosition: [0, 0, 0], worldBoundingBox: { topLeft: [0, 0, 0], topRight: [0, 0, 0], bottomLeft: [0, 0, 0], bottomRight: [0, 0, 0] } },
          },
          // The saved values until the tool computes its own from the points.
          cachedStats: { [`imageId:${imageId}`]: statsOf(m) },
        },
      } as never, frameOfReference);
      drawnNow.add(m.trackingUid);
    }
    if (drawnNow.size === 0) return;
    setPending((p) => p.filter((m) => !drawnNow.has(m.trackingUid)));
    setPlaced((p) => new Set([...p, ...drawnNow]));
    engine?.render();
  }, [pending, stacksVersion, engine, loaderFor, studyUid]);

  // The image the active viewport shows, followed as it scrolls.
  useEffect(() => {
    const vp = engine?.getViewport(activeViewportId) as StackViewport | undefined;
    const element = vp?.element;
    const follow = () => setActiveImageId(vp?.getCurrentImageId() ?? '');
    follow();
    if (!element) return;
    element.addEventListener(Enums.Events.STACK_NEW_IMAGE, follow);
    return () => element.removeEventListener(Enums.Events.STACK_NEW_IMAGE, follow);
  }, [engine, activeViewportId, activeSeriesUid, stacksVersion]);

  // The measurements as the reports would hold them now: every annotation on a shown study's image.
  const inputs = useMemo(() => {
    const byAnnotation = new Map<string, MeasurementInput>();
    const drawn: DrawnMeasurement[] = [];
    for (const a of annotationApi.state.getAllAnnotations()) {
      const imageId = a.metadata?.referencedImageId;
      const image = imageId ? refOf(imageId) : undefined;
      if (!imageId || !image || !a.annotationUID) continue;
      const plane = planeOf(metaData.get('imagePlaneModule', imageId) as CornerstoneImagePlane | undefined);
      const input = plane ? toMeasurementInput(a as never, { plane, image }) : undefined;
      if (input) byAnnotation.set(a.annotationUID, input);
      const trackingUid = input?.trackingUid ?? safeTrackingUid(a.annotationUID);
      if (trackingUid) drawn.push({ studyUid: studyOfImageId(imageId), trackingUid, input });
    }
    return { byAnnotation, drawn };
    // `measurements` changes with every annotation event: the annotation state is read again then.
  }, [measurements, refOf, stacksVersion]);

  const plans = useMemo(() => planSaves(saved, inputs.drawn, placed), [saved, inputs, placed]);
  const toSave = plans.filter((p) => p.dirty);
  const measurementsDirty = toSave.length > 0;
  const keysDirty = keySignature([...keyRefs.values()]) !== savedKeys;
  const dirty = measurementsDirty || keysDirty;
  /** A study to save whose saved measurements are not read yet: saving it now would drop them. */
  const unread = toSave.find((p) => reads.get(p.studyUid) !== 'read');

  const canStore = roles !== undefined && roles.some((r) => STORING_ROLES.includes(r));
  const whyNotSave = roles === undefined ? 'Checking your permissions…'
    : !canStore ? `Your role (${roles.join(', ') || 'none'}) may view measurements and key images but not save them: saving needs a radiologist, technologist or administrator account.`
    : !readSaved || unread ? (status.state === 'error' ? 'The saved measurements could not be read (see the message): reload the page before saving.' : 'Reading the saved measurements…')
    : status.state === 'saving' ? 'Saving…'
    : !dirty ? 'Nothing changed since the last save'
    : '';

  const saving = useRef(false);
  const save = useCallback(() => {
    if (!canStore || !readSaved || unread || saving.current || !dirty) return;
    saving.current = true;
    const keysNow = [...keyRefs.values()];
    setStatus({ state: 'saving', message: 'Saving…' });
    (async () => {
      // One report per study: the study being read's first, then each prior's.
      let next = { saved, placed };
      for (const plan of [...toSave].sort((a, b) => Number(b.studyUid === studyUid) - Number(a.studyUid === studyUid))) {
        const { sopInstanceUid } = await saveMeasurements(plan.studyUid, plan.measurements, plan.keep);
        next = afterSave(next.saved, next.placed, plan, sopInstanceUid, username);
        setSaved(next.saved);
        setPlaced(next.placed);
        if (plan.studyUid === studyUid) setReportAuthor(username);
      }
      if (keysDirty) {
        if (keysNow.length === 0) throw new Error('Loire keeps key images as a new selection of at least one image: mark the images that are key now, then save.');
        await saveKeyImages(studyUid, keysNow);
        setSavedKeys(keySignature(keysNow));
      }
    })().then(() => setStatus({ state: 'saved', message: 'Saved' }), (error: unknown) => setStatus({ state: 'error', message: describeError(error) }))
      .finally(() => { saving.current = false; });
  }, [canStore, readSaved, unread, dirty, keyRefs, saved, placed, toSave, keysDirty, studyUid, username]);

  const toggleKeyImage = useCallback(() => {
    // Key images of the study being read only: a prior's image cannot join its selection.
    const ref = activeImageId && studyOfImageId(activeImageId) === studyUid ? refOf(activeImageId) : undefined;
    if (!ref) return;
    const key = imageKey(ref);
    setKeyRefs((k) => {
      const next = new Map(k);
      if (next.has(key)) next.delete(key);
      else next.set(key, ref);
      return next;
    });
  }, [activeImageId, refOf, studyUid]);

  // Ctrl+S (or ⌘S) saves (K, marking the active image, is among the viewer's keys).
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const target = event.target;
      if (target instanceof HTMLInputElement || target instanceof HTMLSelectElement || target instanceof HTMLTextAreaElement) return;
      if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === 's') {
        event.preventDefault(); // not the browser's "save page"
        save();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [save]);

  const keyImageIds = useMemo(() => new Set([...keyRefs.keys()].map((k) => imageIds.current.get(k)).filter((id): id is string => id !== undefined)),
    [keyRefs, stacksVersion]);
  const keySeries = useMemo(() => {
    const found = new Set<string>();
    for (const ref of keyRefs.values()) {
      const series = seriesBySop.get(ref.sopInstanceUid) ?? /\/series\/([^/]+)\//.exec(imageIds.current.get(imageKey(ref)) ?? '')?.[1];
      if (series) found.add(decodeURIComponent(series));
    }
    return found;
  }, [keyRefs, seriesBySop, stacksVersion]);

  const decorate = useCallback((shown: Measurement[]): ReportedMeasurement[] => shown.map((m) => {
    const input = inputs.byAnnotation.get(m.uid);
    const uid = input?.trackingUid ?? (m.uid ? safeTrackingUid(m.uid) : '');
    const entry = saved.get(uid);
    return { ...m, ...(entry?.author ? { author: entry.author } : {}), unsaved: input !== undefined && entry?.geometry !== geometryKey(input) };
  }), [inputs, saved]);

  // The study being read's saved measurements not drawn; a prior's are drawn on its cells.
  const textMeasurements = useMemo(() => pending.filter((m) => m.studyUid === studyUid).map((m, i) => ({
    key: m.trackingUid || `#${m.group}` || String(i),
    text: `${describeStored(m)}${isDrawable(m) && m.trackingUid ? ' (its series is not shown yet)' : ''}`,
    author: m.author ?? reportAuthor,
  })), [pending, reportAuthor, studyUid]);

  return {
    decorate, textMeasurements, canStore, whyNotSave, dirty, status, save,
    keyImageIds, keySeries, activeImageId, activeIsKey: keyImageIds.has(activeImageId), toggleKeyImage, placeStack, dirtyStudies: toSave.map((p) => p.studyUid),
  };
}

function keySignature(images: readonly ImageRef[]): string {
  return images.map(imageKey).sort().join(' ');
}

function safeTrackingUid(annotationUid: string): string {
  try {
    return trackingUidOf(annotationUid);
  } catch {
    return '';
  }
}
