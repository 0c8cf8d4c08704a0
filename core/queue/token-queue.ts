import type { StockView } from '../../common/api.js';
import { stationError } from '../../common/errors.js';
import { transitionToken, type TokenState } from '../../common/token-state.js';
import type { StationDatabase } from '../db/open-database.js';
import { sealerOf } from '../secrets/database-sealer.js';
import type { TokenSealer } from '../secrets/token-sealer.js';

export interface ImportedToken {
  /** Secret. Stored, written into one board, never logged or shown. */
  authToken: string;
  qrToken: string;
  /** Per-token metadata (a CSV pull: template field -> value); not secret. */
  metadata?: Record<string, string>;
}

export interface BatchImport {
  batchId: string;
  cloudBatchId: string;
  templateId: string;
  orgId: number;
  tokens: ImportedToken[];
}

/** A token row as the rest of the station sees it: no AuthToken. */
export interface TokenRecord {
  id: number;
  batchId: string;
  qrToken: string;
  state: TokenState;
  slotId: string | null;
  boardPort: string | null;
  boardMac: string | null;
  failureCode: string | null;
  payloadSha256: string | null;
  labelSheetId: string | null;
  labelPosition: number | null;
  orgId: number;
  templateId: string;
  updatedAt: string;
}

export interface ReservedToken extends TokenRecord {
  /** Only the reserving slot gets the secret, to build the board's payload. */
  authToken: string;
}

export interface TokenChanges {
  boardMac?: string;
  payloadSha256?: string;
  labelSheetId?: string;
  labelPosition?: number;
  failureCode?: string;
}

/** The payload of a `token-void` outbox row: the cloud's TokenVoid without the station id (the sync engine adds it). */
export interface TokenVoidPayload {
  qrToken: string;
  reason: 'voided' | 'burned';
  /** ms since the epoch. */
  voidedAt: number;
}

export interface OutboxEntry {
  recordId: string;
  kind: string;
  payload: unknown;
}

export interface HeldOutboxRow {
  id: number;
  recordId: string;
  kind: string;
  /** The token the row is about, when its payload names one (device records and voids do). */
  qrToken: string | null;
  heldAt: string;
  /** The cloud's refusal, as the sync engine recorded it. */
  reason: string | null;
  attempts: number;
}

/** The tokens a product may use: its template and organisation; `preferBatchId` goes first. */
export interface ReservationScope {
  templateId: string;
  orgId: number;
  preferBatchId: string | null;
}

export interface AuditRow {
  id: number;
  at: string;
  tokenId: number | null;
  event: string;
  fromState: string | null;
  toState: string | null;
  detail: string | null;
}

const TOKEN_COLUMNS = `t.id, t.batch_id AS batchId, t.qr_token AS qrToken, t.state, t.slot_id AS slotId,
  t.board_port AS boardPort, t.board_mac AS boardMac, t.failure_code AS failureCode,
  t.payload_sha256 AS payloadSha256, t.label_sheet_id AS labelSheetId, t.label_position AS labelPosition,
  b.org_id AS orgId, b.template_id AS templateId, t.updated_at AS updatedAt`;

/**
 * The station's token queue. Every method is one SQLite transaction; a state change, its audit row
 * and any outbox record it produces commit together or not at all.
 */
export class TokenQueue {
  /** AuthTokens are stored sealed (AES-256-GCM) and found by a keyed digest: core/secrets/. */
  private readonly sealer: TokenSealer;
  private scope: ReservationScope | null = null;

  constructor(
    private readonly db: StationDatabase,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.sealer = sealerOf(db);
  }

  importBatch(batch: BatchImport): number {
    const at = this.now().toISOString();
    return this.db.transaction(() => {
      const exists = this.db.prepare('SELECT 1 FROM batches WHERE id = ?').get(batch.batchId);
      if (exists) return 0;
      this.db
        .prepare('INSERT INTO batches (id, cloud_batch_id, template_id, org_id, pulled_at, token_count) VALUES (?, ?, ?, ?, ?, ?)')
        .run(batch.batchId, batch.cloudBatchId, batch.templateId, batch.orgId, at, batch.tokens.length);
      const insert = this.db.prepare(
        `INSERT INTO tokens (batch_id, auth_lookup, auth_sealed, qr_token, state, updated_at, metadata) VALUES (?, ?, ?, ?, 'available', ?, ?)`,
      );
      for (const token of batch.tokens) {
        const metadata = token.metadata ? JSON.stringify(token.metadata) : null;
        insert.run(batch.batchId, this.sealer.lookup(token.authToken), this.sealer.seal(token.authToken, token.qrToken), token.qrToken, at, metadata);
      }
      this.appendAudit(null, 'batch-imported', null, null, `batch ${batch.batchId}: ${batch.tokens.length} tokens`, at);
      return batch.tokens.length;
    })();
  }

