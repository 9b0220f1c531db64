import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

function tempFile(name: string, text: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loire-config-'));
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({}, {});
    expect(config.httpPort).toBe(8080);
    expect(config.dicomPort).toBe(11112);
    expect(config.aeTitle).toBe('LOIRE');
    expect(config.dataDir).toBe(path.resolve('data'));
    expect(config.database).toBe(`sqlite://${path.resolve('data', 'index.sqlite')}`);
  });

  it('takes environment, and flags over environment', () => {
    const env = { LOIRE_HTTP_PORT: '9000', LOIRE_AE_TITLE: 'ENVAE', LOIRE_DATA: '/tmp/x' };
    expect(loadConfig({}, env)).toMatchObject({ httpPort: 9000, aeTitle: 'ENVAE', dataDir: '/tmp/x' });
    expect(loadConfig({ httpPort: '9100' }, env).httpPort).toBe(9100);
  });

  it('reads dicomNodes from YAML and JSON files', () => {
    const yaml = tempFile('loire.yaml', 'dicomNodes:\n  - { name: ct1, aeTitle: CT1, host: 10.0.0.5, port: 104 }\n');
    expect(loadConfig({ config: yaml }, {}).dicomNodes).toEqual([{
      name: 'ct1', aeTitle: 'CT1', host: '10.0.0.5', port: 104, tls: false, permissions: { store: true, query: true, retrieve: true },
    }]);
    const json = tempFile('loire.json', JSON.stringify({ aeTitle: 'FROMFILE', dicomNodes: [] }));
    expect(loadConfig({ config: json }, {}).aeTitle).toBe('FROMFILE');
  });

  it('names the wrong field of a bad config', () => {
    const bad = tempFile('bad.yaml', 'dicomNodes:\n  - { name: ct1, aeTitle: WAY_TOO_LONG_AE_TITLE, host: h, port: 104 }\n');
    expect(() => loadConfig({ config: bad }, {})).toThrow(/dicomNodes\.0\.aeTitle/);
    const unknown = tempFile('unknown.yaml', 'dicomNode: []\n');
    expect(() => loadConfig({ config: unknown }, {})).toThrow(ConfigError);
    expect(() => loadConfig({ dicomPort: 'abc' }, {})).toThrow(/dicomPort/);
    expect(() => loadConfig({ database: 'mysql://x' }, {})).toThrow(/database/);
  });

  it('reads DICOM node control and TLS, resolving certificate paths against the config file', () => {
    const file = tempFile('loire.yaml', [
      'dicomAccess: { strict: true }',
      'dicomTls: { port: 2762, certificate: tls/loire.pem, key: tls/loire.key, ca: /etc/pki/dicom-ca.pem, plain: false }',
      'dicomNodes:',
      '  - { name: ws, aeTitle: WS1, hosts: [10.1.2.0/24, "fd00::7"], permissions: { store: false, retrieve: false } }',
      '  - { name: pacs2, aeTitle: PACS2, host: pacs2.local, port: 2762, tls: true, permissions: { moveDestinations: ["*"] } }',
      '',
    ].join('\n'));
    const config = loadConfig({ config: file }, {});
    expect(config.dicomAccess).toEqual({ strict: true });
    expect(config.dicomTls).toEqual({
      port: 2762, certificate: path.join(path.dirname(file), 'tls/loire.pem'), key: path.join(path.dirname(file), 'tls/loire.key'),
      ca: '/etc/pki/dicom-ca.pem', clientCertificates: 'required', plain: false,
    });
    expect(config.dicomNodes[0]).toEqual({ name: 'ws', aeTitle: 'WS1', hosts: ['10.1.2.0/24', 'fd00::7'], tls: false, permissions: { store: false, query: true, retrieve: false } });
    expect(config.dicomNodes[1]?.permissions.moveDestinations).toEqual(['*']);
    expect(loadConfig({}, {}).dicomAccess).toEqual({ strict: false });
  });

  it('refuses inconsistent node control and TLS settings, naming the field', () => {
    const cases: [string, RegExp][] = [
      ['dicomNodes:\n  - { name: a, aeTitle: A, hosts: [10.0.0.0/33] }\n', /dicomNodes\.0\.hosts\.0: must be an IP address or a network/],
      ['dicomNodes:\n  - { name: a, aeTitle: A, hosts: [a.host.name] }\n', /dicomNodes\.0\.hosts\.0/],
      ['dicomNodes:\n  - { name: a, aeTitle: A, host: h }\n', /dicomNodes\.0\.port: host and port go together/],
      ['dicomNodes:\n  - { name: a, aeTitle: A, host: h, port: 104, tls: true }\n', /dicomNodes\.0\.tls: .*dicomTls section/],
      ['dicomNodes:\n  - { name: a, aeTitle: A, permissions: { query: yes please } }\n', /dicomNodes\.0\.permissions\.query/],
      ['dicomNodes:\n  - { name: a, aeTitle: A, permissions: { moveDestinations: [A, TYPO] } }\n', /dicomNodes\.0\.permissions\.moveDestinations\.0: "A" is not the AE title of a node with host and port/],
      ['dicomTls: { certificate: c.pem, key: k.pem, clientCertificates: sometimes }\n', /dicomTls\.clientCertificates/],
      ['dicomTls: { key: k.pem }\n', /dicomTls\.certificate/],
      ['dicomAccess: { strict: true, mode: paranoid }\n', /dicomAccess/],
    ];
    for (const [text, error] of cases) {
      expect(() => loadConfig({ config: tempFile('c.yaml', text) }, {}), text).toThrow(error);
    }
  });

  it('has secure defaults for HTTP and security, and takes the first administrator password from the environment', () => {
    const config = loadConfig({}, { LOIRE_ADMIN_PASSWORD: 'a long admin password' });
    expect(config.http).toEqual({ plain: true });
    expect(config.security).toMatchObject({
      authentication: true,
      sessions: { idleMinutes: 30, absoluteHours: 12 },
      lockout: { maxFailures: 5, lockMinutes: 15 },
      passwordHash: { ln: 17, r: 8, p: 1 },
      initialAdminPassword: 'a long admin password',
    });
    expect(loadConfig({}, {}).security.initialAdminPassword).toBeUndefined();
    expect(() => loadConfig({}, { LOIRE_ADMIN_PASSWORD: 'short' })).toThrow(/LOIRE_ADMIN_PASSWORD: a password needs at least 12/);
    const weak = tempFile('weak.yaml', 'security:\n  passwordHash: { ln: 10 }\n');
    expect(() => loadConfig({ config: weak }, {})).toThrow(/security\.passwordHash\.ln/);
    const off = tempFile('off.yaml', 'http:\n  plain: false\n');
    expect(() => loadConfig({ config: off }, {})).toThrow(/http\.plain is false but http\.tls is not configured/);
  });

  it('reads the audit section: on by default, syslog over TLS with a CA file beside the config', () => {
    expect(loadConfig({}, {}).audit).toEqual({ enabled: true });
    const dir = path.dirname(tempFile('x', ''));
    writeFileSync(path.join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const file = path.join(dir, 'loire.yaml');
    writeFileSync(file, 'audit:\n  syslog: { host: collector.example, port: 6514, ca: ca.pem }\n');
    expect(loadConfig({ config: file }, {}).audit).toEqual({
      enabled: true, syslog: { host: 'collector.example', port: 6514, protocol: 'tls', ca: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' },
    });
    const udp = tempFile('udp.yaml', 'audit:\n  syslog: { host: h, port: 514, protocol: udp }\n');
    expect(() => loadConfig({ config: udp }, {})).toThrow(/audit\.syslog\.protocol/);
    const noCa = tempFile('noca.yaml', 'audit:\n  syslog: { host: h, port: 6514, ca: missing.pem }\n');
    expect(() => loadConfig({ config: noCa }, {})).toThrow(/audit\.syslog\.ca: cannot read/);
  });

  it('reads the DICOMweb CORS origins and refuses an origin with a path', () => {
    expect(loadConfig({}, {}).dicomweb.cors.origins).toEqual([]);
    const good = tempFile('cors.yaml', 'dicomweb:\n  cors:\n    origins: ["https://viewer.example.org", "http://localhost:3000"]\n');
    expect(loadConfig({ config: good }, {}).dicomweb.cors.origins).toEqual(['https://viewer.example.org', 'http://localhost:3000']);
    const bad = tempFile('cors-bad.yaml', 'dicomweb:\n  cors:\n    origins: ["https://viewer.example.org/app"]\n');
    expect(() => loadConfig({ config: bad }, {})).toThrow(/dicomweb\.cors\.origins\.0/);
  });
});
