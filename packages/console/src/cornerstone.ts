// Cornerstone3D set-up, once per page: rendering core, the DICOM image loader (decoding in web
// workers with its WASM codecs) and the tools the viewer binds to mouse buttons.
import { init as initCore } from '@cornerstonejs/core';
import { init as initLoader } from '@cornerstonejs/dicom-image-loader';
import { addTool, init as initTools } from '@cornerstonejs/tools';
import { ALL_TOOLS } from './viewer/tools';

let ready: Promise<void> | undefined;

export function initCornerstone(): Promise<void> {
  ready ??= (async () => {
    await initCore();
    // Two decoders at most: a reading station also runs the rest of the page.
    initLoader({ maxWebWorkers: Math.min(2, Math.max(1, navigator.hardwareConcurrency || 1)) });
    initTools();
    for (const tool of ALL_TOOLS) addTool(tool);
  })();
  return ready;
}
