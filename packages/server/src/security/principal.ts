// Who is asking: set on each HTTP request by authentication, read by authorisation and the audit trail.
import type { Role } from './permissions.js';

export interface Principal {
  /** 'user' for an account (session, Basic, Bearer token or OpenID Connect); 'anonymous' before authentication. */
  kind: 'user' | 'anonymous';
  username?: string;
  roles: readonly Role[];
  /** How the request authenticated: session cookie, basic, token, oidc. */
  method?: 'session' | 'basic' | 'token' | 'oidc';
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}
