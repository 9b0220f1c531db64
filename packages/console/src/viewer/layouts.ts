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

export function layoutById(id: string): Layout {
  return LAYOUTS.find((l) => l.id === id) ?? LAYOUTS[0]!;
}

export function cellCount(layout: Layout): number {
  return layout.rows * layout.columns;
}
