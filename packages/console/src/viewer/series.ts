// A study's series as the viewer loads them: the series list (QIDO-RS), each series' stack of
// wadors: image ids built from its /metadata (one id per frame), and the loading of every frame
// into Cornerstone's cache with progress. Shared by every viewport that shows the series.
import { imageLoader } from '@cornerstonejs/core';
import { text, Tag, type DicomJsonDataset } from '../dicom-json';
import { expectedPixelValues, loadSeriesImages } from '../series-images';
import { recommendedFrameRate } from './frameRate';
import { latestEvery } from './throttle';

/** The pace of progress reports while a series loads (the last one is reported at once). */
const PROGRESS_INTERVAL_MS = 250;

/** Objects with no pixels (reports, presentation states, key object selections, documents). */
export const NON_IMAGE_MODALITIES = new Set(['SR', 'PR', 'KO', 'DOC', 'REG', 'SEG', 'RWV', 'RTSTRUCT', 'RTPLAN']);

/**
 * Storage classes without pixels to show in a viewport (PS3.4 B.5), by UID prefix: structured
 * reports and key object selections, encapsulated documents (PDF, CDA, STL…), presentation
 * states, waveforms, RT structure sets, plans and records, raw data, registrations, segmentations.
 */
const DOCUMENT_CLASS_PREFIXES = [
  '1.2.840.10008.5.1.4.1.1.88.', '1.2.840.10008.5.1.4.1.1.104.', '1.2.840.10008.5.1.4.1.1.11.', '1.2.840.10008.5.1.4.1.1.9.',
  '1.2.840.10008.5.1.4.1.1.481.3', '1.2.840.10008.5.1.4.1.1.481.5', '1.2.840.10008.5.1.4.1.1.481.6', '1.2.840.10008.5.1.4.1.1.481.7',
  '1.2.840.10008.5.1.4.1.1.481.8', '1.2.840.10008.5.1.4.1.1.481.9', '1.2.840.10008.5.1.4.1.1.66',
];

export function isDocumentClass(sopClassUid: string): boolean {
  return DOCUMENT_CLASS_PREFIXES.some((prefix) => sopClassUid.startsWith(prefix));
}

export interface SeriesEntry {
  uid: string;
  number: string;
  modality: string;
  description: string;
  instances: number;
  /** No image to show in a viewport: it opens as a document beside them. */
  document: boolean;
}

/**
 * The study's series in Series Number order; `instances` (uid and SOP class of each instance of
 * the study) tells documents from images better than the modality (a PDF is often "OT").
 */
export function seriesEntries(found: DicomJsonDataset[], instances: DicomJsonDataset[] = []): SeriesEntry[] {
  const classes = new Map<string, string[]>();
  for (const instance of instances) {
    const uid = text(instance, Tag.SeriesInstanceUID);
    classes.set(uid, [...(classes.get(uid) ?? []), text(instance, '00080016')]);
  }
  return found.map((s) => {
    const uid = text(s, Tag.SeriesInstanceUID);
    const modality = text(s, Tag.Modality);
    const known = classes.get(uid) ?? [];
    return {
      uid,
      number: text(s, Tag.SeriesNumber),
      modality,
      description: text(s, Tag.SeriesDescription),
      instances: Number(text(s, Tag.NumberOfSeriesRelatedInstances)) || 0,
      document: known.length > 0 ? known.every(isDocumentClass) : NON_IMAGE_MODALITIES.has(modality),
    };
  }).sort((a, b) => (Number(a.number) || 0) - (Number(b.number) || 0));
}

export interface Progress {
  loaded: number;
  total: number;
  error: string;
  /** The series holds no images (a report, a PDF): shown as a document rather than in a viewport. */
  documentOnly?: boolean;
}

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
    const { images, imageIds } = await loadSeriesImages(this.studyUid, seriesUid);
    if (images.length === 0) {
      this.onProgress(seriesUid, { documentOnly: true });
      throw new Error('this series holds no images (a report or document): it opens beside the images');
    }
    const multiFrameInstance = images.find((i) => (Number(text(i.instance, Tag.NumberOfFrames)) || 1) > 1)?.instance;
    for (const [index, image] of images.entries()) {
      this.metadata.set(image.imageId, image.instance);
      this.positions.set(image.imageId, index + 1);
    }
    this.onProgress(seriesUid, { total: imageIds.length });
    return { imageIds, multiFrame: multiFrameInstance !== undefined, frameRate: multiFrameInstance ? recommendedFrameRate(multiFrameInstance) : undefined };
  }

  /** Loads every frame of a series into the cache, once, reporting progress. */
  prefetch(seriesUid: string, imageIds: string[]): void {
    if (this.prefetched.has(seriesUid)) return;
    this.prefetched.add(seriesUid);
    let loaded = 0;
    let settled = 0;
    let failure = '';
    const progress = latestEvery<Partial<Progress>>(PROGRESS_INTERVAL_MS, (update) => this.onProgress(seriesUid, update));
    for (const [index, id] of imageIds.entries()) {
      imageLoader.loadAndCacheImage(id).then((image) => {
        // A damaged object may decode to fewer values than its rows and columns need: say so
        // rather than draw a blank or garbled image.
        const expected = expectedPixelValues(this.metadata.get(id)!);
        if (image.getPixelData().length < expected) {
          failure ||= `slice ${index + 1} is damaged: its pixel data holds ${image.getPixelData().length} values, its rows and columns need ${expected}`;
          return;
        }
        loaded++;
      }, (error: unknown) => {
        failure ||= `slice ${index + 1} could not be loaded: ${describeError(error)}`;
      }).finally(() => {
        settled++;
        const update = { loaded, error: failure };
        if (settled === imageIds.length) progress.flush(update);
        else progress.push(update);
      });
    }
  }
}
