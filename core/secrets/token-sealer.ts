import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { stationError } from '../../common/errors.js';
import { STATION_KEY_BYTES } from './station-key.js';

/** AES-256-GCM: 96-bit nonce (NIST SP 800-38D's recommended size), 128-bit tag. */
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Format tag of a sealed value: `v1.<keyId>.<nonce|ciphertext|tag base64url>`. */
const SEALED_VERSION = 'v1';
/** Prefix of a lookup digest, so a digest can never be mistaken for a plain AuthToken. */
const LOOKUP_PREFIX = 'h1:';

/**
 * AuthTokens at rest: each one sealed with AES-256-GCM, plus a keyed HMAC-SHA256 digest that the
 * queue indexes, so "which token is on this board?" is an equality lookup without storing the token
 * in the clear. Two keys are derived from one master key with HMAC labels (separate keys for
 * separate purposes). The token's row id is bound in as associated data, so a sealed value copied
 * onto another row does not open.
 */
export class TokenSealer {
  private readonly encKey: Buffer;
  private readonly macKey: Buffer;
  /** Short fingerprint of the key, stored with every sealed value: a wrong key is a clear error. */
  readonly keyId: string;

  constructor(masterKey: Buffer) {
    if (masterKey.length !== STATION_KEY_BYTES) throw new Error(`station key must be ${STATION_KEY_BYTES} bytes`);
    this.encKey = createHmac('sha256', masterKey).update('flashline token encryption v1').digest();
    this.macKey = createHmac('sha256', masterKey).update('flashline token lookup v1').digest();
    this.keyId = createHmac('sha256', masterKey).update('flashline key id v1').digest('hex').slice(0, 8);
  }

  /** The value indexed for equality lookups (deterministic, keyed, not reversible). */
  lookup(authToken: string): string {
    return `${LOOKUP_PREFIX}${createHmac('sha256', this.macKey).update(authToken, 'utf8').digest('base64url')}`;
  }

  static isLookup(value: string): boolean {
    return value.startsWith(LOOKUP_PREFIX);
  }

  seal(authToken: string, rowBinding: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.encKey, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(rowBinding, 'utf8'));
    const body = Buffer.concat([cipher.update(authToken, 'utf8'), cipher.final()]);
    return `${SEALED_VERSION}.${this.keyId}.${Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64url')}`;
  }

  open(sealed: string, rowBinding: string): string {
    const [version, keyId, data] = sealed.split('.');
    if (version !== SEALED_VERSION || !data) throw stationError('INTERNAL', 'A token in the queue is stored in a format this build does not know.');
    if (keyId !== this.keyId) {
      throw stationError('INTERNAL', "A token in the queue was sealed with another station key; restore this station's key file.");
    }
    const raw = Buffer.from(data, 'base64url');
    if (raw.length < NONCE_BYTES + TAG_BYTES) throw stationError('INTERNAL', 'A sealed token in the queue is damaged.');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.encKey, raw.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(rowBinding, 'utf8'));
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw stationError('INTERNAL', 'A sealed token in the queue failed its integrity check (damaged or moved between rows).');
    }
  }
}
