// The reading console's build: a static single-page app that Loire serves at "/" (server
// http/console.ts). Cornerstone's DICOM image loader decodes in module web workers that load WASM
// codecs: workers must be emitted as ES modules.
import { createLogger, defineConfig } from 'vite';

// The WASM codecs' Emscripten glue mentions Node's fs/path for its Node branch, which never runs
// in a browser; Vite says so once per module. Those lines only hide real warnings.
const logger = createLogger();
const warn = logger.warn.bind(logger);
logger.warn = (message, options) => {
  if (message.includes('has been externalized for browser compatibility')) return;
  warn(message, options);
};

export default defineConfig({
  base: '/',
  customLogger: logger,
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    // Cornerstone and vtk.js are large by nature; the console loads them once per session.
    chunkSizeWarningLimit: 6000,
    sourcemap: false,
  },
  worker: { format: 'es' },
  optimizeDeps: {
    exclude: ['@cornerstonejs/dicom-image-loader'],
    include: ['dicom-parser'],
  },
});
