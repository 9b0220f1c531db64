import { metaData, utilities } from '@cornerstonejs/core';
import { describe, expect, it } from 'vitest';
import {
  annotationHandles, describeStored, geometryKey, imageToWorld, planeOf, reportPoints, statsOf, toMeasurementInput, trackingUidOf, worldToImage,
  type ImagePlane,
} from './srMeasurements';

// An axial CT image: first pixel centre at (-120, -100, 50) mm, 0.5 mm columns, 0.75 mm rows.
const axial: ImagePlane = { position: [-120, -100, 50], rowDirection: [1, 0, 0], columnDirection: [0, 1, 0], rowSpacing: 0.75, columnSpacing: 0.5 };
// An oblique one, to make sure the directions are used as given.
const s = Math.SQRT1_2;
const oblique: ImagePlane = { position: [3, -7, 11], rowDirection: [s, s, 0], columnDirection: [0, 0, -1], rowSpacing: 1.2, columnSpacing: 0.8 };

const close = (a: readonly number[], b: readonly number[], digits = 9) => a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, digits));

describe('DICOM image coordinates (PS3.3 C.18.6.1.1: (0,0) the top left corner of the top left pixel)', () => {
  it('puts the centre of the first pixel, Image Position (Patient), at (0.5, 0.5)', () => {
    close(worldToImage(axial, axial.position), [0.5, 0.5]);
    close(imageToWorld(axial, [0.5, 0.5]), axial.position);
    // The top left corner of the image is half a pixel up and left of it.
    close(imageToWorld(axial, [0, 0]), [-120.25, -100.375, 50]);
  });

  it('steps Pixel Spacing[1] along a row and Pixel Spacing[0] down a column', () => {
    close(worldToImage(axial, [-120 + 10 * 0.5, -100 + 4 * 0.75, 50]), [10.5, 4.5]);
    close(imageToWorld(oblique, [2.5, 1.5]), [3 + 2 * 0.8 * s, -7 + 2 * 0.8 * s, 11 - 1.2]);
  });

  it('goes back and forth without loss', () => {
    for (const plane of [axial, oblique]) close(worldToImage(plane, imageToWorld(plane, [37.25, 411.75])), [37.25, 411.75]);
  });

  it('agrees with Cornerstone\'s worldToImageCoords / imageToWorldCoords on square pixels (same corner convention)', () => {
    const square = { imagePositionPatient: [-120, -100, 50], rowCosines: [1, 0, 0], columnCosines: [0, 1, 0], rowPixelSpacing: 0.45, columnPixelSpacing: 0.45 };
    metaData.addProvider((type: string, imageId: string) => (type === 'imagePlaneModule' && imageId === 'test:square' ? square : undefined), 10_000);
    const plane = planeOf(square)!;
    const world = imageToWorld(plane, [106.5, 256.5]);
    // Cornerstone computes in float32 (gl-matrix): equal to 1e-4 pixel.
    close(utilities.worldToImageCoords('test:square', world as never)!, [106.5, 256.5], 4);
    close(utilities.imageToWorldCoords('test:square', [12.25, 3])!, imageToWorld(plane, [12.25, 3]), 4);
  });
});

