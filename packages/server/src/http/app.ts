// The HTTP door: health, the account API, DICOMweb, and the reading console. Every route declares in
// its `config.access` the permission it needs (see security/permissions.ts); one global hook
// (security/http-auth.ts) authenticates and authorises each request from that declaration.
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Archive } from '../archive.js';
import { ConfigError } from '../config/config.js';
import { userAuthentication } from '../audit/builders.js';
import { Outcome } from '../audit/event.js';
import { registerAuditHook, registerAuditRoutes } from './audit.js';
import { registerConsole } from './console.js';
import { registerProfileRoutes } from './profile-routes.js';
import { registerReportRoutes } from './report-routes.js';
import { createDicomwebContext } from '../dicomweb/context.js';
import { registerDicomweb } from '../dicomweb/plugin.js';
import { sendError } from '../dicomweb/http-error.js';
import { registerWadoUri } from '../dicomweb/wado-uri.js';
import type { Logger } from '../logger.js';
import { registerAccountRoutes } from '../security/auth-routes.js';
import { registerHttpSecurity } from '../security/http-auth.js';
import { registerOidcRoutes } from '../security/oidc.js';
import '../security/permissions.js';

export interface HttpDependencies {
  logger: Logger;
  archive: Archive;
  /** True once the DICOM listener accepts associations and the index is open. */
  isReady(): boolean;
}

function readPem(file: string, field: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new ConfigError(`http.tls.${field}: cannot read ${file}: ${(error as Error).message}`);
  }
}

/**
 * The app; with `http.tls` its own server speaks HTTPS (and server.ts feeds a plain-HTTP server to
 * `app.routing` when `http.plain` stays on).
 */
export async function buildHttpApp(deps: HttpDependencies): Promise<FastifyInstance> {
  const { tls } = deps.archive.config.http;
  const app = Fastify({
    loggerInstance: deps.logger.child({ door: 'http' }) as FastifyBaseLogger,
    disableRequestLogging: true,
    // Path parameters hold UIDs (64 characters) and frame lists ("1,2,3,…" for a whole cine).
    routerOptions: { maxParamLength: 4096 },
    // BCP 195 (RFC 9325): TLS 1.2 at least.
    ...(tls ? { https: { cert: readPem(tls.cert, 'cert'), key: readPem(tls.key, 'key'), minVersion: 'TLSv1.2' as const } } : {}),
  }) as unknown as FastifyInstance;
  app.setErrorHandler((error, request, reply) => sendError(error, request, reply));
  // First, so that its onRoute hook sees every route registered after it.
  const { audit, config } = deps.archive;
  const security = await registerHttpSecurity(app, {
    accounts: deps.archive.accounts, config: config.security, logger: deps.logger,
    onAuthentication: (report) => audit.record(userAuthentication({
      type: report.type, aeTitle: config.aeTitle,
      actor: { username: report.username, address: report.address, method: report.method },
      ...(report.succeeded ? {} : { outcome: Outcome.MinorFailure, reason: report.reason ?? 'refused' }),
    })),
  });
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
  registerAccountRoutes(app, security);
  registerOidcRoutes(app, security, deps.archive.config.security.oidc);
  registerProfileRoutes(app, deps.archive.index.db);
  const dicomweb = createDicomwebContext(deps.archive);
  await registerDicomweb(app, dicomweb);
  registerWadoUri(app, dicomweb); // WADO-URI at the root path older clients expect (PS3.18 §9)
  registerAuditRoutes(app, deps.archive);
  registerReportRoutes(app, deps.archive);
  await registerConsole(app, { logger: deps.logger });
  return app;
}
