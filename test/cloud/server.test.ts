import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloudServer } from '../../cloud/server.js';
import { call, generate, startTestCloud, type TestCloud } from './cloud-test-kit.js';

interface ErrorReply {
  error: { code: string; message: string };
}

/** Sends a body in chunks without a Content-Length, so the server must count as it reads. */
function postChunked(url: string, token: string, chunks: number, chunkBytes: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    // The server may answer 413 and close while chunks are still going out.
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)));
    const chunk = Buffer.alloc(chunkBytes, 0x20);
    let sent = 0;
    const pump = () => {
      while (sent < chunks) {
        sent++;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

describe('cloud server', () => {
  let cloud: TestCloud;
  let token: string;
  beforeAll(async () => {
    cloud = await startTestCloud();
    token = await cloud.accessToken();
  });
  afterAll(async () => {
    await cloud?.close();
  });
  const generateUrl = () => `${cloud.url}/api/v1/organization/static-tokens/generate`;
  const recordsUrl = () => `${cloud.url}/api/v1/station/device-records`;
  /** An ordinary JSON endpoint (64 KiB limit); generate takes CSV uploads, up to 2 MiB. */
  const claimUrl = () => `${cloud.url}/api/v1/organization/static-tokens/claim`;

  describe('bad input at the edge', () => {
    it('answers malformed JSON with 400 INVALID_JSON', async () => {
      const res = await call<ErrorReply>(generateUrl(), {
        token,
        rawBody: '{"templateId": 1, "count": ',
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('INVALID_JSON');
      const empty = await call<ErrorReply>(generateUrl(), { token, rawBody: '', headers: { 'content-type': 'application/json' } });
      expect(empty.body.error.code).toBe('INVALID_JSON');
    });

    it('answers a non-JSON content type with 415', async () => {
      const res = await call<ErrorReply>(generateUrl(), { token, rawBody: 'count=5', headers: { 'content-type': 'text/plain' } });
      expect(res.status).toBe(415);
      expect(res.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    });

    it('answers a JSON value of the wrong shape with 400 INVALID_INPUT', async () => {
      for (const json of [[1, 2], 'text', null, { records: 'no' }]) {
        const res = await call<ErrorReply>(recordsUrl(), { token, json });
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe('INVALID_INPUT');
      }
    });

    it('refuses oversize bodies with 413: declared, and chunked without a length', async () => {
      const declared = await call<ErrorReply>(claimUrl(), {
        token,
        rawBody: `{"pad":"${'x'.repeat(100_000)}"}`,
        headers: { 'content-type': 'application/json' },
      });
      expect(declared.status).toBe(413);
      expect(declared.body.error.code).toBe('PAYLOAD_TOO_LARGE');

      const records = await call<ErrorReply>(recordsUrl(), {
        token,
        rawBody: Buffer.alloc(3 * 1024 * 1024, 0x20),
        headers: { 'content-type': 'application/json' },
      });
      expect(records.status).toBe(413);

      const chunked = await postChunked(claimUrl(), token, 40, 4096);
      expect(chunked.status).toBe(413);
      const bigCsv = await postChunked(generateUrl(), token, 600, 4096);
      expect(bigCsv.status).toBe(413);
      expect(chunked.status).toBe(413);
      expect((JSON.parse(chunked.body) as ErrorReply).error.code).toBe('PAYLOAD_TOO_LARGE');

      // The service is still fine afterwards.
      expect((await generate(cloud, token, { count: 1, requestId: 'req-after-413' })).status).toBe(201);
    });

    it('answers a missing or unknown bearer token with 401 and a challenge', async () => {
      const missing = await call<ErrorReply>(generateUrl(), { json: { templateId: 1, count: 1, stationId: 's', requestId: 'req-no-bearer' } });
      expect(missing.status).toBe(401);
      expect(missing.body.error.code).toBe('UNAUTHORIZED');
      expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer /);
      const basic = await call<ErrorReply>(`${cloud.url}/api/v1/organization/static-tokens`, {
        headers: { authorization: cloud.basicAuth() },
      });
      expect(basic.status).toBe(401);
      const forged = await call<ErrorReply>(`${cloud.url}/api/v1/organization/static-tokens`, { token: 'x'.repeat(40) });
      expect(forged.status).toBe(401);
      expect(forged.headers.get('www-authenticate')).toContain('invalid_token');
    });

    it('answers unknown paths with 404 and wrong methods with 405 and Allow', async () => {
      const unknown = await call<ErrorReply>(`${cloud.url}/api/v1/nothing-here`, { token });
      expect(unknown.status).toBe(404);
      expect(unknown.body.error.code).toBe('NOT_FOUND');
      const wrong = await call<ErrorReply>(generateUrl(), { method: 'GET', token });
      expect(wrong.status).toBe(405);
      expect(wrong.headers.get('allow')).toBe('POST');
    });
  });

  it('never writes an AuthToken, bearer token or client secret into its log', async () => {
    const secrets: string[] = [cloud.server.seed.clientSecret];
    const tokenReply = await call<{ access_token: string; refresh_token: string }>(
      `${cloud.url}/oauth2/token?grant_type=client_credentials`,
      { method: 'POST', headers: { authorization: cloud.basicAuth() } },
    );
    const bearer = tokenReply.body.access_token;
    secrets.push(bearer, tokenReply.body.refresh_token);
    const refreshed = await call<{ access_token: string; refresh_token: string }>(
      `${cloud.url}/oauth2/token?grant_type=refresh_token&refresh_token=${tokenReply.body.refresh_token}`,
      { method: 'POST', headers: { authorization: cloud.basicAuth() } },
    );
    secrets.push(refreshed.body.access_token, refreshed.body.refresh_token);
    const batch = await generate(cloud, bearer, { count: 1000, requestId: 'req-log-check' });
    await generate(cloud, bearer, { count: 1000, requestId: 'req-log-check' });
    const deviceTokens = batch.body.tokens.map((t) => t.deviceToken);
    secrets.push(...deviceTokens);
    await call(`${cloud.url}/api/v1/organization/static-tokens?size=1000`, { token: bearer });
    for (const deviceToken of deviceTokens.slice(0, 5)) {
      await call(`${cloud.url}/external/api/isHardwareConnected?token=${deviceToken}`);
      // A client that puts the token in the path, or sends it as a bearer token, must not get it logged either.
      await call(`${cloud.url}/external/api/${deviceToken}/isHardwareConnected`);
      await call(`${cloud.url}/api/v1/organization/static-tokens`, { token: deviceToken });
    }
    // A long unknown path is cut short in the log; the cut must not leave a fragment of a token.
    const cutToken = deviceTokens[6]!;
    await call(`${cloud.url}/external/api/${'a/'.repeat(50)}${cutToken}`);
    await call(recordsUrl(), { token: bearer, json: { records: [{ qrToken: deviceTokens[0] }] } });
    await call(`${cloud.url}/oauth2/token?grant_type=client_credentials`, {
      method: 'POST',
      headers: { authorization: cloud.basicAuth(cloud.server.seed.clientId, deviceTokens[1]) },
    });

    const log = cloud.logs.join('\n');
    const requestLines = cloud.logs.filter((line) => line.includes('"event":"request"'));
    expect(requestLines.length).toBeGreaterThan(20);
    expect(log).toContain('"path":"/external/api/isHardwareConnected"');
    expect(log).toContain('"status":401');
    expect(log).toContain('[redacted]');
    expect(log).not.toContain(cutToken.slice(0, 6));
    const leaked = secrets.filter((secret) => log.includes(secret));
    expect(leaked).toEqual([]);
  });

  it('rate-limits each organisation per minute with 429 and Retry-After', async () => {
    const limited = await startTestCloud({ rateLimits: { perOrgPerMinute: 3 } });
    try {
      const bearer = await limited.accessToken();
      const list = () => call<ErrorReply>(`${limited.url}/api/v1/organization/static-tokens`, { token: bearer });
      for (let i = 0; i < 3; i++) expect((await list()).status).toBe(200);
      const refused = await list();
      expect(refused.status).toBe(429);
      expect(refused.body.error.code).toBe('RATE_LIMITED');
      expect(Number(refused.headers.get('retry-after'))).toBe(60);
      limited.clock.advance(60_000);
      expect((await list()).status).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('answers an unexpected failure with 500 INTERNAL and logs it without the bearer token', async () => {
    const broken = await startTestCloud();
    try {
      const bearer = await broken.accessToken();
      await broken.server.store.db.close();
      const res = await call<ErrorReply>(`${broken.url}/api/v1/organization/static-tokens`, { token: bearer });
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ error: { code: 'INTERNAL', message: 'Internal error; try again later.' } });
      const errorLine = broken.logs.find((line) => line.includes('"event":"internal-error"'));
      expect(errorLine).toContain('database connection is not open');
      expect(broken.logs.join('\n')).not.toContain(bearer);
    } finally {
      await broken.close();
    }
  });

  it('keeps tokens and credentials in a database file across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flashline-cloud-'));
    const dbPath = join(dir, 'cloud.db');
    const seed = { clientId: 'station-client', clientSecret: 'station-secret-0123456789' };
    try {
      const first = await startCloudServer({ dbPath, seed, log: () => {} });
      const basic = `Basic ${Buffer.from(`${seed.clientId}:${seed.clientSecret}`).toString('base64')}`;
      const login = async (url: string) =>
        (
          await call<{ access_token: string }>(`${url}/oauth2/token?grant_type=client_credentials`, {
            method: 'POST',
            headers: { authorization: basic },
          })
        ).body.access_token;
      const made = await call<{ tokens: { token: string }[] }>(`${first.url}/api/v1/organization/static-tokens/generate`, {
        token: await login(first.url),
        json: { templateId: 1, count: 4, stationId: 'station-1', requestId: 'req-persist-1' },
      });
      await first.close();

      const second = await startCloudServer({ dbPath, seed, log: () => {} });
      try {
        const bearer = await login(second.url);
        const list = await call<{ content: { token: string }[]; totalElements: number }>(
          `${second.url}/api/v1/organization/static-tokens`,
          { token: bearer },
        );
        expect(list.body.totalElements).toBe(4);
        expect(list.body.content.map((t) => t.token)).toEqual(made.body.tokens.map((t) => t.token));
        const replay = await call(`${second.url}/api/v1/organization/static-tokens/generate`, {
          token: bearer,
          json: { templateId: 1, count: 4, stationId: 'station-1', requestId: 'req-persist-1' },
        });
        expect(replay.status).toBe(200);
        expect(replay.body).toEqual(made.body);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
