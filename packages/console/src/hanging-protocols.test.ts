import { describe, expect, it } from 'vitest';
import {
  assignViewports, chooseProtocol, comparablePriors, DEFAULT_HANGING_PROTOCOLS, hangStudy, orientationOf, seriesMatches,
  type HangingProtocol, type SeriesInfo, type StudyInfo,
} from './hanging-protocols';

const AXIAL = [1, 0, 0, 0, 1, 0];
const SAGITTAL = [0, 1, 0, 0, 0, -1];
const CORONAL = [1, 0, 0, 0, 0, -1];

let serial = 0;
function series(modality: string, more: Partial<SeriesInfo> = {}): SeriesInfo {
  serial += 1;
  return { uid: `1.2.3.${serial}`, modality, seriesNumber: serial, ...more };
}
function study(uid: string, date: string, list: SeriesInfo[], description = ''): StudyInfo {
  return { uid, date, time: '120000', description, series: list };
}

function mammo(uid: string, date: string): StudyInfo {
  // Listed out of display order on purpose: the protocol places them by view and side.
  return study(uid, date, [
    series('MG', { uid: `${uid}.lmlo`, viewPosition: 'MLO', laterality: 'L' }),
    series('MG', { uid: `${uid}.rcc`, viewPosition: 'CC', laterality: 'R' }),
    series('MG', { uid: `${uid}.rmlo`, viewPosition: 'MLO', laterality: 'R' }),
    series('MG', { uid: `${uid}.lcc`, viewPosition: 'CC', laterality: 'L' }),
  ]);
}

describe('orientation of a series', () => {
  it('names the plane its normal is closest to, tolerating obliquity', () => {
    expect(orientationOf(AXIAL)).toBe('axial');
    expect(orientationOf(SAGITTAL)).toBe('sagittal');
    expect(orientationOf(CORONAL)).toBe('coronal');
    // 20° tilted axial (gantry tilt): still axial.
    const t = (20 * Math.PI) / 180;
    expect(orientationOf([1, 0, 0, 0, Math.cos(t), Math.sin(t)])).toBe('axial');
    expect(orientationOf(undefined)).toBeUndefined();
    expect(orientationOf([1, 0, 0])).toBeUndefined();
  });
});

describe('series rules', () => {
  it('match modality, description (regex, any case), plane, view and side together', () => {
    const t2 = series('MR', { description: 'Sag T2 TSE', orientation: SAGITTAL });
    expect(seriesMatches(t2, { modality: ['MR'], description: 't2' })).toBe(true);
    expect(seriesMatches(t2, { modality: ['CT'] })).toBe(false);
    expect(seriesMatches(t2, { description: '^ax' })).toBe(false);
    expect(seriesMatches(t2, { orientation: 'sagittal' })).toBe(true);
    expect(seriesMatches(t2, { orientation: 'axial' })).toBe(false);
    const rcc = series('MG', { viewPosition: 'CC', laterality: 'R' });
    expect(seriesMatches(rcc, { viewPosition: ['CC'], laterality: 'R' })).toBe(true);
    expect(seriesMatches(rcc, { viewPosition: ['CC'], laterality: 'L' })).toBe(false);
    expect(seriesMatches(rcc, { viewPosition: ['MLO'] })).toBe(false);
    // A broken pattern (hand-edited profile) matches nothing instead of throwing.
    expect(seriesMatches(t2, { description: '(' })).toBe(false);
  });
});

describe('priors', () => {
  it('are earlier studies sharing a modality, newest first', () => {
    const today = study('today', '20240510', [series('CT')]);
    const older = study('older', '20200101', [series('CT')]);
    const newer = study('newer', '20230101', [series('CT'), series('SR')]);
    const mr = study('mr', '20230601', [series('MR')]);
    const later = study('later', '20240601', [series('CT')]);
    expect(comparablePriors(today, [older, mr, later, newer, today]).map((s) => s.uid)).toEqual(['newer', 'older']);
  });
});

