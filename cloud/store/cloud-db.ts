import { CLOUD_MIGRATIONS } from './schema.js';
import { PostgresDb } from './sql/postgres-db.js';
import { isPostgresUrl, type SqlDb, type SqlExecutor } from './sql/sql-db.js';
import { SqliteDb } from './sql/sqlite-db.js';

export type CloudDb = SqlDb;

/**
 * Opens the cloud database and brings its schema up to date: PostgreSQL for a `postgres://` or
 * `postgresql://` URL, otherwise a SQLite file (or `:memory:`). A SQLite file runs in WAL mode
 * with synchronous=FULL, so an answered request survives a power cut.
 */
export async function openCloudDb(location: string): Promise<CloudDb> {
  const db: SqlDb = isPostgresUrl(location) ? new PostgresDb(location) : new SqliteDb(location);
  try {
    await migrate(db);
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
  return db;
}

async function migrate(db: SqlDb): Promise<void> {
  await db.migrationTransaction(async (tx) => {
    const current = await schemaVersion(tx);
    if (current > CLOUD_MIGRATIONS.length) {
      throw new Error(`cloud database schema version ${current} is newer than this build (${CLOUD_MIGRATIONS.length})`);
    }
    for (let version = current; version < CLOUD_MIGRATIONS.length; version++) {
      const script = CLOUD_MIGRATIONS[version]![tx.dialect];
      if (script.trim()) await tx.execScript(script);
    }
    if (current < CLOUD_MIGRATIONS.length) await setSchemaVersion(tx, CLOUD_MIGRATIONS.length);
  });
}

async function schemaVersion(tx: SqlExecutor): Promise<number> {
  if (tx.dialect === 'sqlite') {
    return (await tx.get<{ user_version: number }>('PRAGMA user_version'))?.user_version ?? 0;
  }
  await tx.execScript('CREATE TABLE IF NOT EXISTS flashline_schema_version (version INTEGER NOT NULL)');
  return (await tx.get<{ version: number }>('SELECT version FROM flashline_schema_version'))?.version ?? 0;
}

async function setSchemaVersion(tx: SqlExecutor, version: number): Promise<void> {
  if (tx.dialect === 'sqlite') {
    await tx.execScript(`PRAGMA user_version = ${version}`);
    return;
  }
  const updated = await tx.run('UPDATE flashline_schema_version SET version = ?', [version]);
  if (updated.changes === 0) await tx.run('INSERT INTO flashline_schema_version (version) VALUES (?)', [version]);
}

/**
 * After rows were inserted with explicit ids (the seed's organisation and template), PostgreSQL's
 * identity sequence must move past them or the next generated id would collide. SQLite picks
 * max(id) + 1 by itself.
 */
export async function syncIdSequence(tx: SqlExecutor, table: 'organizations' | 'device_templates' | 'users'): Promise<void> {
  if (tx.dialect !== 'postgres') return;
  await tx.get(`SELECT setval(pg_get_serial_sequence('${table}', 'id'), GREATEST((SELECT MAX(id) FROM ${table}), 1))`);
}
