// The study list's profile features and patient history in headless Chromium against a whole Loire:
// a search saved under a name survives a reload (it is in the server profile) and applying it gives
// that search's rows; the chosen columns survive a reload too; the patient history lists every study
// of the patient, newest first, each with its thumbnail, and opens one in the viewer in one click.
//
// Data: pydicom's CT_small (patient 1CT1) and MR_small (patient 4MR1), and a prior of the CT patient
// derived here by pydicom (new Study/Series/SOP Instance UIDs, an earlier Study Date).
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeConsoleTest, type ConsolePage, launchBrowser, openConsolePage, requireBuiltConsole, SCREENSHOTS, storeFiles, TEST_TIMEOUT } from '../testing/browser.js';
import { startTestLoire, type TestLoire } from '../testing/loire.js';
import { samplePath } from '../testing/samples.js';

interface Written { file: string; studyUid: string; patientId: string; studyDate: string }

/** Writes the prior (a copy of `source` with new UIDs and date) and reads back what the test needs of every file. */
async function prepareFiles(dir: string, source: string, other: string): Promise<{ current: Written; prior: Written; other: Written }> {
  const script = `
import sys, json
import pydicom
from pydicom.uid import generate_uid
source, other, out = sys.argv[1], sys.argv[2], sys.argv[3]
d = pydicom.dcmread(source)
d.StudyInstanceUID = generate_uid()
d.SeriesInstanceUID = generate_uid()
d.SOPInstanceUID = generate_uid()
d.file_meta.MediaStorageSOPInstanceUID = d.SOPInstanceUID
d.StudyDate = '20020315'
d.StudyDescription = 'Prior CT'
d.save_as(out)
def info(f):
    x = pydicom.dcmread(f, stop_before_pixels=True)
    return {'file': f, 'studyUid': str(x.StudyInstanceUID), 'patientId': str(x.PatientID), 'studyDate': str(x.StudyDate)}
print(json.dumps({'current': info(source), 'prior': info(out), 'other': info(other)}))`;
  const { stdout } = await promisify(execFile)('/usr/bin/python3', ['-c', script, source, other, path.join(dir, 'prior.dcm')]);
  return JSON.parse(stdout) as { current: Written; prior: Written; other: Written };
}

