// The HTTP door: health, DICOMweb, and later the console and its API. Every route declares in
// its `config.access` the permission it needs (see security/permissions.ts).
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Archive } from '../archive.js';
import { registerDicomweb } from '../dicomweb/plugin.js';
import { sendError } from '../dicomweb/http-error.js';
import { registerWadoUri } from '../dicomweb/wado-uri.js';
import type { Logger } from '../logger.js';
import '../security/permissions.js';

export interface HttpDependencies {
  logger: Logger;
  archive: Archive;
  /** True once the DICOM listener accepts associations and the index is open. */
  isReady(): boolean;
}

export async function buildHttpApp(deps: HttpDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger.child({ door: 'http' }) as FastifyBaseLogger,
    disableRequestLogging: true,
    // Path parameters hold UIDs (64 characters) and frame lists ("1,2,3,…" for a whole cine).
    maxParamLength: 4096,
  });
  app.setErrorHandler((error, request, reply) => sendError(error, request, reply));
  app.get('/healthz', {
    config: { access: 'public' },
    schema: {
      response: {
        200: { type: 'object', properties: { status: { type: 'string' } }, required: ['status'] },
        503: { type: 'object', properties: { status: { type: 'string' } }, required: ['status'] },
      },
    },
  }, async (_request, reply) => {
    if (!deps.isReady()) return reply.code(503).send({ status: 'starting' });
    return { status: 'ok' };
  });
  await registerDicomweb(app, { archive: deps.archive });
  registerWadoUri(app, { archive: deps.archive }); // WADO-URI at the root path older clients expect (PS3.18 §9)
  return app;
}
