import type { CheckResult } from './self-test-plan.js';

/**
 * Station <-> device self-test over the application's serial console (115200 8N1, lines end in \n).
 *
 *   station: `selftest <nonce>\n`           nonce = 32 lowercase hex chars, fresh per run
 *   device:  one JSON object per line, one per check:
 *            {"check":"token","ok":true,"proof":"<hex>"}
 *            {"check":"fw","ok":true,"value":"1.0.0"}
 *   device:  then a summary line: {"selftest":"done","ok":true,"checks":2}
 *
 * The token proof is HMAC-SHA256(key = AuthToken as UTF-8, message = nonce as ASCII), lowercase hex.
 * The AuthToken itself never crosses the wire back; a fresh nonce stops a recorded answer from
 * being replayed. Any other line the firmware prints (boot log) is ignored by the reader.
 */
export const SELFTEST_COMMAND = 'selftest';
export const SELFTEST_BAUD = 115_200;
export const SELFTEST_NONCE_HEX_CHARS = 32;

export interface SelfTestCheckLine {
  check: string;
  ok: boolean;
  proof?: string;
  value?: string | number;
  reason?: string;
}

export interface SelfTestSummaryLine {
  selftest: 'done';
  ok: boolean;
  checks: number;
}

export interface SelfTestResult {
  ok: boolean;
  checks: SelfTestCheckLine[];
  /** Each check judged against the product's test plan (value, expectation, duration, reason). */
  results?: CheckResult[];
  /** The raw console lines of the run, with any token-shaped text redacted (native/selftest/redact.ts). */
  log?: string[];
  /** Why it failed, for the operator; absent when ok. */
  reason?: string;
  durationMs: number;
}
