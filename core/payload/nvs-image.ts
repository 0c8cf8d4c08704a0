/**
 * NVS partition image generator, byte-identical to ESP-IDF's `nvs_partition_gen.py generate`
 * (package esp-idf-nvs-partition-gen 0.2.0, format version 2 = multi-page blobs) for every input it
 * accepts. The layout rules below are that tool's, including its quirks, because the bytes must match:
 *
 * - Pages are filled in order; page N's header carries sequence number N, version 0xFE, and state
 *   ACTIVE, turned FULL when the next page is started. After the last used page the rest of the
 *   partition stays 0xFF (no header), so the firmware has at least one free page for its GC.
 * - Every entry marks its bitmap slot WRITTEN (0b10). Integers take one entry.
 * - A string (UTF-8 plus NUL) takes 1 + ceil(n/32) entries on one page; it moves to a new page when
 *   it would reach the page's last slot (the tool tests `used + span >= 126`), so one string holds at
 *   most 3968 bytes including its NUL.
 * - A blob (hex2bin/base64/binary) is cut into BLOB_DATA chunks, each filling what is left of the
 *   current page minus one slot, then a BLOB_IDX entry `{size u32, chunkCount u8, chunkStart 0}`;
 *   a new page starts whenever data remains or fewer than 32 bytes of that room are left.
 * - Writing a namespace row: a U8 entry in namespace 0 whose value is the next index (1, 2, ...).
 *   Entries take the index of the most recently *created* namespace (the tool ignores a switch back
 *   to an earlier one, so that input is refused here rather than silently misfiled).
 * - The Wi-Fi keys `sta.ssid`/`sta.pswd` and `ap.ssid`/`ap.passwd`/`ap.authmode` make the tool add
 *   entries (`sta.apinfo`, `sta.pmk`, `sta.apsw` once; `ap.pmk_info` = 100 zero bytes + the WPA PMK
 *   whenever all three ap values are set); this generator does the same.
 */
import { pbkdf2Sync } from 'node:crypto';
import { nvsCrc32, nvsEntryCrc32, nvsPageHeaderCrc32 } from '../../common/crc32.js';
import { stationError } from '../../common/errors.js';
import {
  isNvsEncoding,
  isNvsIntegerEncoding,
  NVS_MAX_KEY_LENGTH,
  NVS_MIN_PARTITION_SIZE,
  NVS_PAGE_SIZE,
  type NvsEncoding,
  type NvsEntryInput,
  type NvsFillSpec,
  type NvsIntegerEncoding,
  parseFillEncoding,
} from './nvs-entry-types.js';
import { a2bBase64, a2bHex, asciiCodes, pyBytesStrip, pyInt, pyIntFromBytes, pyStrStrip, latin1 } from './nvs-value-codecs.js';

type EntryValue = string | number | bigint | Uint8Array;

const ENTRY_SIZE = 32;
const ENTRIES_PER_PAGE = 126;
const ENTRY_TABLE_OFFSET = 32;
const FIRST_ENTRY_OFFSET = 64;
const PAGE_STATE_ACTIVE = 0xfffffffe;
const PAGE_STATE_FULL = 0xfffffffc;
const PAGE_VERSION_2 = 0xfe;
const CHUNK_ANY = 0xff;
/** Largest string the tool accepts before layout (v2 limit applies to strings only). */
const MAX_STRING_BYTES = 4000;
/** Largest string that fits one page: span must stay below 126 entries, so 124 data entries. */
const MAX_STRING_BYTES_ON_PAGE = (ENTRIES_PER_PAGE - 2) * ENTRY_SIZE;
/** Chunk count is one byte in the blob index. */
const MAX_BLOB_CHUNKS = 255;
/** Namespace index is one byte; 0 is the namespace table itself and 255 means "any". */
const MAX_NAMESPACES = 254;

const ITEM_TYPE: Record<NvsIntegerEncoding | 'string' | 'blobData' | 'blobIndex', number> = {
  u8: 0x01,
  i8: 0x11,
  u16: 0x02,
  i16: 0x12,
  u32: 0x04,
  i32: 0x14,
  u64: 0x08,
  i64: 0x18,
  string: 0x21,
  blobData: 0x42,
  blobIndex: 0x48,
};

