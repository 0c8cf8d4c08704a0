import type { CheckResult } from '../../common/self-test-plan.js';
import type { SelfTestResult } from '../../common/self-test-protocol.js';
import type { StationDatabase } from '../db/open-database.js';
import { redactToken } from '../../native/selftest/redact.js';

export type TestRunKind = 'provision' | 'retest' | 'dynamic';

/** One stored self-test run (table `test_runs`, append-only). Never holds an AuthToken. */
export interface TestRunRecord {
  id: number;
  tokenId: number | null;
  boardMac: string | null;
  slotId: string | null;
  kind: TestRunKind;
  ok: boolean;
  reason: string | null;
  checks: CheckResult[];
  log: string[];
  durationMs: number;
  createdAt: string;
}

export interface NewTestRun {
  tokenId: number | null;
  boardMac: string | null;
  slotId: string | null;
  kind: TestRunKind;
  result: SelfTestResult;
  /**
   * The token the board should hold: everything stored is redacted against it once more (the runner
   * already redacted; this is the last line of defence before the disk).
   */
  expectedToken?: string;
}

/** Keeps each board's self-test runs. Rows are only ever added. */
export class TestRunStore {
  constructor(
    private readonly db: StationDatabase,
    private readonly now: () => Date = () => new Date(),
  ) {}

  record(run: NewTestRun): TestRunRecord {
    const redact = (text: string): string => redactToken(text, run.expectedToken);
    const checks: CheckResult[] = (run.result.results ?? run.result.checks.map((c) => ({ check: c.check, ok: c.ok, durationMs: 0, ...(c.value !== undefined ? { value: c.value } : {}), ...(c.reason ? { reason: c.reason } : {}) }))).map(
      (c) => ({
        ...c,
        check: redact(c.check),
        ...(typeof c.value === 'string' ? { value: redact(c.value) } : {}),
        ...(c.reason !== undefined ? { reason: redact(c.reason) } : {}),
      }),
    );
    const log = (run.result.log ?? []).map(redact);
    const reason = run.result.reason !== undefined ? redact(run.result.reason) : null;
    const createdAt = this.now().toISOString();
    const info = this.db
      .prepare(
        `INSERT INTO test_runs (token_id, board_mac, slot_id, kind, ok, reason, checks, log, duration_ms, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(run.tokenId, run.boardMac, run.slotId, run.kind, run.result.ok ? 1 : 0, reason, JSON.stringify(checks), log.join('\n'), Math.round(run.result.durationMs), createdAt);
    return {
      id: Number(info.lastInsertRowid),
      tokenId: run.tokenId,
      boardMac: run.boardMac,
      slotId: run.slotId,
      kind: run.kind,
      ok: run.result.ok,
      reason,
      checks,
      log,
      durationMs: Math.round(run.result.durationMs),
      createdAt,
    };
  }

  /** A board's runs, oldest first. */
  forToken(tokenId: number): TestRunRecord[] {
    const rows = this.db.prepare('SELECT * FROM test_runs WHERE token_id = ? ORDER BY id').all(tokenId) as Row[];
    return rows.map(fromRow);
  }

  /** A dynamic-token board's runs (no token of ours: keyed by its MAC), oldest first. */
  forMac(mac: string): TestRunRecord[] {
    const rows = this.db.prepare('SELECT * FROM test_runs WHERE token_id IS NULL AND lower(board_mac) = lower(?) ORDER BY id').all(mac) as Row[];
    return rows.map(fromRow);
  }

  latestForToken(tokenId: number): TestRunRecord | null {
    const row = this.db.prepare('SELECT * FROM test_runs WHERE token_id = ? ORDER BY id DESC LIMIT 1').get(tokenId) as Row | undefined;
    return row ? fromRow(row) : null;
  }
}

interface Row {
  id: number;
  token_id: number | null;
  board_mac: string | null;
  slot_id: string | null;
  kind: TestRunKind;
  ok: number;
  reason: string | null;
  checks: string;
  log: string;
  duration_ms: number;
  created_at: string;
}

function fromRow(row: Row): TestRunRecord {
  return {
    id: row.id,
    tokenId: row.token_id,
    boardMac: row.board_mac,
    slotId: row.slot_id,
    kind: row.kind,
    ok: row.ok === 1,
    reason: row.reason,
    checks: JSON.parse(row.checks) as CheckResult[],
    log: row.log === '' ? [] : row.log.split('\n'),
    durationMs: row.duration_ms,
    createdAt: row.created_at,
  };
}
