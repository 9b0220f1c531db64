// GET/PUT/DELETE /api/profile: the logged-in user's own console profile (profile/profile.ts).
// Any role that can log in reads and writes its own; there is no route to anyone else's. GET gives
// an ETag; a PUT with If-Match is refused (412) when the profile changed since, so that two
// stations of the same user do not overwrite each other's changes. Changes are recorded by the
// audit hook (http/audit.ts) like the user's other changes to their account.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { IndexDatabase } from '../index/schema.js';
import { MAX_PROFILE_BYTES, parseProfile, ProfileError, ProfileStore, type StoredProfile } from '../profile/profile.js';
import '../security/permissions.js';
import '../security/principal.js';
import './audit.js';

function noAccount(reply: FastifyReply): FastifyReply {
  // Only with security.authentication off: the benchmark caller has no account, hence no profile.
  return reply.code(404).type('application/json').send({ error: 'Not Found', message: 'no account, hence no profile: authentication is off' });
}

function answer(stored: StoredProfile): Record<string, unknown> {
  return { ...stored.profile, ...(stored.updatedAt ? { updatedAt: stored.updatedAt } : {}) };
}

function username(request: FastifyRequest): string {
  return request.principal!.username!;
}

export function registerProfileRoutes(app: FastifyInstance, db: Kysely<IndexDatabase>): void {
  const profiles = new ProfileStore(db);

  app.register(async (api) => {
    api.get('/profile', { config: { access: 'authenticated' } }, async (request, reply) => {
      let stored;
      try {
        stored = await profiles.get(username(request));
      } catch (error) {
        if (!(error instanceof ProfileError)) throw error;
        // Only a row changed by hand, or written by a newer Loire, gets here.
        request.log.error({ event: 'profile-unreadable', username: username(request), fields: error.fields }, 'stored console profile is not valid');
        return reply.code(500).type('application/json').send({
          error: 'Internal Server Error', message: `your stored profile cannot be read (${error.message}); DELETE /api/profile resets it to the defaults`,
        });
      }
      if (!stored) return noAccount(reply);
      return reply.header('ETag', stored.etag).header('Cache-Control', 'no-store').send(answer(stored));
    });

    api.put('/profile', { config: { access: 'authenticated' }, bodyLimit: MAX_PROFILE_BYTES }, async (request, reply) => {
      let profile;
      try {
        // `updatedAt` is ours: a client sending back what GET gave is fine.
        const body = request.body;
        if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
          const { updatedAt: _ignored, ...document } = body as Record<string, unknown>;
          profile = parseProfile(document);
        } else {
          profile = parseProfile(body);
        }
      } catch (error) {
        if (!(error instanceof ProfileError)) throw error;
        request.log.info({ event: 'profile-refused', username: username(request), fields: error.fields }, 'profile refused');
        return reply.code(400).type('application/json').send({ error: 'Bad Request', message: error.message, fields: error.fields });
      }
      const ifMatch = request.headers['if-match'];
      const stored = await profiles.put(username(request), profile, typeof ifMatch === 'string' ? ifMatch.trim() : undefined);
      if (stored === 'no-account') return noAccount(reply);
      if (stored === 'changed-meanwhile') {
        request.auditObjects = { summary: { profile: 'not replaced: changed meanwhile' } };
        return reply.code(412).type('application/json').send({
          error: 'Precondition Failed',
          message: 'your profile was changed elsewhere since it was read (If-Match); read it again (GET /api/profile) and redo the change',
        });
      }
      request.auditObjects = { summary: { profile: 'replaced' } };
      request.log.info({ event: 'profile-saved', username: username(request) }, 'console profile saved');
      return reply.header('ETag', stored.etag).send(answer(stored));
    });

    api.delete('/profile', { config: { access: 'authenticated' } }, async (request, reply) => {
      const removed = await profiles.delete(username(request));
      request.auditObjects = { summary: { profile: removed ? 'reset to the defaults' : 'was already the defaults' } };
      request.log.info({ event: 'profile-reset', username: username(request), removed }, 'console profile reset to the defaults');
      return reply.code(204).send();
    });
  }, { prefix: '/api' });
}
