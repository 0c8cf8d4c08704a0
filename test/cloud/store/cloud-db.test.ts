import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCloudDb, type CloudDb } from '../../../cloud/store/cloud-db.js';
import { CLOUD_MIGRATIONS } from '../../../cloud/store/schema.js';
import { numberPlaceholders } from '../../../cloud/store/sql/postgres-db.js';
import { sha256Hex } from '../../../cloud/secrets.js';
import { freshPostgresSchema, STORE_KINDS, type StoreKind } from '../cloud-test-kit.js';

async function openStore(kind: StoreKind): Promise<{ db: CloudDb; close: () => Promise<void> }> {
  if (kind === 'sqlite') {
    const db = await openCloudDb(':memory:');
    return { db, close: () => db.close() };
  }
  const schema = await freshPostgresSchema();
  const db = await openCloudDb(schema.url);
  return {
    db,
    close: async () => {
      await db.close();
      await schema.drop();
    },
  };
}

async function columnsOf(db: CloudDb): Promise<Record<string, string[]>> {
  const rows =
    db.dialect === 'sqlite'
      ? await db.all<{ t: string; c: string }>(
          `SELECT m.name AS t, p.name AS c FROM sqlite_master m JOIN pragma_table_info(m.name) p
           WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`,
        )
      : await db.all<{ t: string; c: string }>(
          `SELECT table_name AS t, column_name AS c FROM information_schema.columns
           WHERE table_schema = current_schema() AND table_name <> 'flashline_schema_version'`,
        );
  const out: Record<string, string[]> = {};
  for (const { t, c } of rows) (out[t] ??= []).push(c);
  for (const t of Object.keys(out)) out[t]!.sort();
  return out;
}

describe('the cloud database on both stores', () => {
  const stores: Partial<Record<StoreKind, { db: CloudDb; close: () => Promise<void> }>> = {};
  beforeAll(async () => {
    for (const kind of STORE_KINDS) stores[kind] = await openStore(kind);
  });
  afterAll(async () => {
    for (const kind of STORE_KINDS) await stores[kind]?.close();
  });

  it('ends with the same tables and columns on SQLite (v1 + v2) and PostgreSQL', async () => {
    const sqlite = await columnsOf(stores.sqlite!.db);
    const postgres = await columnsOf(stores.postgres!.db);
    expect(Object.keys(sqlite).length).toBeGreaterThanOrEqual(10);
    expect(postgres).toEqual(sqlite);
  });

  it.each(STORE_KINDS)('%s: a transaction that throws leaves nothing behind; one that returns commits', async (kind) => {
    const db = stores[kind]!.db;
    const now = 1;
    await expect(
      db.transaction(async (tx) => {
        await tx.run('INSERT INTO organizations (name, created_at) VALUES (?, ?)', ['rolled back', now]);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await db.get('SELECT id FROM organizations WHERE name = ?', ['rolled back'])).toBeUndefined();
    const id = await db.transaction(async (tx) => (await tx.get<{ id: number }>('INSERT INTO organizations (name, created_at) VALUES (?, ?) RETURNING id', ['kept', now]))!.id);
    expect(await db.get('SELECT name FROM organizations WHERE id = ?', [id])).toEqual({ name: 'kept' });
    // 64-bit timestamps and counts come back as numbers on both.
    expect(await db.get('SELECT COUNT(*) AS n, MAX(created_at) AS t FROM organizations')).toEqual({ n: 1, t: now });
  });

  it.each(STORE_KINDS)('%s: concurrent transactions do not see each other half-done', async (kind) => {
    const db = stores[kind]!.db;
    const org = (await db.get<{ id: number }>('INSERT INTO organizations (name, created_at) VALUES (?, ?) RETURNING id', ['counter', 0]))!.id;
    // Read-modify-write of one row from many requests at once: no increment may be lost.
    await Promise.all(
      Array.from({ length: 20 }, () =>
        db.transaction(async (tx) => {
          const row = (await tx.get<{ created_at: number }>('SELECT created_at FROM organizations WHERE id = ?', [org]))!;
          await tx.run('UPDATE organizations SET created_at = ? WHERE id = ?', [row.created_at + 1, org]);
        }),
      ),
    );
    expect(await db.get('SELECT created_at AS n FROM organizations WHERE id = ?', [org])).toEqual({ n: 20 });
  });

  it('SQLite refuses the outer handle inside a transaction instead of deadlocking', async () => {
    const db = stores.sqlite!.db;
    await expect(db.transaction(async () => db.get('SELECT 1 AS one'))).rejects.toThrow(/inside a transaction/);
    expect(await db.get('SELECT 1 AS one')).toEqual({ one: 1 });
  });

  it('numbers placeholders for PostgreSQL', () => {
    expect(numberPlaceholders('SELECT ? , ?, x FROM t WHERE a = ?')).toBe('SELECT $1 , $2, x FROM t WHERE a = $3');
  });
});

describe('SQLite schema version 1 → 2', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'flashline-cloud-v1-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps v1 data and replaces devices’ AuthTokens with their SHA-256', async () => {
    const path = join(dir, 'cloud.db');
    const old = new Database(path);
    old.exec(CLOUD_MIGRATIONS[0]!.sqlite);
    old.pragma('user_version = 1');
    const authToken = 'A'.repeat(32);
    old.exec(`
      INSERT INTO organizations (id, name, created_at) VALUES (1, 'Maker', 1);
      INSERT INTO device_templates (id, org_id, name, blynk_template_id, metadata_fields, created_at) VALUES (1, 1, 'P', 'TMPLx', '[]', 1);
      INSERT INTO static_tokens (id, qr_token, device_token, org_id, template_id, created_at) VALUES (1, 'sqr_${'q'.repeat(32)}', '${authToken}', 1, 1, 1);
      INSERT INTO devices (id, org_id, template_id, auth_token, name, static_token_id, connected, created_at) VALUES (7, 1, 1, '${authToken}', 'P', 1, 1, 1);
    `);
    old.close();

    const db = await openCloudDb(path);
    try {
      expect(await db.get('PRAGMA user_version')).toEqual({ user_version: CLOUD_MIGRATIONS.length });
      const device = await db.get<Record<string, unknown>>('SELECT * FROM devices WHERE id = 7');
      expect(device).toMatchObject({ org_id: 1, auth_token_hash: sha256Hex(authToken), connected: 1, metadata: '{}' });
      expect(JSON.stringify(device)).not.toContain(authToken);
      expect(await db.get('SELECT kind FROM oauth_clients')).toBeUndefined();
      expect(await db.get('SELECT status, deleted_at FROM static_tokens WHERE id = 1')).toEqual({ status: 'UNCLAIMED', deleted_at: null });
    } finally {
      await db.close();
    }
  });
});
