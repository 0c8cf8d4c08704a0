import { createHash, randomBytes, randomInt, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Random identifiers and secrets of the cloud, and how the secret ones are stored.
 *
 * - AuthToken (device token): 32 chars of [-_a-zA-Z0-9]. 24 random bytes in base64url are exactly
 *   32 such chars, each uniformly distributed (192 bits).
 * - QR token: `sqr_` + 32 alphanumerics (rejection-sampled by randomInt, ~190 bits). Letters and
 *   digits only, like Blynk's examples, so `{qrToken}+{orgId}` splits unambiguously.
 * - Bearer and refresh tokens: 40 chars of base64url (240 bits); stored as SHA-256, which is enough
 *   for high-entropy random values and allows a direct index lookup.
 * - OAuth2 client secrets: chosen by people or tools, so stored with scrypt and a random salt.
 */
export const AUTH_TOKEN_PATTERN = /^[-_a-zA-Z0-9]{32}$/;
export const QR_TOKEN_PATTERN = /^sqr_[-_a-zA-Z0-9]{32}$/;

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A fresh AuthToken. One that starts with "-" is drawn again (1 in 64), so no AuthToken looks like
 * a spreadsheet formula or a command-line option when a person handles an export.
 */
export function newAuthToken(): string {
  for (;;) {
    const token = randomBytes(24).toString('base64url');
    if (!token.startsWith('-')) return token;
  }
}

export function randomAlphanumeric(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return out;
}

export function newQrToken(): string {
  return `sqr_${randomAlphanumeric(32)}`;
}

export function newBearerToken(): string {
  return randomBytes(30).toString('base64url');
}

export function newBatchId(): string {
  return `bat_${randomAlphanumeric(16)}`;
}

export function newClientId(): string {
  return `oa2-client-id_${randomAlphanumeric(24)}`;
}

export function newClientSecret(): string {
  return randomBytes(30).toString('base64url');
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

// scrypt cost: N = 2^14, r = 8, p = 1 (the values RFC 7914 and Node's defaults use) takes ~30-60 ms
// and 16 MiB per verification, paid once per OAuth2 token request.
const SCRYPT_N = 16_384;
const SCRYPT_R = 8;
const SCRYPT_P = 1;
const SCRYPT_KEY_BYTES = 32;
const SCRYPT_SALT_BYTES = 16;

function scryptAsync(secret: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, SCRYPT_KEY_BYTES, { N: n, r, p, maxmem: 64 * 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** `scrypt$N$r$p$salt$hash` with base64url salt and hash. */
export async function hashClientSecret(secret: string): Promise<string> {
  const salt = randomBytes(SCRYPT_SALT_BYTES);
  const key = await scryptAsync(secret, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P);
  return ['scrypt', SCRYPT_N, SCRYPT_R, SCRYPT_P, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** A stored hash that matches nothing; verified against when the client id is unknown so that
 *  unknown ids and wrong secrets take the same time. */
export const UNMATCHABLE_SECRET_HASH = `scrypt$${SCRYPT_N}$${SCRYPT_R}$${SCRYPT_P}$${Buffer.alloc(16).toString('base64url')}$${Buffer.alloc(32).toString('base64url')}`;

export async function verifyClientSecret(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [n, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  const salt = Buffer.from(parts[4] ?? '', 'base64url');
  const expected = Buffer.from(parts[5] ?? '', 'base64url');
  if (![n, r, p].every(Number.isSafeInteger) || expected.length !== SCRYPT_KEY_BYTES) return false;
  const actual = await scryptAsync(secret, salt, n, r, p);
  return timingSafeEqual(actual, expected);
}
