import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StaticTokenView } from '../../../cloud/routes/views.js';
import { boardFor, makeTokens, setupWorld, startTestCloud, STORE_KINDS, type ErrorBody, type TestCloud, type World } from '../cloud-test-kit.js';

interface DeviceView {
  id: number;
  name: string;
  templateId?: number;
  orgId?: number;
  ownerUserId?: number;
  connected: boolean;
  staticToken: boolean;
}
interface Page<T> {
  content: T[];
  totalElements: number;
}

/** The static-token lifecycle after the factory, over real HTTP, on each store. */
describe.each(STORE_KINDS)('static-token lifecycle: connect, claim, unclaim, disclaim, delete (%s)', (store) => {
  let cloud: TestCloud;
  let w: World;
  beforeAll(async () => {
    cloud = await startTestCloud({ store });
    w = await setupWorld(cloud);
  });
  afterAll(async () => {
    await cloud?.close();
  });

  const tokenView = async (qr: string): Promise<StaticTokenView | undefined> => {
    const list = await w.maker.get<Page<StaticTokenView>>('/api/v1/organization/static-tokens?size=1000');
    return list.body.content.find((t) => t.token === qr);
  };
  const devicesOf = async (api: World['maker'], orgId: number) =>
    (await api.get<Page<DeviceView>>(`/api/v1/organization/devices?orgId=${orgId}&size=1000`)).body.content;
  const claim = (api: World['maker'], token: string, userId: number) =>
    api.post<DeviceView & ErrorBody>('/api/v1/organization/static-tokens/claim', { token, userId });

  it('a first connect puts the device, unclaimed, in the creating organisation', async () => {
    const [t] = (await makeTokens(w, 1)).tokens;
    const board = boardFor(cloud, t!.deviceToken);
    expect((await board.isConnected()).body).toBe(false);
    const connected = await board.connect();
    expect(connected.status).toBe(200);
    expect(connected.body).toMatchObject({ firstConnect: true, orgId: w.makerOrgId });
    expect((await board.isConnected()).body).toBe(true);
    const device = (await devicesOf(w.maker, w.makerOrgId)).find((d) => d.id === connected.body.deviceId);
    expect(device).toMatchObject({ orgId: w.makerOrgId, connected: true, staticToken: true, templateId: w.templateId });
    expect(device).not.toHaveProperty('ownerUserId');
    expect(await tokenView(t!.token)).toMatchObject({ status: 'UNCLAIMED', deviceId: connected.body.deviceId });
    // Connecting again is not a first connect and keeps the device.
    expect((await board.connect()).body).toMatchObject({ firstConnect: false, deviceId: connected.body.deviceId });
    await board.disconnect();
    expect((await board.isConnected()).body).toBe(false);
  });

  it('claim by plain QR token moves the device to the user’s organisation; nobody else can claim it', async () => {
    const [t] = (await makeTokens(w, 1)).tokens;
    const { deviceId } = (await boardFor(cloud, t!.deviceToken).connect()).body;
    const claimed = await claim(w.maker, t!.token, w.orgA.userId);
    expect(claimed.status).toBe(200);
    expect(claimed.body).toMatchObject({ id: deviceId, orgId: w.orgA.id, ownerUserId: w.orgA.userId });
    expect(await tokenView(t!.token)).toMatchObject({ status: 'CLAIMED', ownerId: w.orgA.userId, claimedOrgId: w.orgA.id, deviceId });
    expect((await devicesOf(w.orgA.api, w.orgA.id)).map((d) => d.id)).toContain(deviceId);
    expect((await devicesOf(w.maker, w.makerOrgId)).map((d) => d.id)).not.toContain(deviceId);

    for (const [api, user] of [
      [w.maker, w.orgB.userId],
      [w.maker, w.orgA.userId],
    ] as const) {
      const again = await claim(api, t!.token, user);
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('CONFLICT');
    }
    expect(await tokenView(t!.token)).toMatchObject({ ownerId: w.orgA.userId, claimedOrgId: w.orgA.id });
  });

  it('of many claims racing for one token, exactly one wins', async () => {
    const [t] = (await makeTokens(w, 1)).tokens;
    const users = [w.orgA.userId, w.orgB.userId, w.orgA.userId, w.orgB.userId, w.orgA.userId, w.orgB.userId];
    const replies = await Promise.all(users.map((u) => claim(w.maker, t!.token, u)));
    expect(replies.map((r) => r.status).sort()).toEqual([200, 409, 409, 409, 409, 409]);
    const winner = replies.find((r) => r.status === 200)!;
    expect(await tokenView(t!.token)).toMatchObject({ status: 'CLAIMED', ownerId: winner.body.ownerUserId, deviceId: winner.body.id });
    const devices = await cloud.server.store.db.all('SELECT id FROM devices WHERE static_token_id = (SELECT id FROM static_tokens WHERE qr_token = ?)', [t!.token]);
    expect(devices).toHaveLength(1);
  });

  it('claim accepts the label’s "{qrToken}+{orgId}" form and refuses a wrong orgId', async () => {
    const [t, u] = (await makeTokens(w, 2)).tokens;
    const wrong = await claim(w.maker, `${t!.token}+${w.orgB.id}`, w.orgA.userId);
    expect(wrong.status).toBe(404);
    const ok = await claim(w.maker, `${t!.token}+${w.makerOrgId}`, w.orgA.userId);
    expect(ok.status).toBe(200);
    // Before the board ever connected: the device is made in the user's organisation and stays there.
    expect(ok.body).toMatchObject({ orgId: w.orgA.id, ownerUserId: w.orgA.userId, connected: false });
    const connected = await boardFor(cloud, t!.deviceToken).connect();
    expect(connected.body).toMatchObject({ deviceId: ok.body.id, orgId: w.orgA.id });
    expect((await claim(w.maker, `  ${u!.token}  `, w.orgA.userId)).status).toBe(400);
    expect((await claim(w.maker, `${u!.token}+x`, w.orgA.userId)).status).toBe(400);
  });

  it('a client that does not manage the token’s organisation or the user cannot claim', async () => {
    const [t] = (await makeTokens(w, 1)).tokens;
    // A customer sub-organisation does not manage its manufacturer.
    const byCustomer = await claim(w.orgA.api, t!.token, w.orgA.userId);
    expect(byCustomer.status).toBe(404);
    const byStranger = await claim(w.stranger.api, t!.token, w.stranger.userId);
    expect(byStranger.status).toBe(404);
    const foreignUser = await claim(w.maker, t!.token, w.stranger.userId);
    expect(foreignUser.status).toBe(404);
    expect(foreignUser.body.error.message).toMatch(/user/i);
    expect(await tokenView(t!.token)).toMatchObject({ status: 'UNCLAIMED' });
  });

  it('never shows the AuthToken to the claimant’s organisation', async () => {
    const [t] = (await makeTokens(w, 1)).tokens;
    await boardFor(cloud, t!.deviceToken).connect();
    const claimed = await claim(w.maker, t!.token, w.orgA.userId);
    const replies = [
      claimed,
      await w.orgA.api.get(`/api/v1/organization/device?deviceId=${claimed.body.id}`),
      await w.orgA.api.get(`/api/v1/organization/devices`),
      await w.orgA.api.get(`/api/v1/organization/static-tokens`),
      await w.orgA.api.get(`/api/v1/organization/static-tokens?orgId=${w.makerOrgId}`),
      await w.orgA.api.post('/api/v1/organization/static-tokens/unclaim', { token: t!.token }),
    ];
    expect(replies[4]!.status).toBe(404);
    expect(JSON.stringify(replies.map((r) => r.body))).not.toContain(t!.deviceToken);
    // The manufacturer, which made it, does see it.
    expect((await tokenView(t!.token))?.deviceToken).toBe(t!.deviceToken);
  });

  it('the owner deleting the device makes it unclaimed, back in the creating organisation', async () => {
    const [t] = (await makeTokens(w, 1)).tokens;
    const claimed = await claim(w.maker, t!.token, w.orgA.userId);
    const deleted = await w.orgA.api.del<{ deleted: boolean; unclaimed: boolean }>(`/api/v1/organization/device?deviceId=${claimed.body.id}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ deleted: true, unclaimed: true });
    expect(await tokenView(t!.token)).toMatchObject({ status: 'UNCLAIMED', deviceId: claimed.body.id });
    expect(await tokenView(t!.token)).not.toHaveProperty('ownerId');
    expect((await devicesOf(w.orgA.api, w.orgA.id)).map((d) => d.id)).not.toContain(claimed.body.id);
    const back = (await devicesOf(w.maker, w.makerOrgId)).find((d) => d.id === claimed.body.id);
    expect(back).toBeDefined();
    expect(back).not.toHaveProperty('ownerUserId');
    // Unclaimed again: another customer can claim it now.
    expect((await claim(w.maker, t!.token, w.orgB.userId)).body).toMatchObject({ orgId: w.orgB.id, id: claimed.body.id });
    // Another organisation's client cannot delete it.
    expect((await w.orgA.api.del(`/api/v1/organization/device?deviceId=${claimed.body.id}`)).status).toBe(404);
  });

  it('unclaim returns the device to the creating organisation; a second unclaim is a conflict', async () => {
    const [t] = (await makeTokens(w, 1)).tokens;
    const claimed = await claim(w.maker, t!.token, w.orgA.userId);
    const unclaimed = await w.orgA.api.post<StaticTokenView>('/api/v1/organization/static-tokens/unclaim', { token: t!.token });
    expect(unclaimed.status).toBe(200);
    expect(unclaimed.body).toMatchObject({ token: t!.token, status: 'UNCLAIMED' });
    expect((await devicesOf(w.maker, w.makerOrgId)).map((d) => d.id)).toContain(claimed.body.id);
    const again = await w.maker.post<ErrorBody>('/api/v1/organization/static-tokens/unclaim', { token: t!.token });
    expect(again.status).toBe(409);
    await claim(w.maker, t!.token, w.orgA.userId);
    expect((await w.maker.post('/api/v1/organization/static-tokens/unclaim', { token: `${t!.token}+${w.orgA.id}` })).status).toBe(404);
    expect((await w.maker.post('/api/v1/organization/static-tokens/unclaim', { token: `${t!.token}+${w.makerOrgId}` })).status).toBe(200);
    expect((await w.stranger.api.post('/api/v1/organization/static-tokens/unclaim', { token: t!.token })).status).toBe(404);
  });

  it('disclaim (creating organisation only) takes the device out of every organisation until it connects again', async () => {
    const [t] = (await makeTokens(w, 1)).tokens;
    const board = boardFor(cloud, t!.deviceToken);
    await board.connect();
    const claimed = await claim(w.maker, t!.token, w.orgA.userId);
    expect((await w.orgA.api.post('/api/v1/organization/static-tokens/disclaim', { token: t!.token })).status).toBe(404);
    const disclaimed = await w.maker.post<StaticTokenView>('/api/v1/organization/static-tokens/disclaim', { token: t!.token });
    expect(disclaimed.status).toBe(200);
    expect(disclaimed.body.status).toBe('UNCLAIMED');
    expect((await devicesOf(w.orgA.api, w.orgA.id)).map((d) => d.id)).not.toContain(claimed.body.id);
    expect((await devicesOf(w.maker, w.makerOrgId)).map((d) => d.id)).not.toContain(claimed.body.id);
    expect((await w.maker.get(`/api/v1/organization/device?deviceId=${claimed.body.id}`)).status).toBe(404);
    expect((await board.isConnected()).body).toBe(false);
    const reconnected = await board.connect();
    expect(reconnected.body).toMatchObject({ deviceId: claimed.body.id, orgId: w.makerOrgId, firstConnect: false });
    const home = (await devicesOf(w.maker, w.makerOrgId)).find((d) => d.id === claimed.body.id);
    expect(home).toBeDefined();
    expect(home).not.toHaveProperty('ownerUserId');
  });

  it('deleting a claimed token deletes its device for good and refuses its AuthToken', async () => {
    const [t] = (await makeTokens(w, 1)).tokens;
    const board = boardFor(cloud, t!.deviceToken);
    await board.connect();
    const claimed = await claim(w.maker, t!.token, w.orgA.userId);
    expect((await w.orgA.api.del(`/api/v1/organization/static-tokens?token=${t!.token}`)).status).toBe(404);
    const deleted = await w.maker.del<{ deleted: boolean; deletedDeviceId: number }>(`/api/v1/organization/static-tokens?token=${t!.token}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ deleted: true, deletedDeviceId: claimed.body.id });
    expect((await w.orgA.api.get(`/api/v1/organization/device?deviceId=${claimed.body.id}`)).status).toBe(404);
    expect((await devicesOf(w.orgA.api, w.orgA.id)).map((d) => d.id)).not.toContain(claimed.body.id);
    expect(await tokenView(t!.token)).toBeUndefined();
    for (const res of [await board.connect(), await board.isConnected(), await board.setMeta('Serial Number', 'x')]) {
      expect(res.status).toBe(404);
      expect(JSON.stringify(res.body)).not.toContain(t!.deviceToken);
    }
    expect((await claim(w.maker, t!.token, w.orgB.userId)).status).toBe(404);
    expect((await w.maker.del(`/api/v1/organization/static-tokens?token=${t!.token}`)).status).toBe(404);
  });

  it('deleting an unclaimed token means its board can no longer connect', async () => {
    const [t, never] = (await makeTokens(w, 2)).tokens;
    const board = boardFor(cloud, t!.deviceToken);
    expect((await board.connect()).status).toBe(200);
    expect((await w.maker.del(`/api/v1/organization/static-tokens?token=${t!.token}`)).status).toBe(200);
    expect((await board.connect()).status).toBe(404);
    expect((await board.isConnected()).status).toBe(404);
    // One that never connected cannot start now either.
    expect((await w.maker.del(`/api/v1/organization/static-tokens?token=${never!.token}`)).status).toBe(200);
    expect((await boardFor(cloud, never!.deviceToken).connect()).status).toBe(404);
  });

  it('a device updates its metadata by field name (case-sensitive) as Blynk’s meta/update does', async () => {
    const [t] = (await makeTokens(w, 1)).tokens;
    const board = boardFor(cloud, t!.deviceToken);
    const { deviceId } = (await board.connect()).body;
    const ok = await board.setMeta('Serial Number', 'SN-0042');
    expect(ok.status).toBe(200);
    expect(ok.body).toBeUndefined();
    expect((await w.maker.get(`/api/v1/organization/device/metafield?deviceId=${deviceId}`)).body).toEqual({ 'Serial Number': 'SN-0042' });
    const wrongCase = await board.setMeta('serial number', 'SN-1');
    expect(wrongCase.status).toBe(404);
    expect((wrongCase.body as ErrorBody).error.message).toBe("MetaField doesn't exist.");
    expect((await board.setMeta('Serial Number', 'x'.repeat(256))).status).toBe(400);
    expect((await w.orgA.api.get(`/api/v1/organization/device/metafield?deviceId=${deviceId}`)).status).toBe(404);
  });
});
