import type { CsvRowError } from '../http/http-error.js';
import { metadataValueFits } from '../store/device-store.js';
import type { MetadataField } from '../store/org-store.js';
import { parseCsv } from './csv.js';

/** Row problems listed in one reply; the rest are counted. */
export const ROW_ERRORS_SHOWN_MAX = 100;

/** A CSV header mapped to a metadata field name, or to null to ignore that column. */
export type Remap = Record<string, string | null>;

export interface MetadataCsvCheck {
  /** The CSV's header row as uploaded. */
  headers: string[];
  /** Template field names, the names the headers must equal (case-sensitive). */
  fields: string[];
  /** Each header → the field it fills after the remap (null: ignored or unknown). */
  mapping: Record<string, string | null>;
  /** Fields no column fills. */
  missing: string[];
  /** Columns that fill no field (and are not ignored by the remap). */
  unexpected: string[];
  /** Problems with the remap itself (a key that is no header, a value that is no field, a field mapped twice). */
  remapErrors: string[];
  /** Per data row: the metadata values, in template field order. */
  rows: Record<string, string>[];
  rowErrors: CsvRowError[];
  /** Total row problems (rowErrors is cut at ROW_ERRORS_SHOWN_MAX). */
  rowErrorCount: number;
  /** A CSV that cannot be read at all. */
  syntaxError: string | null;
}

export function isAcceptable(check: MetadataCsvCheck): boolean {
  return (
    check.syntaxError === null &&
    check.missing.length === 0 &&
    check.unexpected.length === 0 &&
    check.remapErrors.length === 0 &&
    check.rowErrorCount === 0 &&
    check.rows.length > 0
  );
}

/**
 * Checks a "create static tokens from CSV" upload against a template: one token per data row,
 * the header row's names (after the remap step) equal to the template's metadata field names
 * exactly and case-sensitively, every value fitting its field. Reports every problem.
 */
export function checkMetadataCsv(csv: string, templateFields: readonly MetadataField[], remap: Remap, maxRows: number): MetadataCsvCheck {
  const fields = templateFields.map((f) => f.name);
  const empty: MetadataCsvCheck = {
    headers: [],
    fields,
    mapping: {},
    missing: [...fields],
    unexpected: [],
    remapErrors: [],
    rows: [],
    rowErrors: [],
    rowErrorCount: 0,
    syntaxError: null,
  };
  const parsed = parseCsv(csv, maxRows + 1);
  if (!parsed.ok) return { ...empty, syntaxError: `line ${parsed.line}: ${parsed.message}` };
  const [headers = [], ...data] = parsed.rows;
  if (headers.length === 0) return { ...empty, syntaxError: 'the CSV has no header row' };

  const remapErrors: string[] = [];
  for (const [from, to] of Object.entries(remap)) {
    if (!headers.includes(from)) remapErrors.push(`remap names a column the CSV does not have: "${from}"`);
    if (to !== null && !fields.includes(to)) remapErrors.push(`remap maps to a name that is not a metadata field: "${to}"`);
  }
  const mapping: Record<string, string | null> = {};
  const filledBy = new Map<string, number>();
  const unexpected: string[] = [];
  const seenHeaders = new Set<string>();
  headers.forEach((header, column) => {
    if (seenHeaders.has(header)) remapErrors.push(`the CSV has two columns named "${header}"`);
    seenHeaders.add(header);
    const target = Object.hasOwn(remap, header) ? remap[header]! : header;
    const field = target !== null && fields.includes(target) ? target : null;
    mapping[header] = field;
    if (target === null) return;
    if (!field) {
      unexpected.push(header);
      return;
    }
    if (filledBy.has(field)) remapErrors.push(`two columns fill the field "${field}"`);
    else filledBy.set(field, column);
  });
  const missing = fields.filter((f) => !filledBy.has(f));

  const rows: Record<string, string>[] = [];
  const rowErrors: CsvRowError[] = [];
  let rowErrorCount = 0;
  const report = (error: CsvRowError) => {
    rowErrorCount++;
    if (rowErrors.length < ROW_ERRORS_SHOWN_MAX) rowErrors.push(error);
  };
  data.forEach((cells, index) => {
    const row = index + 1;
    if (cells.length !== headers.length) {
      report({ row, message: `has ${cells.length} values; the header has ${headers.length} columns` });
      return;
    }
    const values: Record<string, string> = {};
    for (const field of templateFields) {
      const column = filledBy.get(field.name);
      if (column === undefined) continue;
      const value = cells[column]!;
      if (!metadataValueFits(field, value)) {
        report({ row, column: headers[column]!, message: field.type === 'number' ? 'is not a number' : 'is too long' });
        continue;
      }
      values[field.name] = value;
    }
    rows.push(values);
  });
  return { headers, fields, mapping, missing, unexpected, remapErrors, rows, rowErrors, rowErrorCount, syntaxError: null };
}
