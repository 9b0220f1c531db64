// DICOM over TLS (PS3.15 B.9/B.10, BCP 195): our server and client, and dcmtk's echoscu, with
// certificates made for the test by the openssl command line.
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImplicitVRLittleEndian, VerificationSOPClass } from '@loire/dicom';
import { connect } from './client.js';
import { DimseServer } from './server.js';
import { runTool } from './test-support/dcmtk.js';
import { createTestPki, type Pem, type TestPki } from './test-support/pki.js';
import { secureClientOptions, secureServerOptions, type ClientCertificateMode, type TlsOptions } from './transport.js';

let pki: TestPki;
let rogue: TestPki;
let serverPem: Pem;
let clientPem: Pem;
let roguePem: Pem;
beforeAll(() => {
  pki = createTestPki();
  rogue = createTestPki('Rogue CA');
  serverPem = pki.issue('server');
  clientPem = pki.issue('client');
  roguePem = rogue.issue('intruder');
});
afterAll(() => {
  pki.dispose();
  rogue.dispose();
});

const echoContexts = [{ abstractSyntax: VerificationSOPClass, transferSyntaxes: [ImplicitVRLittleEndian] }];

async function withServer(mode: ClientCertificateMode, run: (port: number, server: DimseServer) => Promise<void>): Promise<void> {
  const server = new DimseServer({ handlers: {} });
  const { port } = await server.listen({ host: '127.0.0.1', port: 0,
    tls: secureServerOptions({ key: serverPem.key, cert: serverPem.cert, ca: pki.ca.cert, clientCertificates: mode }) });
  try {
    await run(port, server);
  } finally {
    await server.close({ drain: false });
  }
}

async function echo(port: number, tlsOptions: TlsOptions): Promise<number> {
  const a = await connect({ host: '127.0.0.1', port, callingAe: 'TLSSCU', calledAe: 'LOIRE', tls: tlsOptions, contexts: echoContexts });
  try {
    return await a.echo();
  } finally {
    await a.release();
  }
}

const withClientCert = (p: Pem) => secureClientOptions({ ca: pki.ca.cert, key: p.key, cert: p.cert });

describe('DICOM TLS with client certificates required', () => {
  it('accepts our client and echoscu +tls with a certificate from the trusted authority, and tells the policy what TLS proved', async () => {
    await withServer('required', async (port, server) => {
      let seen: { tls: boolean; subject?: string; protocol?: string } | undefined;
      server.on('association-accepted', (e) => { seen = { tls: e.request.tls, subject: e.request.tlsPeer?.certificate?.subject, protocol: e.request.tlsPeer?.protocol }; });
      expect(await echo(port, withClientCert(clientPem))).toBe(0);
      expect(seen).toEqual({ tls: true, subject: 'CN=client', protocol: expect.stringMatching(/^TLSv1\.[23]$/) });
      const r = await runTool('echoscu', ['+tls', clientPem.keyFile, clientPem.certFile, '+cf', pki.ca.certFile, '-aec', 'LOIRE', '127.0.0.1', String(port)]);
      expect(r.code, r.output).toBe(0);
    });
  });

  it('refuses a client without a certificate, or with one from another authority, and reports why', async () => {
    await withServer('required', async (port, server) => {
      const refused: string[] = [];
      server.on('connection-refused', (e) => refused.push(e.reason));
      await expect(echo(port, secureClientOptions({ ca: pki.ca.cert }))).rejects.toThrow();
      await expect(echo(port, withClientCert(roguePem))).rejects.toThrow();
      const anonymous = await runTool('echoscu', ['+tla', '+cf', pki.ca.certFile, '-aec', 'LOIRE', '127.0.0.1', String(port)]);
      expect(anonymous.code).not.toBe(0);
      const wrong = await runTool('echoscu', ['+tls', roguePem.keyFile, roguePem.certFile, '+cf', pki.ca.certFile, '-aec', 'LOIRE', '127.0.0.1', String(port)]);
      expect(wrong.code).not.toBe(0);
      await expect.poll(() => refused.length).toBeGreaterThanOrEqual(3);
      expect(refused.join('\n')).toMatch(/certificate/i);
    });
  });
});

describe('DICOM TLS with optional client certificates', () => {
  it('accepts a client without a certificate, but not one with an untrusted certificate', async () => {
    await withServer('optional', async (port) => {
      expect(await echo(port, secureClientOptions({ ca: pki.ca.cert }))).toBe(0);
      expect(await echo(port, withClientCert(clientPem))).toBe(0);
      await expect(echo(port, withClientCert(roguePem))).rejects.toThrow();
      const anonymous = await runTool('echoscu', ['+tla', '+cf', pki.ca.certFile, '-aec', 'LOIRE', '127.0.0.1', String(port)]);
      expect(anonymous.code, anonymous.output).toBe(0);
    });
  });
});

describe('one DimseServer on a plain and a TLS port', () => {
  it('serves both with the same policy, and tells the policy which one an association came on', async () => {
    const server = new DimseServer({ handlers: {} });
    const seen: boolean[] = [];
    server.on('association-accepted', (e) => seen.push(e.request.tls));
    const plain = await server.listen({ host: '127.0.0.1', port: 0 });
    const secure = await server.listen({ host: '127.0.0.1', port: 0, tls: secureServerOptions({ key: serverPem.key, cert: serverPem.cert, clientCertificates: 'off' }) });
    try {
      const a = await connect({ host: '127.0.0.1', port: plain.port, callingAe: 'PLAIN', calledAe: 'LOIRE', contexts: echoContexts });
      expect(await a.echo()).toBe(0);
      await a.release();
      expect(await echo(secure.port, secureClientOptions({ ca: pki.ca.cert }))).toBe(0);
      expect(seen).toEqual([false, true]);
    } finally {
      await server.close({ drain: false });
    }
    await expect(connect({ host: '127.0.0.1', port: secure.port, callingAe: 'X', calledAe: 'LOIRE', contexts: echoContexts, timeouts: { connectMs: 2000 } }))
      .rejects.toThrow(/cannot connect/);
  });
});

describe('the BCP 195 profile', () => {
  it('refuses TLS below 1.2 and TLS 1.2 suites without forward secrecy', async () => {
    await withServer('off', async (port) => {
      expect(await echo(port, secureClientOptions({ ca: pki.ca.cert }))).toBe(0);
      const handshake = (options: tls.ConnectionOptions) => new Promise<string>((resolve) => {
        const socket = tls.connect({ host: '127.0.0.1', port, ca: pki.ca.cert, ...options }, () => {
          resolve(`connected ${socket.getProtocol()} ${socket.getCipher().name}`);
          socket.destroy();
        });
        socket.once('error', (err) => resolve(`refused: ${err.message}`));
      });
      expect(await handshake({ maxVersion: 'TLSv1.2', ciphers: 'AES128-GCM-SHA256' })).toMatch(/^refused/);
      expect(await handshake({ minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' })).toMatch(/^refused/);
      expect(await handshake({ maxVersion: 'TLSv1.2' })).toMatch(/^connected TLSv1\.2 ECDHE-RSA-AES(128|256)-GCM-SHA(256|384)$/);
      expect(await handshake({})).toMatch(/^connected TLSv1\.3/);
    });
  });

  it('our client verifies the server: an unknown authority is refused', async () => {
    await withServer('off', async (port) => {
      await expect(echo(port, secureClientOptions({ ca: rogue.ca.cert }))).rejects.toThrow(/over TLS/);
    });
  });
});
