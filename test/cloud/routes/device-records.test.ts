import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { call, generate, startTestCloud, STORE_KINDS, type TestCloud } from '../cloud-test-kit.js';

interface Reply {
  accepted?: number;
  duplicates?: number;
  error?: { code: string; message: string };
}

describe.each(STORE_KINDS)('POST /api/v1/station/device-records (%s)', (store) => {
  let cloud: TestCloud;
  let token: string;
  let qr: string[];
  let batchId: string;
  let run = 0;
  beforeAll(async () => {
    cloud = await startTestCloud({ store });
    token = await cloud.accessToken();
  });
  // Each test works on its own fresh batch and its own record ids, so tests share one server.
  beforeEach(async () => {
    run++;
    const batch = await generate(cloud, token, { count: 6, requestId: `req-records-${run}` });
    batchId = batch.body.batchId;
    qr = batch.body.tokens.map((t) => t.token);
  });
  afterAll(async () => {
    await cloud?.close();
  });

  const passed = (i: number, patch: Record<string, unknown> = {}) => ({
    recordId: `rec-run${run}-${i}`,
    qrToken: qr[i],
    mac: `24:6f:28:00:00:0${i}`,
    chip: 'ESP32',
    stationId: 'station-1',
    result: 'passed',
    payloadSha256: 'a'.repeat(64),
    firmwareVersion: '1.2.3',
    labelRef: { sheetId: 'sheet-1', position: i },
    completedAt: 1_790_000_000_000 + i,
    ...patch,
  });
  const push = (records: unknown[]) =>
    call<Reply>(`${cloud.url}/api/v1/station/device-records`, { token, json: { records } });
  /** Records stored for this test's batch. */
  const stored = async () =>
    (await cloud.server.store.db.get<{ n: number }>(
      'SELECT COUNT(*) AS n FROM device_records r JOIN static_tokens s ON s.id = r.static_token_id WHERE s.batch_id = ?',
      [batchId],
    ))!.n;
  const storedRows = () =>
    cloud.server.store.db.all(
      'SELECT r.* FROM device_records r JOIN static_tokens s ON s.id = r.static_token_id WHERE s.batch_id = ? ORDER BY record_id',
      [batchId],
    );

  it('stores new records and counts a resend as duplicates without changing anything', async () => {
    const records = [passed(0), passed(1)];
    expect((await push(records)).body).toEqual({ accepted: 2, duplicates: 0 });
    const before = await storedRows();
    expect(before).toHaveLength(2);
    cloud.clock.advance(5_000);
    expect((await push(records)).body).toEqual({ accepted: 0, duplicates: 2 });
    expect(await storedRows()).toEqual(before);
    // A partly new push: only the new record is stored.
    expect((await push([passed(1), passed(2)])).body).toEqual({ accepted: 1, duplicates: 1 });
    expect(await stored()).toBe(3);
  });

  it('treats the same token on the same board under a new recordId as a duplicate', async () => {
    await push([passed(0)]);
    const res = await push([passed(0, { recordId: `rec-retry-${run}`, mac: '24:6F:28:00:00:00' })]);
    expect(res.body).toEqual({ accepted: 0, duplicates: 1 });
    expect(await stored()).toBe(1);
  });

  it('accepts a failed record with unknown board facts', async () => {
    const failed = passed(3, { result: 'failed', mac: null, chip: null, firmwareVersion: null, labelRef: null, payloadSha256: null });
    expect((await push([failed])).body).toEqual({ accepted: 1, duplicates: 0 });
  });

  it('refuses a changed record under a stored recordId with 409 and stores nothing of that push', async () => {
    await push([passed(0)]);
    const res = await push([passed(4), passed(0, { firmwareVersion: '9.9.9' })]);
    expect(res.status).toBe(409);
    expect(res.body.error?.code).toBe('CONFLICT');
    expect(res.body.error?.message).toContain(`rec-run${run}-0`);
    expect(await stored()).toBe(1);
  });

  it('refuses a token recorded on another board with 409', async () => {
    await push([passed(0)]);
    const res = await push([passed(0, { recordId: `rec-other-${run}`, mac: '24:6f:28:99:99:99' })]);
    expect(res.status).toBe(409);
    expect(await stored()).toBe(1);
  });

  it('refuses a QR token the organisation does not own with 404, storing nothing', async () => {
    const res = await push([passed(5), passed(1, { qrToken: `sqr_${'Z'.repeat(32)}` })]);
    expect(res.status).toBe(404);
    expect(res.body.error?.code).toBe('NOT_FOUND');
    expect(res.body.error?.message).not.toContain('ZZZZ');
    expect(await stored()).toBe(0);
  });

  it.each([
    ['a passed record without a MAC', { mac: null }],
    ['a malformed MAC', { mac: '24-6f-28-00-00-00' }],
    ['an unknown result', { result: 'ok' }],
    ['an upper-case payload hash', { payloadSha256: 'A'.repeat(64) }],
    ['a negative label position', { labelRef: { sheetId: 's', position: -1 } }],
    ['a fractional completedAt', { completedAt: 1.5 }],
  ])('refuses %s with 400', async (_name, patch) => {
    const res = await push([passed(0, patch)]);
    expect(res.status).toBe(400);
    expect(res.body.error?.code).toBe('INVALID_INPUT');
    expect(await stored()).toBe(0);
  });

  it('refuses an empty push and one over 1000 records', async () => {
    expect((await push([])).status).toBe(400);
    const many = Array.from({ length: 1001 }, (_, i) => passed(0, { recordId: `rec-many-${run}-${i}` }));
    expect((await push(many)).status).toBe(400);
  });
});
