// DICOM over TLS (PS3.15 B.1): our server and client, and dcmtk's echoscu, with a throw-away certificate.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ImplicitVRLittleEndian, VerificationSOPClass } from '@loire/dicom';
import { connect } from './client.js';
import { DimseServer } from './server.js';
import { runTool } from './test-support/dcmtk.js';

let dir: string;
let key: Buffer;
let cert: Buffer;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dicom-net-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
  key = readFileSync(path.join(dir, 'key.pem'));
  cert = readFileSync(path.join(dir, 'cert.pem'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('runs an association over TLS with our client and with echoscu +tls', async () => {
  const server = new DimseServer({ handlers: {} });
  let sawTls = false;
  server.on('association-accepted', (e) => { sawTls = e.request.tls; });
  const { port } = await server.listen({ host: '127.0.0.1', port: 0, tls: { key, cert } });
  try {
    const a = await connect({
      host: '127.0.0.1', port, callingAe: 'TLSSCU', calledAe: 'LOIRE', tls: { ca: cert, servername: 'localhost' },
      contexts: [{ abstractSyntax: VerificationSOPClass, transferSyntaxes: [ImplicitVRLittleEndian] }],
    });
    expect(await a.echo()).toBe(0);
    await a.release();
    expect(sawTls).toBe(true);
    await expect(connect({
      host: '127.0.0.1', port, callingAe: 'TLSSCU', calledAe: 'LOIRE', tls: { servername: 'localhost' }, // no trust anchor
      contexts: [{ abstractSyntax: VerificationSOPClass, transferSyntaxes: [ImplicitVRLittleEndian] }],
    })).rejects.toThrow(/cannot connect/);
    const r = await runTool('echoscu', ['+tls', path.join(dir, 'key.pem'), path.join(dir, 'cert.pem'), '+cf', path.join(dir, 'cert.pem'), '-aec', 'LOIRE', '127.0.0.1', String(port)]);
    expect(r.code, r.output).toBe(0);
  } finally {
    await server.close({ drain: false });
  }
});
