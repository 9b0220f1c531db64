// The viewer: series thumbnails, a grid of Cornerstone3D stack viewports (1×1 to 4×4) loaded
// over WADO-RS, one of them active (tools, presets, keys and thumbnail clicks act on it), the
// toolbar, and the measurements panel. Each part lives in ./viewer; this module holds the page's
// state (layout, which series each viewport shows, cine, the mouse bindings and keys from the
// reader's profile) and the rendering engine they share.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { RenderingEngine, eventTarget, utilities, type StackViewport } from '@cornerstonejs/core';
import { Enums as ToolEnums, ToolGroupManager, annotation as annotationApi } from '@cornerstonejs/tools';
import { searchSeries, studyHeader, studyInstancesForHanging } from './api';
import { initCornerstone, viewerEngine } from './cornerstone';
import { studyOfImageId } from './series-images';
import type { DicomJsonDataset } from './dicom-json';
import type { Navigate } from './main';
import { AUTO_PRESET, type WindowPreset } from './presets';
import { autoWindowOf } from './viewer/autoWindow';
import {
  CINE_COMMAND, DEFAULT_BINDINGS, IMAGE_ACTIONS, KEY_IMAGE_COMMAND, keyOfCommand, keyOfPress, LEFT_TOOLS, resolveBindings, resolveKeymap, resolvePresets,
  resolveToolbar, SCROLL_COMMANDS, viewerCommands, type Bindings, type ImageAction, type LeftTool,
} from './viewer/commands';
import { cellCount, layoutById, MAX_CELLS } from './viewer/layouts';
import { readMeasurements, type Measurement } from './viewer/measurements';
import { MeasurementsPanel } from './viewer/MeasurementsPanel';
import { DocumentPanel } from './viewer/DocumentPanel';
import { SeriesPanel } from './viewer/SeriesPanel';
import { useStudyReports } from './viewer/useStudyReports';
import { describeError, SeriesLoader, seriesEntries, type Progress, type SeriesEntry, type Stack } from './viewer/series';
import { Toolbar } from './viewer/Toolbar';
import { applyBindings, createToolGroup, TOOL_GROUP_ID } from './viewer/tools';
import { ViewerSettings } from './viewer/ViewerSettings';
import { presetOfWindow, withPreset } from './viewer/userPresets';
import { useViewerProfile } from './viewer/useViewerProfile';
import { ENGINE_ID, ViewportCell, viewportId, type Cine } from './viewer/ViewportCell';
import { priorOfSeries, studyLoaders } from './viewer/priors';
import { PriorsPanel } from './viewer/PriorsPanel';
import { ReadingBar } from './viewer/ReadingBar';
import { useViewportSync } from './viewer/sync';
import { useHangingProtocol, type Hanging } from './viewer/useHangingProtocol';

/** Frame rate of a stack that does not say its own. */
const DEFAULT_FPS = 10;
const ANNOTATION_EVENTS = [ToolEnums.Events.ANNOTATION_ADDED, ToolEnums.Events.ANNOTATION_COMPLETED, ToolEnums.Events.ANNOTATION_MODIFIED, ToolEnums.Events.ANNOTATION_REMOVED];

interface CellCine { playing: boolean; fps: number | undefined; stackFps: number | undefined; frames: number }

