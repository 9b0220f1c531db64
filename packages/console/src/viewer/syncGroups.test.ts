import { describe, expect, it } from 'vitest';
import { LINK_GROUP, syncGroups } from './syncGroups';

const cell = (index: number, frameOfReference: string) => ({ index, seriesUid: `1.2.${index}`, frameOfReference });

describe('sync groups', () => {
  it('groups the cells that share a frame of reference, and leaves a cell alone in its own', () => {
    const groups = syncGroups([cell(0, 'A'), cell(1, 'B'), cell(2, 'A'), cell(3, 'B'), cell(4, 'C'), cell(5, '')], new Set());
    expect(groups.get(0)).toBe(groups.get(2));
    expect(groups.get(1)).toBe(groups.get(3));
    expect(groups.get(0)).not.toBe(groups.get(1));
    expect(groups.has(4)).toBe(false);
    expect(groups.has(5)).toBe(false);
  });

  it('leaves the second cell of a series shown twice, and images of another plane, out of the group', () => {
    const groups = syncGroups([cell(0, 'A'), { ...cell(1, 'A'), seriesUid: '1.2.0' }, { ...cell(2, 'A'), normal: '1,0,0' }, cell(3, 'A')], new Set());
    expect(groups.has(1)).toBe(false);
    expect(groups.has(2)).toBe(false);
    expect(groups.get(0)).toBe(groups.get(3));
  });

  it('puts linked cells in the link group, out of their frame-of-reference group, once two are linked', () => {
    const cells = [cell(0, 'A'), cell(1, 'B'), cell(2, 'A')];
    expect(syncGroups(cells, new Set([1])).has(1)).toBe(false);
    const groups = syncGroups(cells, new Set([0, 1]));
    expect([groups.get(0), groups.get(1)]).toEqual([LINK_GROUP, LINK_GROUP]);
    // Cell 2 has no other cell of frame A left outside the link.
    expect(groups.has(2)).toBe(false);
  });
});
