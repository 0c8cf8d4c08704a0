import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../cloud/secrets.js';
import { boardFor, setupWorld, startTestCloud, STORE_KINDS, type ErrorBody, type TestCloud, type World } from '../cloud-test-kit.js';

interface DeviceView {
  id: number;
  orgId?: number;
  templateId?: number;
  ownerUserId?: number;
  provisioned: boolean;
  connected: boolean;
  name: string;
}

describe.each(STORE_KINDS)('dynamic provisioning tokens (%s)', (store) => {
  let cloud: TestCloud;
  let w: World;
  beforeAll(async () => {
    cloud = await startTestCloud({ store });
    w = await setupWorld(cloud);
  });
  afterAll(async () => {
    await cloud?.close();
  });

  const provision = (api: World['maker'], orgId: number, ownerId: number) =>
    api.post<{ token: string; deviceId: number } & ErrorBody>('/api/v1/organization/device/provision/token', { orgId, ownerId });

  it('issues {token, deviceId}; the device completes when the board first connects with it', async () => {
    const res = await provision(w.maker, w.orgA.id, w.orgA.userId);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['deviceId', 'token']);
    expect(res.body.token).toMatch(/^[-_a-zA-Z0-9]{32}$/);
    const pending = await w.orgA.api.get<DeviceView>(`/api/v1/organization/device?deviceId=${res.body.deviceId}`);
    expect(pending.body).toMatchObject({ orgId: w.orgA.id, ownerUserId: w.orgA.userId, provisioned: false, connected: false });
    expect(pending.body).not.toHaveProperty('templateId');

    const board = boardFor(cloud, res.body.token);
    expect((await board.isConnected()).body).toBe(false);
    const noTemplate = await board.connect();
    expect(noTemplate.status).toBe(400);
    expect((await board.connect('TMPLunknown')).status).toBe(404);
    // The customer's sub-organisation runs its manufacturer's template.
    const done = await board.connect('TMPLflashline1');
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ deviceId: res.body.deviceId, orgId: w.orgA.id, firstConnect: true });
    const device = await w.orgA.api.get<DeviceView>(`/api/v1/organization/device?deviceId=${res.body.deviceId}`);
    expect(device.body).toMatchObject({ provisioned: true, connected: true, templateId: w.templateId, name: 'Flashline Demo Product' });
    expect((await board.isConnected()).body).toBe(true);
    expect((await board.connect()).body).toMatchObject({ firstConnect: false });

    // The token is in that one reply only: the store keeps its SHA-256.
    const dump = JSON.stringify(await cloud.server.store.db.all('SELECT * FROM devices'));
    expect(dump).not.toContain(res.body.token);
    expect(dump).toContain(sha256Hex(res.body.token));
  });

  it('refuses organisations and owners the caller does not manage', async () => {
    expect((await provision(w.orgA.api, w.orgB.id, w.orgB.userId)).status).toBe(404);
    expect((await provision(w.maker, w.orgA.id, w.stranger.userId)).status).toBe(404);
    expect((await provision(w.stranger.api, w.orgA.id, w.orgA.userId)).status).toBe(404);
    expect((await w.maker.post<ErrorBody>('/api/v1/organization/device/provision/token', { orgId: w.orgA.id })).status).toBe(400);
  });

  it('deleting a device that has no static token deletes it for good', async () => {
    const res = await provision(w.maker, w.orgA.id, w.orgA.userId);
    await boardFor(cloud, res.body.token).connect('TMPLflashline1');
    const deleted = await w.orgA.api.del(`/api/v1/organization/device?deviceId=${res.body.deviceId}`);
    expect(deleted.body).toEqual({ deleted: true, unclaimed: false });
    expect((await w.orgA.api.get(`/api/v1/organization/device?deviceId=${res.body.deviceId}`)).status).toBe(404);
    expect((await boardFor(cloud, res.body.token).connect()).status).toBe(404);
  });
  // Last: it moves the clock past every bearer token's lifetime.
  it('an unused provisioning token expires', async () => {
    const res = await provision(w.maker, w.orgB.id, w.orgB.userId);
    cloud.clock.advance(3600 * 1000);
    const board = boardFor(cloud, res.body.token);
    expect((await board.connect('TMPLflashline1')).status).toBe(404);
    expect((await board.isConnected()).status).toBe(404);
  });
});
