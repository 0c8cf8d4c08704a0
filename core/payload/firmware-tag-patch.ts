/**
 * Pre-provisioning a firmware image through its `blnkopt` tag, in place.
 *
 * Classic Blynk.Edgent (blynkkk/blynk-library `examples/Blynk.Edgent/Edgent_ESP32/ConfigStore.h`,
 * `config_load_blnkopt()`) compiles this constant into the image:
 *
 *   "blnkopt\0" BLYNK_PARAM_KV("ssid", 4 x BLYNK_PARAM_PLACEHOLDER_64)
 *               BLYNK_PARAM_KV("host", CONFIG_DEFAULT_SERVER) BLYNK_PARAM_KV("port", "443") "\0"
 *
 * where `BLYNK_PARAM_KV(k, v)` is `k "\0" v "\0"` and the placeholder is "Placeholder" six times
 * (`src/Blynk/BlynkParam.h`), so a stock tag is 306 bytes: the name, key/value pairs of
 * NUL-terminated strings, then two NULs (the explicit "\0" and the string literal's own). At boot
 * the firmware reads the pairs in `BlynkParam(blnkopt + 8, sizeof(blnkopt) - 10)`, looks up `ssid`,
 * `pass`, `auth`, `host` and `port` by key, and uses the tag only when it holds both `ssid` and
 * `auth`; it copies them into `ConfigStore` fields of 34, 64, 34 and 34 bytes (longer values are cut).
 *
 * Rewriting keeps the tag's length (the firmware's `sizeof` is compiled in): the new pairs in the
 * order ssid, pass, auth, host, port, then any other keys the tag had, then a filler pair
 * (key "_", value of '-') up to the two final NULs, so that the next patch finds the same length
 * (Blynk's own `blynk fw patch` pads with NULs, which shortens the tag it finds next time). With only
 * one or two bytes to spare the filler cannot fit and NULs pad instead. Keys the new values do not
 * name keep their values, except the placeholder, which is dropped. Because the tag sits in a
 * segment of the image, the image checksum and appended SHA-256 are recomputed afterwards.
 *
 * The AuthToken and Wi-Fi password are secrets: no message here contains a value.
 */
import { stationError } from '../../common/errors.js';
import type { ChipFamilyName } from './chip-families.js';
import { isBlynkAuthToken } from './edgent-payload.js';
import { type EspImage, parseEspImage, resealEspImage, segmentContaining } from './esp-image.js';

export const BLNKOPT_TAG_NAME = 'blnkopt';
const TAG_PREFIX = Buffer.from(`${BLNKOPT_TAG_NAME}\0`, 'latin1');
/** A tag longer than this is not a tag (the stock one is 306 bytes). */
const MAX_TAG_LENGTH = 4096;
const KEY_PATTERN = /^[A-Za-z0-9_.-]{1,32}$/;
const FILLER_KEY = '_';
const FILLER_CHAR = 0x2d; // '-'
const PLACEHOLDER = 'Placeholder';

/** Classic Edgent `ConfigStore` field sizes minus the NUL: what the firmware keeps of each value. */
export const BLNKOPT_LIMITS = { ssid: 32, pass: 63, host: 33 } as const;

export interface BlnkoptPair {
  key: string;
  /** Raw bytes (may be a secret). */
  value: Uint8Array;
}

export interface BlnkoptTag {
  /** File offset of the "blnkopt" name. */
  offset: number;
  /** Bytes from the name through the two final NULs. */
  length: number;
  pairs: BlnkoptPair[];
}

export interface BlnkoptValues {
  /** Blynk AuthToken (secret). */
  auth: string;
  host?: string;
  port?: number;
  ssid?: string;
  /** Wi-Fi password (secret). */
  pass?: string;
}

export interface FirmwareTagPatchResult {
  /** The patched image (a copy; the input is not changed). */
  image: Uint8Array;
  tag: { offset: number; length: number; keys: string[]; spareBytes: number };
  /** The image as parsed after patching (checksum and SHA-256 verified). */
  parsed: EspImage;
}

