import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StationError } from '../../common/errors.js';
import { FlashlineCloudClient, type DeviceRecord } from '../../core/cloud/cloud-client.js';
import { openStationDatabase, type StationDatabase } from '../../core/db/open-database.js';
import { DEMO_PRODUCT, type ProductConfig } from '../../core/product/product.js';
import { TokenQueue } from '../../core/queue/token-queue.js';
import { ensureStock } from '../../core/station/ensure-stock.js';
import { batchTokens } from '../core/batches/batch-fixtures.js';
import { timed } from './fuzz-kit.js';

/**
 * Hostile cloud replies against the real client and the real stock top-up (ensureStock), on a
 * fake HTTP server on 127.0.0.1: malformed JSON, wrong types, huge bodies, slow drips, 401 in the
 * middle of a multi-chunk push. Each ends in a StationError within the client's deadline, and the
 * station's queue is unchanged: no token added, the pending pull's requestId kept for the retry.
 * (Cases the cloud-client unit tests already cover — 500, 429, silence, a stall mid-body, a closed
 * port, 401 twice, a short or repeated batch — are not repeated here.)
 */
const TIMEOUT_MS = 700;
const SLACK_MS = 1_500;
const ACCESS_TOKEN = 'hardening-access-token-00000000000000000000';
const SECRET = 'hardening-client-secret';
const TEMPLATE_ID = 7;
const BATCH = 4;
const PRODUCT: ProductConfig = { ...DEMO_PRODUCT, templateId: String(TEMPLATE_ID), orgId: 1 };

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

