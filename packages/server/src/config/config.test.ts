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
    expect(loadConfig({ config: yaml }, {}).dicomNodes).toEqual([{ name: 'ct1', aeTitle: 'CT1', host: '10.0.0.5', port: 104 }]);
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

  it('reads the DICOMweb CORS origins and refuses an origin with a path', () => {
    expect(loadConfig({}, {}).dicomweb.cors.origins).toEqual([]);
    const good = tempFile('cors.yaml', 'dicomweb:\n  cors:\n    origins: ["https://viewer.example.org", "http://localhost:3000"]\n');
    expect(loadConfig({ config: good }, {}).dicomweb.cors.origins).toEqual(['https://viewer.example.org', 'http://localhost:3000']);
    const bad = tempFile('cors-bad.yaml', 'dicomweb:\n  cors:\n    origins: ["https://viewer.example.org/app"]\n');
    expect(() => loadConfig({ config: bad }, {})).toThrow(/dicomweb\.cors\.origins\.0/);
  });
});
