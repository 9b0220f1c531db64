// Multiplanar reconstruction of one series: axial, sagittal and coronal views of the volume that
// Cornerstone3D builds from the slices, linked by crosshairs, with maximum intensity projection
// over a slab. Only series that are one regular stack are reconstructed (volume-geometry.ts).
//
// Each view's panel exposes its state in data-* attributes (data-orientation, data-state,
// data-view-plane-normal, data-view-up, data-blend, data-slab): what tests and tooling read.
import { useCallback, useEffect, useRef, useState } from 'react';
import {
  Enums, RenderingEngine, cornerstoneStreamingImageVolumeLoader, eventTarget, setVolumesForViewports, volumeLoader,
  type Types, type VolumeViewport,
} from '@cornerstonejs/core';
import {
  addTool, CrosshairsTool, Enums as ToolEnums, PanTool, StackScrollTool, ToolGroupManager, WindowLevelTool, ZoomTool,
} from '@cornerstonejs/tools';
import { studyHeader } from './api';
import { initCornerstone } from './cornerstone';
import { text, Tag, type DicomJsonDataset } from './dicom-json';
import type { Navigate } from './main';
import { loadSeriesImages } from './series-images';
import './mpr.css';
import { checkVolume } from './volume-geometry';

const ENGINE_ID = 'loire-mpr-engine';
const TOOL_GROUP_ID = 'loire-mpr-tools';
const VOLUME_LOADER = 'cornerstoneStreamingImageVolume';
const VIEWS = [
  { id: 'mpr-axial', orientation: Enums.OrientationAxis.AXIAL, label: 'Axial' },
  { id: 'mpr-sagittal', orientation: Enums.OrientationAxis.SAGITTAL, label: 'Sagittal' },
  { id: 'mpr-coronal', orientation: Enums.OrientationAxis.CORONAL, label: 'Coronal' },
] as const;
/** MIP slab thicknesses offered, in mm. */
const SLABS = [10, 20, 40, 80] as const;

type LeftTool = 'crosshairs' | 'windowLevel' | 'pan' | 'zoom';
const LEFT_TOOLS: { id: LeftTool; label: string; toolName: string; key: string }[] = [
  { id: 'crosshairs', label: 'Crosshairs', toolName: CrosshairsTool.toolName, key: 'c' },
  { id: 'windowLevel', label: 'W/L', toolName: WindowLevelTool.toolName, key: 'w' },
  { id: 'pan', label: 'Pan', toolName: PanTool.toolName, key: 'p' },
  { id: 'zoom', label: 'Zoom', toolName: ZoomTool.toolName, key: 'z' },
];

let loaderRegistered = false;
function registerVolumeLoader(): void {
  if (loaderRegistered) return;
  volumeLoader.registerVolumeLoader(VOLUME_LOADER, cornerstoneStreamingImageVolumeLoader as unknown as Types.VolumeLoaderFn);
  // Tools are added once per page; the stack viewer adds its own.
  for (const tool of [CrosshairsTool, WindowLevelTool, PanTool, ZoomTool, StackScrollTool]) {
    try { addTool(tool); } catch { /* already added by the stack viewer */ }
  }
  loaderRegistered = true;
}

interface ViewState {
  normal: string;
  viewUp: string;
  focal: string;
  slab: number;
  blend: 'composite' | 'mip';
}

const vector = (v: readonly number[]) => v.map((x) => (Math.abs(x) < 5e-5 ? 0 : x).toFixed(4)).join(',');

