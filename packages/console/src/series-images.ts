// A series as Cornerstone image ids: its metadata from WADO-RS (registered with the image
// loader, which then needs no header request per image) and one `wadors:` id per frame, in
// Instance Number then frame order (PS3.3 C.7.6.1.1.1).
import { wadors } from '@cornerstonejs/dicom-image-loader';
import { DICOMWEB, seriesMetadata } from './api';
import { text, Tag, type DicomJsonDataset } from './dicom-json';

export interface SeriesImages {
  /** Every instance of the series, images or not. */
  instances: DicomJsonDataset[];
  /** One per frame of every image. */
  imageIds: string[];
  /** The instance each image id comes from. */
  instanceOf: Map<string, DicomJsonDataset>;
}

export async function loadSeriesImages(studyUid: string, seriesUid: string): Promise<SeriesImages> {
  const instances = await seriesMetadata(studyUid, seriesUid);
  const base = `wadors:${window.location.origin}${DICOMWEB}/studies/${encodeURIComponent(studyUid)}/series/${encodeURIComponent(seriesUid)}/instances/`;
  const images: { imageId: string; instance: number; frame: number }[] = [];
  const instanceOf = new Map<string, DicomJsonDataset>();
  for (const instance of instances) {
    if (!instance['00280010']) continue; // no Rows: not an image (report, document)
    const sop = text(instance, Tag.SOPInstanceUID);
    const frames = Math.max(1, Number(text(instance, Tag.NumberOfFrames)) || 1);
    for (let frame = 1; frame <= frames; frame++) {
      const imageId = `${base}${encodeURIComponent(sop)}/frames/${frame}`;
      // Multi-frame: the loader derives each frame's metadata from frame 1's entry.
      if (frame === 1) wadors.metaDataManager.add(imageId, instance as never);
      instanceOf.set(imageId, instance);
      images.push({ imageId, instance: Number(text(instance, Tag.InstanceNumber)) || 0, frame });
    }
  }
  images.sort((a, b) => a.instance - b.instance || a.frame - b.frame);
  return { instances, imageIds: images.map((i) => i.imageId), instanceOf };
}
