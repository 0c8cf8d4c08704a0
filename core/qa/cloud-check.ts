import { StationError } from '../../common/errors.js';
import type { CheckResult } from '../../common/self-test-plan.js';
import type { SelfTestResult } from '../../common/self-test-protocol.js';
import type { CloudDeviceClient } from '../cloud/cloud-client.js';

/** The check's name in the stored test run (QA history shows it beside the self-test checks). */
export const CLOUD_CHECK = 'cloud';
/**
 * How often the station asks the cloud whether the board is online yet: first after
 * CLOUD_POLL_FIRST_MS (a board that just rebooted is usually back within tens of ms), then twice as
 * long each time, up to CLOUD_POLL_INTERVAL_MS.
 */
export const CLOUD_POLL_FIRST_MS = 50;
export const CLOUD_POLL_INTERVAL_MS = 250;
/** The value recorded when the cloud is out of reach and the product does not require the check. */
export const CLOUD_SKIPPED_VALUE = 'skipped: cloud unreachable';

/** Manifest `flashline.cloudCheck`. */
export interface CloudCheckConfig {
  /**
   * true: a board is labelled only when the cloud confirmed it (an offline station fails the slot).
   * false: when the cloud cannot be reached the check is recorded as skipped and the board goes on.
   */
  required: boolean;
  /** How long the board may take, after its self-test, to show up online in the cloud. */
  timeoutMs: number;
}

export interface CloudCheckJob {
  /** Secret: goes only into the cloud request that asks about it. */
  authToken: string;
  qrToken: string;
  /** The maker's organisation: an unclaimed board's device sits there. */
  orgId: number;
}

export interface CloudCheckDeps {
  client: Pick<CloudDeviceClient, 'isHardwareConnected' | 'staticTokenState'>;
  config: CloudCheckConfig;
  pollIntervalMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The cloud check of a static-token product, after the self-test passed: the board, running its
 * firmware with its token, connects to the cloud by itself; the station then asks the cloud
 *   1. `isHardwareConnected(token)` until true (the board is online with this token), and
 *   2. the static token's state: UNCLAIMED, in the maker's organisation (nobody claimed it yet).
 * Outcomes, one CheckResult named `cloud`:
 *   - confirmed                              -> ok, "online, unclaimed in org N";
 *   - never online within `timeoutMs`        -> fail, "did not come online …";
 *   - token unknown/claimed/in another org   -> fail with the reason;
 *   - cloud unreachable, `required: false`   -> ok, value "skipped: cloud unreachable";
 *   - cloud unreachable, `required: true`    -> fail, "the cloud cannot be reached …".
 * A failure fails the slot, so the engine burns the token (it touched a board: never handed out
 * again; the burn is reported to the cloud, which voids it).
 */
export async function runCloudCheck(job: CloudCheckJob, deps: CloudCheckDeps): Promise<CheckResult> {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? defaultSleep;
  const started = now();
  const { config } = deps;
  const expected = `online, unclaimed in org ${job.orgId}`;
  const result = (ok: boolean, detail: { value?: string; reason?: string }): CheckResult => ({
    check: CLOUD_CHECK,
    ok,
    expected,
    durationMs: now() - started,
    ...detail,
  });
  try {
    const deadline = started + config.timeoutMs;
    const maxWait = deps.pollIntervalMs ?? CLOUD_POLL_INTERVAL_MS;
    let wait = Math.min(CLOUD_POLL_FIRST_MS, maxWait);
    for (;;) {
      const connected = await deps.client.isHardwareConnected(job.authToken);
      if (connected === null) return result(false, { reason: "The cloud does not know this board's token (deleted or voided) — do not ship it." });
      if (connected) break;
      if (now() >= deadline) {
        return result(false, { reason: `The board did not come online in the cloud within ${Math.round(config.timeoutMs / 100) / 10} s — check its network link, then test it again.` });
      }
      await sleep(Math.min(wait, Math.max(1, deadline - now())));
      wait = Math.min(wait * 2, maxWait);
    }
    const state = await deps.client.staticTokenState(job.qrToken);
    if (!state) return result(false, { reason: "The cloud has no static token for this board's label in the maker's organisation — do not ship it." });
    if (state.status === 'CLAIMED') return result(false, { reason: "The board's token is already claimed by a customer — do not ship it." });
    if (state.orgId !== job.orgId || (state.claimedOrgId !== undefined && state.claimedOrgId !== job.orgId)) {
      return result(false, { reason: "The board's token belongs to another organisation — do not ship it." });
    }
    return result(true, { value: expected });
  } catch (err) {
    if (err instanceof StationError && err.code === 'CLOUD_UNREACHABLE') {
      if (!config.required) return result(true, { value: CLOUD_SKIPPED_VALUE });
      return result(false, { reason: 'The cloud cannot be reached to confirm the board is online, and this product requires it — test again when the station is back online.' });
    }
    // CLOUD_REJECTED and the like: the message names the operation, never the token.
    const message = err instanceof StationError ? err.message : 'The cloud check failed unexpectedly.';
    return result(false, { reason: message });
  }
}

/**
 * The engine's `cloudCheck` for a switchable product line: reads the product's `cloudCheck` at each
 * board (null = this product has none) and runs it with the station's cloud client.
 */
export function cloudCheckForLine(
  config: () => CloudCheckConfig | undefined,
  client: CloudCheckDeps['client'],
): (job: CloudCheckJob) => Promise<CheckResult | null> {
  return async (job) => {
    const current = config();
    return current ? runCloudCheck(job, { client, config: current }) : null;
  };
}

/** The run with one more check: a failed extra check fails the run with its reason. */
export function withExtraCheck(run: SelfTestResult, check: CheckResult): SelfTestResult {
  const base: CheckResult[] =
    run.results ??
    run.checks.map((c) => ({ check: c.check, ok: c.ok, durationMs: 0, ...(c.value !== undefined ? { value: c.value } : {}), ...(c.reason ? { reason: c.reason } : {}) }));
  const results = [...base, check];
  if (check.ok) return { ...run, results, durationMs: run.durationMs + check.durationMs };
  return { ...run, ok: false, results, reason: check.reason ?? `The ${check.check} check failed.`, durationMs: run.durationMs + check.durationMs };
}
