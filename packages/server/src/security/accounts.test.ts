// Accounts in the index database (SQLite here; PostgreSQL with LOIRE_TEST_DATABASE=postgres://…):
// password checks and lockout, session expiry (idle and absolute), tokens, revocation on password
// change and on disabling, the first administrator. A movable clock drives the expiries.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestIndex, type TestIndex } from '../index/test-database.js';
import { AccountError, AccountService } from './accounts.js';
import { hashPassword, needsRehash, verifyPassword } from './password.js';

const POLICY = {
  sessions: { idleMinutes: 30, absoluteHours: 12 },
  lockout: { maxFailures: 3, lockMinutes: 15 },
  passwordHash: { ln: 14, r: 8, p: 1 },
};
const PASSWORD = 'correct horse battery';

describe('accounts', () => {
  let testIndex: TestIndex;
  let accounts: AccountService;
  let now: Date;
  const advance = (minutes: number) => { now = new Date(now.getTime() + minutes * 60_000); };

  beforeEach(async () => {
    testIndex = await openTestIndex();
    now = new Date('2026-01-05T08:00:00Z');
    accounts = new AccountService(testIndex.index.db, POLICY, () => now);
    await accounts.create({ username: 'Dr.Martin', displayName: 'Dr Martin', roles: ['radiologist'], password: PASSWORD });
  });
  afterEach(async () => testIndex.dispose());

  it('stores usernames lower-case and never the password', async () => {
    expect((await accounts.get('dr.martin'))?.roles).toEqual(['radiologist']);
    const row = await testIndex.index.db.withTables<{ account: { username: string; password_hash: string } }>()
      .selectFrom('account').select(['username', 'password_hash']).executeTakeFirstOrThrow();
    expect(row.username).toBe('dr.martin');
    expect(row.password_hash).toMatch(/^scrypt\$ln=14,r=8,p=1\$/);
    expect(row.password_hash).not.toContain(PASSWORD);
  });

  it('refuses bad usernames, unknown roles, short passwords and duplicates', async () => {
    await expect(accounts.create({ username: "x' OR 1=1 --", roles: ['clinician'], password: PASSWORD })).rejects.toThrow(AccountError);
    await expect(accounts.create({ username: 'ok', roles: ['superuser'], password: PASSWORD })).rejects.toThrow(/unknown role/);
    await expect(accounts.create({ username: 'ok', roles: ['clinician'], password: 'short' })).rejects.toThrow(/at least 12/);
    await expect(accounts.create({ username: 'DR.MARTIN', roles: ['clinician'], password: PASSWORD })).rejects.toThrow(/already exists/);
  });

  it('locks an account after repeated failures, whatever the password, and unlocks after the lock time', async () => {
    for (let i = 0; i < 2; i++) expect(await accounts.checkPassword('dr.martin', 'wrong password!')).toMatchObject({ ok: false, reason: 'wrong-password', lockedNow: false });
    expect(await accounts.checkPassword('dr.martin', 'wrong password!')).toMatchObject({ ok: false, lockedNow: true });
    expect(await accounts.checkPassword('dr.martin', PASSWORD)).toMatchObject({ ok: false, reason: 'locked' });
    expect((await accounts.get('dr.martin'))?.lockedUntil).toBe('2026-01-05T08:15:00.000Z');
    advance(16);
    expect((await accounts.checkPassword('dr.martin', PASSWORD)).ok).toBe(true);
    // A success resets the count: two more failures do not lock.
    await accounts.checkPassword('dr.martin', 'wrong password!');
    await accounts.checkPassword('dr.martin', 'wrong password!');
    expect((await accounts.checkPassword('dr.martin', PASSWORD)).ok).toBe(true);
  });

  it('expires sessions when idle and at their absolute limit', async () => {
    const pk = (await accounts.checkPassword('dr.martin', PASSWORD) as { pk: number }).pk;
    const idle = await accounts.createSession(pk, 'password', '10.0.0.1');
    const busy = await accounts.createSession(pk, 'password', '10.0.0.1');
    for (let elapsed = 20; elapsed < 12 * 60; elapsed += 20) {
      advance(20);
      expect(await accounts.resolveSession(busy.id), `session in use, ${elapsed} min old`).toBeDefined();
    }
    expect(await accounts.resolveSession(idle.id), 'session idle for hours').toBeUndefined();
    advance(20);
    expect(await accounts.resolveSession(busy.id), 'session in use but older than 12 h').toBeUndefined();
  });

  it('revokes the other sessions and every token on a password change, keeping the session it came from', async () => {
    const pk = (await accounts.checkPassword('dr.martin', PASSWORD) as { pk: number }).pk;
    const here = await accounts.createSession(pk, 'password', undefined);
    const elsewhere = await accounts.createSession(pk, 'password', undefined);
    const { token } = await accounts.createToken('dr.martin', 'script');
    expect(await accounts.resolveToken(token)).toBeDefined();
    expect(await accounts.changeOwnPassword('dr.martin', 'not the password', 'another long password')).toBe(false);
    expect(await accounts.changeOwnPassword('dr.martin', PASSWORD, 'another long password', here.id)).toBe(true);
    expect(await accounts.resolveSession(here.id)).toBeDefined();
    expect(await accounts.resolveSession(elsewhere.id)).toBeUndefined();
    expect(await accounts.resolveToken(token)).toBeUndefined();
    expect((await accounts.checkPassword('dr.martin', 'another long password')).ok).toBe(true);
  });

  it('disabling ends sessions and tokens and refuses the password', async () => {
    const pk = (await accounts.checkPassword('dr.martin', PASSWORD) as { pk: number }).pk;
    const session = await accounts.createSession(pk, 'password', undefined);
    const { token } = await accounts.createToken('dr.martin', 'script');
    await accounts.update('dr.martin', { disabled: true });
    expect(await accounts.resolveSession(session.id)).toBeUndefined();
    expect(await accounts.resolveToken(token)).toBeUndefined();
    expect(await accounts.checkPassword('dr.martin', PASSWORD)).toMatchObject({ ok: false, reason: 'disabled' });
  });

  it('tokens: stored as digests, expire, and are revoked one by one', async () => {
    const a = await accounts.createToken('dr.martin', 'a', 1);
    const b = await accounts.createToken('dr.martin', 'b');
    expect(a.token).toMatch(/^loire_[A-Za-z0-9_-]{43}$/);
    const stored = await testIndex.index.db.withTables<{ api_token: { token_hash: string } }>().selectFrom('api_token').select('token_hash').execute();
    expect(stored.map((r) => r.token_hash)).not.toContain(a.token);
    expect((await accounts.listTokens('dr.martin')).map((t) => t.name)).toEqual(['a', 'b']);
    advance(24 * 60 + 1);
    expect(await accounts.resolveToken(a.token)).toBeUndefined();
    expect(await accounts.resolveToken(b.token)).toBeDefined();
    expect(await accounts.revokeToken('dr.martin', b.info.id)).toBe(true);
    expect(await accounts.resolveToken(b.token)).toBeUndefined();
    expect(await accounts.resolveToken(`${b.token.slice(0, -1)}A`)).toBeUndefined();
  });

  it('creates the first administrator once, with the given or a generated password', async () => {
    const fresh = await openTestIndex();
    try {
      const service = new AccountService(fresh.index.db, POLICY);
      const first = await service.ensureInitialAdmin();
      expect(first).toMatchObject({ created: true });
      const generated = (first as { generatedPassword: string }).generatedPassword;
      expect(generated).toMatch(/^[A-Za-z2-9]{20}$/);
      expect((await service.checkPassword('admin', generated)).ok).toBe(true);
      expect(await service.ensureInitialAdmin('whatever password')).toEqual({ created: false });
      expect((await service.get('admin'))?.roles).toEqual(['administrator']);
    } finally {
      await fresh.dispose();
    }
  });

  it('upgrades a hash made with weaker scrypt parameters at the next successful login', async () => {
    const weak = await hashPassword(PASSWORD, { ln: 12, r: 8, p: 1 });
    expect(await verifyPassword(PASSWORD, weak)).toBe(true);
    expect(await verifyPassword('wrong', weak)).toBe(false);
    expect(needsRehash(weak, POLICY.passwordHash)).toBe(true);
    const db = testIndex.index.db.withTables<{ account: { username: string; password_hash: string } }>();
    await db.updateTable('account').set({ password_hash: weak }).where('username', '=', 'dr.martin').execute();
    expect((await accounts.checkPassword('dr.martin', PASSWORD)).ok).toBe(true);
    const row = await db.selectFrom('account').select('password_hash').executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^scrypt\$ln=14,/);
  });
});
