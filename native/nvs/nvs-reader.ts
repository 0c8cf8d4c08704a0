/**
 * The firmware's view of an ESP-IDF NVS partition: what `nvs_flash_init()` + `nvs_get_*()` (and so
 * Arduino `Preferences`) would read out of these bytes. Written from ESP-IDF's `nvs_page.cpp`,
 * `nvs_storage.cpp` and `nvs_types.hpp`, independently of the station's generator in core/, so the
 * two check each other.
 *
 * Layout facts (ESP-IDF, format version 2):
 * - The partition is a run of 4096-byte pages. Page header (32 bytes): state u32, sequence number
 *   u32, version u8 (0xFE = v2, 0xFF = v1), 19 unused bytes, CRC32 of bytes 4..28.
 * - Entry state bitmap at offset 32: 2 bits per entry, LSB first; 0b11 empty, 0b10 written,
 *   0b00 erased. 126 entries of 32 bytes follow from offset 64.
 * - Entry: nsIndex u8, type u8, span u8, chunkIndex u8, crc32 u32 (over bytes 0..4 and 8..32),
 *   key char[16], data[8]. Strings and blob chunks keep `{size u16, 0xFFFF, dataCrc32 u32}` in data and
 *   their payload in the next span-1 entries. A v2 blob is BLOB_DATA chunks (chunkIndex = chunkStart
 *   + n, possibly on different pages) plus a BLOB_IDX entry `{size u32, chunkCount u8, chunkStart u8}`.
 * - Namespaces are U8 entries in namespace 0: key = name, value = the index the other entries use.
 *
 * Firmware behaviour mirrored here: uninitialised (all-0xFF) pages are skipped and any page whose
 * header CRC fails or whose state is not ACTIVE/FULL/FREEING is treated as corrupt and skipped; an
 * entry whose CRC fails is treated as erased; a variable-length item whose span is not entirely
 * written, or whose payload CRC fails, is not found; on an ACTIVE page only entries before the first
 * empty bitmap slot count. Pages are visited in sequence-number order and a later copy of a key
 * replaces an earlier one (the firmware writes the new copy first and then erases the old one, and on
 * start-up erases the older of a duplicate pair left by a power cut). A valid header with a version
 * below 0xFE makes `nvs_flash_init()` fail (ESP_ERR_NVS_NEW_VERSION_FOUND): the firmware then reads
 * nothing, so neither does this reader.
 */
import { nvsCrc32, nvsEntryCrc32, nvsPageHeaderCrc32 } from '../../common/crc32.js';

export type NvsValue =
  | { type: 'u8'; value: number }
  | { type: 'i8'; value: number }
  | { type: 'u16'; value: number }
  | { type: 'i16'; value: number }
  | { type: 'u32'; value: number }
  | { type: 'i32'; value: number }
  | { type: 'u64'; value: bigint }
  | { type: 'i64'; value: bigint }
  | { type: 'string'; value: string }
  | { type: 'blob'; value: Uint8Array };

/** Namespace name -> key -> value. */
export type NvsNamespaceMap = Map<string, Map<string, NvsValue>>;

const PAGE_SIZE = 4096;
const ENTRY_SIZE = 32;
const ENTRY_COUNT = 126;
const ENTRY_TABLE_OFFSET = 32;
const FIRST_ENTRY_OFFSET = 64;
const KEY_FIELD_SIZE = 16;
/** Lowest page format version the v2 firmware accepts; 0xFF (v1) is higher and still readable. */
const NVS_VERSION = 0xfe;
const CHUNK_ANY = 0xff;

const PAGE_STATE = {
  UNINITIALIZED: 0xffffffff,
  ACTIVE: 0xfffffffe,
  FULL: 0xfffffffc,
  FREEING: 0xfffffff8,
} as const;

const ENTRY_STATE = { EMPTY: 0b11, WRITTEN: 0b10 } as const;

const ITEM_TYPE = {
  U8: 0x01,
  I8: 0x11,
  U16: 0x02,
  I16: 0x12,
  U32: 0x04,
  I32: 0x14,
  U64: 0x08,
  I64: 0x18,
  SZ: 0x21,
  BLOB: 0x41,
  BLOB_DATA: 0x42,
  BLOB_IDX: 0x48,
} as const;

/** One readable (CRC-valid, fully written) item, with its payload already checked. */
interface RawItem {
  nsIndex: number;
  type: number;
  chunkIndex: number;
  key: string;
  /** The entry's 8 data bytes. */
  data: Uint8Array;
  /** Payload of a string / v1 blob / blob chunk whose data CRC matched; undefined otherwise. */
  payload?: Uint8Array;
  /** Payload present but its CRC failed: the firmware reports the item as not found. */
  payloadBad?: boolean;
}

