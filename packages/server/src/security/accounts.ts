// Accounts, login sessions and API tokens, kept in the index database (0002-accounts) so that every
// Loire node behind a load balancer sees the same ones. Secrets never reach the database: passwords
// as scrypt hashes, session ids and tokens as SHA-256 digests.
import { createHash, randomBytes } from 'node:crypto';
import type { Generated, Kysely, Selectable } from 'kysely';
import type { SecurityConfig } from '../config/config.js';
import type { IndexDatabase } from '../index/schema.js';
import { ROLES, type Role } from './permissions.js';
import {
  burnVerification, hashPassword, needsRehash, passwordProblem, randomPassword, verifyPassword,
  type ScryptParameters,
} from './password.js';

interface AccountTable {
  pk: Generated<number>;
  username: string;
  display_name: string;
  roles: string;
  disabled: number;
  origin: string;
  password_hash: string | null;
  failed_attempts: number;
  locked_until: string | null;
  password_changed_at: string;
  created_at: string;
  updated_at: string;
}

interface SessionTable {
  pk: Generated<number>;
  id_hash: string;
  account_fk: number;
  method: string;
  address: string | null;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
}

interface TokenTable {
  pk: Generated<number>;
  token_hash: string;
  account_fk: number;
  name: string;
  prefix: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
}

export type AccountTables = {
  account: AccountTable;
  account_session: SessionTable;
  api_token: TokenTable;
};

export type AccountOrigin = 'local' | 'oidc';

export interface Account {
  username: string;
  displayName: string;
  roles: Role[];
  disabled: boolean;
  origin: AccountOrigin;
  /** ISO time until which password logins are refused after repeated failures, if locked now. */
  lockedUntil?: string;
  passwordChangedAt: string;
  createdAt: string;
}

export interface ApiTokenInfo {
  id: number;
  name: string;
  /** The token's first characters, to recognise it; the token itself is shown once, at creation. */
  prefix: string;
  createdAt: string;
  expiresAt?: string;
  lastUsedAt?: string;
}

/** A refused account operation; `code` maps to the HTTP status the API answers. */
export class AccountError extends Error {
  override readonly name = 'AccountError';
  constructor(readonly code: 'invalid' | 'not-found' | 'conflict', message: string) {
    super(message);
  }
}

/** Usernames: a letter or digit, then letters, digits and . _ @ -; at most 64; compared lower-case. */
const USERNAME = /^[a-z0-9][a-z0-9._@-]{0,63}$/;
const TOKEN = /^loire_[A-Za-z0-9_-]{43}$/;
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

export function normaliseUsername(username: string): string | undefined {
  const lower = username.toLowerCase();
  return USERNAME.test(lower) ? lower : undefined;
}

function parseRoles(text: string): Role[] {
  return text.split(',').filter((r): r is Role => (ROLES as readonly string[]).includes(r));
}

export function validateRoles(roles: readonly string[]): Role[] {
  if (roles.length === 0) throw new AccountError('invalid', `give at least one role (${ROLES.join(', ')})`);
  for (const role of roles) {
    if (!(ROLES as readonly string[]).includes(role)) throw new AccountError('invalid', `unknown role "${role}"; roles are ${ROLES.join(', ')}`);
  }
  // In the order of ROLES, so that listings compare equal whatever order they were given in.
  return ROLES.filter((role) => roles.includes(role));
}

const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');
const randomId = (): string => randomBytes(32).toString('base64url');

export type PasswordCheck =
  | { ok: true; account: Account; pk: number }
  | { ok: false; reason: 'unknown-user' | 'locked' | 'disabled' | 'no-password' | 'wrong-password' | 'invalid-input'; lockedNow?: boolean };

/** An authenticated caller as the database knows it (sessions and tokens resolve to this). */
export interface ResolvedCredential {
  pk: number;
  account: Account;
  /** For sessions: how the session was opened. */
  method?: string;
  /** For sessions and tokens: when the credential expires (ms since the epoch), if it does. */
  validUntil?: number;
}

export interface AccountPolicy {
  sessions: SecurityConfig['sessions'];
  lockout: SecurityConfig['lockout'];
  passwordHash: ScryptParameters;
}

