import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { basicCredentials, bearerToken } from '../../../cloud/http/auth-header.js';

const withAuth = (authorization?: string) => ({ headers: authorization === undefined ? {} : { authorization } }) as IncomingMessage;
const basic = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;

describe('authorization headers', () => {
  it('reads a bearer token and ignores other schemes', () => {
    expect(bearerToken(withAuth('Bearer abc-DEF_123'))).toBe('abc-DEF_123');
    expect(bearerToken(withAuth('bearer abc'))).toBe('abc');
    expect(bearerToken(withAuth(basic('a:b')))).toBeNull();
    expect(bearerToken(withAuth('Bearer '))).toBeNull();
    expect(bearerToken(withAuth())).toBeNull();
  });

  it('splits Basic credentials at the first colon', () => {
    expect(basicCredentials(withAuth(basic('client:sec:ret')))).toEqual({ clientId: 'client', clientSecret: 'sec:ret' });
    expect(basicCredentials(withAuth(basic(':secret')))).toBeNull();
    expect(basicCredentials(withAuth(basic('client:')))).toBeNull();
    expect(basicCredentials(withAuth(basic('no-colon')))).toBeNull();
    expect(basicCredentials(withAuth('Bearer x'))).toBeNull();
  });
});
