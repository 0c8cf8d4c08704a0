import { createHash } from 'node:crypto';

/**
 * ESP32 firmware image as the ROM and the second-stage bootloader check it before running it
 * (reference: esptool `bin_image.py`, ESP-IDF `esp_app_format.h`, `esp_image_format.c`):
 * - 8-byte header: magic 0xE9, segment count, SPI mode, size/frequency, entry point u32;
 * - 16-byte extended header: WP pin, 3 drive bytes, chip id u16 (offset 12), min revision u8,
 *   min/max full revision u16 x2, 4 reserved, hash_appended u8 (offset 23);
 * - segments `{load address u32, length u32, data}`;
 * - zero padding so the checksum byte ends a 16-byte block, checksum = 0xEF XOR all segment data;
 * - if hash_appended, SHA-256 of everything before it.
 * ESP8266 images (esptool `ESP8266ROMFirmwareImage`) have only the 8-byte header: no extended
 * header, so no chip id and no appended hash; segments and checksum follow the same rules.
 * An application's first segment starts with `esp_app_desc_t` (magic 0xABCD5432, then the version
 * string at +16, project name at +48), which is where the running firmware reads its version.
 */
export const IMAGE_MAGIC = 0xe9;
export const CHECKSUM_SEED = 0xef;
const HEADER_SIZE = 8;
const EXTENDED_HEADER_SIZE = 16;
const SEGMENT_HEADER_SIZE = 8;
const MAX_SEGMENTS = 16;
const SHA256_SIZE = 32;
export const APP_DESC_MAGIC = 0xabcd5432;
const APP_DESC_SIZE = 256;

export interface AppDescription {
  version: string;
  projectName: string;
  compileTime: string;
  compileDate: string;
  idfVersion: string;
}

/** `esp32`: ESP32 and later (extended header with chip id); `esp8266`: 8-byte header only. */
export type ImageFormat = 'esp32' | 'esp8266';

export type ImageCheck =
  | { ok: true; chipId?: number; entry: number; length: number; segments: number; app?: AppDescription }
  | { ok: false; reason: string };

function cString(bytes: Uint8Array): string {
  const nul = bytes.indexOf(0);
  return Buffer.from(nul < 0 ? bytes : bytes.subarray(0, nul)).toString('latin1');
}

/** Parse and verify an image that starts at `data[0]` (the rest of the partition may follow). */
export function checkImage(data: Uint8Array, expectedChipId?: number, format: ImageFormat = 'esp32'): ImageCheck {
  const extended = format === 'esp32';
  if (data.length < HEADER_SIZE + (extended ? EXTENDED_HEADER_SIZE : 0)) return { ok: false, reason: 'image too short' };
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const magic = data[0]!;
  if (magic !== IMAGE_MAGIC) {
    return { ok: false, reason: `invalid header: 0x${view.getUint32(0, true).toString(16).padStart(8, '0')}` };
  }
  const segmentCount = data[1]!;
  if (segmentCount === 0 || segmentCount > MAX_SEGMENTS) return { ok: false, reason: `bad segment count ${segmentCount}` };
  const entry = view.getUint32(4, true);
  const chipId = extended ? view.getUint16(12, true) : undefined;
  if (expectedChipId !== undefined && chipId !== undefined && chipId !== expectedChipId) {
    return { ok: false, reason: `mismatch chip ID, expected ${expectedChipId}, found ${chipId}` };
  }
  const hashAppended = extended && data[23] === 1;
  let pos = HEADER_SIZE + (extended ? EXTENDED_HEADER_SIZE : 0);
  let checksum = CHECKSUM_SEED;
  let app: AppDescription | undefined;
  for (let s = 0; s < segmentCount; s++) {
    if (pos + SEGMENT_HEADER_SIZE > data.length) return { ok: false, reason: `segment ${s} header past end` };
    const length = view.getUint32(pos + 4, true);
    pos += SEGMENT_HEADER_SIZE;
    if (pos + length > data.length) return { ok: false, reason: `segment ${s} data past end` };
    const seg = data.subarray(pos, pos + length);
    for (const byte of seg) checksum ^= byte;
    if (s === 0 && length >= APP_DESC_SIZE && new DataView(seg.buffer, seg.byteOffset).getUint32(0, true) === APP_DESC_MAGIC) {
      app = {
        version: cString(seg.subarray(16, 48)),
        projectName: cString(seg.subarray(48, 80)),
        compileTime: cString(seg.subarray(80, 96)),
        compileDate: cString(seg.subarray(96, 112)),
        idfVersion: cString(seg.subarray(112, 144)),
      };
    }
    pos += length;
  }
  // Checksum byte is the last byte of a 16-byte block.
  pos += 15 - (pos % 16);
  if (pos >= data.length) return { ok: false, reason: 'checksum past end' };
  if (data[pos] !== checksum) {
    return { ok: false, reason: `Checksum failed. Calculated 0x${checksum.toString(16)} read 0x${data[pos]!.toString(16)}` };
  }
  pos += 1;
  if (hashAppended) {
    if (pos + SHA256_SIZE > data.length) return { ok: false, reason: 'hash past end' };
    const want = Buffer.from(data.subarray(pos, pos + SHA256_SIZE));
    const got = createHash('sha256').update(data.subarray(0, pos)).digest();
    if (!want.equals(got)) return { ok: false, reason: 'Image hash failed - image is corrupt' };
    pos += SHA256_SIZE;
  }
  return { ok: true, ...(chipId !== undefined ? { chipId } : {}), entry, length: pos, segments: segmentCount, ...(app ? { app } : {}) };
}

