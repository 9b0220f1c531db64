// Synchronised viewports, with Cornerstone3D's synchronizers: cells whose series share a Frame of
// Reference UID scroll together (the image slice synchronizer moves the other viewport to the
// image nearest the same patient position); cells the reader links by hand scroll together
// keeping the offset in patient position they had when linked (a translation registered for the
// pair); window/level and zoom/pan follow too when asked. Every group is rebuilt when it changes.
import { Enums, metaData, utilities, type RenderingEngine, type StackViewport } from '@cornerstonejs/core';
import { synchronizers, SynchronizerManager, type Synchronizer } from '@cornerstonejs/tools';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { syncGroups, type SyncCell } from './syncGroups';
import { MAX_CELLS } from './layouts';
import { ENGINE_ID, viewportId } from './ViewportCell';

/** After the driven viewport's last new image, when the others are brought to it (ms). */
const CATCH_UP_MS = [300, 1200];
/** The most cells a layout has (3x3). */

interface ImagePlane { imagePositionPatient?: number[]; imageOrientationPatient?: number[]; frameOfReferenceUID?: string }

/** The normal of an image plane, rounded so that nearly parallel planes compare equal. */
function normalOf(p: ImagePlane | undefined): string {
  const o = p?.imageOrientationPatient;
  if (!o || o.length !== 6) return '';
  const [rx, ry, rz, cx, cy, cz] = o as [number, number, number, number, number, number];
  return [ry * cz - rz * cy, rz * cx - rx * cz, rx * cy - ry * cx].map((v) => Math.round(v * 10) / 10 || 0).join(',');
}

function plane(imageId: string | undefined): ImagePlane | undefined {
  return imageId ? (metaData.get('imagePlaneModule', imageId) as ImagePlane | undefined) : undefined;
}

/** The registration Cornerstone's slice synchronizer applies from `source` to `target`: a translation. */
function register(target: string, source: string, translation: number[] | undefined): void {
  const matrix = translation ? new Float32Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, translation[0]!, translation[1]!, translation[2]!, 1]) : undefined;
  utilities.spatialRegistrationMetadataProvider.add([target, source], matrix as never);
}

/**
 * The viewport the reader drives (the last one scrolled with the mouse or clicked, or the active
 * one for keys) is never a target of the slice synchronizers: otherwise, while it moves fast, the
 * others' late answers would pull it back to where it was a moment ago.
 */
function drivenIndex(event: Event): number | undefined {
  const from = event.type === 'keydown' ? document.querySelector('.viewport-panel[data-active="true"]') : (event.target as Element | null)?.closest?.('.viewport-panel');
  const index = Number((from as HTMLElement | null)?.dataset.viewportIndex);
  return Number.isInteger(index) ? index : undefined;
}

function protectDriver(sliceSyncs: readonly Synchronizer[], driver: number | undefined): void {
  for (const sync of sliceSyncs) {
    for (const { viewportId: id } of sync.getTargetViewports()) sync.setOptions(id, { disabled: driver !== undefined && id === viewportId(driver) });
  }
}

/** Synchronizer.fireEvent, typed private in 5.14 but the one way to run its callback again for a source. */
function refire(sync: Synchronizer, source: { renderingEngineId: string; viewportId: string }, event: Event): void {
  (sync as unknown as { fireEvent: (source: unknown, event: Event) => void }).fireEvent(source, event);
}

function seriesUidOfImageId(imageId: string | undefined): string {
  const match = /\/series\/([^/]+)\//.exec(imageId ?? '');
  return match ? decodeURIComponent(match[1]!) : '';
}

export interface SyncOptions { voi: boolean; zoomPan: boolean }

export interface ViewportSync {
  /** Each cell's group, '' when it scrolls alone. */
  groupOf: (index: number) => string;
  linked: (index: number) => boolean;
  toggleLink: (index: number) => void;
  options: SyncOptions;
  setOptions: (options: SyncOptions) => void;
  /** A cell's viewport has a new stack. */
  stackLoaded: (index: number, imageIds: readonly string[]) => void;
}

