import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, generate, startTestCloud, STORE_KINDS, type TestCloud } from '../cloud-test-kit.js';

describe.each(STORE_KINDS)('GET /external/api/isHardwareConnected (%s)', (store) => {
  let cloud: TestCloud;
  let deviceTokens: string[];
  beforeAll(async () => {
    cloud = await startTestCloud({ store });
    const batch = await generate(cloud, await cloud.accessToken(), { count: 2, requestId: 'req-external-1' });
    deviceTokens = batch.body.tokens.map((t) => t.deviceToken);
  });
  afterAll(async () => {
    await cloud?.close();
  });

  const ask = (token: string) => call(`${cloud.url}/external/api/isHardwareConnected?token=${encodeURIComponent(token)}`);
  const device = (action: 'connect' | 'disconnect', token: string) =>
    call(`${cloud.url}/external/api/device/${action}?token=${encodeURIComponent(token)}`, { method: 'POST' });

  it('answers a bare JSON false for a static token whose board never connected', async () => {
    const res = await ask(deviceTokens[0]!);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body).toBe(false);
  });

  it('follows the board connecting and disconnecting', async () => {
    expect((await device('connect', deviceTokens[1]!)).status).toBe(200);
    expect((await ask(deviceTokens[1]!)).body).toBe(true);
    expect((await ask(deviceTokens[0]!)).body).toBe(false);
    expect((await device('disconnect', deviceTokens[1]!)).status).toBe(200);
    expect((await ask(deviceTokens[1]!)).body).toBe(false);
    // The first connect made a device in the token's organisation and linked the static token.
    const row = await cloud.server.store.staticTokens.findByDeviceToken(deviceTokens[1]!);
    expect(row?.deviceId).toBeGreaterThan(0);
  });

  it('answers 404 for an unknown AuthToken without repeating it', async () => {
    const unknown = 'U'.repeat(32);
    for (const res of [await ask(unknown), await device('connect', unknown), await device('disconnect', unknown)]) {
      expect(res.status).toBe(404);
      expect(JSON.stringify(res.body)).not.toContain(unknown);
    }
  });

  it('answers 400 for a missing or malformed token', async () => {
    expect((await call(`${cloud.url}/external/api/isHardwareConnected`)).status).toBe(400);
    const bad = await ask('short');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).not.toContain('short');
  });
});
