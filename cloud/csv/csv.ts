/**
 * RFC 4180 CSV: fields separated by commas, records by CRLF or LF, fields with commas, quotes or
 * line breaks quoted with `"` and inner quotes doubled. A UTF-8 byte-order mark is dropped.
 */
export type CsvParse = { ok: true; rows: string[][] } | { ok: false; line: number; message: string };

export function parseCsv(text: string, maxRows: number): CsvParse {
  const input = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let atFieldStart = true;
  let line = 1;
  const endRow = () => {
    row.push(field);
    // A blank line (one empty field) is not a record.
    if (!(row.length === 1 && row[0] === '')) rows.push(row);
    row = [];
    field = '';
    atFieldStart = true;
  };
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (quoted) {
      if (c === '"') {
        if (input[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
          const next = input[i + 1];
          if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
            return { ok: false, line, message: 'a closing quote must end its field' };
          }
        }
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && atFieldStart) {
      quoted = true;
      atFieldStart = false;
    } else if (c === ',') {
      row.push(field);
      field = '';
      atFieldStart = true;
    } else if (c === '\r' || c === '\n') {
      if (c === '\r' && input[i + 1] === '\n') i++;
      endRow();
      line++;
      if (rows.length > maxRows) return { ok: false, line, message: `more than ${maxRows} records (header included)` };
    } else if (c === '"') {
      return { ok: false, line, message: 'a quote inside an unquoted field' };
    } else {
      field += c;
      atFieldStart = false;
    }
  }
  if (quoted) return { ok: false, line, message: 'a quoted field is not closed' };
  if (field !== '' || row.length > 0) endRow();
  if (rows.length > maxRows) return { ok: false, line, message: `more than ${maxRows} records (header included)` };
  return { ok: true, rows };
}

// A spreadsheet treats a cell that starts with one of these as a formula (CSV injection).
const FORMULA_START = /^[=+\-@\t\r]/;
// Cells made only of token characters cannot hold a formula beyond a harmless #NAME? error, so
// AuthTokens and QR tokens are written exactly as they are.
const TOKEN_ALPHABET_ONLY = /^[-_a-zA-Z0-9]+$/;

/**
 * One CSV cell, safe to open in a spreadsheet: a value that could start a formula is prefixed
 * with an apostrophe (OWASP's advice), and any value with a comma, quote or line break is quoted.
 */
export function csvCell(value: string): string {
  const safe = FORMULA_START.test(value) && !TOKEN_ALPHABET_ONLY.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) || safe !== safe.trim() ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function csvLine(values: readonly string[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}
