// The HTTP door: health, DICOMweb, and later the console and its API. Every route declares in
// its `config.access` the permission it needs (see security/permissions.ts).
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Archive } from '../archive.js';
import { registerAuditHook, registerAuditRoutes } from './audit.js';
import { registerDicomweb } from '../dicomweb/plugin.js';
import { sendError } from '../dicomweb/http-error.js';
import type { Logger } from '../logger.js';
import '../security/permissions.js';

export interface HttpDependencies {
  logger: Logger;
  archive: Archive;
  /** True once the DICOM listener accepts associations and the index is open. */
  isReady(): boolean;
}

export async function buildHttpApp(deps: HttpDependencies): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: deps.logger.child({ door: 'http' }) as FastifyBaseLogger, disableRequestLogging: true });
  app.setErrorHandler((error, request, reply) => sendError(error, request, reply));
  registerAuditHook(app, deps.archive);
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
  registerAuditRoutes(app, deps.archive);
  return app;
}
