import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StationError } from '../../../common/errors.js';
import { FlashlineCloudClient, type DeviceRecord } from '../../../core/cloud/cloud-client.js';
import { startTestCloud, type TestCloud } from '../../cloud/cloud-test-kit.js';

/** fetch that remembers each request as "METHOD path?grant" (no secrets: only grant_type is kept). */
function recordingFetch(log: string[]): typeof fetch {
  return async (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const grant = url.searchParams.get('grant_type');
    log.push(`${init?.method ?? 'GET'} ${url.pathname}${grant ? `?${grant}` : ''}`);
    return fetch(input, init);
  };
}

/** A hand-written HTTP peer for failure modes the real cloud does not produce. */
async function startFakeCloud(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const sockets = new Set<Socket>();
  const server: Server = createServer(handler);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const FAKE_ACCESS_TOKEN = 'fake-access-token-000000000000000000000000';

function answerToken(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ access_token: FAKE_ACCESS_TOKEN, token_type: 'Bearer', expires_in: 300, refresh_token: 'r1' }));
}

async function caught(promise: Promise<unknown>): Promise<StationError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(StationError);
    return err as StationError;
  }
  throw new Error('expected the call to fail');
}

function expectNoSecrets(err: StationError, secrets: string[]): void {
  const text = `${err.message} ${JSON.stringify(err.toJSON())}`;
  for (const secret of secrets) expect(text).not.toContain(secret);
}

