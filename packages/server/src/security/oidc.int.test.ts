// OpenID Connect login end to end against a local identity provider (testing/oidc-provider.ts):
// authorization code + PKCE, state and nonce, ID token signature, claim → role mapping. And the
// refusals: no transaction, tampered state or cookie, replayed code, wrong nonce, bad signature,
// no role, a local account's name.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdentityProvider, type TestIdentityProvider } from '../testing/oidc-provider.js';
import { startTestLoire, type TestLoire } from '../testing/loire.js';

const REDIRECT_URI = 'http://loire.test/api/oidc/callback';

describe('OpenID Connect login', () => {
  let idp: TestIdentityProvider;
  let loire: TestLoire;

  beforeAll(async () => {
    idp = await startTestIdentityProvider({ clientId: 'loire-pacs', clientSecret: 'idp-client-secret', user: {} });
    loire = await startTestLoire({
      security: {
        addressThrottle: { maxFailures: 1000, windowMinutes: 1 },
        oidc: {
          issuer: idp.issuer, clientId: 'loire-pacs', clientSecret: 'idp-client-secret', redirectUri: REDIRECT_URI,
          scope: 'openid profile', usernameClaim: 'preferred_username', rolesClaim: 'realm_access.roles',
          roleMapping: { 'pacs-radiologists': 'radiologist', 'pacs-clinicians': 'clinician' }, allowInsecureHttp: true,
        },
      },
    });
  });
  afterAll(async () => {
    await loire?.stop();
    await idp?.close();
  });

  /** Starts a login at Loire, lets the IdP log the user in, and returns the callback to call and the transaction cookie. */
  async function startLogin(): Promise<{ callback: string; cookie: string; authorize: URL }> {
    const start = await fetch(`${loire.httpUrl}/api/oidc/login`, { redirect: 'manual' });
    expect(start.status).toBe(302);
    const authorize = new URL(start.headers.get('location')!);
    const cookie = start.headers.getSetCookie().find((c) => c.startsWith('loire_oidc='))!.split(';')[0]!;
    const atIdp = await fetch(authorize, { redirect: 'manual' });
    expect(atIdp.status).toBe(302);
    const back = new URL(atIdp.headers.get('location')!);
    expect(back.origin + back.pathname).toBe(REDIRECT_URI);
    return { callback: `${loire.httpUrl}/api/oidc/callback${back.search}`, cookie, authorize };
  }

  it('logs a user in through the IdP with PKCE, state and nonce, and maps the group claim to roles', async () => {
    idp.user = { preferred_username: 'Jeanne.Durand', name: 'Jeanne Durand', realm_access: { roles: ['pacs-radiologists', 'staff'] } };
    idp.misbehave = undefined;
    const { callback, cookie, authorize } = await startLogin();
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorize.searchParams.get('state')).toBeTruthy();
    expect(authorize.searchParams.get('nonce')).toBeTruthy();
    expect(authorize.searchParams.get('redirect_uri')).toBe(REDIRECT_URI);
    const done = await fetch(callback, { headers: { cookie }, redirect: 'manual' });
    expect(done.status, await done.clone().text()).toBe(303);
    const session = done.headers.getSetCookie().find((c) => c.startsWith('loire_session='))!.split(';')[0]!;
    const me = await (await fetch(`${loire.httpUrl}/api/me`, { headers: { cookie: session } })).json();
    expect(me).toMatchObject({ username: 'jeanne.durand', displayName: 'Jeanne Durand', roles: ['radiologist'], origin: 'oidc', method: 'oidc' });
    // Roles follow the IdP at the next login.
    idp.user = { ...idp.user, realm_access: { roles: ['pacs-clinicians'] } };
    const again = await startLogin();
    const second = await fetch(again.callback, { headers: { cookie: again.cookie }, redirect: 'manual' });
    const session2 = second.headers.getSetCookie().find((c) => c.startsWith('loire_session='))!.split(';')[0]!;
    expect((await (await fetch(`${loire.httpUrl}/api/me`, { headers: { cookie: session2 } })).json()).roles).toEqual(['clinician']);
  });

  it('refuses a callback without the login transaction, or with a forged one', async () => {
    idp.user = { preferred_username: 'someone', realm_access: { roles: ['pacs-clinicians'] } };
    const { callback, cookie } = await startLogin();
    expect((await fetch(callback, { redirect: 'manual' })).status).toBe(400);
    const [name, value] = cookie.split('=');
    const forged = `${name}=${value!.slice(0, -2)}xx`;
    expect((await fetch(callback, { headers: { cookie: forged }, redirect: 'manual' })).status).toBe(400);
  });

  it('refuses a tampered state and a replayed code', async () => {
    idp.user = { preferred_username: 'someone', realm_access: { roles: ['pacs-clinicians'] } };
    const tampered = await startLogin();
    const url = new URL(tampered.callback);
    url.searchParams.set('state', 'attacker-state');
    expect((await fetch(url, { headers: { cookie: tampered.cookie }, redirect: 'manual' })).status).toBe(401);

    const replay = await startLogin();
    expect((await fetch(replay.callback, { headers: { cookie: replay.cookie }, redirect: 'manual' })).status).toBe(303);
    expect((await fetch(replay.callback, { headers: { cookie: replay.cookie }, redirect: 'manual' })).status).toBe(401);
  });

  it('refuses an ID token with a wrong nonce or a bad signature', async () => {
    idp.user = { preferred_username: 'someone', realm_access: { roles: ['pacs-clinicians'] } };
    for (const misbehave of ['wrong-nonce', 'bad-signature'] as const) {
      idp.misbehave = misbehave;
      const { callback, cookie } = await startLogin();
      const res = await fetch(callback, { headers: { cookie }, redirect: 'manual' });
      expect(res.status, misbehave).toBe(401);
      expect(res.headers.getSetCookie().some((c) => c.startsWith('loire_session=')), misbehave).toBe(false);
    }
    idp.misbehave = undefined;
  });

  it('refuses a user with no mapped role, and a name that belongs to a local account', async () => {
    idp.user = { preferred_username: 'visitor', realm_access: { roles: ['staff'] } };
    let login = await startLogin();
    expect((await fetch(login.callback, { headers: { cookie: login.cookie }, redirect: 'manual' })).status).toBe(403);
    idp.user = { preferred_username: 'admin', realm_access: { roles: ['pacs-radiologists'] } };
    login = await startLogin();
    const res = await fetch(login.callback, { headers: { cookie: login.cookie }, redirect: 'manual' });
    expect(res.status).toBe(403);
    expect((await res.json()).message).toContain('local account');
  });
});
