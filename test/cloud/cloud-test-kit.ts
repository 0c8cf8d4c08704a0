import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startCloudServer, type CloudServer, type CloudServerOptions } from '../../cloud/server.js';

/** The cloud's stores; every lifecycle test runs on both (`describe.each(STORE_KINDS)`). */
export type StoreKind = 'sqlite' | 'postgres';
export const STORE_KINDS: readonly StoreKind[] = ['sqlite', 'postgres'];

const ENSURE_POSTGRES = fileURLToPath(new URL('../../scripts/ensure-postgres.sh', import.meta.url));
/** Starting a throwaway cluster (initdb + start) takes a few seconds; installing it longer. */
const ENSURE_POSTGRES_TIMEOUT_MS = 300_000;

let postgresUrl: string | null = null;

/**
 * The PostgreSQL server the tests use: FLASHLINE_TEST_PG_URL, or one that
 * scripts/ensure-postgres.sh starts (or finds running). Never skips: without PostgreSQL the
 * PostgreSQL half of the suite fails with this message.
 */
export function testPostgresUrl(): string {
  if (postgresUrl) return postgresUrl;
  const fromEnv = process.env.FLASHLINE_TEST_PG_URL;
  if (fromEnv) return (postgresUrl = fromEnv);
  try {
    const out = execFileSync('bash', [ENSURE_POSTGRES], { encoding: 'utf8', timeout: ENSURE_POSTGRES_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] });
    const url = out.trim().split('\n').pop() ?? '';
    if (!/^postgres(ql)?:\/\//.test(url)) throw new Error(`unexpected output: ${out.slice(0, 200)}`);
    return (postgresUrl = url);
  } catch (err) {
    const detail = err instanceof Error ? ((err as { stderr?: string }).stderr ?? err.message) : String(err);
    throw new Error(
      'The cloud tests run on PostgreSQL too and none is available: set FLASHLINE_TEST_PG_URL, or let ' +
        "scripts/ensure-postgres.sh start one (it needs Debian's postgresql package: apt-get install -y postgresql).\n" +
        detail,
    );
  }
}

