import pg from 'pg';
import type { SqlDb, SqlExecutor, SqlValue } from './sql-db.js';

/** Connections the service keeps to PostgreSQL. */
const POOL_SIZE_MAX = 10;
/** Waiting for a free pooled connection, then for a new one. */
const CONNECT_TIMEOUT_MS = 10_000;
/** Any one statement; a stuck query fails the request instead of holding a connection for ever. */
const STATEMENT_TIMEOUT_MS = 15_000;
/** Idle pooled connections are closed after this long. */
const IDLE_TIMEOUT_MS = 30_000;
/**
 * Attempts of a transaction that keeps losing serialization races (each retry starts afresh). Of
 * N transactions racing for one row at least one commits per round, so this covers a full pool.
 */
const SERIALIZATION_ATTEMPTS_MAX = 2 * POOL_SIZE_MAX;
/** Backoff between those attempts: doubled each time from this, capped, with jitter. */
const SERIALIZATION_BACKOFF_MS = 5;
const SERIALIZATION_BACKOFF_MAX_MS = 200;

// SQLSTATEs worth retrying: serialization_failure and deadlock_detected.
const RETRYABLE = new Set(['40001', '40P01']);

/** Advisory lock key held while migrating ("flas" in ASCII; any constant would do). */
const MIGRATION_LOCK_KEY = 0x666c6173;
const INT8_OID = 20;
const NUMERIC_OID = 1700;

/** `?` placeholders become `$1, $2, …`. The cloud's SQL never has a `?` inside a string literal. */
export function numberPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

// Timestamps (BIGINT) and COUNT(*) come back from pg as strings by default; every such value
// the cloud stores is well inside 2^53, so numbers are exact.
const types = {
  getTypeParser(oid: number, format?: string) {
    if (oid === INT8_OID || oid === NUMERIC_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

function executorOf(client: pg.Pool | pg.PoolClient): SqlExecutor {
  const query = (sql: string, params: readonly SqlValue[] = []) =>
    client.query({ text: numberPlaceholders(sql), values: [...params], types } as pg.QueryConfig);
  return {
    dialect: 'postgres',
    all: async <T>(sql: string, params?: readonly SqlValue[]) => (await query(sql, params)).rows as T[],
    get: async <T>(sql: string, params?: readonly SqlValue[]) => (await query(sql, params)).rows[0] as T | undefined,
    run: async (sql: string, params?: readonly SqlValue[]) => ({ changes: (await query(sql, params)).rowCount ?? 0 }),
    // No parameters: the simple query protocol, which accepts several statements.
    execScript: async (sql: string) => {
      await client.query(sql);
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * PostgreSQL through a `pg` pool. Every transaction runs SERIALIZABLE: the store's
 * check-then-write steps (claim, idempotent batch generation, record pushes) stay correct under
 * concurrent requests without table locks, and a transaction that loses a race is run again.
 */
export class PostgresDb implements SqlDb {
  readonly dialect = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly executor: SqlExecutor;

  constructor(url: string) {
    this.pool = new pg.Pool({
      connectionString: url,
      max: POOL_SIZE_MAX,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      idleTimeoutMillis: IDLE_TIMEOUT_MS,
      statement_timeout: STATEMENT_TIMEOUT_MS,
      application_name: 'flashline-cloud',
    });
    // An idle pooled connection that the server drops must not crash the process.
    this.pool.on('error', () => undefined);
    this.executor = executorOf(this.pool);
  }

  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.executor.all<T>(sql, params);
  }

  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
    return this.executor.get<T>(sql, params);
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }> {
    return this.executor.run(sql, params);
  }

  async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      let result: T;
      try {
        await client.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
        result = await work(executorOf(client));
        await client.query('COMMIT');
      } catch (err) {
        let broken = false;
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
        client.release(broken);
        const code = (err as { code?: unknown }).code;
        if (typeof code === 'string' && RETRYABLE.has(code) && attempt < SERIALIZATION_ATTEMPTS_MAX) {
          await sleep(Math.min(SERIALIZATION_BACKOFF_MAX_MS, SERIALIZATION_BACKOFF_MS * 2 ** (attempt - 1)) * (0.5 + Math.random()));
          continue;
        }
        throw err;
      }
      client.release();
      return result;
    }
  }

  execScript(sql: string): Promise<void> {
    return this.executor.execScript(sql);
  }

  async migrationTransaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      const result = await work(executorOf(client));
      await client.query('COMMIT');
      client.release();
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release(true);
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
