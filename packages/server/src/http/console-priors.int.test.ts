// Acceptance of comparison with priors in the reading console (issue "The reading console"), in
// real headless Chromium against a whole Loire: today's head CT and two priors of the same patient
// derived here with pydicom (new UIDs, earlier dates). The newer prior shares today's Frame of
// Reference UID with its slices shifted along z: scrolling today's series moves it to the slice
// nearest the same patient position, computed here from Image Position (Patient). The older prior
// has its own frame of reference: no automatic sync, until the reader links the two viewports,
// which then keep their slice offset. The hanging protocol is named in the toolbar, and saving
// one's own protocol ends up in the profile (GET /api/profile) and hangs the study on reopening.
//
// Needs the built console and Debian's chromium (LOIRE_CHROMIUM to point elsewhere), like
// console-viewer.int.test.ts; the page publishes each viewport's state in data-* attributes on
// .viewport-panel[data-viewport-index] (data-slice, data-study-uid, data-sync-group, data-linked).
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeConsoleTest, type ConsolePage, launchBrowser, openConsolePage, requireBuiltConsole, SCREENSHOTS, storeDirectory, UI_TIMEOUT } from '../testing/browser.js';
import { startTestLoire, type TestLoire } from '../testing/loire.js';
import { samplePath } from '../testing/samples.js';

const HEAD_CT = 'ct-series/philips-head-ct-std-brain-1mm';
const TEST_TIMEOUT = 8 * UI_TIMEOUT;
/** The newer prior's slices, shifted along z in the same frame of reference (mm): not a whole number of slices. */
const SYNCED_SHIFT_MM = 7.4;
/** The older prior's shift, in a frame of reference of its own (mm). */
const OTHER_SHIFT_MM = 10;

interface StudyRef {
  studyUid: string;
  seriesUid: string;
  date: string;
  frameOfReference: string;
  /** Image Position (Patient) of each slice, in Instance Number order. */
  positions: number[][];
}

interface Reference { current: StudyRef; synced: StudyRef; other: StudyRef }

/**
 * Writes the two priors into `out` (one folder each) and reads the three studies back: UIDs, dates,
 * frames of reference and slice positions in Instance Number order.
 */
async function derivePriors(out: string): Promise<Reference> {
  const script = `
import sys, json, glob, os, datetime
import pydicom
from pydicom.uid import generate_uid
src, out, synced_shift, other_shift = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
files = sorted(glob.glob(os.path.join(src, '*')))
first = pydicom.dcmread(files[0], stop_before_pixels=True)
today = datetime.datetime.strptime(str(first.StudyDate), '%Y%m%d')

def describe(folder):
  slices = sorted((pydicom.dcmread(f, stop_before_pixels=True) for f in glob.glob(os.path.join(folder, '*'))), key=lambda d: int(d.InstanceNumber))
  d = slices[0]
  return {'studyUid': str(d.StudyInstanceUID), 'seriesUid': str(d.SeriesInstanceUID), 'date': str(d.StudyDate),
    'frameOfReference': str(d.FrameOfReferenceUID), 'positions': [[float(v) for v in s.ImagePositionPatient] for s in slices]}

def derive(name, days_before, shift, same_frame):
  folder = os.path.join(out, name)
  os.makedirs(folder)
  study, series, frame = generate_uid(), generate_uid(), generate_uid()
  date = (today - datetime.timedelta(days=days_before)).strftime('%Y%m%d')
  for i, f in enumerate(files):
    d = pydicom.dcmread(f)
    d.StudyInstanceUID, d.SeriesInstanceUID = study, series
    d.SOPInstanceUID = generate_uid()
    d.file_meta.MediaStorageSOPInstanceUID = d.SOPInstanceUID
    d.StudyDate = d.SeriesDate = d.ContentDate = date
    d.AccessionNumber = name.upper()
    if not same_frame: d.FrameOfReferenceUID = frame
    p = [float(v) for v in d.ImagePositionPatient]
    d.ImagePositionPatient = [p[0], p[1], round(p[2] + shift, 4)]
    d.save_as(os.path.join(folder, '%03d.dcm' % i))
  return describe(folder)

print(json.dumps({'current': describe(src), 'synced': derive('synced', 365, synced_shift, True),
  'other': derive('other', 730, other_shift, False)}))`;
  const { stdout } = await promisify(execFile)('/usr/bin/python3', ['-c', script, samplePath(HEAD_CT), out, String(SYNCED_SHIFT_MM), String(OTHER_SHIFT_MM)], { maxBuffer: 16 << 20 });
  return JSON.parse(stdout) as Reference;
}

/** The 1-based slice of `target` nearest (in patient space) to slice `slice` of `source`. */
function nearestSlice(source: StudyRef, slice: number, target: StudyRef): number {
  const p = source.positions[slice - 1]!;
  let best = 0;
  target.positions.forEach((q, i) => {
    if (Math.hypot(q[0]! - p[0]!, q[1]! - p[1]!, q[2]! - p[2]!) < Math.hypot(...target.positions[best]!.map((v, k) => v - p[k]!))) best = i;
  });
  return best + 1;
}

