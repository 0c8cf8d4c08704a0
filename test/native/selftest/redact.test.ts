import { describe, expect, it } from 'vitest';
import { REDACTED, redactToken } from '../../../native/selftest/redact.js';

const TOKEN = 'Ab-_cdEFghIJklMNopQRstUVwx012345';

describe('redactToken', () => {
  it('replaces the expected token wherever it appears, even inside longer text or in another case', () => {
    expect(redactToken(`auth=${TOKEN};`, TOKEN)).toBe(`auth=${REDACTED};`);
    expect(redactToken(`xx${TOKEN}yy`, TOKEN)).toBe(`xx${REDACTED}yy`);
    expect(redactToken(TOKEN.toUpperCase(), TOKEN)).toBe(REDACTED);
  });

  it('replaces any other token-shaped run (another board\'s token) but keeps nonces, MD5s and proofs', () => {
    const other = 'Zz9_yYxX8-wWvV7uUtT6sSrR5qQpP4oO';
    expect(redactToken(`login refused for ${other}`, TOKEN)).toBe(`login refused for ${REDACTED}`);
    const md5 = 'e5477dfd0b72e818f4c491d9fbd96421';
    const proof = 'a'.repeat(64);
    expect(redactToken(`{"check":"app_md5","value":"${md5}"} ${proof}`, TOKEN)).toBe(`{"check":"app_md5","value":"${md5}"} ${proof}`);
    // 31 or 33 characters are not token-shaped.
    expect(redactToken('A'.repeat(31), undefined)).toBe('A'.repeat(31));
    expect(redactToken('A'.repeat(33), undefined)).toBe('A'.repeat(33));
  });

  it('escapes regular-expression characters in the token', () => {
    expect(redactToken('a.b+c', 'a.b+c')).toBe(REDACTED);
    expect(redactToken('aXb+c', 'a.b+c')).toBe('aXb+c');
  });

  it('leaves lines without tokens alone', () => {
    expect(redactToken('I (312) boot: ESP-IDF v5.1.4 2nd stage bootloader', TOKEN)).toBe('I (312) boot: ESP-IDF v5.1.4 2nd stage bootloader');
  });
});
