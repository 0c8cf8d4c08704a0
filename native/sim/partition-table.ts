import { createHash } from 'node:crypto';

/**
 * ESP-IDF partition table (reference: ESP-IDF `gen_esp32part.py`, `esp_flash_partitions.h`): at flash
 * 0x8000, up to 0xC00 bytes of 32-byte entries `magic u16 = 0x50AA, type u8, subtype u8, offset u32,
 * size u32, label char[16], flags u32`, optionally followed by an MD5 entry (`0xEBEB`, 14 bytes 0xFF,
 * MD5 of all preceding entry bytes), ended by 0xFF bytes. The bootloader rejects a table whose MD5
 * entry does not match.
 */
export const PARTITION_TABLE_OFFSET = 0x8000;
export const PARTITION_TABLE_MAX_BYTES = 0xc00;
const ENTRY_SIZE = 32;
const PARTITION_MAGIC = 0x50aa;
const MD5_MAGIC = 0xebeb;

export const PARTITION_TYPE = { APP: 0x00, DATA: 0x01 } as const;
export const APP_SUBTYPE = { FACTORY: 0x00, OTA_0: 0x10 } as const;
export const DATA_SUBTYPE = { OTA: 0x00, PHY: 0x01, NVS: 0x02 } as const;

export interface PartitionEntry {
  type: number;
  subtype: number;
  offset: number;
  size: number;
  label: string;
  flags: number;
}

export type PartitionTableResult =
  | { ok: true; entries: PartitionEntry[]; hasMd5: boolean }
  | { ok: false; reason: 'absent' | 'bad-md5' | 'malformed' };

export function parsePartitionTable(table: Uint8Array): PartitionTableResult {
  const view = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const entries: PartitionEntry[] = [];
  for (let off = 0; off + ENTRY_SIZE <= Math.min(table.length, PARTITION_TABLE_MAX_BYTES); off += ENTRY_SIZE) {
    const magic = view.getUint16(off, true);
    if (magic === 0xffff) break;
    if (magic === MD5_MAGIC) {
      const want = table.subarray(off + 16, off + 32);
      const got = createHash('md5').update(table.subarray(0, off)).digest();
      if (!Buffer.from(want).equals(got)) return { ok: false, reason: 'bad-md5' };
      return entries.length > 0 ? { ok: true, entries, hasMd5: true } : { ok: false, reason: 'malformed' };
    }
    if (magic !== PARTITION_MAGIC) return { ok: false, reason: entries.length === 0 ? 'absent' : 'malformed' };
    const labelBytes = table.subarray(off + 12, off + 28);
    const nul = labelBytes.indexOf(0);
    entries.push({
      type: table[off + 2]!,
      subtype: table[off + 3]!,
      offset: view.getUint32(off + 4, true),
      size: view.getUint32(off + 8, true),
      label: Buffer.from(nul < 0 ? labelBytes : labelBytes.subarray(0, nul)).toString('latin1'),
      flags: view.getUint32(off + 28, true),
    });
  }
  return entries.length > 0 ? { ok: true, entries, hasMd5: false } : { ok: false, reason: 'absent' };
}

/** Serialise entries (with the MD5 entry ESP-IDF appends by default), padded with 0xFF to 0xC00. */
export function buildPartitionTable(entries: readonly PartitionEntry[]): Uint8Array {
  const out = new Uint8Array(PARTITION_TABLE_MAX_BYTES).fill(0xff);
  const view = new DataView(out.buffer);
  entries.forEach((e, i) => {
    const off = i * ENTRY_SIZE;
    view.setUint16(off, PARTITION_MAGIC, true);
    out[off + 2] = e.type;
    out[off + 3] = e.subtype;
    view.setUint32(off + 4, e.offset, true);
    view.setUint32(off + 8, e.size, true);
    const label = Buffer.from(e.label, 'latin1').subarray(0, 16);
    out.fill(0, off + 12, off + 28);
    out.set(label, off + 12);
    view.setUint32(off + 28, e.flags, true);
  });
  const md5Off = entries.length * ENTRY_SIZE;
  view.setUint16(md5Off, MD5_MAGIC, true);
  out.set(createHash('md5').update(out.subarray(0, md5Off)).digest(), md5Off + 16);
  return out;
}

/** The ESP-IDF "single factory app" layout: nvs 0x9000+0x6000, phy_init, factory app at 0x10000. */
export function defaultPartitions(flashSize: number): PartitionEntry[] {
  return [
    { type: PARTITION_TYPE.DATA, subtype: DATA_SUBTYPE.NVS, offset: 0x9000, size: 0x6000, label: 'nvs', flags: 0 },
    { type: PARTITION_TYPE.DATA, subtype: DATA_SUBTYPE.PHY, offset: 0xf000, size: 0x1000, label: 'phy_init', flags: 0 },
    {
      type: PARTITION_TYPE.APP,
      subtype: APP_SUBTYPE.FACTORY,
      offset: 0x10000,
      size: Math.min(0x100000, flashSize - 0x10000),
      label: 'factory',
      flags: 0,
    },
  ];
}

/** The NVS partition the firmware's default `nvs_flash_init()` opens: label "nvs", else the first NVS. */
export function findNvsPartition(entries: readonly PartitionEntry[]): PartitionEntry | undefined {
  const nvs = entries.filter((e) => e.type === PARTITION_TYPE.DATA && e.subtype === DATA_SUBTYPE.NVS);
  return nvs.find((e) => e.label === 'nvs') ?? nvs[0];
}

/** The app partition a bootloader without OTA data boots: factory, else ota_0. */
export function findBootAppPartition(entries: readonly PartitionEntry[]): PartitionEntry | undefined {
  const apps = entries.filter((e) => e.type === PARTITION_TYPE.APP);
  return apps.find((e) => e.subtype === APP_SUBTYPE.FACTORY) ?? apps.find((e) => e.subtype === APP_SUBTYPE.OTA_0);
}
