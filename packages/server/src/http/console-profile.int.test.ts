// Acceptance of the user profile in the viewer (docs/console.md, "User profiles"), in real headless
// Chromium against a whole Loire: with nothing saved the viewer keeps its defaults; a profile's
// toolbar, mouse bindings, shortcuts, window presets and default layout then apply; the Settings
// menu changes the left button and saves to the profile without losing its other fields. Also the
// "MR auto" window (the 1st to 99th percentile of the slice's values, computed here with numpy) and
// the study's instance query, sent once when a study opens.
//
// Data: pydicom's MR_small (an MR with a header window), and three copies of it as one study of
// three "OT" series, for which no hanging protocol decides the layout.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiGet, closeConsoleTest, type ConsolePage, launchBrowser, openConsolePage, requireBuiltConsole, storeFiles, TEST_TIMEOUT } from '../testing/browser.js';
import { startTestLoire, type TestLoire } from '../testing/loire.js';
import { samplePath } from '../testing/samples.js';

const MR_SMALL = 'pydicom-test-files/MR_small.dcm';

interface Reference {
  mrStudy: string;
  otStudy: string;
  otSeries: string[];
  /** The MR auto window of MR_small: its values' 1st and 99th percentiles (nearest rank). */
  auto: { lower: number; upper: number };
  header: { center: number; width: number };
}

async function prepare(out: string): Promise<Reference> {
  const script = `
import sys, json, math, os
import numpy as np, pydicom
from pydicom.uid import generate_uid
src, out = sys.argv[1], sys.argv[2]
d = pydicom.dcmread(src)
values = np.sort((d.pixel_array.astype(np.float64) * float(getattr(d, 'RescaleSlope', 1)) + float(getattr(d, 'RescaleIntercept', 0))).ravel())
at = lambda q: float(values[min(len(values) - 1, max(0, int(math.floor(q * (len(values) - 1) + 0.5))))])
study, series = generate_uid(), []
for n in range(3):
  c = pydicom.dcmread(src)
  c.StudyInstanceUID, c.SeriesInstanceUID, c.SOPInstanceUID = study, generate_uid(), generate_uid()
  c.file_meta.MediaStorageSOPInstanceUID = c.SOPInstanceUID
  c.Modality, c.PatientID, c.SeriesNumber, c.SeriesDescription = 'OT', 'PROFILE-OT', n + 1, 'copy %d' % (n + 1)
  c.save_as(os.path.join(out, 'ot%d.dcm' % n))
  series.append(str(c.SeriesInstanceUID))
print(json.dumps({'mrStudy': str(d.StudyInstanceUID), 'otStudy': str(study), 'otSeries': series,
  'auto': {'lower': at(0.01), 'upper': at(0.99)}, 'header': {'center': float(d.WindowCenter), 'width': float(d.WindowWidth)}}))`;
  const { stdout } = await promisify(execFile)('/usr/bin/python3', ['-c', script, samplePath(MR_SMALL), out], { maxBuffer: 16 << 20 });
  return JSON.parse(stdout) as Reference;
}

function panel(page: Page, index = 0): Locator {
  return page.locator(`.viewport-panel[data-viewport-index="${index}"]`);
}

async function cell(page: Page, index = 0) {
  return panel(page, index).evaluate((e: HTMLElement) => ({ ...e.dataset }));
}

/** Cornerstone's window of a VOI range (utilities.windowLevel.toWindowLevel), rounded as the panel publishes it. */
function windowOf({ lower, upper }: { lower: number; upper: number }) {
  return { width: String(Math.round(upper - lower + 1)), center: String(Math.round((lower + upper + 1) / 2)) };
}

async function putProfile(page: Page, profile: unknown): Promise<number> {
  return page.evaluate(async (body) => (await fetch('/api/profile', {
    method: 'PUT', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  })).status, profile);
}

function getProfile(page: Page): Promise<Record<string, unknown>> {
  return apiGet(page, '/api/profile');
}

async function openStudy(page: Page, loire: TestLoire, studyUid: string): Promise<void> {
  await page.goto(`${loire.httpUrl}/viewer?StudyInstanceUIDs=${studyUid}`);
  await page.locator('.viewport-panel[data-viewport-index="0"][data-state="ready"]').waitFor();
}

