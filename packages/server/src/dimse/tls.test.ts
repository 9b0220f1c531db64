import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dicomTlsSchema } from '../config/config.js';
import { createTestPki, type Pem, type TestPki } from '../testing/pki.js';
import { loadDicomTls } from './tls.js';

let pki: TestPki;
let a: Pem;
let b: Pem;
beforeAll(() => {
  pki = createTestPki();
  a = pki.issue('a');
  b = pki.issue('b');
});
afterAll(() => pki.dispose());

const config = (o: { certificate: string; key: string; ca?: string }) => dicomTlsSchema.parse({ port: 0, ...o });

describe('loadDicomTls', () => {
  it('builds BCP 195 server and client settings from PEM files', () => {
    const tls = loadDicomTls(config({ certificate: a.certFile, key: a.keyFile, ca: pki.ca.certFile }));
    expect(tls.server).toMatchObject({ minVersion: 'TLSv1.2', requestCert: true, rejectUnauthorized: true, clientCertificates: 'required' });
    expect(tls.client).toMatchObject({ minVersion: 'TLSv1.2', rejectUnauthorized: true });
    expect(tls.client.ca).toEqual(pki.ca.cert);
  });

  it('stops start-up naming the field of a missing file, or a key that does not match the certificate', () => {
    expect(() => loadDicomTls(config({ certificate: path.join(pki.dir, 'nowhere.pem'), key: a.keyFile })))
      .toThrow(/dicomTls\.certificate: cannot read .*nowhere\.pem/);
    expect(() => loadDicomTls(config({ certificate: a.certFile, key: a.keyFile, ca: path.join(pki.dir, 'no-ca.pem') }))).toThrow(/dicomTls\.ca/);
    expect(() => loadDicomTls(config({ certificate: a.certFile, key: b.keyFile }))).toThrow(/dicomTls: the certificate, key or ca cannot be used/);
  });
});
