import type { IncomingMessage } from 'node:http';
import type { CloudStore } from '../store/cloud-store.js';
import type { OAuthClientIdentity } from '../store/oauth-store.js';

export type HttpMethod = 'GET' | 'POST';

export interface RouteContext {
  req: IncomingMessage;
  url: URL;
  /** Clock reading taken when the request arrived (ms since the epoch). */
  now: number;
  store: CloudStore;
  /** The OAuth2 client behind the bearer token (routes with `auth: 'bearer'` only). */
  client: OAuthClientIdentity | null;
}

export interface RouteReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface Route {
  method: HttpMethod;
  /** Exact path; the service has no path parameters (Blynk passes ids in the query). */
  path: string;
  /**
   * `bearer`: needs an unexpired OAuth2 access token, rate-limited per organisation.
   * `public`: no bearer (the token endpoint checks Basic itself), rate-limited per remote address.
   */
  auth: 'bearer' | 'public';
  handle(ctx: RouteContext): Promise<RouteReply>;
}