function invalid(message: string, details?: Record<string, string | number>): never {
  throw stationError('INVALID_INPUT', message, true, details);
}

function readCString(bytes: Uint8Array, start: number, limit: number): Uint8Array | undefined {
  const end = bytes.indexOf(0, start);
  if (end < 0 || end >= limit) return undefined;
  return bytes.subarray(start, end);
}

/** Reads a tag at `offset` (where "blnkopt\0" starts); undefined if the bytes there are not one. */
function readTagAt(bytes: Uint8Array, offset: number): BlnkoptTag | undefined {
  const limit = Math.min(bytes.length, offset + MAX_TAG_LENGTH);
  const pairs: BlnkoptPair[] = [];
  let pos = offset + TAG_PREFIX.length;
  for (;;) {
    if (pos + 1 >= limit) return undefined;
    // A NUL where a key would start is the end: the explicit "\0" and the literal's terminator.
    if (bytes[pos] === 0) {
      if (bytes[pos + 1] !== 0 || pairs.length === 0) return undefined;
      return { offset, length: pos + 2 - offset, pairs };
    }
    const keyBytes = readCString(bytes, pos, limit);
    if (!keyBytes) return undefined;
    const key = Buffer.from(keyBytes).toString('latin1');
    if (!KEY_PATTERN.test(key)) return undefined;
    pos += keyBytes.length + 1;
    const value = readCString(bytes, pos, limit);
    if (!value) return undefined;
    pos += value.length + 1;
    pairs.push({ key, value });
  }
}

/** Every well-formed blnkopt tag in the bytes. */
export function findBlnkoptTags(bytes: Uint8Array): BlnkoptTag[] {
  const tags: BlnkoptTag[] = [];
  const haystack = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = haystack.indexOf(TAG_PREFIX); at >= 0; at = haystack.indexOf(TAG_PREFIX, at + 1)) {
    const tag = readTagAt(bytes, at);
    if (tag) tags.push(tag);
  }
  return tags;
}

/** The one blnkopt tag in a firmware image; refuses none or several. */
export function findBlnkoptTag(bytes: Uint8Array): BlnkoptTag {
  const tags = findBlnkoptTags(bytes);
  if (tags.length === 0) {
    invalid('The firmware has no blnkopt tag, so it cannot be pre-provisioned by patching; use an NVS payload instead.');
  }
  if (tags.length > 1) {
    invalid(`The firmware has ${tags.length} blnkopt tags (at ${tags.map((t) => `0x${t.offset.toString(16)}`).join(', ')}); Flashline will not guess which one the firmware reads.`);
  }
  return tags[0]!;
}

function isPlaceholder(value: Uint8Array): boolean {
  const text = Buffer.from(value).toString('latin1');
  return text.length > 0 && text.length % PLACEHOLDER.length === 0 && text === PLACEHOLDER.repeat(text.length / PLACEHOLDER.length);
}

/** The tag's bytes for these pairs, exactly `length` long (see the file comment for the padding). */
export function encodeBlnkoptTag(pairs: readonly BlnkoptPair[], length: number): Uint8Array {
  const parts: Buffer[] = [TAG_PREFIX];
  for (const { key, value } of pairs) parts.push(Buffer.from(`${key}\0`, 'latin1'), Buffer.from(value), Buffer.of(0));
  const body = Buffer.concat(parts);
  const room = length - 2 - body.length;
  if (room < 0) {
    invalid(`The new blnkopt values need ${body.length + 2} bytes but the tag in this firmware holds ${length}; shorten the host or Wi-Fi values.`, {
      needed: body.length + 2,
      available: length,
    });
  }
  const out = new Uint8Array(length);
  out.set(body);
  if (room >= 3) {
    out.set(Buffer.from(`${FILLER_KEY}\0`, 'latin1'), body.length);
    out.fill(FILLER_CHAR, body.length + 2, body.length + room - 1);
  }
  // Everything else (the filler's NUL, or the NUL padding, and the two final NULs) stays 0.
  return out;
}