/** Seconds between two writes of a session's or token's last-use time (not one write per request). */
const TOUCH_INTERVAL_MS = 60_000;

export class AccountService {
  private readonly db: Kysely<AccountTables>;
  private changes = 0;

  /**
   * Grows with every change that can take a credential away (password, roles, disabling, a
   * revoked session or token), so that memos of resolved credentials know when to ask again.
   */
  get revision(): number {
    return this.changes;
  }

  constructor(db: Kysely<IndexDatabase>, readonly policy: AccountPolicy, private readonly now: () => Date = () => new Date()) {
    // The account tables live beside the archive's in the same database (migration 0002-accounts).
    this.db = db.withTables<AccountTables>() as unknown as Kysely<AccountTables>;
  }

  private iso(offsetMs = 0): string {
    return new Date(this.now().getTime() + offsetMs).toISOString();
  }

  private toAccount(row: Selectable<AccountTable>): Account {
    const locked = row.locked_until && row.locked_until > this.iso() ? row.locked_until : undefined;
    return {
      username: row.username,
      displayName: row.display_name,
      roles: parseRoles(row.roles),
      disabled: row.disabled !== 0,
      origin: row.origin === 'oidc' ? 'oidc' : 'local',
      ...(locked ? { lockedUntil: locked } : {}),
      passwordChangedAt: row.password_changed_at,
      createdAt: row.created_at,
    };
  }

  private requireUsername(username: string): string {
    const name = normaliseUsername(username);
    if (!name) throw new AccountError('invalid', 'a username has 1 to 64 characters: letters, digits, and . _ @ - (not first)');
    return name;
  }

  private async row(username: string) {
    const name = normaliseUsername(username);
    if (!name) return undefined;
    return this.db.selectFrom('account').selectAll().where('username', '=', name).executeTakeFirst();
  }

  private async requireRow(username: string) {
    const row = await this.row(username);
    if (!row) throw new AccountError('not-found', `no account "${username}"`);
    return row;
  }

  async count(): Promise<number> {
    const { n } = await this.db.selectFrom('account').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(n);
  }

  async list(): Promise<Account[]> {
    const rows = await this.db.selectFrom('account').selectAll().orderBy('username').execute();
    return rows.map((r) => this.toAccount(r));
  }

  async get(username: string): Promise<Account | undefined> {
    const row = await this.row(username);
    return row && this.toAccount(row);
  }

  async create(input: { username: string; displayName?: string; roles: readonly string[]; password: string }): Promise<Account> {
    const username = this.requireUsername(input.username);
    const roles = validateRoles(input.roles);
    const problem = passwordProblem(input.password);
    if (problem) throw new AccountError('invalid', problem);
    if (await this.row(username)) throw new AccountError('conflict', `an account "${username}" already exists`);
    const now = this.iso();
    const hash = await hashPassword(input.password, this.policy.passwordHash);
    try {
      await this.db.insertInto('account').values({
        username, display_name: input.displayName ?? '', roles: roles.join(','), disabled: 0, origin: 'local',
        password_hash: hash, failed_attempts: 0, locked_until: null, password_changed_at: now, created_at: now, updated_at: now,
      }).execute();
    } catch (error) {
      if (await this.row(username)) throw new AccountError('conflict', `an account "${username}" already exists`);
      throw error;
    }
    return (await this.get(username))!;
  }

  /**
   * Sets a new password, unlocks the account, and ends all its API tokens and sessions except the
   * one named by `keepSessionId` (the session the user changed it from).
   */
  async setPassword(username: string, password: string, keepSessionId?: string): Promise<void> {
    const row = await this.requireRow(username);
    const problem = passwordProblem(password);
    if (problem) throw new AccountError('invalid', problem);
    const hash = await hashPassword(password, this.policy.passwordHash);
    const now = this.iso();
    const kept = keepSessionId && SESSION_ID.test(keepSessionId) ? sha256(keepSessionId) : '';
    await this.db.transaction().execute(async (tx) => {
      await tx.updateTable('account').set({
        password_hash: hash, origin: 'local', password_changed_at: now, updated_at: now, failed_attempts: 0, locked_until: null,
      }).where('pk', '=', row.pk).execute();
      await tx.deleteFrom('account_session').where('account_fk', '=', row.pk).where('id_hash', '!=', kept).execute();
      await tx.deleteFrom('api_token').where('account_fk', '=', row.pk).execute();
    });
    this.changes++;
  }

