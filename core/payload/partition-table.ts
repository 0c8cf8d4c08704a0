/**
 * ESP-IDF partition tables, binary and CSV, read the way ESP-IDF's `gen_esp32part.py` (v1.5, ESP-IDF
 * v6.0) reads them, so that the station finds the NVS partition exactly where the firmware will.
 *
 * Binary form (at flash 0x8000 unless the project moved it; at most 0xC00 bytes, padded with 0xFF):
 * 32-byte entries `magic u16 LE = 0x50AA, type u8, subtype u8, offset u32 LE, size u32 LE,
 * label char[16] (NUL padded; 16 characters leave no NUL), flags u32 LE (bit 0 encrypted, bit 1
 * readonly)`. An entry whose first two bytes are 0xEB 0xEB carries, in its last 16 bytes, the MD5 of
 * every entry before it (ESP-IDF writes it by default and the bootloader checks it). 32 bytes of 0xFF
 * end the table; a table without that end marker is refused.
 *
 * CSV form: `Name, Type, SubType, Offset, Size, Flags`, one partition a line; `#` starts a comment
 * line. Fields are split at every comma (no quoting) and trimmed; missing trailing fields are empty.
 * Numbers are Python `int(x, 0)` with K/M suffixes (×1024, ×1024², any case, stackable); type and
 * subtype also take their keywords in any case. An empty offset is the end of the previous partition
 * (the first starts after the partition-table sector) rounded up to the type's alignment (app 64 KB,
 * everything else 4 KB); a negative size means "up to that address". An empty subtype is
 * `undefined` (0x06) for data and an error for app. The `bootloader`/`partition_table` types
 * (ESP-IDF v5.5+) take their offsets and sizes from the options, not the CSV.
 *
 * Both forms are then verified as the tool does by default: alignment, app sizes on 4 KB (64 KB
 * for secure boot v1), unique names, nothing below the table's sector, no overlaps, at most one
 * otadata (and one TEE otadata) of exactly 0x2000 bytes, read/write NVS of at least 0x3000 bytes,
 * no read-only otadata/coredump, and optionally that it fits the flash.
 *
 * Where the tool would crash or silently truncate (a name longer than 16 bytes, a number that does
 * not fit its field, an unknown `$VARIABLE` anywhere in a line), this reader refuses with a clear
 * StationError INVALID_INPUT instead.
 */
import { createHash } from 'node:crypto';
import { stationError } from '../../common/errors.js';
import { pyIntBase0 } from './python-int.js';

export const PARTITION_TABLE_DEFAULT_OFFSET = 0x8000;
/** Table bytes the tool writes; the sector's last 1 KB is left for a secure-boot signature. */
export const PARTITION_TABLE_MAX_LENGTH = 0xc00;
/** The table owns a whole flash sector. */
export const PARTITION_TABLE_SECTOR_SIZE = 0x1000;
const ENTRY_SIZE = 32;
const LABEL_SIZE = 16;
const ENTRY_MAGIC = [0xaa, 0x50] as const;
const MD5_MAGIC = [0xeb, 0xeb] as const;
/** Smallest read/write NVS partition (two pages plus the one NVS keeps free). */
const NVS_RW_MIN_SIZE = 0x3000;
/** otadata and TEE otadata hold two 4 KB copies. */
const OTADATA_SIZE = 0x2000;
const MAX_U32 = 0xffffffff;

/** In the tool's order (its error messages list the keywords in this order). */
export const PARTITION_TYPE = { bootloader: 0x02, partition_table: 0x03, app: 0x00, data: 0x01 } as const;

const OTA_SLOTS = 16;
const TEE_SLOTS = 2;