describe('FlashlineCloudClient against the real cloud service', () => {
  let cloud: TestCloud;
  beforeAll(async () => {
    cloud = await startTestCloud();
  });
  afterAll(async () => {
    await cloud?.close();
  });

  const client = (log: string[] = [], overrides: Partial<ConstructorParameters<typeof FlashlineCloudClient>[0]> = {}) =>
    new FlashlineCloudClient({
      baseUrl: `${cloud.url}/`,
      clientId: cloud.server.seed.clientId,
      clientSecret: cloud.server.seed.clientSecret,
      stationId: 'station-7',
      fetchImpl: recordingFetch(log),
      timeoutMs: 2_000,
      ...overrides,
    });

  it('pulls a batch, logs in once for several calls, and gets the same batch for the same requestId', async () => {
    const log: string[] = [];
    const c = client(log);
    const batch = await c.pullBatch({ count: 10, templateId: 1, requestId: 'client-req-0001' });
    expect(batch.orgId).toBe(1);
    expect(batch.templateId).toBe(1);
    expect(batch.tokens).toHaveLength(10);
    for (const t of batch.tokens) {
      expect(Object.keys(t).sort()).toEqual(['createdAt', 'deviceToken', 'token']);
      expect(t.deviceToken).toMatch(/^[-_a-zA-Z0-9]{32}$/);
      expect(t.token).toMatch(/^sqr_[a-zA-Z0-9]{32}$/);
    }
    const again = await c.pullBatch({ count: 10, templateId: 1, requestId: 'client-req-0001' });
    expect(again).toEqual(batch);
    const stored = await cloud.server.store.db.get('SELECT station_id FROM token_batches WHERE id = ?', [batch.batchId]);
    expect(stored).toEqual({ station_id: 'station-7' });
    expect(log).toEqual([
      'POST /oauth2/token?client_credentials',
      'POST /api/v1/organization/static-tokens/generate',
      'POST /api/v1/organization/static-tokens/generate',
    ]);
  });

  it('pushes device records idempotently, splitting lists over 1000', async () => {
    const log: string[] = [];
    const c = client(log);
    const a = await c.pullBatch({ count: 1000, templateId: 1, requestId: 'client-req-push-a' });
    const b = await c.pullBatch({ count: 500, templateId: 1, requestId: 'client-req-push-b' });
    const records: DeviceRecord[] = [...a.tokens, ...b.tokens].map((t, i) => ({
      recordId: `client-rec-${i}`,
      qrToken: t.token,
      mac: `24:6f:28:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`,
      chip: 'ESP32',
      stationId: 'station-7',
      result: 'passed',
      payloadSha256: 'b'.repeat(64),
      firmwareVersion: '1.0.0',
      labelRef: { sheetId: 'sheet-9', position: i % 30 },
      completedAt: 1_790_000_000_000 + i,
    }));
    log.length = 0;
    expect(await c.pushDeviceRecords(records)).toEqual({ accepted: 1500, duplicates: 0 });
    expect(log.filter((l) => l.endsWith('/device-records'))).toHaveLength(2);
    expect(await c.pushDeviceRecords(records.slice(990, 1010))).toEqual({ accepted: 0, duplicates: 20 });
    expect(await c.pushDeviceRecords([])).toEqual({ accepted: 0, duplicates: 0 });
  });

  it('logs in again and retries once when the server has expired its token', async () => {
    const log: string[] = [];
    const c = client(log);
    await c.pullBatch({ count: 1, templateId: 1, requestId: 'client-req-exp-1' });
    // The station's clock still thinks the token is fresh; the server's has moved past its expiry.
    cloud.clock.advance(2 * 3600 * 1000);
    const batch = await c.pullBatch({ count: 1, templateId: 1, requestId: 'client-req-exp-2' });
    expect(batch.tokens).toHaveLength(1);
    expect(log).toEqual([
      'POST /oauth2/token?client_credentials',
      'POST /api/v1/organization/static-tokens/generate',
      'POST /api/v1/organization/static-tokens/generate',
      'POST /oauth2/token?refresh_token',
      'POST /api/v1/organization/static-tokens/generate',
    ]);
    expect(cloud.logs.some((l) => l.includes('/static-tokens/generate') && l.includes('"status":401'))).toBe(true);

    // Once the refresh token has expired too, it falls back to the client credentials.
    cloud.clock.advance(25 * 3600 * 1000);
    log.length = 0;
    await c.pullBatch({ count: 1, templateId: 1, requestId: 'client-req-exp-3' });
    expect(log).toEqual([
      'POST /api/v1/organization/static-tokens/generate',
      'POST /oauth2/token?refresh_token',
      'POST /oauth2/token?client_credentials',
      'POST /api/v1/organization/static-tokens/generate',
    ]);
  });

  it('renews its token before expires_in by its own clock, without a 401', async () => {
    const log: string[] = [];
    let stationNow = Date.now();
    const c = client(log, { now: () => stationNow });
    await c.pullBatch({ count: 1, templateId: 1, requestId: 'client-req-clock-1' });
    stationNow += 3600 * 1000;
    await c.pullBatch({ count: 1, templateId: 1, requestId: 'client-req-clock-2' });
    expect(log).toEqual([
      'POST /oauth2/token?client_credentials',
      'POST /api/v1/organization/static-tokens/generate',
      'POST /oauth2/token?refresh_token',
      'POST /api/v1/organization/static-tokens/generate',
    ]);
  });

  it('reports wrong client credentials as CLOUD_REJECTED without the secret', async () => {
    const secret = 'wrong-secret-0123456789-abcdefghijklmnop';
    const err = await caught(client([], { clientSecret: secret }).pullBatch({ count: 1, templateId: 1, requestId: 'client-req-bad' }));
    expect(err.code).toBe('CLOUD_REJECTED');
    expect(err.details).toMatchObject({ status: 401, serverCode: 'invalid_client' });
    expectNoSecrets(err, [secret, cloud.server.seed.clientSecret]);
  });

  it('reports a refused request (unknown template) as CLOUD_REJECTED with the server’s code', async () => {
    const err = await caught(client().pullBatch({ count: 1, templateId: 42, requestId: 'client-req-404' }));
    expect(err.code).toBe('CLOUD_REJECTED');
    expect(err.details).toMatchObject({ status: 404, serverCode: 'NOT_FOUND' });
  });

  it('refuses a batch size the cloud cannot serve before sending anything', async () => {
    const log: string[] = [];
    for (const count of [0, 1001, 2.5]) {
      const err = await caught(client(log).pullBatch({ count, templateId: 1, requestId: 'client-req-size' }));
      expect(err.code).toBe('INVALID_INPUT');
    }
    expect(log).toEqual([]);
  });

  it('sends the stationId given per call, else the client default, and refuses to guess one', async () => {
    const batch = await client().pullBatch({ count: 1, templateId: 1, requestId: 'client-req-sid-1', stationId: 'line-3' });
    const stationOf = async (id: string) =>
      (await cloud.server.store.db.get<{ station_id: string }>('SELECT station_id FROM token_batches WHERE id = ?', [id]))!.station_id;
    expect(await stationOf(batch.batchId)).toBe('line-3');
    const log: string[] = [];
    const err = await caught(
      client(log, { stationId: undefined }).pullBatch({ count: 1, templateId: 1, requestId: 'client-req-sid-2' }),
    );
    expect(err.code).toBe('INVALID_INPUT');
    expect(log).toEqual([]);
  });
});

