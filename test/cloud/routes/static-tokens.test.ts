import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toStaticTokenView, type StaticTokenView } from '../../../cloud/routes/static-tokens.js';
import { call, generate, startTestCloud, STORE_KINDS, type TestCloud } from '../cloud-test-kit.js';

const AUTH_TOKEN = /^[-_a-zA-Z0-9]{32}$/;
const QR_TOKEN = /^sqr_[a-zA-Z0-9]{32}$/;

describe.each(STORE_KINDS)('static tokens (%s)', (store) => {
  let cloud: TestCloud;
  let token: string;
  const listUrl = (query = '') => `${cloud.url}/api/v1/organization/static-tokens${query}`;
  const useCloud = () => {
    beforeAll(async () => {
      cloud = await startTestCloud({ store });
      token = await cloud.accessToken();
    });
    afterAll(async () => {
      await cloud?.close();
    });
  };
  const tokensOfRequest = async (requestId: string) =>
    (await cloud.server.store.db.get<{ n: number }>(
      'SELECT COUNT(*) AS n FROM static_tokens s JOIN token_batches b ON b.id = s.batch_id WHERE b.request_id = ?',
      [requestId],
    ))!.n;

  describe('POST /api/v1/organization/static-tokens/generate', () => {
    useCloud();

    it('returns a new batch of fresh token pairs for the template', async () => {
      const res = await generate(cloud, token, { count: 5, requestId: 'req-shape-0001' });
      expect(res.status).toBe(201);
      expect(res.body.batchId).toMatch(/^bat_[a-zA-Z0-9]{16}$/);
      expect(res.body.templateId).toBe(cloud.server.seed.templateId);
      expect(res.body.orgId).toBe(cloud.server.seed.orgId);
      expect(res.body.tokens).toHaveLength(5);
      for (const t of res.body.tokens) {
        expect(Object.keys(t).sort()).toEqual(['createdAt', 'deviceToken', 'token']);
        expect(t.deviceToken).toMatch(AUTH_TOKEN);
        expect(t.token).toMatch(QR_TOKEN);
        expect(t.createdAt).toBe(cloud.clock.ms);
      }
    });

    it('never repeats a token across two batches of 1000', async () => {
      const a = await generate(cloud, token, { count: 1000, requestId: 'req-unique-a' });
      const b = await generate(cloud, token, { count: 1000, requestId: 'req-unique-b' });
      expect([a.status, b.status]).toEqual([201, 201]);
      expect(a.body.batchId).not.toBe(b.body.batchId);
      const all = [...a.body.tokens, ...b.body.tokens];
      expect(all).toHaveLength(2000);
      expect(new Set(all.map((t) => t.deviceToken)).size).toBe(2000);
      expect(new Set(all.map((t) => t.token)).size).toBe(2000);
      expect(all.every((t) => AUTH_TOKEN.test(t.deviceToken) && QR_TOKEN.test(t.token))).toBe(true);
      // Each AuthToken character position should see most of the 64-symbol alphabet (it is random).
      const firstChars = new Set(all.map((t) => t.deviceToken[0]));
      expect(firstChars.size).toBeGreaterThan(55);
    });

    it('returns the same batch again for the same requestId and makes no second one', async () => {
      const first = await generate(cloud, token, { count: 7, requestId: 'req-idem-0001' });
      cloud.clock.advance(60_000);
      const again = await generate(cloud, token, { count: 7, requestId: 'req-idem-0001' });
      expect(first.status).toBe(201);
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
      expect(await tokensOfRequest('req-idem-0001')).toBe(7);
      expect(await cloud.server.store.db.get('SELECT COUNT(*) AS n FROM token_batches WHERE request_id = ?', ['req-idem-0001'])).toEqual({
        n: 1,
      });
    });

    it('answers concurrent requests with one requestId with one batch', async () => {
      const replies = await Promise.all(Array.from({ length: 6 }, () => generate(cloud, token, { count: 5, requestId: 'req-race-0001' })));
      expect(replies.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 201]);
      for (const reply of replies) expect(reply.body).toEqual(replies[0]!.body);
      expect(await tokensOfRequest('req-race-0001')).toBe(5);
    });

    it('refuses a reused requestId with different parameters (409) without making tokens', async () => {
      await generate(cloud, token, { count: 3, requestId: 'req-conflict-1' });
      const other = await generate(cloud, token, { count: 4, requestId: 'req-conflict-1' });
      expect(other.status).toBe(409);
      expect((other.body as unknown as { error: { code: string } }).error.code).toBe('CONFLICT');
      expect(await tokensOfRequest('req-conflict-1')).toBe(3);
    });

    it.each([
      ['count 0', { count: 0 }],
      ['count 1001', { count: 1001 }],
      ['fractional count', { count: 1.5 }],
      ['count as a string', { count: '5' }],
      ['short requestId', { requestId: 'abc' }],
      ['stationId with a space', { stationId: 'line 1' }],
      ['missing templateId', { templateId: undefined }],
    ])('refuses %s with 400 INVALID_INPUT', async (_name, patch) => {
      const body = { templateId: 1, count: 5, stationId: 'station-1', requestId: 'req-bad-input', ...patch };
      const res = await call<{ error: { code: string; message: string } }>(`${cloud.url}/api/v1/organization/static-tokens/generate`, {
        token,
        json: body,
      });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('INVALID_INPUT');
      expect(res.body.error.message.length).toBeGreaterThan(10);
    });

    it('answers 404 for a template that is not the organisation’s', async () => {
      const res = await generate(cloud, token, { templateId: 99, count: 1, requestId: 'req-no-template' });
      expect(res.status).toBe(404);
    });
  });

  describe('GET /api/v1/organization/static-tokens', () => {
    useCloud();
    let made: Awaited<ReturnType<typeof generate>>;
    beforeAll(async () => {
      made = await generate(cloud, token, { count: 120, requestId: 'req-paging-01' });
    });

    it('pages through the organisation’s tokens in creation order with Blynk’s field names', async () => {
      const pages: StaticTokenView[][] = [];
      for (const page of [0, 1, 2, 3]) {
        const res = await call<{ content: StaticTokenView[]; totalElements: number }>(listUrl(`?page=${page}&size=50`), { token });
        expect(res.status).toBe(200);
        expect(res.body.totalElements).toBe(120);
        pages.push(res.body.content);
      }
      expect(pages.map((p) => p.length)).toEqual([50, 50, 20, 0]);
      const listed = pages.flat();
      expect(listed.map((t) => t.token)).toEqual(made.body.tokens.map((t) => t.token));
      expect(listed.map((t) => t.deviceToken)).toEqual(made.body.tokens.map((t) => t.deviceToken));
      expect(listed[0]).toEqual({
        token: made.body.tokens[0]!.token,
        orgId: 1,
        productId: 1,
        deviceToken: made.body.tokens[0]!.deviceToken,
        createdAt: cloud.clock.ms,
        status: 'UNCLAIMED',
      });
    });

    it('defaults to page 0 of 50 and accepts its own orgId', async () => {
      const res = await call<{ content: StaticTokenView[]; totalElements: number }>(listUrl('?orgId=1'), { token });
      expect(res.status).toBe(200);
      expect(res.body.content).toHaveLength(50);
      expect(res.body.content[0]?.token).toBe(made.body.tokens[0]?.token);
      expect(res.body.totalElements).toBe(120);
    });

    it.each(['?size=0', '?size=1001', '?page=-1', '?page=x', '?orgId=abc'])('refuses %s with 400', async (query) => {
      const res = await call<{ error: { code: string } }>(listUrl(query), { token });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('INVALID_INPUT');
    });

    it('does not list another organisation’s tokens (404) and never shows them to its client', async () => {
      const state = cloud.server.store;
      const other = await state.orgs.createOrg({ name: 'Unrelated Org', parentId: null }, cloud.clock.ms);
      await state.oauth.upsertClient({ clientId: 'org2-client', orgId: other.id, secret: 'org2-secret-value' }, cloud.clock.ms);
      const tokenRes = await fetch(`${cloud.url}/oauth2/token?grant_type=client_credentials`, {
        method: 'POST',
        headers: { authorization: cloud.basicAuth('org2-client', 'org2-secret-value') },
      });
      const org2Token = ((await tokenRes.json()) as { access_token: string }).access_token;

      const foreign = await call(listUrl('?orgId=1'), { token: org2Token });
      expect(foreign.status).toBe(404);
      const own = await call<{ content: unknown[]; totalElements: number }>(listUrl(), { token: org2Token });
      expect(own.body).toEqual({ content: [], totalElements: 0 });
      // Org 2 cannot generate on org 1's template either.
      const gen = await generate(cloud, org2Token, { count: 1, requestId: 'req-org-two-1' });
      expect(gen.status).toBe(404);
    });
  });

  it('toStaticTokenView shows the AuthToken to the owning organisation only', () => {
    const row = {
      id: 1,
      qrToken: 'sqr_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      deviceToken: 'BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB',
      orgId: 1,
      templateId: 3,
      batchId: 'bat_x',
      createdAt: 5,
      status: 'CLAIMED' as const,
      ownerId: 44,
      deviceId: 9,
      claimedOrgId: 2,
      metadata: null,
      deletedAt: null,
      voidReason: null,
    };
    expect(toStaticTokenView(row, true).deviceToken).toBe(row.deviceToken);
    const foreign = toStaticTokenView(row, false);
    expect(foreign).not.toHaveProperty('deviceToken');
    expect(JSON.stringify(foreign)).not.toContain(row.deviceToken);
    expect(foreign).toEqual({
      token: row.qrToken,
      orgId: 1,
      productId: 3,
      createdAt: 5,
      status: 'CLAIMED',
      ownerId: 44,
      deviceId: 9,
      claimedOrgId: 2,
    });
  });
});
