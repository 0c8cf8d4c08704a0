import { randomUUID } from 'node:crypto';
import { ensureStock, type EnsureStockOptions } from '../station/ensure-stock.js';

/** A supervisor's pull whose reply has not been imported yet: `{requestId, count}` (JSON). */
const PENDING_MANUAL_PULL_KEY = 'pending_manual_pull';

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
    return this.serial(async () => {
      const pending = this.pendingManual();
      if (pending && pending.count !== count) await this.pullWith(pending.requestId, pending.count);
      const requestId = pending?.count === count ? pending.requestId : randomUUID();
      if (pending?.count !== count) {
        this.options.db.prepare('INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)').run(PENDING_MANUAL_PULL_KEY, JSON.stringify({ requestId, count }));
      }
      return this.pullWith(requestId, count);
    });
  }

  private async pullWith(requestId: string, count: number): Promise<{ batchId: string; imported: number }> {
    const { db, queue, client, product, stationId } = this.options;
    const batch = await client.pullBatch({ count, templateId: Number(product.templateId), requestId, stationId });
    const imported = db.transaction(() => {
      const n = queue.importBatch({
        batchId: batch.batchId,
        cloudBatchId: batch.batchId,
        templateId: String(batch.templateId),
        orgId: batch.orgId,
        tokens: batch.tokens.map((t) => ({ authToken: t.deviceToken, qrToken: t.token })),
      });
      db.prepare('DELETE FROM settings WHERE key = ?').run(PENDING_MANUAL_PULL_KEY);
      return n;
    })();
    this.options.log?.(`pulled batch ${batch.batchId} for a supervisor: ${imported} tokens`);
    return { batchId: batch.batchId, imported };
  }

  private pendingManual(): { requestId: string; count: number } | null {
    const row = this.options.db.prepare('SELECT value FROM settings WHERE key = ?').get(PENDING_MANUAL_PULL_KEY) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as { requestId: string; count: number }) : null;
  }

  private serial<T>(job: () => Promise<T>): Promise<T> {
    const next = this.chain.then(job, job);
    this.chain = next.catch(() => undefined);
    return next;
  }
}
