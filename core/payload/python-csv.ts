/**
 * Python's `csv` module (excel dialect) as ESP-IDF's `mfg_gen.py` uses it, so that its CSV files
 * read, and the per-device CSVs it writes come out, exactly as with the tool.
 *
 * Reading: the text has universal newlines (CRLF and CR become LF, as a file opened in text mode);
 * `csv.reader` splits at `,`, honours `"` quotes with `""` for a quote, lets a quoted field run over
 * lines, keeps spaces, yields `[]` for an empty line, and (non-strict) keeps text after a closing
 * quote and a field left open at the end.
 *
 * Writing: `csv.writer` quotes a field only when it holds `,`, `"`, CR or LF (QUOTE_MINIMAL),
 * doubles quotes inside, writes `""` for a row made of one empty field, ends rows with CRLF.
 */
import { stationError } from '../../common/errors.js';

export interface CsvRecord {
  /** 1-based line where the record starts (after newline normalisation). */
  line: number;
  fields: string[];
}

/** Universal newlines, as Python's text mode reads a file. */
export function universalNewlines(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}

/** `csv.reader` over text already in universal-newline form; one record per row (empty lines give []). */
export function readPythonCsv(text: string, what = 'CSV'): CsvRecord[] {
  type State = 'startRecord' | 'startField' | 'inField' | 'inQuoted' | 'quoteInQuoted' | 'eatNewline';
  const records: CsvRecord[] = [];
  let state: State = 'startRecord';
  let fields: string[] = [];
  let field = '';
  let recordLine = 1;
  let line = 1;

  const save = (): void => {
    fields.push(field);
    field = '';
  };
  const endRecord = (): void => {
    records.push({ line: recordLine, fields });
    fields = [];
  };

  // The reader is fed line by line; null marks the end of each line (CPython's EOL).
  const physical = text.split(/(?<=\n)/);
  if (physical.length > 0 && physical[physical.length - 1] === '') physical.pop();
  for (const lineText of physical) {
    if (state === 'startRecord') recordLine = line;
    for (const c of [...lineText, null]) {
      switch (state) {
        case 'startRecord':
          if (c === null) {
            endRecord();
            break;
          }
          if (c === '\n') {
            state = 'eatNewline';
            break;
          }
          state = 'startField';
        // falls through: the character starts the first field
        case 'startField':
          if (c === null || c === '\n') {
            save();
            if (c === null) {
              endRecord();
              state = 'startRecord';
            } else state = 'eatNewline';
          } else if (c === '"') {
            state = 'inQuoted';
          } else if (c === ',') save();
          else {
            field += c;
            state = 'inField';
          }
          break;
        case 'inField':
          if (c === null || c === '\n') {
            save();
            if (c === null) {
              endRecord();
              state = 'startRecord';
            } else state = 'eatNewline';
          } else if (c === ',') {
            save();
            state = 'startField';
          } else field += c;
          break;
        case 'inQuoted':
          if (c === '"') state = 'quoteInQuoted';
          else if (c !== null) field += c;
          break;
        case 'quoteInQuoted':
          if (c === '"') {
            field += '"';
            state = 'inQuoted';
          } else if (c === ',') {
            save();
            state = 'startField';
          } else if (c === null || c === '\n') {
            save();
            if (c === null) {
              endRecord();
              state = 'startRecord';
            } else state = 'eatNewline';
          } else {
            field += c;
            state = 'inField';
          }
          break;
        case 'eatNewline':
          if (c === null) {
            endRecord();
            state = 'startRecord';
          } else if (c !== '\n') {
            throw stationError('INVALID_INPUT', `${what} line ${line}: a line break inside an unquoted field.`, true, { line });
          }
          break;
      }
    }
    line += 1;
  }
  // End of input inside a quoted field (the only state a line end does not close): non-strict mode
  // keeps the field and its record.
  if (state !== 'startRecord') {
    save();
    endRecord();
  }
  return records;
}

function quoteField(field: string, onlyField: boolean): string {
  if (onlyField && field === '') return '""';
  return /[",\r\n]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}

/** One `csv.writer.writerow` line, CRLF included. */
export function writePythonCsvRow(fields: readonly string[]): string {
  return `${fields.map((f) => quoteField(f, fields.length === 1)).join(',')}\r\n`;
}