/** Synchronisation of the cells on screen (`shown`: the series uid of each, '' for none). */
export function useViewportSync(engine: RenderingEngine | undefined, shown: readonly string[]): ViewportSync {
  const [stacks, setStacks] = useState<Record<number, SyncCell>>({});
  /** Linked cells, with the series they showed when linked: another series ends the link. */
  const [links, setLinks] = useState<Record<number, string>>({});
  const [options, setOptions] = useState<SyncOptions>({ voi: false, zoomPan: false });
  const created = useRef<string[]>([]);
  const sliceSyncs = useRef<Synchronizer[]>([]);
  const driver = useRef<number | undefined>(undefined);

  useEffect(() => {
    const onInput = (event: Event) => {
      const index = drivenIndex(event);
      if (index === undefined || index === driver.current) return;
      driver.current = index;
      protectDriver(sliceSyncs.current, index);
    };
    const kinds = ['pointerdown', 'wheel', 'keydown'];
    for (const kind of kinds) document.addEventListener(kind, onInput, { capture: true, passive: true });
    return () => { for (const kind of kinds) document.removeEventListener(kind, onInput, { capture: true }); };
  }, []);

  // A cell emptied, gone with the layout or showing another series loads its stack again before it syncs:
  // until then it must not join a group, or its first image would move the others.
  const shownKey = shown.join('|');
  useEffect(() => {
    setStacks((s) => {
      const kept = Object.entries(s).filter(([index, cell]) => shown[Number(index)] === cell.seriesUid);
      return kept.length === Object.keys(s).length ? s : Object.fromEntries(kept);
    });
    // `shownKey` stands for `shown`.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shownKey]);

  const cells = useMemo(() => shown.flatMap((uid, index) => {
    const s = stacks[index];
    return uid && s && s.seriesUid === uid ? [s] : [];
  }), [shown, stacks]);
  const linkedSet = useMemo(() => new Set(cells.filter((c) => links[c.index] === c.seriesUid).map((c) => c.index)), [cells, links]);
  const groups = useMemo(() => syncGroups(cells, linkedSet), [cells, linkedSet]);
  const key = JSON.stringify([...groups.entries()].sort((a, b) => a[0] - b[0]));

  const stackLoaded = useCallback((index: number, imageIds: readonly string[]) => {
    const first = imageIds[0];
    const p = plane(first);
    const cell = { index, seriesUid: seriesUidOfImageId(first), frameOfReference: p?.frameOfReferenceUID ?? '', normal: normalOf(p) };
    setStacks((s) => ({ ...s, [index]: cell }));
  }, []);

  const viewport = useCallback((index: number) => engine?.getViewport(viewportId(index)) as StackViewport | undefined, [engine]);

  // Linking registers, for every pair of linked cells, the offset between the images they show now.
  const toggleLink = useCallback((index: number) => {
    const uid = shown[index] ?? '';
    const next = { ...links };
    if (next[index]) delete next[index];
    else if (uid) next[index] = uid;
    const members = Object.keys(next).map(Number);
    for (const a of [...members, index]) {
      for (const b of [...members, index]) {
        if (a === b) continue;
        const pa = plane(viewport(a)?.getCurrentImageId())?.imagePositionPatient;
        const pb = plane(viewport(b)?.getCurrentImageId())?.imagePositionPatient;
        const both = next[a] && next[b] && pa && pb;
        register(viewportId(a), viewportId(b), both ? [0, 1, 2].map((k) => pa[k]! - pb[k]!) : undefined);
      }
    }
    setLinks(next);
  }, [links, shown, viewport]);

  // The synchronizers of the groups on screen, made again whenever a group or an option changes.
  useEffect(() => {
    if (!engine) return;
    const members = new Map<string, number[]>();
    for (const [index, group] of groups) members.set(group, [...(members.get(group) ?? []), index]);
    // A registration outlives its link only to mislead: cells no longer linked follow their frames of reference.
    for (let a = 0; a < MAX_CELLS; a++) {
      for (let b = 0; b < MAX_CELLS; b++) if (a !== b && !(linkedSet.has(a) && linkedSet.has(b))) register(viewportId(a), viewportId(b), undefined);
    }
    const ids: string[] = [];
    sliceSyncs.current = [];
    for (const [group, indexes] of members) {
      const slice = synchronizers.createImageSliceSynchronizer(`loire-slice-${group}`);
      sliceSyncs.current.push(slice);
      const made = [slice];
      if (options.voi) made.push(synchronizers.createVOISynchronizer(`loire-voi-${group}`, { syncInvertState: true, syncColormap: false }));
      if (options.zoomPan) made.push(synchronizers.createZoomPanSynchronizer(`loire-zoompan-${group}`));
      for (const sync of made) {
        for (const index of indexes) sync.add({ renderingEngineId: ENGINE_ID, viewportId: viewportId(index) });
        ids.push(sync.id);
      }
    }
    created.current = ids;
    protectDriver(sliceSyncs.current, driver.current);
    // A synchronizer skips the events that come while it is still moving the others: once the
    // driven viewport rests, the others are brought to its last image.
    const timers: number[] = [];
    const catchUp = (event: Event) => {
      const index = drivenIndex(event) ?? Number((event.currentTarget as HTMLElement).closest<HTMLElement>('.viewport-panel')?.dataset.viewportIndex);
      if (index !== driver.current) return;
      for (const t of timers.splice(0)) window.clearTimeout(t);
      const source = { renderingEngineId: ENGINE_ID, viewportId: viewportId(index) };
      for (const delay of CATCH_UP_MS) {
        timers.push(window.setTimeout(() => {
          for (const sync of sliceSyncs.current) if (sync.hasSourceViewport(ENGINE_ID, source.viewportId)) refire(sync, source, event);
        }, delay));
      }
    };
    const elements = [...groups.keys()].flatMap((index) => { const e = viewport(index)?.element; return e ? [e] : []; });
    for (const e of elements) e.addEventListener(Enums.Events.STACK_NEW_IMAGE, catchUp);
    return () => {
      for (const t of timers) window.clearTimeout(t);
      for (const e of elements) e.removeEventListener(Enums.Events.STACK_NEW_IMAGE, catchUp);
      for (const id of created.current) SynchronizerManager.destroySynchronizer(id);
      created.current = [];
      sliceSyncs.current = [];
    };
    // `key` stands for `groups`.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [engine, key, options.voi, options.zoomPan]);

  return {
    groupOf: (index) => groups.get(index) ?? '',
    linked: (index) => linkedSet.has(index),
    toggleLink,
    options,
    setOptions,
    stackLoaded,
  };
}
