import { z } from 'zod';

/**
 * A product's test plan (manifest `flashline.testPlan`): which self-test checks the board must
 * report, the values or limits each must meet, and the time each step may take. The runner
 * (native/selftest) evaluates the board's `selftest` answer against it; the protocol is in
 * docs/self-test-protocol.md.
 *
 * A check entry names a check line the board prints (`{"check":"<name>",...}`) and what its
 * `value` must be:
 *   - `equals`: the value as reported, compared as a string ("1.4.2", an MD5 in hex),
 *   - `min` / `max`: numeric limits, inclusive (free heap in bytes, networks seen),
 *   - neither: the check must be present and report `ok: true` (peripherals, `token`).
 * `token` is special: its `proof` must be the HMAC of the expected AuthToken and the run's nonce.
 * Checks the board reports that the plan does not name still fail the run when `ok` is false.
 */
export const SELF_TEST_STEP_TIMEOUT_MAX_MS = 60_000;

const timeoutMs = z.number().int().min(50).max(SELF_TEST_STEP_TIMEOUT_MAX_MS);

export const planCheckSchema = z
  .strictObject({
    check: z.string().regex(/^[a-z][a-z0-9_:.-]{0,39}$/, 'check names are lowercase, like "heap" or "periph:sht30"'),
    /** Shown to the operator instead of the check's name. */
    label: z.string().min(1).max(60).optional(),
    equals: z.union([z.string().min(1).max(128), z.number()]).optional(),
    min: z.number().optional(),
    max: z.number().optional(),
    /** Longest time from the `selftest` command until this check's line arrives. */
    timeoutMs: timeoutMs.optional(),
  })
  .refine((c) => c.equals === undefined || (c.min === undefined && c.max === undefined), 'a check has `equals` or limits, not both')
  .refine((c) => c.min === undefined || c.max === undefined || c.min <= c.max, '`min` is above `max`');

export const selfTestPlanSchema = z.strictObject({
  /** Run the self-test after flashing (products without a console set false: only the MD5 proves the write). */
  selfTest: z.boolean().default(true),
  checks: z.array(planCheckSchema).default([{ check: 'token' }]).refine(
    (checks) => checks.some((c) => c.check === 'token'),
    'a test plan always includes the "token" check',
  ).refine((checks) => new Set(checks.map((c) => c.check)).size === checks.length, 'each check is named once'),
  timeouts: z
    .strictObject({
      /** No parseable line within this long after a send: send `selftest` again (the app may still boot). */
      resendMs: timeoutMs.default(1_000),
      /** Once the board answered, the longest silence between two lines. */
      lineGapMs: timeoutMs.default(3_000),
      /** The whole run. */
      totalMs: timeoutMs.default(10_000),
    })
    .prefault({}),
  /** Dynamic-token products: the Improv + `config erase` QA flow (core/qa/dynamic-qa.ts). */
  dynamic: z
    .strictObject({
      /** The QA network the board is provisioned to, then erased from. */
      wifi: z.strictObject({ ssid: z.string().min(1).max(32), pass: z.string().max(63).default('') }),
      provisionTimeoutMs: timeoutMs.default(15_000),
    })
    .optional(),
});

export type PlanCheck = z.infer<typeof planCheckSchema>;
export type SelfTestPlan = z.infer<typeof selfTestPlanSchema>;

/** Today's behaviour: the token proof, every reported check ok, the protocol's default timeouts. */
export const DEFAULT_SELF_TEST_PLAN: SelfTestPlan = selfTestPlanSchema.parse({});

/** One check's outcome in a run: what the plan asked, what the board said, how long it took. */
export interface CheckResult {
  check: string;
  ok: boolean;
  /** The value as reported (never a token; proofs are not kept). */
  value?: string | number;
  /** What the plan expected, as text ("= 1.0.0", "≥ 3", "present"). */
  expected?: string;
  /** Why it failed, one sentence for the operator. */
  reason?: string;
  /** From the `selftest` command to this check's line. */
  durationMs: number;
}
