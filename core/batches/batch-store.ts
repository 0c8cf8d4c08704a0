import { createHash } from 'node:crypto';
import { stationError } from '../../common/errors.js';
import type { StationDatabase } from '../db/open-database.js';
import { TokenQueue } from '../queue/token-queue.js';
import { buildBatchZip, parseBatchZip, type BatchZipInput, type BuildBatchZipOptions, type ParseBatchZipOptions } from './batch-zip.js';

/**
 * Batches between the station database and the Blynk-shaped zip. The export is the one place
 * besides the queue's `reserve()` that reads AuthTokens out of the database: an export is, by
 * definition, the tokens, and the file it produces must be handled as a secret.
 */

export interface BatchForExport extends BatchZipInput {
  batchId: string;
}

/** Every token of the batch, in queue order, with its station state. NOT_FOUND for an unknown batch. */
export function readBatchForExport(db: StationDatabase, batchId: string, options: { authTokens?: boolean } = {}): BatchForExport {
  const batch = db.prepare('SELECT id, template_id AS templateId, org_id AS orgId FROM batches WHERE id = ?').get(batchId) as
    | { id: string; templateId: string; orgId: number }
    | undefined;
  if (!batch) {
    const known = (db.prepare('SELECT id FROM batches ORDER BY pulled_at, id LIMIT 10').all() as { id: string }[]).map((b) => b.id);
    throw stationError('NOT_FOUND', `There is no batch "${batchId}" in this station's queue${known.length ? ` (batches: ${known.join(', ')})` : ''}.`, true);
  }
  const queue = new TokenQueue(db);
  const tokens = (
    db.prepare('SELECT id, qr_token AS qrToken, state AS stationState FROM tokens WHERE batch_id = ? ORDER BY id').all(batchId) as {
      id: number;
      qrToken: string;
      stationState: string;
    }[]
  ).map((t) =>
    // Without AuthTokens nothing is unsealed at all.
    options.authTokens === false ? { qrToken: t.qrToken, stationState: t.stationState } : { authToken: queue.authTokenOf(t.id), qrToken: t.qrToken, stationState: t.stationState },
  );
  return { batchId: batch.id, templateId: batch.templateId, orgId: batch.orgId, tokens };
}

export async function exportBatchZip(db: StationDatabase, batchId: string, options: BuildBatchZipOptions = {}): Promise<{ zip: Buffer; tokens: number }> {
  const batch = readBatchForExport(db, batchId, options.authTokens === false ? { authTokens: false } : {});
  return { zip: await buildBatchZip(batch, options), tokens: batch.tokens.length };
}

export interface ImportBatchOptions extends ParseBatchZipOptions {
  /** Used when the CSV has no Organization ID; must agree with it when it has one. */
  orgId?: number;
  /** Used when the CSV has no Template ID; must agree with it when it has one. */
  templateId?: string;
  /** Where the file came from, for the batch record (a file name; never a token). */
  source?: string;
  now?: () => Date;
}

export interface ImportBatchResult {
  batchId: string;
  /** Tokens added to the queue; 0 when this exact batch was imported before. */
  imported: number;
  alreadyImported: boolean;
  orgId: number;
  templateId: string;
  ignoredColumns: string[];
}

/**
 * Imports an export zip as a token source, all or nothing. The batch id is derived from the QR
 * tokens it holds, so importing the same tokens again (even re-zipped) is a no-op, while a file
 * that shares only some tokens with the queue is refused, naming the row: a token is never in the
 * queue twice.
 */
export function importBatchZip(db: StationDatabase, zip: Buffer, options: ImportBatchOptions = {}): ImportBatchResult {
  const parsed = parseBatchZip(zip, options);
  const orgId = resolve('organisation id', 'Organization ID', '--org-id', parsed.orgId, options.orgId);
  const templateId = resolve('template id', 'Template ID', '--template-id', parsed.templateId, options.templateId);
  if (!Number.isSafeInteger(orgId) || orgId <= 0) throw stationError('INVALID_INPUT', 'The organisation id must be a positive whole number.', true);
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(templateId)) throw stationError('INVALID_INPUT', 'The template id may only hold letters, digits, - and _.', true);

  const digest = createHash('sha256');
  for (const qr of parsed.tokens.map((t) => t.qrToken).sort()) digest.update(`${qr}\n`);
  const batchId = `file-${digest.digest('hex').slice(0, 12)}`;
  const queue = new TokenQueue(db, options.now);

  return db.transaction((): ImportBatchResult => {
    const base = { batchId, orgId, templateId, ignoredColumns: parsed.ignoredColumns };
    if (db.prepare('SELECT 1 FROM batches WHERE id = ?').get(batchId)) return { ...base, imported: 0, alreadyImported: true };
    const clash = db.prepare('SELECT batch_id AS batchId FROM tokens WHERE qr_token = ?');
    parsed.tokens.forEach((t, i) => {
      const row = queue.holdsAuthToken(t.authToken) ?? (clash.get(t.qrToken) as { batchId: string } | undefined);
      if (row) {
        throw stationError('INVALID_INPUT', `Row ${i + 2} of the CSV holds a token that is already in this station's queue (batch ${row.batchId}); nothing was imported.`, true);
      }
    });
    const imported = queue.importBatch({
      batchId,
      cloudBatchId: options.source ? `file:${options.source.slice(0, 200)}` : batchId,
      templateId,
      orgId,
      tokens: parsed.tokens,
    });
    return { ...base, imported, alreadyImported: false };
  })();
}

function resolve<T extends string | number>(what: string, column: string, flag: string, fromFile: T | null, given: T | undefined): T {
  if (fromFile !== null && given !== undefined && String(fromFile) !== String(given)) {
    throw stationError('INVALID_INPUT', `The file's ${column} (${fromFile}) differs from the ${what} given (${given}); check you have the right file.`, true);
  }
  const value = fromFile ?? given;
  if (value === undefined) throw stationError('INVALID_INPUT', `The file has no ${column} column; give the ${what} with ${flag}.`, true);
  return value;
}
