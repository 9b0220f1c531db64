// The reading console's build: a static single-page app that Loire serves at "/" (server
// http/console.ts). Cornerstone's DICOM image loader decodes in module web workers that load WASM
// codecs: workers must be emitted as ES modules.
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
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