describe('annotations to the report and back', () => {
  const image = { sopInstanceUid: '1.2.3.4' };
  const length = {
    annotationUID: '0b6f5f7e-3c1a-4b8e-9d2f-6a7b8c9d0e1f',
    metadata: { toolName: 'Length', referencedImageId: 'wadors:x' },
    data: { label: '', handles: { points: [imageToWorld(axial, [106.5, 256.5]), imageToWorld(axial, [406.5, 256.5])] }, cachedStats: { 'imageId:wadors:x': { length: 150, unit: 'mm' } } },
  };

  it('writes a length with its points in image coordinates and a 2.25 tracking UID', () => {
    const input = toMeasurementInput(length, { plane: axial, image })!;
    expect(input.kind).toBe('length');
    expect(input.values).toEqual({ length: 150 });
    expect(input.trackingUid).toBe(`2.25.${BigInt('0x0b6f5f7e3c1a4b8e9d2f6a7b8c9d0e1f')}`);
    expect(input.trackingUid).toMatch(/^[0-9]+(\.[0-9]+)*$/);
    input.points.forEach((p, i) => close(p, [[106.5, 256.5], [406.5, 256.5]][i]!));
  });

  it('keeps a tracking UID that is already a UID', () => {
    expect(trackingUidOf('1.2.840.99.1')).toBe('1.2.840.99.1');
  });

  it('leaves out what the report cannot hold: probes, lengths in pixels, unfinished ones', () => {
    expect(toMeasurementInput({ ...length, metadata: { toolName: 'Probe' } }, { plane: axial, image })).toBeUndefined();
    expect(toMeasurementInput({ ...length, data: { ...length.data, cachedStats: { x: { length: 3, unit: 'px' } } } }, { plane: axial, image })).toBeUndefined();
    expect(toMeasurementInput({ ...length, data: { ...length.data, cachedStats: {} } }, { plane: axial, image })).toBeUndefined();
  });

  it('closes a rectangle and writes an ellipse major axis first', () => {
    const corners = ([[10, 20], [50, 20], [10, 30], [50, 30]] as [number, number][]).map((p) => imageToWorld(oblique, p));
    expect(reportPoints('rectangle', corners, oblique)!.map((p) => p.map((v) => Math.round(v * 1e6) / 1e6))).toEqual([[10, 20], [50, 20], [50, 30], [10, 30], [10, 20]]);
    // Cornerstone's ellipse handles: bottom, top, left, right; here wider than tall.
    const ellipse = ([[30, 40], [30, 20], [10, 30], [50, 30]] as [number, number][]).map((p) => imageToWorld(axial, p));
    expect(reportPoints('ellipse', ellipse, axial)!.map((p) => p.map((v) => Math.round(v * 1e6) / 1e6))).toEqual([[10, 30], [50, 30], [30, 20], [30, 40]]);
  });

  it('reads every kind back into the handles it was written from', () => {
    const cases: [Parameters<typeof reportPoints>[0], [number, number][]][] = [
      ['length', [[1.5, 2.5], [100.25, 7]]],
      ['angle', [[10, 10], [20, 20], [30, 10]]],
      ['rectangle', [[10, 20], [50, 20], [10, 30], [50, 30]]],
      ['ellipse', [[30, 40], [30, 20], [10, 30], [50, 30]]],
    ];
    for (const plane of [axial, oblique]) {
      for (const [kind, image] of cases) {
        const handles = image.map((p) => imageToWorld(plane, p));
        const back = annotationHandles(kind, reportPoints(kind, handles, plane)!, plane)!;
        expect(back.length, kind).toBe(handles.length);
        back.forEach((h, i) => close(h, handles[i]!));
      }
    }
  });

  it('tells geometry apart to a thousandth of a pixel, and fills Cornerstone\'s stats from stored values', () => {
    const a = { kind: 'length' as const, image, points: [[1, 2], [3, 4]] as [number, number][] };
    expect(geometryKey(a)).toBe(geometryKey({ ...a, points: [[1.0000001, 2], [3, 4]] }));
    expect(geometryKey(a)).not.toBe(geometryKey({ ...a, points: [[1.01, 2], [3, 4]] }));
    // A length's direction counts; a rectangle read from another writer may start at another corner.
    expect(geometryKey(a)).not.toBe(geometryKey({ ...a, points: [[3, 4], [1, 2]] }));
    const rectangle = { kind: 'rectangle' as const, image, points: [[10, 20], [50, 20], [50, 30], [10, 30], [10, 20]] as [number, number][] };
    expect(geometryKey(rectangle)).toBe(geometryKey({ ...rectangle, points: [[50, 30], [10, 30], [10, 20], [50, 20], [50, 30]] }));
    expect(geometryKey(rectangle)).not.toBe(geometryKey({ ...rectangle, points: [[10, 20], [50, 20], [50, 31], [10, 31], [10, 20]] }));
    expect(statsOf({ kind: 'ellipse', values: { area: 12, mean: 40 }, pixelUnit: 'HU' })).toMatchObject({ area: 12, areaUnit: 'mm²', mean: 40, modalityUnit: 'HU' });
  });
});

describe('saved measurements the viewer cannot draw', () => {
  it('reads as text, with the report\'s own names and units', () => {
    expect(describeStored({
      label: 'Lesion 1', kind: 'other',
      quantities: [{ name: 'Volume', value: 1234.567, unit: 'mm3' }, { name: 'Mean', value: 41.256, unit: "[hnsf'U]" }],
    })).toBe('Lesion 1: Volume 1235 mm3, Mean 41.26 HU');
    expect(describeStored({ label: '', kind: 'length', quantities: [{ name: 'Length', value: 12.5, unit: 'mm' }] })).toBe('length: Length 12.5 mm');
  });
});
