/**
 * The one query layer of the cloud's store. Every store class talks SQL through this small async
 * interface; two adapters implement it (SQLite through better-sqlite3, PostgreSQL through `pg`).
 *
 * Portable SQL only: `?` placeholders (the PostgreSQL adapter numbers them), `ON CONFLICT … DO
 * NOTHING/UPDATE` instead of `INSERT OR IGNORE`, `RETURNING` for generated ids, 0/1 integers for
 * flags, JSON kept as TEXT, milliseconds since the epoch as 64-bit integers (returned as numbers).
 */
export type SqlValue = string | number | null;

export type SqlDialect = 'sqlite' | 'postgres';

export interface SqlExecutor {
  readonly dialect: SqlDialect;
  /** Every row of a query. */
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** The first row, or undefined. */
  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** A statement without rows; `changes` counts the rows it inserted, updated or deleted. */
  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }>;
  /** Several statements without parameters (migrations only). */
  execScript(sql: string): Promise<void>;
}

export interface SqlDb extends SqlExecutor {
  /**
   * Runs `work` in one transaction and commits it, or rolls back when it throws. PostgreSQL runs it
   * SERIALIZABLE and may call `work` again after a serialization failure, so `work` must do nothing
   * but SQL through `tx` (no other side effects, no use of the outer handle).
   */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * One transaction that holds the database-wide migration lock, so two services starting on one
   * PostgreSQL database migrate one after the other (READ COMMITTED there: after waiting for the
   * lock it sees what the other committed).
   */
  migrationTransaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** How a database location names its store: a `postgres://` URL, otherwise a SQLite path. */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}
