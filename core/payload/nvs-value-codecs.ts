/**
 * Value decoding exactly as `nvs_partition_gen.py` does it with Python's builtins, so that the
 * same CSV text yields the same bytes: `int()`, `str.strip()` / `bytes.strip()`,
 * `binascii.a2b_hex()` and `binascii.a2b_base64()` (non-strict mode).
 * Each decoder returns undefined on input Python would reject; the caller words the error (values
 * can be secrets, so they never appear in error text).
 */

/** Characters Python's `str.isspace()` is true for (what `str.strip()` removes). */
const PY_STR_WHITESPACE = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001,
  0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f,
  0x205f, 0x3000,
]);

/** Bytes Python's `bytes.strip()` removes (ASCII whitespace only). */
const PY_BYTES_WHITESPACE = new Set([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20]);

export function pyStrStrip(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && PY_STR_WHITESPACE.has(text.charCodeAt(start))) start++;
  while (end > start && PY_STR_WHITESPACE.has(text.charCodeAt(end - 1))) end--;
  return text.slice(start, end);
}

export function pyBytesStrip(bytes: Uint8Array): Uint8Array {
  let start = 0;
  let end = bytes.length;
  while (start < end && PY_BYTES_WHITESPACE.has(bytes[start]!)) start++;
  while (end > start && PY_BYTES_WHITESPACE.has(bytes[end - 1]!)) end--;
  return bytes.subarray(start, end);
}

/** Bytes as a string of code units 0..255 (latin-1), to run text decoders over file content. */
export function latin1(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += String.fromCharCode(bytes[i]!);
  return out;
}

/**
 * Python `int(text)` for base-10 text: surrounding whitespace, one optional sign, ASCII digits with
 * single underscores between them. (Python also takes non-ASCII Unicode digits; we do not.)
 */
export function pyInt(text: string): bigint | undefined {
  return decimalBody(pyStrStrip(text));
}

/** Python `int(data)` for bytes (a file's content): the same, with ASCII whitespace only. */
export function pyIntFromBytes(data: Uint8Array): bigint | undefined {
  return decimalBody(latin1(pyBytesStrip(data)));
}

function decimalBody(body: string): bigint | undefined {
  if (!/^[+-]?[0-9]+(?:_[0-9]+)*$/.test(body)) return undefined;
  return BigInt(body.replace(/_/g, ''));
}

/** `binascii.a2b_hex`: an even number of hex digits, either case, nothing else. */
export function a2bHex(text: string): Uint8Array | undefined {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return undefined;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}

const B64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_TABLE: Int8Array = (() => {
  const table = new Int8Array(256).fill(-1);
  for (let i = 0; i < B64_ALPHABET.length; i++) table[B64_ALPHABET.charCodeAt(i)] = i;
  return table;
})();

/**
 * `binascii.a2b_base64` in its default (non-strict) mode, CPython 3.11: characters outside the
 * alphabet are skipped; a '=' only counts once at least two data characters of the current quad
 * have been seen, and enough of them end decoding (anything after is ignored); a final partial quad
 * of one character, or of two/three without enough padding, is an error.
 * `codes` are the input's code units (bytes, or a string's characters, which must be ASCII).
 */
export function a2bBase64(codes: ArrayLike<number>): Uint8Array | undefined {
  const out: number[] = [];
  let quadPos = 0;
  let leftChar = 0;
  let pads = 0;
  for (let i = 0; i < codes.length; i++) {
    const ch = codes[i]!;
    if (ch > 0xff) return undefined;
    if (ch === 0x3d) {
      if (quadPos >= 2 && quadPos + ++pads >= 4) return new Uint8Array(out);
      continue;
    }
    const v = B64_TABLE[ch]!;
    if (v < 0) continue;
    pads = 0;
    switch (quadPos) {
      case 0:
        quadPos = 1;
        leftChar = v;
        break;
      case 1:
        quadPos = 2;
        out.push(((leftChar << 2) | (v >> 4)) & 0xff);
        leftChar = v & 0x0f;
        break;
      case 2:
        quadPos = 3;
        out.push(((leftChar << 4) | (v >> 2)) & 0xff);
        leftChar = v & 0x03;
        break;
      default:
        quadPos = 0;
        out.push(((leftChar << 6) | v) & 0xff);
        leftChar = 0;
    }
  }
  return quadPos === 0 ? new Uint8Array(out) : undefined;
}

/** Code units of an ASCII string, or undefined if it has a non-ASCII character (Python refuses those). */
export function asciiCodes(text: string): number[] | undefined {
  const codes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) return undefined;
    codes.push(c);
  }
  return codes;
}
