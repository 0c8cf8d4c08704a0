import { describe, expect, it } from 'vitest';
import { DEFAULT_SELF_TEST_PLAN, selfTestPlanSchema } from '../../../common/self-test-plan.js';
import { evaluatePlan, type ReceivedCheck } from '../../../native/selftest/plan-evaluation.js';

const plan = selfTestPlanSchema.parse({
  checks: [
    { check: 'token' },
    { check: 'fw', equals: '1.4.2' },
    { check: 'heap', min: 60_000, max: 400_000 },
    { check: 'wifi', min: 3, timeoutMs: 500, label: 'Wi-Fi networks' },
    { check: 'periph:sht30' },
  ],
});
const proofOk = (p: unknown): boolean => p === 'good';
const got = (check: string, fields: Partial<ReceivedCheck['line']> = {}, atMs = 10): ReceivedCheck => ({ line: { check, ok: true, ...fields }, atMs });
const healthy = (): ReceivedCheck[] => [
  got('token', { proof: 'good' }),
  got('fw', { value: '1.4.2' }),
  got('heap', { value: 150_000 }),
  got('wifi', { value: 5 }, 120),
  got('periph:sht30'),
];

describe('evaluatePlan', () => {
  it('passes answers that meet every check, keeping values, expectations and durations', () => {
    const verdict = evaluatePlan(plan, healthy(), proofOk);
    expect(verdict.ok).toBe(true);
    expect(verdict.results.map((r) => [r.check, r.ok, r.value, r.expected, r.durationMs])).toEqual([
      ['token', true, undefined, 'proof of the written token', 10],
      ['fw', true, '1.4.2', '= 1.4.2', 10],
      ['heap', true, 150_000, '≥ 60000 and ≤ 400000', 10],
      ['wifi', true, 5, '≥ 3', 120],
      ['periph:sht30', true, undefined, 'ok', 10],
    ]);
  });

  it('a wrong proof fails first, whatever else fails too', () => {
    const answers = healthy().map((r) => (r.line.check === 'token' ? got('token', { proof: 'bad' }) : r.line.check === 'fw' ? got('fw', { value: '0.9' }) : r));
    const verdict = evaluatePlan(plan, answers, proofOk);
    expect(verdict.reason).toMatch(/different token/);
    expect(verdict.results.filter((r) => !r.ok).map((r) => r.check)).toEqual(['token', 'fw']);
  });

  it.each([
    ['fw', { value: '1.4.3' }, 'Self-test check "fw" reported 1.4.3, expected 1.4.2.'],
    ['heap', { value: 59_999 }, 'Self-test check "heap" reported 59999, below the minimum 60000.'],
    ['heap', { value: 400_001 }, 'Self-test check "heap" reported 400001, above the maximum 400000.'],
    ['heap', { value: 'lots' }, 'Self-test check "heap" reported "lots", not a number.'],
    ['heap', {}, 'Self-test check "heap" reported no value.'],
    ['wifi', { value: 2 }, 'Self-test check "Wi-Fi networks" reported 2, below the minimum 3.'],
    ['periph:sht30', { ok: false, reason: 'no ACK' }, 'Self-test check "periph:sht30" failed: no ACK.'],
  ] as const)('%s %j fails with an exact reason', (check, fields, reason) => {
    const answers = healthy().map((r) => (r.line.check === check ? { line: { check, ok: true, ...fields }, atMs: 10 } : r));
    const verdict = evaluatePlan(plan, answers, proofOk);
    expect(verdict.ok).toBe(false);
    expect(verdict.reason).toBe(reason);
  });

  it('a missing planned check fails; a numeric value sent as text still counts', () => {
    const answers = healthy().filter((r) => r.line.check !== 'periph:sht30').map((r) => (r.line.check === 'heap' ? got('heap', { value: '70000' }) : r));
    const verdict = evaluatePlan(plan, answers, proofOk);
    expect(verdict.reason).toBe('Check "periph:sht30" is missing: the board did not report it.');
    expect(verdict.results.find((r) => r.check === 'heap')?.ok).toBe(true);
  });

  it('a check that arrives after its own timeout fails', () => {
    const answers = healthy().map((r) => (r.line.check === 'wifi' ? got('wifi', { value: 5 }, 800) : r));
    expect(evaluatePlan(plan, answers, proofOk).reason).toBe('Self-test check "Wi-Fi networks" took 800 ms, longer than its 500 ms.');
  });

  it('an unplanned check that failed still fails the run; one that passed is just recorded', () => {
    const verdict = evaluatePlan(plan, [...healthy(), got('battery', { value: 3.9 }), got('rtc', { ok: false, reason: 'no crystal' })], proofOk);
    expect(verdict.reason).toBe('Self-test check "rtc" failed: no crystal.');
    expect(verdict.results.find((r) => r.check === 'battery')).toMatchObject({ ok: true, value: 3.9 });
  });

  it('the default plan needs only the token', () => {
    expect(evaluatePlan(DEFAULT_SELF_TEST_PLAN, [got('token', { proof: 'good' })], proofOk).ok).toBe(true);
    expect(evaluatePlan(DEFAULT_SELF_TEST_PLAN, [], proofOk).reason).toBe('The board reported no token check.');
  });
});

describe('selfTestPlanSchema', () => {
  it('rejects plans without the token check, duplicate checks, equals with limits, min above max', () => {
    expect(selfTestPlanSchema.safeParse({ checks: [{ check: 'fw' }] }).success).toBe(false);
    expect(selfTestPlanSchema.safeParse({ checks: [{ check: 'token' }, { check: 'token' }] }).success).toBe(false);
    expect(selfTestPlanSchema.safeParse({ checks: [{ check: 'token' }, { check: 'fw', equals: '1', min: 1 }] }).success).toBe(false);
    expect(selfTestPlanSchema.safeParse({ checks: [{ check: 'token' }, { check: 'heap', min: 5, max: 4 }] }).success).toBe(false);
    expect(selfTestPlanSchema.safeParse({ checks: [{ check: 'token' }], timeouts: { totalMs: 10 } }).success).toBe(false);
  });

  it('fills the protocol defaults', () => {
    expect(DEFAULT_SELF_TEST_PLAN).toEqual({ selfTest: true, checks: [{ check: 'token' }], timeouts: { resendMs: 1_000, lineGapMs: 3_000, totalMs: 10_000 } });
  });
});
