// A study's series as the viewer loads them: the series list (QIDO-RS), each series' stack of
// wadors: image ids built from its /metadata (one id per frame), and the loading of every frame
// into Cornerstone's cache with progress. Shared by every viewport that shows the series.
import { imageLoader } from '@cornerstonejs/core';
import { wadors } from '@cornerstonejs/dicom-image-loader';
import { DICOMWEB, seriesMetadata } from '../api';
import { text, Tag, type DicomJsonDataset } from '../dicom-json';
import { recommendedFrameRate } from './frameRate';

/** Objects with no pixels (reports, presentation states, key object selections, documents). */
export const NON_IMAGE_MODALITIES = new Set(['SR', 'PR', 'KO', 'DOC', 'REG', 'SEG', 'RWV']);

export interface SeriesEntry {
  uid: string;
  number: string;
  modality: string;
  description: string;
  instances: number;
}

export function seriesEntries(found: DicomJsonDataset[]): SeriesEntry[] {
  return found.map((s) => ({
    uid: text(s, Tag.SeriesInstanceUID),
    number: text(s, Tag.SeriesNumber),
    modality: text(s, Tag.Modality),
    description: text(s, Tag.SeriesDescription),
    instances: Number(text(s, Tag.NumberOfSeriesRelatedInstances)) || 0,
  })).sort((a, b) => (Number(a.number) || 0) - (Number(b.number) || 0));
}

export interface Progress { loaded: number; total: number; error: string }

export interface Stack {
  imageIds: string[];
  /** Frames of one multi-frame object: a cine loop rather than slices. */
  multiFrame: boolean;
  /** Frames per second the object recommends, when it says. */
  frameRate: number | undefined;
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (error && typeof error === 'object') {
    const e = error as { error?: { status?: number; statusText?: string; message?: string }; message?: string; status?: number };
    if (e.error?.status) return `HTTP ${e.error.status}${e.error.statusText ? ` ${e.error.statusText}` : ''}`;
    if (e.message) return e.message;
    if (e.error?.message) return e.error.message;
  }
  return String(error);
}

/** Loads a study's series once each, whatever number of viewports show them. */
export class SeriesLoader {
  /** Each image id's instance (DICOM JSON), for the overlay. */
  readonly metadata = new Map<string, DicomJsonDataset>();
  /** Each image id's 1-based position in its stack. */
  readonly positions = new Map<string, number>();
  private readonly stacks = new Map<string, Promise<Stack>>();
  private readonly prefetched = new Set<string>();

  constructor(
    readonly studyUid: string,
    private readonly onProgress: (seriesUid: string, update: Partial<Progress>) => void,
  ) {}

  stack(seriesUid: string): Promise<Stack> {
    let found = this.stacks.get(seriesUid);
    if (!found) {
      found = this.buildStack(seriesUid);
      // A failure may be temporary: the next request tries again.
      found.catch(() => this.stacks.delete(seriesUid));
      this.stacks.set(seriesUid, found);
    }
    return found;
  }

  private async buildStack(seriesUid: string): Promise<Stack> {
    this.onProgress(seriesUid, { loaded: 0, total: 0, error: '' });
    const instances = await seriesMetadata(this.studyUid, seriesUid);
    const base = `wadors:${window.location.origin}${DICOMWEB}/studies/${encodeURIComponent(this.studyUid)}/series/${encodeURIComponent(seriesUid)}/instances/`;
    const images: { imageId: string; instance: number; frame: number }[] = [];
    let multiFrame = false;
    let frameRate: number | undefined;
    for (const instance of instances) {
      if (!instance['00280010']) continue; // no Rows: not an image (report, document)
      const sop = text(instance, Tag.SOPInstanceUID);
      const frames = Math.max(1, Number(text(instance, Tag.NumberOfFrames)) || 1);
      if (frames > 1) {
        multiFrame = true;
        frameRate ??= recommendedFrameRate(instance);
      }
      for (let frame = 1; frame <= frames; frame++) {
        const imageId = `${base}${encodeURIComponent(sop)}/frames/${frame}`;
        // Multi-frame: the loader derives each frame's metadata from frame 1's entry.
        if (frame === 1) wadors.metaDataManager.add(imageId, instance as never);
        this.metadata.set(imageId, instance);
        images.push({ imageId, instance: Number(text(instance, Tag.InstanceNumber)) || 0, frame });
      }
    }
    if (images.length === 0) throw new Error('this series holds no images (a report or document): nothing to display');
    // Slices in Instance Number order (PS3.3 C.7.6.1.1.1), frames in frame order.
    images.sort((a, b) => a.instance - b.instance || a.frame - b.frame);
    const imageIds = images.map((i) => i.imageId);
    imageIds.forEach((id, index) => this.positions.set(id, index + 1));
    this.onProgress(seriesUid, { total: imageIds.length });
    return { imageIds, multiFrame, frameRate };
  }

  /** Loads every frame of a series into the cache, once, reporting progress. */
  prefetch(seriesUid: string, imageIds: string[]): void {
    if (this.prefetched.has(seriesUid)) return;
    this.prefetched.add(seriesUid);
    let loaded = 0;
    let failure = '';
    for (const [index, id] of imageIds.entries()) {
      imageLoader.loadAndCacheImage(id).then(() => {
        loaded++;
      }, (error: unknown) => {
        failure ||= `slice ${index + 1} could not be loaded: ${describeError(error)}`;
      }).finally(() => this.onProgress(seriesUid, { loaded, error: failure }));
    }
  }
}
