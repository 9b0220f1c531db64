// A minimal OpenID Connect provider for tests, on a local port: discovery, authorization endpoint
// (logs in a preset user at once and redirects back with a one-time code), token endpoint (client
// secret, PKCE S256 check), JWKS, and RS256-signed ID tokens. `misbehave` makes it send a wrong
// nonce or a bad signature, to test that the relying party refuses them.
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';

export interface TestIdentityProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Claims of the user the next authorization logs in (besides sub). */
  user: Record<string, unknown>;
  misbehave?: 'wrong-nonce' | 'bad-signature';
  /** Query parameters of the last authorization request. */
  lastAuthorization?: URLSearchParams;
  close(): Promise<void>;
}

interface PendingCode { clientId: string; redirectUri: string; nonce: string; challenge: string }

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.on('data', (d: Buffer) => { body += d.toString(); });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

function idToken(privateKey: KeyObject, kid: string, claims: Record<string, unknown>, corrupt: boolean): string {
  const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }));
  const payload = b64url(JSON.stringify(claims));
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), privateKey);
  if (corrupt) signature[0]! ^= 0xff;
  return `${header}.${payload}.${b64url(signature)}`;
}

export async function startTestIdentityProvider(options: { clientId: string; clientSecret: string; user: Record<string, unknown> }): Promise<TestIdentityProvider> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = 'test-key';
  const codes = new Map<string, PendingCode>();
  let codeSerial = 0;
  let issuer = '';

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
    };
    void (async () => {
      if (url.pathname === '/.well-known/openid-configuration') {
        return json(200, {
          issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks`,
          response_types_supported: ['code'], subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['RS256'],
          code_challenge_methods_supported: ['S256'], token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
        });
      }
      if (url.pathname === '/jwks') {
        return json(200, { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] });
      }
      if (url.pathname === '/authorize') {
        const q = url.searchParams;
        provider.lastAuthorization = q;
        if (q.get('client_id') !== options.clientId || q.get('response_type') !== 'code' || q.get('code_challenge_method') !== 'S256') {
          return json(400, { error: 'invalid_request' });
        }
        const code = `code-${++codeSerial}`;
        codes.set(code, { clientId: options.clientId, redirectUri: q.get('redirect_uri')!, nonce: q.get('nonce') ?? '', challenge: q.get('code_challenge')! });
        const back = new URL(q.get('redirect_uri')!);
        back.searchParams.set('code', code);
        back.searchParams.set('state', q.get('state') ?? '');
        res.writeHead(302, { location: back.href }).end();
        return;
      }
      if (url.pathname === '/token' && req.method === 'POST') {
        const form = new URLSearchParams(await readBody(req));
        let clientId = form.get('client_id');
        let secret = form.get('client_secret');
        const auth = req.headers.authorization;
        if (auth?.startsWith('Basic ')) {
          const [id, s] = Buffer.from(auth.slice(6), 'base64').toString().split(':').map((p) => decodeURIComponent(p));
          clientId = id ?? null;
          secret = s ?? null;
        }
        if (clientId !== options.clientId || secret !== options.clientSecret) return json(401, { error: 'invalid_client' });
        const pending = codes.get(form.get('code') ?? '');
        codes.delete(form.get('code') ?? ''); // one use only
        if (!pending || form.get('grant_type') !== 'authorization_code' || form.get('redirect_uri') !== pending.redirectUri) {
          return json(400, { error: 'invalid_grant' });
        }
        const verifier = form.get('code_verifier') ?? '';
        if (b64url(createHash('sha256').update(verifier).digest()) !== pending.challenge) return json(400, { error: 'invalid_grant', error_description: 'PKCE' });
        const now = Math.floor(Date.now() / 1000);
        const claims = {
          iss: issuer, aud: options.clientId, sub: `sub-${String(provider.user.preferred_username)}`, iat: now, exp: now + 300,
          nonce: provider.misbehave === 'wrong-nonce' ? 'not-the-nonce' : pending.nonce, ...provider.user,
        };
        return json(200, { access_token: `at-${codeSerial}`, token_type: 'Bearer', expires_in: 300, id_token: idToken(privateKey, kid, claims, provider.misbehave === 'bad-signature') });
      }
      json(404, { error: 'not_found' });
    })().catch((err: unknown) => json(500, { error: String(err) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  const provider: TestIdentityProvider = {
    issuer, clientId: options.clientId, clientSecret: options.clientSecret, user: options.user,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
  return provider;
}
