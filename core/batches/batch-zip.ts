import QRCode from 'qrcode';
import { stationError } from '../../common/errors.js';
import { QR_ERROR_CORRECTION } from '../labels/label-sheet-pdf.js';
import { decodeCsvBytes, parseCsv, unescapeCell, writeCsv, type CsvLimits, DEFAULT_CSV_LIMITS } from './csv.js';
import { DEFAULT_ZIP_LIMITS, describeEntryName, readZip, writeZip, type ZipLimits } from './zip.js';

/**
 * A batch of static tokens in the shape Blynk's console exports them: one zip holding a CSV of the
 * tokens and a folder of QR code PNGs, each PNG named after the AuthToken (device token) it belongs
 * to, its QR encoding `{qrToken}+{orgId}` (the payload the Blynk apps accept).
 *
 * The columns are those of our cloud service's console export (`cloud/export/export-zip.ts`):
 * `AuthToken, QR Token, QR Payload, Template ID, Organization ID, Status, Created At`, then one
 * column per template metadata field; the station's export has `Station State` instead of `Status`
 * and `Created At`. The importer requires `AuthToken` and `QR Token`, checks the other known
 * columns when present, and ignores the rest (metadata fields), listing them in the result.
 *
 * AuthTokens are secrets: no message here ever contains one (rows are named by number; PNG names
 * are shortened by `describeEntryName`).
 */

export const CSV_FILE_NAME = 'static-tokens.csv';
export const QR_FOLDER = 'qr';
/** What the station writes. */
export const CSV_COLUMNS = ['AuthToken', 'QR Token', 'QR Payload', 'Template ID', 'Organization ID', 'Station State'] as const;
/** What the importer understands; any other column is ignored (template metadata fields). */
const KNOWN_COLUMNS: readonly string[] = [...CSV_COLUMNS, 'Status', 'Created At'];
const REQUIRED_COLUMNS = ['AuthToken', 'QR Token'] as const;

/** AuthToken: 32 characters of the static-token alphabet. */
export const AUTH_TOKEN_PATTERN = /^[-_A-Za-z0-9]{32}$/;
/** QR token as the platform issues it: `sqr_` + 32 characters. */
export const QR_TOKEN_PATTERN = /^sqr_[-_A-Za-z0-9]{32}$/;
const ORG_ID_PATTERN = /^[1-9][0-9]{0,18}$/;
const TEMPLATE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** PNG signature: every PNG starts with these 8 bytes. */
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Module size and quiet zone of the exported QR PNGs (px); 8 px modules print sharply at 300 dpi. */
const PNG_SCALE = 8;
const PNG_MARGIN_MODULES = 4;
/** PNG encoding is CPU-bound; this many at a time keeps a 10,000-token export responsive. */
const PNG_CONCURRENCY = 8;

export interface BatchToken {
  /** Secret. */
  authToken: string;
  qrToken: string;
  /** The station's state for the token, when exporting from a station. */
  stationState?: string;
}

/** A token as exported: without its AuthToken in a supervisor's download (`authTokens: false`). */
export type ExportToken = Omit<BatchToken, 'authToken'> & { authToken?: string };

export interface BatchZipInput {
  orgId: number;
  templateId: string;
  tokens: readonly ExportToken[];
}

export function qrPayloadFor(qrToken: string, orgId: number | string): string {
  return `${qrToken}+${orgId}`;
}

export interface BuildBatchZipOptions {
  modified?: Date;
  /**
   * false: the label set a supervisor downloads from the screen. The same shape without the
   * secret: no AuthToken column, and each PNG named after its QR token instead of its AuthToken.
   * Such a zip cannot be imported as a token source (the importer needs the AuthTokens), so it
   * cannot put a token into a second queue. Default true (the CLI's `flashline batch export`).
   */
  authTokens?: boolean;
}

