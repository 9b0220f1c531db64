// Whether a series is one regular stack of parallel slices, the condition for reconstructing it
// as a volume (MPR, MIP). A series made of several stacks (a spine exam's disc-level obliques),
// slices of different orientations or sizes, or gaps would give a volume that misplaces anatomy:
// the viewer refuses it and says why.
import { numbers, text, Tag, type DicomJsonDataset } from './dicom-json';

export type VolumeCheck =
  | { ok: true; slices: number; spacing: number; normal: [number, number, number] }
  | { ok: false; reason: string };

const ROWS = '00280010';
const COLUMNS = '00280011';
/** Parallel within about 0.5 degree. */
const ORIENTATION_TOLERANCE = 1e-2;
/** Gaps between slices may differ by 10% (rounding of positions in the headers). */
const SPACING_TOLERANCE = 0.1;

function cross(a: number[], b: number[]): [number, number, number] {
  return [a[1]! * b[2]! - a[2]! * b[1]!, a[2]! * b[0]! - a[0]! * b[2]!, a[0]! * b[1]! - a[1]! * b[0]!];
}

export function checkVolume(instances: readonly DicomJsonDataset[]): VolumeCheck {
  const images = instances.filter((i) => i[ROWS] !== undefined);
  if (images.length < 3) return { ok: false, reason: `a volume needs at least 3 slices; this series has ${images.length} image(s)` };
  if (images.some((i) => (Number(text(i, Tag.NumberOfFrames)) || 1) > 1)) {
    return { ok: false, reason: 'this series holds multi-frame images: MPR works on series of single-slice images' };
  }
  const first = images[0]!;
  const iop = numbers(first, Tag.ImageOrientationPatient);
  if (iop.length !== 6) return { ok: false, reason: 'the images carry no Image Orientation (Patient): their position in space is unknown' };
  const rows = text(first, ROWS);
  const columns = text(first, COLUMNS);
  for (const image of images) {
    const other = numbers(image, Tag.ImageOrientationPatient);
    if (other.length !== 6 || other.some((v, k) => Math.abs(v - iop[k]!) > ORIENTATION_TOLERANCE)) {
      return { ok: false, reason: 'the slices do not all have the same orientation (several stacks in one series): a volume would misplace them' };
    }
    if (text(image, ROWS) !== rows || text(image, COLUMNS) !== columns) {
      return { ok: false, reason: 'the slices do not all have the same size' };
    }
  }
  const normal = cross(iop.slice(0, 3), iop.slice(3, 6));
  const positions: number[] = [];
  for (const image of images) {
    const ipp = numbers(image, Tag.ImagePositionPatient);
    if (ipp.length !== 3) return { ok: false, reason: 'a slice carries no Image Position (Patient)' };
    positions.push(ipp[0]! * normal[0] + ipp[1]! * normal[1] + ipp[2]! * normal[2]);
  }
  positions.sort((a, b) => a - b);
  const gaps = positions.slice(1).map((p, i) => p - positions[i]!);
  const spacing = gaps.reduce((a, b) => a + b, 0) / gaps.length;
  if (!(spacing > 0)) return { ok: false, reason: 'several slices share one position: the series holds more than one stack' };
  if (gaps.some((g) => Math.abs(g - spacing) > SPACING_TOLERANCE * spacing)) {
    return { ok: false, reason: 'the slices are not evenly spaced (missing slices or several stacks)' };
  }
  return { ok: true, slices: images.length, spacing, normal };
}
