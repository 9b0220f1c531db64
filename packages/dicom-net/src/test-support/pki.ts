// Test support: a throw-away public key infrastructure made with the openssl command line: a
// certificate authority and leaf certificates (for localhost and 127.0.0.1) it signs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Pem {
  /** Files, for tools such as dcmtk. */
  readonly keyFile: string;
  readonly certFile: string;
  readonly key: Buffer;
  readonly cert: Buffer;
}

export interface TestPki {
  readonly dir: string;
  readonly ca: Pem;
  /** A certificate signed by this authority, valid for localhost and 127.0.0.1, for servers and clients. */
  issue(name: string): Pem;
  dispose(): void;
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

function pem(keyFile: string, certFile: string): Pem {
  return { keyFile, certFile, key: readFileSync(keyFile), cert: readFileSync(certFile) };
}

export function createTestPki(label = 'Loire Test CA'): TestPki {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loire-pki-'));
  const file = (name: string) => path.join(dir, name);
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${label}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout', file('ca.key'), '-out', file('ca.pem')]);
  const ca = pem(file('ca.key'), file('ca.pem'));
  writeFileSync(file('leaf.ext'), [
    'basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth,clientAuth', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '',
  ].join('\n'));
  let serial = 1;
  return {
    dir, ca,
    issue(name) {
      openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`)]);
      openssl(['x509', '-req', '-in', file(`${name}.csr`), '-CA', ca.certFile, '-CAkey', ca.keyFile, '-set_serial', String(serial++),
        '-days', '2', '-extfile', file('leaf.ext'), '-out', file(`${name}.pem`)]);
      return pem(file(`${name}.key`), file(`${name}.pem`));
    },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