const INTEGER_RANGE: Record<NvsIntegerEncoding, { bytes: number; min: bigint; max: bigint }> = {
  u8: { bytes: 1, min: 0n, max: 0xffn },
  i8: { bytes: 1, min: -0x80n, max: 0x7fn },
  u16: { bytes: 2, min: 0n, max: 0xffffn },
  i16: { bytes: 2, min: -0x8000n, max: 0x7fffn },
  u32: { bytes: 4, min: 0n, max: 0xffffffffn },
  i32: { bytes: 4, min: -0x80000000n, max: 0x7fffffffn },
  u64: { bytes: 8, min: 0n, max: 0xffffffffffffffffn },
  i64: { bytes: 8, min: -0x8000000000000000n, max: 0x7fffffffffffffffn },
};

/** Extra entries the reference tool writes after the first `sta.ssid`/`sta.pswd` row. */
const STA_EXTRA_ENTRIES: ReadonlyArray<{ key: string; hex: string }> = [
  { key: 'sta.apinfo', hex: 'f'.repeat(280) },
  { key: 'sta.pmk', hex: '0'.repeat(64) },
  { key: 'sta.apsw', hex: '0000' },
];
const AP_KEYS = new Set(['ap.ssid', 'ap.passwd', 'ap.authmode']);
const STA_KEYS = new Set(['sta.ssid', 'sta.pswd']);
/** WPA2 PMK: PBKDF2-HMAC-SHA1(passphrase, ssid, 4096 iterations, 32 bytes). */
const WPA_PMK_ITERATIONS = 4096;
const WPA_PMK_BYTES = 32;

function invalid(message: string, details?: Record<string, string | number | boolean | null>): never {
  throw stationError('INVALID_INPUT', message, true, details);
}

class PageWriter {
  readonly image: Uint8Array;
  private readonly dataPages: number;
  private page = -1;
  entryNum = 0;

  constructor(sizeBytes: number) {
    this.image = new Uint8Array(sizeBytes).fill(0xff);
    // The tool reserves the last page (it stays erased), so NVS always has a free page.
    this.dataPages = sizeBytes / NVS_PAGE_SIZE - 1;
    this.newPage();
  }

  get pageBase(): number {
    return this.page * NVS_PAGE_SIZE;
  }

  newPage(): void {
    if (this.page >= 0) writeU32(this.image, this.pageBase, PAGE_STATE_FULL);
    if (this.page + 1 >= this.dataPages) {
      invalid('The NVS data does not fit the partition size; choose a larger NVS partition or store less.', {
        partitionBytes: this.image.length,
      });
    }
    this.page += 1;
    this.entryNum = 0;
    const base = this.pageBase;
    writeU32(this.image, base, PAGE_STATE_ACTIVE);
    writeU32(this.image, base + 4, this.page);
    this.image[base + 8] = PAGE_VERSION_2;
    writeU32(this.image, base + 28, nvsPageHeaderCrc32(this.image, base));
  }

  /** Writes `bytes` from the next free entry on, marking `entryCount` entries written. */
  write(bytes: Uint8Array, entryCount: number): void {
    const base = this.pageBase;
    this.image.set(bytes, base + FIRST_ENTRY_OFFSET + this.entryNum * ENTRY_SIZE);
    for (let i = 0; i < entryCount; i++) {
      const bit = this.entryNum * 2;
      // Clearing the low bit of the 2-bit slot turns EMPTY (0b11) into WRITTEN (0b10).
      this.image[base + ENTRY_TABLE_OFFSET + (bit >> 3)]! &= ~(1 << (bit & 7)) & 0xff;
      this.entryNum += 1;
    }
  }
}

function writeU32(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = value & 0xff;
  buf[offset + 1] = (value >>> 8) & 0xff;
  buf[offset + 2] = (value >>> 16) & 0xff;
  buf[offset + 3] = (value >>> 24) & 0xff;
}

function entryHeader(nsIndex: number, type: number, span: number, chunkIndex: number, key: string): Uint8Array {
  const entry = new Uint8Array(ENTRY_SIZE).fill(0xff);
  entry[0] = nsIndex;
  entry[1] = type;
  entry[2] = span;
  entry[3] = chunkIndex;
  entry.fill(0, 8, 24);
  for (let i = 0; i < key.length; i++) entry[8 + i] = key.charCodeAt(i);
  return entry;
}

