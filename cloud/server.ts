import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bearerToken } from './http/auth-header.js';
import { CloudHttpError, OAuthHttpError } from './http/http-error.js';
import { CloudLogger, redactSecrets, stderrSink, type LogSink } from './http/request-log.js';
import { FixedWindowRateLimiter } from './http/rate-limiter.js';
import type { Route } from './http/route.js';
import { CLOUD_LIMITS, CLOUD_TIMEOUTS } from './limits.js';
import { CLOUD_ROUTES } from './routes/index.js';
import { CloudStore, type SeedOptions, type SeedResult } from './store/cloud-store.js';

export interface CloudServerOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** SQLite file, ':memory:', or a `postgres://` / `postgresql://` URL. */
  dbPath?: string;
  seed?: SeedOptions;
  /** Where log lines go (one JSON object each); stderr by default. */
  log?: LogSink;
  /** Clock in ms since the epoch; tests move it to expire tokens. */
  now?: () => number;
  accessTokenTtlS?: number;
  refreshTokenTtlS?: number;
  rateLimits?: { perOrgPerMinute?: number; perAddressPerMinute?: number };
}

export interface CloudServer {
  /** `http://host:port`, no trailing slash. */
  url: string;
  seed: SeedResult;
  /** The service's state; the device gateway (a later issue) and tests reach it here. */
  store: CloudStore;
  close(): Promise<void>;
}

const BEARER_CHALLENGE = 'Bearer realm="flashline-cloud"';

/**
 * Starts the cloud service: plain node:http, one SQLite store, the routes in `routes/index.ts`.
 * Resolves once it listens.
 */
