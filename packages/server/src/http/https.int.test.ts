// HTTPS with a certificate the test makes with the openssl CLI (issue 4 acceptance 3, HTTP part):
// TLS 1.2+, HSTS and Secure cookies on HTTPS only, plain HTTP switched off or kept beside it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config/config.js';
import { startTestLoire, type TestLoire } from '../testing/loire.js';

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: string }

function request(port: number, urlPath: string, options: { ca?: Buffer; method?: string; headers?: Record<string, string>; body?: string; maxVersion?: 'TLSv1.1' } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1', port, path: urlPath, method: options.method ?? 'GET', headers: options.headers,
      ...(options.ca ? { ca: options.ca } : {}), ...(options.maxVersion ? { maxVersion: options.maxVersion, minVersion: 'TLSv1' as const } : {}),
    }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('HTTPS', () => {
  let dir: string;
  let ca: Buffer;
  let cert: string;
  let key: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'loire-tls-'));
    cert = path.join(dir, 'cert.pem');
    key = path.join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
    ca = readFileSync(cert);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe('only HTTPS (http.plain: false)', () => {
    let loire: TestLoire;
    beforeAll(async () => {
      loire = await startTestLoire({ http: { tls: { cert, key, port: 0 }, plain: false } });
    });
    afterAll(async () => loire?.stop());

    it('serves HTTPS with HSTS and secure headers, and authenticates', async () => {
      expect(loire.httpUrl).toMatch(/^https:/);
      const health = await request(loire.httpPort, '/healthz', { ca });
      expect(health.status).toBe(200);
      expect(health.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
      expect(health.headers['x-content-type-options']).toBe('nosniff');
      expect((await request(loire.httpPort, '/api/users', { ca })).status).toBe(401);
      expect((await request(loire.httpPort, '/api/users', { ca, headers: loire.httpHeaders })).status).toBe(200);
    });

    it('marks the session cookie Secure', async () => {
      const res = await request(loire.httpPort, '/api/login', {
        ca, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: loire.adminPassword }),
      });
      expect(res.status).toBe(200);
      const cookie = (res.headers['set-cookie'] as string[]).find((c) => c.startsWith('loire_session='))!;
      expect(cookie).toMatch(/; Secure/);
      expect(cookie).toMatch(/; HttpOnly/);
      const me = await request(loire.httpPort, '/api/me', { ca, headers: { cookie: cookie.split(';')[0]! } });
      expect(JSON.parse(me.body)).toMatchObject({ username: 'admin', method: 'session' });
    });

    it('refuses clients that do not trust the certificate, TLS below 1.2, and plain HTTP on the port', async () => {
      await expect(request(loire.httpPort, '/healthz')).rejects.toThrow(/self.signed|certificate/i);
      await expect(request(loire.httpPort, '/healthz', { ca, maxVersion: 'TLSv1.1' })).rejects.toThrow();
      const plain = await fetch(`http://127.0.0.1:${loire.httpPort}/healthz`).then((r) => r.status, () => 'refused');
      expect(plain).not.toBe(200);
    });
  });

  describe('HTTPS beside plain HTTP', () => {
    let loire: TestLoire;
    beforeAll(async () => {
      loire = await startTestLoire({ http: { tls: { cert, key, port: 0 }, plain: true } });
    });
    afterAll(async () => loire?.stop());

    it('answers on both ports, HSTS only over HTTPS', async () => {
      expect(loire.server.httpsPort).toBeDefined();
      expect(loire.server.httpsPort).not.toBe(loire.httpPort);
      const secure = await request(loire.server.httpsPort!, '/api/me', { ca, headers: loire.httpHeaders });
      expect(secure.status).toBe(200);
      expect(secure.headers['strict-transport-security']).toBeDefined();
      const plain = await fetch(`http://127.0.0.1:${loire.httpPort}/api/me`, { headers: loire.httpHeaders });
      expect(plain.status).toBe(200);
      expect(plain.headers.get('strict-transport-security')).toBeNull();
      expect((await fetch(`http://127.0.0.1:${loire.httpPort}/api/me`)).status).toBe(401);
    });
  });

  it('refuses a configuration with plain HTTP off and no certificate, and names an unreadable certificate', async () => {
    const file = path.join(dir, 'config.yaml');
    writeFileSync(file, 'http:\n  plain: false\n');
    expect(() => loadConfig({ config: file }, {})).toThrow(ConfigError);
    writeFileSync(file, 'http:\n  tls: { cert: /nonexistent/cert.pem, key: /nonexistent/key.pem }\n');
    const config = loadConfig({ config: file, data: path.join(dir, 'data') }, {});
    expect(config.http.tls?.port).toBe(8443);
    await expect(startTestLoire({ http: { tls: { cert: path.join(dir, 'missing.pem'), key, port: 0 } } })).rejects.toThrow(/http\.tls\.cert: cannot read/);
  });
});
