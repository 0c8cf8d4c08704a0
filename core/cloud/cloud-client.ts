import { StationError } from '../../common/errors.js';
import type { LabelRef } from '../../common/slot-state.js';
import { TIMEOUTS } from '../../common/timeouts.js';
import { failureFor, rejected, sendCloudRequest, type CloudResponse } from './cloud-http.js';
import { checkCloudUrl } from './cloud-url.js';
import {
  claimedDeviceReply,
  deletedTokenReply,
  deviceRecordsReply,
  generatedBatchReply,
  provisionTokenReply,
  staticTokenReply,
  tokenVoidsReply,
} from './cloud-replies.js';
import { OAuthSession } from './oauth-session.js';

/** One static token, under Blynk's own field names (as on the wire). */
export interface PulledToken {
  /** The AuthToken. Secret: goes into one board and nowhere else; never logged or shown. */
  deviceToken: string;
  /** The QR token (`sqr_…`): the claim code for the label. Not secret. */
  token: string;
  /** When the cloud made it, ms since the epoch. */
  createdAt: number;
}

export interface PulledBatch {
  batchId: string;
  /** Blynk's numeric device template id (`productId`). */
  templateId: number;
  orgId: number;
  tokens: PulledToken[];
}

/** What the station reports about one token it used (the cloud's idempotency key is recordId). */
export interface DeviceRecord {
  recordId: string;
  qrToken: string;
  /** `aa:bb:cc:dd:ee:ff`; null when the board never answered. */
  mac: string | null;
  chip: string | null;
  stationId: string;
  result: 'passed' | 'failed';
  /** SHA-256 (lower-case hex) of the per-device payload written to the board. */
  payloadSha256: string | null;
  firmwareVersion: string | null;
  labelRef: LabelRef | null;
  /** ms since the epoch. */
  completedAt: number;
}

export interface PushResult {
  accepted: number;
  duplicates: number;
}

export interface PullBatchArgs {
  count: number;
  templateId: number;
  requestId: string;
  /** Which station asks; the cloud keeps it with the batch. Defaults to the client's `stationId`. */
  stationId?: string;
}

/**
 * The one interface the station uses to talk to a cloud. Every failure is a StationError:
 * CLOUD_UNREACHABLE (network, timeout, 5xx, 429: retry later) or CLOUD_REJECTED (the cloud refused
 * or answered nonsense: retrying will not help). Messages never contain a token.
 */
export interface CloudClient {
  /**
   * Asks for `count` fresh static tokens. Idempotent by `requestId`: after a lost reply, call
   * again with the same requestId to get the same batch (make it durable before the first call).
   */
  pullBatch(args: PullBatchArgs): Promise<PulledBatch>;
  /** Idempotent by recordId: resending records the cloud already has changes nothing. */
  pushDeviceRecords(records: readonly DeviceRecord[]): Promise<PushResult>;
}

export interface FlashlineCloudClientOptions {
  /** e.g. `https://cloud.example.com` or `http://127.0.0.1:8080`. */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** Default `stationId` of batch requests that do not name one. */
  stationId?: string;
  fetchImpl?: typeof fetch;
  /** Deadline of each HTTP request (the token request and a retry get their own). */
  timeoutMs?: number;
  /** Station clock, ms since the epoch (token expiry). */
  now?: () => number;
}

/** A token the station will never ship: voided by a supervisor, or burned in a board that failed. */
export interface TokenVoid {
  /** The QR token (`sqr_…`). */
  qrToken: string;
  reason: 'voided' | 'burned';
  stationId: string;
  /** ms since the epoch. */
  voidedAt: number;
}

/** The device a claim moved (Blynk's field names; never an AuthToken). */
export interface ClaimedDevice {
  id: number;
  orgId?: number | undefined;
  ownerUserId?: number | undefined;
  templateId?: number | undefined;
}

/** A static token as the lifecycle endpoints answer it, seen from a claimant (no AuthToken). */
export interface StaticTokenState {
  token: string;
  orgId: number;
  status: 'CLAIMED' | 'UNCLAIMED';
  ownerId?: number | undefined;
  deviceId?: number | undefined;
  claimedOrgId?: number | undefined;
}

