// Acceptance of the reading console's viewer v2 (issue "The reading console") in real headless
// Chromium against a whole Loire: layouts with one viewport per cell (drag and drop, active
// viewport), rotation / flips / inversion, orientation letters and scale bar, ROI and other
// measurements checked against the pixels read here with pydicom, and cine on a multi-frame US.
//
// Needs the built console and Debian's chromium (LOIRE_CHROMIUM to point elsewhere), like
// console.int.test.ts. The page publishes each viewport's state in data-* attributes on its
// .viewport-panel[data-viewport-index] (data-state="ready" once its series is loaded).
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeConsoleTest, type ConsolePage, launchBrowser, openConsolePage, requireBuiltConsole, SCREENSHOTS, storeDirectory, storeFiles, UI_TIMEOUT } from '../testing/browser.js';
import { canvasToIndex, compareWithReference, floats, pageMapping, parseAffine, readCanvas } from '../testing/canvas-reference.js';
import { startTestLoire, type TestLoire } from '../testing/loire.js';
import { samplePath } from '../testing/samples.js';

const HEAD_CT = 'ct-series/philips-head-ct-std-brain-1mm';
/** One study, two series (sagittal T2 and axial): fills viewports with different series. */
const MR_PRIOR = 'mr-series/furuhashi-lspine-mr-20180113-prior';
/** US multi-frame, 34 frames, with Recommended Display Frame Rate / Cine Rate / Frame Time. */
const US_CINE = 'modalities/us-multiframe/Issue16.dcm';
/** More UI waits per test than elsewhere: layouts, tools and cine each wait several times. */
const TEST_TIMEOUT = 6 * UI_TIMEOUT;

interface Reference {
  ct: {
    studyUid: string; rows: number; cols: number; pixelSpacing: [number, number]; orientation: number[];
    /** Hounsfield units of slice 35 (Instance Number order), row-major, float32 base64. */
    slice35: string;
  };
  mr: { studyUid: string; series: { uid: string; images: number }[] };
  us: { studyUid: string; frames: number; frameRate: number | null };
}

/** The reference values, by pydicom: modality LUT applied (PS3.3 C.11.1), slices in Instance Number order. */
async function pydicomReference(): Promise<Reference> {
  const script = `
import sys, json, base64, glob, os
import numpy as np, pydicom
ct_dir, mr_dir, us_file = sys.argv[1:4]
headers = [(int(pydicom.dcmread(f, stop_before_pixels=True).InstanceNumber), f) for f in glob.glob(os.path.join(ct_dir, '*'))]
files = [f for _, f in sorted(headers)]
d = pydicom.dcmread(files[34])
hu = (d.pixel_array.astype(np.float64) * float(d.RescaleSlope) + float(d.RescaleIntercept)).astype(np.float32)
ct = {'studyUid': str(d.StudyInstanceUID), 'rows': int(d.Rows), 'cols': int(d.Columns),
  'pixelSpacing': [float(v) for v in d.PixelSpacing], 'orientation': [float(v) for v in d.ImageOrientationPatient],
  'slice35': base64.b64encode(hu.tobytes()).decode()}
series = {}
for f in glob.glob(os.path.join(mr_dir, '*')):
  m = pydicom.dcmread(f, stop_before_pixels=True)
  mr_study = str(m.StudyInstanceUID)
  series[str(m.SeriesInstanceUID)] = series.get(str(m.SeriesInstanceUID), 0) + 1
u = pydicom.dcmread(us_file, stop_before_pixels=True)
# PS3.3 C.7.6.5 / C.8.5.6.1.5: the recommended rate, else the cine rate, else 1000 / Frame Time (ms).
rate = None
if 'RecommendedDisplayFrameRate' in u and u.RecommendedDisplayFrameRate: rate = float(u.RecommendedDisplayFrameRate)
elif 'CineRate' in u and u.CineRate: rate = float(u.CineRate)
elif 'FrameTime' in u and u.FrameTime: rate = round(1000 / float(u.FrameTime), 1)
print(json.dumps({'ct': ct, 'mr': {'studyUid': mr_study, 'series': [{'uid': k, 'images': v} for k, v in series.items()]},
  'us': {'studyUid': str(u.StudyInstanceUID), 'frames': int(u.NumberOfFrames), 'frameRate': rate}}))`;
  const { stdout } = await promisify(execFile)('/usr/bin/python3', ['-c', script, samplePath(HEAD_CT), samplePath(MR_PRIOR), samplePath(US_CINE)], { maxBuffer: 64 << 20 });
  return JSON.parse(stdout) as Reference;
}