/** Builds the export zip: the CSV (deflated) and one PNG per token (stored: PNG is compressed already). */
export async function buildBatchZip(batch: BatchZipInput, options: BuildBatchZipOptions = {}): Promise<Buffer> {
  const secret = options.authTokens !== false;
  const authOf = (t: ExportToken, i: number): string => {
    if (t.authToken === undefined) throw stationError('INVALID_INPUT', `Token ${i + 1} of the batch has no AuthToken to export.`);
    return t.authToken;
  };
  const rows: string[][] = [secret ? [...CSV_COLUMNS] : CSV_COLUMNS.filter((c) => c !== 'AuthToken')];
  batch.tokens.forEach((t, i) => {
    const cells = [t.qrToken, qrPayloadFor(t.qrToken, batch.orgId), batch.templateId, String(batch.orgId), t.stationState ?? ''];
    rows.push(secret ? [authOf(t, i), ...cells] : cells);
  });
  const pngs = new Array<Buffer>(batch.tokens.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(PNG_CONCURRENCY, batch.tokens.length) }, async () => {
      while (next < batch.tokens.length) {
        const i = next++;
        const t = batch.tokens[i]!;
        pngs[i] = await QRCode.toBuffer(qrPayloadFor(t.qrToken, batch.orgId), {
          type: 'png',
          errorCorrectionLevel: QR_ERROR_CORRECTION,
          margin: PNG_MARGIN_MODULES,
          scale: PNG_SCALE,
        });
      }
    }),
  );
  return writeZip(
    [
      { name: CSV_FILE_NAME, data: Buffer.from(writeCsv(rows), 'utf8'), method: 'deflate' },
      { name: `${QR_FOLDER}/`, data: Buffer.alloc(0), method: 'store' },
      ...batch.tokens.map((t, i) => ({ name: `${QR_FOLDER}/${secret ? authOf(t, i) : t.qrToken}.png`, data: pngs[i]!, method: 'store' as const })),
    ],
    options.modified ? { modified: options.modified } : {},
  );
}

export interface ParsedBatchZip {
  tokens: { authToken: string; qrToken: string }[];
  /** From the Organization ID column (or the QR payloads), or null when the file has neither. */
  orgId: number | null;
  templateId: string | null;
  ignoredColumns: string[];
  /** Number of QR PNGs checked against the rows. */
  pngCount: number;
}

export interface ParseBatchZipOptions {
  zipLimits?: ZipLimits;
  csvLimits?: CsvLimits;
  /** At most this many tokens in one file. */
  maxTokens?: number;
}

export const MAX_TOKENS_PER_IMPORT = 100_000;

function bad(message: string): never {
  throw stationError('INVALID_INPUT', message, true);
}

/**
 * Reads an export zip back as a token source, checking everything: the zip itself (see
 * `readZip`), exactly one CSV at the top level, its encoding, the header (required columns, no
 * duplicates or blanks), every row (token shapes, one organisation and one template for the whole file,
 * the QR Payload carrying the token, only UNCLAIMED and unused tokens, no token twice), and the PNG folder (one PNG per row, named after
 * the row's AuthToken, each a PNG). Throws INVALID_INPUT naming the first problem by row number.
 */