  /**
   * Takes the oldest available token for a slot. Committed before the caller sends a single byte to
   * the board: from here on the token counts as having touched a board and is never handed out again.
   */
  reserve(slotId: string, boardPort: string): ReservedToken {
    const at = this.now().toISOString();
    return this.db.transaction(() => {
      const row = this.db
        .prepare(`SELECT ${TOKEN_COLUMNS}, t.auth_sealed AS sealed FROM tokens t JOIN batches b ON b.id = t.batch_id
                  WHERE t.state = 'available' AND (? IS NULL OR (b.template_id = ? AND b.org_id = ?))
                  ORDER BY CASE WHEN t.batch_id = ? THEN 0 ELSE 1 END, t.id LIMIT 1`)
        .get(...this.scopeParams()) as (TokenRecord & { sealed: string }) | undefined;
      if (!row) {
        throw stationError('NO_TOKENS_AVAILABLE', 'No tokens left in the queue — ask a supervisor to pull a new batch.', true);
      }
      transitionToken(row.state, 'reserved');
      this.db
        .prepare(`UPDATE tokens SET state = 'reserved', slot_id = ?, board_port = ?, updated_at = ? WHERE id = ?`)
        .run(slotId, boardPort, at, row.id);
      this.appendAudit(row.id, 'state', 'available', 'reserved', `slot ${slotId} port ${boardPort}`, at);
      const { sealed, ...record } = row;
      return { ...record, authToken: this.sealer.open(sealed, row.qrToken), state: 'reserved' as const, slotId, boardPort, updatedAt: at };
    })();
  }

  /** Moves a token one legal step forward, with optional facts and an outbox record, atomically. */
  advance(id: number, to: TokenState, changes: TokenChanges = {}, outbox?: OutboxEntry, detail?: string): TokenRecord {
    const at = this.now().toISOString();
    return this.db.transaction(() => {
      const current = this.get(id);
      transitionToken(current.state, to);
      this.db
        .prepare(
          `UPDATE tokens SET state = ?, updated_at = ?,
             board_mac = COALESCE(?, board_mac), payload_sha256 = COALESCE(?, payload_sha256),
             label_sheet_id = COALESCE(?, label_sheet_id), label_position = COALESCE(?, label_position),
             failure_code = COALESCE(?, failure_code)
           WHERE id = ?`,
        )
        .run(
          to,
          at,
          changes.boardMac ?? null,
          changes.payloadSha256 ?? null,
          changes.labelSheetId ?? null,
          changes.labelPosition ?? null,
          changes.failureCode ?? null,
          id,
        );
      this.appendAudit(id, 'state', current.state, to, detail ?? null, at);
      if (outbox) {
        this.db
          .prepare('INSERT OR IGNORE INTO outbox (record_id, kind, payload, created_at) VALUES (?, ?, ?, ?)')
          .run(outbox.recordId, outbox.kind, JSON.stringify(outbox.payload), at);
      }
      return this.get(id);
    })();
  }

  /**
   * A board failed for good: its token is burned (state `failed`), never returned to the queue,
   * and the cloud is told in the same transaction (an outbox `token-void`, reason `burned`).
   */
  /**
   * Tokens a board may hold without a finished record: reserved, written, or verified with no label
   * placed yet (a verified token with a label waits for its scan-back, which QA can still do).
   */
  interrupted(): TokenRecord[] {
    return this.db
      .prepare(
        `SELECT ${TOKEN_COLUMNS} FROM tokens t JOIN batches b ON b.id = t.batch_id
         WHERE t.state IN ('reserved', 'written') OR (t.state = 'verified' AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.token_id = t.id))
         ORDER BY t.id`,
      )
      .all() as TokenRecord[];
  }

  burn(id: number, failureCode: string, detail?: string): TokenRecord {
    const token = this.get(id);
    return this.advance(id, 'failed', { failureCode }, this.voidRecord(token, 'burned'), detail);
  }

  /**
   * A supervisor withdraws a token (a lost label, a damaged board set aside): `voided`, audited
   * with the reason, and reported to the cloud through the outbox in the same transaction.
   */
  void(id: number, reason: string): TokenRecord {
    const token = this.get(id);
    return this.advance(id, 'voided', {}, this.voidRecord(token, 'voided'), `voided by supervisor: ${reason}`);
  }

