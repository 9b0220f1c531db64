// The Probe tool for stacks. Cornerstone 5.14's ProbeTool reads a stack image's voxel at depth
// k = the viewport's slice index, but a stack image holds one slice: beyond the first slice the
// read falls outside and the probe shows no value. The same cached image is read at depth 0.
import { cache } from '@cornerstonejs/core';
import { ProbeTool, type Types as ToolTypes } from '@cornerstonejs/tools';

/** The value (modality LUT applied by the loader) of pixel (index[0], index[1]) of a cached image. */
export function stackPixelValue(imageId: string | undefined, index: unknown): number | undefined {
  if (!imageId || !Array.isArray(index) || index.length < 2) return undefined;
  const [i, j] = index as number[];
  const image = cache.getImage(imageId);
  if (!image || i === undefined || j === undefined || i < 0 || j < 0 || i >= image.columns || j >= image.rows) return undefined;
  const value: unknown = image.voxelManager?.getAtIJK(i, j, 0);
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

interface ProbeStats { value?: unknown; index?: unknown }

export class StackProbeTool extends ProbeTool {
  static override toolName = ProbeTool.toolName;

  override _calculateCachedStats(annotation: ToolTypes.Annotation, renderingEngine: unknown, enabledElement: unknown, changeType?: never) {
    const result: unknown = super._calculateCachedStats(annotation, renderingEngine, enabledElement, changeType);
    const stats = (annotation.data as { cachedStats?: Record<string, ProbeStats> }).cachedStats ?? {};
    for (const entry of Object.values(stats)) {
      if (entry.value === undefined || entry.value === null) {
        const value = stackPixelValue(annotation.metadata?.referencedImageId, entry.index);
        if (value !== undefined) entry.value = value;
      }
    }
    return result;
  }
}