/** A fresh, empty PostgreSQL schema for one test cloud; `drop` removes it and everything in it. */
export async function freshPostgresSchema(): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = testPostgresUrl();
  const schema = `flashline_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await admin.end();
  }
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A movable clock for the cloud under test (ms since the epoch). */
export class TestClock {
  constructor(public ms = Date.UTC(2026, 10, 22, 12, 0, 0)) {}
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

export interface TestCloud {
  store: StoreKind;
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

export async function startTestCloud(
  options: Omit<CloudServerOptions, 'log' | 'now' | 'dbPath'> & { store?: StoreKind; dbPath?: string } = {},
): Promise<TestCloud> {
  const clock = new TestClock();
  const logs: string[] = [];
  const { store = 'sqlite', ...serverOptions } = options;
  const schema = store === 'postgres' && !options.dbPath ? await freshPostgresSchema() : null;
  let server: CloudServer;
  try {
    server = await startCloudServer({
      ...serverOptions,
      ...(schema ? { dbPath: schema.url } : {}),
      now: clock.now,
      log: (line) => logs.push(line),
    });
  } catch (err) {
    await schema?.drop();
    throw err;
  }
  const basicAuth = (clientId = server.seed.clientId, clientSecret = server.seed.clientSecret) =>
    `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
  return {
    store,
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
    async close() {
      try {
        await server.close();
      } finally {
        await schema?.drop();
      }
    },
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

export interface ErrorBody {
  error: { code: string; message: string; rowErrors?: { row: number; column?: string; message: string }[] };
}

/** Logs an OAuth2 client in and returns its bearer token. */
export async function login(cloud: TestCloud, clientId: string, clientSecret: string): Promise<string> {
  const res = await call<{ access_token: string }>(`${cloud.url}/oauth2/token?grant_type=client_credentials`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}` },
  });
  if (res.status !== 200) throw new Error(`login failed with HTTP ${res.status}`);
  return res.body.access_token;
}

/** Bearer calls against one cloud: `api.get(path)`, `api.post(path, json)`, `api.del(path)`. */
export function apiFor(cloud: TestCloud, token: string) {
  return {
    get: <T = unknown>(path: string) => call<T>(`${cloud.url}${path}`, { token }),
    post: <T = unknown>(path: string, json: unknown) => call<T>(`${cloud.url}${path}`, { token, json }),
    del: <T = unknown>(path: string) => call<T>(`${cloud.url}${path}`, { token, method: 'DELETE' }),
  };
}

/** The device side: what a board holding `authToken` does. */
export function boardFor(cloud: TestCloud, authToken: string) {
  const q = `token=${encodeURIComponent(authToken)}`;
  return {
    connect: (templateId?: string) =>
      call<{ deviceId: number; orgId?: number; firstConnect: boolean }>(
        `${cloud.url}/external/api/device/connect?${q}${templateId ? `&templateId=${templateId}` : ''}`,
        { method: 'POST' },
      ),
    disconnect: () => call(`${cloud.url}/external/api/device/disconnect?${q}`, { method: 'POST' }),
    isConnected: () => call<boolean | ErrorBody>(`${cloud.url}/external/api/isHardwareConnected?${q}`),
    setMeta: (name: string, value: string) =>
      call(`${cloud.url}/external/api/device/meta/update?${q}&metaFieldName=${encodeURIComponent(name)}&value=${encodeURIComponent(value)}`),
  };
}

export interface World {
  /** The seeded manufacturer (org 1) and its API client's bearer token. */
  maker: ReturnType<typeof apiFor>;
  makerOrgId: number;
  templateId: number;
  /** Two customer sub-organisations of the manufacturer, each with its own API client. */
  orgA: { id: number; api: ReturnType<typeof apiFor>; userId: number };
  orgB: { id: number; api: ReturnType<typeof apiFor>; userId: number };
  /** A top-level organisation that has nothing to do with the manufacturer. */
  stranger: { id: number; api: ReturnType<typeof apiFor>; userId: number };
}

let worldRun = 0;

/**
 * Organisations and users for lifecycle tests, made through the API where the API can make them
 * (a top-level organisation cannot be made by a client, so the stranger comes from the store).
 */
export async function setupWorld(cloud: TestCloud): Promise<World> {
  const run = ++worldRun;
  const maker = apiFor(cloud, await cloud.accessToken());
  const customer = async (name: string) => {
    const org = await maker.post<{ id: number }>('/api/v1/organization/create', { name });
    const user = await maker.post<{ id: number }>('/api/v1/organization/users/create', {
      orgId: org.body.id,
      email: `${name.toLowerCase().replace(/\W/g, '')}-${run}@example.com`,
      name: `${name} owner`,
    });
    const client = await maker.post<{ clientId: string; clientSecret: string }>('/api/v1/organization/oauth/clients/create', {
      orgId: org.body.id,
      name: `${name} backend`,
    });
    if (org.status !== 201 || user.status !== 201 || client.status !== 201) throw new Error(`world setup failed: ${JSON.stringify([org, user, client].map((r) => r.status))}`);
    return { id: org.body.id, api: apiFor(cloud, await login(cloud, client.body.clientId, client.body.clientSecret)), userId: user.body.id };
  };
  const orgA = await customer('Customer A');
  const orgB = await customer('Customer B');
  const state = cloud.server.store;
  const strangerOrg = await state.orgs.createOrg({ name: 'Stranger Inc', parentId: null }, cloud.clock.ms);
  const strangerUser = await state.orgs.createUser({ orgId: strangerOrg.id, email: `stranger-${run}@example.com`, name: 'Stranger', role: 'admin' }, cloud.clock.ms);
  if (strangerUser === 'email-taken') throw new Error('world setup failed');
  const strangerClient = `stranger-client-${run}`;
  await state.oauth.upsertClient({ clientId: strangerClient, orgId: strangerOrg.id, secret: 'stranger-secret-0123456789' }, cloud.clock.ms);
  return {
    maker,
    makerOrgId: cloud.server.seed.orgId,
    templateId: cloud.server.seed.templateId,
    orgA,
    orgB,
    stranger: { id: strangerOrg.id, api: apiFor(cloud, await login(cloud, strangerClient, 'stranger-secret-0123456789')), userId: strangerUser.id },
  };
}

/** Auto-creates `count` static tokens on the seeded template; returns them as the batch reply lists them. */
export async function makeTokens(world: World, count: number): Promise<GeneratedBatch> {
  const res = await world.maker.post<GeneratedBatch>('/api/v1/organization/static-tokens/create', { templateId: world.templateId, count });
  if (res.status !== 201) throw new Error(`create failed with HTTP ${res.status}`);
  return res.body;
}