export interface ImageSegment {
  loadAddress: number;
  data: Uint8Array;
}

export interface BuildImageOptions {
  /** Ignored for the ESP8266 format (it has no chip id). */
  chipId: number;
  format?: ImageFormat;
  entry: number;
  segments: ImageSegment[];
  hashAppended?: boolean;
  /** Byte 3 of the header: flash size (high nibble) and frequency (low nibble). 0x20 = 4 MB, 40 MHz. */
  flashSizeFreq?: number;
  /** Byte 2: SPI mode (2 = DIO). */
  flashMode?: number;
}

/** Build a valid image (the factory firmware of a virtual board, and test fixtures). */
export function buildImage(options: BuildImageOptions): Uint8Array {
  const parts: Uint8Array[] = [];
  const extended = (options.format ?? 'esp32') === 'esp32';
  const hashAppended = extended && options.hashAppended !== false;
  const header = new Uint8Array(HEADER_SIZE + (extended ? EXTENDED_HEADER_SIZE : 0));
  const hv = new DataView(header.buffer);
  header[0] = IMAGE_MAGIC;
  header[1] = options.segments.length;
  header[2] = options.flashMode ?? 2;
  header[3] = options.flashSizeFreq ?? 0x20;
  hv.setUint32(4, options.entry, true);
  if (extended) {
    header[8] = 0xee; // WP pin: not used
    hv.setUint16(12, options.chipId, true);
    hv.setUint16(17, 399, true); // max full revision v3.99, ESP-IDF's default for ESP32
    header[23] = hashAppended ? 1 : 0;
  }
  parts.push(header);
  let checksum = CHECKSUM_SEED;
  let length = header.length;
  for (const seg of options.segments) {
    const padded = new Uint8Array(Math.ceil(seg.data.length / 4) * 4);
    padded.set(seg.data);
    const sh = new Uint8Array(SEGMENT_HEADER_SIZE);
    const sv = new DataView(sh.buffer);
    sv.setUint32(0, seg.loadAddress, true);
    sv.setUint32(4, padded.length, true);
    for (const byte of padded) checksum ^= byte;
    parts.push(sh, padded);
    length += sh.length + padded.length;
  }
  const pad = 15 - (length % 16);
  parts.push(new Uint8Array(pad), Uint8Array.of(checksum));
  length += pad + 1;
  let image = Buffer.concat(parts, length);
  if (hashAppended) image = Buffer.concat([image, createHash('sha256').update(image).digest()]);
  return new Uint8Array(image.buffer, image.byteOffset, image.length);
}

export interface AppDescFields {
  version: string;
  projectName: string;
  compileTime?: string;
  compileDate?: string;
  idfVersion?: string;
}

/** `esp_app_desc_t` as ESP-IDF places it at the start of the app's first (DROM) segment. */
export function buildAppDesc(fields: AppDescFields): Uint8Array {
  const desc = new Uint8Array(APP_DESC_SIZE);
  const view = new DataView(desc.buffer);
  view.setUint32(0, APP_DESC_MAGIC, true);
  const put = (offset: number, size: number, text: string) =>
    desc.set(Buffer.from(text, 'latin1').subarray(0, size - 1), offset);
  put(16, 32, fields.version);
  put(48, 32, fields.projectName);
  put(80, 16, fields.compileTime ?? '12:00:00');
  put(96, 16, fields.compileDate ?? 'Nov 22 2026');
  put(112, 32, fields.idfVersion ?? 'v5.1.4');
  return desc;
}
