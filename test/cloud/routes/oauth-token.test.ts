import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestCloud, STORE_KINDS, type TestCloud } from '../cloud-test-kit.js';

interface TokenReply {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token: string;
}

describe.each(STORE_KINDS)('POST /oauth2/token (%s)', (store) => {
  let cloud: TestCloud;
  beforeAll(async () => {
    cloud = await startTestCloud({ store });
  });
  afterAll(async () => {
    await cloud?.close();
  });

  const tokenUrl = (query: string) => `${cloud.url}/oauth2/token?${query}`;
  const listUrl = () => `${cloud.url}/api/v1/organization/static-tokens`;

  it('issues a Blynk-shaped bearer token for good client credentials, and the token works', async () => {
    const res = await call<TokenReply>(tokenUrl('grant_type=client_credentials'), {
      method: 'POST',
      headers: { authorization: cloud.basicAuth() },
    });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['access_token', 'expires_in', 'refresh_token', 'token_type']);
    expect(res.body.token_type).toBe('Bearer');
    expect(res.body.expires_in).toBe(3600);
    expect(res.body.access_token).toMatch(/^[-_a-zA-Z0-9]{40}$/);
    expect(res.body.refresh_token).toMatch(/^[-_a-zA-Z0-9]{40}$/);
    expect(res.body.refresh_token).not.toBe(res.body.access_token);
    expect(res.headers.get('cache-control')).toBe('no-store');

    const list = await call(listUrl(), { token: res.body.access_token });
    expect(list.status).toBe(200);
  });

  it('refuses a wrong secret, an unknown client and missing credentials with 401 invalid_client', async () => {
    const wrong = await call<{ error: string; error_description: string }>(tokenUrl('grant_type=client_credentials'), {
      method: 'POST',
      headers: { authorization: cloud.basicAuth(cloud.server.seed.clientId, 'not-the-secret') },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('invalid_client');
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Basic /);

    const unknown = await call<{ error: string }>(tokenUrl('grant_type=client_credentials'), {
      method: 'POST',
      headers: { authorization: cloud.basicAuth('no-such-client', cloud.server.seed.clientSecret) },
    });
    expect(unknown.status).toBe(401);
    expect(unknown.body.error).toBe('invalid_client');

    const none = await call<{ error: string }>(tokenUrl('grant_type=client_credentials'), { method: 'POST' });
    expect(none.status).toBe(401);
    expect(none.body.error).toBe('invalid_client');
  });

  it('answers missing and unsupported grant types with RFC 6749 errors', async () => {
    const missing = await call<{ error: string }>(tokenUrl(''), { method: 'POST', headers: { authorization: cloud.basicAuth() } });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe('invalid_request');
    const password = await call<{ error: string }>(tokenUrl('grant_type=password'), {
      method: 'POST',
      headers: { authorization: cloud.basicAuth() },
    });
    expect(password.status).toBe(400);
    expect(password.body.error).toBe('unsupported_grant_type');
  });

  it('accepts the grant as an x-www-form-urlencoded body too', async () => {
    const res = await call<TokenReply>(`${cloud.url}/oauth2/token`, {
      method: 'POST',
      headers: { authorization: cloud.basicAuth(), 'content-type': 'application/x-www-form-urlencoded' },
      rawBody: 'grant_type=client_credentials',
    });
    expect(res.status).toBe(200);
    expect(res.body.token_type).toBe('Bearer');
  });

  it('renews with a refresh token exactly once per refresh token', async () => {
    const first = await call<TokenReply>(tokenUrl('grant_type=client_credentials'), {
      method: 'POST',
      headers: { authorization: cloud.basicAuth() },
    });
    const refreshUrl = tokenUrl(`grant_type=refresh_token&refresh_token=${first.body.refresh_token}`);
    const renewed = await call<TokenReply>(refreshUrl, { method: 'POST', headers: { authorization: cloud.basicAuth() } });
    expect(renewed.status).toBe(200);
    expect(renewed.body.access_token).not.toBe(first.body.access_token);
    expect((await call(listUrl(), { token: renewed.body.access_token })).status).toBe(200);

    const reused = await call<{ error: string }>(refreshUrl, { method: 'POST', headers: { authorization: cloud.basicAuth() } });
    expect(reused.status).toBe(400);
    expect(reused.body.error).toBe('invalid_grant');
  });

  it('stops honouring an access token once it expires', async () => {
    const token = await cloud.accessToken();
    cloud.clock.advance(3600 * 1000 - 1);
    expect((await call(listUrl(), { token })).status).toBe(200);
    cloud.clock.advance(1);
    const expired = await call<{ error: { code: string } }>(listUrl(), { token });
    expect(expired.status).toBe(401);
    expect(expired.body.error.code).toBe('UNAUTHORIZED');
    expect(expired.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('stores the client secret with scrypt and bearer tokens only as SHA-256', async () => {
    const res = await call<TokenReply>(tokenUrl('grant_type=client_credentials'), {
      method: 'POST',
      headers: { authorization: cloud.basicAuth() },
    });
    const db = cloud.server.store.db;
    const client = (await db.get<{ secret_hash: string }>('SELECT secret_hash FROM oauth_clients WHERE client_id = ?', [
      cloud.server.seed.clientId,
    ]))!;
    expect(client.secret_hash).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(client.secret_hash).not.toContain(cloud.server.seed.clientSecret);
    const dump = JSON.stringify([
      await db.all('SELECT * FROM oauth_access_tokens'),
      await db.all('SELECT * FROM oauth_refresh_tokens'),
    ]);
    expect(dump).toMatch(/[0-9a-f]{64}/);
    expect(dump).not.toContain(res.body.access_token);
    expect(dump).not.toContain(res.body.refresh_token);
  });
});
