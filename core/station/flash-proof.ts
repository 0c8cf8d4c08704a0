import { createHash } from 'node:crypto';
import type { CheckResult } from '../../common/self-test-plan.js';
import type { SelfTestResult } from '../../common/self-test-protocol.js';
import type { FlashOutcome, FlashRegion } from '../../native/flash/esptool-flasher.js';

/** The check a console-less product's test run holds instead of the board's self-test lines. */
export const FLASH_MD5_CHECK = 'flash_md5';

/** ESP flash writes go in 4-byte words: the chip's MD5 covers the region padded with 0xFF. */
function md5Padded(data: Uint8Array): string {
  const padded = data.length % 4 === 0 ? data : (() => {
    const p = new Uint8Array(data.length + (4 - (data.length % 4))).fill(0xff);
    p.set(data);
    return p;
  })();
  return createHash('md5').update(padded).digest('hex');
}

/**
 * The proof of a product whose test plan says `selfTest: false` (a firmware without the console):
 * the chip's own MD5 of every per-board region equals the MD5 of what the station built for this
 * token. The flasher already refuses a mismatch; this re-checks the flasher's report against the
 * payload, so a board is labelled only when every payload region was MD5-verified on the chip
 * (written or found already there). Returned in the self-test result shape, so the run is stored and
 * shown like any other, with one `flash_md5` check.
 */
export function flashOnlyProof(payload: readonly FlashRegion[], outcome: Pick<FlashOutcome, 'regions' | 'durationMs'>): SelfTestResult {
  const results: CheckResult[] = [];
  const missing: string[] = [];
  for (const region of payload) {
    const ours = md5Padded(region.data);
    const reported = outcome.regions.find((r) => r.address === region.address);
    if (!reported || reported.md5.toLowerCase() !== ours) missing.push(`${region.name} at 0x${region.address.toString(16)}`);
  }
  const expected = `chip MD5 = payload MD5 (${payload.length} region${payload.length === 1 ? '' : 's'})`;
  if (payload.length === 0 || missing.length > 0) {
    const reason =
      payload.length === 0
        ? 'The product has no per-board payload to verify, so the board cannot be proven without a self-test.'
        : `The chip's MD5 does not prove ${missing.join(', ')} — re-flash the board.`;
    results.push({ check: FLASH_MD5_CHECK, ok: false, expected, reason, durationMs: 0 });
    return { ok: false, checks: [], results, log: [], reason, durationMs: 0 };
  }
  results.push({
    check: FLASH_MD5_CHECK,
    ok: true,
    expected,
    value: `verified on the chip; no self-test (the test plan has selfTest: false)`,
    durationMs: 0,
  });
  return { ok: true, checks: [], results, log: [], durationMs: 0 };
}
