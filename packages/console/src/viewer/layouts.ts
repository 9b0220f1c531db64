// Viewport layouts: a grid of rows × columns of stack viewports (the "1x2" name reads rows x columns).
export interface Layout { id: string; rows: number; columns: number }

export const LAYOUTS: readonly Layout[] = [
  { id: '1x1', rows: 1, columns: 1 },
  { id: '1x2', rows: 1, columns: 2 },
  { id: '2x1', rows: 2, columns: 1 },
  { id: '2x2', rows: 2, columns: 2 },
  { id: '2x3', rows: 2, columns: 3 },
  { id: '2x4', rows: 2, columns: 4 },
  { id: '3x3', rows: 3, columns: 3 },
];

/** The most cells a layout has: a profile's or a protocol's layout may be up to 4x4. */
export const MAX_CELLS = 16;

/** A layout by name: one of the menu's, or any other rows x columns of 1 to 4 (from a profile); 1x1 otherwise. */
export function layoutById(id: string): Layout {
  const listed = LAYOUTS.find((l) => l.id === id);
  if (listed) return listed;
  const match = /^([1-4])x([1-4])$/.exec(id);
  return match ? { id, rows: Number(match[1]), columns: Number(match[2]) } : LAYOUTS[0]!;
}

export function cellCount(layout: Layout): number {
  return layout.rows * layout.columns;
}
