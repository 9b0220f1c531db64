// Which viewports scroll together: the reader's manual link first, then shared frames of reference.
export const LINK_GROUP = 'link';

/** What a cell shows, as far as synchronisation cares. */
export interface SyncCell {
  index: number;
  seriesUid: string;
  frameOfReference: string;
  /** The image plane's normal, rounded (e.g. "0,0,1"): only parallel images can follow one another. */
  normal?: string;
}

/**
 * The sync group of each cell: cells linked by hand form the group "link" (when two or more);
 * the other cells sharing a frame of reference and an image plane with at least one other form
 * "for-N". A series shown twice is shown to see two places of it: its second cell scrolls alone.
 */
export function syncGroups(cells: readonly SyncCell[], linked: ReadonlySet<number>): Map<number, string> {
  const groups = new Map<number, string>();
  const links = cells.filter((c) => linked.has(c.index));
  if (links.length >= 2) for (const c of links) groups.set(c.index, LINK_GROUP);
  const byFrame = new Map<string, SyncCell[]>();
  for (const c of cells) {
    if (groups.has(c.index) || !c.frameOfReference) continue;
    const key = `${c.frameOfReference}|${c.normal ?? ''}`;
    const bucket = byFrame.get(key) ?? [];
    if (!bucket.some((other) => other.seriesUid === c.seriesUid)) byFrame.set(key, [...bucket, c]);
  }
  let n = 0;
  for (const members of byFrame.values()) {
    if (members.length < 2) continue;
    n++;
    for (const { index } of members) groups.set(index, `for-${n}`);
  }
  return groups;
}