/** Drags with the left button from (`from` CSS pixels off) the middle of a viewport, holding `modifier` if given. */
async function drag(page: Page, index: number, dx: number, dy: number, modifier?: 'Shift' | 'Control', from: [number, number] = [0, 0]): Promise<void> {
  const box = (await panel(page, index).locator('.viewport-host').boundingBox())!;
  const x = box.x + box.width / 2 + from[0];
  const y = box.y + box.height / 2 + from[1];
  if (modifier) await page.keyboard.down(modifier);
  await page.mouse.move(x, y);
  await page.mouse.down();
  for (let step = 1; step <= 5; step++) await page.mouse.move(x + (dx * step) / 5, y + (dy * step) / 5);
  await page.mouse.up();
  if (modifier) await page.keyboard.up(modifier);
}

describe('the user profile in the viewer, and the MR auto window, in Chromium', () => {
  let loire: TestLoire;
  let browser: Browser;
  let consolePage: ConsolePage;
  let page: Page;
  let ref: Reference;
  let tmp: string;

  beforeAll(async () => {
    requireBuiltConsole();
    tmp = mkdtempSync(path.join(tmpdir(), 'loire-profile-'));
    ref = await prepare(tmp);
    loire = await startTestLoire();
    await storeFiles(loire, [samplePath(MR_SMALL), ...readdirSync(tmp).map((f) => path.join(tmp, f))]);
    browser = await launchBrowser();
    consolePage = await openConsolePage(browser, loire);
    page = consolePage.page;
  }, 10 * 60_000);

  afterAll(() => closeConsoleTest({ browser, loire, tmp }), 120_000);

  it('keeps the defaults without a profile, queries the study\'s instances once, and sets the MR auto window from the pixels', async () => {
    const instanceQueries: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes(`/studies/${ref.mrStudy}/instances`)) instanceQueries.push(request.url());
    });
    await openStudy(page, loire, ref.mrStudy);
    await page.locator('[data-save-state="idle"]').waitFor({ state: 'attached' });
    await page.locator('.reading-bar[data-protocol="default-mr"]').waitFor();
    expect(instanceQueries).toHaveLength(1);

    const tools = await page.locator('.toolbar [data-tool]').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.tool));
    expect(tools).toEqual(['windowLevel', 'pan', 'zoom', 'length', 'angle', 'ellipse', 'rectangle', 'probe']);
    expect(await page.locator('[data-tool="windowLevel"]').getAttribute('aria-pressed')).toBe('true');
    expect(await page.locator('[data-tool="length"]').getAttribute('title')).toBe('Length (l)');
    expect(await page.locator('.viewport-grid').getAttribute('data-layout')).toBe('1x1');

    // The header window first; MR auto (its key, 6) sets the percentiles' window.
    const header = windowOf({ lower: ref.header.center - 0.5 - (ref.header.width - 1) / 2, upper: ref.header.center - 0.5 + (ref.header.width - 1) / 2 });
    expect((await cell(page)).windowWidth).toBe(header.width);
    const auto = windowOf(ref.auto);
    expect(auto.width).not.toBe(header.width);
    await panel(page).click();
    await page.keyboard.press('6');
    await page.locator(`.viewport-panel[data-window-width="${auto.width}"][data-window-center="${auto.center}"]`).waitFor();
    expect(await page.locator('[data-preset="auto"]').getAttribute('aria-pressed')).toBe('true');
    // Back to another window, then the button does the same.
    await page.keyboard.press('1');
    await page.locator('.viewport-panel[data-window-width="80"]').waitFor();
    await page.locator('[data-preset="auto"]').click();
    await page.locator(`.viewport-panel[data-window-width="${auto.width}"][data-window-center="${auto.center}"]`).waitFor();
    expect(consolePage.errors).toEqual([]);
  }, TEST_TIMEOUT);

  it('applies the profile: toolbar, mouse bindings, shortcuts, window presets and the default layout', async () => {
    expect(await putProfile(page, {
      version: 1,
      layout: '1x3',
      toolbar: ['length', 'nosuchtool', 'windowLevel', 'zoom'],
      mouseBindings: { primary: 'length', 'shift-primary': 'windowLevel' },
      shortcuts: { invert: 'n', nextImage: 'Shift+ArrowDown' },
      windowPresets: [{ id: 'liver', label: 'Liver', width: 150, center: 90, key: '7' }],
      savedFilters: [{ name: 'MR', query: { modality: 'MR' } }],
    })).toBe(200);

    // No protocol decides for three "OT" series: the profile's layout, filled in series order.
    await openStudy(page, loire, ref.otStudy);
    await page.locator('.viewport-grid[data-layout="1x3"]').waitFor();
    for (const [index, uid] of ref.otSeries.entries()) await page.locator(`.viewport-panel[data-viewport-index="${index}"][data-series-uid="${uid}"][data-state="ready"]`).waitFor();
    // A protocol that decides keeps its own layout.
    await openStudy(page, loire, ref.mrStudy);
    await page.locator('.reading-bar[data-protocol="default-mr"]').waitFor();
    expect(await page.locator('.viewport-grid').getAttribute('data-layout')).toBe('1x1');

    const tools = await page.locator('.toolbar [data-tool]').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.tool));
    expect(tools).toEqual(['length', 'windowLevel', 'zoom']);
    expect(await page.locator('[data-tool="length"]').getAttribute('aria-pressed')).toBe('true');

    // The user's preset beside the built-in ones, by its key.
    expect(await page.locator('[data-preset]').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.preset)))
      .toEqual(['brain', 'lung', 'bone', 'abdomen', 'mediastinum', 'liver', 'auto']);
    await panel(page).click();
    await page.keyboard.press('7');
    await page.locator('.viewport-panel[data-window-width="150"][data-window-center="90"]').waitFor();

    // Shortcuts: "n" inverts, "i" no longer does.
    await page.keyboard.press('i');
    await page.waitForTimeout(300);
    expect((await cell(page)).invert).toBe('false');
    await page.keyboard.press('n');
    await page.locator('.viewport-panel[data-invert="true"]').waitFor();
    await page.keyboard.press('n');
    await page.locator('.viewport-panel[data-invert="false"]').waitFor();

    // The left button draws a length; Shift + left changes the window.
    await drag(page, 0, 120, 0);
    await page.locator('.measurement[data-kind="length"]').waitFor();
    // Away from the length, whose handles the left button would otherwise grab.
    await drag(page, 0, 40, 60, 'Shift', [-150, 100]);
    await page.waitForFunction(() => document.querySelector<HTMLElement>('.viewport-panel')?.dataset.windowWidth !== '150');
    expect(await page.locator('.measurement[data-kind="length"]').count()).toBe(1);
    expect(consolePage.errors).toEqual([]);
  }, TEST_TIMEOUT);

  it('changes the left button in Settings and saves the toolbar and bindings to the profile, keeping its other fields', async () => {
    await openStudy(page, loire, ref.mrStudy);
    await page.locator('[data-tool="length"][aria-pressed="true"]').waitFor();
    await page.locator('.viewer-settings summary').click();
    await page.locator('select[name="binding-primary"]').selectOption('zoom');
    await page.locator('[data-tool="zoom"][aria-pressed="true"]').waitFor();
    await page.locator('select[name="binding-wheel"]').selectOption('zoom');
    await page.locator('input[name="toolbar-probe"]').check();
    await page.locator('[data-action="save-settings"]').click();
    await page.locator('[data-settings-message]', { hasText: 'Saved' }).waitFor();

    const profile = await getProfile(page);
    expect(profile.toolbar).toEqual(['length', 'windowLevel', 'zoom', 'probe']);
    expect(profile.mouseBindings).toEqual({ primary: 'zoom', middle: 'pan', secondary: 'zoom', wheel: 'zoom', 'shift-primary': 'windowLevel' });
    expect(profile.shortcuts).toEqual({ invert: 'n', nextImage: 'Shift+ArrowDown' });
    expect(profile.layout).toBe('1x3');
    expect(profile.savedFilters).toEqual([{ name: 'MR', query: { modality: 'MR' } }]);

    // Kept on reopening; a drag with the left button now zooms.
    await openStudy(page, loire, ref.mrStudy);
    await page.locator('[data-tool="zoom"][aria-pressed="true"]').waitFor();
    const before = (await cell(page)).indexToCanvas!;
    await drag(page, 0, 0, -80);
    await page.waitForFunction((b) => document.querySelector<HTMLElement>('.viewport-panel')?.dataset.indexToCanvas !== b, before);
    expect(await page.locator('.measurement[data-kind="length"]').count()).toBe(0);
    expect(consolePage.errors).toEqual([]);
  }, TEST_TIMEOUT);

  it('opens a study at the MR auto window when the reader\'s hanging protocol names it', async () => {
    expect(await putProfile(page, {
      version: 1,
      hangingProtocols: [{ id: 'my-mr-auto', name: 'MR, auto window', priority: 50, match: { modality: ['MR'] }, layout: '1x1', viewports: [{ series: {} }], windowPreset: 'auto' }],
    })).toBe(200);
    await openStudy(page, loire, ref.mrStudy);
    await page.locator('.reading-bar[data-protocol="my-mr-auto"]').waitFor();
    const auto = windowOf(ref.auto);
    await page.locator(`.viewport-panel[data-window-width="${auto.width}"][data-window-center="${auto.center}"]`).waitFor();
    expect(await page.locator('[data-preset="auto"]').getAttribute('aria-pressed')).toBe('true');
    expect(consolePage.errors).toEqual([]);
  }, TEST_TIMEOUT);

  it('saves the window on screen as a preset with its key, removes it, and saves the default layout chosen in Settings', async () => {
    // The study opens at the MR auto window (the previous test's protocol): that window becomes a preset.
    await openStudy(page, loire, ref.mrStudy);
    const auto = windowOf(ref.auto);
    await page.locator(`.viewport-panel[data-window-width="${auto.width}"][data-window-center="${auto.center}"]`).waitFor();
    await page.locator('.viewer-settings summary').click();
    await page.locator('input[name="preset-label"]').fill('Auto fixé');
    await page.locator('input[name="preset-key"]').fill('8');
    await page.locator('[data-action="add-preset"]').click();
    await page.locator('[data-preset-message]', { hasText: 'Saved' }).waitFor();
    const saved = { id: 'auto-fixe', label: 'Auto fixé', width: Number(auto.width), center: Number(auto.center), key: '8' };
    expect((await getProfile(page)).windowPresets).toEqual([saved]);
    await page.locator('[data-user-preset="auto-fixe"]').waitFor();
    await page.locator('.toolbar [data-preset="auto-fixe"]').waitFor();

    // Its key applies it: from the brain window back to the saved one.
    await page.locator('.viewer-settings summary').click();
    await panel(page).click();
    await page.keyboard.press('1');
    await page.locator('.viewport-panel[data-window-width="80"]').waitFor();
    await page.keyboard.press('8');
    await page.locator(`.viewport-panel[data-window-width="${auto.width}"][data-window-center="${auto.center}"]`).waitFor();

    await page.locator('.viewer-settings summary').click();
    await page.locator('[data-user-preset="auto-fixe"] [data-action="remove-preset"]').click();
    await page.locator('[data-preset-message]', { hasText: 'Removed' }).waitFor();
    expect((await getProfile(page)).windowPresets).toEqual([]);
    expect(await page.locator('.toolbar [data-preset="auto-fixe"]').count()).toBe(0);

    // The default layout, for a study no protocol decides (the three "OT" series).
    await page.locator('select[name="default-layout"]').selectOption('2x2');
    await page.locator('[data-action="save-settings"]').click();
    await page.locator('[data-settings-message]', { hasText: 'Saved' }).waitFor();
    const profile = await getProfile(page);
    expect(profile.layout).toBe('2x2');
    expect(profile.hangingProtocols).toHaveLength(1);
    await openStudy(page, loire, ref.otStudy);
    await page.locator('.viewport-grid[data-layout="2x2"]').waitFor();
    expect(consolePage.errors).toEqual([]);
  }, TEST_TIMEOUT);
});