/**
 * The static-token lifecycle after the factory, for supervisors' tools and the demo: claim by QR
 * code (`sqr_…` or `sqr_…+{orgId}`), unclaim, disclaim, delete, dynamic provisioning tokens, and
 * the station's report of voided and burned tokens. Same failure model as CloudClient.
 */
export interface StaticTokenLifecycleClient {
  claim(args: { token: string; userId: number }): Promise<ClaimedDevice>;
  unclaim(token: string): Promise<StaticTokenState>;
  disclaim(token: string): Promise<StaticTokenState>;
  deleteStaticToken(qrToken: string): Promise<{ deletedDeviceId: number | null }>;
  provisionToken(args: { orgId: number; ownerId: number }): Promise<{ token: string; deviceId: number }>;
  /** Idempotent: resending voids the cloud has changes nothing. */
  pushTokenVoids(voids: readonly TokenVoid[]): Promise<PushResult>;
}

/** The cloud's limit on records per push; longer lists go in consecutive pushes. */
const RECORDS_PER_PUSH_MAX = 1000;
const BATCH_COUNT_MAX = 1000;

/**
 * CloudClient over HTTP(S) against the Flashline cloud (and the Blynk-compatible parts of Blynk):
 * OAuth2 client credentials with a cached bearer token, one fresh login and retry on a 401, a
 * deadline per request, and every reply checked against a schema.
 */
export class FlashlineCloudClient implements CloudClient, StaticTokenLifecycleClient {
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;
  private readonly session: OAuthSession;
  private readonly stationId: string | null;

  constructor(options: FlashlineCloudClientOptions) {
    checkCloudUrl(options.baseUrl);
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.fetchImpl = options.fetchImpl ?? fetch;
    this.timeoutMs = options.timeoutMs ?? TIMEOUTS.cloudRequestMs;
    this.stationId = options.stationId ?? null;
    this.session = new OAuthSession({
      baseUrl: this.baseUrl,
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      fetchImpl: this.fetchImpl,
      timeoutMs: this.timeoutMs,
      now: options.now ?? Date.now,
    });
  }

  async pullBatch(args: PullBatchArgs): Promise<PulledBatch> {
    const operation = 'pulling a token batch';
    const stationId = args.stationId ?? this.stationId;
    if (!stationId) {
      throw new StationError({
        code: 'INVALID_INPUT',
        message: 'The station has no station id for its cloud requests; set one in the station settings.',
        operatorFault: false,
      });
    }
    if (!Number.isInteger(args.count) || args.count < 1 || args.count > BATCH_COUNT_MAX) {
      throw new StationError({
        code: 'INVALID_INPUT',
        message: `Ask for between 1 and ${BATCH_COUNT_MAX} tokens per batch.`,
        operatorFault: true,
        details: { count: args.count },
      });
    }
    const res = await this.authorized(operation, 'POST', '/api/v1/organization/static-tokens/generate', {
      templateId: args.templateId,
      count: args.count,
      stationId,
      requestId: args.requestId,
    });
    if (res.status !== 200 && res.status !== 201) throw failureFor(operation, res);
    const parsed = generatedBatchReply.safeParse(res.body);
    if (!parsed.success) throw rejected(operation, res.status, 'invalid-reply');
    const batch = parsed.data;
    // The station trusts a batch only if it is exactly what it asked for: a short, foreign or
    // self-colliding batch would put the queue's uniqueness guarantees at the mercy of the server.
    const distinct = new Set(batch.tokens.map((t) => t.deviceToken)).size === batch.tokens.length &&
      new Set(batch.tokens.map((t) => t.token)).size === batch.tokens.length;
    if (batch.tokens.length !== args.count || batch.templateId !== args.templateId || !distinct) {
      throw rejected(operation, res.status, 'invalid-reply');
    }
    return {
      batchId: batch.batchId,
      templateId: batch.templateId,
      orgId: batch.orgId,
      tokens: batch.tokens.map((t) => ({ deviceToken: t.deviceToken, token: t.token, createdAt: t.createdAt })),
    };
  }

