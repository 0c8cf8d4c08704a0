import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFor, boardFor, call, makeTokens, setupWorld, startTestCloud, type TestCloud, type World } from './cloud-test-kit.js';

/** AuthTokens are secrets: the whole lifecycle runs and none reaches the log or an error message. */
describe('no secret in the log or in an error, across the lifecycle', () => {
  let cloud: TestCloud;
  let w: World;
  beforeAll(async () => {
    cloud = await startTestCloud();
    w = await setupWorld(cloud);
  });
  afterAll(async () => {
    await cloud?.close();
  });

  it('keeps AuthTokens, provisioning tokens and client secrets out of every log line and error reply', async () => {
    const secrets: string[] = [cloud.server.seed.clientSecret];
    const errors: unknown[] = [];
    const batch = await makeTokens(w, 3);
    secrets.push(...batch.tokens.map((t) => t.deviceToken));
    const [a, b, c] = batch.tokens;
    const client = await w.maker.post<{ clientId: string; clientSecret: string }>('/api/v1/organization/oauth/clients/create', { name: 'log test' });
    secrets.push(client.body.clientSecret);
    const provision = await w.maker.post<{ token: string }>('/api/v1/organization/device/provision/token', { orgId: w.orgA.id, ownerId: w.orgA.userId });
    secrets.push(provision.body.token);

    await boardFor(cloud, a!.deviceToken).connect();
    await boardFor(cloud, a!.deviceToken).setMeta('Serial Number', b!.deviceToken);
    errors.push((await boardFor(cloud, a!.deviceToken).setMeta(c!.deviceToken, 'x')).body);
    await boardFor(cloud, provision.body.token).connect('TMPLflashline1');
    await w.maker.post('/api/v1/organization/static-tokens/claim', { token: a!.token, userId: w.orgA.userId });
    errors.push((await w.maker.post('/api/v1/organization/static-tokens/claim', { token: a!.token, userId: w.orgB.userId })).body);
    errors.push((await w.maker.post('/api/v1/organization/static-tokens/claim', { token: c!.deviceToken, userId: 1 })).body);
    // A CSV whose header is somebody's AuthToken: the 422 names headers, but never a token.
    errors.push((await w.maker.post('/api/v1/organization/static-tokens/import', { templateId: w.templateId, csv: `${c!.deviceToken},x\n1,2\n` })).body);
    const zip = await fetch(`${cloud.url}/api/v1/organization/static-tokens/export?batchId=${batch.batchId}`, {
      headers: { authorization: `Bearer ${await cloud.accessToken()}` },
    });
    expect(zip.status).toBe(200);
    await w.maker.del(`/api/v1/organization/static-tokens?token=${b!.token}`);
    errors.push((await boardFor(cloud, b!.deviceToken).connect()).body);
    errors.push((await call(`${cloud.url}/api/v1/organization/devices`, { token: c!.deviceToken })).body);
    errors.push((await apiFor(cloud, provision.body.token).get('/api/v1/organization')).body);

    const log = cloud.logs.join('\n');
    expect(cloud.logs.length).toBeGreaterThan(20);
    expect(secrets.filter((s) => log.includes(s))).toEqual([]);
    const errorText = JSON.stringify(errors);
    expect(errorText).toContain('"code"');
    expect(secrets.filter((s) => errorText.includes(s))).toEqual([]);
  });
});