  /** Outbox row for a token the station will never ship; one per token (its id is the key). */
  private voidRecord(token: TokenRecord, reason: 'burned' | 'voided'): OutboxEntry {
    const payload: TokenVoidPayload = { qrToken: token.qrToken, reason, voidedAt: this.now().getTime() };
    return { recordId: `void:${token.qrToken}`, kind: 'token-void', payload };
  }

  get(id: number): TokenRecord {
    const row = this.db
      .prepare(`SELECT ${TOKEN_COLUMNS} FROM tokens t JOIN batches b ON b.id = t.batch_id WHERE t.id = ?`)
      .get(id) as TokenRecord | undefined;
    if (!row) throw stationError('NOT_FOUND', `Token #${id} is not in this station's queue.`);
    return row;
  }

  /** The token a board holds, found by the AuthToken read back from its flash (never logged). */
  findByAuthToken(authToken: string): TokenRecord | null {
    const row = this.db
      .prepare(`SELECT ${TOKEN_COLUMNS} FROM tokens t JOIN batches b ON b.id = t.batch_id WHERE t.auth_lookup = ?`)
      .get(this.sealer.lookup(authToken)) as TokenRecord | undefined;
    return row ?? null;
  }

  /** The secret of a token this station already handed to a board (resuming that board). */
  authTokenOf(id: number): string {
    const row = this.db.prepare('SELECT auth_sealed AS sealed, qr_token AS qrToken FROM tokens WHERE id = ?').get(id) as
      | { sealed: string; qrToken: string }
      | undefined;
    if (!row) throw stationError('NOT_FOUND', `Token #${id} is not in this station's queue.`);
    return this.sealer.open(row.sealed, row.qrToken);
  }

  /** True when this AuthToken is already in the queue (import clash checks; never logged). */
  holdsAuthToken(authToken: string): { batchId: string } | null {
    const row = this.db.prepare('SELECT batch_id AS batchId FROM tokens WHERE auth_lookup = ?').get(this.sealer.lookup(authToken)) as
      | { batchId: string }
      | undefined;
    return row ?? null;
  }

  findByQrToken(qrToken: string): TokenRecord | null {
    const row = this.db
      .prepare(`SELECT ${TOKEN_COLUMNS} FROM tokens t JOIN batches b ON b.id = t.batch_id WHERE t.qr_token = ?`)
      .get(qrToken) as TokenRecord | undefined;
    return row ?? null;
  }

  /**
   * Which tokens `reserve` may hand out: only batches of the product's cloud template and
   * organisation (a token is bound to its template), the preferred batch first, then the oldest.
   * Null: every batch, oldest token first. `stock().available` counts the same tokens.
   */
  setReservationScope(scope: ReservationScope | null): void {
    this.scope = scope;
  }

  private scopeParams(): [string | null, string | null, number | null, string | null] {
    const s = this.scope;
    return [s ? 'scoped' : null, s?.templateId ?? null, s?.orgId ?? null, s?.preferBatchId ?? null];
  }

  stock(): StockView {
    const rows = this.db.prepare('SELECT state, COUNT(*) AS n FROM tokens GROUP BY state').all() as {
      state: TokenState;
      n: number;
    }[];
    const count = (...states: TokenState[]): number =>
      rows.filter((r) => states.includes(r.state)).reduce((sum, r) => sum + r.n, 0);
    const [scoped, templateId, orgId] = this.scopeParams();
    const available = scoped
      ? (this.db
          .prepare(`SELECT COUNT(*) AS n FROM tokens t JOIN batches b ON b.id = t.batch_id WHERE t.state = 'available' AND b.template_id = ? AND b.org_id = ?`)
          .get(templateId, orgId) as { n: number }).n
      : count('available');
    return {
      available,
      reserved: count('reserved'),
      inProgress: count('reserved', 'written', 'verified'),
      labelled: count('labelled', 'shipped'),
      failed: count('failed'),
    };
  }

  /** Tokens that reached `state` (by their audit trail) at or after `since` (ISO time). */
  countReachedSince(state: TokenState, since: string): number {
    return (
      this.db.prepare('SELECT COUNT(DISTINCT token_id) AS n FROM audit_log WHERE to_state = ? AND at >= ?').get(state, since) as { n: number }
    ).n;
  }

