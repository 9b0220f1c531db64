// The account API under /api: login/logout/me, the caller's own password and API tokens, and user
// management for administrators. Every route declares its access (see http-auth.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AccountError, normaliseUsername, type Account, type AccountService } from './accounts.js';
import { clip, SESSION_COOKIE, type HttpSecurity } from './http-auth.js';
import { MAX_PASSWORD_LENGTH } from './password.js';
import { ROLES } from './permissions.js';

/** Login bodies are tiny: anything bigger is refused (413) before it is read. */
const LOGIN_BODY_LIMIT = 4096;

const accountSchema = {
  type: 'object',
  properties: {
    username: { type: 'string' },
    displayName: { type: 'string' },
    roles: { type: 'array', items: { type: 'string' } },
    disabled: { type: 'boolean' },
    origin: { type: 'string' },
    lockedUntil: { type: 'string' },
    passwordChangedAt: { type: 'string' },
    createdAt: { type: 'string' },
  },
  required: ['username', 'displayName', 'roles', 'disabled', 'origin', 'passwordChangedAt', 'createdAt'],
} as const;

const tokenInfoSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' }, name: { type: 'string' }, prefix: { type: 'string' },
    createdAt: { type: 'string' }, expiresAt: { type: 'string' }, lastUsedAt: { type: 'string' },
  },
  required: ['id', 'name', 'prefix', 'createdAt'],
} as const;

const usernameParam = {
  type: 'object',
  properties: { username: { type: 'string', maxLength: 64 } },
  required: ['username'],
} as const;

const passwordField = { type: 'string', minLength: 1, maxLength: MAX_PASSWORD_LENGTH } as const;
const rolesField = { type: 'array', items: { type: 'string', enum: [...ROLES] }, minItems: 1, maxItems: ROLES.length, uniqueItems: true } as const;

function sendAccountError(error: unknown, reply: FastifyReply): FastifyReply {
  if (!(error instanceof AccountError)) throw error;
  const status = { invalid: 400, 'not-found': 404, conflict: 409 }[error.code];
  const reason = { 400: 'Bad Request', 404: 'Not Found', 409: 'Conflict' }[status];
  return reply.code(status).type('application/json').send({ error: reason, message: error.message });
}

/** The cookie that carries a session id: HttpOnly, Secure on HTTPS, SameSite=Lax (see README "Accounts and access"). */
export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, id: string, expiresAt: Date): void {
  reply.setCookie(SESSION_COOKIE, id, {
    path: '/', httpOnly: true, secure: request.protocol === 'https', sameSite: 'lax', expires: expiresAt,
  });
}

