import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { crc32 } from '../../common/crc32.js';
import { stationError } from '../../common/errors.js';

/**
 * A minimal ZIP writer and a defensive ZIP reader (PKWARE APPNOTE 6.3): methods 0 (stored) and
 * 8 (deflate), no ZIP64, no encryption, one disk. Enough for Blynk-style token exports, and small
 * enough to audit: the reader treats every archive as hostile.
 *
 * Layout facts used here: local file header `PK\3\4` (30 bytes + name + extra), then the data;
 * central directory headers `PK\1\2` (46 bytes + name + extra + comment); end of central directory
 * `PK\5\6` (22 bytes + comment of up to 65,535 bytes) at the very end. General-purpose flag bit 0 =
 * encrypted, bit 3 = sizes in a data descriptor after the data (the central directory has them
 * too), bit 11 = names are UTF-8. Sizes and offsets of 0xFFFF/0xFFFFFFFF mean "see ZIP64".
 */

const LOCAL_SIG = 0x04034b50;
const CENTRAL_SIG = 0x02014b50;
const EOCD_SIG = 0x06054b50;
const LOCAL_HEADER_BYTES = 30;
const CENTRAL_HEADER_BYTES = 46;
const EOCD_BYTES = 22;
const MAX_COMMENT_BYTES = 0xffff;
const FLAG_ENCRYPTED = 0x0001;
const FLAG_DATA_DESCRIPTOR = 0x0008;
const FLAG_STRONG_ENCRYPTION = 0x0040;
const FLAG_UTF8 = 0x0800;
const METHOD_STORED = 0;
const METHOD_DEFLATE = 8;
/** "Version needed to extract" 2.0: deflate and folders. */
const VERSION_NEEDED = 20;
/** Made by: Unix (3) << 8 | spec 2.0, so permission bits in external attributes are honoured. */
const VERSION_MADE_BY = (3 << 8) | 20;
const ZIP64_MARKER_16 = 0xffff;
const ZIP64_MARKER_32 = 0xffffffff;

export interface ZipEntryInput {
  /** Forward slashes, relative, no `..`; the same rules the reader enforces. */
  name: string;
  data: Buffer;
  /** Deflate pays off for text; PNGs are compressed already. Default deflate. */
  method?: 'store' | 'deflate';
}

export interface ZipWriteOptions {
  /** Timestamp for every entry (DOS time, 2-second resolution); fixed by default so output is repeatable. */
  modified?: Date;
}

/** A date inside the DOS range (1980..2107), in local-time-free form: UTC fields. */
function dosDateTime(date: Date): { time: number; date: number } {
  const year = Math.min(2107, Math.max(1980, date.getUTCFullYear()));
  return {
    time: (date.getUTCHours() << 11) | (date.getUTCMinutes() << 5) | Math.floor(date.getUTCSeconds() / 2),
    date: ((year - 1980) << 9) | ((date.getUTCMonth() + 1) << 5) | date.getUTCDate(),
  };
}

const DEFAULT_MODIFIED = new Date(Date.UTC(2026, 0, 1));

