// Optional login through the hospital's OpenID Connect identity provider (OpenID Connect Core 1.0,
// authorization code flow with PKCE, RFC 7636), with openid-client. The IdP authenticates; Loire
// maps one claim (e.g. groups) to its roles, keeps an account row of origin 'oidc' (roles refreshed
// at each login) and opens an ordinary session.
//   GET /api/oidc/login     → 302 to the IdP, with state, nonce and the PKCE challenge
//   GET /api/oidc/callback  → code exchanged and the ID token verified; session cookie; 303 to /
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as client from 'openid-client';
import type { OidcConfig } from '../config/config.js';
import { AccountError } from './accounts.js';
import { setSessionCookie } from './auth-routes.js';
import { clip, type HttpSecurity } from './http-auth.js';
import { ROLES, type Role } from './permissions.js';

const TRANSACTION_COOKIE = 'loire_oidc';
/** How long a user may spend at the identity provider between leaving and coming back. */
const TRANSACTION_SECONDS = 600;

/** The value at a dotted path of the claims (`realm_access.roles`), or undefined. */
export function claimAt(claims: Record<string, unknown>, path: string): unknown {
  let value: unknown = claims;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** Loire roles granted by the IdP claim (a string or an array of strings) through the configured mapping. */
export function rolesFromClaims(claims: Record<string, unknown>, config: Pick<OidcConfig, 'rolesClaim' | 'roleMapping'>): Role[] {
  const value = claimAt(claims, config.rolesClaim);
  const values = typeof value === 'string' ? [value] : Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  const roles = new Set<Role>();
  for (const v of values) {
    const role = Object.prototype.hasOwnProperty.call(config.roleMapping, v) ? config.roleMapping[v] : undefined;
    if (role) roles.add(role);
  }
  return ROLES.filter((r) => roles.has(r));
}

interface Transaction { state: string; nonce: string; verifier: string; expires: number }

/** The transaction cookie: payload and an HMAC under a key derived from the client secret (shared by every node). */
class TransactionSealer {
  private readonly key: Buffer;
  constructor(clientSecret: string) {
    this.key = createHmac('sha256', 'loire-oidc-transaction').update(clientSecret).digest();
  }

  seal(t: Transaction): string {
    const payload = Buffer.from(JSON.stringify(t)).toString('base64url');
    return `${payload}.${this.mac(payload)}`;
  }

  open(value: string | undefined, now: number): Transaction | undefined {
    if (!value || value.length > 2048) return undefined;
    const [payload, mac] = value.split('.');
    if (!payload || !mac) return undefined;
    const expected = Buffer.from(this.mac(payload));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    try {
      const t = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Transaction;
      return typeof t.expires === 'number' && t.expires > now ? t : undefined;
    } catch {
      return undefined;
    }
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}

function fail(reply: FastifyReply, status: 400 | 401 | 403 | 503, message: string): FastifyReply {
  const reason = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 503: 'Service Unavailable' }[status];
  return reply.code(status).type('application/json').send({ error: reason, message });
}

export function registerOidcRoutes(app: FastifyInstance, security: HttpSecurity, config: OidcConfig | undefined): void {
  if (!config) return;
  const sealer = new TransactionSealer(config.clientSecret);
  let discovered: Promise<client.Configuration> | undefined;

  /** Discovery (OpenID Connect Discovery 1.0) on first use, retried after a failure. */
  const configuration = (): Promise<client.Configuration> => {
    // OpenID Connect Core 3.1.3.7 lets a client trust the token endpoint's TLS instead of the ID
    // token's signature; Loire checks the signature against the IdP's keys (JWKS) all the same.
    discovered ??= client.discovery(new URL(config.issuer), config.clientId, config.clientSecret, undefined, {
      execute: [...(config.allowInsecureHttp ? [client.allowInsecureRequests] : []), client.enableNonRepudiationChecks],
    });
    discovered.catch(() => { discovered = undefined; });
    return discovered;
  };
  if (config.allowInsecureHttp) {
    app.log.warn({ event: 'oidc-insecure', issuer: config.issuer }, 'SECURITY: OpenID Connect issuer may be reached over plain HTTP (security.oidc.allowInsecureHttp); only for a test identity provider');
  }

  const cookieOptions = (request: FastifyRequest) => ({
    // Lax, not Strict: the callback is a top-level navigation from the IdP's site and must carry it.
    path: '/api/oidc', httpOnly: true, secure: request.protocol === 'https', sameSite: 'lax' as const, maxAge: TRANSACTION_SECONDS,
  });

  app.get('/api/oidc/login', { config: { access: 'public' } }, async (request, reply) => {
    let oidc: client.Configuration;
    try {
      oidc = await configuration();
    } catch (error) {
      request.log.error({ err: error, issuer: config.issuer }, 'OpenID Connect discovery failed');
      return fail(reply, 503, 'the identity provider cannot be reached; the server log has the details');
    }
    const transaction: Transaction = {
      state: client.randomState(), nonce: client.randomNonce(), verifier: client.randomPKCECodeVerifier(),
      expires: Date.now() + TRANSACTION_SECONDS * 1000,
    };
    const url = client.buildAuthorizationUrl(oidc, {
      redirect_uri: config.redirectUri,
      scope: config.scope,
      state: transaction.state,
      nonce: transaction.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(transaction.verifier),
      code_challenge_method: 'S256',
    });
    reply.setCookie(TRANSACTION_COOKIE, sealer.seal(transaction), cookieOptions(request));
    return reply.redirect(url.href, 302);
  });

  app.get<{ Querystring: Record<string, string> }>('/api/oidc/callback', {
    config: { access: 'public' },
    schema: { querystring: { type: 'object', additionalProperties: { type: 'string', maxLength: 4096 } } },
  }, async (request, reply) => {
    const transaction = sealer.open(request.cookies[TRANSACTION_COOKIE], Date.now());
    reply.clearCookie(TRANSACTION_COOKIE, { path: '/api/oidc' });
    if (request.query.error) {
      request.log.warn({ event: 'oidc-error', error: clip(request.query.error), description: clip(request.query.error_description ?? '', 200) }, 'identity provider returned an error');
      return fail(reply, 401, `the identity provider refused the login: ${clip(request.query.error)}`);
    }
    if (!transaction) {
      security.recordFailure(request, 'oidc-no-transaction');
      return fail(reply, 400, 'no login in progress from this browser (or it took longer than 10 minutes); start again at /api/oidc/login');
    }
    // The URL the IdP redirected to, rebuilt from configuration rather than from the Host header.
    const current = new URL(config.redirectUri);
    current.search = new URLSearchParams(request.query).toString();
    let claims: Record<string, unknown>;
    try {
      const oidc = await configuration();
      const tokens = await client.authorizationCodeGrant(oidc, current, {
        pkceCodeVerifier: transaction.verifier, expectedState: transaction.state, expectedNonce: transaction.nonce, idTokenExpected: true,
      });
      claims = (tokens.claims() ?? {}) as Record<string, unknown>;
    } catch (error) {
      security.recordFailure(request, 'oidc-validation-failed', { detail: clip((error as Error).message, 200) });
      return fail(reply, 401, 'the identity provider\'s answer could not be validated; the server log has the details');
    }
    const usernameValue = claimAt(claims, config.usernameClaim);
    const roles = rolesFromClaims(claims, config);
    if (typeof usernameValue !== 'string' || usernameValue === '') {
      security.recordFailure(request, 'oidc-no-username', { claim: config.usernameClaim });
      return fail(reply, 403, `the identity provider sent no "${config.usernameClaim}" claim to name the user`);
    }
    if (roles.length === 0) {
      security.recordFailure(request, 'oidc-no-role', { username: clip(usernameValue) });
      return fail(reply, 403, 'your identity-provider account has no Loire role; ask an administrator');
    }
    const displayName = typeof claims.name === 'string' ? claims.name.slice(0, 200) : '';
    let account;
    try {
      account = await security.accounts.upsertOidcAccount(usernameValue, displayName, roles);
    } catch (error) {
      if (!(error instanceof AccountError)) throw error;
      security.recordFailure(request, 'oidc-account-refused', { username: clip(usernameValue), detail: error.message });
      return fail(reply, 403, error.message);
    }
    const session = await security.accounts.createSession(account.pk, 'oidc', request.ip);
    setSessionCookie(request, reply, session.id, session.expiresAt);
    request.log.info({ event: 'login', method: 'oidc', username: account.account.username, roles, address: request.ip }, 'logged in through the identity provider');
    await security.reportAuthentication({ type: 'login', succeeded: true, username: account.account.username, address: request.ip, method: 'oidc' });
    return reply.redirect('/', 303);
  });
}
