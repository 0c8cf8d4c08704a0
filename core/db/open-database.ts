import Database from 'better-sqlite3';
import { attachSealer, sealPlainTokens } from '../secrets/database-sealer.js';
import type { StationKeySource } from '../secrets/station-key.js';
import { MIGRATIONS } from './schema.js';

export type StationDatabase = Database.Database;

/**
 * Opens (creating if needed) the station database. WAL so readers never block the writer, and
 * `synchronous=FULL` so a committed transaction survives a power cut: every token transition is
 * committed before the side effect it allows (the first flash byte, the label).
 */
export interface OpenStationDatabaseOptions {
  /** The station key that seals AuthTokens at rest (default: a per-process key, for tests). */
  keySource?: StationKeySource;
}

export function openStationDatabase(path: string, options: OpenStationDatabaseOptions = {}): StationDatabase {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  sealPlainTokens(db, attachSealer(db, options.keySource));
  return db;
}

function migrate(db: StationDatabase): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(`station database is from a newer Flashline (schema ${current}, this build knows ${MIGRATIONS.length})`);
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    const sql = MIGRATIONS[version] as string;
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
