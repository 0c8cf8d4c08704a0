import { StationError } from '../../common/errors.js';
import { failureFor, rejected, sendCloudRequest } from './cloud-http.js';
import { oauthTokenReply } from './cloud-replies.js';

export interface OAuthSessionOptions {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  fetchImpl: typeof fetch;
  timeoutMs: number;
  now: () => number;
}

/** Renew this long before the server's stated expiry, so a token never dies in flight. */
const EXPIRY_MARGIN_MS_MAX = 60_000;

interface CachedToken {
  accessToken: string;
  refreshToken: string | null;
  /** When the station stops using it (ms, station clock). */
  renewAt: number;
}

/**
 * OAuth2 client credentials for the station (Blynk: `POST /oauth2/token?grant_type=…` with HTTP
 * Basic). Caches the access token until shortly before `expires_in`; renews with the refresh token
 * when it has one (each is single-use) and falls back to client credentials when that is refused.
 * Concurrent callers share one token request. Tokens never leave this object except as the
 * Authorization header.
 */
export class OAuthSession {
  private cached: CachedToken | null = null;
  private pending: Promise<CachedToken> | null = null;
  private readonly basic: string;

  constructor(private readonly options: OAuthSessionOptions) {
    this.basic = `Basic ${Buffer.from(`${options.clientId}:${options.clientSecret}`, 'utf8').toString('base64')}`;
  }

  async accessToken(): Promise<string> {
    if (this.cached && this.options.now() < this.cached.renewAt) return this.cached.accessToken;
    this.pending ??= this.renew().finally(() => {
      this.pending = null;
    });
    return (await this.pending).accessToken;
  }

  /** The server refused `accessToken` (401): forget it, keeping its refresh token for the renewal. */
  invalidate(accessToken: string): void {
    if (this.cached?.accessToken === accessToken) this.cached = { ...this.cached, renewAt: 0 };
  }

  private async renew(): Promise<CachedToken> {
    const refreshToken = this.cached?.refreshToken ?? null;
    this.cached = null;
    if (refreshToken) {
      try {
        return (this.cached = await this.request(
          `grant_type=refresh_token&refresh_token=${encodeURIComponent(refreshToken)}`,
          'refreshing the cloud login',
        ));
      } catch (err) {
        // A used or expired refresh token is refused with 400/401: start over with the client
        // credentials. Anything else (network, 5xx) would fail the same way again.
        if (!(err instanceof StationError && err.code === 'CLOUD_REJECTED')) throw err;
      }
    }
    return (this.cached = await this.request('grant_type=client_credentials', 'logging in to the cloud'));
  }

  private async request(query: string, operation: string): Promise<CachedToken> {
    const startedAt = this.options.now();
    const res = await sendCloudRequest(
      this.options.fetchImpl,
      {
        method: 'POST',
        url: `${this.options.baseUrl}/oauth2/token?${query}`,
        headers: { authorization: this.basic, accept: 'application/json' },
      },
      this.options.timeoutMs,
      operation,
    );
    if (res.status !== 200) throw failureFor(operation, res);
    const parsed = oauthTokenReply.safeParse(res.body);
    if (!parsed.success) throw rejected(operation, res.status, 'invalid-reply');
    const lifetimeMs = parsed.data.expires_in * 1000;
    return {
      accessToken: parsed.data.access_token,
      refreshToken: parsed.data.refresh_token ?? null,
      renewAt: startedAt + lifetimeMs - Math.min(EXPIRY_MARGIN_MS_MAX, lifetimeMs / 10),
    };
  }
}
