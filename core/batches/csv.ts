import { stationError } from '../../common/errors.js';

/**
 * CSV as RFC 4180 defines it: records end with CRLF (LF alone is accepted on input), fields are
 * separated by commas, a field holding a comma, a double quote, CR or LF is enclosed in double
 * quotes, and a double quote inside one is written twice.
 *
 * Output is also safe to open in a spreadsheet: a cell starting with `=`, `+`, `-`, `@`, TAB or CR
 * would be run as a formula by Excel, LibreOffice and Google Sheets (CSV/formula injection, OWASP),
 * so such a cell gets a leading single quote, which spreadsheets show as text. `unescapeCell`
 * takes that quote off again when reading our own files back.
 */

const FORMULA_START = /^[=+\-@\t\r]/;

/** True when a spreadsheet would run this cell as a formula (see above). */
export function looksLikeFormula(cell: string): boolean {
  return FORMULA_START.test(cell);
}

export function escapeFormula(cell: string): string {
  return FORMULA_START.test(cell) ? `'${cell}` : cell;
}

/** Undoes `escapeFormula`: `'=x` → `=x`; a quote before anything else is data and stays. */
export function unescapeCell(cell: string): string {
  return cell.startsWith("'") && FORMULA_START.test(cell.slice(1)) ? cell.slice(1) : cell;
}

function quoteField(cell: string): string {
  const safe = escapeFormula(cell);
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** Rows to CSV text: CRLF after every record, including the last. */
export function writeCsv(rows: readonly (readonly string[])[]): string {
  return rows.map((row) => `${row.map(quoteField).join(',')}\r\n`).join('');
}

export interface CsvLimits {
  /** Bytes of the whole file. */
  maxBytes: number;
  /** Records, header included. */
  maxRows: number;
  maxFieldChars: number;
}

export const DEFAULT_CSV_LIMITS: CsvLimits = {
  maxBytes: 16 * 1024 * 1024,
  maxRows: 100_001,
  maxFieldChars: 4096,
};

function bad(message: string): never {
  throw stationError('INVALID_INPUT', message, true);
}

/**
 * Bytes to text, refusing what a CSV of tokens cannot be: UTF-16/UTF-32 (by byte-order mark, or by
 * the NUL bytes every ASCII character carries in them), binary data (NUL or other control bytes),
 * and bytes that are not valid UTF-8. A UTF-8 byte-order mark (what Excel writes) is dropped.
 */
export function decodeCsvBytes(bytes: Buffer, limits: CsvLimits = DEFAULT_CSV_LIMITS, what = 'The CSV file'): string {
  if (bytes.length > limits.maxBytes) bad(`${what} is ${bytes.length} bytes; at most ${limits.maxBytes} are accepted.`);
  const startsWith = (...b: number[]) => b.every((v, i) => bytes[i] === v);
  if (startsWith(0xff, 0xfe) || startsWith(0xfe, 0xff) || startsWith(0x00, 0x00, 0xfe, 0xff)) {
    bad(`${what} is UTF-16 or UTF-32 text; save it as "CSV UTF-8" and try again.`);
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    const utf16ish = bytes.length >= 2 && (bytes[1] === 0 || bytes[0] === 0);
    bad(utf16ish ? `${what} looks like UTF-16 text without a byte-order mark; save it as "CSV UTF-8" and try again.` : `${what} contains binary data (a NUL byte at offset ${nul}); it is not a CSV file.`);
  }
  const control = bytes.findIndex((b) => (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) || b === 0x7f);
  if (control >= 0) bad(`${what} contains binary data (control byte 0x${bytes[control]!.toString(16).padStart(2, '0')} at offset ${control}); it is not a CSV file.`);
  const body = startsWith(0xef, 0xbb, 0xbf) ? bytes.subarray(3) : bytes;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    return bad(`${what} is not valid UTF-8 (perhaps Latin-1 or Windows-1252); save it as "CSV UTF-8" and try again.`);
  }
}

/**
 * Strict RFC 4180 parsing. Every record must have as many fields as the first; a bare quote inside
 * an unquoted field, text after a closing quote, or a quote left open are errors naming the line
 * (1-based, counting physical lines, as an editor shows them) and the field. A final line break is
 * optional; an empty line elsewhere is an error (a record of one empty field).
 */
export function parseCsv(text: string, limits: CsvLimits = DEFAULT_CSV_LIMITS, what = 'The CSV file'): string[][] {
  const rows: string[][] = [];
  const n = text.length;
  if (n === 0) return rows;
  let row: string[] = [];
  let line = 1;
  let recordLine = 1;
  let i = 0;
  const tooLong = (fieldLine: number) => bad(`${what}, line ${fieldLine}, field ${row.length + 1}: longer than ${limits.maxFieldChars} characters.`);
  for (;;) {
    let field: string;
    const fieldLine = line;
    if (text[i] === '"') {
      // Quoted: runs to the next quote that is not doubled; may hold commas and line breaks.
      field = '';
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) bad(`${what}, line ${fieldLine}, field ${row.length + 1}: a quoted field is never closed.`);
        const chunk = text.slice(i, q);
        for (const ch of chunk) if (ch === '\n') line++;
        field += chunk;
        if (field.length > limits.maxFieldChars) tooLong(fieldLine);
        if (text[q + 1] === '"') {
          field += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      const next = text[i];
      if (next !== undefined && next !== ',' && next !== '\r' && next !== '\n') {
        bad(`${what}, line ${line}, field ${row.length + 1}: text after the closing quote.`);
      }
    } else {
      let j = i;
      while (j < n && text[j] !== ',' && text[j] !== '\r' && text[j] !== '\n') j++;
      field = text.slice(i, j);
      if (field.includes('"')) bad(`${what}, line ${line}, field ${row.length + 1}: a double quote inside an unquoted field.`);
      if (field.length > limits.maxFieldChars) tooLong(fieldLine);
      i = j;
    }
    row.push(field);
    if (i >= n) break;
    if (text[i] === ',') {
      i++;
      continue;
    }
    if (text[i] === '\r') {
      if (text[i + 1] !== '\n') bad(`${what}, line ${line}: a carriage return without a line feed.`);
      i++;
    }
    i++;
    line++;
    endRecord();
    recordLine = line;
    // A line break at the very end closes the last record; nothing follows.
    if (i >= n) return rows;
  }
  endRecord();
  return rows;

  function endRecord(): void {
    if (rows.length > 0 && row.length !== rows[0]!.length) {
      bad(`${what}, line ${recordLine}: ${row.length} field${row.length === 1 ? '' : 's'} where the header has ${rows[0]!.length}.`);
    }
    rows.push(row);
    if (rows.length > limits.maxRows) bad(`${what} has more than ${limits.maxRows - 1} rows; split it into smaller files.`);
    row = [];
  }
}
