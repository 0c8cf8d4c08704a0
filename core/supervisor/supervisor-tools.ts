import type { CommandArgs, CommandResult, CsvPullPreview, HeldRecordView } from '../../common/api.js';
import { stationError } from '../../common/errors.js';
import { exportBatchZip } from '../batches/batch-store.js';
import type { StaticTokenLifecycleClient } from '../cloud/cloud-client.js';
import type { CsvBatchClient } from '../cloud/csv-batch-preview.js';
import type { StationDatabase } from '../db/open-database.js';
import type { TokenQueue } from '../queue/token-queue.js';
import type { TokenPuller } from '../sync/token-puller.js';
import { CloudTokenActions } from './cloud-token-actions.js';
import { checkPullCsv } from './csv-pull.js';

/**
 * The supervisor's batch and cloud tools behind the station commands: CSV pull (remap step, then
 * confirm), batch zip download, disclaim / delete in the cloud, held outbox records. The session
 * check happens in StationService before any of these runs.
 */

/** A download travels inside one reply (base64): batches larger than this go through the CLI. */
export const EXPORT_TOKENS_MAX = 2000;
export const EXPORT_ZIP_BYTES_MAX = 8 * 1024 * 1024;

export interface SupervisorToolsDeps {
  db: StationDatabase;
  queue: TokenQueue;
  puller: TokenPuller;
  csvClient: CsvBatchClient;
  lifecycle: StaticTokenLifecycleClient;
  /** The device template batches are pulled for (Blynk's numeric id). */
  templateId: () => number;
  /** True while a slot is provisioning the board that holds this token. */
  inUse: (tokenId: number) => boolean;
  log?: (line: string) => void;
}

type Args<N extends keyof SupervisorCommandResults> = Omit<CommandArgs<N>, 'session'>;
interface SupervisorCommandResults {
  previewCsvPull: CommandResult<'previewCsvPull'>;
  pullBatchCsv: CommandResult<'pullBatchCsv'>;
  exportBatchZip: CommandResult<'exportBatchZip'>;
  disclaimToken: CommandResult<'disclaimToken'>;
  deleteCloudToken: CommandResult<'deleteCloudToken'>;
  listHeldRecords: CommandResult<'listHeldRecords'>;
}

export class SupervisorTools {
  private readonly tokens: CloudTokenActions;

  constructor(private readonly deps: SupervisorToolsDeps) {
    this.tokens = new CloudTokenActions({ lifecycle: deps.lifecycle, queue: deps.queue, inUse: deps.inUse, ...(deps.log ? { log: deps.log } : {}) });
  }

  async previewCsvPull(args: Args<'previewCsvPull'>): Promise<CsvPullPreview> {
    const { text: _text, ...preview } = await this.check(args);
    return preview;
  }

  /** Checks the file again (it may have changed since the preview) and pulls only when it is acceptable. */
  async pullBatchCsv(args: Args<'pullBatchCsv'>): Promise<{ batchId: string; imported: number }> {
    const check = await this.check(args);
    if (!check.acceptable) {
      const first = check.problems[0] ?? (check.rowErrors[0] ? `row ${check.rowErrors[0].row}${check.rowErrors[0].column ? `, column "${check.rowErrors[0].column}"` : ''}: ${check.rowErrors[0].message}` : '');
      throw stationError(
        'INVALID_INPUT',
        `The CSV has ${check.problems.length + check.rowErrorCount} problem${check.problems.length + check.rowErrorCount === 1 ? '' : 's'} (first: ${first}). Nothing was pulled.`,
        true,
      );
    }
    const result = await this.deps.puller.pullCsv({ text: check.text, remap: args.remap, rows: check.rowCount });
    this.deps.queue.recordEvent(null, 'csv-batch-pulled', `batch ${result.batchId}: ${result.imported} tokens from "${args.fileName.slice(0, 80)}"`);
    return result;
  }

  async exportBatchZip(args: Args<'exportBatchZip'>): Promise<CommandResult<'exportBatchZip'>> {
    const count = (this.deps.db.prepare('SELECT COUNT(*) AS n FROM tokens WHERE batch_id = ?').get(args.batchId) as { n: number }).n;
    if (count > EXPORT_TOKENS_MAX) {
      throw stationError('INVALID_INPUT', `Batch ${args.batchId} has ${count} tokens; downloads hold at most ${EXPORT_TOKENS_MAX}. Use "flashline batch export" at the station.`, true);
    }
    // Never the AuthTokens: see CommandMap.exportBatchZip and docs/supervisor.md.
    const { zip, tokens } = await exportBatchZip(this.deps.db, args.batchId, { authTokens: false });
    if (zip.length > EXPORT_ZIP_BYTES_MAX) throw stationError('INVALID_INPUT', `The zip of batch ${args.batchId} is larger than ${EXPORT_ZIP_BYTES_MAX} bytes; use "flashline batch export".`, true);
    this.deps.queue.recordEvent(null, 'batch-exported', `batch ${args.batchId}: ${tokens} QR codes downloaded by a supervisor (no AuthTokens)`);
    const safeName = args.batchId.replace(/[^A-Za-z0-9_-]/g, '_');
    return { fileName: `labels-${safeName}.zip`, zipBase64: zip.toString('base64'), tokens, bytes: zip.length };
  }

  disclaimToken(args: Args<'disclaimToken'>): Promise<CommandResult<'disclaimToken'>> {
    return this.tokens.disclaim(args.qrToken, args.confirm);
  }

  deleteCloudToken(args: Args<'deleteCloudToken'>): Promise<CommandResult<'deleteCloudToken'>> {
    return this.tokens.delete(args.qrToken, args.confirm);
  }

  listHeldRecords(): { records: HeldRecordView[] } {
    return { records: this.deps.queue.heldOutbox() };
  }

  /** Releases a held record; the caller asks the sync engine to send it. */
  releaseHeldRecord(id: number): number {
    this.deps.queue.releaseHeld(id, 'released by a supervisor for another try');
    this.deps.log?.(`held outbox record #${id} released by a supervisor`);
    return id;
  }

  private check(args: Args<'previewCsvPull'>) {
    return checkPullCsv(this.deps.csvClient, { fileName: args.fileName, bytes: Buffer.from(args.csvBase64, 'base64'), remap: args.remap, templateId: this.deps.templateId() });
  }
}