export function MprView({ studyUid, seriesUid, navigate }: { studyUid: string; seriesUid: string; navigate: Navigate }) {
  const elements = useRef<(HTMLDivElement | null)[]>([]);
  const engineRef = useRef<RenderingEngine | null>(null);
  const [fatal, setFatal] = useState('');
  const [patient, setPatient] = useState<DicomJsonDataset | undefined>();
  const [progress, setProgress] = useState({ loaded: 0, total: 0 });
  const [ready, setReady] = useState(false);
  const [views, setViews] = useState<Record<string, ViewState>>({});
  const [leftTool, setLeftTool] = useState<LeftTool>('crosshairs');
  const [mip, setMip] = useState(0);

  const viewports = useCallback((): VolumeViewport[] => {
    const engine = engineRef.current;
    return engine ? VIEWS.map((v) => engine.getViewport(v.id) as VolumeViewport).filter(Boolean) : [];
  }, []);

  const refresh = useCallback(() => {
    const next: Record<string, ViewState> = {};
    for (const vp of viewports()) {
      const camera = vp.getCamera();
      next[vp.id] = {
        normal: vector(camera.viewPlaneNormal ?? [0, 0, 0]),
        viewUp: vector(camera.viewUp ?? [0, 0, 0]),
        focal: vector(camera.focalPoint ?? [0, 0, 0]),
        slab: vp.getSlabThickness(),
        blend: vp.getBlendMode() === Enums.BlendModes.MAXIMUM_INTENSITY_BLEND ? 'mip' : 'composite',
      };
    }
    setViews(next);
  }, [viewports]);

  useEffect(() => {
    let disposed = false;
    const listeners: (() => void)[] = [];
    const volumeId = `${VOLUME_LOADER}:${seriesUid}`;
    (async () => {
      await initCornerstone();
      registerVolumeLoader();
      const [header, series] = await Promise.all([studyHeader(studyUid), loadSeriesImages(studyUid, seriesUid)]);
      if (disposed) return;
      setPatient(header[0]);
      const check = checkVolume(series.instances);
      if (!check.ok) throw new Error(`This series cannot be shown in MPR: ${check.reason}.`);
      setProgress({ loaded: 0, total: series.imageIds.length });
      const engine = new RenderingEngine(ENGINE_ID);
      engineRef.current = engine;
      engine.setViewports(VIEWS.map((v, i) => ({
        viewportId: v.id, type: Enums.ViewportType.ORTHOGRAPHIC, element: elements.current[i]!,
        defaultOptions: { orientation: v.orientation, background: [0, 0, 0] as Types.Point3 },
      })));
      ToolGroupManager.destroyToolGroup(TOOL_GROUP_ID);
      const group = ToolGroupManager.createToolGroup(TOOL_GROUP_ID)!;
      for (const tool of [CrosshairsTool, WindowLevelTool, PanTool, ZoomTool, StackScrollTool]) group.addTool(tool.toolName);
      for (const v of VIEWS) group.addViewport(v.id, ENGINE_ID);
      group.setToolActive(CrosshairsTool.toolName, { bindings: [{ mouseButton: ToolEnums.MouseBindings.Primary }] });
      group.setToolActive(PanTool.toolName, { bindings: [{ mouseButton: ToolEnums.MouseBindings.Auxiliary }] });
      group.setToolActive(ZoomTool.toolName, { bindings: [{ mouseButton: ToolEnums.MouseBindings.Secondary }] });
      group.setToolActive(StackScrollTool.toolName, { bindings: [{ mouseButton: ToolEnums.MouseBindings.Wheel }] });
      const volume = await volumeLoader.createAndCacheVolume(volumeId, { imageIds: series.imageIds });
      const total = series.imageIds.length;
      const onProgress = (event: Event) => {
        const detail = (event as CustomEvent<{ volumeId: string; framesProcessed: number }>).detail;
        if (detail.volumeId === volumeId && !disposed) setProgress({ loaded: Math.min(total, detail.framesProcessed), total });
      };
      eventTarget.addEventListener(Enums.Events.IMAGE_VOLUME_MODIFIED, onProgress);
      listeners.push(() => eventTarget.removeEventListener(Enums.Events.IMAGE_VOLUME_MODIFIED, onProgress));
      // Called once every slice is in the volume.
      volume.load(() => { if (!disposed) setProgress({ loaded: total, total }); });
      await setVolumesForViewports(engine, [{ volumeId }], VIEWS.map((v) => v.id));
      engine.render();
      for (const [i] of VIEWS.entries()) {
        const element = elements.current[i]!;
        const onCamera = () => refresh();
        element.addEventListener(Enums.Events.CAMERA_MODIFIED, onCamera);
        listeners.push(() => element.removeEventListener(Enums.Events.CAMERA_MODIFIED, onCamera));
      }
      const observer = new ResizeObserver(() => engine.resize(true, true));
      for (const element of elements.current) if (element) observer.observe(element);
      listeners.push(() => observer.disconnect());
      refresh();
      setReady(true);
    })().catch((error: unknown) => { if (!disposed) setFatal(error instanceof Error ? error.message : String(error)); });
    return () => {
      disposed = true;
      for (const remove of listeners) remove();
      ToolGroupManager.destroyToolGroup(TOOL_GROUP_ID);
      engineRef.current?.destroy();
      engineRef.current = null;
    };
  }, [studyUid, seriesUid, refresh]);

  const selectTool = useCallback((tool: LeftTool) => {
    const group = ToolGroupManager.getToolGroup(TOOL_GROUP_ID);
    if (!group) return;
    for (const t of LEFT_TOOLS) {
      if (t.id === tool) continue;
      if (t.id === 'pan') group.setToolActive(t.toolName, { bindings: [{ mouseButton: ToolEnums.MouseBindings.Auxiliary }] });
      else if (t.id === 'zoom') group.setToolActive(t.toolName, { bindings: [{ mouseButton: ToolEnums.MouseBindings.Secondary }] });
      else group.setToolPassive(t.toolName);
    }
    group.setToolActive(LEFT_TOOLS.find((t) => t.id === tool)!.toolName, { bindings: [{ mouseButton: ToolEnums.MouseBindings.Primary }] });
    setLeftTool(tool);
  }, []);

  /** MIP over a slab of `thickness` mm, or back to a thin slice (0). */
  const applyMip = useCallback((thickness: number) => {
    for (const vp of viewports()) {
      if (thickness > 0) {
        vp.setBlendMode(Enums.BlendModes.MAXIMUM_INTENSITY_BLEND);
        vp.setSlabThickness(thickness);
      } else {
        vp.setBlendMode(Enums.BlendModes.COMPOSITE);
        vp.resetSlabThickness();
      }
      vp.render();
    }
    setMip(thickness);
    refresh();
  }, [viewports, refresh]);

  const reset = useCallback(() => {
    for (const vp of viewports()) {
      vp.resetCamera();
      vp.resetProperties?.();
      vp.render();
    }
    applyMip(0);
  }, [viewports, applyMip]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement || event.ctrlKey || event.metaKey || event.altKey) return;
      const tool = LEFT_TOOLS.find((t) => t.key === event.key);
      if (tool) return selectTool(tool.id);
      if (event.key === 'm') return applyMip(mip > 0 ? 0 : SLABS[1]);
      if (event.key === 'r') reset();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [selectTool, applyMip, reset, mip]);

  const state = fatal ? 'error' : ready && progress.total > 0 && progress.loaded >= progress.total ? 'ready' : 'loading';
  return (
    <div className="mpr" data-state={state} data-loaded={progress.loaded} data-slices={progress.total}>
      <div className="toolbar" role="toolbar">
        <button type="button" onClick={() => navigate(`/viewer?StudyInstanceUIDs=${encodeURIComponent(studyUid)}`)}>← Stack viewer</button>
        <span className="separator" />
        {LEFT_TOOLS.map((t) => (
          <button type="button" key={t.id} aria-pressed={leftTool === t.id} data-tool={t.id} title={`${t.label} (${t.key})`} onClick={() => selectTool(t.id)}>{t.label}</button>
        ))}
        <span className="separator" />
        <label className="mpr-slab">MIP
          <select aria-label="MIP slab thickness" data-mip={mip} value={mip} onChange={(e) => applyMip(Number(e.target.value))} title="Maximum intensity projection (m)">
            <option value={0}>off</option>
            {SLABS.map((s) => <option key={s} value={s}>{s} mm</option>)}
          </select>
        </label>
        <button type="button" onClick={reset} title="Reset (r)">Reset</button>
        <span className="spacer" />
        <span className="mpr-title">{patient ? `${text(patient, Tag.PatientName)} · ${text(patient, Tag.StudyDescription)}` : ''}</span>
      </div>
      <div className="mpr-grid">
        {VIEWS.map((v, i) => {
          const s = views[v.id];
          return (
            <div
              key={v.id} className="viewport-panel mpr-panel" data-orientation={v.orientation} data-state={state}
              data-view-plane-normal={s?.normal ?? ''} data-view-up={s?.viewUp ?? ''} data-focal-point={s?.focal ?? ''}
              data-blend={s?.blend ?? ''} data-slab={s?.slab ?? ''}
            >
              <div ref={(el) => { elements.current[i] = el; }} className="viewport-host" onContextMenu={(e) => e.preventDefault()} />
              <div className="overlay"><div className="tl">{v.label}{mip > 0 ? ` · MIP ${mip} mm` : ''}</div></div>
            </div>
          );
        })}
      </div>
      {state === 'loading' && progress.total > 0 && <div className="loading-banner">Loading {progress.loaded}/{progress.total}</div>}
      {fatal && <div className="error banner" role="alert">{fatal}</div>}
    </div>
  );
}
