import type Database from 'better-sqlite3';
import { EphemeralStationKey, type StationKeySource } from './station-key.js';
import { TokenSealer } from './token-sealer.js';

const sealers = new WeakMap<Database.Database, TokenSealer>();
let processSealer: TokenSealer | null = null;

/** Binds a database handle to the sealer made from its station key (done by openStationDatabase). */
export function attachSealer(db: Database.Database, keySource: StationKeySource | undefined): TokenSealer {
  const sealer = keySource ? new TokenSealer(keySource.loadKey()) : defaultSealer();
  sealers.set(db, sealer);
  return sealer;
}

/**
 * The sealer of a database. A handle opened without a key source (unit tests, in-memory
 * databases) gets one key per process: sealed values then do not outlive the process, which is
 * fine for a test and is why the station itself always opens its database with a key file.
 */
export function sealerOf(db: Database.Database): TokenSealer {
  const sealer = sealers.get(db);
  if (sealer) return sealer;
  const fallback = defaultSealer();
  sealers.set(db, fallback);
  return fallback;
}

function defaultSealer(): TokenSealer {
  processSealer ??= new TokenSealer(new EphemeralStationKey().loadKey());
  return processSealer;
}

/**
 * Seals AuthTokens stored in the clear by builds before encryption at rest (schema 3 renamed the
 * column to `auth_lookup` and left its values as they were). One transaction: after it every row
 * holds a lookup digest and a sealed value. Returns how many rows it converted.
 */
export function sealPlainTokens(db: Database.Database, sealer: TokenSealer): number {
  const rows = db.prepare('SELECT id, auth_lookup AS plain, qr_token AS qrToken FROM tokens WHERE auth_sealed IS NULL').all() as {
    id: number;
    plain: string;
    qrToken: string;
  }[];
  if (rows.length === 0) return 0;
  const update = db.prepare('UPDATE tokens SET auth_lookup = ?, auth_sealed = ? WHERE id = ?');
  db.transaction(() => {
    for (const row of rows) update.run(sealer.lookup(row.plain), sealer.seal(row.plain, row.qrToken), row.id);
  })();
  return rows.length;
}
