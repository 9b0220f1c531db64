// From a hanging protocol's result to the viewer's grid, and from the viewer's grid back to a
// protocol of the reader's own. Pure: see useHangingProtocol for when they are used.
import { comparablePriors, orientationOf, type HangingProtocol, type StudyInfo, type ViewportRule } from '../hanging-protocols';
import { cellCount, LAYOUTS } from './layouts';

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