function panel(page: Page, index: number): Locator {
  return page.locator(`.viewport-panel[data-viewport-index="${index}"]`);
}

async function viewportState(page: Page, index = 0) {
  return panel(page, index).evaluate((e: HTMLElement) => ({ ...e.dataset }));
}

/** Waits for a frame drawn after `before` renders of viewport `index`. */
async function nextRender(page: Page, before: number, index = 0): Promise<void> {
  await page.waitForFunction(([n, i]) => Number(document.querySelector<HTMLElement>(`.viewport-panel[data-viewport-index="${i}"]`)?.dataset.renders) > n, [before, index] as const);
}

async function orientationLetters(page: Page, index = 0) {
  return panel(page, index).evaluate((e: HTMLElement) => Object.fromEntries(
    [...e.querySelectorAll<HTMLElement>('[data-orientation]')].map((m) => [m.dataset.orientation!, m.textContent ?? ''])));
}

/** Where on the page (CSS px) pixel (i, j) of viewport `index` is drawn, and the pixel index where the mouse lands there. */
async function pagePoint(page: Page, i: number, j: number, index = 0) {
  const affine = parseAffine((await viewportState(page, index)).indexToCanvas!);
  const { toPage, toIndex } = await pageMapping(panel(page, index).locator('.viewport-host canvas'), affine);
  const point = toPage(i, j);
  const [li, lj] = toIndex(point);
  return { ...point, i: li, j: lj };
}

/**
 * Waits until viewport 0 shows slice `hu` through its published map at its published window
 * (mean |difference| ≤ 1 grey level), or the UI timeout passes; returns the last comparison.
 */
async function waitForPicture(page: Page, hu: Float32Array, cols: number, rows: number) {
  const until = Date.now() + UI_TIMEOUT;
  for (;;) {
    const state = await viewportState(page);
    const result = compareWithReference(await readCanvas(panel(page, 0).locator('.viewport-host canvas')), parseAffine(state.indexToCanvas!), hu, cols, rows, Number(state.windowWidth), Number(state.windowCenter));
    if (result.mean <= 1 || Date.now() > until) return result;
    await page.waitForTimeout(250);
  }
}

/** Mean and population standard deviation of the HU over columns i0..i1 and rows j0..j1 (inclusive). */
function regionStats(hu: Float32Array, cols: number, i0: number, i1: number, j0: number, j1: number) {
  let sum = 0;
  let sum2 = 0;
  let n = 0;
  for (let j = j0; j <= j1; j++) {
    for (let i = i0; i <= i1; i++) {
      const v = hu[j * cols + i]!;
      sum += v;
      sum2 += v * v;
      n++;
    }
  }
  const mean = sum / n;
  return { mean, sd: Math.sqrt(Math.max(0, sum2 / n - mean * mean)) };
}