export function writeZip(entries: readonly ZipEntryInput[], options: ZipWriteOptions = {}): Buffer {
  if (entries.length >= ZIP64_MARKER_16) throw stationError('INVALID_INPUT', `A zip of ${entries.length} files needs ZIP64, which is not supported.`);
  const { time, date } = dosDateTime(options.modified ?? DEFAULT_MODIFIED);
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  const seen = new Set<string>();
  let offset = 0;
  for (const entry of entries) {
    const problem = unsafeNameProblem(entry.name);
    if (problem) throw stationError('INVALID_INPUT', `Cannot write zip entry ${describeEntryName(entry.name)}: ${problem}.`);
    if (seen.has(entry.name)) throw stationError('INVALID_INPUT', `Zip entry ${describeEntryName(entry.name)} appears twice.`);
    seen.add(entry.name);
    const name = Buffer.from(entry.name, 'utf8');
    const method = entry.method === 'store' ? METHOD_STORED : METHOD_DEFLATE;
    const body = method === METHOD_DEFLATE ? deflateRawSync(entry.data) : entry.data;
    const crc = crc32(entry.data);
    if (offset + body.length > ZIP64_MARKER_32 - 1 || entry.data.length >= ZIP64_MARKER_32) {
      throw stationError('INVALID_INPUT', 'The zip would be larger than 4 GiB, which needs ZIP64; export fewer tokens at a time.');
    }

    const local = Buffer.alloc(LOCAL_HEADER_BYTES);
    local.writeUInt32LE(LOCAL_SIG, 0);
    local.writeUInt16LE(VERSION_NEEDED, 4);
    local.writeUInt16LE(FLAG_UTF8, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(time, 10);
    local.writeUInt16LE(date, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(entry.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);

    const cd = Buffer.alloc(CENTRAL_HEADER_BYTES);
    cd.writeUInt32LE(CENTRAL_SIG, 0);
    cd.writeUInt16LE(VERSION_MADE_BY, 4);
    cd.writeUInt16LE(VERSION_NEEDED, 6);
    cd.writeUInt16LE(FLAG_UTF8, 8);
    cd.writeUInt16LE(method, 10);
    cd.writeUInt16LE(time, 12);
    cd.writeUInt16LE(date, 14);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(body.length, 20);
    cd.writeUInt32LE(entry.data.length, 24);
    cd.writeUInt16LE(name.length, 28);
    // extra, comment, disk start, internal attributes: 0
    // External attributes: Unix mode 0600 (owner read/write), since an export holds secrets.
    cd.writeUInt32LE((0o100600 << 16) >>> 0, 38);
    cd.writeUInt32LE(offset, 42);

    parts.push(local, name, body);
    central.push(cd, name);
    offset += LOCAL_HEADER_BYTES + name.length + body.length;
  }
  const centralBytes = Buffer.concat(central);
  const eocd = Buffer.alloc(EOCD_BYTES);
  eocd.writeUInt32LE(EOCD_SIG, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(centralBytes.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, centralBytes, eocd]);
}

export interface ZipLimits {
  /** Entries, folders included. */
  maxEntries: number;
  /** Uncompressed bytes of one entry. */
  maxEntryBytes: number;
  /** Uncompressed bytes of all entries together. */
  maxTotalBytes: number;
  /** Uncompressed / compressed, checked for entries of at least RATIO_CHECK_MIN_BYTES. */
  maxRatio: number;
}

/** Generous for a token export (100,000 tokens: a ~8 MB CSV and 100,000 PNGs of ~1 KB). */
export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxEntries: 100_010,
  maxEntryBytes: 32 * 1024 * 1024,
  maxTotalBytes: 512 * 1024 * 1024,
  maxRatio: 100,
};

/** Small entries may compress very well (a run of spaces) without being a bomb. */
export const RATIO_CHECK_MIN_BYTES = 64 * 1024;

export interface ZipEntry {
  name: string;
  data: Buffer;
}

/**
 * Entry names are reported without the long token-like runs they may contain (QR PNGs are named
 * after AuthTokens, which never appear in a message): `qr/AbCd…(32).png`.
 */
export function describeEntryName(name: string): string {
  const visible = name.replace(/[\x00-\x1f\x7f]/g, '?').slice(0, 120);
  return `"${visible.replace(/[-_A-Za-z0-9]{16,}/g, (run) => `${run.slice(0, 4)}…(${run.length})`)}"`;
}

/** Why a name may not be written or extracted, or null when it is safe. */
export function unsafeNameProblem(name: string): string | null {
  if (name === '') return 'the name is empty';
  if (/[\x00-\x1f\x7f]/.test(name)) return 'the name contains control characters';
  if (name.includes('\\')) return 'the name contains a backslash';
  if (name.startsWith('/')) return 'the path is absolute';
  if (/^[A-Za-z]:/.test(name)) return 'the path starts with a drive letter';
  const segments = name.replace(/\/$/, '').split('/');
  if (segments.some((s) => s === '..')) return 'the path climbs out of the folder (..)';
  if (segments.some((s) => s === '' || s === '.')) return 'the path has an empty or "." segment';
  return null;
}

function bad(message: string): never {
  throw stationError('INVALID_INPUT', `The zip file is not acceptable: ${message}`, true);
}

interface CentralEntry {
  name: string;
  flags: number;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

function findEndOfCentralDirectory(zip: Buffer): number {
  const last = zip.length - EOCD_BYTES;
  const first = Math.max(0, last - MAX_COMMENT_BYTES);
  for (let i = last; i >= first; i--) {
    // The record must end exactly at the end of the file (its comment length says how far).
    if (zip.readUInt32LE(i) === EOCD_SIG && i + EOCD_BYTES + zip.readUInt16LE(i + 20) === zip.length) return i;
  }
  return bad('it has no end-of-central-directory record (not a zip, or cut short).');
}

/**
 * Reads every file of the archive into memory after checking the whole directory first: entry
 * count, names (no `..`, absolute paths, drive letters, backslashes, control characters,
 * duplicates), methods, encryption, declared sizes (per entry, in total, compression ratio) and
 * that no two entries share bytes (overlapping entries are a classic zip bomb). Then each entry is
 * inflated with an output cap of its declared size, and its size and CRC-32 are checked.
 * Throws INVALID_INPUT naming the first problem. Folders are checked but not returned.
 */
export function readZip(zip: Buffer, limits: ZipLimits = DEFAULT_ZIP_LIMITS): ZipEntry[] {
  if (zip.length < EOCD_BYTES) bad('it is too short to be a zip.');
  const eocd = findEndOfCentralDirectory(zip);
  const disk = zip.readUInt16LE(eocd + 4);
  const cdDisk = zip.readUInt16LE(eocd + 6);
  const entriesOnDisk = zip.readUInt16LE(eocd + 8);
  const entryCount = zip.readUInt16LE(eocd + 10);
  const cdSize = zip.readUInt32LE(eocd + 12);
  const cdOffset = zip.readUInt32LE(eocd + 16);
  if (entryCount === ZIP64_MARKER_16 || cdSize === ZIP64_MARKER_32 || cdOffset === ZIP64_MARKER_32) bad('it is a ZIP64 archive, which is not supported.');
  if (disk !== 0 || cdDisk !== 0 || entriesOnDisk !== entryCount) bad('it is split over several disks.');
  if (entryCount > limits.maxEntries) bad(`it has ${entryCount} entries; at most ${limits.maxEntries} are accepted.`);
  if (cdOffset + cdSize > eocd) bad('its central directory lies outside the file.');

  const entries: CentralEntry[] = [];
  const names = new Set<string>();
  let total = 0;
  let p = cdOffset;
  for (let i = 0; i < entryCount; i++) {
    if (p + CENTRAL_HEADER_BYTES > cdOffset + cdSize || zip.readUInt32LE(p) !== CENTRAL_SIG) bad(`central directory entry ${i + 1} is damaged.`);
    const flags = zip.readUInt16LE(p + 8);
    const method = zip.readUInt16LE(p + 10);
    const crc = zip.readUInt32LE(p + 16);
    const compressedSize = zip.readUInt32LE(p + 20);
    const size = zip.readUInt32LE(p + 24);
    const nameLength = zip.readUInt16LE(p + 28);
    const extraLength = zip.readUInt16LE(p + 30);
    const commentLength = zip.readUInt16LE(p + 32);
    const localOffset = zip.readUInt32LE(p + 42);
    const end = p + CENTRAL_HEADER_BYTES + nameLength + extraLength + commentLength;
    if (end > cdOffset + cdSize) bad(`central directory entry ${i + 1} runs past the directory.`);
    const rawName = zip.subarray(p + CENTRAL_HEADER_BYTES, p + CENTRAL_HEADER_BYTES + nameLength);
    let name: string;
    try {
      name = new TextDecoder('utf-8', { fatal: true }).decode(rawName);
    } catch {
      bad(`entry ${i + 1} has a name that is not UTF-8.`);
    }
    if ((flags & FLAG_UTF8) === 0 && /[^\x20-\x7e]/.test(name)) bad(`entry ${i + 1} has a non-ASCII name without the UTF-8 flag.`);
    const problem = unsafeNameProblem(name);
    if (problem) bad(`entry ${describeEntryName(name)} is unsafe: ${problem}.`);
    if (names.has(name)) bad(`entry ${describeEntryName(name)} appears twice.`);
    names.add(name);
    if (flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION)) bad(`entry ${describeEntryName(name)} is encrypted.`);
    if (method !== METHOD_STORED && method !== METHOD_DEFLATE) bad(`entry ${describeEntryName(name)} uses compression method ${method}; only stored and deflate are supported.`);
    if (compressedSize === ZIP64_MARKER_32 || size === ZIP64_MARKER_32 || localOffset === ZIP64_MARKER_32) bad('it is a ZIP64 archive, which is not supported.');
    if (name.endsWith('/') && size !== 0) bad(`folder entry ${describeEntryName(name)} has content.`);
    if (method === METHOD_STORED && compressedSize !== size) bad(`stored entry ${describeEntryName(name)} has two different sizes.`);
    if (size > limits.maxEntryBytes) bad(`entry ${describeEntryName(name)} unpacks to ${size} bytes; at most ${limits.maxEntryBytes} per file are accepted.`);
    total += size;
    if (total > limits.maxTotalBytes) bad(`it unpacks to more than ${limits.maxTotalBytes} bytes in total.`);
    if (size >= RATIO_CHECK_MIN_BYTES && size / Math.max(1, compressedSize) > limits.maxRatio) {
      bad(`entry ${describeEntryName(name)} is compressed more than ${limits.maxRatio}:1, which only zip bombs are.`);
    }
    entries.push({ name, flags, method, crc, compressedSize, size, localOffset });
    p = end;
  }

  // Each entry's local header and data must lie before the central directory, and no two may share
  // bytes: overlapping entries let a small file expand into many large ones.
  const spans = entries.map((e) => {
    if (e.localOffset + LOCAL_HEADER_BYTES > cdOffset || zip.readUInt32LE(e.localOffset) !== LOCAL_SIG) {
      bad(`the local header of ${describeEntryName(e.name)} is missing or damaged.`);
    }
    const nameLength = zip.readUInt16LE(e.localOffset + 26);
    const extraLength = zip.readUInt16LE(e.localOffset + 28);
    const localName = zip.subarray(e.localOffset + LOCAL_HEADER_BYTES, e.localOffset + LOCAL_HEADER_BYTES + nameLength).toString('utf8');
    if (localName !== e.name) bad(`the local header of ${describeEntryName(e.name)} names another file.`);
    if (zip.readUInt16LE(e.localOffset + 8) !== e.method) bad(`the local header of ${describeEntryName(e.name)} disagrees on the method.`);
    const dataStart = e.localOffset + LOCAL_HEADER_BYTES + nameLength + extraLength;
    const dataEnd = dataStart + e.compressedSize + (e.flags & FLAG_DATA_DESCRIPTOR ? 12 : 0);
    if (dataEnd > cdOffset) bad(`the data of ${describeEntryName(e.name)} runs into the central directory.`);
    return { entry: e, start: e.localOffset, dataStart, end: dataEnd };
  });
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.start < sorted[i - 1]!.end) bad(`entries ${describeEntryName(sorted[i - 1]!.entry.name)} and ${describeEntryName(sorted[i]!.entry.name)} overlap.`);
  }

  const out: ZipEntry[] = [];
  for (const { entry, dataStart } of spans) {
    if (entry.name.endsWith('/')) continue;
    const raw = zip.subarray(dataStart, dataStart + entry.compressedSize);
    let data: Buffer;
    if (entry.method === METHOD_STORED) {
      data = Buffer.from(raw);
    } else {
      try {
        // The cap stops inflation as soon as the output passes the declared size.
        data = inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.size + 1) });
      } catch {
        bad(`entry ${describeEntryName(entry.name)} does not inflate to its declared ${entry.size} bytes.`);
      }
    }
    if (data.length !== entry.size) bad(`entry ${describeEntryName(entry.name)} does not inflate to its declared ${entry.size} bytes.`);
    if (crc32(data) !== entry.crc) bad(`entry ${describeEntryName(entry.name)} fails its CRC check (damaged).`);
    out.push({ name: entry.name, data });
  }
  return out;
}
