// The study's saved measurements and key images in the viewer: read when the study opens (the
// newest measurement report and key object selection, whoever wrote them), drawn as Cornerstone
// annotations on their images once a viewport loads their series, marked when changed, and saved
// back as new DICOM documents with Save (Ctrl+S). K marks the active viewport's image as key image.
import { Enums, metaData, type RenderingEngine, type StackViewport } from '@cornerstonejs/core';
import { annotation as annotationApi } from '@cornerstonejs/tools';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import {
  getKeyImages, getMeasurements, me, saveKeyImages, saveMeasurements, STORING_ROLES,
  type ImageRef, type MeasurementInput, type StoredMeasurement,
} from '../api';
import { text, Tag, type DicomJsonDataset } from '../dicom-json';
import type { Measurement } from './measurements';
import { describeError, type SeriesLoader, type Stack } from './series';
import {
  annotationHandles, describeStored, geometryKey, imageKey, inputOf, isDrawable, normalOf, planeOf, statsOf, toMeasurementInput, TOOL_OF_KIND, trackingUidOf,
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
}

interface Options {
  studyUid: string;
  loader: SeriesLoader;
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

export function useStudyReports({ studyUid, loader, engine, measurements, activeViewportId, activeSeriesUid, instances }: Options): StudyReports {
  const [username, setUsername] = useState('');
  const [roles, setRoles] = useState<string[] | undefined>();
  const [status, setStatus] = useState<SaveStatus>({ state: 'loading', message: '' });
  /** The saved measurements not drawn yet (their series not loaded, or a kind the viewer cannot draw). */
  const [pending, setPending] = useState<StoredMeasurement[]>([]);
  const [reportAuthor, setReportAuthor] = useState('');
  /** Tracking UID → geometry as last saved (or read), to mark changes. */
  const [saved, setSaved] = useState<ReadonlyMap<string, string>>(new Map());
  const [authors, setAuthors] = useState<ReadonlyMap<string, string>>(new Map());
  const [keyRefs, setKeyRefs] = useState<ReadonlyMap<string, ImageRef>>(new Map());
  const [savedKeys, setSavedKeys] = useState('');
  const seriesBySop = useMemo(() => new Map(instances.map((i) => [text(i, Tag.SOPInstanceUID), text(i, Tag.SeriesInstanceUID)])), [instances]);
  /** Image key → image id, for every image of the stacks loaded so far. */
  const imageIds = useRef(new Map<string, string>());
  const [stacksVersion, setStacksVersion] = useState(0);
  const [activeImageId, setActiveImageId] = useState('');
  /** Whether the saved set was read: saving without it would drop the measurements saved before. */
  const [readSaved, setReadSaved] = useState(false);

  /** The image (and frame, for a multi-frame image) behind one of this study's image ids. */
  const refOf = useCallback((imageId: string): ImageRef | undefined => {
    const instance = loader.metadata.get(imageId);
    if (!instance) return undefined;
    const frames = Number(text(instance, Tag.NumberOfFrames)) || 1;
    const frame = frameOf(imageId);
    return { sopInstanceUid: text(instance, Tag.SOPInstanceUID), ...(frames > 1 && frame !== undefined ? { frame } : {}) };
  }, [loader]);

  // Who we are (Save needs the 'store' permission) and what is saved.
  useEffect(() => {
    let cancelled = false;
    me().then((account) => {
      if (cancelled) return;
      setUsername(account?.username ?? '');
      setRoles(account?.roles ?? []);
    }, () => { if (!cancelled) setRoles([]); });
    Promise.all([getMeasurements(studyUid), getKeyImages(studyUid)]).then(([m, k]) => {
      if (cancelled) return;
      const current = m.current;
      const stored = current?.measurements ?? [];
      setPending(stored);
      setReportAuthor(current?.author ?? '');
      setAuthors(new Map(stored.map((x) => [x.trackingUid, current?.author ?? ''])));
      setSaved(new Map(stored.filter(isDrawable).map((x) => [x.trackingUid, geometryKey(x)])));
      const images = k.documents[0]?.images ?? [];
      setKeyRefs(new Map(images.map((i) => [imageKey(i), i])));
      setSavedKeys(keySignature(images));
      setReadSaved(true);
      setStatus({ state: 'idle', message: '' });
    }, (error: unknown) => { if (!cancelled) setStatus({ state: 'error', message: describeError(error) }); });
    return () => { cancelled = true; };
  }, [studyUid]);

  const placeStack = useCallback((stack: Stack) => {
    for (const id of stack.imageIds) {
      const ref = refOf(id);
      if (ref) imageIds.current.set(imageKey(ref), id);
    }
    setStacksVersion((v) => v + 1);
  }, [refOf]);

  // Saved measurements become annotations as soon as their image's stack is known.
  useEffect(() => {
    const placed = new Set<string>();
    for (const m of pending) {
      if (!isDrawable(m)) continue;
      const imageId = imageIds.current.get(imageKey(m.image)) ?? imageIds.current.get(imageKey({ sopInstanceUid: m.image.sopInstanceUid }));
      const plane = imageId ? planeOf(metaData.get('imagePlaneModule', imageId) as CornerstoneImagePlane | undefined) : undefined;
      // Cornerstone groups annotations by Frame of Reference: the one of the viewport showing the image.
      const frameOfReference = imageId ? text(loader.metadata.get(imageId) ?? {}, FRAME_OF_REFERENCE_UID) : '';
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
      placed.add(m.trackingUid);
    }
    if (placed.size === 0) return;
    setPending((p) => p.filter((m) => !placed.has(m.trackingUid)));
    engine?.render();
  }, [pending, stacksVersion, engine, loader]);

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

  // The measurements as the report would hold them now: every annotation on this study's images,
  // and the saved ones not drawn yet.
  const inputs = useMemo(() => {
    const byAnnotation = new Map<string, MeasurementInput>();
    for (const a of annotationApi.state.getAllAnnotations()) {
      const imageId = a.metadata?.referencedImageId;
      const image = imageId ? refOf(imageId) : undefined;
      const plane = image ? planeOf(metaData.get('imagePlaneModule', imageId!) as CornerstoneImagePlane | undefined) : undefined;
      const input = image && plane ? toMeasurementInput(a as never, { plane, image }) : undefined;
      if (input && a.annotationUID) byAnnotation.set(a.annotationUID, input);
    }
    const waiting = pending.filter(isDrawable).map(inputOf);
    return { byAnnotation, all: [...byAnnotation.values(), ...waiting] };
    // `measurements` changes with every annotation event: the annotation state is read again then.
  }, [measurements, pending, refOf, stacksVersion]);

  const measurementsDirty = useMemo(() => {
    const now = new Map(inputs.all.map((m) => [m.trackingUid, geometryKey(m)]));
    if (now.size !== saved.size) return true;
    for (const [uid, key] of now) if (saved.get(uid) !== key) return true;
    return false;
  }, [inputs, saved]);
  const keysDirty = keySignature([...keyRefs.values()]) !== savedKeys;
  const dirty = measurementsDirty || keysDirty;

  const canStore = roles !== undefined && roles.some((r) => STORING_ROLES.includes(r));
  const whyNotSave = roles === undefined ? 'Checking your permissions…'
    : !canStore ? `Your role (${roles.join(', ') || 'none'}) may view measurements and key images but not save them: saving needs a radiologist, technologist or administrator account.`
    : !readSaved ? (status.state === 'error' ? 'The saved measurements could not be read (see the message): reload the page before saving.' : 'Reading the saved measurements…')
    : status.state === 'saving' ? 'Saving…'
    : !dirty ? 'Nothing changed since the last save'
    : '';

  const saving = useRef(false);
  const save = useCallback(() => {
    if (!canStore || !readSaved || saving.current || !dirty) return;
    saving.current = true;
    const measurementsNow = inputs.all;
    const keysNow = [...keyRefs.values()];
    setStatus({ state: 'saving', message: 'Saving…' });
    (async () => {
      if (measurementsDirty) {
        await saveMeasurements(studyUid, measurementsNow);
        setSaved(new Map(measurementsNow.map((m) => [m.trackingUid, geometryKey(m)])));
        setAuthors(new Map(measurementsNow.map((m) => [m.trackingUid, username])));
        setReportAuthor(username);
      }
      if (keysDirty) {
        if (keysNow.length === 0) throw new Error('Loire keeps key images as a new selection of at least one image: mark the images that are key now, then save.');
        await saveKeyImages(studyUid, keysNow);
        setSavedKeys(keySignature(keysNow));
      }
    })().then(() => setStatus({ state: 'saved', message: 'Saved' }), (error: unknown) => setStatus({ state: 'error', message: describeError(error) }))
      .finally(() => { saving.current = false; });
  }, [canStore, readSaved, dirty, inputs, keyRefs, measurementsDirty, keysDirty, studyUid, username]);

  const toggleKeyImage = useCallback(() => {
    const ref = activeImageId ? refOf(activeImageId) : undefined;
    if (!ref) return;
    const key = imageKey(ref);
    setKeyRefs((k) => {
      const next = new Map(k);
      if (next.has(key)) next.delete(key);
      else next.set(key, ref);
      return next;
    });
  }, [activeImageId, refOf]);

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
    const author = saved.has(uid) ? authors.get(uid) : undefined;
    return { ...m, ...(author ? { author } : {}), unsaved: input !== undefined && saved.get(uid) !== geometryKey(input) };
  }), [inputs, saved, authors]);

  const textMeasurements = useMemo(() => pending.map((m, i) => ({
    key: m.trackingUid || String(i),
    text: `${describeStored(m)}${isDrawable(m) ? ' (its series is not shown yet)' : ''}`,
    author: authors.get(m.trackingUid) ?? reportAuthor,
  })), [pending, authors, reportAuthor]);

  return {
    decorate, textMeasurements, canStore, whyNotSave, dirty, status, save,
    keyImageIds, keySeries, activeImageId, activeIsKey: keyImageIds.has(activeImageId), toggleKeyImage, placeStack,
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
