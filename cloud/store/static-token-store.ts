import { newAuthToken, newBatchId, newQrToken } from '../secrets.js';
import type { CloudDb } from './cloud-db.js';

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
}

export interface BatchRow {
  id: string;
  orgId: number;
  templateId: number;
  stationId: string;
  requestId: string;
  tokenCount: number;
  createdAt: number;
}

export interface BatchRequest {
  orgId: number;
  templateId: number;
  stationId: string;
  requestId: string;
  count: number;
}

export type GenerateOutcome =
  | { kind: 'created'; batch: BatchRow; tokens: StaticTokenRow[] }
  | { kind: 'replayed'; batch: BatchRow; tokens: StaticTokenRow[] }
  /** The requestId was used before for a different template, station or count. */
  | { kind: 'conflict'; batch: BatchRow };

const TOKEN_COLUMNS = `id, qr_token AS qrToken, device_token AS deviceToken, org_id AS orgId, template_id AS templateId,
  batch_id AS batchId, created_at AS createdAt, status, owner_id AS ownerId, device_id AS deviceId,
  claimed_org_id AS claimedOrgId`;

const BATCH_COLUMNS = `id, org_id AS orgId, template_id AS templateId, station_id AS stationId, request_id AS requestId,
  token_count AS tokenCount, created_at AS createdAt`;

/** Random-collision retries per token before generation gives up (192-bit tokens: never in practice). */
const UNIQUE_RETRIES = 5;

export class StaticTokenStore {
  constructor(private readonly db: CloudDb) {}

  /**
   * Creates a batch of fresh static tokens, or returns the batch an earlier call with the same
   * (orgId, requestId) created. better-sqlite3 runs the whole transaction synchronously, so two
   * concurrent requests with one requestId are serialised and cannot both create a batch.
   */
  generateBatch(request: BatchRequest, now: number): GenerateOutcome {
    return this.db.transaction((): GenerateOutcome => {
      const existing = this.db
        .prepare(`SELECT ${BATCH_COLUMNS} FROM token_batches WHERE org_id = ? AND request_id = ?`)
        .get(request.orgId, request.requestId) as BatchRow | undefined;
      if (existing) {
        const same =
          existing.templateId === request.templateId &&
          existing.stationId === request.stationId &&
          existing.tokenCount === request.count;
        return same ? { kind: 'replayed', batch: existing, tokens: this.batchTokens(existing.id) } : { kind: 'conflict', batch: existing };
      }
      const batch: BatchRow = {
        id: newBatchId(),
        orgId: request.orgId,
        templateId: request.templateId,
        stationId: request.stationId,
        requestId: request.requestId,
        tokenCount: request.count,
        createdAt: now,
      };
      this.db
        .prepare(
          `INSERT INTO token_batches (id, org_id, template_id, station_id, request_id, token_count, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(batch.id, batch.orgId, batch.templateId, batch.stationId, batch.requestId, batch.tokenCount, batch.createdAt);
      const insert = this.db.prepare(
        `INSERT OR IGNORE INTO static_tokens (qr_token, device_token, org_id, template_id, batch_id, created_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      );
      for (let i = 0; i < request.count; i++) {
        let inserted = false;
        for (let attempt = 0; attempt < UNIQUE_RETRIES && !inserted; attempt++) {
          inserted = insert.run(newQrToken(), newAuthToken(), batch.orgId, batch.templateId, batch.id, now).changes === 1;
        }
        if (!inserted) throw new Error('could not draw a unique static token');
      }
      return { kind: 'created', batch, tokens: this.batchTokens(batch.id) };
    })();
  }

  batchTokens(batchId: string): StaticTokenRow[] {
    return this.db.prepare(`SELECT ${TOKEN_COLUMNS} FROM static_tokens WHERE batch_id = ? ORDER BY id`).all(batchId) as StaticTokenRow[];
  }

  /** One page of an organisation's static tokens, oldest first (page is 0-based, as on Blynk). */
  listForOrg(orgId: number, page: number, size: number): { rows: StaticTokenRow[]; total: number } {
    const rows = this.db
      .prepare(`SELECT ${TOKEN_COLUMNS} FROM static_tokens WHERE org_id = ? ORDER BY id LIMIT ? OFFSET ?`)
      .all(orgId, size, page * size) as StaticTokenRow[];
    const { total } = this.db.prepare('SELECT COUNT(*) AS total FROM static_tokens WHERE org_id = ?').get(orgId) as { total: number };
    return { rows, total };
  }

  findByQrToken(orgId: number, qrToken: string): StaticTokenRow | null {
    const row = this.db
      .prepare(`SELECT ${TOKEN_COLUMNS} FROM static_tokens WHERE org_id = ? AND qr_token = ?`)
      .get(orgId, qrToken) as StaticTokenRow | undefined;
    return row ?? null;
  }

  findByDeviceToken(deviceToken: string): StaticTokenRow | null {
    const row = this.db.prepare(`SELECT ${TOKEN_COLUMNS} FROM static_tokens WHERE device_token = ?`).get(deviceToken) as
      | StaticTokenRow
      | undefined;
    return row ?? null;
  }
}
