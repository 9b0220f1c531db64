import { describe, expect, it } from 'vitest';
import type { StudyInfo } from '../hanging-protocols';
import { hangingLayout, protocolFromLayout } from './hangingLayout';

const AXIAL = [1, 0, 0, 0, 1, 0];

describe('hanging layout', () => {
  it('keeps a protocol\'s grid when every cell is filled', () => {
    expect(hangingLayout(1, 2, [{ seriesUid: 'a' }, { seriesUid: 'b', windowPreset: 'lung' }])).toEqual({ layoutId: '1x2', cells: ['a', 'b'], presets: ['', 'lung'] });
  });

  it('drops the cells nothing fits, in the smallest grid that holds the rest', () => {
    expect(hangingLayout(1, 2, [{ seriesUid: 'a' }, {}])).toEqual({ layoutId: '1x1', cells: ['a'], presets: [''] });
    expect(hangingLayout(2, 2, [{}, { seriesUid: 'b' }, {}, { seriesUid: 'd' }]).cells).toEqual(['b', 'd']);
    expect(hangingLayout(2, 2, [{}, { seriesUid: 'b' }, {}, { seriesUid: 'd' }]).layoutId).toBe('1x2');
  });

  it('gives a grid the viewer lacks the smallest one that holds its cells', () => {
    expect(hangingLayout(1, 3, [{ seriesUid: 'a' }, { seriesUid: 'b' }, { seriesUid: 'c' }]).layoutId).toBe('2x2');
  });
});

describe('a protocol from the current layout', () => {
  const current: StudyInfo = { uid: '1', date: '20250101', series: [{ uid: 's1', modality: 'CT', description: 'Brain (1mm)', orientation: AXIAL }] };
  const older: StudyInfo = { uid: '2', date: '20230101', series: [{ uid: 'p2', modality: 'CT', orientation: AXIAL }] };
  const newer: StudyInfo = { uid: '3', date: '20240101', series: [{ uid: 'p1', modality: 'CT', orientation: AXIAL }] };

  it('names today\'s series by modality, exact description and plane, and a prior by its rank and likeness', () => {
    const mine = protocolFromLayout('1x2', ['s1', 'p2'], current, [older, newer]);
    expect(mine.match).toEqual({ modality: ['CT'], minPriors: 1 });
    expect(mine.viewports).toEqual([
      { series: { modality: ['CT'], description: '^Brain \\(1mm\\)$', orientation: 'axial' } },
      { prior: 2, like: 0 },
    ]);
    expect(mine.id).toMatch(/^[A-Za-z0-9._-]+$/);
  });

  it('keeps an empty cell empty', () => {
    const mine = protocolFromLayout('1x2', ['', 's1'], current, []);
    expect(mine.viewports[0]).toEqual({ series: { description: '(?!)' } });
    expect(mine.match).toEqual({ modality: ['CT'] });
  });
});
