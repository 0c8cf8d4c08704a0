import type { BatchView, ReportsView } from '../../common/api.js';
import type { StationDatabase } from '../db/open-database.js';

/** Hours shown in "devices per hour" unless the caller asks for another window. */
export const REPORT_HOURS_DEFAULT = 12;
const HOUR_MS = 3_600_000;

/**
 * Production reports from the station's own records: the audit log (when each token became
 * `labelled`) and the tokens table (outcomes per board).
 *
 * First-pass yield: of the boards the station finished with (a label, or a failure), the share that
 * passed on the first token they got. A board is its MAC; a token that failed before the board
 * answered (no MAC) counts as one board that failed.
 */
export function productionReports(db: StationDatabase, options: { hours?: number; now?: number } = {}): ReportsView {
  const hours = options.hours ?? REPORT_HOURS_DEFAULT;
  const now = options.now ?? Date.now();
  const currentHour = Math.floor(now / HOUR_MS) * HOUR_MS;
  const since = currentHour - (hours - 1) * HOUR_MS;

  const labelledAt = db
    .prepare("SELECT at FROM audit_log WHERE event = 'state' AND to_state = 'labelled' AND at >= ?")
    .all(new Date(since).toISOString()) as { at: string }[];
  const perHour = new Map<number, number>();
  for (const { at } of labelledAt) {
    const hour = Math.floor(Date.parse(at) / HOUR_MS) * HOUR_MS;
    perHour.set(hour, (perHour.get(hour) ?? 0) + 1);
  }
  const devicesPerHour = Array.from({ length: hours }, (_, i) => {
    const hour = since + i * HOUR_MS;
    return { hour: new Date(hour).toISOString(), count: perHour.get(hour) ?? 0 };
  });

  const finished = db
    .prepare("SELECT id, state, board_mac AS mac, failure_code AS failureCode FROM tokens WHERE state IN ('labelled', 'shipped', 'failed') ORDER BY id")
    .all() as { id: number; state: string; mac: string | null; failureCode: string | null }[];
  const boards = new Map<string, { first: string; everPassed: boolean }>();
  for (const t of finished) {
    const key = t.mac ?? `token-${t.id}`;
    const passed = t.state !== 'failed';
    const board = boards.get(key);
    if (!board) boards.set(key, { first: t.state, everPassed: passed });
    else board.everPassed ||= passed;
  }
  const firstPass = [...boards.values()].filter((b) => b.first !== 'failed').length;
  const reasons = new Map<string, number>();
  for (const t of finished) if (t.state === 'failed') reasons.set(t.failureCode ?? 'UNKNOWN', (reasons.get(t.failureCode ?? 'UNKNOWN') ?? 0) + 1);

  return {
    devicesPerHour,
    firstPassYield: boards.size === 0 ? null : firstPass / boards.size,
    passed: finished.filter((t) => t.state !== 'failed').length,
    failed: finished.filter((t) => t.state === 'failed').length,
    failuresByReason: [...reasons].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason)),
    batches: batchViews(db),
  };
}

export function batchViews(db: StationDatabase): BatchView[] {
  return db
    .prepare(
      `SELECT b.id, b.pulled_at AS pulledAt, b.token_count AS tokenCount,
              COALESCE(SUM(t.state = 'available'), 0) AS available,
              COALESCE(SUM(t.state IN ('reserved', 'written', 'verified', 'labelled', 'shipped')), 0) AS used,
              COALESCE(SUM(t.state = 'failed'), 0) AS failed,
              COALESCE(SUM(t.state = 'voided'), 0) AS voided
       FROM batches b LEFT JOIN tokens t ON t.batch_id = b.id
       GROUP BY b.id ORDER BY b.pulled_at DESC, b.rowid DESC`,
    )
    .all() as BatchView[];
}
