// Acceptance of saving measurements from the viewer when the study holds more than the viewer can
// draw, and when a prior is on screen, in real headless Chromium against a whole Loire:
//
// - pydicom's CT_small comes with highdicom's TID 1500 report on it (four measurements the viewer
//   cannot draw: 3D regions, circles, volumes, by "Doe^John"): a length drawn and saved from the
//   viewer goes into a new report that still holds those four, as written and still his;
// - a prior of the same patient (CT_small again, an earlier date, new UIDs, derived here) hangs
//   beside it ("Current and prior"): a length drawn on the prior's cell is saved into the prior's
//   own report, not into the study being read, and is drawn there again on reopening.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiGet, closeConsoleTest, type ConsolePage, launchBrowser, openConsolePage, requireBuiltConsole, storeFiles, TEST_TIMEOUT } from '../testing/browser.js';
import { startTestLoire, type TestLoire } from '../testing/loire.js';
import { samplePath } from '../testing/samples.js';

const CT_SMALL = 'pydicom-test-files/CT_small.dcm';
const HIGHDICOM_REPORT = 'modalities/sr/sr_document_with_multiple_groups.dcm';

interface Reference { study: string; sop: string; priorStudy: string; priorSop: string }

interface Stored {
  group: number; trackingUid: string; label: string; kind: string; author?: string;
  image?: { sopInstanceUid: string }; quantities: { name: string; value: number; unit: string }[];
}
interface Measurements { current?: { sopInstanceUid: string; author: string; measurements: Stored[] }; reports: { sopInstanceUid: string }[] }

async function derivePrior(out: string): Promise<Reference> {
  const script = `
import sys, json, os, datetime
import pydicom
from pydicom.uid import generate_uid
d = pydicom.dcmread(sys.argv[1])
ref = {'study': str(d.StudyInstanceUID), 'sop': str(d.SOPInstanceUID)}
d.StudyInstanceUID, d.SeriesInstanceUID, d.SOPInstanceUID = generate_uid(), generate_uid(), generate_uid()
d.file_meta.MediaStorageSOPInstanceUID = d.SOPInstanceUID
d.StudyDate = d.SeriesDate = d.ContentDate = (datetime.datetime.strptime(str(d.StudyDate), '%Y%m%d') - datetime.timedelta(days=200)).strftime('%Y%m%d')
d.AccessionNumber = 'PRIOR'
d.save_as(os.path.join(sys.argv[2], 'prior.dcm'))
print(json.dumps({**ref, 'priorStudy': str(d.StudyInstanceUID), 'priorSop': str(d.SOPInstanceUID)}))`;
  const { stdout } = await promisify(execFile)('/usr/bin/python3', ['-c', script, samplePath(CT_SMALL), out]);
  return JSON.parse(stdout) as Reference;
}

function cellOf(page: Page, studyUid: string): Locator {
  return page.locator(`.viewport-panel[data-study-uid="${studyUid}"][data-state="ready"]`);
}

/** A length across the middle of a cell, drawn with the Length tool. */
async function drawLength(page: Page, cell: Locator): Promise<void> {
  await cell.click();
  await page.locator('[data-tool="length"]').click();
  const box = (await cell.locator('.viewport-host').boundingBox())!;
  const y = box.y + box.height * 0.6;
  await page.mouse.move(box.x + box.width * 0.3, y);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.7, y, { steps: 10 });
  await page.mouse.up();
}

/** Saves, and waits until nothing is left to save (the state may say "saved" from the save before). */
async function save(page: Page): Promise<void> {
  await page.locator('[data-action="save"][data-dirty="true"]').click();
  await page.locator('[data-action="save"][data-dirty="false"]').waitFor({ state: 'attached' });
  await page.locator('[data-save-state="saved"]').waitFor({ state: 'attached' });
}

async function openStudy(page: Page, loire: TestLoire, ref: Reference): Promise<void> {
  await page.goto(`${loire.httpUrl}/viewer?StudyInstanceUIDs=${ref.study}`);
  await page.locator('.reading-bar[data-protocol="default-compare"]').waitFor();
  await cellOf(page, ref.study).waitFor();
  await cellOf(page, ref.priorStudy).waitFor();
  await page.locator('[data-save-state="idle"]').waitFor({ state: 'attached' });
}

