// One cell of the layout: a Cornerstone3D stack viewport showing one series, its overlay, its
// slice scrollbar and its cine loop. The panel publishes what the viewport shows in data-*
// attributes (data-state, data-slice, data-window-width/center, data-index-to-canvas,
// data-rotation, data-flip-h/v, data-invert, data-cine, data-fps…) for tests and tooling.
import { useCallback, useEffect, useRef, useState, type DragEvent } from 'react';
import { Enums, type RenderingEngine, type StackViewport, type Types } from '@cornerstonejs/core';
import { ToolGroupManager, utilities as toolUtilities } from '@cornerstonejs/tools';
import { VIEWER_ENGINE_ID } from '../cornerstone';
import type { DicomJsonDataset } from '../dicom-json';
import { Overlay } from './Overlay';
import { describeError, type Progress, type SeriesEntry, type SeriesLoader, type Stack } from './series';
import { TOOL_GROUP_ID } from './tools';
import { readViewState, type ViewState } from './viewState';
import { ensureVisibleWindow } from './voi';

export const ENGINE_ID = VIEWER_ENGINE_ID;
export const SERIES_DRAG_TYPE = 'application/x-loire-series';

export function viewportId(index: number): string {
  return `loire-viewport-${index}`;
}

export interface Cine { playing: boolean; fps: number }

interface CellProps {
  index: number;
  engine: RenderingEngine | undefined;
  loader: SeriesLoader;
  series: SeriesEntry | undefined;
  progress: Progress | undefined;
  patient: DicomJsonDataset | undefined;
  active: boolean;
  /** The page cannot show anything (no study, no WebGL): every cell says so. */
  fatal: string;
  cine: Cine;
  onSelect: (index: number) => void;
  onDropSeries: (index: number, seriesUid: string) => void;
  onStack: (index: number, stack: Stack) => void;
  /** The study of the series shown (a prior's, when it is not the study being read). */
  studyUid?: string;
  /** The synchronised group the cell belongs to ('' for none), and whether it is linked by hand. */
  syncGroup?: string;
  linked?: boolean;
  /** Offers the manual link (when another viewport shows a series). */
  onToggleLink?: (index: number) => void;
  /** Image ids marked as key images: the cell says so over such an image. */
  keyImageIds?: ReadonlySet<string>;
}

