import { describe, expect, it } from 'vitest';
import { openStationDatabase } from '../../../core/db/open-database.js';
import { SUPERVISOR_LOCKOUT_MS, SUPERVISOR_PIN_ATTEMPTS_MAX, SUPERVISOR_SESSION_IDLE_MS, SupervisorAuth } from '../../../core/supervisor/supervisor-auth.js';

describe('SupervisorAuth', () => {
  it('makes a random PIN once, stores only its scrypt hash, and sessions expire when idle', () => {
    const db = openStationDatabase(':memory:');
    let now = 1_000_000;
    const auth = new SupervisorAuth(db, () => now);
    const pin = auth.ensurePin();
    expect(pin).toMatch(/^[0-9]{6}$/);
    expect(auth.ensurePin()).toBeNull();
    const stored = (db.prepare("SELECT value FROM settings WHERE key LIKE 'supervisor%'").get() as { value: string }).value;
    expect(stored).toMatch(/^scrypt\$/);
    expect(stored).not.toContain(pin!);
    const { session } = auth.login(pin!);
    expect(() => auth.require(session)).not.toThrow();
    expect(() => auth.require('nope'.repeat(5))).toThrow(/supervisor PIN/);
    expect(() => auth.require(undefined)).toThrow();
    now += SUPERVISOR_SESSION_IDLE_MS + 1;
    expect(() => auth.require(session)).toThrow(expect.objectContaining({ code: 'UNAUTHORIZED' }));
    db.close();
  });

  it('locks logins out after too many wrong PINs; --supervisor-pin replaces the PIN', () => {
    const db = openStationDatabase(':memory:');
    let now = 0;
    const auth = new SupervisorAuth(db, () => now);
    expect(auth.ensurePin('2468')).toBeNull();
    for (let i = 0; i < SUPERVISOR_PIN_ATTEMPTS_MAX; i++) expect(() => auth.login('1111')).toThrow(/Wrong/);
    expect(() => auth.login('2468')).toThrow(/Too many/);
    now += SUPERVISOR_LOCKOUT_MS;
    expect(auth.login('2468').session).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(() => auth.ensurePin('12')).toThrow(/4 to 12 digits/);
    db.close();
  });
});
