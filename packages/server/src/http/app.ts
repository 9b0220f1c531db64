// The HTTP door. For now: health; DICOMweb and the console register their own plugins here later.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '../logger.js';

export interface HttpDependencies {
  logger: Logger;
  /** True once the DICOM listener accepts associations and the index is open. */
  isReady(): boolean;
}

export function buildHttpApp(deps: HttpDependencies): FastifyInstance {
  const app = Fastify({ loggerInstance: deps.logger.child({ door: 'http' }) as FastifyBaseLogger, disableRequestLogging: true });
  app.get('/healthz', {
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
  return app;
}
