// The DICOMweb door (PS3.18) under /dicom-web: each service registers its own routes here.
import type { FastifyInstance } from 'fastify';
import { DICOMWEB_PREFIX, type DicomwebContext } from './context.js';
import { sendError } from './http-error.js';
import { registerWadoRs } from './wado.js';

type RouteRegistration = (app: FastifyInstance, context: DicomwebContext) => void;

/** Every DICOMweb service, in the order its routes are registered. */
const SERVICES: readonly RouteRegistration[] = [
  registerWadoRs,
];

export async function registerDicomweb(app: FastifyInstance, context: DicomwebContext): Promise<void> {
  await app.register(async (scope) => {
    scope.setErrorHandler((error, request, reply) => sendError(error, request, reply));
    for (const register of SERVICES) register(scope, context);
  }, { prefix: DICOMWEB_PREFIX });
}
