import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStationDatabase } from '../../../core/db/open-database.js';
import { MIGRATIONS } from '../../../core/db/schema.js';
import { TokenQueue } from '../../../core/queue/token-queue.js';
import { FileStationKey, stationKeyBeside } from '../../../core/secrets/station-key.js';
import { TokenSealer } from '../../../core/secrets/token-sealer.js';

const AUTH = 'Zq3x9Vn2Lr8Tk4Wm7Pd1Hs6Yc5Bf0Gj_';
const QR = `sqr_${'a'.repeat(32)}`;

describe('AuthTokens at rest', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'flashline-sealer-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('seals with AES-256-GCM bound to the row, opens only with the same key and row', () => {
    const sealer = new TokenSealer(Buffer.alloc(32, 1));
    const sealed = sealer.seal(AUTH, QR);
    expect(sealed).not.toContain(AUTH);
    expect(sealer.open(sealed, QR)).toBe(AUTH);
    expect(sealer.seal(AUTH, QR)).not.toBe(sealed); // fresh nonce each time
    expect(() => sealer.open(sealed, `sqr_${'b'.repeat(32)}`)).toThrow(/integrity/);
    expect(() => new TokenSealer(Buffer.alloc(32, 2)).open(sealed, QR)).toThrow(/another station key/);
    const tampered = `${sealed.slice(0, -3)}${sealed.endsWith('A') ? 'B' : 'A'}${sealed.slice(-2)}`;
    expect(() => sealer.open(tampered, QR)).toThrow();
    expect(sealer.lookup(AUTH)).toBe(sealer.lookup(AUTH));
    expect(sealer.lookup(AUTH)).not.toBe(new TokenSealer(Buffer.alloc(32, 2)).lookup(AUTH));
  });

  it('keeps the key in a 0600 file and the database holds no AuthToken in the clear; lookup by token still works', () => {
    const path = join(dir, 'station.db');
    const db = openStationDatabase(path, { keySource: stationKeyBeside(path) });
    const queue = new TokenQueue(db);
    queue.importBatch({ batchId: 'b', cloudBatchId: 'b', templateId: '1', orgId: 1, tokens: [{ authToken: AUTH, qrToken: QR }] });
    expect(queue.findByAuthToken(AUTH)?.qrToken).toBe(QR);
    expect(queue.reserve('slot-1', 'p').authToken).toBe(AUTH);
    db.close();
    expect(statSync(join(dir, 'station.key')).mode & 0o777).toBe(0o600);
    for (const file of ['station.db', 'station.db-wal']) {
      try {
        expect(readFileSync(join(dir, file)).includes(Buffer.from(AUTH))).toBe(false);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    // Reopened with the same key file: the token opens again.
    const again = openStationDatabase(path, { keySource: new FileStationKey(join(dir, 'station.key')) });
    expect(new TokenQueue(again).authTokenOf(1)).toBe(AUTH);
    again.close();
  });

  it('seals plain rows left by a database from before schema 3', () => {
    const path = join(dir, 'old.db');
    const old = new Database(path);
    old.exec(MIGRATIONS[0]!);
    old.exec(MIGRATIONS[1]!);
    old.pragma('user_version = 2');
    old.prepare("INSERT INTO batches VALUES ('b', 'b', '1', 1, '2026-01-01', 1)").run();
    old.prepare("INSERT INTO tokens (batch_id, auth_token, qr_token, state, updated_at) VALUES ('b', ?, ?, 'available', '2026-01-01')").run(AUTH, QR);
    old.close();
    const db = openStationDatabase(path, { keySource: stationKeyBeside(path) });
    const row = db.prepare('SELECT auth_lookup AS lookup, auth_sealed AS sealed FROM tokens').get() as { lookup: string; sealed: string };
    expect(row.lookup.startsWith('h1:')).toBe(true);
    expect(row.sealed).not.toContain(AUTH);
    const queue = new TokenQueue(db);
    expect(queue.findByAuthToken(AUTH)?.qrToken).toBe(QR);
    expect(queue.authTokenOf(1)).toBe(AUTH);
    db.close();
  });
});
