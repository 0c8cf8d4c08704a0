import { basicCredentials } from '../http/auth-header.js';
import { OAuthHttpError } from '../http/http-error.js';
import { mediaType, readBody } from '../http/request-body.js';
import type { Route, RouteContext } from '../http/route.js';
import { CLOUD_LIMITS } from '../limits.js';

const BASIC_CHALLENGE = { 'www-authenticate': 'Basic realm="flashline-cloud", charset="UTF-8"' };

/**
 * Blynk's token endpoint: `POST /oauth2/token?grant_type=client_credentials` with HTTP Basic
 * client credentials, and `grant_type=refresh_token&refresh_token=…` to renew. Parameters may also
 * come as an `application/x-www-form-urlencoded` body (RFC 6749); the query wins when both are given.
 */
async function tokenParams(ctx: RouteContext): Promise<URLSearchParams> {
  const params = new URLSearchParams();
  if (mediaType(ctx.req) === 'application/x-www-form-urlencoded') {
    const body = await readBody(ctx.req, CLOUD_LIMITS.oauthFormBodyBytes);
    for (const [key, value] of new URLSearchParams(body.toString('utf8'))) if (!params.has(key)) params.set(key, value);
  }
  for (const [key, value] of ctx.url.searchParams) params.set(key, value);
  return params;
}

export const oauthTokenRoute: Route = {
  method: 'POST',
  path: '/oauth2/token',
  auth: 'public',
  async handle(ctx) {
    const params = await tokenParams(ctx);
    const grantType = params.get('grant_type');
    if (!grantType) throw new OAuthHttpError(400, 'invalid_request', 'The grant_type parameter is missing.');
    if (grantType !== 'client_credentials' && grantType !== 'refresh_token') {
      throw new OAuthHttpError(400, 'unsupported_grant_type', 'Use grant_type=client_credentials or grant_type=refresh_token.');
    }
    const credentials = basicCredentials(ctx.req);
    if (!credentials) {
      throw new OAuthHttpError(401, 'invalid_client', 'Send the client credentials as HTTP Basic authorization.', BASIC_CHALLENGE);
    }
    const client = await ctx.store.oauth.authenticateClient(credentials.clientId, credentials.clientSecret);
    if (!client) {
      throw new OAuthHttpError(401, 'invalid_client', 'Client ID is not found or the secret is wrong.', BASIC_CHALLENGE);
    }
    let issued;
    if (grantType === 'client_credentials') {
      issued = await ctx.store.oauth.issueTokens(client, ctx.now);
    } else {
      const refreshToken = params.get('refresh_token');
      if (!refreshToken) throw new OAuthHttpError(400, 'invalid_request', 'The refresh_token parameter is missing.');
      issued = await ctx.store.oauth.refreshTokens(client, refreshToken, ctx.now);
      if (!issued) throw new OAuthHttpError(400, 'invalid_grant', 'The refresh token is unknown, used or expired.');
    }
    return {
      status: 200,
      // RFC 6749 section 5.1: token replies must not be cached.
      headers: { pragma: 'no-cache' },
      body: {
        access_token: issued.accessToken,
        token_type: 'Bearer',
        expires_in: issued.expiresInS,
        refresh_token: issued.refreshToken,
      },
    };
  },
};