describe('FlashlineCloudClient failure modes', () => {
  let fake: Awaited<ReturnType<typeof startFakeCloud>> | null = null;
  afterEach(async () => {
    await fake?.close();
    fake = null;
  });

  const clientFor = (url: string, timeoutMs = 2_000) =>
    new FlashlineCloudClient({ baseUrl: url, clientId: 'id', clientSecret: 'client-secret-xyz', stationId: 's1', timeoutMs });

  it('turns a 500 into CLOUD_UNREACHABLE', async () => {
    fake = await startFakeCloud((req, res) => {
      if (req.url?.startsWith('/oauth2/token')) return answerToken(res);
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'INTERNAL', message: 'Internal error; try again later.' } }));
    });
    const err = await caught(clientFor(fake.url).pullBatch({ count: 1, templateId: 1, requestId: 'fake-req-500' }));
    expect(err.code).toBe('CLOUD_UNREACHABLE');
    expect(err.details).toMatchObject({ status: 500 });
    expectNoSecrets(err, [FAKE_ACCESS_TOKEN, 'client-secret-xyz']);
  });

  it('turns a 429 into CLOUD_UNREACHABLE carrying Retry-After', async () => {
    fake = await startFakeCloud((req, res) => {
      if (req.url?.startsWith('/oauth2/token')) return answerToken(res);
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '17' });
      res.end(JSON.stringify({ error: { code: 'RATE_LIMITED', message: 'Too many requests; wait and try again.' } }));
    });
    const err = await caught(clientFor(fake.url).pushDeviceRecords([{} as DeviceRecord]));
    expect(err.code).toBe('CLOUD_UNREACHABLE');
    expect(err.details).toMatchObject({ status: 429, retryAfterS: 17 });
  });

  it('times out on a server that never answers, within the deadline', async () => {
    let apiRequests = 0;
    fake = await startFakeCloud((req, res) => {
      if (req.url?.startsWith('/oauth2/token')) return answerToken(res);
      apiRequests++; // ...and never answer.
    });
    const started = performance.now();
    const err = await caught(clientFor(fake.url, 300).pullBatch({ count: 1, templateId: 1, requestId: 'fake-req-silent' }));
    const elapsed = performance.now() - started;
    expect(err.code).toBe('CLOUD_UNREACHABLE');
    expect(err.details).toMatchObject({ timeoutMs: 300 });
    expect(apiRequests).toBe(1);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1_000);
  });

  it('times out on a server that sends headers and then stalls mid-body', async () => {
    fake = await startFakeCloud((req, res) => {
      if (req.url?.startsWith('/oauth2/token')) return answerToken(res);
      res.writeHead(201, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"batchId":');
    });
    const started = performance.now();
    const err = await caught(clientFor(fake.url, 300).pullBatch({ count: 1, templateId: 1, requestId: 'fake-req-stall' }));
    expect(err.code).toBe('CLOUD_UNREACHABLE');
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('reports a closed port as CLOUD_UNREACHABLE', async () => {
    fake = await startFakeCloud(() => {});
    const url = fake.url;
    await fake.close();
    fake = null;
    const err = await caught(clientFor(url).pullBatch({ count: 1, templateId: 1, requestId: 'fake-req-closed' }));
    expect(err.code).toBe('CLOUD_UNREACHABLE');
    expect(err.operatorFault).toBe(true);
  });

  it('retries a 401 exactly once with a fresh login, then gives up as CLOUD_REJECTED', async () => {
    const seen: string[] = [];
    fake = await startFakeCloud((req, res) => {
      seen.push(`${req.method} ${req.url?.split('?')[0]}`);
      if (req.url?.startsWith('/oauth2/token')) return answerToken(res);
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'UNAUTHORIZED', message: 'The access token is invalid or has expired.' } }));
    });
    const err = await caught(clientFor(fake.url).pullBatch({ count: 1, templateId: 1, requestId: 'fake-req-401' }));
    expect(err.code).toBe('CLOUD_REJECTED');
    expect(seen).toEqual([
      'POST /oauth2/token',
      'POST /api/v1/organization/static-tokens/generate',
      'POST /oauth2/token',
      'POST /api/v1/organization/static-tokens/generate',
    ]);
    expectNoSecrets(err, [FAKE_ACCESS_TOKEN, 'client-secret-xyz']);
  });

  it.each([
    ['not JSON', 'Service temporarily unavailable'],
    ['the wrong shape', JSON.stringify({ batch: [] })],
    ['fewer tokens than asked', JSON.stringify({ batchId: 'b', templateId: 1, orgId: 1, tokens: [] })],
    [
      'a repeated token',
      JSON.stringify({
        batchId: 'b',
        templateId: 1,
        orgId: 1,
        tokens: [0, 1].map(() => ({ deviceToken: 'D'.repeat(32), token: `sqr_${'Q'.repeat(32)}`, createdAt: 1 })),
      }),
    ],
  ])('rejects a 2xx reply that is %s as CLOUD_REJECTED without echoing it', async (_name, body) => {
    fake = await startFakeCloud((req, res) => {
      if (req.url?.startsWith('/oauth2/token')) return answerToken(res);
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(body);
    });
    const err = await caught(clientFor(fake.url).pullBatch({ count: 2, templateId: 1, requestId: 'fake-req-garbage' }));
    expect(err.code).toBe('CLOUD_REJECTED');
    expect(err.details).toMatchObject({ reason: 'invalid-reply' });
    expectNoSecrets(err, ['D'.repeat(32), FAKE_ACCESS_TOKEN]);
  });
});
