import { CLOUD_LIMITS } from '../limits.js';

export type RateDecision = { ok: true } | { ok: false; retryAfterS: number };

/**
 * Fixed-window request counter per key (an organisation, or a remote address). Blynk documents its
 * limit as requests per minute per organisation; a fixed window is the simplest faithful model.
 */
export class FixedWindowRateLimiter {
  private readonly buckets = new Map<string, { windowStart: number; count: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  take(key: string, now: number): RateDecision {
    let bucket = this.buckets.get(key);
    if (!bucket || now - bucket.windowStart >= this.windowMs) {
      if (!bucket && this.buckets.size >= CLOUD_LIMITS.rateLimitBucketsMax) this.sweep(now);
      bucket = { windowStart: now, count: 0 };
      this.buckets.set(key, bucket);
    }
    if (bucket.count >= this.limit) {
      return { ok: false, retryAfterS: Math.max(1, Math.ceil((bucket.windowStart + this.windowMs - now) / 1000)) };
    }
    bucket.count++;
    return { ok: true };
  }

  private sweep(now: number): void {
    for (const [key, bucket] of this.buckets) if (now - bucket.windowStart >= this.windowMs) this.buckets.delete(key);
  }
}