function isVariableLength(type: number): boolean {
  return type === ITEM_TYPE.SZ || type === ITEM_TYPE.BLOB || type === ITEM_TYPE.BLOB_DATA;
}

function readU32(buf: Uint8Array, offset: number): number {
  return (buf[offset]! | (buf[offset + 1]! << 8) | (buf[offset + 2]! << 16) | (buf[offset + 3]! << 24)) >>> 0;
}

function readU16(buf: Uint8Array, offset: number): number {
  return buf[offset]! | (buf[offset + 1]! << 8);
}

function entryState(page: Uint8Array, index: number): number {
  const byte = page[ENTRY_TABLE_OFFSET + (index >> 2)]!;
  return (byte >> ((index & 3) * 2)) & 0b11;
}

function keyOf(entry: Uint8Array): string {
  const field = entry.subarray(8, 8 + KEY_FIELD_SIZE);
  let end = field.indexOf(0);
  if (end < 0) end = KEY_FIELD_SIZE;
  let key = '';
  for (let i = 0; i < end; i++) key += String.fromCharCode(field[i]!);
  return key;
}

interface LoadedPage {
  seq: number;
  address: number;
  items: RawItem[];
}

/** Reads the items of one page the way Page::load / mLoadEntryTable / readItem would see them. */
function loadPageItems(page: Uint8Array, state: number): RawItem[] {
  let end = ENTRY_COUNT;
  if (state === PAGE_STATE.ACTIVE) {
    // On an active page the first empty slot is where the next write goes; anything past it is
    // unwritten or half-written (power cut before the bitmap update) and is erased at load.
    for (let i = 0; i < ENTRY_COUNT; i++) {
      if (entryState(page, i) === ENTRY_STATE.EMPTY) {
        end = i;
        break;
      }
    }
  }
  const items: RawItem[] = [];
  let i = 0;
  while (i < end) {
    if (entryState(page, i) !== ENTRY_STATE.WRITTEN) {
      i += 1;
      continue;
    }
    const offset = FIRST_ENTRY_OFFSET + i * ENTRY_SIZE;
    const entry = page.subarray(offset, offset + ENTRY_SIZE);
    if (readU32(entry, 4) !== nvsEntryCrc32(entry)) {
      // The firmware erases just this one entry and goes on with the next slot.
      i += 1;
      continue;
    }
    const type = entry[1]!;
    const span = entry[2]!;
    const item: RawItem = {
      nsIndex: entry[0]!,
      type,
      chunkIndex: entry[3]!,
      key: keyOf(entry),
      data: entry.slice(24, 32),
    };
    if (!isVariableLength(type)) {
      items.push(item);
      i += 1;
      continue;
    }
    if (span < 1 || i + span > ENTRY_COUNT) {
      i += 1;
      continue;
    }
    let complete = true;
    for (let j = i + 1; j < i + span; j++) {
      if (entryState(page, j) !== ENTRY_STATE.WRITTEN) complete = false;
    }
    if (complete) {
      const size = readU16(item.data, 0);
      const dataCrc = readU32(item.data, 4);
      const start = offset + ENTRY_SIZE;
      if (size <= (span - 1) * ENTRY_SIZE) {
        const payload = page.slice(start, start + size);
        if (nvsCrc32(payload) === dataCrc) item.payload = payload;
        else item.payloadBad = true;
      } else {
        item.payloadBad = true;
      }
      items.push(item);
    }
    i += span;
  }
  return items;
}

function loadPages(partition: Uint8Array): LoadedPage[] | undefined {
  const pages: LoadedPage[] = [];
  const pageCount = Math.floor(partition.length / PAGE_SIZE);
  for (let p = 0; p < pageCount; p++) {
    const address = p * PAGE_SIZE;
    const page = partition.subarray(address, address + PAGE_SIZE);
    const state = readU32(page, 0);
    if (state === PAGE_STATE.UNINITIALIZED) continue;
    if (readU32(page, 28) !== nvsPageHeaderCrc32(page)) continue;
    if (page[8]! < NVS_VERSION) return undefined;
    if (state !== PAGE_STATE.ACTIVE && state !== PAGE_STATE.FULL && state !== PAGE_STATE.FREEING) continue;
    pages.push({ seq: readU32(page, 4), address, items: loadPageItems(page, state) });
  }
  pages.sort((a, b) => a.seq - b.seq || a.address - b.address);
  return pages;
}

