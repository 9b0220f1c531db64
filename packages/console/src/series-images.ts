// A series as Cornerstone image ids: its metadata from WADO-RS (registered with the image
// loader, which then needs no header request per image) and one `wadors:` id per frame, in
// Instance Number then frame order (PS3.3 C.7.6.1.1.1).
import { wadors } from '@cornerstonejs/dicom-image-loader';
import { DICOMWEB, seriesMetadata } from './api';
import { text, Tag, type DicomJsonDataset } from './dicom-json';

export interface SeriesImage {
  imageId: string;
  /** The instance the image (frame) comes from. */
  instance: DicomJsonDataset;
  /** 1-based frame number within its instance. */
  frame: number;
}

export interface SeriesImages {
  /** Every instance of the series, images or not. */
  instances: DicomJsonDataset[];
  /** One per frame of every image, in display order. */
  images: SeriesImage[];
  imageIds: string[];
  /** The instance each image id comes from. */
  instanceOf: Map<string, DicomJsonDataset>;
}

const MODALITY = '00080060';
/** Red, green and blue palette colour lookup table data (PS3.3 C.7.6.3.1.6). */
const PALETTE_DATA = ['00281201', '00281202', '00281203'];

/**
 * What the image loader needs that the metadata may lack. Cornerstone's loader reads palette
 * tables only as a list of numbers in the metadata: the server sends them as bulk data, so they
 * are fetched here (a few hundred bytes each, for palette colour images only) and given as the
 * table's 16-bit words. And it fails on an instance without a Modality (an old Secondary
 * Capture): an empty one is given.
 */
async function prepareForLoader(instance: DicomJsonDataset): Promise<void> {
  if (!instance[MODALITY]?.Value?.length) instance[MODALITY] = { vr: 'CS', Value: [''] };
  await Promise.all(PALETTE_DATA.map(async (tag) => {
    const uri = instance[tag]?.BulkDataURI;
    if (!uri) return;
    const response = await fetch(uri, { headers: { Accept: 'application/octet-stream' }, credentials: 'same-origin' });
    if (!response.ok) throw new Error(`the palette colour table (${tag}) could not be read: HTTP ${response.status}`);
    const bytes = await response.arrayBuffer();
    // OW, little endian as DICOMweb sends bulk data.
    const view = new DataView(bytes);
    const words: number[] = [];
    for (let offset = 0; offset + 1 < bytes.byteLength; offset += 2) words.push(view.getUint16(offset, true));
    instance[tag] = { vr: 'US', Value: words };
  }));
}

export async function loadSeriesImages(studyUid: string, seriesUid: string): Promise<SeriesImages> {
  const instances = await seriesMetadata(studyUid, seriesUid);
  const base = `wadors:${window.location.origin}${DICOMWEB}/studies/${encodeURIComponent(studyUid)}/series/${encodeURIComponent(seriesUid)}/instances/`;
  const images: (SeriesImage & { number: number })[] = [];
  const instanceOf = new Map<string, DicomJsonDataset>();
  await Promise.all(instances.filter((i) => i['00280010']).map(prepareForLoader));
  for (const instance of instances) {
    if (!instance['00280010']) continue; // no Rows: not an image (report, document)
    const sop = text(instance, Tag.SOPInstanceUID);
    const frames = Math.max(1, Number(text(instance, Tag.NumberOfFrames)) || 1);
    for (let frame = 1; frame <= frames; frame++) {
      const imageId = `${base}${encodeURIComponent(sop)}/frames/${frame}`;
      // Multi-frame: the loader derives each frame's metadata from frame 1's entry.
      if (frame === 1) wadors.metaDataManager.add(imageId, instance as never);
      instanceOf.set(imageId, instance);
      images.push({ imageId, instance, frame, number: Number(text(instance, Tag.InstanceNumber)) || 0 });
    }
  }
  images.sort((a, b) => a.number - b.number || a.frame - b.frame);
  return { instances, images, imageIds: images.map((i) => i.imageId), instanceOf };
}

/** The study of one of the image ids loadSeriesImages makes ('' for another id). */
export function studyOfImageId(imageId: string): string {
  const match = /\/studies\/([^/]+)\/series\//.exec(imageId);
  return match ? decodeURIComponent(match[1]!) : '';
}

/** The number of stored pixel values an image's attributes announce (rows × columns × samples). */
export function expectedPixelValues(instance: DicomJsonDataset): number {
  return (Number(text(instance, '00280010')) || 0) * (Number(text(instance, '00280011')) || 0) * (Number(text(instance, '00280002')) || 1);
}
