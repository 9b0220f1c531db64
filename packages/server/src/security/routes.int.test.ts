// Acceptance (issue 4, 1): every registered HTTP route — today's and any added later, collected by
// the onRoute hook — refuses a caller without credentials (401 + WWW-Authenticate) and a caller
// whose roles lack the route's permission (403). Only the health check and the login endpoints
// are public.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHttpApp } from '../http/app.js';
import { silentLogger } from '../logger.js';
import { startTestLoire, type TestLoire, type TestUser } from '../testing/loire.js';
import { ROLES, rolesAllow, type Role } from './permissions.js';
import type { RegisteredRoute } from './http-auth.js';

// The console's pages and built assets hold no patient data (http/console.ts).
const PUBLIC_ROUTES = new Set(['/healthz', '/api/login', '/api/logout', '/api/oidc/login', '/api/oidc/callback', '/', '/login', '/viewer', '/mpr', '/assets/:name']);

/** A concrete path for a route pattern: parameters get plausible values (UIDs, ids, names). */
function concretePath(url: string): string {
  return url
    .replace(/:([A-Za-z0-9_]+)(\([^)]*\))?/g, (_m, name: string) => {
      if (/uid/i.test(name)) return '1.2.840.113619.2.1';
      if (/^(id|frame|frames|number)/i.test(name)) return '1';
      if (/username/i.test(name)) return 'admin';
      return 'x';
    })
    .replace(/\*/g, 'x');
}

describe('authorisation of every HTTP route', () => {
  let loire: TestLoire;
  const users = new Map<Role, TestUser>();
  let routes: RegisteredRoute[];

  beforeAll(async () => {
    loire = await startTestLoire({
      // Every forged token below counts as a failure from 127.0.0.1: no throttling in this walk.
      // OpenID Connect on (the IdP is never contacted here) so that its routes are walked too.
      security: { addressThrottle: { maxFailures: 1_000_000, windowMinutes: 1 }, oidc: { issuer: 'https://idp.invalid/realms/h', clientId: 'loire', clientSecret: 's', redirectUri: 'https://loire.invalid/api/oidc/callback', scope: 'openid', usernameClaim: 'preferred_username', rolesClaim: 'roles', roleMapping: { rad: 'radiologist' }, allowInsecureHttp: false } },
    });
    for (const role of ROLES) users.set(role, await loire.createUser([role]));
    routes = [...loire.server.http.security.routes];
  });
  afterAll(async () => loire?.stop());

  it('collects the routes of every area, and each declares its access', () => {
    const urls = new Set(routes.map((r) => r.url));
    for (const url of ['/healthz', '/api/login', '/api/me', '/api/users', '/api/tokens', '/api/oidc/callback']) expect(urls).toContain(url);
    const undeclared = routes.filter((r) => r.access === undefined);
    expect(undeclared, 'routes without config.access').toEqual([]);
  });

  it('only the health check and the login endpoints are public', () => {
    const publicRoutes = routes.filter((r) => r.access === 'public').map((r) => r.url);
    for (const url of publicRoutes) expect(PUBLIC_ROUTES, `${url} is public`).toContain(url);
  });

  it('answers 401 with a challenge to every non-public route without credentials, 403 to roles without the permission', async () => {
    let refusedForRole = 0;
    for (const route of routes) {
      if (route.access === 'public' || route.access === undefined) continue;
      const url = `${loire.httpUrl}${concretePath(route.url)}`;
      const label = `${route.method} ${route.url} (${route.access})`;

      const anonymous = await fetch(url, { method: route.method });
      expect(anonymous.status, label).toBe(401);
      expect(anonymous.headers.get('www-authenticate'), label).toMatch(/Basic realm="Loire"/);
      await anonymous.arrayBuffer();

      const forged = await fetch(url, { method: route.method, headers: { authorization: 'Bearer loire_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } });
      expect(forged.status, `${label}, forged token`).toBe(401);
      await forged.arrayBuffer();

      for (const role of ROLES) {
        if (rolesAllow([role], route.access)) continue;
        const res = await fetch(url, { method: route.method, headers: users.get(role)!.httpHeaders });
        expect(res.status, `${label} as ${role}`).toBe(403);
        await res.arrayBuffer();
        refusedForRole++;
      }
    }
    // manage-users routes alone are refused to four roles each: the walk did test roles.
    expect(refusedForRole).toBeGreaterThan(20);
  });

  it('refuses a route that declares no access (fail closed), even to an administrator', async () => {
    const app = await buildHttpApp({ logger: silentLogger(), archive: loire.server.archive, isReady: () => true });
    app.get('/undeclared', async () => ({ secret: true }));
    await app.ready();
    const res = await app.inject({ method: 'GET', url: '/undeclared', headers: loire.httpHeaders });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('secret');
    expect(app.security.routes.find((r) => r.url === '/undeclared')).toEqual({ method: 'GET', url: '/undeclared', access: undefined });
    await app.close();
  });

  it('lets an authenticated caller reach an unknown URL only to learn it does not exist', async () => {
    expect((await fetch(`${loire.httpUrl}/no/such/route`)).status).toBe(401);
    expect((await fetch(`${loire.httpUrl}/no/such/route`, { headers: loire.httpHeaders })).status).toBe(404);
  });
});