describe('choosing a protocol', () => {
  it('takes the default of the modality', () => {
    const byModality = (m: string) => chooseProtocol(study('s', '20240101', [series(m)]), []).id;
    expect(byModality('CT')).toBe('default-ct');
    expect(byModality('MR')).toBe('default-mr');
    expect(byModality('CR')).toBe('default-cr-dx');
    expect(byModality('DX')).toBe('default-cr-dx');
    expect(byModality('MG')).toBe('default-mg');
    expect(byModality('US')).toBe('default-us');
    expect(byModality('XA')).toBe('default');
  });

  it('compares with the prior when one of the same modality exists', () => {
    const today = study('today', '20240510', [series('CT', { orientation: AXIAL })]);
    const prior = study('prior', '20230510', [series('CT', { orientation: AXIAL })]);
    const mrPrior = study('mr', '20230510', [series('MR')]);
    expect(chooseProtocol(today, [prior]).id).toBe('default-compare');
    expect(chooseProtocol(today, [mrPrior]).id).toBe('default-ct');
    expect(chooseProtocol(mammo('m2', '20240101'), [mammo('m1', '20220101')]).id).toBe('default-mg-priors');
  });

  it('tries the user\'s own protocols first, by priority, and on study description and body part', () => {
    const mine: HangingProtocol[] = [
      { id: 'low', name: 'Any CT', priority: -5, match: { modality: ['CT'] }, layout: '1x1', viewports: [{}] },
      { id: 'chest', name: 'Chest CT', priority: 3, match: { modality: ['CT'], studyDescription: 'thorax|chest' }, layout: '1x3', viewports: [{}] },
      { id: 'knee', name: 'Knee MR', match: { bodyPart: ['KNEE'] }, layout: '2x2', viewports: [{}] },
    ];
    const chest = study('c', '20240101', [series('CT')], 'CT THORAX AVEC INJECTION');
    const head = study('h', '20240101', [series('CT')], 'CT CEREBRAL');
    const knee = study('k', '20240101', [series('MR', { bodyPart: 'KNEE' })]);
    expect(chooseProtocol(chest, [], mine).id).toBe('chest');
    // The user's low-priority protocol still beats the defaults: it is theirs.
    expect(chooseProtocol(head, [], mine).id).toBe('low');
    expect(chooseProtocol(knee, [], mine).id).toBe('knee');
    expect(chooseProtocol(study('u', '20240101', [series('US')]), [], mine).id).toBe('default-us');
  });
});

describe('hanging series in viewports', () => {
  it('hangs a mammogram RCC, LCC / RMLO, LMLO, and with a prior beside each view', () => {
    const current = mammo('now', '20240301');
    const alone = hangStudy(current, []);
    expect(alone.protocol.id).toBe('default-mg');
    expect([alone.rows, alone.columns]).toEqual([2, 2]);
    expect(alone.viewports.map((v) => v.seriesUid)).toEqual(['now.rcc', 'now.lcc', 'now.rmlo', 'now.lmlo']);
    const withPriors = hangStudy(current, [mammo('old', '20200301'), mammo('last', '20220301')]);
    expect(withPriors.protocol.id).toBe('default-mg-priors');
    expect([withPriors.rows, withPriors.columns]).toEqual([2, 4]);
    expect(withPriors.viewports.map((v) => v.seriesUid)).toEqual([
      'now.rcc', 'now.lcc', 'last.rcc', 'last.lcc',
      'now.rmlo', 'now.lmlo', 'last.rmlo', 'last.lmlo',
    ]);
    expect(withPriors.viewports[2]!.studyUid).toBe('last');
  });

  it('puts the prior\'s series most like the current one beside it', () => {
    const today = study('today', '20240510', [series('CT', { description: 'Topogram', orientation: CORONAL }), series('CT', { description: 'Thorax 1mm', orientation: AXIAL })]);
    const prior = study('prior', '20230510', [
      series('CT', { uid: 'p.scout', description: 'Topogram', orientation: CORONAL }),
      series('CT', { uid: 'p.sag', description: 'Sag MPR', orientation: SAGITTAL }),
      series('CT', { uid: 'p.ax', description: 'Thorax 1mm', orientation: AXIAL }),
    ]);
    const compare: HangingProtocol = { id: 'c', name: 'c', match: {}, layout: '1x2', viewports: [{ series: { orientation: 'axial' } }, { prior: 1, like: 0 }], windowPreset: 'lung' };
    const hung = assignViewports(compare, today, [prior]);
    expect(hung).toEqual([
      { studyUid: 'today', seriesUid: today.series[1]!.uid, windowPreset: 'lung' },
      { studyUid: 'prior', seriesUid: 'p.ax', windowPreset: 'lung' },
    ]);
  });

  it('shows each series once and leaves a viewport empty when nothing fits', () => {
    const one = study('one', '20240101', [series('CT', { orientation: AXIAL })]);
    const hung = hangStudy(one, []);
    expect(hung.protocol.id).toBe('default-ct');
    expect(hung.viewports[0]!.seriesUid).toBe(one.series[0]!.uid);
    expect(hung.viewports[1]).toEqual({});
    // A rule on a prior that does not exist leaves its viewport empty too.
    const p: HangingProtocol = { id: 'p', name: 'p', match: {}, layout: '1x2', viewports: [{}, { prior: 2, windowPreset: 'bone' }] };
    expect(assignViewports(p, one, [])).toEqual([{ studyUid: 'one', seriesUid: one.series[0]!.uid }, { windowPreset: 'bone' }]);
  });

  it('every default fits its layout and has a catch-all last', () => {
    for (const p of DEFAULT_HANGING_PROTOCOLS) {
      const [rows, columns] = p.layout.split('x').map(Number) as [number, number];
      expect(p.viewports.length, p.id).toBeLessThanOrEqual(rows * columns);
    }
    expect(DEFAULT_HANGING_PROTOCOLS.at(-1)!.match).toEqual({});
  });
});
