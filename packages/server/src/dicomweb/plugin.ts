// The DICOMweb door (PS3.18) under /dicom-web: each service registers its own routes here.
import compress from '@fastify/compress';
import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import { DICOMWEB_PREFIX, type DicomwebContext } from './context.js';
import { registerDelete } from './delete.js';
import { sendError } from './http-error.js';
import { registerRendered } from './rendered.js';
import { registerWadoUri } from './wado-uri.js';
import { registerStow } from './stow.js';
import { registerMetadata } from './metadata.js';
import { registerQido } from './qido.js';
import { registerWadoRs } from './wado.js';

type RouteRegistration = (app: FastifyInstance, context: DicomwebContext) => void;

/** Every DICOMweb service, in the order its routes are registered. */
const SERVICES: readonly RouteRegistration[] = [
  registerRendered,
  registerWadoUri, // also at /wado, see http/app.ts
  registerStow,
  registerDelete,
  registerQido,
  registerMetadata,
  registerWadoRs,
];

/**
 * JSON and XML answers (QIDO-RS results, metadata) are compressed when the client accepts it;
 * pixel data and DICOM objects are not (compressed images gain nothing, and the CPU is better
 * spent serving frames). gzip level 1: DICOM JSON is so repetitive that it still shrinks ~10x.
 */
const COMPRESSIBLE = /^application\/(dicom\+)?json(;|$)|^application\/dicom\+xml(;|$)/;

export async function registerDicomweb(app: FastifyInstance, context: DicomwebContext): Promise<void> {
  await app.register(async (scope) => {
    scope.setErrorHandler((error, request, reply) => sendError(error, request, reply));
    await scope.register(compress, {
      global: true,
      globalDecompression: false,
      customTypes: COMPRESSIBLE,
      encodings: ['gzip', 'deflate', 'br'],
      zlibOptions: { level: 1 },
    });
    await registerCors(scope, context.archive.config.dicomweb.cors.origins);
    for (const register of SERVICES) register(scope, context);
  }, { prefix: DICOMWEB_PREFIX });
}

/**
 * CORS for browser viewers served from another origin (Fetch standard §3.2). Preflight requests
 * carry no credentials by definition, so the preflight route the plugin adds is public; the
 * actual requests stay subject to each route's declared access.
 */
async function registerCors(scope: FastifyInstance, origins: readonly string[]): Promise<void> {
  if (origins.length === 0) return;
  scope.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (methods.includes('OPTIONS') && route.config?.access === undefined) route.config = { ...route.config, access: 'public' };
  });
  const anyOrigin = origins.includes('*');
  await scope.register(cors, {
    origin: anyOrigin ? '*' : [...origins],
    credentials: !anyOrigin,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
    exposedHeaders: ['Content-Location', 'Content-Type', 'ETag', 'Last-Modified', 'Warning', 'Location'],
    maxAge: 600,
  });
}