function checkValues(values: BlnkoptValues): void {
  if (typeof values.auth !== 'string' || !isBlynkAuthToken(values.auth)) {
    invalid('The AuthToken is not 32 characters of letters, digits, "-" or "_"; check the token batch.');
  }
  const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
  if (values.host !== undefined && (!/^[\x21-\x7e]+$/.test(values.host) || values.host.length > BLNKOPT_LIMITS.host)) {
    invalid(`The Blynk server host must be 1 to ${BLNKOPT_LIMITS.host} visible characters without spaces (classic Edgent keeps no more).`);
  }
  if (values.port !== undefined && (!Number.isInteger(values.port) || values.port < 1 || values.port > 65535)) {
    invalid('The Blynk server port must be a whole number from 1 to 65535.');
  }
  if (values.ssid !== undefined && (values.ssid.length === 0 || bytes(values.ssid) > BLNKOPT_LIMITS.ssid || values.ssid.includes('\0'))) {
    invalid(`The Wi-Fi SSID must be 1 to ${BLNKOPT_LIMITS.ssid} bytes.`);
  }
  if (values.pass !== undefined && (bytes(values.pass) > BLNKOPT_LIMITS.pass || values.pass.includes('\0'))) {
    invalid(`The Wi-Fi password must be at most ${BLNKOPT_LIMITS.pass} bytes.`);
  }
}

/** The pairs a tag will hold after patching: ssid, pass, auth, host, port, then the tag's other keys. */
export function blnkoptPairs(existing: readonly BlnkoptPair[], values: BlnkoptValues): BlnkoptPair[] {
  const given: Record<string, string | undefined> = {
    ssid: values.ssid,
    pass: values.pass,
    auth: values.auth,
    host: values.host,
    port: values.port === undefined ? undefined : String(values.port),
  };
  const old = new Map(existing.filter((p) => p.key !== FILLER_KEY && !isPlaceholder(p.value)).map((p) => [p.key, p.value]));
  const pairs: BlnkoptPair[] = [];
  for (const key of Object.keys(given)) {
    const value = given[key] !== undefined ? Buffer.from(given[key]!, 'utf8') : old.get(key);
    if (value !== undefined) pairs.push({ key, value });
    old.delete(key);
  }
  for (const [key, value] of old) pairs.push({ key, value });
  return pairs;
}

/**
 * Writes the values into the image's blnkopt tag and re-seals the image (checksum, SHA-256).
 * The input image is verified first (magic, chip, segments, checksum, hash) and left unchanged.
 */
export function patchFirmwareTag(input: Uint8Array, values: BlnkoptValues, options: { chip?: ChipFamilyName } = {}): FirmwareTagPatchResult {
  checkValues(values);
  const label = 'The firmware image';
  const before = parseEspImage(input, { ...(options.chip ? { chip: options.chip } : {}), label });
  const tag = findBlnkoptTag(input);
  const inTrailer = tag.offset >= before.length;
  const segment = segmentContaining(before, tag.offset, tag.length);
  if (!segment && !(inTrailer && before.format === 'esp8266-v1')) {
    invalid('The blnkopt tag lies outside the image\'s segments, so the firmware would never see it; this image cannot be patched.');
  }
  if (before.format === 'esp32' && before.trailingBytes > 0) {
    const trailer = input.subarray(before.length);
    if (!trailer.every((b) => b === 0xff) && !trailer.every((b) => b === 0x00)) {
      invalid(`${before.trailingBytes} bytes follow the image (a secure-boot signature?); a patched image would no longer match them.`);
    }
  }
  const pairs = blnkoptPairs(tag.pairs, values);
  const encoded = encodeBlnkoptTag(pairs, tag.length);
  const image = input.slice();
  image.set(encoded, tag.offset);
  const parsed = segment ? resealEspImage(image, { ...(options.chip ? { chip: options.chip } : {}), label }) : before;
  const used = TAG_PREFIX.length + pairs.reduce((n, p) => n + p.key.length + 1 + p.value.length + 1, 0) + 2;
  return {
    image,
    tag: { offset: tag.offset, length: tag.length, keys: pairs.map((p) => p.key), spareBytes: tag.length - used },
    parsed,
  };
}
