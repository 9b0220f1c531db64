// The frame rate a multi-frame object asks to be played at, from its own attributes.
import { numbers, type DicomJsonDataset } from '../dicom-json';

const CineTag = {
  RecommendedDisplayFrameRate: '00082144',
  CineRate: '00180040',
  FrameTime: '00181063',
} as const;

/**
 * The frame rate an object asks for: Recommended Display Frame Rate, else Cine Rate, else
 * 1000 / Frame Time (ms) (PS3.3 C.7.6.5, C.8.5.6.1.5).
 */
export function recommendedFrameRate(instance: DicomJsonDataset): number | undefined {
  const recommended = numbers(instance, CineTag.RecommendedDisplayFrameRate)[0];
  if (recommended && recommended > 0) return recommended;
  const cine = numbers(instance, CineTag.CineRate)[0];
  if (cine && cine > 0) return cine;
  const frameTime = numbers(instance, CineTag.FrameTime)[0];
  if (frameTime && frameTime > 0) return Math.round((1000 / frameTime) * 10) / 10;
  return undefined;
}