/** Subtype keywords per type (ESP-IDF `esp_partition_subtype_t`). */
export const PARTITION_SUBTYPES: Readonly<Record<number, Readonly<Record<string, number>>>> = {
  [PARTITION_TYPE.bootloader]: { primary: 0x00, ota: 0x01, recovery: 0x02 },
  [PARTITION_TYPE.partition_table]: { primary: 0x00, ota: 0x01 },
  [PARTITION_TYPE.app]: {
    factory: 0x00,
    test: 0x20,
    ...Object.fromEntries(Array.from({ length: OTA_SLOTS }, (_, i) => [`ota_${i}`, 0x10 + i])),
    ...Object.fromEntries(Array.from({ length: TEE_SLOTS }, (_, i) => [`tee_${i}`, 0x30 + i])),
  },
  [PARTITION_TYPE.data]: {
    ota: 0x00,
    phy: 0x01,
    nvs: 0x02,
    coredump: 0x03,
    nvs_keys: 0x04,
    efuse: 0x05,
    undefined: 0x06,
    esphttpd: 0x80,
    fat: 0x81,
    spiffs: 0x82,
    littlefs: 0x83,
    tee_ota: 0x90,
  },
};

const FLAG_BITS = { encrypted: 0, readonly: 1 } as const;

export interface PartitionEntry {
  name: string;
  type: number;
  subtype: number;
  offset: number;
  size: number;
  encrypted: boolean;
  readonly: boolean;
  /** Flag bits this reader does not know (a newer binary format); the tool only warns about them. */
  otherFlags: number;
}

export interface PartitionTableOptions {
  /** Where the table sits in flash (`--offset`); default 0x8000. */
  tableOffset?: number;
  /** For `bootloader, primary` rows (`--primary-bootloader-offset`). */
  primaryBootloaderOffset?: number;
  /** For `bootloader, recovery` rows (`--recovery-bootloader-offset`). */
  recoveryBootloaderOffset?: number;
  /** `--secure v1` makes app sizes 64 KB aligned. */
  secure?: 'v1' | 'v2';
  /** Flash size in bytes: the table must end within it (`--flash-size`). */
  flashSize?: number;
  /** Values for `$NAME`/`${NAME}` in CSV lines (the tool expands the environment; we take them explicitly). */
  variables?: Readonly<Record<string, string>>;
}

export interface ParsedPartitionTable {
  entries: PartitionEntry[];
  format: 'binary' | 'csv';
  /** Binary tables: whether an MD5 entry was present (and matched: a mismatch is refused). */
  md5: 'verified' | 'absent' | 'none';
}