function decodeString(payload: Uint8Array): string {
  // The stored size includes the terminating NUL; C code stops at the first NUL it meets.
  let end = payload.indexOf(0);
  if (end < 0) end = payload.length;
  return new TextDecoder('utf-8').decode(payload.subarray(0, end));
}

function primitiveValue(item: RawItem): NvsValue | undefined {
  const view = new DataView(item.data.buffer, item.data.byteOffset, 8);
  switch (item.type) {
    case ITEM_TYPE.U8:
      return { type: 'u8', value: view.getUint8(0) };
    case ITEM_TYPE.I8:
      return { type: 'i8', value: view.getInt8(0) };
    case ITEM_TYPE.U16:
      return { type: 'u16', value: view.getUint16(0, true) };
    case ITEM_TYPE.I16:
      return { type: 'i16', value: view.getInt16(0, true) };
    case ITEM_TYPE.U32:
      return { type: 'u32', value: view.getUint32(0, true) };
    case ITEM_TYPE.I32:
      return { type: 'i32', value: view.getInt32(0, true) };
    case ITEM_TYPE.U64:
      return { type: 'u64', value: view.getBigUint64(0, true) };
    case ITEM_TYPE.I64:
      return { type: 'i64', value: view.getBigInt64(0, true) };
    default:
      return undefined;
  }
}

function itemKey(nsIndex: number, key: string): string {
  return `${nsIndex}\u0000${key}`;
}

/**
 * Everything the firmware would find in this partition, by namespace and key. Never throws: bytes
 * the firmware would not accept simply yield fewer (or no) values.
 */
export function readNvs(partition: Uint8Array): NvsNamespaceMap {
  const result: NvsNamespaceMap = new Map();
  const pages = loadPages(partition);
  if (!pages) return result;

  const namespaces = new Map<number, string>();
  // Latest readable item per (namespace index, key); blob chunks per (namespace, key, chunk index).
  const latest = new Map<string, RawItem>();
  const chunks = new Map<string, RawItem>();
  for (const page of pages) {
    for (const item of page.items) {
      if (item.nsIndex === 0) {
        if (item.type === ITEM_TYPE.U8 && item.data[0]! !== 0 && item.data[0]! !== 0xff) {
          namespaces.set(item.data[0]!, item.key);
        }
        continue;
      }
      if (item.type === ITEM_TYPE.BLOB_DATA) {
        chunks.set(`${itemKey(item.nsIndex, item.key)}\u0000${item.chunkIndex}`, item);
        continue;
      }
      latest.set(itemKey(item.nsIndex, item.key), item);
    }
  }

  // Every defined namespace is listed, even with no readable values (nvs_open would succeed).
  const byIndex = new Map<number, Map<string, NvsValue>>();
  for (const [index, name] of [...namespaces.entries()].sort(([a], [b]) => a - b)) {
    const keys = result.get(name) ?? new Map<string, NvsValue>();
    result.set(name, keys);
    byIndex.set(index, keys);
  }
  for (const item of latest.values()) {
    const keys = byIndex.get(item.nsIndex);
    if (!keys) continue;
    const value = itemValue(item, chunks);
    if (value) keys.set(item.key, value);
  }
  return result;
}

function itemValue(item: RawItem, chunks: Map<string, RawItem>): NvsValue | undefined {
  if (item.type === ITEM_TYPE.SZ) {
    return item.payload ? { type: 'string', value: decodeString(item.payload) } : undefined;
  }
  if (item.type === ITEM_TYPE.BLOB) {
    return item.payload ? { type: 'blob', value: item.payload } : undefined;
  }
  if (item.type === ITEM_TYPE.BLOB_IDX) {
    if (item.chunkIndex !== CHUNK_ANY) return undefined;
    const size = readU32(item.data, 0);
    const chunkCount = item.data[4]!;
    const chunkStart = item.data[5]!;
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let n = 0; n < chunkCount; n++) {
      const chunk = chunks.get(`${itemKey(item.nsIndex, item.key)}\u0000${chunkStart + n}`);
      if (!chunk?.payload) return undefined;
      parts.push(chunk.payload);
      total += chunk.payload.length;
    }
    if (total !== size) return undefined;
    const value = new Uint8Array(total);
    let offset = 0;
    for (const part of parts) {
      value.set(part, offset);
      offset += part.length;
    }
    return { type: 'blob', value };
  }
  return primitiveValue(item);
}

/** The string the firmware's `nvs_get_str(namespace, key)` would return, or undefined. */
export function findNvsString(partition: Uint8Array, namespace: string, key: string): string | undefined {
  const value = readNvs(partition).get(namespace)?.get(key);
  return value?.type === 'string' ? value.value : undefined;
}
