// Cornerstone3D set-up, once per page: rendering core, the DICOM image loader (decoding in web
// workers with its WASM codecs) and the tools the viewer binds to mouse buttons; and the viewer's
// rendering engine, which lives as long as the page.
import { Enums, init as initCore, RenderingEngine, getRenderingEngine } from '@cornerstonejs/core';
import { init as initLoader } from '@cornerstonejs/dicom-image-loader';
import { addTool, init as initTools } from '@cornerstonejs/tools';
import { ALL_TOOLS } from './viewer/tools';

export const VIEWER_ENGINE_ID = 'loire-engine';
/** A hidden viewport as large as the window, kept enabled: see warmViewerEngine(). */
const WARM_VIEWPORT_ID = 'loire-warm';

let ready: Promise<void> | undefined;

export function initCornerstone(): Promise<void> {
  ready ??= (async () => {
    // One WebGL context for all stack viewports (Cornerstone's default is a pool of 7, one
    // viewport each): creating a context costs a fifth of a second without a GPU, and one
    // context, created ahead, serves every viewport of every study opened in the page.
    await initCore({ rendering: { webGlContextCount: 1 }, debug: {} });
    // Two decoders at most: a reading station also runs the rest of the page.
    initLoader({ maxWebWorkers: Math.min(2, Math.max(1, navigator.hardwareConcurrency || 1)) });
    initTools();
    for (const tool of ALL_TOOLS) addTool(tool);
  })();
  return ready;
}

/** The viewer's rendering engine: one per page, kept when a study is closed so that the next opens at once. */
export function viewerEngine(): RenderingEngine {
  const existing = getRenderingEngine(VIEWER_ENGINE_ID);
  return existing && !existing.hasBeenDestroyed ? existing : new RenderingEngine(VIEWER_ENGINE_ID);
}

/**
 * Prepares the viewer's engine while the reader is still on the study list: creates its WebGL
 * context and sizes its drawing buffer for a window-sized viewport, the two dearest steps of
 * showing a first image (hundreds of milliseconds with software WebGL). The hidden viewport stays
 * enabled so that the buffer keeps that size: a viewer cell, never larger than the window, then
 * draws into it without a new allocation.
 */
export async function warmViewerEngine(): Promise<void> {
  await initCornerstone();
  const engine = viewerEngine();
  if (engine.getViewport(WARM_VIEWPORT_ID)) return;
  const element = document.createElement('div');
  element.setAttribute('aria-hidden', 'true');
  element.style.cssText = 'position:fixed;left:-200vw;top:0;width:100vw;height:100vh;visibility:hidden;pointer-events:none';
  document.body.appendChild(element);
  engine.enableElement({ viewportId: WARM_VIEWPORT_ID, type: Enums.ViewportType.STACK, element });
  engine.renderViewports([WARM_VIEWPORT_ID]);
}