export function ViewportCell({ index, engine, loader, series, progress, patient, active, fatal, cine, onSelect, onDropSeries, onStack, studyUid, syncGroup, linked, onToggleLink, keyImageIds }: CellProps) {
  const elementRef = useRef<HTMLDivElement>(null);
  const [enabled, setEnabled] = useState(false);
  const [view, setView] = useState<ViewState | undefined>();
  const [loadError, setLoadError] = useState('');
  const [dropping, setDropping] = useState(false);
  /** Frames drawn so far: lets a watcher wait for the picture that follows a change. */
  const [renders, setRenders] = useState(0);
  const [renderedSlice, setRenderedSlice] = useState(0);
  const id = viewportId(index);

  const viewport = useCallback(() => engine?.getViewport(id) as StackViewport | undefined, [engine, id]);

  const refresh = useCallback(() => {
    const vp = viewport();
    if (!vp) return;
    setView(readViewState(vp, loader.metadata.get(vp.getCurrentImageId() ?? '')));
  }, [viewport, loader]);

  // The viewport lives as long as the cell: enabled on the shared engine and tool group.
  useEffect(() => {
    const element = elementRef.current;
    if (!engine || !element) return;
    engine.enableElement({ viewportId: id, type: Enums.ViewportType.STACK, element, defaultOptions: { background: [0, 0, 0] as Types.Point3 } });
    ToolGroupManager.getToolGroup(TOOL_GROUP_ID)?.addViewport(id, ENGINE_ID);
    const onChange = () => refresh();
    const onRendered = () => {
      setRenders((n) => n + 1);
      const vp = engine.getViewport(id) as StackViewport | undefined;
      if (vp) setRenderedSlice(vp.getCurrentImageIdIndex() + 1);
    };
    const events = [Enums.Events.STACK_NEW_IMAGE, Enums.Events.VOI_MODIFIED, Enums.Events.CAMERA_MODIFIED, Enums.Events.IMAGE_RENDERED];
    for (const event of events) element.addEventListener(event, onChange);
    element.addEventListener(Enums.Events.IMAGE_RENDERED, onRendered);
    // The viewport gets whole CSS pixels: with a fractional size (a grid cell's share of the
    // screen) the canvas's device pixels and its CSS box differ by a fraction of a pixel, and
    // mouse positions would map to the image slightly off.
    const panel = element.parentElement!;
    const observer = new ResizeObserver(() => {
      const box = panel.getBoundingClientRect();
      const style = getComputedStyle(panel);
      const borders = (a: string, b: string) => (parseFloat(style.getPropertyValue(a)) || 0) + (parseFloat(style.getPropertyValue(b)) || 0);
      element.style.width = `${Math.max(0, Math.floor(box.width - borders('border-left-width', 'border-right-width')))}px`;
      element.style.height = `${Math.max(0, Math.floor(box.height - borders('border-top-width', 'border-bottom-width')))}px`;
      engine.resize(true, true);
    });
    observer.observe(panel);
    setEnabled(true);
    return () => {
      setEnabled(false);
      observer.disconnect();
      for (const event of events) element.removeEventListener(event, onChange);
      element.removeEventListener(Enums.Events.IMAGE_RENDERED, onRendered);
      toolUtilities.cine.stopClip(element, { stopDynamicCine: true, viewportId: id });
      ToolGroupManager.getToolGroup(TOOL_GROUP_ID)?.removeViewports(ENGINE_ID, id);
      // The engine may already be gone when the whole viewer closes.
      if (!engine.hasBeenDestroyed && engine.getViewport(id)) engine.disableElement(id);
    };
  }, [engine, id, refresh]);

  // The series of the cell: its stack, and every frame into the cache (shared with other cells).
  // The page's callback is read when the stack is in: a new callback must not load the stack again
  // (that would reset the window and the slice the page has just set).
  const seriesUid = series?.uid ?? '';
  const onStackRef = useRef(onStack);
  onStackRef.current = onStack;
  useEffect(() => {
    const vp = enabled ? viewport() : undefined;
    setLoadError('');
    setView(undefined);
    if (!vp || !seriesUid) return;
    let current = true;
    loader.stack(seriesUid).then(async (stack) => {
      if (!current) return;
      // Every frame is asked for now, the first one shown first: the others arrive while it is
      // decoded and drawn rather than after.
      loader.prefetch(seriesUid, stack.imageIds);
      await vp.setStack(stack.imageIds, 0);
      if (!current) return;
      ensureVisibleWindow(vp);
      vp.render();
      refresh();
      onStackRef.current(index, stack);
    }).catch((error: unknown) => {
      if (current) setLoadError(describeError(error));
    });
    return () => { current = false; };
  }, [enabled, seriesUid, loader, viewport, refresh, index]);

  // Cine: Cornerstone's clip player steps through the stack at the chosen rate.
  const playing = cine.playing && view !== undefined && view.slices > 1;
  useEffect(() => {
    const element = elementRef.current;
    if (!element || !playing) return;
    toolUtilities.cine.playClip(element, { framesPerSecond: cine.fps, loop: true });
    return () => toolUtilities.cine.stopClip(element, { stopDynamicCine: true, viewportId: id });
  }, [playing, cine.fps, id]);

  const onDragOver = (event: DragEvent) => {
    if (!event.dataTransfer.types.includes(SERIES_DRAG_TYPE)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
    setDropping(true);
  };
  const onDrop = (event: DragEvent) => {
    const uid = event.dataTransfer.getData(SERIES_DRAG_TYPE);
    setDropping(false);
    if (!uid) return;
    event.preventDefault();
    onDropSeries(index, uid);
  };

  const error = fatal || loadError || progress?.error || '';
  const state = error ? 'error'
    : !series ? 'empty'
    : progress && progress.total > 0 && progress.loaded === progress.total && view ? 'ready' : 'loading';
  const currentImageId = view ? viewport()?.getCurrentImageId() ?? '' : '';
  const instance = view ? loader.metadata.get(currentImageId) : undefined;
  const keyImage = Boolean(currentImageId && keyImageIds?.has(currentImageId));

  return (
    <div
      className={`viewport-panel${active ? ' active' : ''}${dropping ? ' drop-target' : ''}`}
      data-viewport-index={index}
      data-active={active}
      data-series-uid={seriesUid}
      data-study-uid={seriesUid ? studyUid ?? '' : ''}
      data-sync-group={syncGroup ?? ''}
      data-linked={Boolean(linked)}
      data-state={state}
      data-slice={view?.slice ?? ''}
      data-slices={view?.slices ?? ''}
      data-window-width={view?.windowWidth ?? ''}
      data-window-center={view?.windowCenter ?? ''}
      data-index-to-canvas={view?.indexToCanvas ?? ''}
      data-rotation={view?.rotation ?? ''}
      data-flip-h={view?.flipH ?? ''}
      data-flip-v={view?.flipV ?? ''}
      data-invert={view?.invert ?? ''}
      data-cine={playing ? 'playing' : 'paused'}
      data-fps={cine.fps}
      data-loaded={progress?.loaded ?? 0}
      data-renders={renders}
      data-rendered-slice={renderedSlice}
      data-key-image={keyImage}
      onPointerDownCapture={() => onSelect(index)}
      onDragOver={onDragOver}
      onDragLeave={() => setDropping(false)}
      onDrop={onDrop}
    >
      <div ref={elementRef} className="viewport-host" onContextMenu={(e) => e.preventDefault()} />
      {view && view.slices > 1 && (
        <input
          type="range" className="stack-scrollbar" aria-label={`Slice, viewport ${index + 1}`} min={1} max={view.slices} value={view.slice}
          onChange={(e) => { const vp = viewport(); if (vp) void vp.setImageIdIndex(Number(e.target.value) - 1); }}
        />
      )}
      {view && <Overlay view={view} patient={patient} series={series} instance={instance} />}
      {view && onToggleLink && (
        <button
          type="button" className="cell-link" data-action="link" aria-pressed={Boolean(linked)}
          title={syncGroup && !linked ? 'Scrolls with the viewports of the same frame of reference; link to keep the current offset instead' : 'Link: scroll with the other linked viewports, keeping the current offset'}
          style={{ position: 'absolute', bottom: 4, left: '50%', transform: 'translateX(-50%)', zIndex: 2 }}
          onClick={() => onToggleLink(index)}
        >
          {linked ? '🔗 Linked' : syncGroup ? '⇅ Synced' : 'Link'}
        </button>
      )}
      {keyImage && <div className="key-image-marker" data-overlay="key-image">Key image</div>}
      {state === 'empty' && !fatal && <div className="empty-cell">Drag a series here, or select this viewport and click a series</div>}
      {state === 'loading' && progress && progress.total > 0 && (
        <div className="loading-banner">Loading {progress.loaded}/{progress.total}</div>
      )}
      {error && <div className="error banner" role="alert">{fatal || `Series ${series?.number ?? ''}: ${error}`}</div>}
    </div>
  );
}
