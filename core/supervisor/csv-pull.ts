import type { CsvPullPreview, CsvRowProblem } from '../../common/api.js';
import { StationError, stationError } from '../../common/errors.js';
import { decodeCsvBytes, looksLikeFormula, parseCsv, type CsvLimits } from '../batches/csv.js';
import type { CsvBatchClient } from '../cloud/csv-batch-preview.js';

/**
 * A supervisor's "pull a batch from a CSV": one token per data row (serial numbers, MACs, names),
 * each row's values becoming that token's metadata. Checked twice before anything is pulled:
 *
 * 1. here, on the station, strictly and offline: the bytes (size, UTF-8, no binary), RFC 4180
 *    syntax (core/batches/csv.ts), the header (no blank or repeated names), the row count, and
 *    every cell (no spreadsheet formulas: `=`, `+`, `@`, TAB, CR, or `-` not starting a number);
 * 2. by the cloud, against the device template (`CsvBatchClient.previewCsvBatch`): the header
 *    names after the remap must equal the template's metadata fields, every value must fit.
 *
 * The pull itself sends the same text and remap to the cloud's generate endpoint, which checks
 * it once more and creates the batch all or nothing.
 */

/** A pull is one cloud batch: at most this many rows (the cloud's batch limit). */
export const CSV_PULL_ROWS_MAX = 1000;
/** Serial numbers / MACs / names: 1000 rows fit comfortably. Also bounds the station command. */
export const CSV_PULL_BYTES_MAX = 256 * 1024;
export const CSV_PULL_LIMITS: CsvLimits = { maxBytes: CSV_PULL_BYTES_MAX, maxRows: CSV_PULL_ROWS_MAX + 1, maxFieldChars: 1024 };
/** Data rows shown in the remap step. */
export const CSV_PREVIEW_ROWS = 5;
/** Row problems listed (the rest are counted). */
export const CSV_ROW_PROBLEMS_SHOWN_MAX = 100;
/** Characters of a cell shown in the preview. */
const PREVIEW_CELL_CHARS = 80;

/** A negative number is data, not a formula. */
const NEGATIVE_NUMBER = /^-\d+(\.\d+)?$/;

export interface LocalCsv {
  /** The decoded text, as the cloud will get it. */
  text: string;
  headers: string[];
  rows: string[][];
  rowErrors: CsvRowProblem[];
}

function bad(message: string): never {
  throw stationError('INVALID_INPUT', `${message} Nothing was pulled.`, true);
}

/**
 * The station's own check. A file that cannot be a token list at all throws INVALID_INPUT (one
 * sentence); problems of single rows are returned, numbered as a spreadsheet shows them (the
 * header is row 1).
 */
export function readPullCsv(bytes: Buffer, fileName: string): LocalCsv {
  const what = `The CSV file "${fileName.slice(0, 80)}"`;
  let records: string[][];
  let text: string;
  try {
    text = decodeCsvBytes(bytes, CSV_PULL_LIMITS, what);
    records = parseCsv(text, CSV_PULL_LIMITS, what);
  } catch (err) {
    return bad(err instanceof Error ? err.message : String(err));
  }
  if (records.length === 0) bad(`${what} is empty.`);
  const headers = records[0]!;
  headers.forEach((h, i) => {
    if (h.trim() === '') bad(`${what}: column ${i + 1} of the header row has no name.`);
    if (headers.indexOf(h) !== i) bad(`${what}: the header row names the column "${h.slice(0, 40)}" twice.`);
    if (looksLikeFormula(h)) bad(`${what}: the header "${h.slice(0, 40)}" is a spreadsheet formula.`);
  });
  const rows = records.slice(1);
  if (rows.length === 0) bad(`${what} has a header row but no data rows.`);
  const rowErrors: CsvRowProblem[] = [];
  rows.forEach((cells, index) => {
    const row = index + 2;
    if (cells.every((c) => c.trim() === '')) {
      rowErrors.push({ row, message: 'is empty (one token per row: remove the blank line)' });
      return;
    }
    cells.forEach((cell, column) => {
      if (looksLikeFormula(cell) && !NEGATIVE_NUMBER.test(cell)) {
        rowErrors.push({ row, column: headers[column]!, message: `starts with "${describeStart(cell)}": a spreadsheet formula, which the station does not accept` });
      }
    });
  });
  return { text, headers, rows, rowErrors };
}

function describeStart(cell: string): string {
  const c = cell[0]!;
  return c === '\t' ? 'TAB' : c === '\r' ? 'CR' : c;
}

export interface CsvPullCheck extends CsvPullPreview {
  text: string;
}

/**
 * The remap step: the station's check, then the cloud's against the template. When the cloud
 * cannot be reached the StationError says so (the file itself was fine).
 */
export async function checkPullCsv(
  client: CsvBatchClient,
  args: { fileName: string; bytes: Buffer; remap: Record<string, string | null>; templateId: number },
): Promise<CsvPullCheck> {
  const local = readPullCsv(args.bytes, args.fileName);
  const cloud = await client.previewCsvBatch({ templateId: args.templateId, csv: local.text, remap: args.remap }).catch((err: unknown) => {
    if (!(err instanceof StationError) || err.code !== 'CLOUD_UNREACHABLE') throw err;
    throw new StationError({
      code: 'CLOUD_UNREACHABLE',
      message: `The file itself reads fine (${local.rows.length} rows), but the cloud cannot be reached to match its columns to the template; try again when it is back. Nothing was pulled.`,
      operatorFault: true,
      ...(err.details ? { details: err.details } : {}),
    });
  });
  const problems = [
    ...(cloud.syntaxError ? [`The cloud cannot read the CSV (${cloud.syntaxError}).`] : []),
    ...(cloud.missing.length ? [`No column fills the template field${cloud.missing.length > 1 ? 's' : ''} ${cloud.missing.map((n) => `"${n}"`).join(', ')}.`] : []),
    ...(cloud.unexpected.length
      ? [`The column${cloud.unexpected.length > 1 ? 's' : ''} ${cloud.unexpected.map((n) => `"${n.slice(0, 40)}"`).join(', ')} match no template field: map or ignore them.`]
      : []),
    ...cloud.remapErrors.map((e) => `${e.charAt(0).toUpperCase()}${e.slice(1)}.`),
  ];
  // The cloud counts data rows from 1; the station numbers rows as a spreadsheet does.
  const cloudRows = cloud.rowErrors.map((e) => ({ row: e.row + 1, ...(e.column !== undefined ? { column: e.column } : {}), message: e.message }));
  const all = [...local.rowErrors, ...cloudRows].sort((a, b) => a.row - b.row);
  // The cloud lists at most 100 row problems; a full list may hide more.
  if (cloud.rowErrors.length >= CSV_ROW_PROBLEMS_SHOWN_MAX) problems.push('There are more row problems than listed; fix these and check again.');
  const rowErrorCount = all.length;
  return {
    fileName: args.fileName,
    text: local.text,
    headers: local.headers,
    fields: cloud.fields,
    mapping: Object.fromEntries(local.headers.map((h) => [h, cloud.mapping[h] ?? null])),
    rowCount: local.rows.length,
    sample: local.rows.slice(0, CSV_PREVIEW_ROWS).map((cells) => cells.map((c) => c.slice(0, PREVIEW_CELL_CHARS))),
    problems,
    rowErrors: all.slice(0, CSV_ROW_PROBLEMS_SHOWN_MAX),
    rowErrorCount,
    acceptable: cloud.acceptable && local.rowErrors.length === 0 && problems.length === 0,
  };
}
