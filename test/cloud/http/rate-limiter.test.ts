import { describe, expect, it } from 'vitest';
import { FixedWindowRateLimiter } from '../../../cloud/http/rate-limiter.js';

describe('FixedWindowRateLimiter', () => {
  it('allows `limit` requests per key per window and says when to come back', () => {
    const limiter = new FixedWindowRateLimiter(2, 60_000);
    expect(limiter.take('a', 0)).toEqual({ ok: true });
    expect(limiter.take('a', 10_000)).toEqual({ ok: true });
    expect(limiter.take('a', 15_500)).toEqual({ ok: false, retryAfterS: 45 });
    expect(limiter.take('b', 15_500)).toEqual({ ok: true });
    expect(limiter.take('a', 60_000)).toEqual({ ok: true });
  });
});
