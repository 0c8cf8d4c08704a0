import type { LabelRef } from '../../common/slot-state.js';
import { AuthorizedRequester } from './authorized-requester.js';
import { failureFor, rejected } from './cloud-http.js';
import {
  claimedDeviceReply,
  deletedTokenReply,
  deviceRecordsReply,
  provisionTokenReply,
  staticTokenReply,
  tokenVoidsReply,
} from './cloud-replies.js';
import { deleteDevice, ensureUser, isHardwareConnected, staticTokenState } from './device-queries.js';
import { previewCsvBatch, type CsvBatchClient, type CsvBatchPreview } from './csv-batch-preview.js';
import { pullStaticTokenBatch } from './static-token-batch.js';

/** One static token, under Blynk's own field names (as on the wire). */
export interface PulledToken {
  /** The AuthToken. Secret: goes into one board and nowhere else; never logged or shown. */
  deviceToken: string;
  /** The QR token (`sqr_…`): the claim code for the label. Not secret. */
  token: string;
  /** When the cloud made it, ms since the epoch. */
  createdAt: number;
  /** A CSV pull: this row's values, template field -> value. */
  metadata?: Record<string, string>;
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
  /**
   * One token per data row of this CSV (then `count` must equal its data rows): the header names
   * after `remap` (header -> template field, null to ignore a column) equal the template's metadata
   * fields, and each row's values become that token's metadata.
   */
  csv?: { text: string; remap: Record<string, string | null> };
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

/**
 * What QA asks the cloud about a board (the cloud check of static-token products, dynamic QA):
 * Blynk's device API, where the AuthToken is the `token` query parameter. The AuthToken goes into
 * that one request only: never into a log line, an error message or error details.
 */
export interface CloudDeviceClient {
  /** Whether a board holding `authToken` is online now; null when the cloud does not know the token (deleted, voided, expired). */
  isHardwareConnected(authToken: string): Promise<boolean | null>;
  /** A static token's lifecycle state by its QR token; null when the organisation has no such token. */
  staticTokenState(qrToken: string): Promise<StaticTokenState | null>;
  /** Removes a device (QA's test device of a dynamic product). */
  deleteDevice(deviceId: number): Promise<void>;
  /** The id of the user with this email in the caller's organisation, created when missing (QA's owner of test devices). */
  ensureUser(args: { email: string; name: string }): Promise<number>;
  provisionToken(args: { orgId: number; ownerId: number }): Promise<{ token: string; deviceId: number }>;
}

/** The cloud's limit on records per push; longer lists go in consecutive pushes. */
const RECORDS_PER_PUSH_MAX = 1000;

/**
 * CloudClient over HTTP(S) against the Flashline cloud (and the Blynk-compatible parts of Blynk):
 * OAuth2 client credentials with a cached bearer token, one fresh login and retry on a 401, a
 * deadline per request, and every reply checked against a schema.
 */
export class FlashlineCloudClient implements CloudClient, StaticTokenLifecycleClient, CloudDeviceClient, CsvBatchClient {
  private readonly http: AuthorizedRequester;
  private readonly stationId: string | null;

  constructor(options: FlashlineCloudClientOptions) {
    this.http = new AuthorizedRequester(options);
    this.stationId = options.stationId ?? null;
  }

  async pullBatch(args: PullBatchArgs): Promise<PulledBatch> {
    return pullStaticTokenBatch(this.http, args, this.stationId);
  }

  previewCsvBatch(args: { templateId: number; csv: string; remap: Record<string, string | null> }): Promise<CsvBatchPreview> {
    return previewCsvBatch(this.http, args);
  }

  async pushDeviceRecords(records: readonly DeviceRecord[]): Promise<PushResult> {
    const operation = 'sending device records';
    const total: PushResult = { accepted: 0, duplicates: 0 };
    for (let start = 0; start < records.length; start += RECORDS_PER_PUSH_MAX) {
      const chunk = records.slice(start, start + RECORDS_PER_PUSH_MAX);
      const res = await this.http.request(operation, 'POST', '/api/v1/station/device-records', { records: chunk });
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
      const res = await this.http.request(operation, 'POST', '/api/v1/station/token-voids', { voids: chunk });
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
    const res = await this.http.request(operation, 'POST', '/api/v1/organization/static-tokens/claim', { token: args.token, userId: args.userId });
    return this.http.parsed(operation, res, claimedDeviceReply);
  }

  async unclaim(token: string): Promise<StaticTokenState> {
    const operation = 'unclaiming a device';
    return this.http.parsed(operation, await this.http.request(operation, 'POST', '/api/v1/organization/static-tokens/unclaim', { token }), staticTokenReply);
  }

  async disclaim(token: string): Promise<StaticTokenState> {
    const operation = 'disclaiming a device';
    return this.http.parsed(operation, await this.http.request(operation, 'POST', '/api/v1/organization/static-tokens/disclaim', { token }), staticTokenReply);
  }

  async deleteStaticToken(qrToken: string): Promise<{ deletedDeviceId: number | null }> {
    const operation = 'deleting a static token';
    const path = `/api/v1/organization/static-tokens?token=${encodeURIComponent(qrToken)}`;
    const reply = this.http.parsed(operation, await this.http.request(operation, 'DELETE', path), deletedTokenReply);
    return { deletedDeviceId: reply.deletedDeviceId ?? null };
  }

  async provisionToken(args: { orgId: number; ownerId: number }): Promise<{ token: string; deviceId: number }> {
    const operation = 'asking for a provisioning token';
    const res = await this.http.request(operation, 'POST', '/api/v1/organization/device/provision/token', { orgId: args.orgId, ownerId: args.ownerId });
    return this.http.parsed(operation, res, provisionTokenReply);
  }

  // QA's questions about a board (core/cloud/device-queries.ts).
  isHardwareConnected(authToken: string): Promise<boolean | null> {
    return isHardwareConnected(this.http, authToken);
  }

  staticTokenState(qrToken: string): Promise<StaticTokenState | null> {
    return staticTokenState(this.http, qrToken);
  }

  deleteDevice(deviceId: number): Promise<void> {
    return deleteDevice(this.http, deviceId);
  }

  ensureUser(args: { email: string; name: string }): Promise<number> {
    return ensureUser(this.http, args);
  }
}
