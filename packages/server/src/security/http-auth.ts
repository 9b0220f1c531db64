// Authentication and authorisation of every HTTP request, in one global onRequest hook that reads
// the route's `config.access` (security/permissions.ts):
// - a route that declares no access is refused (fail closed) and the omission logged as an error;
// - 'public' routes pass (health check, login, OpenID Connect redirects);
// - otherwise the caller authenticates with a Bearer API token, HTTP Basic (RFC 7617) or the
//   session cookie; none → 401 with WWW-Authenticate (RFC 9110 11.6.1), a role lacking the
//   permission → 403. `request.principal` then names the caller for handlers and the audit trail.
// Also: secure response headers on every answer, HSTS on HTTPS (RFC 6797 7.2: never on plain HTTP).
import { createHmac, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import type { SecurityConfig } from '../config/config.js';
import type { Logger } from '../logger.js';
import type { AccountService, ResolvedCredential } from './accounts.js';
import { rolesAllow, type RouteAccess } from './permissions.js';
import type { Principal } from './principal.js';
import { AddressThrottle } from './throttle.js';

export const SESSION_COOKIE = 'loire_session';

export interface RegisteredRoute {
  method: string;
  url: string;
  access: RouteAccess | undefined;
}

export interface HttpSecurity {
  /** Every route registered on the app (collected by an onRoute hook), for tests and diagnostics. */
  readonly routes: readonly RegisteredRoute[];
  readonly throttle: AddressThrottle;
  readonly accounts: AccountService;
  readonly config: SecurityConfig;
  /** Checks a Basic username/password (cached for a short while so that scrypt is not paid per request). */
  checkBasic(username: string, password: string): Promise<ResolvedCredential | undefined>;
  /** Logs a refused authentication and counts it against the address. */
  recordFailure(request: FastifyRequest, reason: string, detail?: Record<string, unknown>): void;
  /** Tells the audit trail about a login (success or failure) or a logout; resolves once it is recorded. */
  reportAuthentication(report: AuthenticationReport): Promise<void>;
}

/** A login or logout, as the audit trail records it (PS3.15 A.5.3.9 User Authentication). */
export interface AuthenticationReport {
  type: 'login' | 'logout';
  succeeded: boolean;
  username: string;
  address: string;
  method: 'password' | 'oidc' | 'session';
  reason?: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    security: HttpSecurity;
  }
}

/** Content-Security-Policy for a JSON/DICOM API: nothing may be loaded, framed or submitted. */
const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
const HSTS = 'max-age=31536000; includeSubDomains';
const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Basic credentials checked once stay trusted for this long (or until the password changes). */
const BASIC_CACHE_MS = 5 * 60_000;
const BASIC_CACHE_MAX = 10_000;
/**
 * A credential resolved from the database is trusted again without a lookup for this long, unless
 * an account, session or token changed in this process meanwhile (AccountService.revision). A
 * change made elsewhere (the `loire user` command, another node on the same database) applies
 * within this delay.
 */
const RECHECK_MS = 1_000;
const MEMO_MAX = 10_000;
/** Longest Authorization or Cookie value looked at; anything longer is refused without work. */
const MAX_CREDENTIAL_LENGTH = 4096;

/**
 * The challenges of a 401 (RFC 9110 11.6.1). A browser answers a Basic challenge with its own
 * password dialog, even to a script's fetch/XHR, which then waits on a dialog no one sees: requests
 * a page's script makes (Fetch Metadata `Sec-Fetch-Dest: empty`) get the Bearer challenge only,
 * and the page shows its own login form.
 */
function challenge(request: FastifyRequest, error?: 'invalid_token'): string[] {
  const bearer = error ? `Bearer realm="Loire", error="${error}"` : 'Bearer realm="Loire"';
  if (request.headers['sec-fetch-dest'] === 'empty') return [bearer];
  return ['Basic realm="Loire", charset="UTF-8"', bearer];
}

function refuse(reply: FastifyReply, status: 401 | 403 | 429 | 500, message: string, headers: Record<string, string | string[]> = {}): FastifyReply {
  const reason = { 401: 'Unauthorized', 403: 'Forbidden', 429: 'Too Many Requests', 500: 'Internal Server Error' }[status];
  for (const [name, value] of Object.entries(headers)) reply.header(name, value);
  return reply.code(status).type('application/json').send({ error: reason, message });
}

type Credentials =
  | { kind: 'none' }
  | { kind: 'malformed'; detail: string }
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'bearer'; token: string }
  | { kind: 'session'; id: string };