function invalid(message: string, details?: Record<string, string | number>): never {
  throw stationError('INVALID_INPUT', message, true, details);
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** Name of a type for messages: its keyword, else the number. */
export function partitionTypeName(type: number): string {
  return Object.entries(PARTITION_TYPE).find(([, v]) => v === type)?.[0] ?? hex(type);
}

export function partitionSubtypeName(type: number, subtype: number): string {
  return Object.entries(PARTITION_SUBTYPES[type] ?? {}).find(([, v]) => v === subtype)?.[0] ?? hex(subtype);
}

function offsetAlignment(type: number): number {
  return type === PARTITION_TYPE.app ? 0x10000 : 0x1000;
}

function isPrimaryBootloaderOrTable(e: { type: number; subtype: number }): boolean {
  return (e.type === PARTITION_TYPE.bootloader || e.type === PARTITION_TYPE.partition_table) && e.subtype === 0x00;
}

// ---------------------------------------------------------------------------------------------
// Binary

/** Reads a binary table (0xC00 bytes from flash, or the tool's output; longer input is fine). */
export function parsePartitionTableBinary(bytes: Uint8Array, options: PartitionTableOptions = {}): ParsedPartitionTable {
  const md5 = createHash('md5');
  const entries: PartitionEntry[] = [];
  let md5State: ParsedPartitionTable['md5'] = 'absent';
  for (let off = 0; off < bytes.length; off += ENTRY_SIZE) {
    const chunk = bytes.subarray(off, off + ENTRY_SIZE);
    if (chunk.length !== ENTRY_SIZE) invalid('The partition table is not a whole number of 32-byte entries and has no end marker.');
    if (chunk.every((b) => b === 0xff)) {
      verifyPartitionTable(entries, options);
      return { entries, format: 'binary', md5: md5State };
    }
    if (chunk[0] === MD5_MAGIC[0] && chunk[1] === MD5_MAGIC[1]) {
      // Only the two magic bytes are checked; bytes 16..32 are the MD5 of all entries so far.
      const want = Buffer.from(chunk.subarray(16));
      const got = md5.copy().digest();
      if (!want.equals(got)) {
        invalid(`The partition table's MD5 entry (at byte ${off}) does not match its entries: the table is corrupt.`, { offset: off });
      }
      md5State = 'verified';
      continue;
    }
    md5.update(chunk);
    if (chunk[0] !== ENTRY_MAGIC[0] || chunk[1] !== ENTRY_MAGIC[1]) {
      invalid(
        off === 0
          ? 'This is not an ESP-IDF partition table (no 0x50AA magic at its start).'
          : `Partition table entry ${off / ENTRY_SIZE} has no 0x50AA magic: the table is corrupt.`,
        { offset: off },
      );
    }
    entries.push(decodeEntry(chunk, off / ENTRY_SIZE));
  }
  invalid('The partition table has no end marker (32 bytes of 0xFF).');
}

function decodeEntry(chunk: Uint8Array, index: number): PartitionEntry {
  const view = new DataView(chunk.buffer, chunk.byteOffset, ENTRY_SIZE);
  const label = chunk.subarray(12, 12 + LABEL_SIZE);
  const nul = label.indexOf(0);
  let name: string;
  try {
    name = new TextDecoder('utf-8', { fatal: true }).decode(nul < 0 ? label : label.subarray(0, nul));
  } catch {
    invalid(`Partition table entry ${index} has a label that is not UTF-8 text.`);
  }
  const flags = view.getUint32(28, true);
  return {
    name,
    type: chunk[2]!,
    subtype: chunk[3]!,
    offset: view.getUint32(4, true),
    size: view.getUint32(8, true),
    encrypted: (flags & (1 << FLAG_BITS.encrypted)) !== 0,
    readonly: (flags & (1 << FLAG_BITS.readonly)) !== 0,
    otherFlags: flags & ~((1 << FLAG_BITS.encrypted) | (1 << FLAG_BITS.readonly)),
  };
}

function encodeEntry(e: PartitionEntry): Uint8Array {
  const out = new Uint8Array(ENTRY_SIZE);
  const view = new DataView(out.buffer);
  out[0] = ENTRY_MAGIC[0];
  out[1] = ENTRY_MAGIC[1];
  checkEntryFits(e);
  out[2] = e.type;
  out[3] = e.subtype;
  view.setUint32(4, e.offset, true);
  view.setUint32(8, e.size, true);
  out.set(Buffer.from(e.name, 'utf8'), 12);
  const flags = (e.encrypted ? 1 << FLAG_BITS.encrypted : 0) | (e.readonly ? 1 << FLAG_BITS.readonly : 0) | e.otherFlags;
  view.setUint32(28, flags >>> 0, true);
  return out;
}

function checkEntryFits(e: PartitionEntry): void {
  const where = `Partition "${e.name}"`;
  if (Buffer.byteLength(e.name, 'utf8') > LABEL_SIZE) invalid(`${where}: names are at most ${LABEL_SIZE} bytes.`);
  if (!Number.isInteger(e.type) || e.type < 0 || e.type > 0xff) invalid(`${where}: type ${e.type} is not a byte (0..255).`);
  if (!Number.isInteger(e.subtype) || e.subtype < 0 || e.subtype > 0xff) invalid(`${where}: subtype ${e.subtype} is not a byte (0..255).`);
  if (!Number.isInteger(e.offset) || e.offset < 0 || e.offset > MAX_U32) invalid(`${where}: offset ${e.offset} does not fit 32 bits.`);
  if (!Number.isInteger(e.size) || e.size < 0 || e.size > MAX_U32) invalid(`${where}: size ${e.size} does not fit 32 bits.`);
}

/**
 * The binary table `gen_esp32part.py` writes for these entries: entries, the MD5 entry (unless
 * `md5: false`, `--disable-md5sum`), 0xFF up to 0xC00 bytes. Refused when it would not fit.
 */
export function buildPartitionTableBinary(entries: readonly PartitionEntry[], options: { md5?: boolean } = {}): Uint8Array {
  const parts = entries.map(encodeEntry);
  let length = parts.length * ENTRY_SIZE;
  const body = Buffer.concat(parts, length);
  const out = new Uint8Array(PARTITION_TABLE_MAX_LENGTH).fill(0xff);
  out.set(body);
  if (options.md5 !== false) {
    const md5Entry = new Uint8Array(ENTRY_SIZE).fill(0xff);
    md5Entry[0] = MD5_MAGIC[0];
    md5Entry[1] = MD5_MAGIC[1];
    md5Entry.set(createHash('md5').update(body).digest(), 16);
    if (length + ENTRY_SIZE <= PARTITION_TABLE_MAX_LENGTH) out.set(md5Entry, length);
    length += ENTRY_SIZE;
  }
  // The tool refuses a table that would leave no room for the end marker (`len >= 0xC00`).
  if (length >= PARTITION_TABLE_MAX_LENGTH) {
    invalid(`The partition table has too many entries (${entries.length}): its binary form must stay below ${PARTITION_TABLE_MAX_LENGTH} bytes.`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// CSV

/** Python `str.splitlines()` line boundaries. */
const PY_LINE_BREAK = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/;

/** `os.path.expandvars`: `$name` / `${name}` replaced when known, left as is otherwise. */
function expandVariables(line: string, variables: Readonly<Record<string, string>>, lineNo: number): string {
  const expanded = line.replace(/\$(\w+|\{[^}]*\})/g, (whole, name: string) => {
    const key = name.startsWith('{') ? name.slice(1, -1) : name;
    return Object.prototype.hasOwnProperty.call(variables, key) ? variables[key]! : whole;
  });
  const unknown = /(?<!\\)\$\{?([A-Za-z_][A-Za-z0-9_]*)/.exec(expanded);
  if (unknown) invalid(`Partition table CSV line ${lineNo}: unknown variable "${unknown[1]}".`, { line: lineNo });
  return expanded;
}

/** `gen_esp32part.parse_int`: K/M suffixes (recursively), `int(v, 0)`, then the keywords. */
function parseCsvInt(v: string, keywords: Readonly<Record<string, number>>, lineNo: number): number {
  const lower = v.toLowerCase();
  if (lower.endsWith('k')) return parseCsvInt(v.slice(0, -1), keywords, lineNo) * 1024;
  if (lower.endsWith('m')) return parseCsvInt(v.slice(0, -1), keywords, lineNo) * 1024 * 1024;
  const n = pyIntBase0(v);
  if (n !== undefined) {
    if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < -BigInt(Number.MAX_SAFE_INTEGER)) invalid(`Partition table CSV line ${lineNo}: ${v} is too large.`, { line: lineNo });
    return Number(n);
  }
  const names = Object.keys(keywords);
  if (names.length === 0) invalid(`Partition table CSV line ${lineNo}: "${v}" is not a number.`, { line: lineNo });
  const value = keywords[lower];
  if (value === undefined || !Object.prototype.hasOwnProperty.call(keywords, lower)) {
    invalid(`Partition table CSV line ${lineNo}: "${v}" is not valid here; known keywords: ${names.join(', ')}.`, { line: lineNo });
  }
  return value;
}

interface CsvRow {
  line: number;
  name: string;
  type: number;
  subtype: number;
  offset: number | null;
  size: number | null;
  encrypted: boolean;
  readonly: boolean;
}

function parseCsvLine(line: string, lineNo: number, options: PartitionTableOptions): CsvRow {
  const tableOffset = options.tableOffset ?? PARTITION_TABLE_DEFAULT_OFFSET;
  const fields = `${line},,,,`.split(',').map((f) => f.trim());
  const [name, typeText, subtypeText, offsetText, sizeText, flagsText] = fields as [string, string, string, string, string, string];
  const where = `Partition table CSV line ${lineNo}`;
  if (typeText === '') invalid(`${where}: the type field is empty.`, { line: lineNo });
  const type = parseCsvInt(typeText, PARTITION_TYPE, lineNo);
  let subtype: number;
  if (subtypeText === '') {
    if (type === PARTITION_TYPE.app) invalid(`${where}: an app partition needs a subtype.`, { line: lineNo });
    subtype = PARTITION_SUBTYPES[PARTITION_TYPE.data]!['undefined']!;
  } else {
    subtype = parseCsvInt(subtypeText, PARTITION_SUBTYPES[type] ?? {}, lineNo);
  }

  let offset: number | null;
  if (type === PARTITION_TYPE.bootloader && subtype === 0x00) {
    if (options.primaryBootloaderOffset === undefined) invalid(`${where}: a primary bootloader row needs the primary bootloader offset.`, { line: lineNo });
    offset = options.primaryBootloaderOffset;
  } else if (type === PARTITION_TYPE.bootloader && subtype === 0x02) {
    if (options.recoveryBootloaderOffset === undefined) invalid(`${where}: a recovery bootloader row needs the recovery bootloader offset.`, { line: lineNo });
    offset = options.recoveryBootloaderOffset;
  } else if (type === PARTITION_TYPE.partition_table && subtype === 0x00) {
    offset = tableOffset;
  } else {
    offset = offsetText === '' ? null : parseCsvInt(offsetText, {}, lineNo);
  }

  let size: number | null;
  if (type === PARTITION_TYPE.bootloader) {
    if (options.primaryBootloaderOffset === undefined) invalid(`${where}: a bootloader row needs the primary bootloader offset.`, { line: lineNo });
    size = tableOffset - options.primaryBootloaderOffset;
  } else if (type === PARTITION_TYPE.partition_table) {
    size = PARTITION_TABLE_SECTOR_SIZE;
  } else {
    size = sizeText === '' ? null : parseCsvInt(sizeText, {}, lineNo);
  }
  if (size === null) invalid(`${where}: the size field is empty.`, { line: lineNo });

  let encrypted = false;
  let readonly = false;
  // Flags are split at ':' and not trimmed again: "encrypted: readonly" is an unknown flag " readonly".
  for (const flag of flagsText.split(':')) {
    if (flag === 'encrypted') encrypted = true;
    else if (flag === 'readonly') readonly = true;
    else if (flag.length > 0) invalid(`${where}: unknown flag "${flag}" (known: encrypted, readonly).`, { line: lineNo });
  }
  return { line: lineNo, name, type, subtype, offset, size, encrypted, readonly };
}

/** Reads a partition table CSV (text of the file) and lays out the empty offsets. */
export function parsePartitionTableCsv(text: string, options: PartitionTableOptions = {}): ParsedPartitionTable {
  const tableOffset = options.tableOffset ?? PARTITION_TABLE_DEFAULT_OFFSET;
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const lines = body.split(PY_LINE_BREAK);
  // Python's splitlines() yields no empty last line after a final line break.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const rows: CsvRow[] = [];
  lines.forEach((raw, i) => {
    const line = expandVariables(raw, options.variables ?? {}, i + 1).trim();
    if (line.startsWith('#') || line.length === 0) return;
    rows.push(parseCsvLine(line, i + 1, options));
  });

  // Empty offsets follow the previous partition, aligned for their type; the primary bootloader and
  // table rows keep their own places and take no part in the layout.
  let lastEnd = tableOffset + PARTITION_TABLE_SECTOR_SIZE;
  const entries: PartitionEntry[] = [];
  rows.forEach((row, index) => {
    let { offset, size } = row as { offset: number | null; size: number };
    if (!isPrimaryBootloaderOrTable(row)) {
      if (offset !== null && offset < lastEnd) {
        invalid(
          index === 0
            ? `Partition table CSV line ${row.line}: offset ${hex(offset)} is inside the partition table's sector; use ${hex(lastEnd)} or higher.`
            : `Partition table CSV line ${row.line}: offset ${hex(offset)} overlaps the previous partition, which ends at ${hex(lastEnd)}.`,
          { line: row.line },
        );
      }
      if (offset === null) {
        const align = offsetAlignment(row.type);
        if (lastEnd % align !== 0) lastEnd += align - (lastEnd % align);
        offset = lastEnd;
      }
      if (size < 0) size = -size - offset;
      lastEnd = offset + size;
    }
    if (offset === null) throw new Error('unreachable: primary rows always have an offset');
    if (size < 0) invalid(`Partition table CSV line ${row.line}: the size works out negative.`, { line: row.line });
    entries.push({
      name: row.name,
      type: row.type,
      subtype: row.subtype,
      offset,
      size,
      encrypted: row.encrypted,
      readonly: row.readonly,
      otherFlags: 0,
    });
  });
  verifyPartitionTable(entries, options);
  return { entries, format: 'csv', md5: 'none' };
}

/** Binary if it starts with the entry magic (as the tool decides), else UTF-8 (or UTF-16 with a BOM) CSV. */
export function parsePartitionTableFile(bytes: Uint8Array, options: PartitionTableOptions = {}): ParsedPartitionTable {
  if (bytes[0] === ENTRY_MAGIC[0] && bytes[1] === ENTRY_MAGIC[1]) return parsePartitionTableBinary(bytes, options);
  let text: string;
  try {
    if (bytes[0] === 0xff && bytes[1] === 0xfe) text = new TextDecoder('utf-16le', { fatal: true }).decode(bytes.subarray(2));
    else if (bytes[0] === 0xfe && bytes[1] === 0xff) text = new TextDecoder('utf-16be', { fatal: true }).decode(bytes.subarray(2));
    else text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    invalid('The partition table is neither a binary table (0x50AA magic) nor CSV text.');
  }
  return parsePartitionTableCsv(text, options);
}

// ---------------------------------------------------------------------------------------------
// Verification and queries

/** The tool's `verify()` (always run by default), plus the optional flash-size check. */
export function verifyPartitionTable(entries: readonly PartitionEntry[], options: PartitionTableOptions = {}): void {
  const tableOffset = options.tableOffset ?? PARTITION_TABLE_DEFAULT_OFFSET;
  for (const e of entries) {
    checkEntryFits(e);
    const where = `Partition "${e.name}"`;
    const align = offsetAlignment(e.type);
    if (e.offset % align !== 0) invalid(`${where}: offset ${hex(e.offset)} is not aligned to ${hex(align)}.`);
    if (e.type === PARTITION_TYPE.app) {
      const sizeAlign = options.secure === 'v1' ? 0x10000 : 0x1000;
      if (e.size % sizeAlign !== 0) invalid(`${where}: size ${hex(e.size)} is not aligned to ${hex(sizeAlign)}.`);
    }
    const isData = e.type === PARTITION_TYPE.data;
    if (isData && (e.subtype === 0x00 || e.subtype === 0x03) && e.readonly) {
      invalid(`${where}: ${partitionSubtypeName(e.type, e.subtype)} partitions are always read/write and cannot be read-only.`);
    }
    if (isData && e.subtype === 0x02 && e.size < NVS_RW_MIN_SIZE && !e.readonly) {
      invalid(`${where}: a read/write NVS partition needs at least ${hex(NVS_RW_MIN_SIZE)} bytes (flag it readonly to go smaller).`);
    }
  }
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.name)) invalid(`Partition names must be unique; "${e.name}" appears twice.`);
    seen.add(e.name);
  }
  let last: PartitionEntry | undefined;
  for (const e of [...entries].sort((a, b) => a.offset - b.offset)) {
    if (e.offset < tableOffset + PARTITION_TABLE_SECTOR_SIZE && !isPrimaryBootloaderOrTable(e)) {
      invalid(`Partition "${e.name}" at ${hex(e.offset)} is below ${hex(tableOffset + PARTITION_TABLE_SECTOR_SIZE)}, the end of the partition table's sector.`);
    }
    if (last && e.offset < last.offset + last.size) {
      invalid(`Partition "${e.name}" at ${hex(e.offset)} overlaps "${last.name}" (${hex(last.offset)}-${hex(last.offset + last.size - 1)}).`);
    }
    last = e;
  }
  for (const [subtype, what] of [
    [0x00, 'otadata'],
    [0x90, 'TEE otadata'],
  ] as const) {
    const found = entries.filter((e) => e.type === PARTITION_TYPE.data && e.subtype === subtype);
    if (found.length > 1) invalid(`The partition table has ${found.length} ${what} partitions; only one is allowed.`);
    if (found.length === 1 && found[0]!.size !== OTADATA_SIZE) invalid(`The ${what} partition "${found[0]!.name}" must be exactly ${hex(OTADATA_SIZE)} bytes.`);
  }
  if (options.flashSize !== undefined) {
    const end = partitionTableEnd(entries);
    if (end > options.flashSize) {
      invalid(`The partitions end at ${hex(end)}, beyond the ${options.flashSize / (1024 * 1024)} MB flash.`, { end, flashSize: options.flashSize });
    }
  }
}

