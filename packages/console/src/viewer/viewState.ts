// What a stack viewport shows, read back from Cornerstone after every change: the slice, the
// window, the camera (zoom, rotation, flips), the index → canvas map, the orientation letters
// and the scale bar. The overlay draws it; the viewport panel publishes it in data-* attributes.
import { utilities, type StackViewport, type Types } from '@cornerstonejs/core';
import { numbers, text, Tag, type DicomJsonDataset } from '../dicom-json';
import { edgeLabels, scaleBarLength, type EdgeLabels } from './orientation';

export interface ViewState {
  slice: number;
  slices: number;
  windowWidth: number;
  windowCenter: number;
  zoom: number;
  rotation: number;
  flipH: boolean;
  flipV: boolean;
  invert: boolean;
  /** Canvas CSS pixels of pixel (0,0), then the canvas steps of one column (i+1) and one row (j+1). */
  indexToCanvas: string;
  position: string;
  /** Edge letters, when the image has an Image Orientation (Patient). */
  orientation: EdgeLabels | undefined;
  /** Scale bar: its length in mm and on screen (CSS px), when the image has a Pixel Spacing. */
  scale: { mm: number; pixels: number } | undefined;
}

const PixelSpacing = '00280030';
const ImagerPixelSpacing = '00181164';

export function readViewState(vp: StackViewport, instance: DicomJsonDataset | undefined): ViewState | undefined {
  if (vp.getImageIds().length === 0) return undefined;
  const { voiRange, invert } = vp.getProperties();
  const wl = voiRange ? utilities.windowLevel.toWindowLevel(voiRange.lower, voiRange.upper) : { windowWidth: 0, windowCenter: 0 };
  const presentation = vp.getViewPresentation();
  const camera = vp.getCamera();
  let indexToCanvas = '';
  const data = vp.getImageData();
  if (data) {
    // Pixel (column i, row j) centre in patient space: origin + i·Δc·row direction + j·Δr·column direction.
    const { origin, spacing, direction } = data;
    const toCanvas = (i: number, j: number) => vp.worldToCanvas([0, 1, 2].map((k) =>
      origin[k]! + i * spacing[0] * direction[k]! + j * spacing[1] * direction[3 + k]!) as Types.Point3);
    const o = toCanvas(0, 0);
    const c = toCanvas(1, 0);
    const r = toCanvas(0, 1);
    indexToCanvas = [o[0], o[1], c[0] - o[0], c[1] - o[1], r[0] - o[0], r[1] - o[1]].map((v) => v.toFixed(4)).join(',');
  }
  // The patient directions of one CSS pixel to the right and one down, at the canvas centre:
  // they follow rotation, flips and zoom with no bookkeeping of our own.
  const canvas = vp.canvas;
  const cx = canvas.clientWidth / 2;
  const cy = canvas.clientHeight / 2;
  const centre = vp.canvasToWorld([cx, cy]);
  const right = vp.canvasToWorld([cx + 1, cy]).map((v, k) => v - centre[k]!);
  const down = vp.canvasToWorld([cx, cy + 1]).map((v, k) => v - centre[k]!);
  let position = '';
  let orientation: EdgeLabels | undefined;
  let scale: ViewState['scale'];
  if (instance) {
    const ipp = numbers(instance, Tag.ImagePositionPatient);
    const thickness = text(instance, Tag.SliceThickness);
    if (ipp.length === 3) position = `Pos ${ipp[2]!.toFixed(1)} mm${thickness ? `  Thk ${Number(thickness).toFixed(1)} mm` : ''}`;
    if (numbers(instance, Tag.ImageOrientationPatient).length === 6) orientation = edgeLabels(right, down);
    if (numbers(instance, PixelSpacing).length === 2 || numbers(instance, ImagerPixelSpacing).length === 2) {
      const mmPerPixel = Math.hypot(...right);
      const mm = scaleBarLength(mmPerPixel, Math.min(160, canvas.clientWidth / 4));
      if (mm) scale = { mm, pixels: mm / mmPerPixel };
    }
  }
  return {
    slice: vp.getCurrentImageIdIndex() + 1,
    slices: vp.getImageIds().length,
    windowWidth: Math.round(wl.windowWidth),
    windowCenter: Math.round(wl.windowCenter),
    zoom: vp.getZoom(),
    rotation: Math.round(((presentation.rotation ?? 0) % 360 + 360) % 360),
    flipH: Boolean(camera.flipHorizontal),
    flipV: Boolean(camera.flipVertical),
    invert: Boolean(invert),
    indexToCanvas,
    position,
    orientation,
    scale,
  };
}