  /** Changes a user's own password after checking the current one (see setPassword for what it ends). */
  async changeOwnPassword(username: string, current: string, next: string, keepSessionId?: string): Promise<boolean> {
    const check = await this.checkPassword(username, current);
    if (!check.ok) return false;
    await this.setPassword(username, next, keepSessionId);
    return true;
  }

  /** Changes display name, roles or the disabled flag; disabling ends the account's sessions and tokens. */
  async update(username: string, changes: { displayName?: string; roles?: readonly string[]; disabled?: boolean }): Promise<Account> {
    const row = await this.requireRow(username);
    const roles = changes.roles ? validateRoles(changes.roles) : undefined;
    await this.db.transaction().execute(async (tx) => {
      await tx.updateTable('account').set({
        ...(changes.displayName !== undefined ? { display_name: changes.displayName } : {}),
        ...(roles ? { roles: roles.join(',') } : {}),
        ...(changes.disabled !== undefined ? { disabled: changes.disabled ? 1 : 0 } : {}),
        ...(changes.disabled === false ? { failed_attempts: 0, locked_until: null } : {}),
        updated_at: this.iso(),
      }).where('pk', '=', row.pk).execute();
      if (changes.disabled) {
        await tx.deleteFrom('account_session').where('account_fk', '=', row.pk).execute();
        await tx.deleteFrom('api_token').where('account_fk', '=', row.pk).execute();
      }
    });
    this.changes++;
    return (await this.get(username))!;
  }

  /**
   * First start: when no account exists, creates `admin` (administrator) with `password`, or with
   * a random one that is returned so that the caller shows it once.
   */
  async ensureInitialAdmin(password?: string): Promise<{ created: false } | { created: true; generatedPassword?: string }> {
    if (await this.count() > 0) return { created: false };
    const chosen = password ?? randomPassword();
    try {
      await this.create({ username: 'admin', displayName: 'Administrator', roles: ['administrator'], password: chosen });
    } catch (error) {
      // Another node created it at the same moment.
      if (error instanceof AccountError && error.code === 'conflict') return { created: false };
      if (error instanceof AccountError) throw new AccountError('invalid', `LOIRE_ADMIN_PASSWORD: ${error.message}`);
      throw error;
    }
    return password ? { created: true } : { created: true, generatedPassword: chosen };
  }

  /**
   * Checks a username and password, counting failures: after `lockout.maxFailures` consecutive
   * failures the account is locked for `lockout.lockMinutes`. Unknown, locked and disabled accounts
   * cost the same scrypt time as a real check, so that timing tells nothing.
   */
  async checkPassword(username: string, password: string): Promise<PasswordCheck> {
    if (password.length > 1024) return { ok: false, reason: 'invalid-input' };
    const row = await this.row(username);
    if (!row || !row.password_hash) {
      await burnVerification(password, this.policy.passwordHash);
      return { ok: false, reason: row ? 'no-password' : 'unknown-user' };
    }
    const now = this.iso();
    if (row.disabled !== 0 || (row.locked_until && row.locked_until > now)) {
      await burnVerification(password, this.policy.passwordHash);
      return { ok: false, reason: row.disabled !== 0 ? 'disabled' : 'locked' };
    }
    if (!(await verifyPassword(password, row.password_hash))) {
      const lockedNow = await this.recordFailure(row.pk);
      return { ok: false, reason: 'wrong-password', lockedNow };
    }
    if (row.failed_attempts > 0 || row.locked_until) {
      await this.db.updateTable('account').set({ failed_attempts: 0, locked_until: null }).where('pk', '=', row.pk).execute();
    }
    if (needsRehash(row.password_hash, this.policy.passwordHash)) {
      const hash = await hashPassword(password, this.policy.passwordHash);
      await this.db.updateTable('account').set({ password_hash: hash }).where('pk', '=', row.pk).where('password_hash', '=', row.password_hash).execute();
    }
    return { ok: true, account: this.toAccount({ ...row, failed_attempts: 0, locked_until: null }), pk: row.pk };
  }

