import { TIMEOUTS } from '../../common/timeouts.js';
import { failureFor, rejected, sendCloudRequest, type CloudResponse } from './cloud-http.js';
import { checkCloudUrl } from './cloud-url.js';
import { OAuthSession } from './oauth-session.js';

export interface AuthorizedRequesterOptions {
  /** e.g. `https://cloud.example.com` or `http://127.0.0.1:8080` (HTTPS unless loopback). */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  fetchImpl?: typeof fetch;
  /** Deadline of each HTTP request (the token request and a retry get their own). */
  timeoutMs?: number;
  /** Station clock, ms since the epoch (token expiry). */
  now?: () => number;
}

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

/** A zod-like schema: only `safeParse` is used. */
export interface ReplySchema<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false };
}

/**
 * Calls to an OAuth2-protected cloud API (Blynk's and ours share the scheme): a cached bearer
 * token from client credentials, one fresh login and one retry on a 401, a deadline per request.
 * Every failure is a StationError (CLOUD_UNREACHABLE or CLOUD_REJECTED) whose message names the
 * operation and never a token: paths that carry an AuthToken never reach an error or a log.
 */
export class AuthorizedRequester {
  readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;
  private readonly session: OAuthSession;

  constructor(options: AuthorizedRequesterOptions) {
    checkCloudUrl(options.baseUrl);
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.fetchImpl = options.fetchImpl ?? fetch;
    this.timeoutMs = options.timeoutMs ?? TIMEOUTS.cloudRequestMs;
    this.session = new OAuthSession({
      baseUrl: this.baseUrl,
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      fetchImpl: this.fetchImpl,
      timeoutMs: this.timeoutMs,
      now: options.now ?? Date.now,
    });
  }

  /**
   * One API call with the cached bearer token. A 401 means the server no longer honours the token
   * (expired early, revoked, server restarted): log in again once and retry once. A 401 is answered
   * before anything is done, so the retry is safe for every endpoint.
   */
  async request(operation: string, method: HttpMethod, path: string, body?: unknown): Promise<CloudResponse> {
    const token = await this.session.accessToken();
    const first = await this.send(operation, method, path, { authorization: `Bearer ${token}` }, body);
    if (first.status !== 401) return first;
    this.session.invalidate(token);
    return this.send(operation, method, path, { authorization: `Bearer ${await this.session.accessToken()}` }, body);
  }

  /** A call without the bearer token (Blynk's device-side `/external/api/…`, keyed by the AuthToken). */
  async requestPublic(operation: string, method: HttpMethod, path: string): Promise<CloudResponse> {
    return this.send(operation, method, path, {});
  }

  /** A 200 reply checked against its schema; anything else is the usual StationError. */
  parsed<T>(operation: string, res: CloudResponse, schema: ReplySchema<T>): T {
    if (res.status !== 200) throw failureFor(operation, res);
    const parsed = schema.safeParse(res.body);
    if (!parsed.success) throw rejected(operation, res.status, 'invalid-reply');
    return parsed.data;
  }

  private send(operation: string, method: HttpMethod, path: string, headers: Record<string, string>, body?: unknown): Promise<CloudResponse> {
    return sendCloudRequest(
      this.fetchImpl,
      {
        method,
        url: `${this.baseUrl}${path}`,
        headers: {
          ...headers,
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      },
      this.timeoutMs,
      operation,
    );
  }
}
