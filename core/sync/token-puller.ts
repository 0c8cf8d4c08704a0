import { randomUUID } from 'node:crypto';
import { StationError } from '../../common/errors.js';
import { ensureStock, type EnsureStockOptions } from '../station/ensure-stock.js';

/** A supervisor's pull whose reply has not been imported yet: a `PendingPull` (JSON). */
const PENDING_MANUAL_PULL_KEY = 'pending_manual_pull';

/** A CSV the supervisor checked and confirmed: its text, the remap, and its number of data rows. */
export interface CsvPullRequest {
  text: string;
  remap: Record<string, string | null>;
  rows: number;
}

interface ManualPull {
  count: number;
  csv?: { text: string; remap: Record<string, string | null> };
}

/** Rows stored by earlier builds have no `csv`: a count pull. */
interface PendingPull extends ManualPull {
  requestId: string;
}

function samePull(a: ManualPull, b: ManualPull): boolean {
  return a.count === b.count && JSON.stringify(a.csv ?? null) === JSON.stringify(b.csv ?? null);
}

/** The same facts a top-up needs: the puller is ensureStock, serialised, plus manual pulls. */
export type TokenPullerOptions = EnsureStockOptions;

/**
 * Every pull from the cloud goes through here, one at a time: the sync loop's automatic top-up
 * (ensureStock) and a supervisor's "pull a batch". Each pull's request id is committed before the
 * request goes out and reused until its batch is imported, so a lost reply fetches the same batch
 * again (the cloud is idempotent by request id) and no batch is left stranded in the cloud.
 */
export class TokenPuller {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: TokenPullerOptions) {}

  get lowWater(): number {
    return this.options.lowWater ?? Math.ceil(this.options.batchSize / 4);
  }

  lowStock(): boolean {
    return this.options.queue.stock().available < this.lowWater;
  }

  topUp(): Promise<number> {
    return this.serial(() => ensureStock({ ...this.options, lowWater: this.lowWater }));
  }

  /** A supervisor's pull of `count` tokens; a pull left unfinished earlier is completed first. */
  pull(count: number): Promise<{ batchId: string; imported: number }> {
    return this.manual({ count });
  }

  /**
   * A supervisor's pull of one token per data row of a checked CSV (`rows` of them), each token
   * landing with its row's metadata as the cloud returns it. Same idempotency as `pull`: the
   * request (id, CSV and remap) is committed before it goes out and re-sent until imported.
   */
  pullCsv(csv: CsvPullRequest): Promise<{ batchId: string; imported: number }> {
    return this.manual({ count: csv.rows, csv: { text: csv.text, remap: csv.remap } });
  }

  private manual(ask: ManualPull): Promise<{ batchId: string; imported: number }> {
    return this.serial(async () => {
      const pending = this.pendingManual();
      const same = pending !== null && samePull(pending, ask);
      if (pending && !same) await this.pullWith(pending);
      const request: PendingPull = same ? pending : { ...ask, requestId: randomUUID() };
      if (!same) this.options.db.prepare('INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)').run(PENDING_MANUAL_PULL_KEY, JSON.stringify(request));
      return this.pullWith(request);
    });
  }

  private async pullWith(request: PendingPull): Promise<{ batchId: string; imported: number }> {
    const { db, queue, client, product, stationId } = this.options;
    let batch;
    try {
      batch = await client.pullBatch({
        count: request.count,
        templateId: Number(product.templateId),
        requestId: request.requestId,
        stationId,
        ...(request.csv ? { csv: request.csv } : {}),
      });
    } catch (err) {
      // A refusal (4xx: the CSV no longer fits the template, a conflicting request id) means the
      // cloud made nothing for this request; forget it so it does not block every later pull.
      // Anything else (down, 5xx, a reply we could not read) keeps it to be completed later.
      const status = err instanceof StationError ? err.details?.['status'] : undefined;
      if (err instanceof StationError && err.code === 'CLOUD_REJECTED' && typeof status === 'number' && status >= 400 && status < 500) {
        db.prepare('DELETE FROM settings WHERE key = ? AND value = ?').run(PENDING_MANUAL_PULL_KEY, JSON.stringify(request));
      }
      throw err;
    }
    const imported = db.transaction(() => {
      const n = queue.importBatch({
        batchId: batch.batchId,
        cloudBatchId: batch.batchId,
        templateId: String(batch.templateId),
        orgId: batch.orgId,
        tokens: batch.tokens.map((t) => ({ authToken: t.deviceToken, qrToken: t.token, ...(t.metadata ? { metadata: t.metadata } : {}) })),
      });
      db.prepare('DELETE FROM settings WHERE key = ?').run(PENDING_MANUAL_PULL_KEY);
      return n;
    })();
    this.options.log?.(`pulled batch ${batch.batchId} for a supervisor: ${imported} tokens${request.csv ? ' (from a CSV)' : ''}`);
    return { batchId: batch.batchId, imported };
  }

  private pendingManual(): PendingPull | null {
    const row = this.options.db.prepare('SELECT value FROM settings WHERE key = ?').get(PENDING_MANUAL_PULL_KEY) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as PendingPull) : null;
  }

  private serial<T>(job: () => Promise<T>): Promise<T> {
    const next = this.chain.then(job, job);
    this.chain = next.catch(() => undefined);
    return next;
  }
}