async function startFake(handler: Handler) {
  const sockets = new Set<Socket>();
  const seen: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url?.split('?')[0]}`);
      if (req.url?.startsWith('/oauth2/token')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ access_token: ACCESS_TOKEN, token_type: 'Bearer', expires_in: 300, refresh_token: 'r' }));
        return;
      }
      handler(req, res, body);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

let fake: Awaited<ReturnType<typeof startFake>> | null = null;
afterEach(async () => {
  await fake?.close();
  fake = null;
});

let dir: string;
let db: StationDatabase;
let queue: TokenQueue;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hardening-cloud-'));
  db = openStationDatabase(join(dir, 'station.db'));
  queue = new TokenQueue(db);
  queue.importBatch({ batchId: 'B0', cloudBatchId: 'c0', templateId: String(TEMPLATE_ID), orgId: 1, tokens: batchTokens(1, 'cloud-resident') });
});
afterAll(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const client = (url: string) => new FlashlineCloudClient({ baseUrl: url, clientId: 'id', clientSecret: SECRET, stationId: 'st-1', timeoutMs: TIMEOUT_MS });

function pendingRequestId(): string | undefined {
  return (db.prepare("SELECT value FROM settings WHERE key = 'pending_pull_request_id'").get() as { value: string } | undefined)?.value;
}

function stationState() {
  return {
    integrity: db.pragma('integrity_check', { simple: true }),
    tokens: (db.prepare('SELECT count(*) AS n FROM tokens').get() as { n: number }).n,
    stock: queue.stock(),
  };
}

const goodBatch = (n = BATCH) => ({
  batchId: 'cb-1',
  templateId: TEMPLATE_ID,
  orgId: 1,
  tokens: batchTokens(n, 'cloud-pulled').map((t, i) => ({ deviceToken: t.authToken, token: t.qrToken, createdAt: 1_700_000_000_000 + i })),
});

/** Pulls through ensureStock; returns the error, and checks the station is exactly as before. */
async function pullExpectingFailure(url: string): Promise<{ err: StationError; ms: number; requestIds: string[] }> {
  const before = stationState();
  const pendingBefore = pendingRequestId();
  const requestIds: string[] = [];
  const r = await timed(() =>
    ensureStock({ db, queue, client: client(url), product: PRODUCT, stationId: 'st-1', batchSize: BATCH, lowWater: 10 }),
  );
  expect(r.value).toBeUndefined();
  expect(r.error).toBeInstanceOf(StationError);
  const err = r.error as StationError;
  expect(['CLOUD_REJECTED', 'CLOUD_UNREACHABLE']).toContain(err.code);
  const text = `${err.message} ${JSON.stringify(err.toJSON())}`;
  for (const secret of [ACCESS_TOKEN, SECRET, ...goodBatch().tokens.map((t) => t.deviceToken)]) expect(text).not.toContain(secret);
  expect(stationState()).toEqual(before);
  expect(before.integrity).toBe('ok');
  // The requestId was committed before the call and stays for the retry (same batch next time).
  const pending = pendingRequestId();
  expect(pending).toMatch(/^[0-9a-f-]{36}$/);
  if (pendingBefore) expect(pending).toBe(pendingBefore);
  requestIds.push(pending!);
  return { err, ms: r.ms, requestIds };
}

describe('hostile replies to a token pull', () => {
  const replies: Array<[string, Handler]> = [
    ['truncated JSON', (_q, res) => res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify(goodBatch()).slice(0, 120))],
    ['JSON with a trailing comma and comments', (_q, res) => res.writeHead(201).end('{"batchId":"b", /* hi */ "tokens":[],}')],
    ['an HTML error page with status 200', (_q, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Bad gateway</body></html>')],
    ['a JSON array', (_q, res) => res.writeHead(201).end('[1,2,3]')],
    ['null', (_q, res) => res.writeHead(201).end('null')],
    ['createdAt as a string', (_q, res) => res.writeHead(201).end(JSON.stringify({ ...goodBatch(), tokens: goodBatch().tokens.map((t) => ({ ...t, createdAt: 'yesterday' })) }))],
    ['deviceToken as a number', (_q, res) => res.writeHead(201).end(JSON.stringify({ ...goodBatch(), tokens: goodBatch().tokens.map((t, i) => ({ ...t, deviceToken: i })) }))],
    ['templateId as a string', (_q, res) => res.writeHead(201).end(JSON.stringify({ ...goodBatch(), templateId: String(TEMPLATE_ID) }))],
    ['another template', (_q, res) => res.writeHead(201).end(JSON.stringify({ ...goodBatch(), templateId: TEMPLATE_ID + 1 }))],
    ['tokens with spaces, newlines or 200 characters', (_q, res) => res.writeHead(201).end(JSON.stringify({ ...goodBatch(), tokens: goodBatch().tokens.map((t, i) => ({ ...t, deviceToken: i % 2 ? 'a b\nc'.padEnd(32, 'x') : 'z'.repeat(200) })) }))],
    ['more tokens than asked', (_q, res) => res.writeHead(201).end(JSON.stringify(goodBatch(BATCH + 1)))],
    ['a token the queue already holds', (_q, res) => {
      const b = goodBatch();
      b.tokens[0]!.deviceToken = batchTokens(1, 'cloud-resident')[0]!.authToken;
      res.writeHead(201).end(JSON.stringify(b));
    }],
    ['a body that declares 64 MB', (_q, res) => {
      res.writeHead(201, { 'content-type': 'application/json', 'content-length': String(64 * 1024 * 1024) });
      res.write('{"batchId":"');
    }],
    ['a slow drip (one byte every 50 ms, forever)', (_q, res) => {
      res.writeHead(201, { 'content-type': 'application/json' });
      const timer = setInterval(() => (res.writable ? res.write(' ') : clearInterval(timer)), 50);
      res.on('close', () => clearInterval(timer));
    }],
    ['a redirect to another host', (_q, res) => res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data' }).end()],
    ['a 418 with a token-like body', (_q, res) => res.writeHead(418).end(JSON.stringify({ error: { code: 'X'.repeat(40), message: goodBatch().tokens[0]!.deviceToken } }))],
  ];

  it.each(replies)('%s: a StationError in time, and the queue untouched', async (_what, handler) => {
    fake = await startFake(handler);
    const { ms } = await pullExpectingFailure(fake.url);
    expect(ms).toBeLessThan(TIMEOUT_MS * 2 + SLACK_MS);
  });

  it('a huge chunked body (no content-length, 24 MB of valid-looking JSON) is refused without taking the batch', async () => {
    fake = await startFake((_q, res) => {
      res.writeHead(201, { 'content-type': 'application/json' });
      const b = goodBatch();
      res.write(`${JSON.stringify(b).slice(0, -1)},"padding":"`);
      const chunk = 'x'.repeat(1024 * 1024);
      let sent = 0;
      const more = () => {
        while (sent < 24 && res.writable) {
          sent++;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        if (res.writable) res.end('"}');
      };
      more();
    });
    const heapBefore = process.memoryUsage().heapUsed;
    const { ms, err } = await pullExpectingFailure(fake.url);
    // Either the deadline cut the download, or the size cap refused it: never a 24 MB batch accepted.
    expect(['CLOUD_REJECTED', 'CLOUD_UNREACHABLE']).toContain(err.code);
    expect(ms).toBeLessThan(TIMEOUT_MS * 2 + SLACK_MS);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(256 * 1024 * 1024);
  });

  it('after all that, a good reply imports the batch once, under the same requestId the failures kept', async () => {
    const kept = pendingRequestId();
    const asked: string[] = [];
    fake = await startFake((_q, res, body) => {
      asked.push((JSON.parse(body) as { requestId: string }).requestId);
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify(goodBatch()));
    });
    const before = queue.stock().available;
    const n = await ensureStock({ db, queue, client: client(fake.url), product: PRODUCT, stationId: 'st-1', batchSize: BATCH, lowWater: 10 });
    expect(n).toBe(BATCH);
    expect(asked).toEqual([kept]);
    expect(queue.stock().available).toBe(before + BATCH);
    expect(pendingRequestId()).toBeUndefined();
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  });
});

