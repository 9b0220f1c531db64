// The console profile API against a whole Loire: each user reads and writes only their own profile,
// in the index database (SQLite, or PostgreSQL with LOIRE_TEST_DATABASE); bad documents are refused
// with the offending field named; DELETE goes back to the defaults; changes reach the audit trail.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_HANGING_PROTOCOLS } from '../../../console/src/hanging-protocols.js';
import { searchAudit } from '../audit/store.js';
import { ROLES } from '../security/permissions.js';
import { startTestLoire, type TestLoire, type TestUser } from '../testing/loire.js';

interface ProfileAnswer { version: number; updatedAt?: string; [field: string]: unknown }

describe('GET/PUT/DELETE /api/profile', () => {
  let loire: TestLoire;
  let radiologist: TestUser;
  let clinician: TestUser;

  beforeAll(async () => {
    loire = await startTestLoire();
    radiologist = await loire.createUser(['radiologist']);
    clinician = await loire.createUser(['clinician']);
  });
  afterAll(async () => loire?.stop());

  const call = async (user: TestUser | undefined, method: string, body?: unknown, raw?: string) => {
    const response = await fetch(`${loire.httpUrl}/api/profile`, {
      method,
      headers: { ...(user?.httpHeaders ?? {}), ...(body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(raw !== undefined ? { body: raw } : body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) as ProfileAnswer & { message?: string; fields?: string[] } : undefined };
  };

  const profile = {
    version: 1,
    layout: '2x2',
    windowPresets: [{ id: 'stroke', label: 'Stroke', width: 40, center: 35, key: '6' }],
    toolbar: ['WindowLevel', 'Pan', 'Zoom', 'Length'],
    mouseBindings: { primary: 'WindowLevel', middle: 'Pan', secondary: 'Zoom' },
    shortcuts: { nextSeries: 'ArrowRight', reset: 'Shift+r' },
    studyListColumns: ['patientName', 'date', 'modalities'],
    savedFilters: [{ name: 'My CTs', query: { modality: 'CT', dateFrom: '2024-01-01', dateTo: '' } }],
    hangingProtocols: [{
      id: 'chest-ct-compare', name: 'Chest CT with prior', priority: 50,
      match: { modality: ['CT'], studyDescription: 'thorax|chest', minPriors: 1 },
      layout: '1x2', viewports: [{ prior: 0, series: { orientation: 'axial' } }, { prior: 1, like: 0 }], windowPreset: 'lung',
    }],
  };

  it('answers 401 without credentials, whatever the method', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      expect((await call(undefined, method, method === 'PUT' ? profile : undefined)).status, method).toBe(401);
    }
  });

  it('gives the defaults to a user who saved nothing, then keeps what the user saves', async () => {
    const before = await call(radiologist, 'GET');
    expect(before.status).toBe(200);
    expect(before.body).toEqual({ version: 1 });
    const saved = await call(radiologist, 'PUT', profile);
    expect(saved.status).toBe(200);
    expect(saved.body?.updatedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    const after = await call(radiologist, 'GET');
    expect(after.status).toBe(200);
    const { updatedAt, ...document } = after.body!;
    expect(document).toEqual(profile);
    expect(updatedAt).toBe(saved.body?.updatedAt);
    // What GET gave can be sent back as it is (updatedAt is the server's and is ignored).
    expect((await call(radiologist, 'PUT', { ...after.body, layout: '1x2' })).status).toBe(200);
    expect((await call(radiologist, 'GET')).body?.layout).toBe('1x2');
    // The row is in the index database, keyed by the account.
    const rows = await loire.server.archive.index.db.withTables<{ user_profile: { account_fk: number; version: number; document: string } }>()
      .selectFrom('user_profile').select(['account_fk', 'version', 'document']).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.version).toBe(1);
    expect((JSON.parse(rows[0]!.document) as { savedFilters: unknown }).savedFilters).toEqual(profile.savedFilters);
  });

  it('keeps each user to their own profile', async () => {
    await call(radiologist, 'PUT', profile);
    expect((await call(clinician, 'GET')).body).toEqual({ version: 1 });
    const theirs = { version: 1, savedFilters: [{ name: 'Ward 3', query: { referringPhysician: 'Martin' } }] };
    expect((await call(clinician, 'PUT', theirs)).status).toBe(200);
    expect((await call(radiologist, 'GET')).body?.savedFilters).toEqual(profile.savedFilters);
    expect((await call(clinician, 'GET')).body?.savedFilters).toEqual(theirs.savedFilters);
    // There is no route to another user's profile: a query naming one is not obeyed.
    const other = await fetch(`${loire.httpUrl}/api/profile?username=${radiologist.username}`, { headers: clinician.httpHeaders });
    expect(other.status).toBe(200);
    expect(((await other.json()) as ProfileAnswer).savedFilters).toEqual(theirs.savedFilters);
  });

  it('lets every role that can log in keep a profile', async () => {
    for (const role of ROLES) {
      const user = await loire.createUser([role]);
      const mine = { version: 1, layout: '1x1', toolbar: [`tool-${role}`] };
      expect((await call(user, 'PUT', mine)).status, role).toBe(200);
      expect((await call(user, 'GET')).body?.toolbar, role).toEqual([`tool-${role}`]);
    }
  });

  it('accepts the console\'s default hanging protocols as a user\'s own (the two shapes agree)', async () => {
    const response = await call(clinician, 'PUT', { version: 1, hangingProtocols: DEFAULT_HANGING_PROTOCOLS });
    expect(response.body?.message).toBeUndefined();
    expect(response.status).toBe(200);
    expect((await call(clinician, 'GET')).body?.hangingProtocols).toEqual(JSON.parse(JSON.stringify(DEFAULT_HANGING_PROTOCOLS)));
  });

  it('refuses a bad document with 400, naming the field, and keeps the previous one', async () => {
    await call(radiologist, 'PUT', profile);
    const cases: { body: unknown; field: string; says: RegExp }[] = [
      { body: { ...profile, colour: 'blue' }, field: 'colour', says: /colour: unknown field/ },
      { body: { ...profile, version: 2 }, field: 'version', says: /version: must be 1/ },
      { body: { ...profile, layout: '9x9' }, field: 'layout', says: /layout: must be rows x columns/ },
      { body: { ...profile, windowPresets: [{ id: 'w', label: 'W', width: -5, center: 0 }] }, field: 'windowPresets.0.width', says: /windowPresets\.0\.width/ },
      { body: { ...profile, savedFilters: [{ name: 'A', query: { patientName: 'x', dateFrom: '01/02/2024' } }] }, field: 'savedFilters.0.query.dateFrom', says: /YYYY-MM-DD/ },
      { body: { ...profile, savedFilters: [{ name: 'A', query: { sql: 'drop' } }] }, field: 'savedFilters.0.query.sql', says: /sql: unknown field/ },
      { body: { ...profile, savedFilters: [{ name: 'A', query: {} }, { name: 'A', query: {} }] }, field: 'savedFilters.1', says: /"A" appears twice/ },
      { body: { ...profile, mouseBindings: { thumb: 'Pan' } }, field: 'mouseBindings.thumb', says: /mouseBindings\.thumb/ },
      { body: { ...profile, hangingProtocols: [{ ...profile.hangingProtocols[0], match: { studyDescription: '(' } }] }, field: 'hangingProtocols.0.match.studyDescription', says: /not a valid regular expression/ },
      { body: { ...profile, hangingProtocols: [{ ...profile.hangingProtocols[0], layout: '1x1' }] }, field: 'hangingProtocols.0.viewports', says: /more than the 1 cells/ },
      { body: { ...profile, toolbar: Array.from({ length: 51 }, (_, i) => `t${i}`) }, field: 'toolbar', says: /toolbar: .*50/ },
      { body: [profile], field: 'profile', says: /profile: Expected object/ },
    ];
    for (const { body, field, says } of cases) {
      const refused = await call(radiologist, 'PUT', body);
      expect(refused.status, field).toBe(400);
      expect(refused.body?.fields, field).toContain(field);
      expect(refused.body?.message, field).toMatch(says);
    }
    const notJson = await call(radiologist, 'PUT', undefined, '{"version": 1,');
    expect(notJson.status).toBe(400);
    const { updatedAt: _at, ...kept } = (await call(radiologist, 'GET')).body!;
    expect(kept).toEqual(profile);
  });

  it('refuses a document over the size limit with 413', async () => {
    // Valid in every count and length, but over 64 KiB in all.
    const viewports = Array.from({ length: 16 }, (_, i) => ({ prior: i % 3, series: { modality: ['CT'], description: `series-${i}-${'x'.repeat(100)}` } }));
    const huge = { version: 1, hangingProtocols: Array.from({ length: 50 }, (_, i) => ({ id: `p${i}`, name: `Protocol ${i}`, match: { modality: ['CT'] }, layout: '4x4', viewports })) };
    expect(JSON.stringify(huge).length).toBeGreaterThan(64 * 1024);
    const refused = await call(radiologist, 'PUT', huge);
    expect(refused.status).toBe(413);
    // Just under the limit in count is fine when small: the bound is on bytes and on counts separately.
    const many = { version: 1, savedFilters: Array.from({ length: 100 }, (_, i) => ({ name: `f${i}`, query: { modality: 'CT' } })) };
    expect((await call(radiologist, 'PUT', many)).status).toBe(200);
    const tooMany = { version: 1, savedFilters: Array.from({ length: 101 }, (_, i) => ({ name: `f${i}`, query: {} })) };
    const counted = await call(radiologist, 'PUT', tooMany);
    expect(counted.status).toBe(400);
    expect(counted.body?.fields).toContain('savedFilters');
  });

  it('says how to recover when the stored document cannot be read', async () => {
    const user = await loire.createUser(['clinician']);
    await call(user, 'PUT', { version: 1, layout: '2x2' });
    const db = loire.server.archive.index.db.withTables<{ account: { pk: number; username: string }; user_profile: { account_fk: number; document: string } }>();
    const { pk } = await db.selectFrom('account').select('pk').where('username', '=', user.username).executeTakeFirstOrThrow();
    await db.updateTable('user_profile').set({ document: JSON.stringify({ version: 1, layout: 'big' }) }).where('account_fk', '=', pk).execute();
    const broken = await call(user, 'GET');
    expect(broken.status).toBe(500);
    expect(broken.body?.message).toMatch(/layout: .*DELETE \/api\/profile resets it/);
    expect((await call(user, 'DELETE')).status).toBe(204);
    expect((await call(user, 'GET')).body).toEqual({ version: 1 });
  });

  it('refuses with 412 a PUT whose If-Match names a state that changed meanwhile (two stations)', async () => {
    const user = await loire.createUser(['radiologist']);
    const put = (body: unknown, ifMatch?: string) => fetch(`${loire.httpUrl}/api/profile`, {
      method: 'PUT', body: JSON.stringify(body),
      headers: { ...user.httpHeaders, 'content-type': 'application/json', ...(ifMatch ? { 'if-match': ifMatch } : {}) },
    });
    const read = async () => {
      const response = await fetch(`${loire.httpUrl}/api/profile`, { headers: user.httpHeaders });
      return { etag: response.headers.get('etag')!, body: (await response.json()) as ProfileAnswer };
    };
    const defaults = await read();
    expect(defaults.etag).toBe('"0"');
    // Two stations read the defaults, and both save from them at once: one wins, one is told.
    const [a, b] = await Promise.all([put({ version: 1, layout: '1x2' }, defaults.etag), put({ version: 1, layout: '2x2' }, defaults.etag)]);
    expect([a.status, b.status].sort()).toEqual([200, 412]);
    const winner = a.status === 200 ? a : b;
    const loser = a.status === 200 ? b : a;
    expect(((await loser.json()) as { message: string }).message).toMatch(/changed elsewhere.*read it again/);
    const won = (await winner.json()) as ProfileAnswer;
    const now = await read();
    expect(now.body.layout).toBe(won.layout);
    expect(now.etag).toBe(winner.headers.get('etag'));
    expect(now.etag).not.toBe(defaults.etag);
    // From the current state, the next save goes through and moves the tag on; the old tag is refused.
    const next = await put({ version: 1, layout: '3x3' }, now.etag);
    expect(next.status).toBe(200);
    await next.arrayBuffer();
    const stale = await put({ version: 1, layout: '4x4' }, now.etag);
    expect(stale.status).toBe(412);
    await stale.arrayBuffer();
    expect((await read()).body.layout).toBe('3x3');
    // A tag that was never given is refused too; without If-Match the last save wins.
    const forged = await put({ version: 1, layout: '4x4' }, '"99-1"');
    expect(forged.status).toBe(412);
    await forged.arrayBuffer();
    const blind = await put({ version: 1, layout: '1x1' });
    expect(blind.status).toBe(200);
    await blind.arrayBuffer();
    expect((await read()).body.layout).toBe('1x1');
    // After a reset, the defaults' tag applies again, and a tag from before the reset does not.
    const before = (await read()).etag;
    await call(user, 'DELETE');
    const afterReset = await put({ version: 1, layout: '2x1' }, before);
    expect(afterReset.status).toBe(412);
    await afterReset.arrayBuffer();
    expect((await put({ version: 1, layout: '2x1' }, '"0"')).status).toBe(200);
  });

  it('DELETE goes back to the defaults, for this user only', async () => {
    await call(radiologist, 'PUT', profile);
    await call(clinician, 'PUT', { version: 1, layout: '1x2' });
    const removed = await call(radiologist, 'DELETE');
    expect(removed.status).toBe(204);
    expect((await call(radiologist, 'GET')).body).toEqual({ version: 1 });
    expect((await call(clinician, 'GET')).body?.layout).toBe('1x2');
    // Twice is fine: the defaults stay the defaults.
    expect((await call(radiologist, 'DELETE')).status).toBe(204);
  });

  it('records profile changes, not reads, in the audit trail under the user\'s name', async () => {
    const user = await loire.createUser(['technologist']);
    await call(user, 'GET');
    await call(user, 'PUT', { version: 1, layout: '2x2' });
    await call(user, 'DELETE');
    await loire.server.archive.audit.flush();
    const rows = await searchAudit(loire.server.archive.index.db, { userId: user.username, limit: 50 });
    const asked = rows.map((r) => JSON.parse(r.summary) as { method: string; route: string; status: number; profile?: string });
    const profileRows = asked.filter((a) => a.route === '/api/profile');
    expect(profileRows.map((a) => `${a.method} ${a.status}`).sort()).toEqual(['DELETE 204', 'PUT 200']);
    expect(profileRows.find((a) => a.method === 'PUT')?.profile).toBe('replaced');
  });
});