  async pushDeviceRecords(records: readonly DeviceRecord[]): Promise<PushResult> {
    const operation = 'sending device records';
    const total: PushResult = { accepted: 0, duplicates: 0 };
    for (let start = 0; start < records.length; start += RECORDS_PER_PUSH_MAX) {
      const chunk = records.slice(start, start + RECORDS_PER_PUSH_MAX);
      const res = await this.authorized(operation, 'POST', '/api/v1/station/device-records', { records: chunk });
      if (res.status !== 200) throw failureFor(operation, res);
      const parsed = deviceRecordsReply.safeParse(res.body);
      if (!parsed.success || parsed.data.accepted + parsed.data.duplicates !== chunk.length) {
        throw rejected(operation, res.status, 'invalid-reply');
      }
      total.accepted += parsed.data.accepted;
      total.duplicates += parsed.data.duplicates;
    }
    return total;
  }

  async pushTokenVoids(voids: readonly TokenVoid[]): Promise<PushResult> {
    const operation = 'sending voided and burned tokens';
    const total: PushResult = { accepted: 0, duplicates: 0 };
    for (let start = 0; start < voids.length; start += RECORDS_PER_PUSH_MAX) {
      const chunk = voids.slice(start, start + RECORDS_PER_PUSH_MAX);
      const res = await this.authorized(operation, 'POST', '/api/v1/station/token-voids', { voids: chunk });
      if (res.status !== 200) throw failureFor(operation, res);
      const parsed = tokenVoidsReply.safeParse(res.body);
      if (!parsed.success || parsed.data.accepted + parsed.data.duplicates !== chunk.length) {
        throw rejected(operation, res.status, 'invalid-reply');
      }
      total.accepted += parsed.data.accepted;
      total.duplicates += parsed.data.duplicates;
    }
    return total;
  }

  async claim(args: { token: string; userId: number }): Promise<ClaimedDevice> {
    const operation = 'claiming a device';
    const res = await this.authorized(operation, 'POST', '/api/v1/organization/static-tokens/claim', { token: args.token, userId: args.userId });
    return this.parsed(operation, res, claimedDeviceReply);
  }

  async unclaim(token: string): Promise<StaticTokenState> {
    const operation = 'unclaiming a device';
    return this.parsed(operation, await this.authorized(operation, 'POST', '/api/v1/organization/static-tokens/unclaim', { token }), staticTokenReply);
  }

  async disclaim(token: string): Promise<StaticTokenState> {
    const operation = 'disclaiming a device';
    return this.parsed(operation, await this.authorized(operation, 'POST', '/api/v1/organization/static-tokens/disclaim', { token }), staticTokenReply);
  }

  async deleteStaticToken(qrToken: string): Promise<{ deletedDeviceId: number | null }> {
    const operation = 'deleting a static token';
    const path = `/api/v1/organization/static-tokens?token=${encodeURIComponent(qrToken)}`;
    const reply = this.parsed(operation, await this.authorized(operation, 'DELETE', path), deletedTokenReply);
    return { deletedDeviceId: reply.deletedDeviceId ?? null };
  }

  async provisionToken(args: { orgId: number; ownerId: number }): Promise<{ token: string; deviceId: number }> {
    const operation = 'asking for a provisioning token';
    const res = await this.authorized(operation, 'POST', '/api/v1/organization/device/provision/token', { orgId: args.orgId, ownerId: args.ownerId });
    return this.parsed(operation, res, provisionTokenReply);
  }

  /** A 200 reply checked against its schema; anything else is the usual StationError. */
  private parsed<T>(operation: string, res: CloudResponse, schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } }): T {
    if (res.status !== 200) throw failureFor(operation, res);
    const parsed = schema.safeParse(res.body);
    if (!parsed.success) throw rejected(operation, res.status, 'invalid-reply');
    return parsed.data;
  }

  /**
   * One API call with the cached bearer token. A 401 means the server no longer honours the
   * token (expired early, revoked, server restarted): log in again once and retry once. The
   * endpoints are idempotent, and a 401 is answered before anything is done, so the retry is safe.
   */
  private async authorized(operation: string, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown) {
    const send = async (token: string) =>
      sendCloudRequest(
        this.fetchImpl,
        {
          method,
          url: `${this.baseUrl}${path}`,
          headers: {
            authorization: `Bearer ${token}`,
            accept: 'application/json',
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        },
        this.timeoutMs,
        operation,
      );
    const token = await this.session.accessToken();
    const first = await send(token);
    if (first.status !== 401) return first;
    this.session.invalidate(token);
    return send(await this.session.accessToken());
  }
}
