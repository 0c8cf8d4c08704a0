import type { z } from 'zod';
import type { AuthorizedRequester } from './authorized-requester.js';
import { csvPreviewReply } from './cloud-replies.js';

/**
 * The cloud's remap step for a CSV batch (`POST …/static-tokens/import/preview`): how the CSV's
 * headers line up with the template's metadata fields after the remap, and every row problem.
 * Creates nothing. Row numbers count data rows from 1 (the header is not counted).
 */
export type CsvBatchPreview = z.infer<typeof csvPreviewReply>;

export interface CsvBatchPreviewArgs {
  templateId: number;
  /** The CSV text (UTF-8, as the station decoded and checked it). */
  csv: string;
  /** CSV header -> template field, or null to ignore the column. */
  remap: Record<string, string | null>;
}

/** The cloud side of a supervisor's CSV pull (the pull itself is `CloudClient.pullBatch` with `csv`). */
export interface CsvBatchClient {
  previewCsvBatch(args: CsvBatchPreviewArgs): Promise<CsvBatchPreview>;
}

export const CSV_PREVIEW_PATH = '/api/v1/organization/static-tokens/import/preview';

export async function previewCsvBatch(http: AuthorizedRequester, args: CsvBatchPreviewArgs): Promise<CsvBatchPreview> {
  const operation = 'checking a CSV against the device template';
  return http.parsed(operation, await http.request(operation, 'POST', CSV_PREVIEW_PATH, args), csvPreviewReply);
}
