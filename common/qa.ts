import type { CheckResult } from './self-test-plan.js';
import type { TokenState } from './token-state.js';

/**
 * QA mode's view of one board (one token): everything the station knows about it, for the QA
 * screen and the `qaLookup` / `qaRetest` / `shipToken` commands. Never carries an AuthToken.
 */
export interface QaTestRun {
  id: number;
  kind: 'provision' | 'retest' | 'dynamic';
  ok: boolean;
  reason: string | null;
  checks: CheckResult[];
  /** Raw serial console lines, token-shaped text already redacted. */
  log: string[];
  durationMs: number;
  boardMac: string | null;
  slotId: string | null;
  at: string;
}

export interface QaAuditEntry {
  at: string;
  event: string;
  fromState: string | null;
  toState: string | null;
  detail: string | null;
}

export interface QaSyncEntry {
  recordId: string;
  kind: string;
  queuedAt: string;
  sentAt: string | null;
  attempts: number;
}

export interface QaBoardHistory {
  /** Null for a dynamic-token board: it holds no token of ours (see `dynamicMac`). */
  token: {
    id: number;
    qrToken: string;
    state: TokenState;
    boardMac: string | null;
    failureCode: string | null;
    payloadSha256: string | null;
    batchId: string;
    updatedAt: string;
  } | null;
  /** A dynamic-token board: the MAC its runs (kind `dynamic`) are kept under. */
  dynamicMac?: string;
  label: { sheetId: string; position: number; serial: string | null; printed: boolean } | null;
  audit: QaAuditEntry[];
  testRuns: QaTestRun[];
  sync: QaSyncEntry[];
  /** The slot the board sits in now, if it is plugged in. */
  slotId: string | null;
  /** `shipToken` would accept it: labelled, and its latest test run passed. */
  canShip: boolean;
  /** Why it cannot ship (absent when it can, or is already shipped). */
  shipBlocker?: string;
}

/** QA of a dynamic-token board (Improv, cloud, factory reset): the stored run, kind `dynamic`. */
export interface QaDynamicResult {
  ok: boolean;
  reason: string | null;
  slotId: string;
  run: QaTestRun;
}

export interface QaRetestResult {
  ok: boolean;
  reason: string | null;
  history: QaBoardHistory;
}

/**
 * What a QA scan may be: a label payload (`{qrToken}+{orgId}`, or whatever the product's QR template
 * made of the QR token: the QR token is its first `+`-separated field), a bare QR token, or a slot id.
 */
export function qrTokenOfScan(code: string): string {
  return code.trim().split('+')[0] ?? '';
}