  auditFor(tokenId: number): AuditRow[] {
    return this.db
      .prepare(
        `SELECT id, at, token_id AS tokenId, event, from_state AS fromState, to_state AS toState, detail
         FROM audit_log WHERE token_id = ? ORDER BY id`,
      )
      .all(tokenId) as AuditRow[];
  }

  pendingOutbox(limit = 100): { id: number; recordId: string; kind: string; payload: unknown }[] {
    const rows = this.db
      .prepare('SELECT id, record_id AS recordId, kind, payload FROM outbox WHERE sent_at IS NULL AND held_at IS NULL ORDER BY id LIMIT ?')
      .all(limit) as { id: number; recordId: string; kind: string; payload: string }[];
    return rows.map((r) => ({ ...r, payload: JSON.parse(r.payload) as unknown }));
  }

  markOutboxSent(ids: number[]): void {
    const at = this.now().toISOString();
    const update = this.db.prepare('UPDATE outbox SET sent_at = ?, attempts = attempts + 1 WHERE id = ?');
    this.db.transaction(() => {
      for (const id of ids) update.run(at, id);
    })();
  }

  /** A push of these rows failed (they stay pending); the error is kept for the supervisor. */
  recordOutboxFailure(ids: number[], error: string): void {
    const update = this.db.prepare('UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?');
    this.db.transaction(() => {
      for (const id of ids) update.run(error, id);
    })();
  }

  /** The cloud refused this one row for good: keep it, stop retrying it, show it to the supervisor. */
  holdOutbox(id: number, error: string): void {
    const at = this.now().toISOString();
    this.db.prepare('UPDATE outbox SET held_at = ?, last_error = ?, attempts = attempts + 1 WHERE id = ?').run(at, error, id);
  }

  /** Rows the cloud refused for good, oldest first: what a supervisor reviews. */
  heldOutbox(limit = 200, onlyId?: number): HeldOutboxRow[] {
    const rows = this.db
      .prepare(
        `SELECT id, record_id AS recordId, kind, payload, held_at AS heldAt, last_error AS reason, attempts FROM outbox
         WHERE held_at IS NOT NULL AND sent_at IS NULL AND (? IS NULL OR id = ?) ORDER BY id LIMIT ?`,
      )
      .all(onlyId ?? null, onlyId ?? null, limit) as (Omit<HeldOutboxRow, 'qrToken'> & { payload: string })[];
    return rows.map(({ payload, ...row }) => {
      const qr = (JSON.parse(payload) as { qrToken?: unknown }).qrToken;
      return { ...row, qrToken: typeof qr === 'string' ? qr : null };
    });
  }

  /**
   * A supervisor releases a held row: it waits again and the next sync retries it (the cloud
   * makes a repeat harmless). Audited in the same transaction. NOT_FOUND unless the row is held.
   */
  releaseHeld(id: number, detail: string): HeldOutboxRow {
    return this.db.transaction(() => {
      const row = this.heldOutbox(1, id)[0];
      if (!row) throw stationError('NOT_FOUND', `Outbox record #${id} is not held (already released or sent).`, true);
      this.db.prepare('UPDATE outbox SET held_at = NULL WHERE id = ?').run(id);
      const token = row.qrToken ? this.findByQrToken(row.qrToken) : null;
      this.appendAudit(token?.id ?? null, 'outbox-released', null, null, `${row.kind} ${row.recordId}: ${detail}`, this.now().toISOString());
      return row;
    })();
  }

  /** An audited event that changes no state (a supervisor's cloud action, an export). */
  recordEvent(tokenId: number | null, event: string, detail: string): void {
    this.appendAudit(tokenId, event, null, null, detail, this.now().toISOString());
  }

  outboxCounts(): { waiting: number; held: number; sent: number } {
    return this.db
      .prepare(
        `SELECT COALESCE(SUM(sent_at IS NULL AND held_at IS NULL), 0) AS waiting, COALESCE(SUM(held_at IS NOT NULL AND sent_at IS NULL), 0) AS held,
                COALESCE(SUM(sent_at IS NOT NULL), 0) AS sent FROM outbox`,
      )
      .get() as { waiting: number; held: number; sent: number };
  }

  private appendAudit(
    tokenId: number | null,
    event: string,
    from: string | null,
    to: string | null,
    detail: string | null,
    at: string,
  ): void {
    this.db
      .prepare('INSERT INTO audit_log (at, token_id, event, from_state, to_state, detail) VALUES (?, ?, ?, ?, ?, ?)')
      .run(at, tokenId, event, from, to, detail);
  }
}
