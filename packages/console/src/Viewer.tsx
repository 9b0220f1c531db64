// The viewer: series thumbnails, one Cornerstone3D stack viewport loaded over WADO-RS (wadors:
// image ids built from the series /metadata and fetched from /frames), window/level presets,
// zoom, pan, length measurement, and an overlay of patient/study/series/slice/W-L.
//
// The viewport element exposes its state in data-* attributes (data-state, data-slice,
// data-window-width/center, data-index-to-canvas): what the overlay shows, in a form that the
// acceptance test and other tooling can wait on and read.
import { useCallback, useEffect, useRef, useState } from 'react';
import { Enums, RenderingEngine, eventTarget, imageLoader, utilities, type StackViewport, type Types } from '@cornerstonejs/core';
import { wadors } from '@cornerstonejs/dicom-image-loader';
import {
  Enums as ToolEnums, LengthTool, PanTool, StackScrollTool, ToolGroupManager, WindowLevelTool, ZoomTool,
  annotation as annotationApi,
} from '@cornerstonejs/tools';
import { DICOMWEB, searchSeries, seriesMetadata, seriesThumbnailUrl, studyHeader } from './api';
import { initCornerstone } from './cornerstone';
import { formatDate, numbers, text, Tag, type DicomJsonDataset } from './dicom-json';
import type { Navigate } from './main';
import { CT_PRESETS, type WindowPreset } from './presets';

const ENGINE_ID = 'loire-engine';
const VIEWPORT_ID = 'loire-stack';
const TOOL_GROUP_ID = 'loire-tools';
/** Objects with no pixels (reports, presentation states, key object selections, documents). */
const NON_IMAGE_MODALITIES = new Set(['SR', 'PR', 'KO', 'DOC', 'REG', 'SEG', 'RWV']);

type LeftTool = 'windowLevel' | 'pan' | 'zoom' | 'length';
const LEFT_TOOLS: { id: LeftTool; label: string; toolName: string; key: string }[] = [
  { id: 'windowLevel', label: 'W/L', toolName: WindowLevelTool.toolName, key: 'w' },
  { id: 'pan', label: 'Pan', toolName: PanTool.toolName, key: 'p' },
  { id: 'zoom', label: 'Zoom', toolName: ZoomTool.toolName, key: 'z' },
  { id: 'length', label: 'Length', toolName: LengthTool.toolName, key: 'l' },
];

interface SeriesEntry {
  uid: string;
  number: string;
  modality: string;
  description: string;
  instances: number;
}

interface Progress { loaded: number; total: number; error: string }

interface ViewState {
  slice: number;
  slices: number;
  windowWidth: number;
  windowCenter: number;
  zoom: number;
  indexToCanvas: string;
  position: string;
}

interface Measurement { uid: string; slice: number; value: number; unit: string }

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (error && typeof error === 'object') {
    const e = error as { error?: { status?: number; statusText?: string; message?: string }; message?: string; status?: number };
    if (e.error?.status) return `HTTP ${e.error.status}${e.error.statusText ? ` ${e.error.statusText}` : ''}`;
    if (e.message) return e.message;
    if (e.error?.message) return e.error.message;
  }
  return String(error);
}

