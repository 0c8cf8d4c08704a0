import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StationError } from '../../../common/errors.js';
import { FlashlineCloudClient } from '../../../core/cloud/cloud-client.js';
import { boardFor, setupWorld, startTestCloud, STORE_KINDS, type TestCloud, type World } from '../../cloud/cloud-test-kit.js';

describe.each(STORE_KINDS)('FlashlineCloudClient: the static-token lifecycle against the real cloud (%s)', (store) => {
  let cloud: TestCloud;
  let w: World;
  let client: FlashlineCloudClient;
  beforeAll(async () => {
    cloud = await startTestCloud({ store });
    w = await setupWorld(cloud);
    client = new FlashlineCloudClient({
      baseUrl: cloud.url,
      clientId: cloud.server.seed.clientId,
      clientSecret: cloud.server.seed.clientSecret,
      stationId: 'station-9',
      now: cloud.clock.now,
    });
  });
  afterAll(async () => {
    await cloud?.close();
  });

  const fresh = async (count: number, requestId: string) => (await client.pullBatch({ count, templateId: w.templateId, requestId })).tokens;

  it('claims, unclaims, disclaims and deletes', async () => {
    const [a, b] = await fresh(2, 'lc-client-1');
    const claimed = await client.claim({ token: `${a!.token}+${w.makerOrgId}`, userId: w.orgA.userId });
    expect(claimed).toMatchObject({ orgId: w.orgA.id, ownerUserId: w.orgA.userId });
    const again = await client.claim({ token: a!.token, userId: w.orgB.userId }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(StationError);
    expect((again as StationError).code).toBe('CLOUD_REJECTED');
    expect((again as StationError).details).toMatchObject({ status: 409, serverCode: 'CONFLICT' });
    expect(await client.unclaim(a!.token)).toMatchObject({ token: a!.token, status: 'UNCLAIMED' });
    await client.claim({ token: a!.token, userId: w.orgB.userId });
    expect(await client.disclaim(a!.token)).toMatchObject({ status: 'UNCLAIMED' });
    expect((await boardFor(cloud, a!.deviceToken).connect()).body.orgId).toBe(w.makerOrgId);
    expect(await client.deleteStaticToken(a!.token)).toEqual({ deletedDeviceId: claimed.id });
    expect(await client.deleteStaticToken(b!.token)).toEqual({ deletedDeviceId: null });
    expect((await boardFor(cloud, b!.deviceToken).connect()).status).toBe(404);
  });

  it('asks for provisioning tokens and pushes voids idempotently', async () => {
    const made = await client.provisionToken({ orgId: w.orgA.id, ownerId: w.orgA.userId });
    expect(made.token).toMatch(/^[-_a-zA-Z0-9]{32}$/);
    expect((await boardFor(cloud, made.token).connect('TMPLflashline1')).body.deviceId).toBe(made.deviceId);
    const tokens = await fresh(3, 'lc-client-2');
    const voids = tokens.map((t, i) => ({ qrToken: t.token, reason: i === 0 ? ('burned' as const) : ('voided' as const), stationId: 'station-9', voidedAt: 5 }));
    expect(await client.pushTokenVoids(voids)).toEqual({ accepted: 3, duplicates: 0 });
    expect(await client.pushTokenVoids(voids)).toEqual({ accepted: 0, duplicates: 3 });
    for (const t of tokens) expect((await boardFor(cloud, t.deviceToken).connect()).status).toBe(404);
  });
});
