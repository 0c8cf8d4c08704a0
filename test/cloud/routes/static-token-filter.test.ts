import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, generate, startTestCloud, type TestCloud } from '../cloud-test-kit.js';

interface Page {
  content: { token: string; status: string; orgId: number }[];
  totalElements: number;
}

/** `GET /api/v1/organization/static-tokens?token=sqr_…`: the station's one-token lookup (cloud check). */
describe('static-token list filtered by QR token', () => {
  let cloud: TestCloud;
  let bearer: string;
  let qrTokens: string[];
  const list = (query: string) => call<Page>(`${cloud.url}/api/v1/organization/static-tokens${query}`, { token: bearer });

  beforeAll(async () => {
    cloud = await startTestCloud();
    bearer = await cloud.accessToken();
    qrTokens = (await generate(cloud, bearer, { count: 3, requestId: 'req-filter-0001' })).body.tokens.map((t) => t.token);
  });
  afterAll(async () => cloud?.close());

  it('answers the one token asked for', async () => {
    const res = await list(`?token=${qrTokens[1]}`);
    expect(res.status).toBe(200);
    expect(res.body.totalElements).toBe(1);
    expect(res.body.content.map((t) => [t.token, t.status])).toEqual([[qrTokens[1], 'UNCLAIMED']]);
  });

  it('answers an empty page for a token the organisation does not have, and refuses a malformed one', async () => {
    const unknown = await list(`?token=sqr_${'a'.repeat(32)}`);
    expect(unknown.body).toEqual({ content: [], totalElements: 0 });
    expect((await list('?token=nope')).status).toBe(400);
  });
});