describe('401 in the middle of a multi-chunk push', () => {
  const record = (i: number): DeviceRecord => ({
    recordId: `rec-${i}`,
    qrToken: `sqr_${String(i).padStart(32, '0')}`,
    mac: null,
    chip: null,
    stationId: 'st-1',
    result: 'passed',
    payloadSha256: null,
    firmwareVersion: null,
    labelRef: null,
    completedAt: 1,
  });

  it('the first chunk lands, the second meets a revoked client: CLOUD_REJECTED, and the resend is idempotent', async () => {
    const stored = new Set<string>();
    let revoked = false;
    let revokeAfterSuccess = true;
    fake = await startFake((_q, res, body) => {
      const { records } = JSON.parse(body) as { records: DeviceRecord[] };
      if (revoked) {
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'UNAUTHORIZED', message: 'revoked' } }));
        return;
      }
      let accepted = 0;
      for (const r of records) {
        if (stored.has(r.recordId)) continue;
        stored.add(r.recordId);
        accepted++;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted, duplicates: records.length - accepted }));
      if (revokeAfterSuccess) revoked = true; // every later API request is refused (login still answers)
    });
    const records = Array.from({ length: 2_500 }, (_, i) => record(i));
    const err = await timed(() => client(fake!.url).pushDeviceRecords(records));
    expect(err.error).toBeInstanceOf(StationError);
    expect((err.error as StationError).code).toBe('CLOUD_REJECTED');
    expect(stored.size).toBe(1_000);
    // The login was retried exactly once for the refused chunk, and the third chunk never went out.
    expect(fake.seen.filter((s) => s.includes('device-records'))).toHaveLength(3);
    // The client is restored: the station resends the whole list; the cloud counts nothing twice.
    revoked = false;
    revokeAfterSuccess = false;
    const again = await client(fake.url).pushDeviceRecords(records);
    expect(again).toEqual({ accepted: 1_500, duplicates: 1_000 });
    expect(stored.size).toBe(2_500);
  });
});
