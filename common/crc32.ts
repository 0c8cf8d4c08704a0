/**
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), with zlib's seeding convention so that
 * `crc32(data, seed)` equals Python's `zlib.crc32(data, seed)`: the seed is the CRC of whatever came
 * before, and it is inverted on the way in and the result inverted on the way out.
 *
 * ESP-IDF's NVS seeds it with 0xFFFFFFFF everywhere: `nvs_partition_gen.py` computes page header,
 * entry and string/blob data CRCs with `zlib.crc32(data, 0xFFFFFFFF)`, and the firmware
 * (`nvs_page.cpp`, `nvs_types.cpp`) with `esp_rom_crc32_le(0xffffffff, data, len)`. That is NOT the
 * plain CRC-32 (seed 0) that `zlib.crc32(data)` or most libraries compute.
 */

const TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** Seed ESP-IDF's NVS uses for every CRC it stores (header, entry, string/blob data). */
export const NVS_CRC32_SEED = 0xffffffff;

/** zlib-compatible CRC-32 of `data[start, end)`; `seed` 0 gives the standard CRC-32. Unsigned result. */
export function crc32(data: Uint8Array, seed = 0, start = 0, end = data.length): number {
  let c = ~seed >>> 0;
  for (let i = start; i < end; i++) c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** CRC-32 as ESP-IDF's NVS stores it: `zlib.crc32(data, 0xFFFFFFFF)`. */
export function nvsCrc32(data: Uint8Array, start = 0, end = data.length): number {
  return crc32(data, NVS_CRC32_SEED, start, end);
}

/**
 * CRC of one 32-byte NVS entry as stored in its bytes 4..8: it covers bytes 0..4 (nsIndex, type,
 * span, chunkIndex) and 8..32 (key and data), skipping the CRC field itself.
 */
export function nvsEntryCrc32(entry: Uint8Array, offset = 0): number {
  const buf = new Uint8Array(28);
  buf.set(entry.subarray(offset, offset + 4), 0);
  buf.set(entry.subarray(offset + 8, offset + 32), 4);
  return nvsCrc32(buf);
}

/** CRC of an NVS page header as stored in its bytes 28..32: it covers bytes 4..28. */
export function nvsPageHeaderCrc32(page: Uint8Array, offset = 0): number {
  return nvsCrc32(page, offset + 4, offset + 28);
}
