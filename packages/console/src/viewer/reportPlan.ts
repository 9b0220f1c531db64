// What Save writes for each study whose measurements are on screen: the study being read and the
// priors beside it each get their own report (a measurement drawn on a prior's image belongs to
// the prior). A report holds the whole current set, so that what the viewer did not change (a
// measurement it cannot draw, one on a series not shown, one left as it was) is kept by reference
// to the report it is in and copied as written, and only new or changed ones are written from the
// viewer's values. Pure: useStudyReports feeds it the annotations and the saved measurements.
import type { KeptMeasurement, MeasurementInput } from '../api';
import { geometryKey } from './srMeasurements';

/** A measurement saved in one of the shown studies' reports. */
export interface SavedMeasurement {
  studyUid: string;
  /** The report it is in and its group there. */
  report: string;
  group: number;
  /** Its geometry (geometryKey) when the viewer can draw it, '' otherwise. */
  geometry: string;
  author: string;
}

/** An annotation on screen as the report would hold it; `input` undefined when a report cannot (a probe, a length in pixels). */
export interface DrawnMeasurement { studyUid: string; trackingUid: string; input: MeasurementInput | undefined }

export interface StudySave {
  studyUid: string;
  /** Saved measurements kept as written, and the key of each in the saved map. */
  keep: KeptMeasurement[];
  keptKeys: string[];
  /** New and changed measurements, written from the viewer's values. */
  measurements: MeasurementInput[];
  /** Something to write: a new, changed or deleted measurement. */
  dirty: boolean;
}

/**
 * One save per study with a saved or a drawn measurement. `saved` is keyed by tracking UID (or,
 * for a group without one, any key not a tracking UID); `placed` holds the keys of the saved
 * measurements drawn as annotations: one of those no longer drawn was deleted.
 */
export function planSaves(saved: ReadonlyMap<string, SavedMeasurement>, drawn: readonly DrawnMeasurement[], placed: ReadonlySet<string>): StudySave[] {
  const plans = new Map<string, StudySave>();
  const planOf = (studyUid: string) => {
    let plan = plans.get(studyUid);
    if (!plan) plans.set(studyUid, plan = { studyUid, keep: [], keptKeys: [], measurements: [], dirty: false });
    return plan;
  };
  const byUid = new Map(drawn.map((d) => [d.trackingUid, d]));
  for (const [key, entry] of saved) {
    const plan = planOf(entry.studyUid);
    const shown = byUid.get(key);
    if (placed.has(key) && !shown) {
      plan.dirty = true; // deleted
      continue;
    }
    // Never drawn, not writable by the viewer, or drawn as it was: kept as written.
    if (!placed.has(key) || !shown?.input || geometryKey(shown.input) === entry.geometry) {
      plan.keep.push({ report: entry.report, group: entry.group });
      plan.keptKeys.push(key);
    } else {
      plan.measurements.push(shown.input);
      plan.dirty = true;
    }
  }
  for (const d of drawn) {
    if (saved.has(d.trackingUid) || !d.input) continue;
    const plan = planOf(d.studyUid);
    plan.measurements.push(d.input);
    plan.dirty = true;
  }
  return [...plans.values()];
}

/**
 * The saved measurements, and those drawn, once `plan` is stored as report `report` (kept groups
 * first, then the written ones, as the server orders them): the written ones are drawn already.
 */
export function afterSave(saved: ReadonlyMap<string, SavedMeasurement>, placed: ReadonlySet<string>, plan: StudySave, report: string, author: string) {
  const next = new Map([...saved].filter(([, entry]) => entry.studyUid !== plan.studyUid));
  plan.keptKeys.forEach((key, i) => next.set(key, { ...saved.get(key)!, report, group: i + 1 }));
  plan.measurements.forEach((m, i) => next.set(m.trackingUid, {
    studyUid: plan.studyUid, report, group: plan.keep.length + i + 1, geometry: geometryKey(m), author,
  }));
  return { saved: next, placed: new Set([...placed, ...plan.measurements.map((m) => m.trackingUid)]) };
}