export function Viewer({ studyUid, navigate }: { studyUid: string; navigate: Navigate }) {
  const elementRef = useRef<HTMLDivElement>(null);
  const engineRef = useRef<RenderingEngine | null>(null);
  const metadataRef = useRef(new Map<string, DicomJsonDataset>());
  const loadTokenRef = useRef(0);
  const [engineReady, setEngineReady] = useState(false);
  const [fatal, setFatal] = useState('');
  const [patient, setPatient] = useState<DicomJsonDataset | undefined>();
  const [series, setSeries] = useState<SeriesEntry[]>([]);
  const [activeSeries, setActiveSeries] = useState('');
  const [progress, setProgress] = useState<Record<string, Progress>>({});
  const [viewState, setViewState] = useState<ViewState | undefined>();
  const [leftTool, setLeftTool] = useState<LeftTool>('windowLevel');
  const [measurements, setMeasurements] = useState<Measurement[]>([]);
  const [preset, setPreset] = useState('');
  /** Frames drawn so far: lets a watcher wait for the picture that follows a change. */
  const [renders, setRenders] = useState(0);
  const [renderedSlice, setRenderedSlice] = useState(0);

  const viewport = useCallback((): StackViewport | undefined => {
    return engineRef.current?.getViewport(VIEWPORT_ID) as StackViewport | undefined;
  }, []);

  // The overlay and data-* attributes follow the viewport after every change.
  const refresh = useCallback(() => {
    const vp = viewport();
    if (!vp || vp.getImageIds().length === 0) return;
    const { voiRange } = vp.getProperties();
    const wl = voiRange ? utilities.windowLevel.toWindowLevel(voiRange.lower, voiRange.upper) : { windowWidth: 0, windowCenter: 0 };
    let indexToCanvas = '';
    let position = '';
    const data = vp.getImageData();
    if (data) {
      // Pixel (column i, row j) centre in patient space: origin + i·Δc·row direction + j·Δr·column direction.
      const { origin, spacing, direction } = data;
      const toCanvas = (i: number, j: number) => vp.worldToCanvas([0, 1, 2].map((k) =>
        origin[k]! + i * spacing[0] * direction[k]! + j * spacing[1] * direction[3 + k]!) as Types.Point3);
      const o = toCanvas(0, 0);
      const c = toCanvas(1, 0);
      const r = toCanvas(0, 1);
      indexToCanvas = [o[0], o[1], c[0] - o[0], c[1] - o[1], r[0] - o[0], r[1] - o[1]].map((v) => v.toFixed(4)).join(',');
    }
    const imageId = vp.getCurrentImageId();
    const instance = imageId ? metadataRef.current.get(imageId) : undefined;
    if (instance) {
      const ipp = numbers(instance, Tag.ImagePositionPatient);
      const thickness = text(instance, Tag.SliceThickness);
      if (ipp.length === 3) position = `Pos ${ipp[2]!.toFixed(1)} mm${thickness ? `  Thk ${Number(thickness).toFixed(1)} mm` : ''}`;
    }
    setViewState({
      slice: vp.getCurrentImageIdIndex() + 1,
      slices: vp.getImageIds().length,
      windowWidth: Math.round(wl.windowWidth),
      windowCenter: Math.round(wl.windowCenter),
      zoom: vp.getZoom(),
      indexToCanvas,
      position,
    });
  }, [viewport]);

  const refreshMeasurements = useCallback(() => {
    const element = elementRef.current;
    if (!element) return;
    const vp = viewport();
    const ids = vp?.getImageIds() ?? [];
    const found: Measurement[] = [];
    for (const a of annotationApi.state.getAnnotations(LengthTool.toolName, element) ?? []) {
      const stats = Object.values((a.data as { cachedStats?: Record<string, { length?: number; unit?: string }> }).cachedStats ?? {})[0];
      if (stats?.length === undefined || !Number.isFinite(stats.length)) continue;
      const imageId = a.metadata?.referencedImageId ?? '';
      found.push({ uid: a.annotationUID ?? '', slice: ids.indexOf(imageId) + 1, value: stats.length, unit: stats.unit ?? 'mm' });
    }
    setMeasurements(found);
  }, [viewport]);

  // Cornerstone: rendering engine, stack viewport and tool group, created once for this page.
  useEffect(() => {
    const element = elementRef.current!;
    let disposed = false;
    let observer: ResizeObserver | undefined;
    const onChange = () => refresh();
    const onRendered = () => {
      setRenders((n) => n + 1);
      const vp = engineRef.current?.getViewport(VIEWPORT_ID) as StackViewport | undefined;
      if (vp) setRenderedSlice(vp.getCurrentImageIdIndex() + 1);
    };
    const onAnnotation = () => refreshMeasurements();
    initCornerstone().then(() => {
      if (disposed) return;
      const engine = new RenderingEngine(ENGINE_ID);
      engineRef.current = engine;
      engine.enableElement({ viewportId: VIEWPORT_ID, type: Enums.ViewportType.STACK, element, defaultOptions: { background: [0, 0, 0] as Types.Point3 } });
      ToolGroupManager.destroyToolGroup(TOOL_GROUP_ID);
      const group = ToolGroupManager.createToolGroup(TOOL_GROUP_ID)!;
      for (const tool of [WindowLevelTool, PanTool, ZoomTool, StackScrollTool, LengthTool]) group.addTool(tool.toolName);
      group.addViewport(VIEWPORT_ID, ENGINE_ID);
      group.setToolActive(WindowLevelTool.toolName, { bindings: [{ mouseButton: ToolEnums.MouseBindings.Primary }] });
      group.setToolActive(PanTool.toolName, { bindings: [{ mouseButton: ToolEnums.MouseBindings.Auxiliary }] });
      group.setToolActive(ZoomTool.toolName, { bindings: [{ mouseButton: ToolEnums.MouseBindings.Secondary }] });
      group.setToolActive(StackScrollTool.toolName, { bindings: [{ mouseButton: ToolEnums.MouseBindings.Wheel }] });
      group.setToolPassive(LengthTool.toolName);
      for (const event of [Enums.Events.STACK_NEW_IMAGE, Enums.Events.VOI_MODIFIED, Enums.Events.CAMERA_MODIFIED, Enums.Events.IMAGE_RENDERED]) {
        element.addEventListener(event, onChange);
      }
      element.addEventListener(Enums.Events.IMAGE_RENDERED, onRendered);
      for (const event of [ToolEnums.Events.ANNOTATION_COMPLETED, ToolEnums.Events.ANNOTATION_MODIFIED, ToolEnums.Events.ANNOTATION_REMOVED]) {
        eventTarget.addEventListener(event, onAnnotation);
      }
      observer = new ResizeObserver(() => engine.resize(true, true));
      observer.observe(element);
      setEngineReady(true);
    }, (error: unknown) => setFatal(`The image display could not start (${describe(error)}). This browser may lack WebGL or WebAssembly.`));
    return () => {
      disposed = true;
      observer?.disconnect();
      for (const event of [ToolEnums.Events.ANNOTATION_COMPLETED, ToolEnums.Events.ANNOTATION_MODIFIED, ToolEnums.Events.ANNOTATION_REMOVED]) {
        eventTarget.removeEventListener(event, onAnnotation);
      }
      ToolGroupManager.destroyToolGroup(TOOL_GROUP_ID);
      engineRef.current?.destroy();
      engineRef.current = null;
    };
  }, [refresh, refreshMeasurements]);

  // The study: its header and series (QIDO-RS), then the first image series in the viewport.
  useEffect(() => {
    if (!studyUid) {
      setFatal('No study given: open a study from the study list, or use /viewer?StudyInstanceUIDs=<Study Instance UID>.');
      return;
    }
    let cancelled = false;
    (async () => {
      const header = await studyHeader(studyUid);
      if (header.length === 0) throw new Error(`Study ${studyUid} is not in Loire (or you may not see it).`);
      return [header, await searchSeries(studyUid)] as const;
    })().then(([header, found]) => {
      if (cancelled) return;
      setPatient(header[0]);
      const entries = found.map((s) => ({
        uid: text(s, Tag.SeriesInstanceUID),
        number: text(s, Tag.SeriesNumber),
        modality: text(s, Tag.Modality),
        description: text(s, Tag.SeriesDescription),
        instances: Number(text(s, Tag.NumberOfSeriesRelatedInstances)) || 0,
      })).sort((a, b) => (Number(a.number) || 0) - (Number(b.number) || 0));
      setSeries(entries);
      const first = entries.find((s) => !NON_IMAGE_MODALITIES.has(s.modality)) ?? entries[0];
      if (first) setActiveSeries(first.uid);
    }, (error: Error) => { if (!cancelled) setFatal(error.message); });
    return () => { cancelled = true; };
  }, [studyUid]);

  // Loads the active series into the viewport, then every slice into the cache (progress shown).
  useEffect(() => {
    const vp = engineReady ? viewport() : undefined;
    if (!vp || !activeSeries) return;
    const token = ++loadTokenRef.current;
    const current = () => token === loadTokenRef.current;
    const report = (update: Partial<Progress>) =>
      setProgress((p) => ({ ...p, [activeSeries]: { ...(p[activeSeries] ?? { loaded: 0, total: 0, error: '' }), ...update } }));
    report({ loaded: 0, total: 0, error: '' });
    (async () => {
      let instances: DicomJsonDataset[];
      try {
        instances = await seriesMetadata(studyUid, activeSeries);
      } catch (error) {
        if (current()) report({ error: describe(error) });
        return;
      }
      const base = `wadors:${window.location.origin}${DICOMWEB}/studies/${encodeURIComponent(studyUid)}/series/${encodeURIComponent(activeSeries)}/instances/`;
      const images: { imageId: string; instance: number; frame: number }[] = [];
      for (const instance of instances) {
        if (!instance['00280010']) continue; // no Rows: not an image (report, document)
        const sop = text(instance, Tag.SOPInstanceUID);
        const frames = Math.max(1, Number(text(instance, Tag.NumberOfFrames)) || 1);
        for (let frame = 1; frame <= frames; frame++) {
          const imageId = `${base}${encodeURIComponent(sop)}/frames/${frame}`;
          // Multi-frame: the loader derives each frame's metadata from frame 1's entry.
          if (frame === 1) wadors.metaDataManager.add(imageId, instance as never);
          metadataRef.current.set(imageId, instance);
          images.push({ imageId, instance: Number(text(instance, Tag.InstanceNumber)) || 0, frame });
        }
      }
      if (!current()) return;
      if (images.length === 0) {
        report({ error: 'this series holds no images (a report or document): nothing to display' });
        return;
      }
      // Slices in Instance Number order (PS3.3 C.7.6.1.1.1), frames in frame order.
      images.sort((a, b) => a.instance - b.instance || a.frame - b.frame);
      const ids = images.map((i) => i.imageId);
      report({ total: ids.length });
      setPreset('');
      try {
        await vp.setStack(ids, 0);
      } catch (error) {
        if (current()) report({ error: `slice 1 could not be displayed: ${describe(error)}` });
        return;
      }
      vp.render();
      refresh();
      refreshMeasurements();
      let loaded = 0;
      let failure = '';
      await Promise.all(ids.map((id, index) =>
        imageLoader.loadAndCacheImage(id).then(() => {
          loaded++;
        }, (error: unknown) => {
          failure ||= `slice ${index + 1} could not be loaded: ${describe(error)}`;
        }).finally(() => {
          if (current()) report({ loaded, error: failure });
        })));
    })();
  }, [engineReady, activeSeries, studyUid, viewport, refresh, refreshMeasurements]);

  const selectTool = useCallback((tool: LeftTool) => {
    const group = ToolGroupManager.getToolGroup(TOOL_GROUP_ID);
    if (!group) return;
    for (const t of LEFT_TOOLS) {
      if (t.id === tool) continue;
      if (t.id === 'length') group.setToolPassive(t.toolName);
      else if (t.id === 'pan') group.setToolActive(t.toolName, { bindings: [{ mouseButton: ToolEnums.MouseBindings.Auxiliary }] });
      else if (t.id === 'zoom') group.setToolActive(t.toolName, { bindings: [{ mouseButton: ToolEnums.MouseBindings.Secondary }] });
      else group.setToolPassive(t.toolName);
    }
    const chosen = LEFT_TOOLS.find((t) => t.id === tool)!;
    group.setToolActive(chosen.toolName, { bindings: [{ mouseButton: ToolEnums.MouseBindings.Primary }] });
    setLeftTool(tool);
  }, []);

  const applyPreset = useCallback((p: WindowPreset) => {
    const vp = viewport();
    if (!vp) return;
    vp.setProperties({ voiRange: utilities.windowLevel.toLowHighRange(p.width, p.center) });
    vp.render();
    setPreset(p.id);
  }, [viewport]);

  const reset = useCallback(() => {
    const vp = viewport();
    if (!vp) return;
    vp.resetCamera();
    vp.resetProperties();
    vp.render();
    setPreset('');
  }, [viewport]);

  const scrollBy = useCallback((delta: number) => {
    const vp = viewport();
    if (!vp) return;
    const count = vp.getImageIds().length;
    if (count === 0) return;
    const next = Math.min(count - 1, Math.max(0, vp.getCurrentImageIdIndex() + delta));
    if (next !== vp.getCurrentImageIdIndex()) void vp.setImageIdIndex(next);
  }, [viewport]);

  // Keyboard: arrows scroll, Page Up/Down by 10, Home/End; tools and presets by key.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement || event.ctrlKey || event.metaKey || event.altKey) return;
      const count = viewport()?.getImageIds().length ?? 0;
      const moves: Record<string, number> = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1, PageDown: 10, PageUp: -10, Home: -count, End: count };
      if (event.key in moves) {
        event.preventDefault();
        scrollBy(moves[event.key]!);
        return;
      }
      const tool = LEFT_TOOLS.find((t) => t.key === event.key);
      if (tool) return selectTool(tool.id);
      const p = CT_PRESETS.find((x) => x.key === event.key);
      if (p) return applyPreset(p);
      if (event.key === 'r') reset();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [viewport, scrollBy, selectTool, applyPreset, reset]);

  const active = progress[activeSeries];
  const activeEntry = series.find((s) => s.uid === activeSeries);
  const state = fatal || active?.error ? 'error' : active && active.total > 0 && active.loaded === active.total && viewState ? 'ready' : 'loading';
  const instance = viewState ? metadataRef.current.get(viewport()?.getCurrentImageId() ?? '') : undefined;
  const p = patient;

  return (
    <div className="viewer">
      <aside className="series-panel" aria-label="Series">
        <button type="button" className="back" onClick={() => navigate('/')}>← Study list</button>
        {series.map((s) => {
          const pr = progress[s.uid];
          return (
            <button type="button" key={s.uid} className={`series${s.uid === activeSeries ? ' active' : ''}`} data-series-uid={s.uid} onClick={() => setActiveSeries(s.uid)}>
              {NON_IMAGE_MODALITIES.has(s.modality)
                ? <div className="thumb-placeholder">{s.modality}</div>
                : <img src={seriesThumbnailUrl(studyUid, s.uid)} alt="" width={96} height={96} />}
              <span className="series-label">#{s.number} {s.modality} · {s.instances} im.</span>
              <span className="series-label">{s.description}</span>
              {pr && pr.total > 0 && pr.loaded < pr.total && !pr.error && (
                <progress max={pr.total} value={pr.loaded} aria-label={`Loading series ${s.number}`} />
              )}
              {pr?.error && <span className="error">{pr.error}</span>}
            </button>
          );
        })}
      </aside>
      <section className="viewport-area">
        <div className="toolbar" role="toolbar">
          {LEFT_TOOLS.map((t) => (
            <button type="button" key={t.id} aria-pressed={leftTool === t.id} data-tool={t.id} title={`${t.label} (${t.key})`} onClick={() => selectTool(t.id)}>{t.label}</button>
          ))}
          <span className="separator" />
          {CT_PRESETS.map((x) => (
            <button type="button" key={x.id} aria-pressed={preset === x.id} data-preset={x.id} title={`${x.label}: W ${x.width} L ${x.center} (${x.key})`} onClick={() => applyPreset(x)}>{x.label}</button>
          ))}
          <span className="separator" />
          <button type="button" onClick={reset} title="Reset (r)">Reset</button>
        </div>
        <div
          className="viewport-panel"
          data-state={state}
          data-slice={viewState?.slice ?? ''}
          data-slices={viewState?.slices ?? ''}
          data-window-width={viewState?.windowWidth ?? ''}
          data-window-center={viewState?.windowCenter ?? ''}
          data-index-to-canvas={viewState?.indexToCanvas ?? ''}
          data-loaded={active?.loaded ?? 0}
          data-renders={renders}
          data-rendered-slice={renderedSlice}
        >
          <div ref={elementRef} className="viewport-host" onContextMenu={(e) => e.preventDefault()} />
          {viewState && viewState.slices > 1 && (
            <input
              type="range" className="stack-scrollbar" aria-label="Slice" min={1} max={viewState.slices} value={viewState.slice}
              onChange={(e) => scrollBy(Number(e.target.value) - viewState.slice)}
            />
          )}
          {viewState && (
            <div className="overlay" aria-live="off">
              <div className="tl">
                <div data-overlay="patient">{p ? text(p, Tag.PatientName) : ''}</div>
                <div>{p ? `ID ${text(p, Tag.PatientID)}` : ''}</div>
                <div>{p ? `${formatDate(text(p, Tag.PatientBirthDate))} ${text(p, Tag.PatientSex)}` : ''}</div>
              </div>
              <div className="tr">
                <div>{p ? text(p, Tag.StudyDescription) : ''}</div>
                <div>{p ? formatDate(text(p, Tag.StudyDate)) : ''}</div>
                <div data-overlay="series">Se {activeEntry?.number} {activeEntry?.description}</div>
              </div>
              <div className="bl">
                <div data-overlay="slice">Im {viewState.slice}/{viewState.slices}</div>
                <div>{viewState.position}</div>
                <div>{instance ? text(instance, Tag.Modality) : ''}</div>
              </div>
              <div className="br">
                <div data-overlay="window">W {viewState.windowWidth} L {viewState.windowCenter}</div>
                <div>Zoom {viewState.zoom.toFixed(2)}</div>
              </div>
            </div>
          )}
          {state === 'loading' && active && active.total > 0 && (
            <div className="loading-banner">Loading {active.loaded}/{active.total}</div>
          )}
          {(fatal || active?.error) && <div className="error banner" role="alert">{fatal || `Series ${activeEntry?.number ?? ''}: ${active?.error}`}</div>}
        </div>
        <div className="measurements" aria-label="Measurements">
          {measurements.length === 0 ? <span className="hint">Length tool (l): drag on the image to measure.</span> : measurements.map((m, i) => (
            <span key={m.uid} className="measurement" data-length-mm={m.unit === 'mm' ? m.value.toFixed(3) : ''}>
              Length {i + 1} (Im {m.slice}): {m.value.toFixed(1)} {m.unit}
            </span>
          ))}
        </div>
      </section>
    </div>
  );
}
