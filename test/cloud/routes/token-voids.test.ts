import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boardFor, call, generate, setupWorld, startTestCloud, STORE_KINDS, type ErrorBody, type TestCloud, type World } from '../cloud-test-kit.js';

describe.each(STORE_KINDS)('station endpoints: CSV batches, voided and burned tokens (%s)', (store) => {
  let cloud: TestCloud;
  let w: World;
  let token: string;
  beforeAll(async () => {
    cloud = await startTestCloud({ store });
    w = await setupWorld(cloud);
    token = await cloud.accessToken();
  });
  afterAll(async () => {
    await cloud?.close();
  });

  const voidsUrl = () => `${cloud.url}/api/v1/station/token-voids`;
  const push = (voids: unknown[]) => call<{ accepted: number; duplicates: number } & ErrorBody>(voidsUrl(), { token, json: { voids } });
  const entry = (qrToken: string, reason: 'voided' | 'burned') => ({ qrToken, reason, stationId: 'station-1', voidedAt: 1_790_000_000_000 });

  it('generates one token per CSV row with its metadata, idempotently by requestId', async () => {
    const csv = 'Serial Number,Manufacturing Batch\nA-1,B7\nA-2,B7\n';
    const body = { templateId: w.templateId, stationId: 'station-1', requestId: `csv-req-${store}`, csv };
    const first = await call<{ tokens: { metadata: Record<string, string> }[] }>(`${cloud.url}/api/v1/organization/static-tokens/generate`, { token, json: body });
    expect(first.status).toBe(201);
    expect(first.body.tokens.map((t) => t.metadata['Serial Number'])).toEqual(['A-1', 'A-2']);
    const again = await call(`${cloud.url}/api/v1/organization/static-tokens/generate`, { token, json: body });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    const changed = await call(`${cloud.url}/api/v1/organization/static-tokens/generate`, { token, json: { ...body, csv: `${csv}A-3,B7\n` } });
    expect(changed.status).toBe(409);
    const both = await call(`${cloud.url}/api/v1/organization/static-tokens/generate`, { token, json: { ...body, requestId: 'csv-req-both', count: 2 } });
    expect(both.status).toBe(400);
    const wrongHeaders = await call<ErrorBody>(`${cloud.url}/api/v1/organization/static-tokens/generate`, {
      token,
      json: { ...body, requestId: 'csv-req-bad', csv: 'serial number,Manufacturing Batch\nA,B\n' },
    });
    expect(wrongHeaders.status).toBe(422);
    expect(wrongHeaders.body.error.code).toBe('INVALID_CSV');
  });

  it('records voided and burned tokens idempotently; a retired AuthToken never connects or claims', async () => {
    const batch = await generate(cloud, token, { count: 4, requestId: `void-req-${store}` });
    const [a, b, c] = batch.body.tokens;
    expect((await push([entry(a!.token, 'voided'), entry(b!.token, 'burned')])).body).toEqual({ accepted: 2, duplicates: 0 });
    expect((await push([entry(a!.token, 'voided'), entry(b!.token, 'burned'), entry(c!.token, 'voided')])).body).toEqual({
      accepted: 1,
      duplicates: 2,
    });
    // The other reason for the same token: a conflict, and nothing of that push is stored.
    const conflict = await push([entry(batch.body.tokens[3]!.token, 'voided'), entry(a!.token, 'burned')]);
    expect(conflict.status).toBe(409);
    expect((await push([entry(batch.body.tokens[3]!.token, 'burned')])).body).toEqual({ accepted: 1, duplicates: 0 });

    for (const t of [a!, b!]) {
      const board = boardFor(cloud, t.deviceToken);
      expect((await board.connect()).status).toBe(404);
      expect((await board.isConnected()).status).toBe(404);
      const claim = await w.maker.post<ErrorBody>('/api/v1/organization/static-tokens/claim', { token: t.token, userId: w.orgA.userId });
      expect(claim.status).toBe(409);
    }
  });

  it('refuses tokens of other organisations and malformed entries', async () => {
    const stranger = await w.stranger.api.post<ErrorBody>('/api/v1/station/token-voids', {
      voids: [entry((await generate(cloud, token, { count: 1, requestId: `void-other-${store}` })).body.tokens[0]!.token, 'voided')],
    });
    expect(stranger.status).toBe(404);
    for (const voids of [[], [{ ...entry(`sqr_${'a'.repeat(32)}`, 'voided'), reason: 'lost' }], [{ qrToken: 'x' }]]) {
      expect((await push(voids)).status).toBe(400);
    }
  });
});
