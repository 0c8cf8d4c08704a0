import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import type { SqlDb, SqlExecutor, SqlValue } from './sql-db.js';

/** How long a statement waits for another process's write lock on the same file. */
const SQLITE_BUSY_TIMEOUT_MS = 5_000;

/**
 * SQLite through better-sqlite3. Statements run synchronously, but a transaction spans awaits,
 * so every top-level use of the handle waits for a promise-chain lock: nothing of another request
 * can run inside an open transaction. Using the outer handle inside `transaction()` (instead of
 * its `tx`) would wait for itself; it throws instead.
 */
export class SqliteDb implements SqlDb {
  readonly dialect = 'sqlite' as const;
  private readonly db: Database.Database;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly inTransaction = new AsyncLocalStorage<true>();
  private readonly statements = new Map<string, Database.Statement>();

  constructor(path: string) {
    this.db = new Database(path);
    if (path !== ':memory:' && path !== '') this.db.pragma('journal_mode = WAL');
    // An answered request survives a power cut.
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    // Migrations hash AuthTokens in SQL (PostgreSQL has sha256() built in).
    this.db.function('sha256_hex', { deterministic: true }, (text: unknown) =>
      typeof text === 'string' ? createHash('sha256').update(text, 'utf8').digest('hex') : null,
    );
  }

  /** The raw handle, for migrations that use SQLite-only statements (PRAGMA user_version). */
  get raw(): Database.Database {
    return this.db;
  }

  private statement(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  private readonly executor: SqlExecutor = {
    dialect: 'sqlite',
    all: async <T>(sql: string, params: readonly SqlValue[] = []) => this.statement(sql).all(...params) as T[],
    get: async <T>(sql: string, params: readonly SqlValue[] = []) => this.statement(sql).get(...params) as T | undefined,
    run: async (sql: string, params: readonly SqlValue[] = []) => {
      const stmt = this.statement(sql);
      // RETURNING makes a statement return rows; run() would refuse it.
      if (stmt.reader) return { changes: stmt.all(...params).length };
      return { changes: stmt.run(...params).changes };
    },
    execScript: async (sql: string) => {
      this.db.exec(sql);
    },
  };

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    if (this.inTransaction.getStore()) {
      return Promise.reject(new Error('the outer database handle was used inside a transaction; use its tx'));
    }
    const result = this.tail.then(work, work);
    this.tail = result.catch(() => undefined);
    return result;
  }

  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.exclusive(() => this.executor.all<T>(sql, params));
  }

  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
    return this.exclusive(() => this.executor.get<T>(sql, params));
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }> {
    return this.exclusive(() => this.executor.run(sql, params));
  }

  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.exclusive(() =>
      this.inTransaction.run(true, async () => {
        // IMMEDIATE takes the write lock now, so another process cannot make us fail at COMMIT.
        this.db.exec('BEGIN IMMEDIATE');
        try {
          const result = await work(this.executor);
          this.db.exec('COMMIT');
          return result;
        } catch (err) {
          if (this.db.inTransaction) this.db.exec('ROLLBACK');
          throw err;
        }
      }),
    );
  }

  /** SQLite locks the whole file for a write transaction already. */
  migrationTransaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.transaction(work);
  }

  execScript(sql: string): Promise<void> {
    return this.exclusive(() => this.executor.execScript(sql));
  }

  async close(): Promise<void> {
    await this.exclusive(async () => {
      this.statements.clear();
      if (this.db.open) this.db.close();
    });
  }
}