function sealEntry(entry: Uint8Array): Uint8Array {
  writeU32(entry, 4, nvsEntryCrc32(entry));
  return entry;
}

function checkKey(key: string, what: string): void {
  if (key.length > NVS_MAX_KEY_LENGTH) {
    invalid(`The NVS ${what} "${key}" is longer than ${NVS_MAX_KEY_LENGTH} characters; shorten it.`);
  }
  if (!/^[\x01-\x7f]*$/.test(key)) {
    invalid(`The NVS ${what} "${key}" has a character that is not plain ASCII; use ASCII only.`);
  }
}

class NvsImageBuilder {
  private readonly pages: PageWriter;
  private namespaceCount = 0;
  private readonly namespaces = new Map<string, number>();
  private staExtrasWritten = false;
  private readonly ap: { ssid?: string; passwd?: string; authmode?: string } = {};

  constructor(sizeBytes: number) {
    this.pages = new PageWriter(sizeBytes);
  }

  get image(): Uint8Array {
    return this.pages.image;
  }

  add(input: NvsEntryInput): void {
    const kind = (input as { type: unknown }).type;
    if (kind !== 'namespace' && kind !== 'data' && kind !== 'file') {
      invalid(`NVS row type "${String(kind)}" is unknown; use namespace, data or file.`);
    }
    checkKey(input.key, input.type === 'namespace' ? 'namespace name' : 'key');
    if (input.type === 'namespace') {
      this.addNamespace(input.key);
      return;
    }
    if (!isNvsEncoding(input.encoding)) {
      invalid(`NVS encoding "${String(input.encoding)}" of key "${input.key}" is unknown; use u8, i8, u16, i16, u32, i32, u64, i64, string, hex2bin, base64 or binary.`);
    }
    if (this.namespaceCount === 0) {
      invalid(`NVS key "${input.key}" comes before any namespace row; start with a namespace row.`);
    }
    const special = AP_KEYS.has(input.key) || STA_KEYS.has(input.key);
    if (special && input.type !== 'data') {
      invalid(`NVS key "${input.key}" is a Wi-Fi key the ESP-IDF tool treats specially; give it as a data row.`);
    }
    if (AP_KEYS.has(input.key)) this.trackAp(input.key, input.value);
    this.writeValue(input.key, input.encoding, input.value, input.type === 'file');
    if (STA_KEYS.has(input.key) && !this.staExtrasWritten) {
      for (const extra of STA_EXTRA_ENTRIES) this.writeValue(extra.key, 'hex2bin', extra.hex, false);
      this.staExtrasWritten = true;
    }
  }

  private addNamespace(name: string): void {
    const existing = this.namespaces.get(name);
    if (existing !== undefined) {
      // The tool only switches back to an earlier namespace in name: its rows still get the newest
      // namespace's index. Repeating the newest one is harmless.
      if (existing !== this.namespaceCount) {
        invalid(`NVS namespace "${name}" appears again after another namespace; keep each namespace's rows together.`);
      }
      return;
    }
    if (this.namespaceCount >= MAX_NAMESPACES) invalid(`NVS holds at most ${MAX_NAMESPACES} namespaces.`);
    this.namespaceCount += 1;
    this.namespaces.set(name, this.namespaceCount);
    const data = new Uint8Array(8).fill(0xff);
    data[0] = this.namespaceCount;
    this.writePrimitive(0, name, ITEM_TYPE.u8, data);
  }

  /** The tool writes `ap.pmk_info` before the row that completes ssid + passphrase + authmode. */
  private trackAp(key: string, value: EntryValue): void {
    const text = typeof value === 'string' ? value : undefined;
    if (text === undefined) invalid(`NVS key "${key}" needs a text value.`);
    if (key === 'ap.ssid') this.ap.ssid = text;
    if (key === 'ap.passwd') this.ap.passwd = text;
    if (key === 'ap.authmode' && text !== '0') this.ap.authmode = text;
    if (this.ap.ssid && this.ap.passwd && this.ap.authmode) {
      const pmk = pbkdf2Sync(
        Buffer.from(this.ap.passwd, 'utf8'),
        Buffer.from(this.ap.ssid, 'utf8'),
        WPA_PMK_ITERATIONS,
        WPA_PMK_BYTES,
        'sha1',
      );
      this.writeValue('ap.pmk_info', 'hex2bin', '0'.repeat(200) + pmk.toString('hex'), false);
    }
  }

