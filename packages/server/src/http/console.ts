// The reading console (packages/console), served as static files at the root: its pages (`/`,
// `/login`, `/viewer`, `/mpr`) answer index.html and the browser-side router picks the screen; its built
// assets live under `/assets/`. Pages and assets hold no patient data, so they are public: every
// patient-data request the console makes goes through the authenticated API and DICOMweb routes.
//
// These responses carry a Content-Security-Policy for an application page, not the API's
// "nothing may load" one: Cornerstone3D compiles its WASM codecs ('wasm-unsafe-eval'), decodes in
// web workers (served from 'self', some created from blob: URLs) and draws from data:/blob: images.
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from '../logger.js';

export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "img-src 'self' data: blob:",
  // Cornerstone's annotation tools and React write inline style attributes.
  "style-src 'self' 'unsafe-inline'",
  "connect-src 'self'",
  "font-src 'self' data:",
  // Encapsulated PDF reports are shown from a blob: URL the page makes of their bytes.
  "frame-src 'self' blob:",
  "object-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/** The console's client-side routes: each answers index.html. */
export const CONSOLE_PAGES = ['/', '/login', '/viewer', '/mpr'] as const;

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
};

/** Where `npm install` builds the console (packages/console/dist), from this module's place in src/ or dist/. */
export function defaultConsoleDir(): string {
  return fileURLToPath(new URL('../../../console/dist/', import.meta.url));
}

interface Asset { body: Buffer; type: string }

/**
 * Reads the built console into memory (a few MB, content-hashed names) and registers its routes.
 * A missing build is not fatal for the archive: the pages then answer 503 saying how to build it.
 */
export async function registerConsole(app: FastifyInstance, deps: { logger: Logger; dir?: string }): Promise<void> {
  const dir = deps.dir ?? defaultConsoleDir();
  let index: Buffer | undefined;
  const assets = new Map<string, Asset>();
  try {
    index = await readFile(path.join(dir, 'index.html'));
    for (const entry of await readdir(path.join(dir, 'assets'), { withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const type = CONTENT_TYPES[path.extname(entry.name).toLowerCase()] ?? 'application/octet-stream';
      assets.set(entry.name, { body: await readFile(path.join(dir, 'assets', entry.name)), type });
    }
    deps.logger.info({ dir, assets: assets.size }, 'reading console served at /');
  } catch (error) {
    index = undefined;
    deps.logger.warn({ dir, error: (error as Error).message },
      'the reading console is not built: / answers 503 (build it with "npm run build -w @loire/console")');
  }

  const page = async (_request: unknown, reply: FastifyReply) => {
    reply.header('Content-Security-Policy', CONSOLE_CSP);
    if (!index) {
      return reply.code(503).type('text/plain; charset=utf-8')
        .send('The reading console is not built. Run "npm install" (or "npm run build -w @loire/console") and restart Loire.\n');
    }
    // index.html names the hashed assets of this build: always revalidate it.
    return reply.header('Cache-Control', 'no-cache').type('text/html; charset=utf-8').send(index);
  };
  for (const url of CONSOLE_PAGES) app.get(url, { config: { access: 'public' } }, page);

  app.get<{ Params: { name: string } }>('/assets/:name', { config: { access: 'public' } }, async (request, reply) => {
    reply.header('Content-Security-Policy', CONSOLE_CSP);
    // Only names of files that the build wrote (a map lookup: no path ever reaches the filesystem).
    const asset = assets.get(request.params.name);
    if (!asset) return reply.code(404).type('application/json').send({ error: 'Not Found', message: `no console asset named ${JSON.stringify(request.params.name.slice(0, 100))}` });
    // Vite puts a content hash in every asset name: a given name never changes content.
    return reply.header('Cache-Control', 'public, max-age=31536000, immutable').type(asset.type).send(asset.body);
  });
}