export function Viewer({ studyUid, navigate }: { studyUid: string; navigate: Navigate }) {
  const [engine, setEngine] = useState<RenderingEngine | undefined>();
  const [fatal, setFatal] = useState('');
  const [patient, setPatient] = useState<DicomJsonDataset | undefined>();
  const [series, setSeries] = useState<SeriesEntry[]>([]);
  /** The study's instances (QIDO-RS), read once: series kinds, hanging protocols and key image marks use them. */
  const [instances, setInstances] = useState<DicomJsonDataset[]>([]);
  const [progress, setProgress] = useState<Record<string, Progress>>({});
  const [layoutId, setLayoutId] = useState('1x1');
  /** The series each viewport shows, by viewport index ('' for none). */
  const [cells, setCells] = useState<string[]>(() => Array<string>(MAX_CELLS).fill(''));
  const [active, setActive] = useState(0);
  const { profile, update: updateProfile } = useViewerProfile();
  /** The tool each mouse button drives, and the toolbar's tools: the profile's, changed in Settings. */
  const [bindings, setBindings] = useState<Bindings>(DEFAULT_BINDINGS);
  const [toolbar, setToolbar] = useState<LeftTool[]>(() => LEFT_TOOLS.map((t) => t.id));
  const [settingsMessage, setSettingsMessage] = useState('');
  /** The layout chosen in Settings for studies no hanging protocol decides; saved with the rest. */
  const [defaultLayout, setDefaultLayout] = useState<string | undefined>();
  useEffect(() => {
    if (!profile) return;
    setBindings(resolveBindings(profile.mouseBindings));
    setToolbar(resolveToolbar(profile.toolbar).map((t) => t.id));
    setDefaultLayout(profile.layout);
  }, [profile]);
  const presetList = useMemo(() => resolvePresets(profile?.windowPresets), [profile]);
  const keymap = useMemo(() => resolveKeymap(viewerCommands(presetList), profile?.shortcuts), [presetList, profile]);
  const [presets, setPresets] = useState<Record<number, string>>({});
  const [cines, setCines] = useState<Record<number, CellCine>>({});
  const [measurements, setMeasurements] = useState<Measurement[]>([]);
  /** A series without images (report, PDF) shown beside the viewports. */
  const [documentSeries, setDocumentSeries] = useState('');

  const onProgress = useCallback((uid: string, update: Partial<Progress>) =>
    setProgress((p) => ({ ...p, [uid]: { ...(p[uid] ?? { loaded: 0, total: 0, error: '' }), ...update } })), []);
  const loader = useMemo(() => new SeriesLoader(studyUid, onProgress), [studyUid, onProgress]);
  /** A prior's series load through a loader of their own study. */
  const loaderFor = useMemo(() => studyLoaders(loader, onProgress), [loader, onProgress]);
  const layout = layoutById(layoutId);
  const count = cellCount(layout);

  const viewportAt = useCallback((index: number) => engine?.getViewport(viewportId(index)) as StackViewport | undefined, [engine]);

  // Cornerstone: one rendering engine and one tool group for the page; the cells add their viewports.
  useEffect(() => {
    let disposed = false;
    // Slices are numbered within each image's own study's stacks (a prior's too).
    const onAnnotation = () => setMeasurements(readMeasurements({ get: (id) => loaderFor(studyOfImageId(id)).positions.get(id) }));
    initCornerstone().then(() => {
      if (disposed) return;
      createToolGroup();
      for (const event of ANNOTATION_EVENTS) eventTarget.addEventListener(event, onAnnotation);
      setEngine(viewerEngine());
    }, (error: unknown) => setFatal(`The image display could not start (${describeError(error)}). This browser may lack WebGL or WebAssembly.`));
    return () => {
      disposed = true;
      for (const event of ANNOTATION_EVENTS) eventTarget.removeEventListener(event, onAnnotation);
      // Measurements belong to the study on screen.
      annotationApi.state.removeAllAnnotations();
      ToolGroupManager.destroyToolGroup(TOOL_GROUP_ID);
      // The engine stays for the next study (its cells disable their own viewports).
      setEngine(undefined);
    };
  }, [loader, loaderFor]);

  // The study: its header and series (QIDO-RS), then the first image series in the first viewport.
  useEffect(() => {
    if (!studyUid) {
      setFatal('No study given: open a study from the study list, or use /viewer?StudyInstanceUIDs=<Study Instance UID>.');
      return;
    }
    let cancelled = false;
    (async () => {
      // The three queries together: a study link opens in one round trip, not three. A study
      // that is not there is said so, whatever the other two answered.
      const [header, found, instances] = await Promise.allSettled([studyHeader(studyUid), searchSeries(studyUid), studyInstancesForHanging(studyUid)]);
      if (header.status === 'rejected') throw header.reason;
      if (header.value.length === 0) throw new Error(`Study ${studyUid} is not in Loire (or you may not see it).`);
      if (found.status === 'rejected') throw found.reason;
      if (instances.status === 'rejected') throw instances.reason;
      return [header.value, found.value, instances.value] as const;
    })().then(([header, found, instances]) => {
      if (cancelled) return;
      setPatient(header[0]);
      setInstances(instances);
      const entries = seriesEntries(found, instances);
      setSeries(entries);
      const first = entries.find((s) => !s.document);
      if (first) setCells((c) => c.map((uid, i) => (i === 0 && !uid ? first.uid : uid)));
      else if (entries[0]) setDocumentSeries(entries[0].uid); // a study of reports or documents only
    }, (error: Error) => { if (!cancelled) setFatal(error.message); });
    return () => { cancelled = true; };
  }, [studyUid]);

  /** The window preset the hanging protocol gives each cell, applied whenever the cell's stack is (re)loaded. */
  const hangingPresets = useRef<Record<number, string>>({});
  const showSeries = useCallback((index: number, uid: string) => {
    // The reader's own choice: the protocol's window for that cell no longer applies.
    delete hangingPresets.current[index];
    setCells((c) => c.map((u, i) => (i === index ? uid : u)));
    setPresets((p) => ({ ...p, [index]: '' }));
    setCines((c) => ({ ...c, [index]: { playing: false, fps: undefined, stackFps: undefined, frames: 0 } }));
  }, []);

  // A larger layout fills its new viewports with the image series not shown yet, in order.
  const chooseLayout = useCallback((id: string) => {
    const next = cellCount(layoutById(id));
    setLayoutId(id);
    setActive((a) => (a < next ? a : 0));
    // A viewport that goes away stops its cine: it must not start again if the layout grows back.
    setCines((c) => Object.fromEntries(Object.entries(c).map(([i, v]) => [i, Number(i) < next ? v : { ...v, playing: false }])));
    setCells((c) => {
      const shown = new Set(c.slice(0, next).filter(Boolean));
      const waiting = series.filter((s) => !s.document && !shown.has(s.uid));
      return c.map((uid, i) => (i < next && !uid ? (waiting.shift()?.uid ?? '') : uid));
    });
  }, [series]);

  // Hanging protocols: the protocol's layout, series and window presets (applied once each stack is in).
  /** Counts the protocols applied: a cell whose stack was in before its protocol gets its preset then. */
  const [hangingRound, setHangingRound] = useState(0);
  const applyHanging = useCallback((h: Hanging) => {
    const next = Array.from({ length: MAX_CELLS }, (_, i) => h.cells[i] ?? '');
    // A cell that keeps its series keeps its stack, cine and window.
    const kept = (i: string) => next[Number(i)] !== '' && next[Number(i)] === cells[Number(i)];
    hangingPresets.current = Object.fromEntries(h.presets.map((p, i) => [i, p]));
    setHangingRound((n) => n + 1);
    setLayoutId(h.layoutId);
    setActive(0);
    setCells(next);
    setPresets((x) => Object.fromEntries(Object.entries(x).filter(([i]) => kept(i))));
    setCines((c) => Object.fromEntries(Object.entries(c).filter(([i]) => kept(i))));
  }, [cells]);
  const hanging = useHangingProtocol({ studyUid, patient, series, instances, profile, updateProfile, apply: applyHanging });
  const sync = useViewportSync(engine, cells.slice(0, count));
  const { windowPreset } = hanging;
  const priorSeries = useMemo(() => priorOfSeries(hanging.priors ?? []), [hanging.priors]);

  const reports = useStudyReports({ studyUid, loaderFor, engine, measurements, activeViewportId: viewportId(active), activeSeriesUid: cells[active] ?? '', instances });
  const { placeStack } = reports;

  /** The protocol round whose preset each cell has received. */
  const presetRound = useRef<Record<number, number>>({});
  /** The protocol's window preset for cell `index`, once its viewport shows its stack. */
  const applyHangingPreset = useCallback((index: number) => {
    const id = hangingPresets.current[index];
    const preset = windowPreset(id);
    const vp = engine?.getViewport(viewportId(index)) as StackViewport | undefined;
    if (!vp || vp.getImageIds().length === 0) return;
    const range = id === AUTO_PRESET.id ? autoWindowOf(vp) : preset && utilities.windowLevel.toLowHighRange(preset.width, preset.center);
    if (!range) return;
    // Kept: loading the stack again (a new cell size, a re-render) resets the window to the
    // image's own, and the protocol's must come back.
    vp.setProperties({ voiRange: range });
    vp.render();
    presetRound.current[index] = hangingRound;
    setPresets((x) => ({ ...x, [index]: id! }));
  }, [windowPreset, engine, hangingRound]);
  // The protocol may come after a cell's stack is in (its rules wait for the priors): the cells
  // that already show the series the protocol gave them take their preset now.
  useEffect(() => {
    for (const i of Object.keys(hangingPresets.current)) {
      const index = Number(i);
      const vp = engine?.getViewport(viewportId(index)) as StackViewport | undefined;
      const uid = cells[index];
      // Once per protocol: afterwards the window is the reader's.
      if (presetRound.current[index] === hangingRound) continue;
      if (uid && vp?.getCurrentImageId()?.includes(`/series/${encodeURIComponent(uid)}/`)) applyHangingPreset(index);
    }
  }, [hangingRound, cells, engine, applyHangingPreset]);

  const onStack = useCallback((index: number, stack: Stack) => {
    placeStack(stack);
    sync.stackLoaded(index, stack.imageIds);
    applyHangingPreset(index);
    setCines((c) => ({ ...c, [index]: { playing: false, fps: c[index]?.fps, stackFps: stack.frameRate, frames: stack.imageIds.length } }));
  }, [placeStack, sync.stackLoaded, applyHangingPreset]);

  const cineOf = (index: number): Cine & { available: boolean } => {
    const c = cines[index];
    return { playing: Boolean(c?.playing), fps: c?.fps ?? c?.stackFps ?? DEFAULT_FPS, available: (c?.frames ?? 0) > 1 };
  };

  const toggleCine = useCallback(() => {
    setCines((c) => {
      const current = c[active];
      if (!current || current.frames < 2) return c;
      return { ...c, [active]: { ...current, playing: !current.playing } };
    });
  }, [active]);

  const setFps = useCallback((fps: number) => {
    setCines((c) => ({ ...c, [active]: { ...(c[active] ?? { playing: false, stackFps: undefined, frames: 0 }), fps } }));
  }, [active]);

  // The bindings go to the tool group whenever they change (and once it exists).
  useEffect(() => {
    const group = engine ? ToolGroupManager.getToolGroup(TOOL_GROUP_ID) : undefined;
    if (group) applyBindings(group, bindings);
  }, [engine, bindings]);

  /** The toolbar (or its key) chooses the left button's tool; the other buttons keep theirs. */
  const selectTool = useCallback((tool: LeftTool) => setBindings((b) => ({ ...b, primary: tool })), []);

  const saveSettings = useCallback(() => {
    setSettingsMessage('Saving…');
    updateProfile((p) => ({ ...p, toolbar, mouseBindings: bindings, ...(defaultLayout ? { layout: defaultLayout } : {}) })).then(
      () => setSettingsMessage('Saved'),
      (error: unknown) => setSettingsMessage(`Not saved: ${describeError(error)}`),
    );
  }, [updateProfile, toolbar, bindings, defaultLayout]);

  /** The active viewport's window, as a preset of the reader's profile (saved at once). */
  const addPreset = useCallback(async (label: string, key: string): Promise<string> => {
    const { voiRange } = viewportAt(active)?.getProperties() ?? {};
    if (!voiRange) return 'No window to save: show an image in the active viewport first';
    const { windowWidth, windowCenter } = utilities.windowLevel.toWindowLevel(voiRange.lower, voiRange.upper);
    const preset = presetOfWindow(label, key, { width: windowWidth, center: windowCenter });
    if (!preset) return 'Give the preset a name';
    try {
      await updateProfile((p) => ({ ...p, windowPresets: withPreset(p.windowPresets, preset) }));
      return `Saved "${preset.label}" (${preset.width}/${preset.center})`;
    } catch (error) {
      return `Not saved: ${describeError(error)}`;
    }
  }, [viewportAt, active, updateProfile]);

  const removePreset = useCallback(async (id: string): Promise<string> => {
    try {
      await updateProfile((p) => ({ ...p, windowPresets: (p.windowPresets ?? []).filter((x) => x.id !== id) }));
      return 'Removed';
    } catch (error) {
      return `Not removed: ${describeError(error)}`;
    }
  }, [updateProfile]);

  const applyPreset = useCallback((p: WindowPreset) => {
    const vp = viewportAt(active);
    if (!vp || vp.getImageIds().length === 0) return;
    vp.setProperties({ voiRange: utilities.windowLevel.toLowHighRange(p.width, p.center) });
    vp.render();
    setPresets((x) => ({ ...x, [active]: p.id }));
  }, [viewportAt, active]);

  /** MR auto: the window from the values of the image the active viewport shows (see autoWindow.ts). */
  const applyAutoWindow = useCallback(() => {
    const vp = viewportAt(active);
    const range = vp && vp.getImageIds().length > 0 ? autoWindowOf(vp) : undefined;
    if (!vp || !range) return;
    vp.setProperties({ voiRange: range });
    vp.render();
    setPresets((x) => ({ ...x, [active]: AUTO_PRESET.id }));
  }, [viewportAt, active]);

  // Orientation and grey scale through the viewport's own camera and properties.
  const imageAction = useCallback((action: ImageAction) => {
    const vp = viewportAt(active);
    if (!vp || vp.getImageIds().length === 0) return;
    const camera = vp.getCamera();
    switch (action) {
      case 'rotate':
        vp.setViewPresentation({ rotation: ((vp.getViewPresentation().rotation ?? 0) + 90) % 360 });
        break;
      case 'flipH':
        vp.setCamera({ flipHorizontal: !camera.flipHorizontal });
        break;
      case 'flipV':
        vp.setCamera({ flipVertical: !camera.flipVertical });
        break;
      case 'invert':
        vp.setProperties({ invert: !vp.getProperties().invert });
        break;
      case 'reset':
        vp.resetProperties();
        vp.setViewPresentation({ rotation: 0, flipHorizontal: false, flipVertical: false });
        vp.resetCamera();
        setPresets((x) => ({ ...x, [active]: '' }));
        break;
    }
    vp.render();
  }, [viewportAt, active]);

  const scrollBy = useCallback((delta: number) => {
    const vp = viewportAt(active);
    if (!vp) return;
    const total = vp.getImageIds().length;
    if (total === 0) return;
    const next = Math.min(total - 1, Math.max(0, vp.getCurrentImageIdIndex() + delta));
    if (next !== vp.getCurrentImageIdIndex()) void vp.setImageIdIndex(next);
  }, [viewportAt, active]);

  const clearMeasurements = useCallback(() => {
    annotationApi.state.removeAllAnnotations();
    setMeasurements([]);
    engine?.render();
  }, [engine]);

  // Keyboard: every command by its key, the profile's shortcuts over the defaults (commands.ts).
  const { toggleKeyImage } = reports;
  useEffect(() => {
    const run = (command: string) => {
      const total = viewportAt(active)?.getImageIds().length ?? 0;
      const tool = LEFT_TOOLS.find((t) => t.id === command);
      const scroll = SCROLL_COMMANDS[command];
      const preset = presetList.find((p) => p.id === command);
      const action = IMAGE_ACTIONS.find((a) => a.id === command);
      if (tool) selectTool(tool.id);
      else if (scroll) scrollBy(Math.max(-total, Math.min(total, scroll.slices)));
      else if (command === CINE_COMMAND) toggleCine();
      else if (command === KEY_IMAGE_COMMAND) toggleKeyImage();
      else if (command === AUTO_PRESET.id) applyAutoWindow();
      else if (preset) applyPreset(preset);
      else if (action) imageAction(action.id);
    };
    const onKey = (event: KeyboardEvent) => {
      const target = event.target;
      if (target instanceof HTMLInputElement || target instanceof HTMLSelectElement || target instanceof HTMLTextAreaElement) return;
      // Space and Enter on a button (or a menu's summary) press that button.
      if (target instanceof HTMLElement && target.closest('button, summary') && (event.key === ' ' || event.key === 'Enter')) return;
      const command = keymap.get(keyOfPress(event));
      if (!command) return;
      event.preventDefault();
      run(command);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [viewportAt, active, keymap, presetList, scrollBy, selectTool, applyPreset, applyAutoWindow, imageAction, toggleCine, toggleKeyImage]);

  const byUid = new Map(series.map((s) => [s.uid, s]));

  // Series without images open beside the viewports as documents, never in a viewport.
  const chooseSeries = useCallback((uid: string) => {
    if (byUid.get(uid)?.document || progress[uid]?.documentOnly) setDocumentSeries(uid);
    else showSeries(active, uid);
  }, [byUid, progress, showSeries, active]);
  useEffect(() => {
    const documents = Object.entries(progress).filter(([, p]) => p.documentOnly).map(([uid]) => uid);
    if (documents.length === 0 || !cells.some((uid) => documents.includes(uid))) return;
    setDocumentSeries(cells.find((uid) => documents.includes(uid))!);
    setCells((c) => c.map((uid) => (documents.includes(uid) ? '' : uid)));
  }, [progress, cells]);
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => { if (event.key === 'Escape') setDocumentSeries(''); };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return (
    <div className="viewer">
      <SeriesPanel
        studyUid={studyUid} series={series} activeSeries={cells[active] ?? ''} progress={progress}
        onBack={() => navigate('/')} onChoose={chooseSeries} keySeries={reports.keySeries}
      >
        <PriorsPanel
          priors={hanging.priors} error={hanging.priorsError} ready={hanging.ready} activeSeries={cells[active] ?? ''} progress={progress}
          onChoose={(uid) => showSeries(active, uid)} onCompare={() => hanging.compare(cells[active] ?? '')}
        />
      </SeriesPanel>
      <section className="viewport-area">
        <Toolbar
          tools={resolveToolbar(toolbar)} leftTool={bindings.primary ?? ''} onTool={selectTool}
          presets={presetList} preset={presets[active] ?? ''} onPreset={applyPreset} onAutoWindow={applyAutoWindow} onAction={imageAction}
          keymap={keymap} layout={layoutId} onLayout={chooseLayout} cine={cineOf(active)} onCine={toggleCine} onFps={setFps}
        >
          <ViewerSettings
            bindings={bindings} onBindings={setBindings} toolbar={toolbar} onToolbar={setToolbar}
            defaultLayout={defaultLayout} onDefaultLayout={setDefaultLayout}
            onSave={saveSettings} saveMessage={settingsMessage} canSave={profile !== undefined}
            presets={profile?.windowPresets ?? []} onAddPreset={addPreset} onRemovePreset={removePreset}
          />
        </Toolbar>
        <ReadingBar
          protocol={hanging.protocol} protocols={hanging.protocols} onProtocol={hanging.choose} saveMessage={hanging.saveMessage}
          onSave={() => hanging.save(layoutId, cells.slice(0, count))} canSave={hanging.ready} sync={sync.options} onSync={sync.setOptions}
        />
        <div className="viewport-grid" data-layout={layoutId} style={{ gridTemplateRows: `repeat(${layout.rows}, minmax(0, 1fr))`, gridTemplateColumns: `repeat(${layout.columns}, minmax(0, 1fr))` }}>
          {Array.from({ length: count }, (_, index) => {
            const uid = cells[index] ?? '';
            const prior = priorSeries.get(uid);
            return (
              <ViewportCell
                key={index} index={index} engine={engine} loader={loaderFor(prior?.prior.uid)} series={byUid.get(uid) ?? prior?.series} progress={uid ? progress[uid] : undefined}
                patient={prior?.prior.dataset ?? patient} active={index === active} fatal={fatal} cine={cineOf(index)}
                onSelect={setActive} onDropSeries={showSeries} onStack={onStack} keyImageIds={reports.keyImageIds}
                studyUid={prior?.prior.uid ?? studyUid} syncGroup={sync.groupOf(index)} linked={sync.linked(index)}
                onToggleLink={count > 1 ? sync.toggleLink : undefined}
              />
            );
          })}
        </div>
        <MeasurementsPanel measurements={reports.decorate(measurements)} onClear={clearMeasurements} reports={reports} keyImageKey={keyOfCommand(keymap, KEY_IMAGE_COMMAND)} />
      </section>
      {documentSeries && (
        <DocumentPanel
          key={documentSeries} studyUid={studyUid} seriesUid={documentSeries} description={byUid.get(documentSeries)?.description ?? ''}
          onClose={() => setDocumentSeries('')}
        />
      )}
    </div>
  );
}
