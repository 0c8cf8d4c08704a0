/**
 * ESP-IDF's mass-manufacturing format (`tools/mass_mfg/mfg_gen.py`, ESP-IDF v6.0): a config CSV
 * that names the keys and a values CSV with one row per device, turned into one NVS image per row.
 *
 * Config CSV, no header, one row per key: `key,type,encoding` with type `namespace` (encoding
 * empty: `name,namespace,`), `data` or `file`, and an optional fourth field `REPEAT` (the first
 * device's value is used for every device). Values CSV: a header naming the columns (keys of the
 * config in the same order, plus any others, such as an id), then one row per device with exactly
 * as many fields; a REPEAT key's value is given in the first row only. Lines of only whitespace are
 * dropped from both files first.
 *
 * Per device the tool writes an intermediate NVS CSV `key,type,encoding,value` (namespace rows get
 * an empty value) and runs `nvs_partition_gen.py generate` on it. Output names are
 * `PREFIX-ID.csv`/`.bin` in `csv/` and `bin/` (or `PREFIX-NNNN-ID` with `--prefix_num START DIGITS`),
 * ID being the row's `--fileid` column, else the row's number from 1.
 *
 * Differences from the tool, all refusals or fixes of tool bugs: `i16` is accepted (the tool's
 * list forgets it; the NVS generator supports it); a value is matched to its key by column name only
 * (the tool also matches a *value* equal to the key's name); `file` paths are resolved against the
 * values CSV's folder (the tool: its working directory); errors are StationErrors, never a silent exit.
 *
 * The same config rows drive the `mfg` token-payload schema of a product, where each key's value is
 * a template: `{token}` (the AuthToken), `{qrToken}`, `{meta:NAME}` (a metadata column of the batch),
 * or literal text around them.
 */
import { StationError, stationError } from '../../common/errors.js';
import type { NvsEntryInput } from './nvs-entry-types.js';
import { parseNvsCsv } from './nvs-csv.js';
import { buildNvsImage } from './nvs-image.js';
import { readPythonCsv, universalNewlines, writePythonCsvRow } from './python-csv.js';

/** Encodings mfg_gen accepts (plus i16, see above). */
export const MFG_ENCODINGS = ['string', 'binary', 'hex2bin', 'base64', 'u8', 'i8', 'u16', 'i16', 'u32', 'i32', 'u64', 'i64'] as const;

export interface MfgConfigRow {
  line: number;
  key: string;
  type: 'namespace' | 'data' | 'file';
  /** Empty for namespace rows. */
  encoding: string;
  repeat: boolean;
}

export interface MfgValuesTable {
  header: string[];
  rows: Array<{ line: number; values: string[] }>;
}

function invalid(message: string, details?: Record<string, string | number>): never {
  throw stationError('INVALID_INPUT', message, true, details);
}

/** `strip_blank_lines`: drop every line that is only whitespace (Python `str.isspace()`). */
function stripBlankLines(text: string): string {
  return universalNewlines(text.startsWith('\uFEFF') ? text.slice(1) : text)
    .split(/(?<=\n)/)
    .filter((line) => !/^\s+$/u.test(line))
    .join('');
}

/** Reads an mfg_gen config CSV (the file's text). */
export function parseMfgConfigCsv(text: string): MfgConfigRow[] {
  const records = readPythonCsv(stripBlankLines(text), 'mfg config CSV');
  if (records.length === 0) invalid('The mfg config CSV is empty.');
  const repeatKeys = new Set(records.filter((r) => r.fields.includes('REPEAT')).map((r) => r.fields[0] ?? ''));
  const rows: MfgConfigRow[] = [];
  for (const { line, fields } of records) {
    const where = `mfg config CSV line ${line}`;
    if (fields.length !== 3 && !repeatKeys.has(fields[0] ?? '')) {
      invalid(`${where}: a row is "key,type,encoding" (and optionally REPEAT); this one has ${fields.length} fields.`, { line });
    }
    const isNamespace = fields.includes('namespace');
    const type = fields[1] ?? '';
    if (type !== 'namespace' && type !== 'data' && type !== 'file') invalid(`${where}: type "${type}" is not namespace, data or file.`, { line });
    const encoding = fields[2] ?? '';
    if (!isNamespace && !(MFG_ENCODINGS as readonly string[]).includes(encoding)) {
      invalid(`${where}: encoding "${encoding}" is not one of ${MFG_ENCODINGS.join(', ')}.`, { line });
    }
    if (isNamespace && type !== 'namespace') invalid(`${where}: "namespace" may only appear as the type.`, { line });
    rows.push({ line, key: fields[0]!, type, encoding: isNamespace ? '' : encoding, repeat: fields.includes('REPEAT') });
  }
  if (rows[0]!.type !== 'namespace') invalid('mfg config CSV line 1: the first row must be a namespace.', { line: rows[0]!.line });
  return rows;
}

