import type { IncomingMessage } from 'node:http';
import type { CloudStore } from '../store/cloud-store.js';
import type { ClientKind, OAuthClientIdentity } from '../store/oauth-store.js';

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

export interface RouteContext {
  req: IncomingMessage;
  url: URL;
  /** Clock reading taken when the request arrived (ms since the epoch). */
  now: number;
  store: CloudStore;
  /** The OAuth2 client behind the bearer token (routes with `auth: 'bearer'` only). */
  client: OAuthClientIdentity | null;
}

export type RouteReply =
  | { status: number; body: unknown; headers?: Record<string, string> }
  /** Bytes with their own content type (the export zip). */
  | { status: number; raw: Buffer; contentType: string; headers?: Record<string, string> }
  /** Blynk answers some device calls with an empty 200. */
  | { status: number; empty: true; headers?: Record<string, string> };

export interface Route {
  method: HttpMethod;
  /** Exact path; the service has no path parameters (Blynk passes ids in the query). */
  path: string;
  /**
   * `bearer`: needs an unexpired OAuth2 access token, rate-limited per organisation.
   * `public`: no bearer (the token endpoint checks Basic itself, device calls carry the
   * AuthToken), rate-limited per remote address.
   */
  auth: 'bearer' | 'public';
  /** Client kinds a bearer route accepts; `['api']` when not given (station clients are narrow). */
  clients?: readonly ClientKind[];
  handle(ctx: RouteContext): Promise<RouteReply>;
}

/** The caller of a bearer route (the server has authenticated it already). */
export function callerOf(ctx: RouteContext): OAuthClientIdentity {
  if (!ctx.client) throw new Error('bearer route reached without a client');
  return ctx.client;
}
