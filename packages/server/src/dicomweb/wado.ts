// WADO-RS (PS3.18 §10.4): whole instances, frames and bulk data. Metadata and rendered
// resources are registered by their own services.
import type { FastifyInstance } from 'fastify';
import { registerBulkdata } from './bulkdata.js';
import type { DicomwebContext } from './context.js';
import { registerFrames } from './frames.js';
import { registerWadoRetrieve } from './wado-retrieve.js';

export function registerWadoRs(app: FastifyInstance, context: DicomwebContext): void {
  registerWadoRetrieve(app, context);
  registerFrames(app, context);
  registerBulkdata(app, context);
}