function readCredentials(request: FastifyRequest): Credentials {
  const header = request.headers.authorization;
  if (header !== undefined) {
    if (header.length > MAX_CREDENTIAL_LENGTH) return { kind: 'malformed', detail: 'Authorization header too long' };
    const match = /^(\S+)\s+(\S+)\s*$/.exec(header);
    if (!match) return { kind: 'malformed', detail: 'Authorization header is not "<scheme> <credentials>"' };
    const scheme = match[1]!.toLowerCase();
    if (scheme === 'bearer') return { kind: 'bearer', token: match[2]! };
    if (scheme === 'basic') {
      // RFC 7617 2: base64 of user-id ":" password, UTF-8 (we announce charset="UTF-8").
      if (!/^[A-Za-z0-9+/]+=*$/.test(match[2]!)) return { kind: 'malformed', detail: 'Basic credentials are not base64' };
      const decoded = Buffer.from(match[2]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return { kind: 'malformed', detail: 'Basic credentials have no ":"' };
      return { kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
    return { kind: 'malformed', detail: `unsupported authentication scheme "${scheme.slice(0, 20)}"` };
  }
  const session = request.cookies[SESSION_COOKIE];
  if (session !== undefined) {
    if (session.length > MAX_CREDENTIAL_LENGTH) return { kind: 'malformed', detail: 'session cookie too long' };
    return { kind: 'session', id: session };
  }
  return { kind: 'none' };
}

/** For log lines: a caller-supplied string cut short, so that a log can't be flooded. */
export function clip(value: string, max = 64): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}

/** Whether an unsafe request authenticated by cookie comes from our own origin (CSRF defence besides SameSite). */
function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true; // non-browser clients and same-origin GET-initiated forms in old browsers
  try {
    return new URL(origin).host === request.host;
  } catch {
    return false;
  }
}

export async function registerHttpSecurity(app: FastifyInstance, deps: {
  accounts: AccountService; config: SecurityConfig; logger: Logger;
  /** Where logins and logouts are recorded (the audit trail). */
  onAuthentication?: (report: AuthenticationReport) => void | Promise<void>;
}): Promise<HttpSecurity> {
  const { accounts, config, logger } = deps;
  await app.register(cookie, { hook: 'onRequest' });
  const routes: RegisteredRoute[] = [];
  const throttle = new AddressThrottle(config.addressThrottle.maxFailures, config.addressThrottle.windowMinutes * 60_000);
  const basicCache = new Map<string, {
    pk: number; passwordChangedAt: string; until: number;
    /** The account as last checked, trusted until recheckAt unless accounts.revision moved. */
    resolved?: ResolvedCredential; revision: number; recheckAt: number;
  }>();
  const cacheKey = randomBytes(32);
  const basicPending = new Map<string, Promise<{ check: Awaited<ReturnType<AccountService['checkPassword']>>; revision: number }>>();
  const memos = new Map<string, { resolved: ResolvedCredential; revision: number; until: number }>();

  /** The credential's account: from the memo while it is fresh, otherwise from the database. */
  async function resolveRemembered(kind: 'bearer' | 'session', secret: string, lookup: () => Promise<ResolvedCredential | undefined>) {
    const key = createHmac('sha256', cacheKey).update(kind).update('\0').update(secret).digest('base64');
    const memo = memos.get(key);
    const now = Date.now();
    if (memo && memo.until > now && memo.revision === accounts.revision) return memo.resolved;
    const revision = accounts.revision;
    const resolved = await lookup();
    if (!resolved) {
      memos.delete(key);
      return undefined;
    }
    if (memos.size >= MEMO_MAX) memos.delete(memos.keys().next().value!);
    memos.set(key, { resolved, revision, until: Math.min(now + RECHECK_MS, resolved.validUntil ?? Infinity) });
    return resolved;
  }

  const security: HttpSecurity = {
    routes, throttle, accounts, config,
    async reportAuthentication(report) {
      await deps.onAuthentication?.(report);
    },
    async checkBasic(username, password) {
      const key = createHmac('sha256', cacheKey).update(username).update('\0').update(password).digest('base64');
      const cached = basicCache.get(key);
      const now = Date.now();
      if (cached && cached.until > now) {
        if (cached.resolved && cached.recheckAt > now && cached.revision === accounts.revision) return cached.resolved;
        const revision = accounts.revision;
        const account = await accounts.isActive(cached.pk, cached.passwordChangedAt);
        if (account) {
          Object.assign(cached, { resolved: { pk: cached.pk, account }, revision, recheckAt: now + RECHECK_MS });
          return cached.resolved;
        }
        basicCache.delete(key);
      }
      // Requests sent together with the same credentials (a viewer fetching frames six at a time)
      // share one password check: scrypt is memory-hard on purpose, and running it once per
      // request in parallel would stall the machine.
      let pending = basicPending.get(key);
      if (!pending) {
        const revision = accounts.revision; // before the lookup: a change made during it must not be memoised away
        pending = accounts.checkPassword(username, password).then((check) => ({ check, revision })).finally(() => basicPending.delete(key));
        basicPending.set(key, pending);
      }
      const { check, revision } = await pending;
      if (!check.ok) return undefined;
      if (basicCache.size >= BASIC_CACHE_MAX) basicCache.delete(basicCache.keys().next().value!);
      basicCache.set(key, {
        pk: check.pk, passwordChangedAt: check.account.passwordChangedAt, until: Date.now() + BASIC_CACHE_MS,
        resolved: { pk: check.pk, account: check.account }, revision, recheckAt: Date.now() + RECHECK_MS,
      });
      return { pk: check.pk, account: check.account };
    },
    recordFailure(request, reason, detail = {}) {
      throttle.recordFailure(request.ip);
      request.log.warn({ event: 'authentication-failed', reason, address: request.ip, method: request.method, url: clip(request.url, 200), ...detail }, 'authentication refused');
    },
  };
  app.decorate('security', security);

  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const access = (route.config as { access?: RouteAccess } | undefined)?.access;
    for (const method of methods) routes.push({ method, url: route.url, access });
    if (access === undefined) logger.error({ url: route.url, methods }, 'route declares no config.access: every request to it will be refused');
  });

  if (!config.authentication) {
    logger.warn({ event: 'authentication-disabled' },
      'SECURITY: authentication is OFF (security.authentication: false); every caller is an administrator. Use only for benchmarks, never with patient data');
  }

  app.addHook('onRequest', async (request, reply) => {
    const access = request.routeOptions.config?.access;
    const notFound = request.is404;
    if (access === undefined && !notFound) {
      request.log.error({ url: request.routeOptions.url, method: request.method }, 'refused: route declares no config.access');
      return refuse(reply, 500, 'this route declares no access permission, so it is refused; the server log names it');
    }
    if (access === 'public') {
      request.principal = { kind: 'anonymous', roles: [] };
      return;
    }
    if (!config.authentication) {
      request.principal = { kind: 'user', username: 'anonymous-benchmark', roles: ['administrator'] };
      return;
    }
    const retryAfter = throttle.retryAfterSeconds(request.ip);
    if (retryAfter > 0) {
      request.log.warn({ event: 'authentication-throttled', address: request.ip, url: clip(request.url, 200) }, 'too many failed authentications from this address');
      return refuse(reply, 429, `too many failed authentications from this address; try again in ${retryAfter} s`, { 'Retry-After': String(retryAfter) });
    }
    const credentials = readCredentials(request);
    let resolved: ResolvedCredential | undefined;
    let method: Principal['method'];
    switch (credentials.kind) {
      case 'none':
        return refuse(reply, 401, 'authentication required: log in (POST /api/login), or send an API token (Bearer) or Basic credentials', { 'WWW-Authenticate': challenge(request) });
      case 'malformed':
        security.recordFailure(request, 'malformed-credentials', { detail: credentials.detail });
        return refuse(reply, 401, `credentials not understood: ${credentials.detail}`, { 'WWW-Authenticate': challenge(request) });
      case 'bearer':
        resolved = await resolveRemembered('bearer', credentials.token, () => accounts.resolveToken(credentials.token));
        method = 'token';
        if (!resolved) {
          security.recordFailure(request, 'invalid-token', { tokenPrefix: clip(credentials.token, 12) });
          return refuse(reply, 401, 'the API token is unknown, revoked or expired', { 'WWW-Authenticate': challenge(request, 'invalid_token') });
        }
        break;
      case 'basic':
        resolved = await security.checkBasic(credentials.username, credentials.password);
        method = 'basic';
        if (!resolved) {
          security.recordFailure(request, 'invalid-password', { username: clip(credentials.username) });
          return refuse(reply, 401, 'invalid username or password (after repeated failures an account is locked for a while)', { 'WWW-Authenticate': challenge(request) });
        }
        break;
      case 'session':
        resolved = await resolveRemembered('session', credentials.id, () => accounts.resolveSession(credentials.id));
        method = resolved?.method === 'oidc' ? 'oidc' : 'session';
        if (!resolved) {
          security.recordFailure(request, 'invalid-session');
          reply.clearCookie(SESSION_COOKIE, { path: '/' });
          return refuse(reply, 401, 'the session has expired or was ended; log in again', { 'WWW-Authenticate': challenge(request) });
        }
        if (UNSAFE_METHODS.has(request.method) && !sameOrigin(request)) {
          request.log.warn({ event: 'cross-site-request', origin: clip(request.headers.origin ?? '', 200), url: clip(request.url, 200) }, 'refused a cross-site request carrying the session cookie');
          return refuse(reply, 403, 'cross-site request refused: the Origin does not match this server');
        }
        break;
    }
    request.principal = { kind: 'user', username: resolved.account.username, roles: resolved.account.roles, method };
    if (notFound) return; // authenticated callers learn that the route does not exist; others never do
    if (!rolesAllow(resolved.account.roles, access!)) {
      request.log.warn({ event: 'access-denied', username: resolved.account.username, roles: resolved.account.roles, access, url: clip(request.url, 200) }, 'permission refused');
      return refuse(reply, 403, `your role (${resolved.account.roles.join(', ')}) does not grant the "${access}" permission this request needs`);
    }
  });

  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('X-Frame-Options', 'DENY');
    reply.header('Referrer-Policy', 'no-referrer');
    if (!reply.hasHeader('Content-Security-Policy')) reply.header('Content-Security-Policy', API_CSP);
    if (request.protocol === 'https') reply.header('Strict-Transport-Security', HSTS);
    if (request.url.startsWith('/api/')) reply.header('Cache-Control', 'no-store');
    return payload;
  });

  return security;
}