describe('the study list: saved filters, columns and patient history, in Chromium', () => {
  let loire: TestLoire;
  let browser: Browser;
  let page: Page;
  let consolePage: ConsolePage;
  let tmp: string;
  let files: { current: Written; prior: Written; other: Written };

  const rowsShown = async () => page.locator('table.studies[data-state="ready"] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-study-uid')));
  const profile = async () => (await (await fetch(`${loire.httpUrl}/api/profile`, { headers: loire.httpHeaders })).json()) as Record<string, unknown>;

  beforeAll(async () => {
    requireBuiltConsole();
    loire = await startTestLoire();
    tmp = mkdtempSync(path.join(os.tmpdir(), 'loire-studylist-'));
    files = await prepareFiles(tmp, samplePath('pydicom-test-files/CT_small.dcm'), samplePath('pydicom-test-files/MR_small.dcm'));
    expect(files.prior.patientId).toBe(files.current.patientId);
    expect(files.other.patientId).not.toBe(files.current.patientId);
    expect(files.prior.studyDate < files.current.studyDate).toBe(true);
    await storeFiles(loire, [files.current.file, files.prior.file, files.other.file]);
    browser = await launchBrowser();
    consolePage = await openConsolePage(browser, loire);
    page = consolePage.page;
  }, 10 * 60_000);

  afterAll(() => closeConsoleTest({ browser, loire, tmp }), 120_000);

  it('saves the current search under a name, keeps it across a reload, and applies it', async () => {
    await page.locator('.studylist-saved[data-state="ready"]').waitFor();
    expect(await page.locator('.studylist-saved-filter').count()).toBe(0);
    const patientId = files.current.patientId;
    await page.locator('input[name="patientId"]').fill(patientId);
    await page.locator('input[name="patientId"]').press('Enter');
    await page.locator(`table.studies[data-state="ready"][data-query*="PatientID=${patientId}&"]`).waitFor();
    await page.locator('input[name="filterName"]').fill('CT patient');
    await page.locator('.studylist-save button[type="submit"]').click();
    await page.locator('.studylist-saved[data-state="ready"] .studylist-saved-filter[data-filter-name="CT patient"]').waitFor();
    // It is the server's profile that holds it.
    expect((await profile()).savedFilters).toEqual([{ name: 'CT patient', query: { patientId } }]);

    // Back to every study, then a new page load: the saved filter comes back from the server.
    await page.locator('form.filters button', { hasText: 'Clear' }).click();
    await page.locator('table.studies[data-state="ready"]:not([data-query*="PatientID"])').waitFor();
    expect((await rowsShown()).sort()).toEqual([files.current.studyUid, files.prior.studyUid, files.other.studyUid].sort());
    await page.reload();
    const saved = page.locator('.studylist-saved-filter[data-filter-name="CT patient"] .studylist-apply');
    await saved.waitFor();
    await page.locator('table.studies[data-state="ready"]:not([data-query*="PatientID"])').waitFor();
    await saved.click();
    await page.locator(`table.studies[data-state="ready"][data-query*="PatientID=${patientId}&"]`).waitFor();
    expect(await page.locator('input[name="patientId"]').inputValue()).toBe(patientId);
    expect((await rowsShown()).sort()).toEqual([files.current.studyUid, files.prior.studyUid].sort());
  }, TEST_TIMEOUT);

  it('shows the columns chosen in the profile, after a reload too', async () => {
    const headers = () => page.locator('table.studies thead th button').allTextContents();
    expect((await headers()).map((h) => h.replace(/[ ▲▼]+$/, ''))).toContain('Referring');
    await page.locator('.studylist-columns summary').click();
    await page.locator('input[name="column-referring"]').uncheck();
    await page.locator('input[name="column-birthDate"]').check();
    await page.locator('.studylist-saved[data-state="ready"] input[name="column-birthDate"]:checked').waitFor();
    await page.locator('.studylist-columns summary').click();
    const columns = (await profile()).studyListColumns as string[];
    expect(columns).not.toContain('referring');
    expect(columns).toContain('birthDate');
    await page.reload();
    await page.locator('.studylist-saved[data-state="ready"]').waitFor();
    await page.locator('table.studies thead th button', { hasText: 'Birth date' }).waitFor();
    const shown = (await headers()).map((h) => h.replace(/[ ▲▼]+$/, ''));
    expect(shown).not.toContain('Referring');
    expect(shown).toEqual(['Patient', 'Patient ID', 'Birth date', 'Date', 'Accession', 'Modality', 'Description', 'Images']);
  }, TEST_TIMEOUT);

  it('shows every study of the patient, newest first, with thumbnails, and opens one in a click', async () => {
    await page.locator('table.studies[data-state="ready"]').waitFor();
    await page.locator(`tr[data-study-uid="${files.current.studyUid}"] .history-button`).click();
    // The History button opens the panel; it does not open the viewer.
    expect(new URL(page.url()).pathname).toBe('/');
    const panel = page.locator(`.history-panel[data-state="ready"][data-patient-id="${files.current.patientId}"]`);
    await panel.waitFor();
    const items = panel.locator('.history-study');
    expect(await items.evaluateAll((list) => list.map((e) => e.getAttribute('data-study-uid')))).toEqual([files.current.studyUid, files.prior.studyUid]);
    expect(await items.locator('.history-date').allTextContents()).toEqual([
      expect.stringContaining('2004-01-19'), expect.stringContaining('2002-03-15'),
    ]);
    // Each thumbnail is a real rendered image of that study's series.
    await page.waitForFunction(() => {
      const images = [...document.querySelectorAll<HTMLImageElement>('.history-panel img.history-thumb')];
      return images.length === 2 && images.every((i) => i.complete && i.naturalWidth > 0);
    });
    const sources = await panel.locator('img.history-thumb').evaluateAll((list) => list.map((i) => (i as HTMLImageElement).getAttribute('src') ?? ''));
    expect(sources[0]).toContain(`/studies/${files.current.studyUid}/series/`);
    expect(sources[1]).toContain(`/studies/${files.prior.studyUid}/series/`);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'studylist-history.png') });
    await items.nth(1).click();
    await page.waitForURL(`**/viewer?StudyInstanceUIDs=${files.prior.studyUid}`);
  }, TEST_TIMEOUT);

  it('deletes a saved filter from the profile', async () => {
    await page.goto(`${loire.httpUrl}/`);
    const filter = page.locator('.studylist-saved-filter[data-filter-name="CT patient"]');
    await filter.waitFor();
    await filter.locator('.studylist-delete').click();
    await page.locator('.studylist-saved[data-state="ready"][data-filters=""]').waitFor();
    expect(await page.locator('.studylist-saved-filter').count()).toBe(0);
    expect((await profile()).savedFilters).toEqual([]);
    expect(consolePage.errors).toEqual([]);
  }, TEST_TIMEOUT);
});
