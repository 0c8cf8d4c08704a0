import { createHash } from 'node:crypto';

/**
 * A SPI NOR flash chip as the loader sees it. NOR facts the simulation keeps:
 * - Erased bytes read 0xFF; erasing works on whole 4 KB sectors only.
 * - Programming can only clear bits (new = old AND data). Writing over bytes that were not erased
 *   first silently leaves a mix of old and new data; only a read-back (the ROM's verify, or MD5)
 *   notices. That is why FLASH_BEGIN erases before FLASH_DATA writes.
 */
export const FLASH_SECTOR_SIZE = 0x1000;
export const DEFAULT_FLASH_SIZE_BYTES = 4 * 1024 * 1024;

export interface FlashStats {
  sectorErases: number;
  bytesProgrammed: number;
}

export class FlashMemory {
  readonly size: number;
  private readonly bytes: Uint8Array;
  private readonly eraseCounts: Uint32Array;
  readonly stats: FlashStats = { sectorErases: 0, bytesProgrammed: 0 };

  constructor(sizeBytes: number = DEFAULT_FLASH_SIZE_BYTES) {
    if (!Number.isInteger(sizeBytes) || sizeBytes <= 0 || sizeBytes % FLASH_SECTOR_SIZE !== 0) {
      throw new RangeError(`flash size must be a positive multiple of ${FLASH_SECTOR_SIZE} bytes`);
    }
    this.size = sizeBytes;
    this.bytes = new Uint8Array(sizeBytes).fill(0xff);
    this.eraseCounts = new Uint32Array(sizeBytes / FLASH_SECTOR_SIZE);
  }

  /** True when [addr, addr+len) lies inside the chip. */
  contains(addr: number, len: number): boolean {
    return Number.isInteger(addr) && Number.isInteger(len) && addr >= 0 && len >= 0 && addr + len <= this.size;
  }

  /** A copy of [addr, addr+len). */
  read(addr: number, len: number): Uint8Array {
    this.check(addr, len);
    return this.bytes.slice(addr, addr + len);
  }

  /** Erase the sector that holds `addr`. */
  eraseSector(addr: number): void {
    this.check(addr, 1);
    const start = addr - (addr % FLASH_SECTOR_SIZE);
    this.bytes.fill(0xff, start, start + FLASH_SECTOR_SIZE);
    this.eraseCounts[start / FLASH_SECTOR_SIZE]!++;
    this.stats.sectorErases++;
  }

  /** Erase every sector that [addr, addr+len) touches (whole sectors, as the chip only can). */
  eraseRange(addr: number, len: number): void {
    if (len === 0) return;
    this.check(addr, len);
    const first = addr - (addr % FLASH_SECTOR_SIZE);
    for (let sector = first; sector < addr + len; sector += FLASH_SECTOR_SIZE) this.eraseSector(sector);
  }

  eraseAll(): void {
    for (let sector = 0; sector < this.size; sector += FLASH_SECTOR_SIZE) this.eraseSector(sector);
  }

  /**
   * NOR program: each byte becomes old AND new. Returns how many bytes did not end up equal to
   * `data` (non-zero means the region was not erased first).
   */
  program(addr: number, data: Uint8Array): number {
    this.check(addr, data.length);
    let mismatches = 0;
    for (let i = 0; i < data.length; i++) {
      const merged = this.bytes[addr + i]! & data[i]!;
      this.bytes[addr + i] = merged;
      if (merged !== data[i]) mismatches++;
    }
    this.stats.bytesProgrammed += data.length;
    return mismatches;
  }

  /** Test/factory helper: put bytes in place as if erased and programmed, no NOR rules. */
  load(addr: number, data: Uint8Array): void {
    this.check(addr, data.length);
    this.bytes.set(data, addr);
  }

  /** How many times the sector holding `addr` was erased. */
  eraseCount(addr: number): number {
    this.check(addr, 1);
    return this.eraseCounts[Math.floor(addr / FLASH_SECTOR_SIZE)]!;
  }

  md5(addr: number, len: number): Buffer {
    this.check(addr, len);
    return createHash('md5').update(this.bytes.subarray(addr, addr + len)).digest();
  }

  md5Hex(addr: number, len: number): string {
    return this.md5(addr, len).toString('hex');
  }

  private check(addr: number, len: number): void {
    if (!this.contains(addr, len)) {
      throw new RangeError(`flash access 0x${addr.toString(16)}+0x${len.toString(16)} is outside the ${this.size}-byte chip`);
    }
  }
}