function panel(page: Page, index: number): Locator {
  return page.locator(`.viewport-panel[data-viewport-index="${index}"]`);
}

async function cell(page: Page, index: number) {
  return panel(page, index).evaluate((e: HTMLElement) => ({ ...e.dataset }));
}

async function scroll(page: Page, steps: number): Promise<void> {
  for (let i = 0; i < Math.abs(steps); i++) await page.keyboard.press(steps > 0 ? 'ArrowDown' : 'ArrowUp');
}

describe('comparison with priors in the reading console (priors, synchronised scrolling, hanging protocols) in Chromium', () => {
  let loire: TestLoire;
  let browser: Browser;
  let consolePage: ConsolePage;
  let page: Page;
  let ref: Reference;
  let tmp: string;

  beforeAll(async () => {
    requireBuiltConsole();
    tmp = mkdtempSync(path.join(tmpdir(), 'loire-priors-'));
    ref = await derivePriors(tmp);
    loire = await startTestLoire();
    await storeDirectory(loire, samplePath(HEAD_CT));
    await storeDirectory(loire, path.join(tmp, 'synced'));
    await storeDirectory(loire, path.join(tmp, 'other'));
    browser = await launchBrowser();
    consolePage = await openConsolePage(browser, loire);
    page = consolePage.page;
  }, 10 * 60_000);

  afterAll(() => closeConsoleTest({ browser, loire, tmp }), 120_000);

  it('lists the priors, compares with the newest in sync, links another by hand, and saves a protocol of one\'s own', async () => {
    const { current, synced, other } = ref;
    expect(current.positions).toHaveLength(70);
    expect(synced.frameOfReference).toBe(current.frameOfReference);
    expect(other.frameOfReference).not.toBe(current.frameOfReference);

    await page.goto(`${loire.httpUrl}/viewer?StudyInstanceUIDs=${current.studyUid}`);
    await page.locator(`.viewport-panel[data-viewport-index="0"][data-series-uid="${current.seriesUid}"][data-state="ready"]`).waitFor();

    // The priors, newest first.
    await page.locator('.priors[data-priors="2"]').waitFor();
    const listed = await page.locator('.priors .prior').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.priorStudyUid));
    expect(listed).toEqual([synced.studyUid, other.studyUid]);

    // A CT with a comparable prior hangs by the comparison protocol, named in the toolbar.
    await page.locator('.reading-bar[data-protocol="default-compare"]').waitFor();
    expect(await page.locator('select[name="protocol"] option:checked').textContent()).toBe('Current and prior');
    await page.locator('.viewport-grid[data-layout="1x2"]').waitFor();

    // Back to one viewport through the protocol menu, then "Compare with prior".
    await page.locator('select[name="protocol"]').selectOption('default');
    await page.locator('.viewport-grid[data-layout="1x1"]').waitFor();
    await page.locator('[data-action="compare-prior"]').click();
    await page.locator('.viewport-grid[data-layout="1x2"]').waitFor();
    await page.locator(`.viewport-panel[data-viewport-index="0"][data-series-uid="${current.seriesUid}"][data-state="ready"]`).waitFor();
    await page.locator(`.viewport-panel[data-viewport-index="1"][data-series-uid="${synced.seriesUid}"][data-study-uid="${synced.studyUid}"][data-state="ready"]`).waitFor();
    const priorDate = `${synced.date.slice(0, 4)}-${synced.date.slice(4, 6)}-${synced.date.slice(6, 8)}`;
    expect(await panel(page, 1).locator('[data-overlay="study-date"]').textContent()).toContain(priorDate);

    // Same frame of reference: one sync group; scrolling today's series to slice 35 moves the prior
    // to the slice at the same patient position.
    await page.waitForFunction(() => {
      const groups = [...document.querySelectorAll<HTMLElement>('.viewport-panel')].map((p) => p.dataset.syncGroup);
      return groups.length === 2 && groups[0] !== '' && groups[0] === groups[1];
    });
    const expected = nearestSlice(current, 35, synced);
    expect(expected).not.toBe(35); // the shift moves the prior's slices by several
    await panel(page, 0).locator('.viewport-host').hover();
    await scroll(page, 34);
    await page.locator('.viewport-panel[data-viewport-index="0"][data-slice="35"][data-rendered-slice="35"]').waitFor();
    await page.locator(`.viewport-panel[data-viewport-index="1"][data-slice="${expected}"][data-rendered-slice="${expected}"]`).waitFor();
    await page.screenshot({ path: path.join(SCREENSHOTS, 'viewer-compare.png') });

    // Window/level follows only when asked: the lung preset on today's series, then with W/L sync.
    const priorWindow = (await cell(page, 1)).windowWidth;
    expect(priorWindow).not.toBe('1500');
    await page.keyboard.press('2');
    await page.locator('.viewport-panel[data-viewport-index="0"][data-window-width="1500"]').waitFor();
    expect((await cell(page, 1)).windowWidth).toBe(priorWindow);
    await page.locator('input[name="sync-voi"]').check();
    // Keys go to the viewer, not to the check box.
    await panel(page, 0).click();
    await page.keyboard.press('1');
    await page.locator('.viewport-panel[data-viewport-index="0"][data-window-width="80"]').waitFor();
    await page.keyboard.press('2');
    await page.locator('.viewport-panel[data-viewport-index="1"][data-window-width="1500"][data-window-center="-600"]').waitFor();
    await page.locator('input[name="sync-voi"]').uncheck();
    await panel(page, 0).click();

    // The older prior, in its own frame of reference, into the second viewport: no automatic sync.
    await page.locator(`.prior[data-prior-study-uid="${other.studyUid}"] .prior-study`).click();
    await page.locator(`.series[data-series-uid="${other.seriesUid}"]`).dragTo(panel(page, 1));
    await page.locator(`.viewport-panel[data-viewport-index="1"][data-series-uid="${other.seriesUid}"][data-study-uid="${other.studyUid}"][data-state="ready"]`).waitFor();
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLElement>('.viewport-panel')].every((p) => p.dataset.syncGroup === ''));
    const unlinked = Number((await cell(page, 1)).slice);
    await panel(page, 0).click();
    await scroll(page, 5);
    await page.locator('.viewport-panel[data-viewport-index="0"][data-slice="40"][data-rendered-slice="40"]').waitFor();
    // The prior had every chance to follow (the same event moves synced viewports) and did not.
    await page.waitForTimeout(1000);
    expect(Number((await cell(page, 1)).slice)).toBe(unlinked);

    // Link both viewports: scrolling by 5 moves the prior by 5.
    await panel(page, 1).locator('[data-action="link"]').click();
    await panel(page, 0).locator('[data-action="link"]').click();
    await page.locator('.viewport-panel[data-viewport-index="0"][data-linked="true"][data-sync-group="link"]').waitFor();
    await page.locator('.viewport-panel[data-viewport-index="1"][data-linked="true"][data-sync-group="link"]').waitFor();
    const linkedAt = Number((await cell(page, 1)).slice);
    await scroll(page, 5);
    await page.locator('.viewport-panel[data-viewport-index="0"][data-slice="45"][data-rendered-slice="45"]').waitFor();
    await page.locator(`.viewport-panel[data-viewport-index="1"][data-slice="${linkedAt + 5}"]`).waitFor();

    // This layout as my own protocol: kept in the profile beside what was there, and chosen when the study opens again.
    const saved = await page.evaluate(async () => (await fetch('/api/profile', {
      method: 'PUT', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ version: 1, layout: '2x2', savedFilters: [{ name: 'CT', query: { modality: 'CT' } }] }),
    })).status);
    expect(saved).toBe(200);
    await page.locator('[data-action="save-protocol"]').click();
    await page.locator('[data-save-message]', { hasText: 'Saved' }).waitFor();
    const profile = await page.evaluate(async () => (await fetch('/api/profile', { credentials: 'same-origin' })).json() as Promise<{
      layout?: string; savedFilters?: unknown[]; hangingProtocols?: { id: string; name: string; layout: string; viewports: { prior?: number; like?: number }[] }[];
    }>);
    expect(profile.layout).toBe('2x2');
    expect(profile.savedFilters).toEqual([{ name: 'CT', query: { modality: 'CT' } }]);
    expect(profile.hangingProtocols).toHaveLength(1);
    const mine = profile.hangingProtocols![0]!;
    expect(mine.layout).toBe('1x2');
    // Today's series, then the second prior's series most like it.
    expect(mine.viewports[1]).toEqual({ prior: 2, like: 0 });
    await page.locator(`.reading-bar[data-protocol="${mine.id}"]`).waitFor();

    await page.goto(`${loire.httpUrl}/viewer?StudyInstanceUIDs=${current.studyUid}`);
    await page.locator(`.reading-bar[data-protocol="${mine.id}"]`).waitFor();
    expect(await page.locator('select[name="protocol"] option:checked').textContent()).toBe(mine.name);
    await page.locator(`.viewport-panel[data-viewport-index="1"][data-series-uid="${other.seriesUid}"][data-state="ready"]`).waitFor();

    // A protocol's window preset: the viewports it fills open at that window.
    const withPreset = { ...mine, id: 'my-ct-lung', name: 'CT in lung window', priority: 50, windowPreset: 'lung' };
    expect(await page.evaluate(async (protocol) => (await fetch('/api/profile', {
      method: 'PUT', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ version: 1, hangingProtocols: [protocol] }),
    })).status, withPreset)).toBe(200);
    await page.goto(`${loire.httpUrl}/viewer?StudyInstanceUIDs=${current.studyUid}`);
    await page.locator('.reading-bar[data-protocol="my-ct-lung"]').waitFor();
    for (const index of [0, 1]) await page.locator(`.viewport-panel[data-viewport-index="${index}"][data-window-width="1500"][data-window-center="-600"]`).waitFor();

    expect(consolePage.errors).toEqual([]);
  }, TEST_TIMEOUT);
});
