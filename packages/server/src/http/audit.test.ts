// The HTTP door's audit: each route's declared access decides the record; GET /api/audit
// validates its filters and answers what the auditor asked.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openArchive, type Archive } from '../archive.js';
import { loadConfig } from '../config/config.js';
import { silentLogger } from '../logger.js';
import { auditRows } from '../testing/audit.js';
import { createTestDatabase, type TestDatabase } from '../testing/database.js';
import { sendError } from '../dicomweb/http-error.js';
import '../security/permissions.js';
import { registerAuditHook, registerAuditRoutes } from './audit.js';

describe('HTTP audit', () => {
  let dir: string;
  let database: TestDatabase;
  let archive: Archive;
  let app: FastifyInstance;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'loire-http-audit-'));
    database = await createTestDatabase(dir);
    archive = await openArchive(loadConfig({ data: dir, database: database.url }, {}), silentLogger());
    // The audit hook and route alone, on an app without authentication: the test sets the principal.
    app = Fastify();
    app.setErrorHandler((error, request, reply) => sendError(error, request, reply));
    registerAuditHook(app, archive);
    registerAuditRoutes(app, archive);
    app.get('/healthz', { config: { access: 'public' } }, async () => ({ status: 'ok' }));
    // Routes as the other doors declare them; the principal as authentication sets it.
    app.addHook('onRequest', async (request) => {
      const user = request.headers['x-test-user'];
      request.principal = typeof user === 'string' ? { kind: 'user', username: user, roles: ['administrator'], method: 'basic' } : { kind: 'anonymous', roles: [] };
    });
    app.get('/dicom-web/studies', { config: { access: 'query' } }, async () => []);
    app.get('/dicom-web/studies/:study/series/:series/instances/:instance/frames/:frames', { config: { access: 'view' } }, async () => 'pixels');
    app.post('/dicom-web/studies/:study', { config: { access: 'store' } }, async (_req, reply) => reply.code(409).send({}));
    app.post('/dicom-web/studies', { config: { access: 'store' } }, async (request, reply) => {
      request.auditObjects = { studies: [{ uid: '9.8.7', sopClasses: [{ uid: '1.2.840.10008.5.1.4.1.1.7', count: 2 }] }], patients: [{ id: 'P9' }], summary: { stored: 2, failed: 1 } };
      return reply.code(202).send({});
    });
    app.delete('/api/studies/:study', { config: { access: 'delete' } }, async () => ({}));
    app.put('/api/users/:username', { config: { access: 'manage-users' } }, async () => ({}));
    app.get('/api/users', { config: { access: 'manage-users' } }, async () => []);
    app.get('/api/boom', { config: { access: 'configure' } }, async () => { throw new Error('boom'); });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await archive?.close();
    await database?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  async function lastRow() {
    await archive.audit.flush();
    const rows = await auditRows(archive.index);
    return rows[rows.length - 1]!;
  }

  it('records nothing for public routes', async () => {
    await app.inject({ method: 'GET', url: '/healthz' });
    await archive.audit.flush();
    expect(await auditRows(archive.index)).toEqual([]);
  });

  it('a QIDO-RS request becomes a Query with its parameters, base64 in the message', async () => {
    await app.inject({ method: 'GET', url: '/dicom-web/studies?PatientID=P%2042&ModalitiesInStudy=CT', headers: { 'x-test-user': 'bob' } });
    const row = await lastRow();
    expect(row).toMatchObject({ event_id: '110112', action: 'E', outcome: 0, user_id: 'bob', user_address: '127.0.0.1', patient_id: 'P 42' });
    expect(JSON.parse(row.summary)).toMatchObject({ method: 'GET', route: '/dicom-web/studies', parameters: { PatientID: 'P 42', ModalitiesInStudy: 'CT' }, status: 200 });
    expect(row.message).toContain(`<ParticipantObjectQuery>${Buffer.from('PatientID=P%2042&ModalitiesInStudy=CT').toString('base64')}</ParticipantObjectQuery>`);
    expect(row.message).toContain('<ParticipantObjectIDTypeCode csd-code="12" codeSystemName="RFC-3881" originalText="URI"/>');
  });

  it('a frame request becomes Instances Accessed naming the study', async () => {
    await app.inject({ method: 'GET', url: '/dicom-web/studies/1.2.3/series/1.2.3.4/instances/1.2.3.4.5/frames/1', headers: { 'x-test-user': 'carol' } });
    const row = await lastRow();
    expect(row).toMatchObject({ event_id: '110103', action: 'R', outcome: 0, user_id: 'carol', study_uids: '1.2.3' });
    expect(JSON.parse(row.summary)).toMatchObject({ series: '1.2.3.4', instance: '1.2.3.4.5' });
  });

  it('outcomes follow the status: a refused store is a minor failure, a server error a serious one', async () => {
    await app.inject({ method: 'POST', url: '/dicom-web/studies/1.2.3', headers: { 'x-test-user': 'dave' } });
    expect(await lastRow()).toMatchObject({ event_id: '110104', action: 'C', outcome: 4, study_uids: '1.2.3' });
    await app.inject({ method: 'GET', url: '/api/boom', headers: { 'x-test-user': 'dave' } });
    expect(await lastRow()).toMatchObject({ event_id: '110113', event_type: '110132', outcome: 8 });
  });

  it('adds what the handler learnt (a STOW-RS\'s studies and patient); a partial STOW-RS is a minor failure', async () => {
    await app.inject({ method: 'POST', url: '/dicom-web/studies', headers: { 'x-test-user': 'dave' } });
    const row = await lastRow();
    expect(row).toMatchObject({ event_id: '110104', action: 'C', outcome: 4, study_uids: '9.8.7', patient_id: 'P9' });
    expect(JSON.parse(row.summary)).toMatchObject({ stored: 2, failed: 1, status: 202 });
    expect(row.message).toContain('<SOPClass UID="1.2.840.10008.5.1.4.1.1.7" NumberOfInstances="2"/>');
  });

  it('deletion, account changes and account listing', async () => {
    await app.inject({ method: 'DELETE', url: '/api/studies/1.2.3', headers: { 'x-test-user': 'admin' } });
    expect(await lastRow()).toMatchObject({ event_id: '110105', action: 'D', user_id: 'admin', study_uids: '1.2.3' });
    await app.inject({ method: 'PUT', url: '/api/users/erin', headers: { 'x-test-user': 'admin' } });
    const changed = await lastRow();
    expect(changed).toMatchObject({ event_id: '110113', event_type: '110137', user_id: 'admin' });
    expect(changed.message).toMatch(/<ParticipantObjectIdentification ParticipantObjectID="erin" ParticipantObjectTypeCode="1" ParticipantObjectTypeCodeRole="11">/);
    await app.inject({ method: 'GET', url: '/api/users' });
    expect(await lastRow()).toMatchObject({ event_id: '110113', event_type: '110132', user_id: 'anonymous' });
  });

  it('GET /api/audit filters by user, event and date, newest first, and pages', async () => {
    const byBob = await app.inject({ method: 'GET', url: '/api/audit?user=bob' });
    expect(byBob.statusCode).toBe(200);
    expect(byBob.json().records.map((r: { event: { kind: string } }) => r.event.kind)).toEqual(['query']);
    expect(byBob.json().records[0].asked.parameters).toEqual({ PatientID: 'P 42', ModalitiesInStudy: 'CT' });

    const alerts = await app.inject({ method: 'GET', url: '/api/audit?event=security-alert,110105' });
    expect(alerts.json().records.map((r: { event: { id: string } }) => r.event.id)).toEqual(['110113', '110113', '110105', '110113']);

    const today = new Date().toISOString().slice(0, 10);
    const page1 = await app.inject({ method: 'GET', url: `/api/audit?from=${today}&to=${today}&limit=2` });
    expect(page1.json().records).toHaveLength(2);
    const page2 = await app.inject({ method: 'GET', url: `/api/audit?from=${today}&limit=2&before=${page1.json().nextBefore}` });
    expect(page2.json().records[0].seq).toBe(page1.json().nextBefore - 1);

    const yesterday = await app.inject({ method: 'GET', url: '/api/audit?to=2000-01-01' });
    expect(yesterday.json().records).toEqual([]);
  });

  it('GET /api/audit refuses bad filters with a message saying what is wrong', async () => {
    for (const [query, message] of [
      ['limit=0', /limit: must be between 1 and 1000/],
      ['limit=5000', /limit: must be between 1 and 1000/],
      ['limit=abc', /limit: must be a whole number/],
      ['event=nonsense', /event: "nonsense" is not one of/],
      ['from=yesterday', /not a date/],
      ['from=2026-02-01&to=2026-01-01', /from is after to/],
      ['patient=x&sql=1', /Unrecognized key/],
    ] as const) {
      const res = await app.inject({ method: 'GET', url: `/api/audit?${query}` });
      expect(res.statusCode, query).toBe(400);
      expect(res.json().message, query).toMatch(message);
    }
  });
});
