import { randomBytes, randomInt, scryptSync, timingSafeEqual } from 'node:crypto';
import type { SupervisorSession } from '../../common/api.js';
import { stationError } from '../../common/errors.js';
import type { StationDatabase } from '../db/open-database.js';

/** A supervisor session lasts this long after the last supervisor command (ms). */
export const SUPERVISOR_SESSION_IDLE_MS = 10 * 60_000;
/** Wrong PINs in a row before logins are refused for SUPERVISOR_LOCKOUT_MS. */
export const SUPERVISOR_PIN_ATTEMPTS_MAX = 5;
/** How long logins are refused after too many wrong PINs (ms). */
export const SUPERVISOR_LOCKOUT_MS = 60_000;
/** Digits of the PIN made at first start. */
export const DEFAULT_PIN_DIGITS = 6;

// scrypt parameters (N = 2^14, r = 8, p = 1: 16 MiB, tens of ms), stored with the hash so they can grow.
const SCRYPT_N = 16_384;
const SCRYPT_R = 8;
const SCRYPT_P = 1;
const SCRYPT_KEY_BYTES = 32;
const PIN_SETTING = 'supervisor_pin_scrypt';

export function hashPin(pin: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(pin, salt, SCRYPT_KEY_BYTES, { N: SCRYPT_N, r: SCRYPT_R, p: SCRYPT_P });
  return `scrypt$${SCRYPT_N}$${SCRYPT_R}$${SCRYPT_P}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

export function verifyPin(pin: string, stored: string): boolean {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = scryptSync(pin, Buffer.from(salt, 'base64url'), expected.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: 256 * 1024 * 1024 });
  return timingSafeEqual(actual, expected);
}

function validPin(pin: string): boolean {
  return /^[0-9]{4,12}$/.test(pin);
}

/**
 * The supervisor PIN (scrypt hash in the settings table) and short-lived sessions in memory. A new
 * station gets a random PIN at first start, which the CLI prints once; `--supervisor-pin` sets one.
 */
export class SupervisorAuth {
  private readonly sessions = new Map<string, number>();
  private failures = 0;
  private lockedUntil = 0;

  constructor(
    private readonly db: StationDatabase,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Makes sure a PIN exists. With `pin`, sets it (replacing any). Returns the PIN only when this
   * call created a random one (to be shown once); otherwise null.
   */
  ensurePin(pin?: string): string | null {
    if (pin !== undefined) {
      if (!validPin(pin)) throw stationError('INVALID_INPUT', 'A supervisor PIN is 4 to 12 digits.', true);
      this.db.prepare('INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)').run(PIN_SETTING, hashPin(pin));
      return null;
    }
    if (this.db.prepare('SELECT 1 FROM settings WHERE key = ?').get(PIN_SETTING)) return null;
    const created = Array.from({ length: DEFAULT_PIN_DIGITS }, () => randomInt(10)).join('');
    this.db.prepare('INSERT INTO settings (key, value) VALUES (?, ?)').run(PIN_SETTING, hashPin(created));
    return created;
  }

  login(pin: string): SupervisorSession {
    const now = this.now();
    if (now < this.lockedUntil) {
      throw stationError('UNAUTHORIZED', `Too many wrong PINs: try again in ${Math.ceil((this.lockedUntil - now) / 1000)} s.`, true);
    }
    const stored = this.db.prepare('SELECT value FROM settings WHERE key = ?').get(PIN_SETTING) as { value: string } | undefined;
    if (!stored || !validPin(pin) || !verifyPin(pin, stored.value)) {
      this.failures++;
      if (this.failures >= SUPERVISOR_PIN_ATTEMPTS_MAX) {
        this.failures = 0;
        this.lockedUntil = now + SUPERVISOR_LOCKOUT_MS;
      }
      throw stationError('UNAUTHORIZED', 'Wrong supervisor PIN.', true);
    }
    this.failures = 0;
    const session = randomBytes(24).toString('base64url');
    this.sessions.set(session, now + SUPERVISOR_SESSION_IDLE_MS);
    return { session, expiresAt: new Date(now + SUPERVISOR_SESSION_IDLE_MS).toISOString() };
  }

  /** Throws UNAUTHORIZED unless the session is live; a live session's idle deadline moves on. */
  require(session: string | undefined): void {
    const now = this.now();
    const expires = session ? this.sessions.get(session) : undefined;
    if (!session || expires === undefined || expires <= now) {
      if (session) this.sessions.delete(session);
      throw stationError('UNAUTHORIZED', 'This needs a supervisor: enter the supervisor PIN.', true);
    }
    this.sessions.set(session, now + SUPERVISOR_SESSION_IDLE_MS);
  }

  logout(session: string): void {
    this.sessions.delete(session);
  }
}
