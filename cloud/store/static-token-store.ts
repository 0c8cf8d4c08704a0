import { newAuthToken, newBatchId, newQrToken } from '../secrets.js';
import type { CloudDb } from './cloud-db.js';
import type { SqlExecutor } from './sql/sql-db.js';

export type VoidReason = 'voided' | 'burned';

export interface StaticTokenRow {
  id: number;
  qrToken: string;
  /** Secret. */
  deviceToken: string;
  orgId: number;
  templateId: number;
  batchId: string | null;
  createdAt: number;
  status: 'CLAIMED' | 'UNCLAIMED';
  ownerId: number | null;
  deviceId: number | null;
  claimedOrgId: number | null;
  /** JSON object of metadata values (from a CSV row), or null. */
  metadata: string | null;
  deletedAt: number | null;
  voidReason: VoidReason | null;
}

export interface BatchRow {
  id: string;
  orgId: number;
  templateId: number;
  stationId: string;
  requestId: string;
  tokenCount: number;
  createdAt: number;
  source: 'station' | 'console';
  requestSha256: string | null;
}

export interface BatchRequest {
  orgId: number;
  templateId: number;
  /** The station that asked; `console` for batches made through the organisation API. */
  stationId: string;
  requestId: string;
  source: 'station' | 'console';
  /** One entry per token: that device's metadata values, or null (auto-create). */
  metadata: readonly (Record<string, string> | null)[];
  /** Digest of everything the request asked for; a reused requestId must match it. */
  requestSha256: string;
}

export type GenerateOutcome =
  | { kind: 'created'; batch: BatchRow; tokens: StaticTokenRow[] }
  | { kind: 'replayed'; batch: BatchRow; tokens: StaticTokenRow[] }
  /** The requestId was used before for a different request. */
  | { kind: 'conflict'; batch: BatchRow };

export interface VoidInput {
  qrToken: string;
  reason: VoidReason;
  stationId: string;
  voidedAt: number;
}

export type VoidPushOutcome =
  | { kind: 'ok'; accepted: number; duplicates: number }
  | { kind: 'unknown-token'; index: number }
  /** The token was already reported with the other reason. */
  | { kind: 'conflict'; index: number };

export const TOKEN_COLUMNS = `id, qr_token AS "qrToken", device_token AS "deviceToken", org_id AS "orgId",
  template_id AS "templateId", batch_id AS "batchId", created_at AS "createdAt", status, owner_id AS "ownerId",
  device_id AS "deviceId", claimed_org_id AS "claimedOrgId", metadata, deleted_at AS "deletedAt",
  void_reason AS "voidReason"`;

const BATCH_COLUMNS = `id, org_id AS "orgId", template_id AS "templateId", station_id AS "stationId",
  request_id AS "requestId", token_count AS "tokenCount", created_at AS "createdAt", source,
  request_sha256 AS "requestSha256"`;

/** Random-collision retries per token before generation gives up (192-bit tokens: never in practice). */
const UNIQUE_RETRIES = 5;

export class StaticTokenStore {
  constructor(private readonly db: CloudDb) {}

