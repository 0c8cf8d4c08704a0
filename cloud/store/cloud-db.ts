import Database from 'better-sqlite3';
import { CLOUD_MIGRATIONS } from './schema.js';

export type CloudDb = Database.Database;

/**
 * Opens (or creates) the cloud database and brings its schema up to date. A file database runs in
 * WAL mode with synchronous=FULL, so an answered request survives a power cut.
 */
export function openCloudDb(path: string): CloudDb {
  const db = new Database(path);
  if (path !== ':memory:' && path !== '') db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

function migrate(db: CloudDb): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > CLOUD_MIGRATIONS.length) {
    db.close();
    throw new Error(`cloud database schema version ${current} is newer than this build (${CLOUD_MIGRATIONS.length})`);
  }
  for (let version = current; version < CLOUD_MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(CLOUD_MIGRATIONS[version] ?? '');
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
