import { z } from 'zod';
import { stationError, type StationErrorData } from '../../common/errors.js';

/**
 * Where label documents go: an OS printer (CUPS `lp`), a folder of PDFs, later Electron's print.
 * A printer never throws for a printing problem: it answers with a `PrintResult`, so the caller can
 * show the operator what to do and keep the document for a retry (see `SpooledPrinter`).
 */

export type PrintDocument =
  /** A label sheet or roll from `renderLabelSheetPdf`. */
  | { kind: 'pdf'; data: Buffer }
  /** Labels from `renderLabelZpl`, sent to the printer as they are (CUPS `-o raw`). */
  | { kind: 'zpl'; data: Buffer | string };

export interface PrintJob {
  document: PrintDocument;
  copies: number;
  /** Shown in the OS print queue, e.g. the sheet id. Never a token. */
  title: string;
}

/**
 * Why a job did not print, as a closed set the UI can act on:
 * - `no-printer`: the named printer does not exist (or none is configured);
 * - `printer-stopped`: it exists but is disabled or not accepting jobs;
 * - `tool-missing`: `lp`/`lpstat` are not installed;
 * - `spooler-unavailable`: the CUPS scheduler does not answer;
 * - `rejected`: the tool ran and refused the job for another reason;
 * - `timeout`: the tool did not finish in time;
 * - `write-failed`: the document could not be written (folder printer, spool);
 * - `invalid-job`: the job itself is malformed (a bug upstream).
 */
export const PRINT_FAILURE_REASONS = [
  'no-printer',
  'printer-stopped',
  'tool-missing',
  'spooler-unavailable',
  'rejected',
  'timeout',
  'write-failed',
  'invalid-job',
] as const;
export type PrintFailureReason = (typeof PRINT_FAILURE_REASONS)[number];

export type PrintResult =
  | {
      ok: true;
      printer: string;
      /** The spooler's job id (`Zebra-42`) or the file written; null when the printer gives none. */
      jobId: string | null;
    }
  | {
      ok: false;
      printer: string;
      reason: PrintFailureReason;
      error: StationErrorData;
      /** Where the unprinted document is kept for a retry (set by `SpooledPrinter`). */
      keptPath: string | null;
    };

export interface Printer {
  /** Shown to the operator: the CUPS destination or the folder. */
  readonly name: string;
  print(job: PrintJob): Promise<PrintResult>;
}

/** More copies than this in one job is a typo (a sheet of 24 labels × 1000). */
export const MAX_COPIES = 100;
const MAX_TITLE_CHARS = 100;

const printJobSchema = z.strictObject({
  document: z.union([
    z.strictObject({ kind: z.literal('pdf'), data: z.instanceof(Buffer) }),
    z.strictObject({ kind: z.literal('zpl'), data: z.union([z.instanceof(Buffer), z.string()]) }),
  ]),
  copies: z.number().int().min(1).max(MAX_COPIES),
  title: z.string().min(1).max(MAX_TITLE_CHARS).regex(/^[\x20-\x7e]+$/, 'printable ASCII only'),
});

export function documentBytes(document: PrintDocument): Buffer {
  return typeof document.data === 'string' ? Buffer.from(document.data, 'utf8') : document.data;
}

/** The message a failed result carries: one sentence for the operator, never raw tool output. */
export function printFailure(printer: string, reason: PrintFailureReason, message: string, toolMessage?: string): PrintResult {
  const details: Record<string, string> = { reason, printer };
  if (toolMessage) details.toolMessage = toolMessage.slice(0, 200);
  const operatorFault = reason !== 'invalid-job' && reason !== 'rejected';
  return { ok: false, printer, reason, error: stationError('LABEL_FAILED', message, operatorFault, details).toJSON(), keptPath: null };
}

/**
 * Checks a job before any printer sees it: copies 1..MAX_COPIES, a short printable title, and a
 * document that is what it says (a PDF starts with `%PDF-`, ZPL with `^XA`). Null when it is fine.
 */
export function checkPrintJob(printer: string, job: PrintJob): PrintResult | null {
  const parsed = printJobSchema.safeParse(job);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return printFailure(printer, 'invalid-job', `The print job is invalid (${issue?.path.join('.') ?? '?'}: ${issue?.message ?? '?'}); the station logged it.`);
  }
  const bytes = documentBytes(job.document);
  const head = bytes.subarray(0, 16).toString('latin1').trimStart();
  if (job.document.kind === 'pdf' && !head.startsWith('%PDF-')) {
    return printFailure(printer, 'invalid-job', 'The document to print is not a PDF; the station logged it.');
  }
  if (job.document.kind === 'zpl' && !head.startsWith('^XA')) {
    return printFailure(printer, 'invalid-job', 'The document to print is not ZPL; the station logged it.');
  }
  return null;
}