  /** Counts one failure in the database (atomic increment); returns true when this one locked the account. */
  private async recordFailure(pk: number): Promise<boolean> {
    const updated = await this.db.updateTable('account')
      .set((eb) => ({ failed_attempts: eb('failed_attempts', '+', 1) }))
      .where('pk', '=', pk).returning('failed_attempts').executeTakeFirst();
    if (!updated || updated.failed_attempts < this.policy.lockout.maxFailures) return false;
    await this.db.updateTable('account').set({
      failed_attempts: 0, locked_until: this.iso(this.policy.lockout.lockMinutes * 60_000),
    }).where('pk', '=', pk).execute();
    return true;
  }

  /** Account by primary key, if it may still be used (not disabled). */
  private async activeAccount(pk: number): Promise<Account | undefined> {
    const row = await this.db.selectFrom('account').selectAll().where('pk', '=', pk).executeTakeFirst();
    if (!row || row.disabled !== 0) return undefined;
    return this.toAccount(row);
  }

  async isActive(pk: number, passwordChangedAt: string): Promise<Account | undefined> {
    const account = await this.activeAccount(pk);
    return account && account.passwordChangedAt === passwordChangedAt ? account : undefined;
  }

  // --- sessions ---------------------------------------------------------------------------

  /** Opens a session; the returned id goes into the cookie and is stored only as its digest. */
  async createSession(pk: number, method: 'password' | 'oidc', address: string | undefined): Promise<{ id: string; expiresAt: Date }> {
    const id = randomId();
    const now = this.iso();
    const expiresAt = new Date(this.now().getTime() + this.policy.sessions.absoluteHours * 3_600_000);
    await this.db.insertInto('account_session').values({
      id_hash: sha256(id), account_fk: pk, method, address: address ?? null, created_at: now, last_seen_at: now, expires_at: expiresAt.toISOString(),
    }).execute();
    return { id, expiresAt };
  }

  /** The session's account when the id is known, not expired (idle or absolute) and the account usable. */
  async resolveSession(id: string): Promise<ResolvedCredential | undefined> {
    if (!SESSION_ID.test(id)) return undefined;
    // One indexed lookup per request: the session and its account together.
    const row = await this.db.selectFrom('account_session as s').innerJoin('account as a', 'a.pk', 's.account_fk')
      .selectAll('a').select(['s.pk as session_pk', 's.method', 's.last_seen_at', 's.expires_at'])
      .where('s.id_hash', '=', sha256(id)).executeTakeFirst();
    if (!row) return undefined;
    const now = this.now().getTime();
    const idleLimit = Date.parse(row.last_seen_at) + this.policy.sessions.idleMinutes * 60_000;
    if (Date.parse(row.expires_at) <= now || idleLimit <= now) {
      await this.db.deleteFrom('account_session').where('pk', '=', row.session_pk).execute();
      return undefined;
    }
    if (row.disabled !== 0) return undefined;
    if (now - Date.parse(row.last_seen_at) > TOUCH_INTERVAL_MS) {
      await this.db.updateTable('account_session').set({ last_seen_at: this.iso() }).where('pk', '=', row.session_pk).execute();
    }
    const validUntil = Math.min(Date.parse(row.expires_at), now + this.policy.sessions.idleMinutes * 60_000);
    return { pk: row.pk, account: this.toAccount(row), method: row.method, validUntil };
  }

  async revokeSession(id: string): Promise<void> {
    if (!SESSION_ID.test(id)) return;
    await this.db.deleteFrom('account_session').where('id_hash', '=', sha256(id)).execute();
    this.changes++;
  }

