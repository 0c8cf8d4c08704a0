/**
 * The input model of the NVS image generator: one item per row of ESP-IDF's
 * `nvs_partition_gen.py` CSV (`key,type,encoding,value`), in CSV order.
 */

export const NVS_INTEGER_ENCODINGS = ['u8', 'i8', 'u16', 'i16', 'u32', 'i32', 'u64', 'i64'] as const;
export const NVS_VARLEN_ENCODINGS = ['string', 'hex2bin', 'base64', 'binary'] as const;

export type NvsIntegerEncoding = (typeof NVS_INTEGER_ENCODINGS)[number];
export type NvsVarlenEncoding = (typeof NVS_VARLEN_ENCODINGS)[number];
/**
 * `blob_fill(N;0xPP)`: the value's UTF-8 bytes padded with byte PP to N bytes, stored as a blob.
 * `blob_sz_fill(N;0xPP)`: the same preceded by the value's byte length as u32 LE (4 + N bytes), the
 * shape of ESP-IDF's Wi-Fi `sta.ssid`-style blobs. Both only for data rows.
 */
export type NvsFillEncoding = `blob_fill(${string})` | `blob_sz_fill(${string})`;
export type NvsEncoding = NvsIntegerEncoding | NvsVarlenEncoding | NvsFillEncoding;

/**
 * - `namespace`: switches the namespace for the rows after it (a name seen before switches back to
 *   its index without a new entry, as the reference tool does).
 * - `data`: `value` is the CSV text, decoded per `encoding` (decimal integer text, a string, hex
 *   text, base64 text, or for `binary` the bytes of the text). From code, integers may also be given
 *   as number/bigint and `binary` data as bytes.
 * - `file`: `value` is the file's content (the CSV reader resolves and reads the file), decoded per
 *   `encoding` exactly like the reference tool decodes a file's bytes.
 */
export type NvsEntryInput =
  | { type: 'namespace'; key: string }
  | { type: 'data'; key: string; encoding: NvsEncoding; value: string | number | bigint | Uint8Array }
  | { type: 'file'; key: string; encoding: NvsEncoding; value: Uint8Array };

/** Longest key (namespace or entry) NVS stores: 15 characters plus the terminating NUL. */
export const NVS_MAX_KEY_LENGTH = 15;

export const NVS_PAGE_SIZE = 4096;

/** Smallest read/write NVS partition: two data pages plus the page NVS keeps free for GC. */
export const NVS_MIN_PARTITION_SIZE = 0x3000;

export function isNvsEncoding(value: string): value is NvsEncoding {
  return (
    (NVS_INTEGER_ENCODINGS as readonly string[]).includes(value) ||
    (NVS_VARLEN_ENCODINGS as readonly string[]).includes(value) ||
    parseFillEncoding(value) !== undefined
  );
}

export interface NvsFillSpec {
  /** True for blob_sz_fill (u32 LE length prefix). */
  sized: boolean;
  length: number;
  padByte: number;
}

/**
 * The reference tool matches `(blob_fill|blob_sz_fill)\((\d+);(0x[0-9a-fA-F]{2})\)` at the start of
 * the encoding (Python `re.match`: anything after the closing parenthesis is ignored).
 */
export function parseFillEncoding(value: string): NvsFillSpec | undefined {
  const m = /^(blob_fill|blob_sz_fill)\(([0-9]+);0x([0-9a-fA-F]{2})\)/.exec(value);
  if (!m) return undefined;
  return { sized: m[1] === 'blob_sz_fill', length: Number(m[2]), padByte: parseInt(m[3]!, 16) };
}

export function isNvsIntegerEncoding(value: string): value is NvsIntegerEncoding {
  return (NVS_INTEGER_ENCODINGS as readonly string[]).includes(value);
}
