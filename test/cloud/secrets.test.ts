import { describe, expect, it } from 'vitest';
import {
  AUTH_TOKEN_PATTERN,
  hashClientSecret,
  newAuthToken,
  newQrToken,
  QR_TOKEN_PATTERN,
  UNMATCHABLE_SECRET_HASH,
  verifyClientSecret,
} from '../../cloud/secrets.js';

describe('cloud secrets', () => {
  it('draws AuthTokens and QR tokens of Blynk’s shapes', () => {
    for (let i = 0; i < 200; i++) {
      expect(newAuthToken()).toMatch(AUTH_TOKEN_PATTERN);
      expect(newQrToken()).toMatch(/^sqr_[A-Za-z0-9]{32}$/);
      expect(newQrToken()).toMatch(QR_TOKEN_PATTERN);
    }
    // All 64 symbols of the AuthToken alphabet turn up, including '-' and '_'.
    const seen = new Set(Array.from({ length: 200 }, newAuthToken).join(''));
    expect(seen.size).toBe(64);
  });

  it('verifies a client secret against its salted scrypt hash only', async () => {
    const hash = await hashClientSecret('correct horse');
    expect(hash).not.toContain('correct');
    expect(await hashClientSecret('correct horse')).not.toBe(hash);
    expect(await verifyClientSecret('correct horse', hash)).toBe(true);
    expect(await verifyClientSecret('correct horse ', hash)).toBe(false);
    expect(await verifyClientSecret('correct horse', UNMATCHABLE_SECRET_HASH)).toBe(false);
    expect(await verifyClientSecret('correct horse', 'plain-text')).toBe(false);
  });
});
