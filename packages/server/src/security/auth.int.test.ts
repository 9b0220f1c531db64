// Authentication over real HTTP against a whole test Loire: login (JSON and form), session cookie,
// logout, Basic, API tokens, password change, user management, and hostile input — forged and
// replayed credentials, oversized headers and bodies, injection in usernames — refused, logged,
// and the server still up. Lockout and per-address throttling have their own Loire each.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestLoire, type TestLoire, type TestUser } from '../testing/loire.js';

/** Collects the server's JSON log lines. */
class LogLines extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) this.lines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  }
  events(event: string): Record<string, unknown>[] {
    return this.lines.filter((l) => l.event === event);
  }
}

function login(loire: TestLoire, username: string, password: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${loire.httpUrl}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ username, password }) });
}

function sessionCookie(res: Response): string {
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('loire_session='));
  if (!cookie) throw new Error(`no session cookie in ${JSON.stringify(res.headers.getSetCookie())}`);
  return cookie.split(';')[0]!;
}

const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
const GENERIC_FAILURE = 'invalid username or password (after repeated failures an account is locked for a while)';

describe('authentication', () => {
  let loire: TestLoire;
  const log = new LogLines();
  let clinician: TestUser;

  beforeAll(async () => {
    loire = await startTestLoire({ logDestination: log, security: { addressThrottle: { maxFailures: 1000, windowMinutes: 1 } } });
    clinician = await loire.createUser(['clinician'], 'dr.clinician');
  });
  afterAll(async () => loire?.stop());

  it('logs in with JSON, sets a HttpOnly SameSite=Lax cookie that authenticates, and logs out', async () => {
    const res = await login(loire, 'admin', loire.adminPassword);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ username: 'admin', roles: ['administrator'] });
    const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('loire_session='))!;
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    expect(setCookie).not.toMatch(/Secure/i); // plain HTTP here; the HTTPS test checks Secure
    const cookie = sessionCookie(res);
    const me = await fetch(`${loire.httpUrl}/api/me`, { headers: { cookie } });
    expect(await me.json()).toMatchObject({ username: 'admin', method: 'session' });
    expect((await fetch(`${loire.httpUrl}/api/logout`, { method: 'POST', headers: { cookie } })).status).toBe(204);
    // Replaying the cookie after logout.
    const replayed = await fetch(`${loire.httpUrl}/api/me`, { headers: { cookie } });
    expect(replayed.status).toBe(401);
    expect(log.events('logout').length).toBe(1);
  });

  it('logs in with a form-encoded body', async () => {
    const res = await fetch(`${loire.httpUrl}/api/login`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'dr.clinician', password: clinician.password }).toString(),
    });
    expect(res.status).toBe(200);
    expect((await res.json()).roles).toEqual(['clinician']);
  });

  it('answers the same for an unknown user and a wrong password, and logs both', async () => {
    const unknown = await login(loire, 'nobody', 'some long password');
    const wrong = await login(loire, 'admin', 'some long password');
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(await unknown.json()).toEqual(await wrong.json());
    const reasons = log.events('authentication-failed').map((l) => l.reason);
    expect(reasons).toContain('unknown-user');
    expect(reasons).toContain('wrong-password');
    expect(JSON.stringify(log.lines)).not.toContain('some long password');
  });

  it('accepts HTTP Basic credentials and refuses wrong ones with a challenge', async () => {
    const ok = await fetch(`${loire.httpUrl}/api/me`, { headers: basic('dr.clinician', clinician.password) });
    expect(await ok.json()).toMatchObject({ username: 'dr.clinician', method: 'basic' });
    // Second request served from the short-lived verification cache: same answer.
    expect((await fetch(`${loire.httpUrl}/api/me`, { headers: basic('dr.clinician', clinician.password) })).status).toBe(200);
    const bad = await fetch(`${loire.httpUrl}/api/me`, { headers: basic('dr.clinician', 'not the password') });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toContain('Basic realm="Loire"');
  });

  it('creates, lists, uses and revokes API tokens; a token cannot mint tokens', async () => {
    const created = await fetch(`${loire.httpUrl}/api/tokens`, {
      method: 'POST', headers: { ...basic('dr.clinician', clinician.password), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'viewer script', expiresInDays: 30 }),
    });
    expect(created.status).toBe(201);
    const { token, id, prefix } = await created.json() as { token: string; id: number; prefix: string };
    expect(token.startsWith(prefix)).toBe(true);
    const bearer = { authorization: `Bearer ${token}` };
    expect(await (await fetch(`${loire.httpUrl}/api/me`, { headers: bearer })).json()).toMatchObject({ username: 'dr.clinician', method: 'token' });
    const list = await (await fetch(`${loire.httpUrl}/api/tokens`, { headers: bearer })).json() as { name: string; token?: string }[];
    expect(list.map((t) => t.name)).toContain('viewer script');
    expect(JSON.stringify(list)).not.toContain(token);
    const minted = await fetch(`${loire.httpUrl}/api/tokens`, { method: 'POST', headers: { ...bearer, 'content-type': 'application/json' }, body: '{"name":"x"}' });
    expect(minted.status).toBe(403);
    expect((await fetch(`${loire.httpUrl}/api/tokens/${id}`, { method: 'DELETE', headers: bearer })).status).toBe(204);
    // Replayed after revocation.
    const replayed = await fetch(`${loire.httpUrl}/api/me`, { headers: bearer });
    expect(replayed.status).toBe(401);
    expect(replayed.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('a password change keeps the current session and revokes the other sessions and the tokens', async () => {
    const user = await loire.createUser(['radiologist'], 'dr.changes');
    const here = sessionCookie(await login(loire, user.username, user.password));
    const there = sessionCookie(await login(loire, user.username, user.password));
    const changed = await fetch(`${loire.httpUrl}/api/me/password`, {
      method: 'POST', headers: { cookie: here, 'content-type': 'application/json' },
      body: JSON.stringify({ currentPassword: user.password, newPassword: 'a brand new long password' }),
    });
    expect(changed.status).toBe(204);
    expect((await fetch(`${loire.httpUrl}/api/me`, { headers: { cookie: here } })).status).toBe(200);
    expect((await fetch(`${loire.httpUrl}/api/me`, { headers: { cookie: there } })).status).toBe(401);
    expect((await fetch(`${loire.httpUrl}/api/me`, { headers: user.httpHeaders })).status).toBe(401);
    expect((await login(loire, user.username, 'a brand new long password')).status).toBe(200);
  });

  it('administrators manage users; the last administrator cannot be demoted or disabled', async () => {
    const headers = { ...loire.httpHeaders, 'content-type': 'application/json' };
    const created = await fetch(`${loire.httpUrl}/api/users`, { method: 'POST', headers, body: JSON.stringify({ username: 'tech.one', roles: ['technologist'], password: 'technologist password' }) });
    expect(created.status).toBe(201);
    const users = await (await fetch(`${loire.httpUrl}/api/users`, { headers: loire.httpHeaders })).json() as { username: string }[];
    expect(users.map((u) => u.username)).toEqual(expect.arrayContaining(['admin', 'tech.one', 'dr.clinician']));
    expect(JSON.stringify(users)).not.toMatch(/scrypt|password_hash/);
    const patched = await fetch(`${loire.httpUrl}/api/users/tech.one`, { method: 'PATCH', headers, body: JSON.stringify({ roles: ['technologist', 'clinician'], disabled: true }) });
    expect(await patched.json()).toMatchObject({ roles: ['clinician', 'technologist'], disabled: true });
    expect((await login(loire, 'tech.one', 'technologist password')).status).toBe(401);
    const demote = await fetch(`${loire.httpUrl}/api/users/admin`, { method: 'PATCH', headers, body: JSON.stringify({ roles: ['auditor'] }) });
    expect(demote.status).toBe(409);
    const badRole = await fetch(`${loire.httpUrl}/api/users`, { method: 'POST', headers, body: JSON.stringify({ username: 'x', roles: ['root'], password: 'long enough password' }) });
    expect(badRole.status).toBe(400);
    const reset = await fetch(`${loire.httpUrl}/api/users/dr.clinician/password`, { method: 'PUT', headers, body: JSON.stringify({ password: 'reset by the admin!' }) });
    expect(reset.status).toBe(204);
    expect((await fetch(`${loire.httpUrl}/api/me`, { headers: clinician.httpHeaders })).status).toBe(401);
    clinician = { ...clinician, password: 'reset by the admin!' };
  });

  it('refuses an expired API token and an expired session', async () => {
    const user = await loire.createUser(['clinician'], 'dr.expired');
    const cookie = sessionCookie(await login(loire, user.username, user.password));
    expect((await fetch(`${loire.httpUrl}/api/me`, { headers: user.httpHeaders })).status).toBe(200);
    expect((await fetch(`${loire.httpUrl}/api/me`, { headers: { cookie } })).status).toBe(200);
    // Age them in the database, as time would.
    const db = loire.server.archive.index.db.withTables<{ api_token: { expires_at: string | null }; account_session: { expires_at: string } }>();
    await db.updateTable('api_token').set({ expires_at: '2000-01-01T00:00:00.000Z' }).execute();
    await db.updateTable('account_session').set({ expires_at: '2000-01-01T00:00:00.000Z' }).execute();
    // A change made behind the server's back (another node, the `loire user` command) applies within a second.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await fetch(`${loire.httpUrl}/api/me`, { headers: user.httpHeaders })).status).toBe(401);
    const expired = await fetch(`${loire.httpUrl}/api/me`, { headers: { cookie } });
    expect(expired.status).toBe(401);
    expect(expired.headers.getSetCookie().some((c) => c.startsWith('loire_session=;'))).toBe(true);
    expect(log.events('authentication-failed').map((l) => l.reason)).toEqual(expect.arrayContaining(['invalid-token', 'invalid-session']));
    // The test's own administrator token was aged too: give the next tests a fresh one.
    const { token } = await loire.server.archive.accounts.createToken('admin', 'test');
    loire.httpHeaders.authorization = `Bearer ${token}`;
  });

  it('refuses forged session cookies and tokens, and logs them', async () => {
    const before = log.events('authentication-failed').length;
    for (const cookie of ['loire_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'loire_session=../../etc/passwd', "loire_session=' OR '1'='1"]) {
      const res = await fetch(`${loire.httpUrl}/api/me`, { headers: { cookie } });
      expect(res.status, cookie).toBe(401);
    }
    for (const authorization of ['Bearer loire_forged', 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.', 'Basic !!!', 'Negotiate abc', 'Bearer']) {
      const res = await fetch(`${loire.httpUrl}/api/users`, { headers: { authorization } });
      expect(res.status, authorization).toBe(401);
    }
    expect(log.events('authentication-failed').length - before).toBe(8);
  });

  it('refuses a cross-site POST carrying the session cookie', async () => {
    const cookie = sessionCookie(await login(loire, 'admin', loire.adminPassword));
    const res = await fetch(`${loire.httpUrl}/api/tokens`, {
      method: 'POST', headers: { cookie, origin: 'https://evil.example', 'content-type': 'application/json' }, body: '{"name":"csrf"}',
    });
    expect(res.status).toBe(403);
    const same = await fetch(`${loire.httpUrl}/api/tokens`, {
      method: 'POST', headers: { cookie, origin: loire.httpUrl, 'content-type': 'application/json' }, body: '{"name":"same-site"}',
    });
    expect(same.status).toBe(201);
  });

  it('refuses oversized headers and bodies and injection in usernames, and stays up', async () => {
    const hugeHeader = await fetch(`${loire.httpUrl}/api/me`, { headers: { cookie: `loire_session=${'A'.repeat(20_000)}` } }).then((r) => r.status, () => 'reset');
    expect([431, 'reset']).toContain(hugeHeader);
    const hugeAuth = await fetch(`${loire.httpUrl}/api/me`, { headers: { authorization: `Bearer ${'A'.repeat(8000)}` } });
    expect(hugeAuth.status).toBe(401);
    const hugeBody = await fetch(`${loire.httpUrl}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'x'.repeat(100_000) }) });
    expect(hugeBody.status).toBe(413);
    const longPassword = await login(loire, 'admin', 'x'.repeat(2000));
    expect(longPassword.status).toBe(400);
    for (const username of ["admin' --", "admin'; DROP TABLE account; --", 'admin\u0000', '*)(uid=*))(|(uid=*', '../../admin', 'ADMIN" OR 1=1']) {
      const res = await login(loire, username, loire.adminPassword);
      expect(res.status, username).toBe(401);
      expect((await res.json()).message).toBe(GENERIC_FAILURE);
    }
    const notJson = await fetch(`${loire.httpUrl}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username":' });
    expect(notJson.status).toBe(400);
    expect((await fetch(`${loire.httpUrl}/healthz`)).status).toBe(200);
    expect((await login(loire, 'admin', loire.adminPassword)).status).toBe(200);
  });

  it('sends secure headers on every answer, and no HSTS over plain HTTP', async () => {
    for (const res of [await fetch(`${loire.httpUrl}/healthz`), await fetch(`${loire.httpUrl}/api/users`), await fetch(`${loire.httpUrl}/api/me`, { headers: loire.httpHeaders })]) {
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(res.headers.get('strict-transport-security')).toBeNull();
    }
  });
});

describe('lockout and throttling', () => {
  it('locks an account after repeated failures with an answer that does not reveal it', async () => {
    const log = new LogLines();
    const loire = await startTestLoire({ logDestination: log, security: { lockout: { maxFailures: 3, lockMinutes: 15 }, addressThrottle: { maxFailures: 1000, windowMinutes: 1 } } });
    try {
      const user = await loire.createUser(['clinician'], 'locked.out');
      for (let i = 0; i < 3; i++) expect((await login(loire, 'locked.out', `wrong password ${i}`)).status).toBe(401);
      const right = await login(loire, 'locked.out', user.password);
      expect(right.status).toBe(401);
      expect((await right.json()).message).toBe(GENERIC_FAILURE);
      // Basic with the right password is refused as well while locked; the API token still works (not a password guess).
      expect((await fetch(`${loire.httpUrl}/api/me`, { headers: basic('locked.out', user.password) })).status).toBe(401);
      expect((await fetch(`${loire.httpUrl}/api/me`, { headers: user.httpHeaders })).status).toBe(200);
      expect(log.events('authentication-failed').some((l) => l.accountLocked === true)).toBe(true);
      expect(log.events('authentication-failed').some((l) => l.reason === 'locked')).toBe(true);
      const listed = await (await fetch(`${loire.httpUrl}/api/users/locked.out`, { headers: loire.httpHeaders })).json() as { lockedUntil?: string };
      expect(listed.lockedUntil).toBeDefined();
      // An administrator's password reset unlocks.
      await fetch(`${loire.httpUrl}/api/users/locked.out/password`, { method: 'PUT', headers: { ...loire.httpHeaders, 'content-type': 'application/json' }, body: JSON.stringify({ password: 'unlocked long password' }) });
      expect((await login(loire, 'locked.out', 'unlocked long password')).status).toBe(200);
    } finally {
      await loire.stop();
    }
  });

  it('throttles an address after repeated failures across accounts (429 with Retry-After)', async () => {
    const log = new LogLines();
    const loire = await startTestLoire({ logDestination: log, security: { addressThrottle: { maxFailures: 5, windowMinutes: 15 } } });
    try {
      const names = ['a1', 'a2', 'a3', 'a4', 'a5'];
      for (const name of names) expect((await login(loire, name, 'guessed password')).status).toBe(401);
      const throttled = await login(loire, 'admin', loire.adminPassword);
      expect(throttled.status).toBe(429);
      expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await fetch(`${loire.httpUrl}/api/me`, { headers: loire.httpHeaders })).status).toBe(429);
      expect(log.events('authentication-throttled').length).toBeGreaterThan(0);
      expect((await fetch(`${loire.httpUrl}/healthz`)).status).toBe(200);
    } finally {
      await loire.stop();
    }
  });
});

describe('authentication switched off (benchmarks only)', () => {
  it('lets every caller through as an administrator, after a loud warning', async () => {
    const log = new LogLines();
    const loire = await startTestLoire({ logDestination: log, security: { authentication: false } });
    try {
      expect(log.events('authentication-disabled')[0]).toMatchObject({ level: 40 });
      expect((await fetch(`${loire.httpUrl}/api/users`)).status).toBe(200);
    } finally {
      await loire.stop();
    }
  });
});
