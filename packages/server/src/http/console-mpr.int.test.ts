// Acceptance of the console's MPR (issue "The reading console"): the 170-slice 3D T1 brain MR
// opens as axial, sagittal and coronal views that are non-empty and orthogonal; MIP over a slab
// makes the views brighter; and the lumbar spine's axial series (five oblique stacks in one
// series) is refused with the reason rather than reconstructed into a misleading volume.
import path from 'node:path';
import type { Browser, Locator } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeConsoleTest, type ConsolePage, launchBrowser, openConsolePage, requireBuiltConsole, SCREENSHOTS, storeDirectory, TEST_TIMEOUT } from '../testing/browser.js';
import { startTestLoire, type TestLoire } from '../testing/loire.js';
import { samplePath } from '../testing/samples.js';

const BRAIN = 'mr-series/philips-adni-sag3d-mprage-3t';
const SPINE = 'mr-series/furuhashi-lspine-mr-20180113-prior';
const SPINE_AXIAL_SERIES = '1.2.392.200036.9116.4.2.7554.6480.6002';

/** Mean and standard deviation of a view's pixels, from a screenshot of its panel. */
async function pixelStats(panel: Locator): Promise<{ mean: number; sd: number }> {
  const stats = await sharp(await panel.screenshot()).greyscale().stats();
  return { mean: stats.channels[0]!.mean, sd: stats.channels[0]!.stdev };
}

const parseVector = (text: string | null) => (text ?? '').split(',').map(Number);
const dot = (a: number[], b: number[]) => a.reduce((sum, v, i) => sum + v * b[i]!, 0);

describe('the console in MPR', () => {
  let loire: TestLoire;
  let browser: Browser;
  let consolePage: ConsolePage;
  let brainStudy: string;
  let brainSeries: string;
  let spineStudy: string;

  beforeAll(async () => {
    requireBuiltConsole();
    loire = await startTestLoire();
    [brainStudy] = [...await storeDirectory(loire, samplePath(BRAIN))] as [string];
    [spineStudy] = [...await storeDirectory(loire, samplePath(SPINE))] as [string];
    const series = await loire.server.archive.index.findAll({ level: 'SERIES', identifier: { '0020000D': { vr: 'UI', Value: [brainStudy] }, '0020000E': { vr: 'UI' } } });
    brainSeries = String(series[0]!['0020000E']!.Value![0]);
    browser = await launchBrowser();
    consolePage = await openConsolePage(browser, loire);
  }, 10 * 60_000);

  afterAll(() => closeConsoleTest({ browser, loire }), 120_000);

  it('shows the 3D brain MR as three non-empty, orthogonal views, and MIP over a slab', async () => {
    const { page } = consolePage;
    await page.goto(`${loire.httpUrl}/mpr?StudyInstanceUIDs=${brainStudy}&SeriesInstanceUIDs=${brainSeries}`);
    await page.locator('.mpr[data-state="ready"]').waitFor();
    expect(await page.locator('.mpr').getAttribute('data-slices')).toBe('170');
    const panels = page.locator('.mpr-panel');
    expect(await panels.count()).toBe(3);
    const orientations = await panels.evaluateAll((els) => els.map((e) => e.getAttribute('data-orientation')));
    expect(orientations).toEqual(['axial', 'sagittal', 'coronal']);

    const normals = await Promise.all([0, 1, 2].map(async (i) => parseVector(await panels.nth(i).getAttribute('data-view-plane-normal'))));
    for (const n of normals) expect(Math.hypot(...n)).toBeCloseTo(1, 3);
    // Pairwise orthogonal, and each along one patient axis: axial ⟂ z, sagittal ⟂ x, coronal ⟂ y.
    expect(Math.abs(dot(normals[0]!, normals[1]!))).toBeLessThan(1e-3);
    expect(Math.abs(dot(normals[0]!, normals[2]!))).toBeLessThan(1e-3);
    expect(Math.abs(dot(normals[1]!, normals[2]!))).toBeLessThan(1e-3);
    expect(Math.abs(normals[0]![2]!)).toBeCloseTo(1, 3);
    expect(Math.abs(normals[1]![0]!)).toBeCloseTo(1, 3);
    expect(Math.abs(normals[2]![1]!)).toBeCloseTo(1, 3);

    // Non-empty: a brain fills a good part of each view, so the pixels vary widely.
    const thin = await Promise.all([0, 1, 2].map((i) => pixelStats(panels.nth(i))));
    for (const [i, s] of thin.entries()) {
      expect(s.sd, `${orientations[i]} view is blank`).toBeGreaterThan(15);
      expect(s.mean, `${orientations[i]} view is blank`).toBeGreaterThan(5);
    }
    await page.screenshot({ path: path.join(SCREENSHOTS, 'mpr.png') });

    await page.locator('select[aria-label="MIP slab thickness"]').selectOption('40');
    await page.locator('.mpr-panel[data-blend="mip"][data-slab="40"]').nth(2).waitFor();
    // Wait until the views show the projection: a maximum over 40 mm is brighter than one slice.
    await expect.poll(async () => (await pixelStats(panels.nth(0))).mean, { timeout: 60_000 }).toBeGreaterThan(thin[0]!.mean * 1.1);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'mpr-mip.png') });
    expect(consolePage.errors).toEqual([]);
  }, TEST_TIMEOUT);

  it('refuses a series of several oblique stacks, saying why', async () => {
    const { page } = consolePage;
    await page.goto(`${loire.httpUrl}/mpr?StudyInstanceUIDs=${spineStudy}&SeriesInstanceUIDs=${SPINE_AXIAL_SERIES}`);
    const alert = page.locator('.mpr [role="alert"]');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/cannot be shown in MPR: the slices do not all have the same orientation/);
    expect(await page.locator('.mpr').getAttribute('data-state')).toBe('error');
    expect(consolePage.errors).toEqual([]);
  }, TEST_TIMEOUT);
});