  /**
   * Creates a batch of fresh static tokens, or returns the batch an earlier call with the same
   * (orgId, requestId) created. One transaction: on SQLite the store's lock serialises it, on
   * PostgreSQL it runs SERIALIZABLE and a concurrent twin is retried, finds the batch and replays.
   */
  async generateBatch(request: BatchRequest, now: number): Promise<GenerateOutcome> {
    return this.db.transaction(async (tx): Promise<GenerateOutcome> => {
      const existing = await tx.get<BatchRow>(`SELECT ${BATCH_COLUMNS} FROM token_batches WHERE org_id = ? AND request_id = ?`, [
        request.orgId,
        request.requestId,
      ]);
      if (existing) {
        const same =
          existing.requestSha256 !== null
            ? existing.requestSha256 === request.requestSha256
            : // Batches from schema version 1 kept no digest: compare what they did keep.
              existing.templateId === request.templateId &&
              existing.stationId === request.stationId &&
              existing.tokenCount === request.metadata.length &&
              request.metadata.every((m) => m === null);
        return same ? { kind: 'replayed', batch: existing, tokens: await this.batchTokens(existing.id, tx) } : { kind: 'conflict', batch: existing };
      }
      const batch: BatchRow = {
        id: newBatchId(),
        orgId: request.orgId,
        templateId: request.templateId,
        stationId: request.stationId,
        requestId: request.requestId,
        tokenCount: request.metadata.length,
        createdAt: now,
        source: request.source,
        requestSha256: request.requestSha256,
      };
      await tx.run(
        `INSERT INTO token_batches (id, org_id, template_id, station_id, request_id, token_count, created_at, source, request_sha256)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [batch.id, batch.orgId, batch.templateId, batch.stationId, batch.requestId, batch.tokenCount, now, batch.source, batch.requestSha256],
      );
      for (const metadata of request.metadata) {
        let inserted = false;
        for (let attempt = 0; attempt < UNIQUE_RETRIES && !inserted; attempt++) {
          const res = await tx.run(
            `INSERT INTO static_tokens (qr_token, device_token, org_id, template_id, batch_id, created_at, metadata)
             VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
            [newQrToken(), newAuthToken(), batch.orgId, batch.templateId, batch.id, now, metadata ? JSON.stringify(metadata) : null],
          );
          inserted = res.changes === 1;
        }
        if (!inserted) throw new Error('could not draw a unique static token');
      }
      return { kind: 'created', batch, tokens: await this.batchTokens(batch.id, tx) };
    });
  }

  async batchTokens(batchId: string, tx: SqlExecutor = this.db): Promise<StaticTokenRow[]> {
    return tx.all<StaticTokenRow>(`SELECT ${TOKEN_COLUMNS} FROM static_tokens WHERE batch_id = ? ORDER BY id`, [batchId]);
  }

  async getBatch(batchId: string): Promise<BatchRow | null> {
    return (await this.db.get<BatchRow>(`SELECT ${BATCH_COLUMNS} FROM token_batches WHERE id = ?`, [batchId])) ?? null;
  }

  /** One page of an organisation's static tokens, oldest first (page is 0-based, as on Blynk). Deleted ones are gone. */
  async listForOrg(orgId: number, page: number, size: number): Promise<{ rows: StaticTokenRow[]; total: number }> {
    const rows = await this.db.all<StaticTokenRow>(
      `SELECT ${TOKEN_COLUMNS} FROM static_tokens WHERE org_id = ? AND deleted_at IS NULL ORDER BY id LIMIT ? OFFSET ?`,
      [orgId, size, page * size],
    );
    const count = await this.db.get<{ total: number }>('SELECT COUNT(*) AS total FROM static_tokens WHERE org_id = ? AND deleted_at IS NULL', [
      orgId,
    ]);
    return { rows, total: count?.total ?? 0 };
  }

  async findByQrToken(qrToken: string, tx: SqlExecutor = this.db): Promise<StaticTokenRow | null> {
    return (await tx.get<StaticTokenRow>(`SELECT ${TOKEN_COLUMNS} FROM static_tokens WHERE qr_token = ?`, [qrToken])) ?? null;
  }

  async findByDeviceToken(deviceToken: string, tx: SqlExecutor = this.db): Promise<StaticTokenRow | null> {
    return (await tx.get<StaticTokenRow>(`SELECT ${TOKEN_COLUMNS} FROM static_tokens WHERE device_token = ?`, [deviceToken])) ?? null;
  }

  /**
   * Tokens a station reports as voided (never to be used) or burned (in a board that failed). All
   * or nothing, idempotent: the same report again is a duplicate; the other reason is a conflict.
   * A retired token is never claimed and its AuthToken never connects.
   */
  async pushVoids(orgId: number, voids: readonly VoidInput[]): Promise<VoidPushOutcome> {
    try {
      return await this.db.transaction(async (tx): Promise<VoidPushOutcome> => {
        let accepted = 0;
        let duplicates = 0;
        for (const [index, entry] of voids.entries()) {
          const token = await tx.get<{ id: number; void_reason: VoidReason | null }>(
            'SELECT id, void_reason FROM static_tokens WHERE org_id = ? AND qr_token = ?',
            [orgId, entry.qrToken],
          );
          if (!token) throw new RejectVoids({ kind: 'unknown-token', index });
          if (token.void_reason !== null) {
            if (token.void_reason !== entry.reason) throw new RejectVoids({ kind: 'conflict', index });
            duplicates++;
            continue;
          }
          await tx.run('UPDATE static_tokens SET void_reason = ?, voided_at = ?, void_station_id = ? WHERE id = ?', [
            entry.reason,
            entry.voidedAt,
            entry.stationId,
            token.id,
          ]);
          accepted++;
        }
        return { kind: 'ok', accepted, duplicates };
      });
    } catch (err) {
      if (err instanceof RejectVoids) return err.outcome;
      throw err;
    }
  }
}

class RejectVoids extends Error {
  constructor(readonly outcome: Exclude<VoidPushOutcome, { kind: 'ok' }>) {
    super(outcome.kind);
  }
}
