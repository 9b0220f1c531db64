// The reading console in real headless Chromium, for the console's acceptance tests: one browser
// per test file, a 1280x800 page that records its errors, login through the form, and samples
// stored straight through ingest.
import { createReadStream, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { defaultConsoleDir } from '../http/console.js';
import { repoRoot } from './samples.js';
import type { TestLoire } from './loire.js';

export const CHROMIUM = process.env.LOIRE_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.join(repoRoot, 'docs/screenshots');
/** Generous: the machine may be shared and Chromium renders WebGL in software (SwiftShader). */
export const UI_TIMEOUT = Number(process.env.LOIRE_TEST_UI_TIMEOUT ?? 120_000);
/** Per test: a few UI waits each. */
export const TEST_TIMEOUT = 4 * UI_TIMEOUT;

export function requireBuiltConsole(): void {
  if (!existsSync(path.join(defaultConsoleDir(), 'index.html'))) {
    throw new Error('the console is not built: run "npm install" or "npm run build -w @loire/console" first');
  }
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    // WebGL without a GPU: SwiftShader, which Chromium otherwise keeps for trusted pages only.
    args: ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist'],
  });
}

/** Closes what a console test file opened in its beforeAll: the browser, Loire, a temp directory. */
export async function closeConsoleTest(opened: { browser?: Browser | undefined; loire?: TestLoire | undefined; tmp?: string | undefined }): Promise<void> {
  await opened.browser?.close();
  await opened.loire?.stop();
  if (opened.tmp) rmSync(opened.tmp, { recursive: true, force: true });
}

/** A console page and the errors it reports once `watching` is set (before login, 401s are expected). */
export interface ConsolePage {
  page: Page;
  errors: string[];
  /** Set once logged in: from then on failed requests and console errors are recorded. */
  watching: boolean;
}

/** A page ready for screenshots (docs/screenshots); logged in through the form when `loginTo` is given. */
export async function openConsolePage(browser: Browser, loginTo?: TestLoire): Promise<ConsolePage> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(UI_TIMEOUT);
  const state: ConsolePage = { page, errors: [], watching: false };
  page.on('pageerror', (error) => {
    if (process.env.LOIRE_TEST_BROWSER_LOG) process.stderr.write(`[browser page error] ${error.stack ?? error.message}\n`);
    state.errors.push(`page error: ${error.message}`);
  });
  page.on('console', (message) => {
    if (process.env.LOIRE_TEST_BROWSER_LOG) process.stderr.write(`[browser ${message.type()}] ${message.text()}\n`);
    // A failed load is recorded below with its URL.
    if (message.type() === 'error' && state.watching && !message.text().startsWith('Failed to load resource')) state.errors.push(`console: ${message.text()}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400 && state.watching) state.errors.push(`HTTP ${response.status()} ${response.url()}`);
  });
  if (loginTo) await loginThroughForm(state, loginTo);
  return state;
}

/** A GET with the page's own session (cookie), as the console does it; refuses an error status. */
export function apiGet<T>(page: Page, url: string): Promise<T> {
  return page.evaluate(async (u) => {
    const response = await fetch(u, { credentials: 'same-origin' });
    if (!response.ok) throw new Error(`${u}: HTTP ${response.status}`);
    return response.json() as Promise<unknown>;
  }, url) as Promise<T>;
}

/** Logs in through the form (inputs `username` and `password`, Enter submits). */
export async function loginThroughForm(console: ConsolePage, loire: TestLoire, username = 'admin', password = loire.adminPassword): Promise<void> {
  const { page } = console;
  await page.goto(`${loire.httpUrl}/login`);
  await page.locator('input[name="username"]').fill(username);
  await page.locator('input[name="password"]').fill(password);
  await page.locator('input[name="password"]').press('Enter');
  await page.locator('[data-testid="user"]').waitFor();
  console.watching = true;
}

/** Stores files through ingest; returns the Study Instance UIDs seen. */
export async function storeFiles(loire: TestLoire, files: readonly string[]): Promise<Set<string>> {
  const studies = new Set<string>();
  for (const file of files) {
    const incoming = await loire.server.archive.ingest.beginPart10({ door: 'import', from: file });
    for await (const chunk of createReadStream(file)) await incoming.write(chunk as Buffer);
    studies.add((await incoming.end()).studyInstanceUid);
  }
  return studies;
}

/** Stores every file of a sample directory through ingest; returns the Study Instance UIDs seen. */
export function storeDirectory(loire: TestLoire, dir: string): Promise<Set<string>> {
  return storeFiles(loire, readdirSync(dir).map((name) => path.join(dir, name)));
}
