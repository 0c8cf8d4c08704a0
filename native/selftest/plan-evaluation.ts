import type { CheckResult, PlanCheck, SelfTestPlan } from '../../common/self-test-plan.js';
import type { SelfTestCheckLine } from '../../common/self-test-protocol.js';

/** A check line as received, with when it arrived (ms after the first `selftest` was sent). */
export interface ReceivedCheck {
  line: SelfTestCheckLine;
  atMs: number;
}

export interface PlanVerdict {
  ok: boolean;
  results: CheckResult[];
  /** The first failure, one sentence for the operator; absent when ok. */
  reason?: string;
}

function expectedText(check: PlanCheck): string {
  if (check.equals !== undefined) return `= ${String(check.equals)}`;
  const parts: string[] = [];
  if (check.min !== undefined) parts.push(`≥ ${check.min}`);
  if (check.max !== undefined) parts.push(`≤ ${check.max}`);
  return parts.length ? parts.join(' and ') : 'ok';
}

function nameOf(check: PlanCheck): string {
  return check.label ?? check.check;
}

/** Why a reported value misses the plan, or null when it meets it. */
function valueProblem(check: PlanCheck, value: string | number | undefined): string | null {
  if (check.equals !== undefined) {
    if (value === undefined) return 'reported no value';
    return String(value) === String(check.equals) ? null : `reported ${String(value)}, expected ${String(check.equals)}`;
  }
  if (check.min === undefined && check.max === undefined) return null;
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!Number.isFinite(n)) return value === undefined ? 'reported no value' : `reported "${String(value)}", not a number`;
  if (check.min !== undefined && n < check.min) return `reported ${n}, below the minimum ${check.min}`;
  if (check.max !== undefined && n > check.max) return `reported ${n}, above the maximum ${check.max}`;
  return null;
}

/**
 * Judges a finished `selftest` answer against the product's plan. The token check comes first
 * (a board with the wrong token must never pass, whatever else it says), then the plan's checks in
 * plan order, then any check the board reported as failed that the plan does not name.
 */
export function evaluatePlan(plan: SelfTestPlan, received: readonly ReceivedCheck[], proofMatches: (proof: unknown) => boolean): PlanVerdict {
  const results: CheckResult[] = [];
  const reasons: string[] = [];
  const byName = new Map(received.map((r) => [r.line.check, r]));
  const ordered = [...plan.checks].sort((a, b) => (a.check === 'token' ? -1 : b.check === 'token' ? 1 : 0));

  for (const check of ordered) {
    const got = byName.get(check.check);
    const base = { check: check.check, expected: expectedText(check) };
    if (!got) {
      const reason = check.check === 'token' ? 'The board reported no token check.' : `Check "${nameOf(check)}" is missing: the board did not report it.`;
      results.push({ ...base, ok: false, reason, durationMs: 0 });
      reasons.push(reason);
      continue;
    }
    const value = got.line.value;
    const result: CheckResult = { ...base, ok: true, durationMs: got.atMs, ...(value !== undefined ? { value } : {}) };
    let reason: string | null = null;
    if (check.check === 'token') {
      result.expected = 'proof of the written token';
      if (!got.line.ok) reason = `The board holds no token: ${got.line.reason ?? 'no reason given'}.`;
      else if (!proofMatches(got.line.proof)) reason = 'The board holds a different token than the one written — do not pack it; call a supervisor.';
    } else if (!got.line.ok) {
      reason = `Self-test check "${nameOf(check)}" failed: ${got.line.reason ?? 'no reason given'}.`;
    } else {
      const problem = valueProblem(check, value);
      if (problem) reason = `Self-test check "${nameOf(check)}" ${problem}.`;
      else if (check.timeoutMs !== undefined && got.atMs > check.timeoutMs) {
        reason = `Self-test check "${nameOf(check)}" took ${got.atMs} ms, longer than its ${check.timeoutMs} ms.`;
      }
    }
    if (reason) {
      result.ok = false;
      result.reason = reason;
      reasons.push(reason);
    }
    results.push(result);
  }

  const planned = new Set(plan.checks.map((c) => c.check));
  for (const got of received) {
    if (planned.has(got.line.check)) continue;
    const value = got.line.value;
    const result: CheckResult = { check: got.line.check, ok: got.line.ok, durationMs: got.atMs, ...(value !== undefined ? { value } : {}) };
    if (!got.line.ok) {
      result.reason = `Self-test check "${got.line.check}" failed: ${got.line.reason ?? 'no reason given'}.`;
      reasons.push(result.reason);
    }
    results.push(result);
  }
  const reason = reasons[0];
  return reason === undefined ? { ok: true, results } : { ok: false, results, reason };
}