export function parseBatchZip(zip: Buffer, options: ParseBatchZipOptions = {}): ParsedBatchZip {
  const entries = readZip(zip, options.zipLimits ?? DEFAULT_ZIP_LIMITS);
  const csvs = entries.filter((e) => !e.name.includes('/') && e.name.toLowerCase().endsWith('.csv'));
  if (csvs.length !== 1) bad(`The zip must hold exactly one CSV file at its top level; it holds ${csvs.length}.`);
  const csvEntry = csvs[0]!;
  const what = `The CSV file ${describeEntryName(csvEntry.name)}`;
  const records = parseCsv(decodeCsvBytes(csvEntry.data, options.csvLimits ?? DEFAULT_CSV_LIMITS, what), options.csvLimits ?? DEFAULT_CSV_LIMITS, what);
  if (records.length === 0) bad(`${what} is empty.`);
  const header = records[0]!.map((h) => h.trim());
  header.forEach((h, i) => {
    if (h === '') bad(`${what}: column ${i + 1} of the header has no name.`);
    if (header.indexOf(h) !== i) bad(`${what}: the header names column "${h}" twice.`);
  });
  for (const required of REQUIRED_COLUMNS) {
    if (!header.includes(required)) {
      bad(`${what}: the header has no "${required}" column (found: ${header.map((h) => `"${h.slice(0, 40)}"`).join(', ')}); the columns are case-sensitive.`);
    }
  }
  const col = (name: string) => header.indexOf(name);
  const ignoredColumns = header.filter((h) => !KNOWN_COLUMNS.includes(h));
  const maxTokens = options.maxTokens ?? MAX_TOKENS_PER_IMPORT;
  if (records.length - 1 > maxTokens) bad(`${what} has ${records.length - 1} tokens; at most ${maxTokens} are imported at once.`);
  if (records.length === 1) bad(`${what} has a header but no tokens.`);

  const byAuth = new Map<string, number>();
  const byQr = new Map<string, number>();
  let orgId: string | null = null;
  let templateId: string | null = null;
  const tokens: { authToken: string; qrToken: string }[] = [];
  records.slice(1).forEach((record, index) => {
    const rowNo = index + 2; // the header is row 1, as a spreadsheet numbers them
    const cell = (name: string) => {
      const i = col(name);
      return i < 0 ? null : unescapeCell(record[i]!.trim());
    };
    const authToken = cell('AuthToken')!;
    const qrToken = cell('QR Token')!;
    if (!AUTH_TOKEN_PATTERN.test(authToken)) bad(`${what}, row ${rowNo}: the AuthToken is not 32 characters of A-Z, a-z, 0-9, - and _.`);
    if (!QR_TOKEN_PATTERN.test(qrToken)) bad(`${what}, row ${rowNo}: the QR Token is not sqr_ followed by 32 characters.`);
    const seenAuth = byAuth.get(authToken);
    if (seenAuth !== undefined) bad(`${what}, row ${rowNo}: the same AuthToken as row ${seenAuth}.`);
    const seenQr = byQr.get(qrToken);
    if (seenQr !== undefined) bad(`${what}, row ${rowNo}: the same QR Token as row ${seenQr}.`);
    byAuth.set(authToken, rowNo);
    byQr.set(qrToken, rowNo);

    // The organisation comes from its column, or failing that from a `{qrToken}+{orgId}` payload.
    // Templates may use other payload formats; any payload must at least carry the QR token.
    const payload = cell('QR Payload');
    let org = cell('Organization ID');
    if (payload !== null && payload !== '') {
      if (!payload.includes(qrToken)) bad(`${what}, row ${rowNo}: the QR Payload does not contain the row's QR Token.`);
      const m = /^(.+)\+([1-9][0-9]{0,18})$/.exec(payload);
      const fromPayload = m && m[1] === qrToken ? m[2]! : null;
      if (fromPayload !== null && org !== null && org !== fromPayload) bad(`${what}, row ${rowNo}: the QR Payload's organisation differs from Organization ID.`);
      org ??= fromPayload;
    }
    if (org !== null) {
      if (!ORG_ID_PATTERN.test(org)) bad(`${what}, row ${rowNo}: the Organization ID "${org.slice(0, 20)}" is not a positive whole number.`);
      if (orgId !== null && org !== orgId) bad(`${what}, row ${rowNo}: Organization ID ${org} differs from ${orgId} above; one file is one organisation's batch.`);
      orgId = org;
    }
    const template = cell('Template ID');
    if (template !== null) {
      if (!TEMPLATE_ID_PATTERN.test(template)) bad(`${what}, row ${rowNo}: the Template ID is not a template id.`);
      if (templateId !== null && template !== templateId) bad(`${what}, row ${rowNo}: the Template ID differs from the rows above; one file is one template's batch.`);
      templateId = template;
    }
    const status = cell('Status');
    if (status !== null && status !== '' && status !== 'UNCLAIMED') {
      // A claimed token belongs to a device a customer already owns.
      bad(`${what}, row ${rowNo}: the token's Status is ${status.slice(0, 20)}; only UNCLAIMED tokens can go into new boards.`);
    }
    const state = cell('Station State');
    if (state !== null && state !== '' && state !== 'available') {
      // A token that may have touched a board is never handed out again, at this station or another.
      bad(`${what}, row ${rowNo}: this token was already used at a station (state ${state.slice(0, 20)}); only unused tokens can be imported.`);
    }
    tokens.push({ authToken, qrToken });
  });

  // The QR folder: every PNG belongs to a row, every row has its PNG.
  const pngs = entries.filter((e) => e !== csvEntry);
  const withPng = new Set<string>();
  for (const entry of pngs) {
    const m = /^([^/]+)\/([^/]+)\.png$/i.exec(entry.name);
    if (!m) bad(`The zip holds ${describeEntryName(entry.name)}, which is neither the CSV nor a QR PNG in one folder.`);
    const owner = m[2]!;
    if (!byAuth.has(owner)) bad(`The QR image ${describeEntryName(entry.name)} is named after no AuthToken in the CSV.`);
    if (!entry.data.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE)) bad(`The QR image ${describeEntryName(entry.name)} is not a PNG.`);
    withPng.add(owner);
  }
  if (pngs.length === 0) bad('The zip has no folder of QR images; it is not a token export.');
  const folders = new Set(pngs.map((e) => e.name.split('/')[0]));
  if (folders.size > 1) bad('The QR images are spread over several folders; an export has one.');
  for (const [auth, rowNo] of byAuth) if (!withPng.has(auth)) bad(`${what}, row ${rowNo}: there is no QR image for this row's AuthToken.`);
  return { tokens, orgId: orgId === null ? null : Number(orgId), templateId, ignoredColumns, pngCount: pngs.length };
}