describe('the reading console viewer (layouts, orientation, measurements, cine) in Chromium', () => {
  let loire: TestLoire;
  let browser: Browser;
  let page: Page;
  let ref: Reference;
  let consolePage: ConsolePage;

  async function openStudy(studyUid: string): Promise<void> {
    await page.goto(`${loire.httpUrl}/viewer?StudyInstanceUIDs=${studyUid}`);
    await page.locator('.viewport-panel[data-viewport-index="0"][data-state="ready"]').waitFor({ timeout: UI_TIMEOUT });
  }

  beforeAll(async () => {
    requireBuiltConsole();
    loire = await startTestLoire();
    for (const dir of [HEAD_CT, MR_PRIOR]) await storeDirectory(loire, samplePath(dir));
    await storeFiles(loire, [samplePath(US_CINE)]);
    ref = await pydicomReference();
    browser = await launchBrowser();
    consolePage = await openConsolePage(browser, loire);
    page = consolePage.page;
  }, 10 * 60_000);

  afterAll(() => closeConsoleTest({ browser, loire }), 120_000);

  it('lays out 1 to 9 viewports, each with its own series, and loads series by drag and drop or into the active one', async () => {
    const [first, second] = ref.mr.series;
    expect(ref.mr.series).toHaveLength(2);
    await openStudy(ref.mr.studyUid);
    const shown = (await viewportState(page, 0)).seriesUid!;
    const other = shown === first!.uid ? second! : first!;
    const mine = shown === first!.uid ? first! : second!;
    expect((await viewportState(page, 0)).slices).toBe(String(mine.images));

    // Every layout gives rows × columns viewports, laid out as a grid.
    for (const [id, rows, columns] of [['1x2', 1, 2], ['2x1', 2, 1], ['2x3', 2, 3], ['3x3', 3, 3], ['2x2', 2, 2]] as const) {
      await page.locator('select[name="layout"]').selectOption(id);
      await page.locator(`.viewport-grid[data-layout="${id}"]`).waitFor();
      expect(await page.locator('.viewport-panel').count(), id).toBe(rows * columns);
      const boxes = await page.locator('.viewport-panel').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON() as DOMRect));
      expect(new Set(boxes.map((b) => Math.round(b.left))).size, id).toBe(columns);
      expect(new Set(boxes.map((b) => Math.round(b.top))).size, id).toBe(rows);
    }
    // The new viewport got the series not shown yet; the others stay empty.
    await page.locator(`.viewport-panel[data-viewport-index="1"][data-series-uid="${other.uid}"][data-state="ready"]`).waitFor();
    expect((await viewportState(page, 1)).slices).toBe(String(other.images));
    expect((await viewportState(page, 2)).state).toBe('empty');
    expect((await viewportState(page, 3)).state).toBe('empty');

    // Drag a thumbnail onto viewport 3 (HTML5 drag and drop).
    await page.locator(`.series[data-series-uid="${mine.uid}"]`).dragTo(panel(page, 2));
    await page.locator(`.viewport-panel[data-viewport-index="2"][data-series-uid="${mine.uid}"][data-state="ready"]`).waitFor();

    // Select viewport 4 by clicking it, then load a series into it by clicking a thumbnail (keyboard path).
    await panel(page, 3).click();
    await page.locator('.viewport-panel[data-viewport-index="3"][data-active="true"]').waitFor();
    expect(await page.locator('.viewport-panel[data-active="true"]').count()).toBe(1);
    await page.locator(`.series[data-series-uid="${other.uid}"]`).focus();
    await page.keyboard.press('Enter');
    await page.locator(`.viewport-panel[data-viewport-index="3"][data-series-uid="${other.uid}"][data-state="ready"]`).waitFor();

    // Keys act on the active viewport only.
    await panel(page, 3).click();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.locator('.viewport-panel[data-viewport-index="3"][data-slice="3"]').waitFor();
    expect((await viewportState(page, 1)).slice).toBe('1');
    expect((await viewportState(page, 0)).slice).toBe('1');
    // Each viewport publishes its own geometry: viewports 2 and 4 show the same series in
    // cells of the same size, but 4 has a different slice, so its state is its own.
    expect((await viewportState(page, 3)).indexToCanvas).not.toBe('');
    expect((await viewportState(page, 1)).slice).not.toBe((await viewportState(page, 3)).slice);
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLElement>('.viewport-panel')].every((p) => p.dataset.state === 'ready'));
    await page.screenshot({ path: path.join(SCREENSHOTS, 'viewer-layout-2x2.png') });
    await page.locator('select[name="layout"]').selectOption('1x1');
    await page.locator('.viewport-grid[data-layout="1x1"]').waitFor();
    expect(await page.locator('.viewport-panel').count()).toBe(1);
  }, TEST_TIMEOUT);

  it('rotates, flips and inverts the image through the camera: the map and the pixels follow', async () => {
    await openStudy(ref.ct.studyUid);
    const { rows, cols } = ref.ct;
    const hu = floats(ref.ct.slice35);
    await page.locator('.viewport-host').first().hover();
    for (let i = 1; i < 35; i++) await page.keyboard.press('ArrowDown');
    await page.locator('.viewport-panel[data-slice="35"][data-rendered-slice="35"]').waitFor();
    let state = await viewportState(page);
    expect([state.rotation, state.flipH, state.flipV, state.invert]).toEqual(['0', 'false', 'false', 'false']);
    const before = parseAffine(state.indexToCanvas!);
    // Unrotated: a column step goes right, a row step goes down.
    expect(before.cx).toBeGreaterThan(0);
    expect(Math.abs(before.cy)).toBeLessThan(1e-3);
    expect(before.ry).toBeGreaterThan(0);

    // Rotate 90° clockwise: the column direction now maps to +y, the row direction to −x.
    let renders = Number(state.renders);
    await page.locator('[data-action="rotate"]').click();
    await page.locator('.viewport-panel[data-rotation="90"]').waitFor();
    await nextRender(page, renders);
    state = await viewportState(page);
    const rotated = parseAffine(state.indexToCanvas!);
    expect(Math.abs(rotated.cx)).toBeLessThan(1e-3);
    expect(rotated.cy).toBeCloseTo(before.cx, 3);
    expect(rotated.rx).toBeCloseTo(-before.ry, 3);
    expect(Math.abs(rotated.ry)).toBeLessThan(1e-3);
    // And the canvas shows the slice as the rotated map says (same tolerance as the unrotated
    // acceptance test: mean ≤ 1 grey level, 99 % within 3), and not as the old map says.
    const canvas = await readCanvas(panel(page, 0).locator('.viewport-host canvas'));
    const width = Number(state.windowWidth);
    const center = Number(state.windowCenter);
    const asRotated = compareWithReference(canvas, rotated, hu, cols, rows, width, center);
    const asBefore = compareWithReference(canvas, before, hu, cols, rows, width, center);
    console.info('rotated canvas against the rotated map, and against the unrotated one:', asRotated, asBefore);
    expect(asRotated.samples).toBeGreaterThan(20_000);
    expect(asRotated.mean, JSON.stringify(asRotated)).toBeLessThanOrEqual(1);
    expect(asRotated.p99, JSON.stringify(asRotated)).toBeLessThanOrEqual(3);
    expect(asBefore.mean).toBeGreaterThan(10);

    // Reset, then flip horizontally: a column step goes left.
    await page.keyboard.press('r');
    await page.locator('.viewport-panel[data-rotation="0"]').waitFor();
    await page.locator('[data-action="flipH"]').click();
    await page.locator('.viewport-panel[data-flip-h="true"]').waitFor();
    const flipped = parseAffine((await viewportState(page)).indexToCanvas!);
    expect(flipped.cx).toBeCloseTo(-before.cx, 3);
    expect(flipped.ry).toBeCloseTo(before.ry, 3);
    await page.keyboard.press('v');
    await page.locator('.viewport-panel[data-flip-v="true"]').waitFor();
    const flippedBoth = parseAffine((await viewportState(page)).indexToCanvas!);
    expect(flippedBoth.ry).toBeCloseTo(-before.ry, 3);
    await page.keyboard.press('r');
    await page.locator('.viewport-panel[data-flip-h="false"][data-flip-v="false"]').waitFor();
    // Reset brings the original picture back.
    const restored = await waitForPicture(page, hu, cols, rows);
    expect(restored.mean, JSON.stringify(restored)).toBeLessThanOrEqual(1);

    // Invert: each grey level g becomes 255 − g.
    const plain = await readCanvas(panel(page, 0).locator('.viewport-host canvas'));
    renders = Number((await viewportState(page)).renders);
    await page.keyboard.press('i');
    await page.locator('.viewport-panel[data-invert="true"]').waitFor();
    await nextRender(page, renders);
    const inverted = await readCanvas(panel(page, 0).locator('.viewport-host canvas'));
    // Over the image only: the background around it stays black.
    const map = parseAffine((await viewportState(page)).indexToCanvas!);
    const ratio = plain.width / plain.cssWidth;
    let off = 0;
    let samples = 0;
    let dark = 0;
    for (let y = 0; y < plain.height; y += 3) {
      for (let x = 0; x < plain.width; x += 3) {
        const [i, j] = canvasToIndex(map, (x + 0.5) / ratio, (y + 0.5) / ratio);
        if (!(i >= 1 && j >= 1 && i <= cols - 2 && j <= rows - 2)) continue;
        const k = y * plain.width + x;
        off += Math.abs(inverted.gray[k]! - (255 - plain.gray[k]!));
        if (plain.gray[k] === 0) dark++;
        samples++;
      }
    }
    console.info(`inversion: mean |inverted − (255 − plain)| = ${off / samples} over ${samples} samples (${dark} black before)`);
    expect(dark).toBeGreaterThan(100); // the air around the head: black before, white after
    expect(samples - dark).toBeGreaterThan(1000); // and the head itself
    expect(off / samples).toBeLessThanOrEqual(1);
    await page.keyboard.press('r');
    await page.locator('.viewport-panel[data-invert="false"]').waitFor();
  }, TEST_TIMEOUT);

  it('shows the patient-direction letters at the edges, following flips and rotation, and a scale bar in mm', async () => {
    // Head CT axial, IOP 1\0\0\0\1\0: rows run to the patient's left, columns to posterior.
    expect(ref.ct.orientation).toEqual([1, 0, 0, 0, 1, 0]);
    await page.locator('.viewport-panel [data-orientation="left"]').waitFor();
    expect(await orientationLetters(page)).toEqual({ left: 'R', right: 'L', top: 'A', bottom: 'P' });
    await page.keyboard.press('h');
    await page.locator('.viewport-panel[data-flip-h="true"]').waitFor();
    expect(await orientationLetters(page)).toEqual({ left: 'L', right: 'R', top: 'A', bottom: 'P' });
    await page.keyboard.press('r');
    await page.locator('.viewport-panel[data-flip-h="false"]').waitFor();
    await page.keyboard.press(']');
    await page.locator('.viewport-panel[data-rotation="90"]').waitFor();
    // Rotated clockwise: what was on the left (R) is now on top.
    expect(await orientationLetters(page)).toEqual({ left: 'P', right: 'A', top: 'R', bottom: 'L' });
    await page.keyboard.press('r');
    await page.locator('.viewport-panel[data-rotation="0"]').waitFor();

    // Scale bar: its screen length is its mm length over the pixel spacing, times the screen
    // pixels per image pixel; after zooming, a bar of another size still measures true.
    const scale = async () => {
      const bar = page.locator('.viewport-panel .scale-bar');
      const mm = Number(await bar.getAttribute('data-scale-mm'));
      const px = Number(await bar.getAttribute('data-scale-px'));
      const a = parseAffine((await viewportState(page)).indexToCanvas!);
      const line = await bar.locator('.scale-line').evaluate((e) => e.getBoundingClientRect().width);
      return { mm, px, line, expectedPx: (mm / ref.ct.pixelSpacing[1]) * Math.hypot(a.cx, a.cy) };
    };
    // Read once the bar holds still (a reading taken during a change could mix two states).
    const settled = async () => {
      for (;;) {
        const first = await scale();
        await page.waitForTimeout(300);
        const second = await scale();
        if (JSON.stringify(first) === JSON.stringify(second)) return second;
      }
    };
    const fit = await settled();
    expect(fit.mm).toBeGreaterThan(0);
    expect(fit.px).toBeCloseTo(fit.expectedPx, 1);
    expect(Math.abs(fit.line - fit.px)).toBeLessThanOrEqual(1);
    // Zoom in with the right button (drag down), as a reader does.
    const box = (await page.locator('.viewport-host').first().boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2 - 150);
    await page.mouse.down({ button: 'right' });
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2 + 150, { steps: 10 });
    await page.mouse.up({ button: 'right' });
    await page.waitForFunction((mm) => Number(document.querySelector<HTMLElement>('.viewport-panel .scale-bar')?.dataset.scaleMm) < mm, fit.mm);
    const zoomed = await settled();
    console.info('scale bar at fit and zoomed:', fit, zoomed);
    expect(zoomed.px).toBeCloseTo(zoomed.expectedPx, 1);
    expect(Math.abs(zoomed.line - zoomed.px)).toBeLessThanOrEqual(1);
    expect(zoomed.mm).toBeLessThan(fit.mm);
    await page.keyboard.press('r');
  }, TEST_TIMEOUT);

  it('measures a rectangle ROI with the mean and SD of the pixels in HU, a probe value, an ellipse and an angle', async () => {
    const { cols, pixelSpacing } = ref.ct;
    const [rowSpacing, columnSpacing] = pixelSpacing;
    const hu = floats(ref.ct.slice35);
    await page.locator('.viewport-panel[data-slice="35"][data-state="ready"]').waitFor();
    await page.keyboard.press('b');
    await page.locator('[data-tool="rectangle"][aria-pressed="true"]').waitFor();
    const a = await pagePoint(page, 200, 300);
    const b = await pagePoint(page, 300, 360);
    await page.mouse.move(a.x, a.y);
    await page.mouse.down();
    await page.mouse.move(b.x, b.y, { steps: 10 });
    await page.mouse.up();
    const rect = page.locator('.measurement[data-kind="rectangle"]');
    await rect.waitFor();
    // Let the last statistics land (the panel follows the shape while it is drawn).
    await page.waitForTimeout(500);
    const mean = Number(await rect.getAttribute('data-mean'));
    const sd = Number(await rect.getAttribute('data-sd'));
    const area = Number(await rect.getAttribute('data-area'));
    expect(await rect.getAttribute('data-unit')).toBe('HU');
    // Expected: the statistics of the pixels between the corners where the mouse landed. Which
    // edge pixels a tool counts is its own choice: the shown values must lie within the range
    // given by the rectangle grown or shrunk by one pixel on each side (± 0.5 HU).
    const base = [Math.round(a.i), Math.round(b.i), Math.round(a.j), Math.round(b.j)] as const;
    const means: number[] = [];
    const sds: number[] = [];
    for (const d0 of [-1, 0, 1]) for (const d1 of [-1, 0, 1]) for (const d2 of [-1, 0, 1]) for (const d3 of [-1, 0, 1]) {
      const s = regionStats(hu, cols, base[0] + d0, base[1] + d1, base[2] + d2, base[3] + d3);
      means.push(s.mean);
      sds.push(s.sd);
    }
    const exact = regionStats(hu, cols, ...base);
    console.info(`rectangle ROI: shown mean ${mean} SD ${sd} area ${area}; pixels mean ${exact.mean} SD ${exact.sd}, mean range ${Math.min(...means)}..${Math.max(...means)}, SD range ${Math.min(...sds)}..${Math.max(...sds)}`);
    expect(mean).toBeGreaterThanOrEqual(Math.min(...means) - 0.5);
    expect(mean).toBeLessThanOrEqual(Math.max(...means) + 0.5);
    expect(sd).toBeGreaterThanOrEqual(Math.min(...sds) - 0.5);
    expect(sd).toBeLessThanOrEqual(Math.max(...sds) + 0.5);
    // Area: between the rectangle spanned by the landing points and the one that counts both
    // edge pixels whole (one pixel more each way), in mm², with 0.5 % margin.
    const w = Math.abs(b.i - a.i);
    const h = Math.abs(b.j - a.j);
    expect(area, `area ${area} mm²`).toBeGreaterThanOrEqual(w * h * columnSpacing * rowSpacing * 0.995);
    expect(area, `area ${area} mm²`).toBeLessThanOrEqual((w + 1) * (h + 1) * columnSpacing * rowSpacing * 1.005);
    await expectText(rect, /Rect 1 \(Im 35\): mean -?\d+\.\d HU, SD \d+\.\d, area \d+\.\d mm/);

    // Probe: the HU of the pixel under the mouse.
    await page.keyboard.press('x');
    const p = await pagePoint(page, 256, 200);
    await page.mouse.click(p.x, p.y);
    const probe = page.locator('.measurement[data-kind="probe"]');
    await probe.waitFor();
    const value = Number(await probe.getAttribute('data-value'));
    const candidates = [Math.floor(p.i), Math.round(p.i)].flatMap((i) => [Math.floor(p.j), Math.round(p.j)].map((j) => hu[j * cols + i]!));
    expect(candidates.some((v) => Math.abs(v - value) <= 0.5), `probe ${value}, pixels ${candidates}`).toBe(true);

    // Ellipse inside the rectangle, drawn from its centre to a corner of its bounding box: its
    // mean lies between the rectangle's minimum and maximum.
    await page.keyboard.press('e');
    const e0 = await pagePoint(page, 250, 330);
    const e1 = await pagePoint(page, 290, 350);
    await page.mouse.move(e0.x, e0.y);
    await page.mouse.down();
    await page.mouse.move(e1.x, e1.y, { steps: 10 });
    await page.mouse.up();
    const ellipse = page.locator('.measurement[data-kind="ellipse"]');
    await ellipse.waitFor();
    await page.waitForTimeout(500);
    let low = Infinity;
    let high = -Infinity;
    for (let j = base[2]; j <= base[3]; j++) for (let i = base[0]; i <= base[1]; i++) {
      low = Math.min(low, hu[j * cols + i]!);
      high = Math.max(high, hu[j * cols + i]!);
    }
    const ellipseMean = Number(await ellipse.getAttribute('data-mean'));
    expect(ellipseMean).toBeGreaterThanOrEqual(low);
    expect(ellipseMean).toBeLessThanOrEqual(high);
    // Its area: π·a·b with the semi-axes from the centre to the corner, within 5 %.
    const ellipseArea = Number(await ellipse.getAttribute('data-area'));
    const expectedEllipse = Math.PI * (Math.abs(e1.i - e0.i) * columnSpacing) * (Math.abs(e1.j - e0.j) * rowSpacing);
    expect(Math.abs(ellipseArea - expectedEllipse) / expectedEllipse, `ellipse ${ellipseArea} mm², expected ${expectedEllipse}`).toBeLessThanOrEqual(0.05);

    // Angle: drag the first arm, then click the end of the second. Expected from the landing points.
    await page.keyboard.press('a');
    const v0 = await pagePoint(page, 150, 150);
    const v1 = await pagePoint(page, 250, 150);
    const v2 = await pagePoint(page, 250, 60);
    await page.mouse.move(v0.x, v0.y);
    await page.mouse.down();
    await page.mouse.move(v1.x, v1.y, { steps: 10 });
    await page.mouse.up();
    await page.mouse.move(v2.x, v2.y, { steps: 10 });
    await page.mouse.down();
    await page.mouse.up();
    const angle = page.locator('.measurement[data-kind="angle"]');
    await angle.waitFor();
    await page.waitForTimeout(500);
    const shownAngle = Number(await angle.getAttribute('data-angle-deg'));
    const arm = (q: { i: number; j: number }) => [(q.i - v1.i) * columnSpacing, (q.j - v1.j) * rowSpacing] as const;
    const [ax, ay] = arm(v0);
    const [bx, by] = arm(v2);
    const expectedAngle = (Math.acos((ax * bx + ay * by) / (Math.hypot(ax, ay) * Math.hypot(bx, by))) * 180) / Math.PI;
    expect(Math.abs(shownAngle - expectedAngle), `angle ${shownAngle}°, expected ${expectedAngle}°`).toBeLessThanOrEqual(0.5);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'viewer-measurements.png') });
    await page.keyboard.press('w');
  }, TEST_TIMEOUT);

  it('plays a multi-frame US as a cine loop at its recommended rate, and pauses', async () => {
    await openStudy(ref.us.studyUid);
    const state = await viewportState(page);
    expect(state.slices).toBe(String(ref.us.frames));
    expect(ref.us.frameRate).not.toBeNull();
    expect(Number(state.fps)).toBe(ref.us.frameRate);
    expect(state.cine).toBe('paused');
    await page.locator('input[name="fps"]').fill('20');
    await page.locator('.viewport-panel[data-fps="20"]').waitFor();
    await page.locator('[data-action="cine"]').click();
    await page.locator('.viewport-panel[data-cine="playing"]').waitFor();
    // The frame changes by itself, more than once.
    const seen = new Set<string>();
    await page.waitForFunction(() => true);
    for (let k = 0; k < 3; k++) {
      const now = (await viewportState(page)).slice!;
      seen.add(now);
      await page.waitForFunction((s) => document.querySelector<HTMLElement>('.viewport-panel')?.dataset.slice !== s, now);
    }
    expect(seen.size).toBeGreaterThanOrEqual(2);
    await page.keyboard.press(' ');
    await page.locator('.viewport-panel[data-cine="paused"]').waitFor();
    const stopped = (await viewportState(page)).slice;
    await page.waitForTimeout(1500);
    expect((await viewportState(page)).slice).toBe(stopped);
  }, TEST_TIMEOUT);

  it('logged no error in the page', () => {
    expect(consolePage.errors).toEqual([]);
  });
});

async function expectText(locator: Locator, expected: RegExp): Promise<void> {
  await locator.waitFor();
  await locator.page().waitForFunction(
    ([element, pattern]) => new RegExp(pattern as string, 'i').test((element as HTMLElement | null)?.textContent ?? ''),
    [await locator.elementHandle(), expected.source] as const,
    { timeout: UI_TIMEOUT },
  );
}
