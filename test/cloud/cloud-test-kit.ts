import { startCloudServer, type CloudServer, type CloudServerOptions } from '../../cloud/server.js';

/** A movable clock for the cloud under test (ms since the epoch). */
export class TestClock {
  constructor(public ms = Date.UTC(2026, 10, 22, 12, 0, 0)) {}
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

export interface TestCloud {
  server: CloudServer;
  url: string;
  clock: TestClock;
  /** Every log line the server wrote. */
  logs: string[];
  basicAuth(clientId?: string, clientSecret?: string): string;
  /** A fresh bearer token for the seeded client. */
  accessToken(): Promise<string>;
  close(): Promise<void>;
}

export async function startTestCloud(options: Omit<CloudServerOptions, 'log' | 'now'> = {}): Promise<TestCloud> {
  const clock = new TestClock();
  const logs: string[] = [];
  const server = await startCloudServer({ ...options, now: clock.now, log: (line) => logs.push(line) });
  const basicAuth = (clientId = server.seed.clientId, clientSecret = server.seed.clientSecret) =>
    `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
  return {
    server,
    url: server.url,
    clock,
    logs,
    basicAuth,
    async accessToken() {
      const res = await fetch(`${server.url}/oauth2/token?grant_type=client_credentials`, {
        method: 'POST',
        headers: { authorization: basicAuth() },
      });
      if (res.status !== 200) throw new Error(`token request failed with HTTP ${res.status}`);
      return ((await res.json()) as { access_token: string }).access_token;
    },
    close: () => server.close(),
  };
}

export interface JsonReply<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** One request; the body (when an object) goes as JSON. */
export async function call<T = unknown>(
  url: string,
  init: { method?: string; token?: string; json?: unknown; rawBody?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<JsonReply<T>> {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  let body: string | Buffer | undefined;
  if (init.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(init.json);
  } else if (init.rawBody !== undefined) {
    body = init.rawBody;
  }
  const res = await fetch(url, { method: init.method ?? (body !== undefined ? 'POST' : 'GET'), headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as T };
}

export interface GeneratedBatch {
  batchId: string;
  templateId: number;
  orgId: number;
  tokens: { deviceToken: string; token: string; createdAt: number }[];
}

export async function generate(
  cloud: TestCloud,
  token: string,
  body: { templateId?: number; count: number; stationId?: string; requestId: string },
): Promise<JsonReply<GeneratedBatch>> {
  return call<GeneratedBatch>(`${cloud.url}/api/v1/organization/static-tokens/generate`, {
    token,
    json: { templateId: cloud.server.seed.templateId, stationId: 'station-1', ...body },
  });
}