/** Reads an mfg_gen values CSV (the file's text). */
export function parseMfgValuesCsv(text: string): MfgValuesTable {
  const records = readPythonCsv(stripBlankLines(text), 'mfg values CSV');
  const header = records.shift();
  if (!header || header.fields.length === 0) invalid('The mfg values CSV is empty; its first row names the keys.');
  const rows = records.map((r) => {
    if (r.fields.length !== header.fields.length) {
      invalid(`mfg values CSV line ${r.line}: ${r.fields.length} values for ${header.fields.length} columns.`, { line: r.line });
    }
    return { line: r.line, values: r.fields };
  });
  return { header: header.fields, rows };
}

/** `verify_keys_exist`: every config key must be a column, in the config's order. */
function checkKeysInValues(config: readonly MfgConfigRow[], header: readonly string[]): void {
  const configKeys = new Set(config.filter((r) => r.type !== 'namespace').map((r) => r.key));
  const inValues = header.filter((k) => configKeys.has(k));
  const missing: string[] = [];
  for (const row of config) {
    if (row.type === 'namespace') continue;
    if (inValues[0] === row.key) inValues.shift();
    else missing.push(`"${row.key}" (line ${row.line})`);
  }
  if (missing.length > 0) {
    invalid(`These config keys are not columns of the values CSV, or not in the config's order: ${missing.join(', ')}.`);
  }
}

/** The intermediate NVS CSV for one device, exactly as mfg_gen writes it. */
export function mfgDeviceCsv(config: readonly MfgConfigRow[], valueOf: (key: string) => string): string {
  let out = writePythonCsvRow(['key', 'type', 'encoding', 'value']);
  for (const row of config) {
    if (row.type === 'namespace') out += writePythonCsvRow([row.key, 'namespace', '', '']);
    else out += writePythonCsvRow([row.key, row.type, row.encoding, valueOf(row.key)]);
  }
  return out;
}

/** NVS generator input for one device (through the intermediate CSV, as the tool does). */
export function mfgDeviceEntries(config: readonly MfgConfigRow[], valueOf: (key: string) => string, baseDir?: string): NvsEntryInput[] {
  return parseNvsCsv(mfgDeviceCsv(config, valueOf), baseDir);
}

export interface MfgGenerateOptions {
  /** `--fileid`: the values column whose value names each file (default: the row number). */
  fileid?: string;
  /** `--prefix_num START DIGITS`: a zero-padded counter between prefix and id. */
  prefixNum?: { start: number; digits: number };
  /** Where `file` values are resolved. */
  baseDir?: string;
}

export interface MfgDeviceOutput {
  /** File name without extension, e.g. "device-1" or "device-0007-SN42". */
  name: string;
  /** The intermediate NVS CSV (holds the device's secrets in plain text, as the tool's does). */
  csv: string;
  image: Uint8Array;
}

