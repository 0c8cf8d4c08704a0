/**
 * Reads ESP-IDF's NVS CSV (`key,type,encoding,value`) the way `nvs_partition_gen.py` does:
 * the file is read as UTF-8 text with universal newlines; every physical line whose first character
 * is `#` is dropped before CSV parsing; the rest goes through Python's `csv.DictReader` (excel
 * dialect: `,` separator, `"` quotes with `""` for a quote, quoted fields may span lines, nothing is
 * trimmed); the first row names the columns (any order; `key`, `type`, `encoding`, `value` needed);
 * blank rows are skipped; a short row leaves its missing columns empty.
 *
 * Where the reference tool would crash or silently do something odd, this reader refuses with a
 * clear StationError INVALID_INPUT instead: a missing column, an unknown row type (the tool treats
 * any type other than `file`/`namespace` as data; here it must be `data`), an unknown encoding,
 * an encoding in the wrong case for string/hex2bin/base64/binary (the tool then stores the raw
 * text), a file that cannot be read. A leading UTF-8 BOM is ignored.
 *
 * `file` rows: the path is taken relative to `baseDir` (the reference tool resolves it against its
 * working directory; run it from the CSV's folder to get the same result). The file's bytes become
 * the entry's value.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { stationError } from '../../common/errors.js';
import { readPythonCsv } from './python-csv.js';
import {
  isNvsEncoding,
  isNvsIntegerEncoding,
  NVS_VARLEN_ENCODINGS,
  type NvsEncoding,
  type NvsEntryInput,
} from './nvs-entry-types.js';

const REQUIRED_COLUMNS = ['key', 'type', 'encoding', 'value'] as const;

interface CsvRow {
  /** 1-based line number where the row starts in the original text. */
  line: number;
  fields: string[];
}

function invalid(message: string, line?: number): never {
  throw stationError('INVALID_INPUT', message, true, line === undefined ? undefined : { line });
}

/**
 * Python csv.reader (excel dialect, strict=False) over the lines that survived the comment filter,
 * each still ending with '\n': the same reader mfg_gen.py's files go through, with each record's
 * line mapped back to the original text.
 */
function parseCsvRows(lines: ReadonlyArray<{ text: string; line: number }>): CsvRow[] {
  return readPythonCsv(lines.map((l) => l.text).join(''), 'NVS CSV').map((record) => ({
    line: lines[record.line - 1]?.line ?? record.line,
    fields: record.fields,
  }));
}

function normaliseEncoding(raw: string, key: string, line: number): NvsEncoding {
  const lower = raw.toLowerCase();
  // The tool lower-cases the encoding only after decoding by it: "U8" works like "u8", while
  // "STRING"/"HEX2BIN"/... would store the raw text undecoded. Refuse the latter.
  if (isNvsIntegerEncoding(lower)) return lower;
  if (isNvsEncoding(raw)) return raw;
  if ((NVS_VARLEN_ENCODINGS as readonly string[]).includes(lower)) {
    invalid(`NVS encoding "${raw}" of key "${key}" must be written in lower case.`, line);
  }
  invalid(
    `NVS encoding "${raw}" of key "${key}" is unknown; use u8, i8, u16, i16, u32, i32, u64, i64, string, hex2bin, base64, binary, blob_fill(N;0xPP) or blob_sz_fill(N;0xPP).`,
    line,
  );
}

/**
 * Parses NVS CSV text into generator input, in CSV order. `file` rows are read now, relative to
 * `baseDir` (default: the process's working directory, as the reference tool does).
 */
export function parseNvsCsv(text: string, baseDir?: string): NvsEntryInput[] {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const normalised = body.replace(/\r\n?/g, '\n');
  const lines: Array<{ text: string; line: number }> = [];
  let start = 0;
  let lineNo = 1;
  while (start < normalised.length) {
    const nl = normalised.indexOf('\n', start);
    const end = nl < 0 ? normalised.length : nl + 1;
    const lineText = normalised.slice(start, end);
    if (lineText[0] !== '#') lines.push({ text: lineText, line: lineNo });
    start = end;
    lineNo += 1;
  }

  const rows = parseCsvRows(lines).filter((row) => row.fields.length > 0);
  const header = rows.shift();
  if (!header) invalid('NVS CSV is empty; it needs a header row "key,type,encoding,value".');
  const column = new Map<string, number>();
  header.fields.forEach((name, i) => column.set(name, i));
  for (const name of REQUIRED_COLUMNS) {
    if (!column.has(name)) invalid(`NVS CSV header has no "${name}" column; it needs key,type,encoding,value.`, header.line);
  }
  const cell = (row: CsvRow, name: (typeof REQUIRED_COLUMNS)[number]): string | undefined => row.fields[column.get(name)!];

  const entries: NvsEntryInput[] = [];
  for (const row of rows) {
    const key = cell(row, 'key');
    const type = cell(row, 'type');
    if (key === undefined || type === undefined) invalid('NVS CSV row has no key or type.', row.line);
    if (type === 'namespace') {
      entries.push({ type: 'namespace', key });
      continue;
    }
    if (type !== 'data' && type !== 'file') {
      invalid(`NVS CSV row type "${type}" of key "${key}" is unknown; use namespace, data or file.`, row.line);
    }
    const rawEncoding = cell(row, 'encoding');
    const value = cell(row, 'value');
    if (rawEncoding === undefined || value === undefined) invalid(`NVS CSV row of key "${key}" has no encoding or value.`, row.line);
    const encoding = normaliseEncoding(rawEncoding, key, row.line);
    if (type === 'data') {
      entries.push({ type: 'data', key, encoding, value });
      continue;
    }
    const path = isAbsolute(value) ? value : resolve(baseDir ?? process.cwd(), value);
    let content: Uint8Array;
    try {
      content = new Uint8Array(readFileSync(path));
    } catch {
      invalid(`NVS CSV file "${value}" for key "${key}" could not be read.`, row.line);
    }
    entries.push({ type: 'file', key, encoding, value: content });
  }
  return entries;
}

/** Reads an NVS CSV file; `file` rows are resolved relative to the CSV's own folder. */
export function readNvsCsvFile(csvPath: string): NvsEntryInput[] {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(csvPath));
  } catch {
    invalid(`NVS CSV "${csvPath}" could not be read as UTF-8 text.`);
  }
  return parseNvsCsv(text, dirname(csvPath));
}