/** Where the partition with the highest offset ends (the tool's `flash_size()`). */
export function partitionTableEnd(entries: readonly PartitionEntry[]): number {
  const last = [...entries].sort((a, b) => b.offset - a.offset)[0];
  return last ? last.offset + last.size : 0;
}

/** Label `nvs_flash_init()` opens (ESP-IDF's NVS_DEFAULT_PART_NAME; Arduino's Preferences use it too). */
export const DEFAULT_NVS_LABEL = 'nvs';

/**
 * The NVS partition the firmware will open: the data/nvs partition with this label. The default
 * `nvs_flash_init()` looks for the label "nvs" only, so an NVS partition under another name is
 * not a fallback.
 */
export function findNvsPartition(entries: readonly PartitionEntry[], label: string = DEFAULT_NVS_LABEL): PartitionEntry {
  const byLabel = entries.find((e) => e.name === label);
  if (!byLabel) {
    const others = entries.filter((e) => e.type === PARTITION_TYPE.data && e.subtype === 0x02).map((e) => `"${e.name}"`);
    invalid(
      `The partition table has no partition labelled "${label}"${others.length > 0 ? ` (NVS partitions: ${others.join(', ')})` : ' and no NVS partition at all'}.`,
      { label },
    );
  }
  if (byLabel.type !== PARTITION_TYPE.data || byLabel.subtype !== 0x02) {
    invalid(
      `Partition "${label}" is ${partitionTypeName(byLabel.type)}/${partitionSubtypeName(byLabel.type, byLabel.subtype)}, not data/nvs.`,
      { label },
    );
  }
  return byLabel;
}

/** The app a bootloader without valid OTA data boots: factory, else ota_0 (ESP-IDF bootloader_utility). */
export function findBootAppPartition(entries: readonly PartitionEntry[]): PartitionEntry | undefined {
  const apps = entries.filter((e) => e.type === PARTITION_TYPE.app);
  return apps.find((e) => e.subtype === 0x00) ?? apps.find((e) => e.subtype === 0x10);
}