/** `mfg_gen.py generate CONFIG VALUES PREFIX SIZE`: one image per values row. */
export function generateMfgImages(configText: string, valuesText: string, prefix: string, sizeBytes: number, options: MfgGenerateOptions = {}): MfgDeviceOutput[] {
  const config = parseMfgConfigCsv(configText);
  const values = parseMfgValuesCsv(valuesText);
  checkKeysInValues(config, values.header);
  if (options.fileid !== undefined && !values.header.includes(options.fileid)) {
    invalid(`--fileid "${options.fileid}" is not a column of the values CSV.`);
  }
  if (values.rows.length === 0) invalid('The mfg values CSV has no device rows.');
  const repeatKeys = new Set(config.filter((r) => r.repeat).map((r) => r.key));
  const first = values.rows[0]!.values;

  const outputs: MfgDeviceOutput[] = [];
  const names = new Set<string>();
  let counter = 0;
  let prefixNumber = options.prefixNum?.start ?? 0;
  for (const [index, row] of values.rows.entries()) {
    // REPEAT keys take the first row's value on every later row.
    const rowValues = row.values.map((v, i) => (index > 0 && repeatKeys.has(values.header[i]!) ? first[i]! : v));
    const valueOf = (key: string): string => rowValues[values.header.indexOf(key)]!;
    // get_fileid_val: the first column whose name (or, a tool quirk, value) equals the id column's name.
    let id: string;
    const idPair = options.fileid === undefined ? undefined : values.header.findIndex((k, i) => k === options.fileid || rowValues[i] === options.fileid);
    if (idPair !== undefined && idPair >= 0) id = rowValues[idPair]!;
    else id = String(++counter);
    let name: string;
    if (options.prefixNum) {
      name = `${prefix}-${String(prefixNumber).padStart(options.prefixNum.digits, '0')}-${id}`;
      prefixNumber += 1;
    } else {
      name = `${prefix}-${id}`;
    }
    if (names.has(name)) invalid(`Two devices would both be written to ${name}.bin (line ${row.line}); make the id column unique.`, { line: row.line });
    names.add(name);
    const csv = mfgDeviceCsv(config, valueOf);
    let image: Uint8Array;
    try {
      image = buildNvsImage(parseNvsCsv(csv, options.baseDir), sizeBytes);
    } catch (err) {
      // The NVS generator's messages name keys, never values; say which device it was.
      if (err instanceof StationError) {
        invalid(`Device ${name} (values line ${row.line}): ${err.message}`, { line: row.line });
      }
      throw err;
    }
    outputs.push({ name, csv, image });
  }
  return outputs;
}

// ---------------------------------------------------------------------------------------------
// The product schema: config rows + value templates

export interface TokenValues {
  /** AuthToken (secret). */
  authToken: string;
  qrToken: string;
  /** The batch's metadata columns for this device. */
  metadata?: Readonly<Record<string, string>>;
}

const PLACEHOLDER = /\{(token|qrToken|meta:([^}]+))\}/g;

/** Checks a template's placeholders without a token (at manifest load time). */
export function checkMfgTemplate(template: string, key: string): void {
  const stripped = template.replace(PLACEHOLDER, '');
  if (/[{}]/.test(stripped)) invalid(`The mfg value template of "${key}" has a placeholder other than {token}, {qrToken} or {meta:NAME}.`);
}

/** Fills a value template for one device. */
export function renderMfgTemplate(template: string, key: string, token: TokenValues): string {
  return template.replace(PLACEHOLDER, (_whole, kind: string, metaName: string | undefined) => {
    if (kind === 'token') return token.authToken;
    if (kind === 'qrToken') return token.qrToken;
    const value = token.metadata?.[metaName!];
    if (value === undefined) invalid(`The batch has no metadata column "${metaName}" for mfg key "${key}".`);
    return value;
  });
}

/**
 * NVS entries for one device from config rows and a template per key (a key without a template is
 * refused when the product loads; see checkMfgSchema).
 */
export function mfgTemplateEntries(config: readonly MfgConfigRow[], templates: Readonly<Record<string, string>>, token: TokenValues, baseDir?: string): NvsEntryInput[] {
  return mfgDeviceEntries(config, (key) => renderMfgTemplate(templates[key]!, key, token), baseDir);
}

/** Every data/file key has a template, every template a key, every placeholder is known. */
export function checkMfgSchema(config: readonly MfgConfigRow[], templates: Readonly<Record<string, string>>): void {
  const keys = config.filter((r) => r.type !== 'namespace').map((r) => r.key);
  const missing = keys.filter((k) => !Object.prototype.hasOwnProperty.call(templates, k));
  if (missing.length > 0) invalid(`The mfg schema has no value for ${missing.map((k) => `"${k}"`).join(', ')}.`);
  const extra = Object.keys(templates).filter((k) => !keys.includes(k));
  if (extra.length > 0) invalid(`The mfg schema gives values for keys its config does not have: ${extra.map((k) => `"${k}"`).join(', ')}.`);
  for (const [key, template] of Object.entries(templates)) checkMfgTemplate(template, key);
  if (config.some((r) => r.repeat)) invalid('REPEAT has no meaning in a product schema (every device is built alone); give the value as literal text.');
}
