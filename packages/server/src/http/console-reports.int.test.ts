// Acceptance of measurements and key images saved back into the study (issue "The reading
// console"), in real headless Chromium against a whole Loire: draw a length of a known distance on
// slice 35 of the 70-slice head CT, check its mm, save it (a TID 1500 report through the API),
// check the report holds it on that image at the points drawn (DICOM image coordinates), reload:
// it is back; mark a key image, save, reload: marked; another user, a clinician, sees both and
// may not save; a rectangle ROI goes to the report as a closed polyline and comes back the same.
//
// Needs the built console and Debian's chromium (LOIRE_CHROMIUM to point elsewhere), like
// console.int.test.ts, whose "measures a known distance in mm" draws the same way.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiGet, closeConsoleTest, type ConsolePage, launchBrowser, loginThroughForm, openConsolePage, requireBuiltConsole, SCREENSHOTS, storeDirectory, TEST_TIMEOUT, UI_TIMEOUT } from '../testing/browser.js';
import { pageMapping, parseAffine } from '../testing/canvas-reference.js';
import { startTestLoire, type TestLoire } from '../testing/loire.js';
import { samplePath } from '../testing/samples.js';

const HEAD_CT = 'ct-series/philips-head-ct-std-brain-1mm';

interface Reference {
  studyUid: string;
  /** SOP Instance UIDs in Instance Number order. */
  sops: string[];
  pixelSpacing: [number, number];
}

async function pydicomReference(dir: string): Promise<Reference> {
  const script = `
import sys, json, glob, os
import pydicom
ds = sorted((pydicom.dcmread(f, stop_before_pixels=True) for f in glob.glob(os.path.join(sys.argv[1], '*'))), key=lambda d: int(d.InstanceNumber))
print(json.dumps({'studyUid': str(ds[0].StudyInstanceUID), 'sops': [str(d.SOPInstanceUID) for d in ds],
  'pixelSpacing': [float(v) for v in ds[34].PixelSpacing]}))`;
  const { stdout } = await promisify(execFile)('/usr/bin/python3', ['-c', script, dir], { maxBuffer: 16 << 20 });
  return JSON.parse(stdout) as Reference;
}

interface StoredMeasurement {
  trackingUid: string; kind: string; image?: { sopInstanceUid: string; frame?: number };
  points?: [number, number][]; values: { length?: number; area?: number; mean?: number };
}
interface Measurements { current?: { author: string; sopInstanceUid: string; measurements: StoredMeasurement[] }; reports: unknown[] }
interface KeyImages { documents: { author: string; images: { sopInstanceUid: string }[] }[] }

async function viewportState(page: Page) {
  return page.locator('.viewport-panel').evaluate((e: HTMLElement) => ({ ...e.dataset }));
}

async function openStudy(page: Page, loire: TestLoire, studyUid: string): Promise<void> {
  await page.goto(`${loire.httpUrl}/viewer?StudyInstanceUIDs=${studyUid}`);
  await page.locator('.viewport-panel[data-state="ready"]').waitFor();
  // The saved measurements and key images are read once the study opens.
  await page.locator('[data-save-state="idle"]').waitFor({ state: 'attached' });
}

/** Scrolls the viewport to a 1-based slice with the arrow keys and waits until it is drawn. */
async function goToSlice(page: Page, slice: number): Promise<void> {
  const current = Number((await viewportState(page)).slice);
  const key = slice > current ? 'ArrowDown' : 'ArrowUp';
  for (let i = 0; i < Math.abs(slice - current); i++) await page.keyboard.press(key);
  await page.locator(`.viewport-panel[data-slice="${slice}"][data-rendered-slice="${slice}"]`).waitFor();
}