  /** Removes expired sessions (called now and then; an expired session is refused anyway). */
  async purgeExpiredSessions(): Promise<number> {
    const now = this.iso();
    const idleCutoff = this.iso(-this.policy.sessions.idleMinutes * 60_000);
    const result = await this.db.deleteFrom('account_session')
      .where((eb) => eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<=', idleCutoff)])).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  // --- API tokens -------------------------------------------------------------------------

  /** Creates a token for a user; the token is returned once and only its digest is kept. */
  async createToken(username: string, name: string, expiresInDays?: number): Promise<{ token: string; info: ApiTokenInfo }> {
    const row = await this.requireRow(username);
    const token = `loire_${randomId()}`;
    const now = this.iso();
    const expiresAt = expiresInDays ? this.iso(expiresInDays * 86_400_000) : null;
    const inserted = await this.db.insertInto('api_token').values({
      token_hash: sha256(token), account_fk: row.pk, name, prefix: token.slice(0, 12), created_at: now, expires_at: expiresAt, last_used_at: null,
    }).returning('pk').executeTakeFirstOrThrow();
    return { token, info: { id: Number(inserted.pk), name, prefix: token.slice(0, 12), createdAt: now, ...(expiresAt ? { expiresAt } : {}) } };
  }

  async listTokens(username: string): Promise<ApiTokenInfo[]> {
    const row = await this.requireRow(username);
    const rows = await this.db.selectFrom('api_token').selectAll().where('account_fk', '=', row.pk).orderBy('pk').execute();
    return rows.map((t) => ({
      id: Number(t.pk), name: t.name, prefix: t.prefix, createdAt: t.created_at,
      ...(t.expires_at ? { expiresAt: t.expires_at } : {}), ...(t.last_used_at ? { lastUsedAt: t.last_used_at } : {}),
    }));
  }

  /** Revokes one of the user's tokens; false when the user has no token with that id. */
  async revokeToken(username: string, id: number): Promise<boolean> {
    const row = await this.requireRow(username);
    const result = await this.db.deleteFrom('api_token').where('pk', '=', id).where('account_fk', '=', row.pk).executeTakeFirst();
    this.changes++;
    return Number(result.numDeletedRows) > 0;
  }

  /**
   * The token's account when the token is known, unexpired and the account usable. The lookup is
   * by digest of a 256-bit random value: timing of the index lookup reveals nothing usable.
   */
  async resolveToken(token: string): Promise<ResolvedCredential | undefined> {
    if (!TOKEN.test(token)) return undefined;
    const row = await this.db.selectFrom('api_token as t').innerJoin('account as a', 'a.pk', 't.account_fk')
      .selectAll('a').select(['t.pk as token_pk', 't.expires_at', 't.last_used_at'])
      .where('t.token_hash', '=', sha256(token)).executeTakeFirst();
    if (!row || row.disabled !== 0) return undefined;
    if (row.expires_at && row.expires_at <= this.iso()) return undefined;
    if (!row.last_used_at || this.now().getTime() - Date.parse(row.last_used_at) > TOUCH_INTERVAL_MS) {
      await this.db.updateTable('api_token').set({ last_used_at: this.iso() }).where('pk', '=', row.token_pk).execute();
    }
    return { pk: row.pk, account: this.toAccount(row), ...(row.expires_at ? { validUntil: Date.parse(row.expires_at) } : {}) };
  }

  // --- OpenID Connect ---------------------------------------------------------------------

  /**
   * The account of a user who logged in at the identity provider: created on first login, roles
   * refreshed at each login from the IdP's claims. A local (password) account of the same name is
   * not taken over.
   */
  async upsertOidcAccount(username: string, displayName: string, roles: readonly Role[]): Promise<{ pk: number; account: Account }> {
    const name = this.requireUsername(username);
    const now = this.iso();
    const existing = await this.row(name);
    if (existing && existing.origin !== 'oidc') {
      throw new AccountError('conflict', `a local account "${name}" exists; an identity-provider login cannot use it`);
    }
    if (existing) {
      if (existing.disabled !== 0) throw new AccountError('conflict', `account "${name}" is disabled`);
      await this.db.updateTable('account').set({ display_name: displayName, roles: roles.join(','), updated_at: now }).where('pk', '=', existing.pk).execute();
      this.changes++;
    } else {
      await this.db.insertInto('account').values({
        username: name, display_name: displayName, roles: roles.join(','), disabled: 0, origin: 'oidc',
        password_hash: null, failed_attempts: 0, locked_until: null, password_changed_at: now, created_at: now, updated_at: now,
      }).execute();
    }
    const row = (await this.row(name))!;
    return { pk: row.pk, account: this.toAccount(row) };
  }
}
