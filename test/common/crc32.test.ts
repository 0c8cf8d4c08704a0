import { describe, expect, it } from 'vitest';
import { crc32, nvsCrc32, nvsEntryCrc32, nvsPageHeaderCrc32, NVS_CRC32_SEED } from '../../common/crc32.js';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('crc32', () => {
  it('is the standard CRC-32 with seed 0 (check value of "123456789")', () => {
    expect(crc32(ascii('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('matches zlib.crc32(data, 0xFFFFFFFF) as nvs_partition_gen.py uses it', () => {
    // Values printed by Python 3.11: zlib.crc32(b'123456789', 0xFFFFFFFF), zlib.crc32(b'', 0xFFFFFFFF)
    expect(NVS_CRC32_SEED).toBe(0xffffffff);
    expect(nvsCrc32(ascii('123456789'))).toBe(0xd202d277);
    expect(nvsCrc32(new Uint8Array(0))).toBe(0xffffffff);
  });

  it('chains like zlib: the CRC of a prefix seeds the rest', () => {
    const data = ascii('hello, nvs world');
    expect(crc32(data.subarray(5), crc32(data.subarray(0, 5)))).toBe(crc32(data));
    expect(nvsCrc32(data, 3, 9)).toBe(nvsCrc32(data.slice(3, 9)));
  });

  it('covers entry bytes 0..4 and 8..32 only', () => {
    const entry = new Uint8Array(32).map((_, i) => i * 7);
    const before = nvsEntryCrc32(entry);
    entry[5] = 0xaa; // inside the CRC field itself
    expect(nvsEntryCrc32(entry)).toBe(before);
    entry[31]! ^= 1;
    expect(nvsEntryCrc32(entry)).not.toBe(before);
    const expected = nvsCrc32(new Uint8Array([...entry.subarray(0, 4), ...entry.subarray(8, 32)]));
    expect(nvsEntryCrc32(entry)).toBe(expected);
  });

  it('covers page header bytes 4..28 only', () => {
    const page = new Uint8Array(64).fill(0xff);
    const before = nvsPageHeaderCrc32(page);
    page[0] = 0; // page state is outside the CRC (it changes ACTIVE -> FULL in place)
    expect(nvsPageHeaderCrc32(page)).toBe(before);
    page[4] = 1;
    expect(nvsPageHeaderCrc32(page)).toBe(nvsCrc32(page.slice(4, 28)));
    expect(nvsPageHeaderCrc32(page)).not.toBe(before);
  });
});