describe('measurements and key images saved into the study', () => {
  let loire: TestLoire;
  let browser: Browser;
  let ref: Reference;
  let radiologist: ConsolePage;
  let clinician: ConsolePage | undefined;
  let page: Page;
  /** What was drawn: the length shown, and its end points in DICOM image coordinates. */
  const drawn = { mm: 0, points: [] as [number, number][] };

  beforeAll(async () => {
    requireBuiltConsole();
    loire = await startTestLoire();
    const dir = samplePath(HEAD_CT);
    await storeDirectory(loire, dir);
    ref = await pydicomReference(dir);
    browser = await launchBrowser();
    radiologist = await openConsolePage(browser, loire);
    page = radiologist.page;
  }, 10 * 60_000);

  afterAll(() => closeConsoleTest({ browser, loire }), 120_000);

  it('draws a length of a known distance on slice 35 and shows it in mm, not saved yet', async () => {
    await openStudy(page, loire, ref.studyUid);
    expect(await page.locator('[data-action="save"]').getAttribute('title')).toBe('Nothing changed since the last save');
    await goToSlice(page, 35);
    await page.locator('[data-tool="length"]').click();
    const affine = parseAffine((await viewportState(page)).indexToCanvas!);
    // From column 106 to 406 of row 256 (pixel centres), where the mouse lands (whole page pixels).
    const { toPage, toIndex } = await pageMapping(page.locator('.viewport-host canvas').first(), affine);
    const a = toPage(106, 256);
    const b = toPage(406, 256);
    // The affine map takes pixel indices (i, j: pixel centres) to the canvas; DICOM image
    // coordinates put that centre at (i + 0.5, j + 0.5) (PS3.3 C.18.6.1.1).
    const index = [toIndex(a), toIndex(b)];
    drawn.points = index.map(([i, j]) => [i + 0.5, j + 0.5] as [number, number]);
    const [rowSpacing, columnSpacing] = ref.pixelSpacing;
    const expected = Math.hypot((index[1]![0] - index[0]![0]) * columnSpacing, (index[1]![1] - index[0]![1]) * rowSpacing);
    await page.mouse.move(a.x, a.y);
    await page.mouse.down();
    await page.mouse.move(b.x, b.y, { steps: 10 });
    // The last moves may arrive a frame late on a busy machine: release once the line reached the end.
    await page.waitForFunction((target) => {
      const shown = document.querySelector<HTMLElement>('.measurement[data-length-mm]')?.dataset.lengthMm;
      return shown !== undefined && Math.abs(Number(shown) - target) <= 0.05;
    }, expected).catch(() => undefined);
    await page.mouse.up();
    const measurement = page.locator('.measurement[data-length-mm][data-unsaved="true"]');
    await measurement.waitFor();
    drawn.mm = Number(await measurement.getAttribute('data-length-mm'));
    expect(expected).toBeGreaterThan(130); // about 300 × 0.45 mm
    expect(Math.abs(drawn.mm - expected), `shown ${drawn.mm} mm, expected ${expected} mm`).toBeLessThanOrEqual(0.05);
    expect(await measurement.getAttribute('data-slice')).toBe('35');
    expect(await page.locator('[data-action="save"]').isEnabled()).toBe(true);
  }, TEST_TIMEOUT);

  it('saves it: the study\'s report holds that length on slice 35 at the points drawn', async () => {
    await page.locator('[data-action="save"]').click();
    await page.locator('[data-save-state="saved"]').waitFor({ state: 'attached' });
    expect(await page.locator('.save-status').textContent()).toBe('Saved');
    await page.locator('.measurement[data-length-mm][data-unsaved="false"]').waitFor();
    expect(await page.locator('[data-action="save"]').isDisabled()).toBe(true);

    const saved = await apiGet<Measurements>(page, `/api/studies/${ref.studyUid}/measurements`);
    expect(saved.reports).toHaveLength(1);
    const [m, ...rest] = saved.current!.measurements;
    expect(rest).toEqual([]);
    expect(m!.kind).toBe('length');
    expect(m!.trackingUid).toMatch(/^2\.25\.\d+$/);
    // On slice 35 (Instance Number order), a single-frame image: no frame number.
    expect(m!.image).toMatchObject({ sopInstanceUid: ref.sops[34] });
    expect(m!.image!.frame).toBeUndefined();
    expect(Math.abs(m!.values.length! - drawn.mm)).toBeLessThanOrEqual(0.001);
    expect(m!.points).toHaveLength(2);
    m!.points!.forEach((p, k) => {
      const [column, row] = drawn.points[k]!;
      expect(Math.abs(p[0] - column), `point ${k} column ${p[0]} vs ${column}`).toBeLessThanOrEqual(0.5);
      expect(Math.abs(p[1] - row), `point ${k} row ${p[1]} vs ${row}`).toBeLessThanOrEqual(0.5);
    });
    // The points alone give back the length: (column, row) steps times Pixel Spacing [1], [0].
    const [p0, p1] = m!.points!;
    expect(Math.hypot((p1![0] - p0![0]) * ref.pixelSpacing[1], (p1![1] - p0![1]) * ref.pixelSpacing[0])).toBeCloseTo(drawn.mm, 2);
    // A DICOM object of the study: the report is an SR instance QIDO-RS finds.
    const sr = await apiGet<Record<string, { Value?: unknown[] }>[]>(page, `/dicom-web/studies/${ref.studyUid}/instances?SOPInstanceUID=${saved.current!.sopInstanceUid}`);
    expect(sr).toHaveLength(1);
    expect(sr[0]!['00080060']?.Value).toEqual(['SR']);
  }, TEST_TIMEOUT);

  it('shows it again after a reload, on slice 35 with the same value', async () => {
    await page.reload();
    await page.locator('.viewport-panel[data-state="ready"]').waitFor();
    await page.locator('[data-save-state="idle"]').waitFor({ state: 'attached' });
    const measurement = page.locator('.measurement[data-length-mm]');
    await measurement.waitFor();
    expect(await page.locator('.measurement').count()).toBe(1);
    expect(await measurement.getAttribute('data-slice')).toBe('35');
    expect(await measurement.getAttribute('data-unsaved')).toBe('false');
    expect(await measurement.getAttribute('data-author')).toBeTruthy();
    const trackingUid = (await apiGet<Measurements>(page, `/api/studies/${ref.studyUid}/measurements`)).current!.measurements[0]!.trackingUid;
    // Drawn on slice 35 only, where the tool measures its points again.
    expect(await page.locator(`.viewport-host svg [data-id="${trackingUid}-line"]`).count()).toBe(0);
    await goToSlice(page, 35);
    // (attached: a horizontal line has no height, which Playwright calls hidden)
    await page.locator(`.viewport-host svg [data-id="${trackingUid}-line"]`).first().waitFor({ state: 'attached' });
    expect(Math.abs(Number(await measurement.getAttribute('data-length-mm')) - drawn.mm)).toBeLessThanOrEqual(0.001);
    expect(await page.locator('[data-action="save"]').isDisabled()).toBe(true);
  }, TEST_TIMEOUT);

  it('marks slice 35 as key image (K), saves it, and finds it marked after a reload', async () => {
    expect(await page.locator('.viewport-panel').getAttribute('data-key-image')).toBe('false');
    await page.keyboard.press('k');
    await page.locator('.viewport-panel[data-key-image="true"]').waitFor();
    await page.locator('[data-overlay="key-image"]').filter({ hasText: 'Key image' }).waitFor();
    expect(await page.locator('[data-action="key-image"]').getAttribute('aria-pressed')).toBe('true');
    // Ctrl+S saves, like the button.
    await page.keyboard.press('Control+s');
    await page.locator('[data-save-state="saved"]').waitFor({ state: 'attached' });
    const keys = await apiGet<KeyImages>(page, `/api/studies/${ref.studyUid}/key-images`);
    expect(keys.documents).toHaveLength(1);
    expect(keys.documents[0]!.images.map((i) => i.sopInstanceUid)).toEqual([ref.sops[34]]);
    // The measurements did not change: no new report.
    expect((await apiGet<Measurements>(page, `/api/studies/${ref.studyUid}/measurements`)).reports).toHaveLength(1);

    await openStudy(page, loire, ref.studyUid);
    await page.locator('.series [data-key-images]').waitFor();
    await goToSlice(page, 34);
    expect(await page.locator('.viewport-panel').getAttribute('data-key-image')).toBe('false');
    await goToSlice(page, 35);
    await page.locator('.viewport-panel[data-key-image="true"]').waitFor();
    await page.screenshot({ path: path.join(SCREENSHOTS, 'viewer-saved-measurement-key-image.png') });
  }, TEST_TIMEOUT);

  it('shows both to a clinician, who may not save', async () => {
    const user = await loire.createUser(['clinician']);
    clinician = await openConsolePage(browser);
    await loginThroughForm(clinician, loire, user.username, user.password);
    const other = clinician.page;
    await openStudy(other, loire, ref.studyUid);
    const measurement = other.locator('.measurement[data-length-mm]');
    await measurement.waitFor();
    expect(await measurement.getAttribute('data-slice')).toBe('35');
    expect(Math.abs(Number(await measurement.getAttribute('data-length-mm')) - drawn.mm)).toBeLessThanOrEqual(0.001);
    await other.locator('.series [data-key-images]').waitFor();
    const save = other.locator('[data-action="save"]');
    expect(await save.isDisabled()).toBe(true);
    expect(await save.getAttribute('title')).toMatch(/clinician.*not save/);
    await goToSlice(other, 35);
    await other.locator('.viewport-panel[data-key-image="true"]').waitFor();
    // Ctrl+S does nothing for them either.
    await other.keyboard.press('Control+s');
    expect(await other.locator('[data-save-state]').getAttribute('data-save-state')).toBe('idle');
  }, TEST_TIMEOUT);

  it('saves a rectangle ROI as a closed polyline and draws it again with the same area and mean', async () => {
    await openStudy(page, loire, ref.studyUid);
    await goToSlice(page, 35);
    await page.locator('[data-tool="rectangle"]').click();
    const affine = parseAffine((await viewportState(page)).indexToCanvas!);
    const { toPage, toIndex } = await pageMapping(page.locator('.viewport-host canvas').first(), affine);
    const a = toPage(200, 300);
    const b = toPage(260, 340);
    const corners = [a, b].map((p) => toIndex(p).map((v) => v + 0.5) as [number, number]);
    await page.mouse.move(a.x, a.y);
    await page.mouse.down();
    await page.mouse.move(b.x, b.y, { steps: 10 });
    await page.mouse.up();
    // The tool computes its statistics a moment after the last move: wait for those of the
    // rectangle where the mouse landed (its area: columns × Pixel Spacing[1] by rows × [0]).
    const expectedArea = Math.abs(corners[1]![0] - corners[0]![0]) * ref.pixelSpacing[1] * Math.abs(corners[1]![1] - corners[0]![1]) * ref.pixelSpacing[0];
    await page.waitForFunction((target) => {
      const shown = document.querySelector<HTMLElement>('.measurement[data-kind="rectangle"][data-mean]')?.dataset.area;
      return shown !== undefined && Math.abs(Number(shown) - target) <= 0.05;
    }, expectedArea);
    const roi = page.locator('.measurement[data-kind="rectangle"][data-mean]');
    const [mean, area] = [Number(await roi.getAttribute('data-mean')), Number(await roi.getAttribute('data-area'))];
    await page.locator('[data-action="save"]').click();
    await page.locator('[data-save-state="saved"]').waitFor({ state: 'attached' });

    const saved = await apiGet<Measurements>(page, `/api/studies/${ref.studyUid}/measurements`);
    expect(saved.reports).toHaveLength(2);
    expect(saved.current!.measurements.map((m) => m.kind).sort()).toEqual(['length', 'rectangle']);
    const stored = saved.current!.measurements.find((m) => m.kind === 'rectangle')!;
    expect(stored.image!.sopInstanceUid).toBe(ref.sops[34]);
    expect(Math.abs(stored.values.area! - area)).toBeLessThanOrEqual(0.001);
    expect(Math.abs(stored.values.mean! - mean)).toBeLessThanOrEqual(0.001);
    // Closed: five points, the first repeated last, each a corner of the rectangle drawn.
    expect(stored.points).toHaveLength(5);
    expect(stored.points![4]).toEqual(stored.points![0]);
    const [[c0, r0], [c1, r1]] = corners as [[number, number], [number, number]];
    for (const [column, row] of stored.points!) {
      expect(Math.min(Math.abs(column - c0), Math.abs(column - c1)), `column ${column}`).toBeLessThanOrEqual(0.5);
      expect(Math.min(Math.abs(row - r0), Math.abs(row - r1)), `row ${row}`).toBeLessThanOrEqual(0.5);
    }

    await openStudy(page, loire, ref.studyUid);
    await goToSlice(page, 35);
    const back = page.locator('.measurement[data-kind="rectangle"][data-mean]');
    await back.waitFor();
    expect(Math.abs(Number(await back.getAttribute('data-mean')) - mean)).toBeLessThanOrEqual(0.01);
    expect(Math.abs(Number(await back.getAttribute('data-area')) - area)).toBeLessThanOrEqual(0.01);
    expect(await back.getAttribute('data-unsaved')).toBe('false');
    expect(await page.locator('[data-action="save"]').isDisabled()).toBe(true);
  }, TEST_TIMEOUT);

  it('logged no error in either page', () => {
    expect(radiologist.errors).toEqual([]);
    expect(clinician?.errors ?? []).toEqual([]);
  });
});
