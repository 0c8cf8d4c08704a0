/** First retry after a failed sync waits about this long (ms). */
export const SYNC_BACKOFF_BASE_MS = 2_000;
/** Retries never wait longer than this (ms): a station offline for hours tries every ~5 min. */
export const SYNC_BACKOFF_MAX_MS = 5 * 60_000;
/** Share of each delay that is random ("equal jitter"): stations that lost the same cloud do not return in step. */
export const SYNC_BACKOFF_JITTER = 0.5;

/**
 * Delay before retry number `failures` (1 = after the first failure): exponential, capped, with
 * jitter. `random` is in [0, 1); the result lies in [(1 - jitter) * d, d] for the capped d.
 */
export function backoffDelayMs(failures: number, random: () => number = Math.random): number {
  const exponent = Math.max(0, Math.min(failures - 1, 30));
  const capped = Math.min(SYNC_BACKOFF_MAX_MS, SYNC_BACKOFF_BASE_MS * 2 ** exponent);
  const fixed = capped * (1 - SYNC_BACKOFF_JITTER);
  return Math.round(fixed + random() * (capped - fixed));
}
