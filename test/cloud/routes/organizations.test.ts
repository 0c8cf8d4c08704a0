import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFor, login, setupWorld, startTestCloud, STORE_KINDS, type ErrorBody, type TestCloud, type World } from '../cloud-test-kit.js';

interface Org {
  id: number;
  name: string;
  parentId?: number;
}

describe.each(STORE_KINDS)('organisations, users, OAuth2 clients, templates (%s)', (store) => {
  let cloud: TestCloud;
  let w: World;
  beforeAll(async () => {
    cloud = await startTestCloud({ store });
    w = await setupWorld(cloud);
  });
  afterAll(async () => {
    await cloud?.close();
  });

  it('makes sub-organisations under the caller’s organisation and lists them', async () => {
    const own = await w.maker.get<Org>('/api/v1/organization');
    expect(own.body).toMatchObject({ id: w.makerOrgId, name: 'Flashline Demo Manufacturer' });
    expect(own.body).not.toHaveProperty('parentId');
    const subs = await w.maker.get<Org[]>('/api/v1/organization/sub-organizations');
    expect(subs.body.map((o) => o.id)).toEqual(expect.arrayContaining([w.orgA.id, w.orgB.id]));
    expect(subs.body.every((o) => o.parentId === w.makerOrgId)).toBe(true);
    // A sub-sub-organisation, made by the manufacturer inside customer A.
    const nested = await w.maker.post<Org>('/api/v1/organization/create', { name: 'Customer A / Site 2', parentId: w.orgA.id });
    expect(nested.status).toBe(201);
    expect(nested.body.parentId).toBe(w.orgA.id);
    // Customer A manages its own subtree, not its parent nor its sibling.
    expect((await w.orgA.api.get<Org>(`/api/v1/organization?orgId=${nested.body.id}`)).status).toBe(200);
    for (const other of [w.makerOrgId, w.orgB.id, w.stranger.id]) {
      const res = await w.orgA.api.get<ErrorBody>(`/api/v1/organization?orgId=${other}`);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
      expect((await w.orgA.api.post('/api/v1/organization/create', { name: 'x', parentId: other })).status).toBe(404);
    }
  });

  it('validates names at the edge', async () => {
    for (const name of ['', '   ', 'a'.repeat(101), 'tab\tname', 42]) {
      const res = await w.maker.post<ErrorBody>('/api/v1/organization/create', { name });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('INVALID_INPUT');
    }
  });

  it('creates users in managed organisations, one per email, and pages through them', async () => {
    const made = await w.maker.post<{ id: number; orgId: number; email: string; role: string }>('/api/v1/organization/users/create', {
      orgId: w.orgB.id,
      email: '  Second.Person@Example.com ',
      name: 'Second Person',
      role: 'staff',
    });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ orgId: w.orgB.id, email: 'second.person@example.com', role: 'staff' });
    const dup = await w.orgB.api.post<ErrorBody>('/api/v1/organization/users/create', { email: 'second.person@example.com', name: 'Again' });
    expect(dup.status).toBe(409);
    expect((await w.orgA.api.post('/api/v1/organization/users/create', { orgId: w.orgB.id, email: 'z@example.com', name: 'Z' })).status).toBe(404);
    expect((await w.maker.post('/api/v1/organization/users/create', { email: 'not-an-email', name: 'Z' })).status).toBe(400);
    const page0 = await w.maker.get<{ content: { id: number }[]; totalElements: number }>(`/api/v1/organization/users?orgId=${w.orgB.id}&size=1`);
    expect(page0.body.totalElements).toBe(2);
    expect(page0.body.content).toHaveLength(1);
    const page1 = await w.maker.get<{ content: { id: number }[] }>(`/api/v1/organization/users?orgId=${w.orgB.id}&size=1&page=1`);
    expect(page1.body.content[0]!.id).not.toBe(page0.body.content[0]!.id);
    expect((await w.maker.get('/api/v1/organization/users?size=1001')).status).toBe(400);
  });

  it('mints OAuth2 clients whose secret is shown once and stored only as a scrypt hash', async () => {
    const made = await w.maker.post<{ clientId: string; clientSecret: string; kind: string }>('/api/v1/organization/oauth/clients/create', {
      name: 'Line 3 station',
      kind: 'station',
    });
    expect(made.status).toBe(201);
    expect(made.body.kind).toBe('station');
    expect(made.body.clientSecret.length).toBeGreaterThanOrEqual(40);
    const rows = await cloud.server.store.db.all<{ secret_hash: string }>('SELECT secret_hash FROM oauth_clients WHERE client_id = ?', [made.body.clientId]);
    expect(rows[0]!.secret_hash).toMatch(/^scrypt\$/);
    expect(JSON.stringify(await cloud.server.store.db.all('SELECT * FROM oauth_clients'))).not.toContain(made.body.clientSecret);

    // A station client reaches the station endpoints only.
    const station = apiFor(cloud, await login(cloud, made.body.clientId, made.body.clientSecret));
    const gen = await station.post('/api/v1/organization/static-tokens/generate', {
      templateId: w.templateId,
      count: 2,
      stationId: 'line-3',
      requestId: `station-scope-${store}`,
    });
    expect(gen.status).toBe(201);
    for (const res of [
      await station.get<ErrorBody>('/api/v1/organization/static-tokens'),
      await station.post<ErrorBody>('/api/v1/organization/static-tokens/create', { templateId: w.templateId, count: 1 }),
      await station.post<ErrorBody>('/api/v1/organization/static-tokens/claim', { token: `sqr_${'a'.repeat(32)}`, userId: 1 }),
      await station.post<ErrorBody>('/api/v1/organization/oauth/clients/create', { name: 'escalate' }),
    ]) {
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('FORBIDDEN');
    }
    // A customer's client cannot mint clients for its parent.
    expect((await w.orgA.api.post('/api/v1/organization/oauth/clients/create', { name: 'x', orgId: w.makerOrgId })).status).toBe(404);
  });

  it('creates templates with metadata fields and a QR payload format', async () => {
    const made = await w.maker.post<{ id: number; metadataFields: unknown; qrPayloadFormat: string }>('/api/v1/organization/template/create', {
      name: 'Thermostat',
      blynkTemplateId: `TMPLthermo${store}`,
      metadataFields: [{ name: 'Serial Number' }, { name: 'Batch', type: 'number' }],
    });
    expect(made.status).toBe(201);
    expect(made.body.metadataFields).toEqual([
      { name: 'Serial Number', type: 'text' },
      { name: 'Batch', type: 'number' },
    ]);
    expect(made.body.qrPayloadFormat).toBe('{qrToken}+{orgId}');
    const dup = await w.maker.post('/api/v1/organization/template/create', { name: 'Again', blynkTemplateId: `TMPLthermo${store}` });
    expect(dup.status).toBe(409);
    const listed = await w.maker.get<{ id: number }[]>('/api/v1/organization/templates');
    expect(listed.body.map((t) => t.id)).toEqual(expect.arrayContaining([w.templateId, made.body.id]));
    for (const bad of [
      { name: 'x', blynkTemplateId: 'nope' },
      { name: 'x', blynkTemplateId: 'TMPLa1', metadataFields: [{ name: 'A' }, { name: 'A' }] },
      { name: 'x', blynkTemplateId: 'TMPLa2', metadataFields: [{ name: ' padded' }] },
      { name: 'x', blynkTemplateId: 'TMPLa3', qrPayloadFormat: '{deviceToken}' },
      { name: 'x', blynkTemplateId: 'TMPLa4', qrPayloadFormat: 'no token here' },
    ]) {
      expect((await w.maker.post('/api/v1/organization/template/create', bad)).status).toBe(400);
    }
    expect((await w.stranger.api.get(`/api/v1/organization/templates?orgId=${w.makerOrgId}`)).status).toBe(404);
  });
});