  private writeValue(key: string, encoding: NvsEncoding, value: EntryValue, fromFile: boolean): void {
    const nsIndex = this.namespaceCount;
    const fill = parseFillEncoding(encoding);
    if (fill) {
      this.writeBlob(nsIndex, key, fillBytes(key, fill, value, fromFile));
      return;
    }
    if (isNvsIntegerEncoding(encoding)) {
      this.writePrimitive(nsIndex, key, ITEM_TYPE[encoding], integerBytes(key, encoding, value, fromFile));
      return;
    }
    if (encoding === 'string') {
      this.writeString(nsIndex, key, stringBytes(key, value));
      return;
    }
    this.writeBlob(nsIndex, key, blobBytes(key, encoding as 'hex2bin' | 'base64' | 'binary', value));
  }

  private writePrimitive(nsIndex: number, key: string, type: number, data: Uint8Array): void {
    if (this.pages.entryNum >= ENTRIES_PER_PAGE) this.pages.newPage();
    const entry = entryHeader(nsIndex, type, 1, CHUNK_ANY, key);
    entry.set(data, 24);
    this.pages.write(sealEntry(entry), 1);
  }

  private writeString(nsIndex: number, key: string, data: Uint8Array): void {
    if (data.length > MAX_STRING_BYTES || data.length > MAX_STRING_BYTES_ON_PAGE) {
      invalid(`NVS string "${key}" is ${data.length - 1} bytes; at most ${MAX_STRING_BYTES_ON_PAGE - 1} fit one NVS page.`);
    }
    const dataEntries = Math.ceil(data.length / ENTRY_SIZE);
    if (this.pages.entryNum + dataEntries + 1 >= ENTRIES_PER_PAGE) this.pages.newPage();
    const entry = entryHeader(nsIndex, ITEM_TYPE.string, dataEntries + 1, CHUNK_ANY, key);
    entry[24] = data.length & 0xff;
    entry[25] = data.length >> 8;
    writeU32(entry, 28, nvsCrc32(data));
    this.pages.write(sealEntry(entry), 1);
    this.pages.write(data, dataEntries);
  }

  private writeBlob(nsIndex: number, key: string, data: Uint8Array): void {
    if (this.pages.entryNum >= ENTRIES_PER_PAGE) this.pages.newPage();
    let offset = 0;
    let chunkCount = 0;
    for (;;) {
      // Room left on this page for chunk data, keeping one slot for the chunk's own header.
      const tailroom = (ENTRIES_PER_PAGE - this.pages.entryNum - 1) * ENTRY_SIZE;
      const chunkSize = Math.min(tailroom, data.length - offset);
      if (chunkCount >= MAX_BLOB_CHUNKS) {
        invalid(`NVS blob "${key}" is ${data.length} bytes, more than NVS can index; store less.`);
      }
      const chunk = data.subarray(offset, offset + chunkSize);
      const dataEntries = Math.ceil(chunkSize / ENTRY_SIZE);
      const entry = entryHeader(nsIndex, ITEM_TYPE.blobData, dataEntries + 1, chunkCount, key);
      entry[24] = chunkSize & 0xff;
      entry[25] = chunkSize >> 8;
      writeU32(entry, 28, nvsCrc32(chunk));
      this.pages.write(sealEntry(entry), 1);
      this.pages.write(chunk, dataEntries);
      chunkCount += 1;
      offset += chunkSize;
      const remaining = data.length - offset;
      if (remaining > 0 || tailroom - chunkSize < ENTRY_SIZE) this.pages.newPage();
      if (remaining === 0) break;
    }
    const index = entryHeader(nsIndex, ITEM_TYPE.blobIndex, 1, CHUNK_ANY, key);
    writeU32(index, 24, data.length);
    index[28] = chunkCount;
    index[29] = 0;
    this.pages.write(sealEntry(index), 1);
  }
}