export function registerAccountRoutes(app: FastifyInstance, security: HttpSecurity): void {
  const { accounts } = security;

  app.register(async (api) => {
    // HTML forms post application/x-www-form-urlencoded; only this scope (the login route) reads it.
    api.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: LOGIN_BODY_LIMIT }, (_request, body, done) => {
      const fields: Record<string, string> = {};
      for (const [name, value] of new URLSearchParams(body as string)) fields[name] = value;
      done(null, fields);
    });

    api.post<{ Body: { username: string; password: string } }>('/login', {
      config: { access: 'public' },
      bodyLimit: LOGIN_BODY_LIMIT,
      schema: {
        body: {
          type: 'object',
          properties: { username: { type: 'string', minLength: 1, maxLength: 256 }, password: passwordField },
          required: ['username', 'password'],
        },
        response: { 200: accountSchema },
      },
    }, async (request, reply) => {
      const retryAfter = security.throttle.retryAfterSeconds(request.ip);
      if (retryAfter > 0) {
        request.log.warn({ event: 'authentication-throttled', address: request.ip }, 'too many failed authentications from this address');
        return reply.code(429).header('Retry-After', String(retryAfter)).type('application/json')
          .send({ error: 'Too Many Requests', message: `too many failed logins from this address; try again in ${retryAfter} s` });
      }
      const { username, password } = request.body;
      const check = await accounts.checkPassword(normaliseUsername(username) ?? '', password);
      if (!check.ok) {
        security.recordFailure(request, check.reason, { username: clip(username), ...(check.lockedNow ? { accountLocked: true } : {}) });
        await security.reportAuthentication({ type: 'login', succeeded: false, username: clip(username), address: request.ip, method: 'password', reason: check.reason });
        // One message whatever the reason: it must not tell which usernames exist or are locked.
        return reply.code(401).type('application/json').send({
          error: 'Unauthorized', message: 'invalid username or password (after repeated failures an account is locked for a while)',
        });
      }
      const session = await accounts.createSession(check.pk, 'password', request.ip);
      setSessionCookie(request, reply, session.id, session.expiresAt);
      request.principal = { kind: 'user', username: check.account.username, roles: check.account.roles, method: 'session' };
      request.log.info({ event: 'login', username: check.account.username, address: request.ip }, 'logged in');
      await security.reportAuthentication({ type: 'login', succeeded: true, username: check.account.username, address: request.ip, method: 'password' });
      return check.account;
    });

    api.post('/logout', { config: { access: 'public' } }, async (request, reply) => {
      const id = request.cookies[SESSION_COOKIE];
      if (id !== undefined) {
        const resolved = await accounts.resolveSession(id);
        await accounts.revokeSession(id);
        if (resolved) {
          request.log.info({ event: 'logout', username: resolved.account.username, address: request.ip }, 'logged out');
          await security.reportAuthentication({ type: 'logout', succeeded: true, username: resolved.account.username, address: request.ip, method: 'session' });
        }
      }
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.code(204).send();
    });

    api.get('/me', {
      config: { access: 'authenticated' },
      schema: {
        response: {
          200: { ...accountSchema, properties: { ...accountSchema.properties, method: { type: 'string' } } },
          404: { type: 'object', properties: { error: { type: 'string' }, message: { type: 'string' } } },
        },
      },
    }, async (request, reply) => {
      const account = await accounts.get(request.principal!.username!);
      // Only with security.authentication off: the benchmark caller has no account.
      if (!account) return reply.code(404).type('application/json').send({ error: 'Not Found', message: 'no account: authentication is off' });
      return { ...account, method: request.principal!.method };
    });

    api.post<{ Body: { currentPassword: string; newPassword: string } }>('/me/password', {
      config: { access: 'authenticated' },
      bodyLimit: LOGIN_BODY_LIMIT,
      schema: {
        body: {
          type: 'object', additionalProperties: false,
          properties: { currentPassword: passwordField, newPassword: passwordField },
          required: ['currentPassword', 'newPassword'],
        },
      },
    }, async (request, reply) => {
      const username = request.principal!.username!;
      try {
        const changed = await accounts.changeOwnPassword(username, request.body.currentPassword, request.body.newPassword, request.cookies[SESSION_COOKIE]);
        if (!changed) {
          security.recordFailure(request, 'wrong-current-password', { username });
          return reply.code(403).type('application/json').send({ error: 'Forbidden', message: 'the current password is not correct' });
        }
      } catch (error) {
        return sendAccountError(error, reply);
      }
      request.log.info({ event: 'password-changed', username }, 'password changed; other sessions and API tokens revoked');
      return reply.code(204).send();
    });

    // --- the caller's own API tokens -----------------------------------------------------
    api.post<{ Body: { name: string; expiresInDays?: number } }>('/tokens', {
      config: { access: 'authenticated' },
      schema: {
        body: {
          type: 'object', additionalProperties: false,
          properties: { name: { type: 'string', minLength: 1, maxLength: 100 }, expiresInDays: { type: 'integer', minimum: 1, maximum: 3650 } },
          required: ['name'],
        },
        response: { 201: { type: 'object', properties: { token: { type: 'string' }, ...tokenInfoSchema.properties }, required: ['token', ...tokenInfoSchema.required] } },
      },
    }, async (request, reply) => {
      if (request.principal!.method === 'token') {
        return reply.code(403).type('application/json').send({ error: 'Forbidden', message: 'an API token cannot create tokens; log in or use Basic credentials' });
      }
      const { token, info } = await accounts.createToken(request.principal!.username!, request.body.name, request.body.expiresInDays);
      request.log.info({ event: 'token-created', username: request.principal!.username, tokenId: info.id, prefix: info.prefix }, 'API token created');
      return reply.code(201).send({ token, ...info });
    });

    api.get('/tokens', {
      config: { access: 'authenticated' },
      schema: { response: { 200: { type: 'array', items: tokenInfoSchema } } },
    }, async (request) => accounts.listTokens(request.principal!.username!));

    api.delete<{ Params: { id: number } }>('/tokens/:id', {
      config: { access: 'authenticated' },
      schema: { params: { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'] } },
    }, async (request, reply) => {
      if (!(await accounts.revokeToken(request.principal!.username!, request.params.id))) {
        return reply.code(404).type('application/json').send({ error: 'Not Found', message: `you have no API token ${request.params.id}` });
      }
      request.log.info({ event: 'token-revoked', username: request.principal!.username, tokenId: request.params.id }, 'API token revoked');
      return reply.code(204).send();
    });

    // --- user management (administrators) -----------------------------------------------
    api.get('/users', {
      config: { access: 'manage-users' },
      schema: { response: { 200: { type: 'array', items: accountSchema } } },
    }, async () => accounts.list());

    api.post<{ Body: { username: string; displayName?: string; roles: string[]; password: string } }>('/users', {
      config: { access: 'manage-users' },
      schema: {
        body: {
          type: 'object', additionalProperties: false,
          properties: { username: { type: 'string', minLength: 1, maxLength: 64 }, displayName: { type: 'string', maxLength: 200 }, roles: rolesField, password: passwordField },
          required: ['username', 'roles', 'password'],
        },
        response: { 201: accountSchema },
      },
    }, async (request, reply) => {
      try {
        const account = await accounts.create(request.body);
        request.log.info({ event: 'user-created', by: request.principal!.username, username: account.username, roles: account.roles }, 'account created');
        return await reply.code(201).send(account);
      } catch (error) {
        return sendAccountError(error, reply);
      }
    });

    api.get<{ Params: { username: string } }>('/users/:username', {
      config: { access: 'manage-users' },
      schema: { params: usernameParam, response: { 200: accountSchema } },
    }, async (request, reply) => {
      const account = await accounts.get(request.params.username);
      if (!account) return reply.code(404).type('application/json').send({ error: 'Not Found', message: `no account "${clip(request.params.username)}"` });
      return account;
    });

    api.patch<{ Params: { username: string }; Body: { displayName?: string; roles?: string[]; disabled?: boolean } }>('/users/:username', {
      config: { access: 'manage-users' },
      schema: {
        params: usernameParam,
        body: {
          type: 'object', additionalProperties: false, minProperties: 1,
          properties: { displayName: { type: 'string', maxLength: 200 }, roles: rolesField, disabled: { type: 'boolean' } },
        },
        response: { 200: accountSchema },
      },
    }, async (request, reply) => {
      try {
        const account = await updateKeepingAnAdministrator(accounts, request.params.username, request.body);
        request.log.info({ event: 'user-updated', by: request.principal!.username, username: account.username, changes: request.body }, 'account updated');
        return account;
      } catch (error) {
        return sendAccountError(error, reply);
      }
    });

    api.put<{ Params: { username: string }; Body: { password: string } }>('/users/:username/password', {
      config: { access: 'manage-users' },
      bodyLimit: LOGIN_BODY_LIMIT,
      schema: {
        params: usernameParam,
        body: { type: 'object', additionalProperties: false, properties: { password: passwordField }, required: ['password'] },
      },
    }, async (request, reply) => {
      try {
        await accounts.setPassword(request.params.username, request.body.password);
      } catch (error) {
        return sendAccountError(error, reply);
      }
      request.log.info({ event: 'password-reset', by: request.principal!.username, username: request.params.username }, 'password set by an administrator; sessions and API tokens revoked');
      return reply.code(204).send();
    });

    api.get<{ Params: { username: string } }>('/users/:username/tokens', {
      config: { access: 'manage-users' },
      schema: { params: usernameParam, response: { 200: { type: 'array', items: tokenInfoSchema } } },
    }, async (request, reply) => {
      try {
        return await accounts.listTokens(request.params.username);
      } catch (error) {
        return sendAccountError(error, reply);
      }
    });

    api.delete<{ Params: { username: string; id: number } }>('/users/:username/tokens/:id', {
      config: { access: 'manage-users' },
      schema: { params: { type: 'object', properties: { username: { type: 'string', maxLength: 64 }, id: { type: 'integer', minimum: 1 } }, required: ['username', 'id'] } },
    }, async (request, reply) => {
      try {
        if (!(await accounts.revokeToken(request.params.username, request.params.id))) {
          return reply.code(404).type('application/json').send({ error: 'Not Found', message: `"${clip(request.params.username)}" has no API token ${request.params.id}` });
        }
      } catch (error) {
        return sendAccountError(error, reply);
      }
      request.log.info({ event: 'token-revoked', by: request.principal!.username, username: request.params.username, tokenId: request.params.id }, 'API token revoked');
      return reply.code(204).send();
    });
  }, { prefix: '/api' });
}

/** Refuses a change that would leave no enabled administrator (nobody could manage accounts any more). */
export async function updateKeepingAnAdministrator(
  accounts: AccountService, username: string, changes: { displayName?: string; roles?: string[]; disabled?: boolean },
): Promise<Account> {
  const target = await accounts.get(username);
  if (!target) throw new AccountError('not-found', `no account "${clip(username)}"`);
  const losesAdmin = target.roles.includes('administrator') && !target.disabled
    && (changes.disabled === true || (changes.roles !== undefined && !changes.roles.includes('administrator')));
  if (losesAdmin) {
    const others = (await accounts.list()).filter((a) => a.username !== target.username && !a.disabled && a.roles.includes('administrator'));
    if (others.length === 0) throw new AccountError('conflict', `"${target.username}" is the last enabled administrator; give another account the administrator role first`);
  }
  return accounts.update(username, changes);
}
