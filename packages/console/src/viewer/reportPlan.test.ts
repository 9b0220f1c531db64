import { describe, expect, it } from 'vitest';
import type { MeasurementInput } from '../api';
import { afterSave, planSaves, type DrawnMeasurement, type SavedMeasurement } from './reportPlan';
import { geometryKey } from './srMeasurements';

const CURRENT = '1.2.1';
const PRIOR = '1.2.2';

function length(trackingUid: string, x: number, sop = '1.2.3.4'): MeasurementInput {
  return { trackingUid, label: '', kind: 'length', image: { sopInstanceUid: sop }, points: [[x, 10], [x + 50, 10]], values: { length: 25 }, pixelUnit: 'none' };
}

const saved = new Map<string, SavedMeasurement>([
  // Drawn and left as it was.
  ['2.25.1', { studyUid: CURRENT, report: 'R1', group: 1, geometry: geometryKey(length('2.25.1', 0)), author: 'Other^Reader' }],
  // A kind the viewer cannot draw (a volume, a 3D region): never an annotation.
  ['2.25.2', { studyUid: CURRENT, report: 'R1', group: 2, geometry: '', author: 'Other^Reader' }],
  // Drawable, on a series not shown.
  ['2.25.3', { studyUid: CURRENT, report: 'R1', group: 3, geometry: geometryKey(length('2.25.3', 5, '1.2.9')), author: 'Other^Reader' }],
  // Drawn, then moved.
  ['2.25.4', { studyUid: CURRENT, report: 'R1', group: 4, geometry: geometryKey(length('2.25.4', 0)), author: 'Other^Reader' }],
  // On the prior, drawn.
  ['2.25.5', { studyUid: PRIOR, report: 'P1', group: 1, geometry: geometryKey(length('2.25.5', 0, '1.2.8')), author: 'Me' }],
]);
const placed = new Set(['2.25.1', '2.25.4', '2.25.5']);

describe('what Save writes for each study', () => {
  it('keeps by reference what it cannot draw, did not show or did not change; writes what is new or changed', () => {
    const drawn: DrawnMeasurement[] = [
      { studyUid: CURRENT, trackingUid: '2.25.1', input: length('2.25.1', 0) },
      { studyUid: CURRENT, trackingUid: '2.25.4', input: length('2.25.4', 30) },
      { studyUid: CURRENT, trackingUid: '2.25.6', input: length('2.25.6', 90) },
      { studyUid: PRIOR, trackingUid: '2.25.5', input: length('2.25.5', 0, '1.2.8') },
      // A probe: no report holds it.
      { studyUid: PRIOR, trackingUid: '2.25.7', input: undefined },
    ];
    const [current, prior] = planSaves(saved, drawn, placed);
    expect(current).toEqual({
      studyUid: CURRENT, dirty: true,
      keep: [{ report: 'R1', group: 1 }, { report: 'R1', group: 2 }, { report: 'R1', group: 3 }], keptKeys: ['2.25.1', '2.25.2', '2.25.3'],
      measurements: [length('2.25.4', 30), length('2.25.6', 90)],
    });
    // Nothing changed on the prior: no report to write there.
    expect(prior).toEqual({ studyUid: PRIOR, dirty: false, keep: [{ report: 'P1', group: 1 }], keptKeys: ['2.25.5'], measurements: [] });
  });

  it('saves a measurement drawn on a prior into the prior, and a deletion makes a study dirty', () => {
    const drawn: DrawnMeasurement[] = [
      { studyUid: CURRENT, trackingUid: '2.25.1', input: length('2.25.1', 0) },
      { studyUid: PRIOR, trackingUid: '2.25.5', input: length('2.25.5', 0, '1.2.8') },
      { studyUid: PRIOR, trackingUid: '2.25.8', input: length('2.25.8', 40, '1.2.8') },
    ];
    const [current, prior] = planSaves(saved, drawn, placed);
    // 2.25.4 was drawn and is gone: deleted, not kept.
    expect(current!.keptKeys).toEqual(['2.25.1', '2.25.2', '2.25.3']);
    expect(current!.measurements).toEqual([]);
    expect(current!.dirty).toBe(true);
    expect(prior!.measurements).toEqual([length('2.25.8', 40, '1.2.8')]);
    expect(prior!.dirty).toBe(true);
  });

  it('keeps a saved annotation that a report cannot hold as the viewer now has it', () => {
    const [current] = planSaves(saved, [
      { studyUid: CURRENT, trackingUid: '2.25.1', input: undefined },
      { studyUid: CURRENT, trackingUid: '2.25.4', input: length('2.25.4', 0) },
    ], placed);
    expect(current!.keptKeys).toEqual(['2.25.1', '2.25.2', '2.25.3', '2.25.4']);
    expect(current!.dirty).toBe(false);
  });

  it('after a save, refers every measurement of the study to the new report, in the order the server writes them', () => {
    const drawn: DrawnMeasurement[] = [
      { studyUid: CURRENT, trackingUid: '2.25.1', input: length('2.25.1', 0) },
      { studyUid: CURRENT, trackingUid: '2.25.6', input: length('2.25.6', 90) },
      { studyUid: PRIOR, trackingUid: '2.25.5', input: length('2.25.5', 0, '1.2.8') },
    ];
    const [current] = planSaves(saved, drawn, placed);
    const next = afterSave(saved, placed, current!, 'R2', 'Me');
    expect(next.saved.get('2.25.1')).toEqual({ ...saved.get('2.25.1'), report: 'R2', group: 1 });
    expect(next.saved.get('2.25.3')).toEqual({ ...saved.get('2.25.3'), report: 'R2', group: 3 });
    expect(next.saved.get('2.25.6')).toEqual({ studyUid: CURRENT, report: 'R2', group: 4, geometry: geometryKey(length('2.25.6', 90)), author: 'Me' });
    expect(next.saved.has('2.25.4')).toBe(false);
    expect(next.saved.get('2.25.5')).toEqual(saved.get('2.25.5'));
    expect(next.placed.has('2.25.6')).toBe(true);
    // Saved again with nothing changed: nothing to write.
    expect(planSaves(next.saved, drawn, next.placed)[0]!.dirty).toBe(false);
  });
});