function integerBytes(key: string, encoding: NvsIntegerEncoding, value: EntryValue, fromFile: boolean): Uint8Array {
  let n: bigint | undefined;
  if (typeof value === 'bigint') n = value;
  else if (typeof value === 'number') n = Number.isSafeInteger(value) ? BigInt(value) : undefined;
  else if (typeof value === 'string') n = pyInt(value);
  else if (fromFile) n = pyIntFromBytes(value);
  if (n === undefined) invalid(`NVS key "${key}" needs a whole decimal number for ${encoding}.`);
  const range = INTEGER_RANGE[encoding];
  if (n < range.min || n > range.max) {
    invalid(`NVS key "${key}" is out of range for ${encoding} (${range.min}..${range.max}).`);
  }
  const data = new Uint8Array(8).fill(0xff);
  let bits = BigInt.asUintN(64, n);
  for (let i = 0; i < range.bytes; i++) {
    data[i] = Number(bits & 0xffn);
    bits >>= 8n;
  }
  return data;
}

/** The string's UTF-8 bytes plus the terminating NUL the tool appends. */
function stringBytes(key: string, value: EntryValue): Uint8Array {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (value instanceof Uint8Array) {
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(value);
    } catch {
      invalid(`NVS string "${key}" comes from a file that is not valid UTF-8.`);
    }
  } else invalid(`NVS key "${key}" needs text for encoding string.`);
  const utf8 = new TextEncoder().encode(text);
  const out = new Uint8Array(utf8.length + 1);
  out.set(utf8, 0);
  return out;
}

/** `blob_fill` / `blob_sz_fill`: the value's UTF-8 bytes, padded (and for sz, length-prefixed). */
function fillBytes(key: string, fill: NvsFillSpec, value: EntryValue, fromFile: boolean): Uint8Array {
  if (fromFile || typeof value !== 'string') invalid(`NVS key "${key}" needs a text value in a data row for ${fill.sized ? 'blob_sz_fill' : 'blob_fill'}.`);
  const text = new TextEncoder().encode(value);
  if (text.length > fill.length) invalid(`NVS value of key "${key}" is longer than its fill length ${fill.length}.`);
  const prefix = fill.sized ? 4 : 0;
  const out = new Uint8Array(prefix + fill.length).fill(fill.padByte);
  if (fill.sized) writeU32(out, 0, text.length);
  out.set(text, prefix);
  return out;
}

function blobBytes(key: string, encoding: 'hex2bin' | 'base64' | 'binary', value: EntryValue): Uint8Array {
  if (typeof value === 'number' || typeof value === 'bigint') invalid(`NVS key "${key}" needs text or bytes for ${encoding}.`);
  if (encoding === 'binary') {
    if (value instanceof Uint8Array) return value;
    // The tool sizes text blobs in characters but stores UTF-8 bytes, which only agree for ASCII.
    const codes = asciiCodes(value);
    if (!codes) invalid(`NVS binary value of key "${key}" must be plain ASCII text (or come from a file).`);
    return Uint8Array.from(codes);
  }
  if (encoding === 'hex2bin') {
    const hex = value instanceof Uint8Array ? latin1(pyBytesStrip(value)) : pyStrStrip(value);
    const bytes = a2bHex(hex);
    if (!bytes) invalid(`NVS hex2bin value of key "${key}" must be an even number of hex digits.`);
    return bytes;
  }
  const codes = value instanceof Uint8Array ? value : asciiCodes(value);
  const bytes = codes ? a2bBase64(codes) : undefined;
  if (!bytes) invalid(`NVS base64 value of key "${key}" is not valid base64 (check its length and padding).`);
  return bytes;
}

/**
 * The NVS partition image for `entries` (CSV order), `sizeBytes` long: a multiple of 4096, at least
 * 0x3000. Throws StationError INVALID_INPUT (naming the key, never the value) on bad input.
 */
export function buildNvsImage(entries: readonly NvsEntryInput[], sizeBytes: number): Uint8Array {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes % NVS_PAGE_SIZE !== 0) {
    invalid(`NVS partition size must be a multiple of ${NVS_PAGE_SIZE} bytes.`, { sizeBytes: String(sizeBytes) });
  }
  if (sizeBytes < NVS_MIN_PARTITION_SIZE) {
    invalid(`NVS partition size must be at least 0x${NVS_MIN_PARTITION_SIZE.toString(16)} bytes.`, { sizeBytes });
  }
  const builder = new NvsImageBuilder(sizeBytes);
  for (const entry of entries) builder.add(entry);
  return builder.image;
}