export async function startCloudServer(options: CloudServerOptions = {}): Promise<CloudServer> {
  const { host = '127.0.0.1', port = 0, dbPath = ':memory:' } = options;
  const now = options.now ?? Date.now;
  const logger = new CloudLogger(options.log ?? stderrSink, now);
  const store = await CloudStore.open(dbPath, {
    accessTokenTtlS: options.accessTokenTtlS ?? CLOUD_TIMEOUTS.accessTokenTtlS,
    refreshTokenTtlS: options.refreshTokenTtlS ?? CLOUD_TIMEOUTS.refreshTokenTtlS,
  });
  let seed: SeedResult;
  try {
    seed = await store.seed(options.seed ?? {}, now());
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  const perOrg = new FixedWindowRateLimiter(
    options.rateLimits?.perOrgPerMinute ?? CLOUD_LIMITS.requestsPerMinutePerOrg,
    CLOUD_TIMEOUTS.rateLimitWindowMs,
  );
  const perAddress = new FixedWindowRateLimiter(
    options.rateLimits?.perAddressPerMinute ?? CLOUD_LIMITS.requestsPerMinutePerAddress,
    CLOUD_TIMEOUTS.rateLimitWindowMs,
  );

  async function dispatch(req: IncomingMessage, res: ServerResponse, started: number, meta: RequestMeta): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://cloud.invalid');
    } catch {
      throw new CloudHttpError('INVALID_INPUT', 'The request URL is malformed.');
    }
    meta.path = url.pathname;
    const candidates = CLOUD_ROUTES.filter((r) => r.path === url.pathname);
    if (candidates.length === 0) throw new CloudHttpError('NOT_FOUND', 'No such endpoint.');
    const route = candidates.find((r) => r.method === req.method);
    if (!route) {
      throw new CloudHttpError('METHOD_NOT_ALLOWED', 'This endpoint does not accept that HTTP method.', {
        allow: candidates.map((r) => r.method).join(', '),
      });
    }
    meta.route = route;
    const client = route.auth === 'bearer' ? await authenticate(req, started) : null;
    meta.orgId = client?.orgId ?? null;
    const decision = client
      ? perOrg.take(`org:${client.orgId}`, started)
      : perAddress.take(`addr:${req.socket.remoteAddress ?? 'unknown'}`, started);
    if (!decision.ok) {
      throw new CloudHttpError('RATE_LIMITED', 'Too many requests; wait and try again.', {
        'retry-after': String(decision.retryAfterS),
      });
    }
    if (client && !(route.clients ?? ['api']).includes(client.kind)) {
      throw new CloudHttpError('FORBIDDEN', 'This OAuth2 client may not use this endpoint (station clients reach only the station endpoints).');
    }
    const reply = await route.handle({ req, url, now: started, store, client });
    if ('raw' in reply) sendBytes(res, reply.status, reply.raw, reply.contentType, reply.headers);
    else if ('empty' in reply) sendBytes(res, reply.status, Buffer.alloc(0), null, reply.headers);
    else sendJson(res, reply.status, reply.body, reply.headers);
  }

  async function authenticate(req: IncomingMessage, at: number) {
    const token = bearerToken(req);
    if (!token) {
      throw new CloudHttpError('UNAUTHORIZED', 'Send an OAuth2 access token as "Authorization: Bearer <token>".', {
        'www-authenticate': BEARER_CHALLENGE,
      });
    }
    const client = await store.oauth.resolveAccessToken(token, at);
    if (!client) {
      throw new CloudHttpError('UNAUTHORIZED', 'The access token is invalid or has expired; get a new one from /oauth2/token.', {
        'www-authenticate': `${BEARER_CHALLENGE}, error="invalid_token"`,
      });
    }
    return client;
  }

  const server = createServer((req, res) => {
    const started = now();
    const startedHr = performance.now();
    const meta: RequestMeta = { path: null, route: null, orgId: null, errorCode: null };
    res.on('finish', () => {
      logger.log('request', {
        method: req.method,
        // The route pattern when one matched; otherwise the bare path (never the query string),
        // redacted before it is cut short so no fragment of a token survives the cut.
        path: meta.route?.path ?? (meta.path ? redactSecrets(meta.path).slice(0, 120) : null),
        status: res.statusCode,
        ms: Math.round((performance.now() - startedHr) * 10) / 10,
        orgId: meta.orgId,
        error: meta.errorCode,
      });
    });
    dispatch(req, res, started, meta).catch((err: unknown) => {
      if (err instanceof CloudHttpError) {
        meta.errorCode = err.code;
        sendJson(res, err.status, err.body(), err.headers, err.code === 'PAYLOAD_TOO_LARGE');
      } else if (err instanceof OAuthHttpError) {
        meta.errorCode = err.error;
        sendJson(res, err.status, err.body(), { ...err.headers, pragma: 'no-cache' });
      } else {
        meta.errorCode = 'INTERNAL';
        const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        logger.log('internal-error', { path: meta.route?.path ?? null, detail: redactSecrets(detail).slice(0, 500) });
        const body = new CloudHttpError('INTERNAL', 'Internal error; try again later.').body();
        sendJson(res, 500, body);
      }
    });
  });
  server.requestTimeout = CLOUD_TIMEOUTS.requestMs;
  server.headersTimeout = CLOUD_TIMEOUTS.headersMs;
  server.keepAliveTimeout = CLOUD_TIMEOUTS.keepAliveMs;

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  const address = server.address() as AddressInfo;
  const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${hostPart}:${address.port}`;
  logger.log('listening', { url, orgId: seed.orgId, templateId: seed.templateId });

  let closing: Promise<void> | null = null;
  return {
    url,
    seed,
    store,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => {
          store.close().then(
            () => (err ? reject(err) : resolve()),
            (closeErr: unknown) => reject(closeErr instanceof Error ? closeErr : new Error(String(closeErr))),
          );
        });
        // Idle keep-alive sockets would hold close() open until keepAliveMs passes.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

interface RequestMeta {
  path: string | null;
  route: Route | null;
  orgId: number | null;
  errorCode: string | null;
}

const COMMON_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
} as const;

function sendBytes(res: ServerResponse, status: number, bytes: Buffer, contentType: string | null, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, {
    ...(contentType ? { 'content-type': contentType } : {}),
    'content-length': bytes.length,
    ...COMMON_HEADERS,
    ...headers,
  });
  res.end(bytes);
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
  closeConnection = false,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    ...COMMON_HEADERS,
    // An unread oversize body would otherwise be parsed as the next request on this connection.
    ...(closeConnection ? { connection: 'close' } : {}),
    ...headers,
  });
  res.end(payload);
}