describe('saving measurements from the viewer: what it cannot draw is kept, a prior\'s go to the prior', () => {
  let loire: TestLoire;
  let browser: Browser;
  let consolePage: ConsolePage;
  let page: Page;
  let ref: Reference;
  let tmp: string;
  let before: NonNullable<Measurements['current']>;

  beforeAll(async () => {
    requireBuiltConsole();
    tmp = mkdtempSync(path.join(tmpdir(), 'loire-measurements-'));
    ref = await derivePrior(tmp);
    loire = await startTestLoire();
    await storeFiles(loire, [samplePath(CT_SMALL), samplePath(HIGHDICOM_REPORT), path.join(tmp, 'prior.dcm')]);
    browser = await launchBrowser();
    consolePage = await openConsolePage(browser, loire);
    page = consolePage.page;
  }, 10 * 60_000);

  afterAll(() => closeConsoleTest({ browser, loire, tmp }), 120_000);

  it('keeps another reader\'s measurements it cannot draw when it saves a new one', async () => {
    await openStudy(page, loire, ref);
    before = (await apiGet<Measurements>(page, `/api/studies/${ref.study}/measurements`)).current!;
    expect(before.author).toBe('Doe^John');
    expect(before.measurements.map((m) => m.kind)).toEqual(['other', 'other', 'other', 'other']);
    // Shown as text, with who measured them.
    await page.locator('.measurement.text-only').nth(3).waitFor();
    expect(await page.locator('.measurement.text-only').count()).toBe(4);
    expect(await page.locator('.measurement.text-only .author').first().textContent()).toContain('Doe^John');

    await drawLength(page, cellOf(page, ref.study));
    await page.locator('.measurement[data-kind="length"][data-unsaved="true"]').waitFor();
    await save(page);

    const after = await apiGet<Measurements>(page, `/api/studies/${ref.study}/measurements`);
    expect(after.reports).toHaveLength(2);
    expect(after.current!.sopInstanceUid).not.toBe(before.sopInstanceUid);
    expect(after.current!.author).not.toBe('Doe^John');
    const [kept, added] = [after.current!.measurements.slice(0, 4), after.current!.measurements.slice(4)];
    // As written, and still his.
    expect(kept).toEqual(before.measurements.map((m) => ({ ...m, author: 'Doe^John' })));
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ kind: 'length', image: { sopInstanceUid: ref.sop } });
    expect(added[0]!.author).toBeUndefined();
    // Still four lines of text, and saved: nothing left to save.
    expect(await page.locator('.measurement.text-only').count()).toBe(4);
    expect(await page.locator('[data-action="save"]').isDisabled()).toBe(true);
    expect(consolePage.errors).toEqual([]);
  }, TEST_TIMEOUT);

  it('saves a length drawn on the prior\'s cell into the prior\'s own report, and draws it there again', async () => {
    const currentBefore = (await apiGet<Measurements>(page, `/api/studies/${ref.study}/measurements`)).current!;
    expect((await apiGet<Measurements>(page, `/api/studies/${ref.priorStudy}/measurements`)).current).toBeUndefined();

    await drawLength(page, cellOf(page, ref.priorStudy));
    await page.locator('.measurement[data-kind="length"][data-unsaved="true"]').waitFor();
    await save(page);

    const prior = (await apiGet<Measurements>(page, `/api/studies/${ref.priorStudy}/measurements`)).current!;
    expect(prior.measurements).toHaveLength(1);
    expect(prior.measurements[0]).toMatchObject({ kind: 'length', image: { sopInstanceUid: ref.priorSop } });
    // The study being read did not change: no new report there, the prior's length not in it.
    const current = await apiGet<Measurements>(page, `/api/studies/${ref.study}/measurements`);
    expect(current.current!.sopInstanceUid).toBe(currentBefore.sopInstanceUid);
    expect(current.current!.measurements.map((m) => m.image?.sopInstanceUid)).not.toContain(ref.priorSop);

    // Reopened: both lengths drawn, each on its own study's image, saved.
    await openStudy(page, loire, ref);
    await page.locator('.measurement[data-kind="length"]').nth(1).waitFor();
    expect(await page.locator('.measurement[data-kind="length"][data-unsaved="false"]').count()).toBe(2);
    await page.locator(`.viewport-panel[data-study-uid="${ref.priorStudy}"] svg [data-id="${prior.measurements[0]!.trackingUid}-line"]`).first().waitFor({ state: 'attached' });
    expect(await page.locator('[data-action="save"]').isDisabled()).toBe(true);

    // Cleared and saved: each study gets a report without its length.
    await page.locator('.measurements .clear').click();
    await page.locator('.measurement[data-kind="length"]').first().waitFor({ state: 'detached' });
    await save(page);
    const priorAfter = await apiGet<Measurements>(page, `/api/studies/${ref.priorStudy}/measurements`);
    expect(priorAfter.reports).toHaveLength(2);
    expect(priorAfter.current!.measurements).toEqual([]);
    // Clear removes what the viewer draws; what it cannot draw stays in the study being read.
    const currentAfter = (await apiGet<Measurements>(page, `/api/studies/${ref.study}/measurements`)).current!;
    expect(currentAfter.measurements.map((m) => m.kind)).toEqual(['other', 'other', 'other', 'other']);
    expect(consolePage.errors).toEqual([]);
  }, TEST_TIMEOUT);
});
