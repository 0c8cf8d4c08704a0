import { randomUUID } from 'node:crypto';
import { StationError } from '../../common/errors.js';
import type { CloudClient } from '../cloud/cloud-client.js';
import type { StationDatabase } from '../db/open-database.js';
import type { ProductConfig } from '../product/product.js';
import type { TokenQueue } from '../queue/token-queue.js';

const PENDING_PULL_KEY = 'pending_pull_request_id';

export interface EnsureStockOptions {
  db: StationDatabase;
  queue: TokenQueue;
  client: CloudClient;
  product: ProductConfig;
  stationId: string;
  batchSize: number;
  /** Pull when fewer than this many tokens are available. */
  lowWater?: number;
  log?: (line: string) => void;
}

/**
 * Tops the queue up from the cloud. The pull's request id is committed before the request goes out
 * and reused until its batch is imported, so a reply lost to a crash or a dropped connection fetches
 * the same batch again instead of leaving a second one stranded in the cloud.
 */
export async function ensureStock(options: EnsureStockOptions): Promise<number> {
  const { db, queue } = options;
  if (queue.stock().available >= (options.lowWater ?? Math.ceil(options.batchSize / 4))) return 0;
  const pending = db.prepare('SELECT value FROM settings WHERE key = ?').get(PENDING_PULL_KEY) as { value: string } | undefined;
  const requestId = pending?.value ?? randomUUID();
  if (!pending) db.prepare('INSERT INTO settings (key, value) VALUES (?, ?)').run(PENDING_PULL_KEY, requestId);
  const batch = await options.client.pullBatch({ count: options.batchSize, templateId: Number(options.product.templateId), requestId, stationId: options.stationId });
  let imported: number;
  try {
    imported = db.transaction(() => {
      const n = queue.importBatch({
        batchId: batch.batchId,
        cloudBatchId: batch.batchId,
        templateId: String(batch.templateId),
        orgId: batch.orgId,
        tokens: batch.tokens.map((t) => ({ authToken: t.deviceToken, qrToken: t.token })),
      });
      db.prepare('DELETE FROM settings WHERE key = ?').run(PENDING_PULL_KEY);
      return n;
    })();
  } catch (err) {
    // A batch that repeats a token (or batch id) this station already holds: the cloud broke its
    // uniqueness promise. Nothing was imported (one transaction); retrying gets the same batch.
    if (err instanceof Error && /UNIQUE constraint failed/.test(err.message)) {
      throw new StationError(
        {
          code: 'CLOUD_REJECTED',
          message: 'The cloud sent a token batch that repeats tokens this station already holds; nothing was imported — call a supervisor.',
          operatorFault: false,
          details: { reason: 'duplicate-token', batchId: batch.batchId },
        },
        { cause: err },
      );
    }
    throw err;
  }
  options.log?.(`pulled batch ${batch.batchId}: ${imported} tokens`);
  return imported;
}
