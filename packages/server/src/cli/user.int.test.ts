// `loire user …` and the first administrator, as an operator runs them: child processes of the
// built package (run `npx tsc -b` first) on a throw-away data directory and database.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.js';
import { openArchive, type Archive } from '../archive.js';
import { silentLogger } from '../logger.js';
import { createTestDatabase, loireBin, spawnLoire, type TestDatabase } from '../testing/loire.js';

interface Finished { code: number | null; stdout: string; stderr: string }

function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('LOIRE_')) env[k] = v;
  return { ...env, ...extra };
}

function loire(args: string[], stdin = '', env = cleanEnv()): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [loireBin, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

describe('loire user', () => {
  let dir: string;
  let db: TestDatabase;
  let common: string[];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'loire-user-'));
    db = await createTestDatabase(dir);
    common = ['--data', path.join(dir, 'data'), '--database', db.url];
  });
  afterAll(async () => {
    await db?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  async function withArchive<T>(work: (archive: Archive) => Promise<T>): Promise<T> {
    const archive = await openArchive(loadConfig({ data: path.join(dir, 'data'), database: db.url }, {}), silentLogger());
    try {
      return await work(archive);
    } finally {
      await archive.close();
    }
  }

  it('adds, lists, changes the password of, disables and enables accounts', async () => {
    const added = await loire(['user', 'add', 'Dr.Roux', '--role', 'radiologist', '--role', 'clinician', '--name', 'Dr Roux', ...common], 'first long password\n');
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain('created dr.roux\tradiologist,clinician\tenabled\tlocal\tDr Roux');
    const admin = await loire(['user', 'add', 'boss', '--role', 'administrator', ...common], 'boss long password\n');
    expect(admin.code, admin.stderr).toBe(0);

    const listed = await loire(['user', 'list', ...common]);
    expect(listed.stdout.trim().split('\n')).toEqual([
      'boss\tadministrator\tenabled\tlocal\t',
      'dr.roux\tradiologist,clinician\tenabled\tlocal\tDr Roux',
    ]);
    expect(listed.stdout).not.toContain('password');

    const { token } = await withArchive((a) => a.accounts.createToken('dr.roux', 'script'));
    const passwd = await loire(['user', 'passwd', 'dr.roux', ...common], 'second long password\n');
    expect(passwd.code, passwd.stderr).toBe(0);
    await withArchive(async (a) => {
      expect((await a.accounts.checkPassword('dr.roux', 'first long password')).ok).toBe(false);
      expect((await a.accounts.checkPassword('dr.roux', 'second long password')).ok).toBe(true);
      expect(await a.accounts.resolveToken(token), 'token revoked by the password change').toBeUndefined();
    });

    expect((await loire(['user', 'disable', 'dr.roux', ...common])).code).toBe(0);
    expect((await loire(['user', 'list', ...common])).stdout).toContain('dr.roux\tradiologist,clinician\tdisabled');
    await withArchive(async (a) => expect(await a.accounts.checkPassword('dr.roux', 'second long password')).toMatchObject({ ok: false, reason: 'disabled' }));
    expect((await loire(['user', 'enable', 'dr.roux', ...common])).code).toBe(0);
    await withArchive(async (a) => expect((await a.accounts.checkPassword('dr.roux', 'second long password')).ok).toBe(true));
  });

  it('refuses what it cannot do, with a message and an exit code', async () => {
    const unknownRole = await loire(['user', 'add', 'x', '--role', 'root', ...common], 'long enough password\n');
    expect(unknownRole.code).toBe(1);
    expect(unknownRole.stderr).toContain('unknown role "root"');
    const short = await loire(['user', 'add', 'y', '--role', 'clinician', ...common], 'short\n');
    expect(short.code).toBe(1);
    expect(short.stderr).toContain('at least 12 characters');
    const badName = await loire(['user', 'add', "z'; DROP TABLE account;--", '--role', 'clinician', ...common], 'long enough password\n');
    expect(badName.code).toBe(1);
    const missing = await loire(['user', 'passwd', 'nobody', ...common], 'long enough password\n');
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('no account "nobody"');
    const lastAdmin = await loire(['user', 'disable', 'boss', ...common]);
    expect(lastAdmin.code).toBe(1);
    expect(lastAdmin.stderr).toContain('last enabled administrator');
  });
});

describe('first start', () => {
  it('creates admin with a generated password shown once on stdout, never in the log, and not again at the next start', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'loire-first-'));
    const db = await createTestDatabase(dir);
    try {
      const first = await spawnLoire(path.join(dir, 'data'), db.url, [], cleanEnv());
      await first.waitUntilReady(60_000);
      expect(await first.kill('SIGTERM')).toBe(0);
      const match = /the password\n\n\s+(\S+)\n/.exec(first.output());
      expect(match, first.output()).not.toBeNull();
      const password = match![1]!;
      const logLines = first.output().split('\n').filter((l) => l.startsWith('{'));
      expect(logLines.some((l) => l.includes('"event":"user-created"'))).toBe(true);
      expect(logLines.join('\n')).not.toContain(password);

      const second = await spawnLoire(path.join(dir, 'data'), db.url, [], cleanEnv());
      await second.waitUntilReady(60_000);
      const me = await fetch(`http://127.0.0.1:${second.httpPort}/api/me`, { headers: { authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` } });
      expect(me.status).toBe(200);
      expect(await second.kill('SIGTERM')).toBe(0);
      expect(second.output()).not.toContain('First start');
      expect(second.output()).not.toContain(password);
    } finally {
      await db.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('uses LOIRE_ADMIN_PASSWORD when set and prints no password', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'loire-first-'));
    const db = await createTestDatabase(dir);
    try {
      const server = await spawnLoire(path.join(dir, 'data'), db.url, [], cleanEnv({ LOIRE_ADMIN_PASSWORD: 'chosen admin password' }));
      await server.waitUntilReady(60_000);
      const me = await fetch(`http://127.0.0.1:${server.httpPort}/api/me`, { headers: { authorization: `Basic ${Buffer.from('admin:chosen admin password').toString('base64')}` } });
      expect(me.status).toBe(200);
      expect(await server.kill('SIGTERM')).toBe(0);
      expect(server.output()).not.toContain('First start');
      expect(server.output()).not.toContain('chosen admin password');
    } finally {
      await db.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
