/**
 * ESP application (and bootloader) images, read and checked the way esptool's `bin_image.py`
 * reads them and ESP-IDF's bootloader (`esp_image_format.c`) checks them before running one:
 *
 * - 8-byte header: magic 0xE9, segment count (at most 16), SPI flash mode (0 qio, 1 qout, 2 dio,
 *   3 dout), flash size (high nibble) and frequency (low nibble), entry point u32 LE.
 * - ESP32-series only, a 16-byte extended header: WP pin, three bytes of SPI pin drive strengths,
 *   chip id u16 LE (offset 12), minimum chip revision u8, min/max full revision u16 LE x2,
 *   4 reserved bytes, hash_appended u8 (offset 23; 0 or 1, anything else is refused by esptool).
 * - segments, each `load address u32 LE, length u32 LE, data` (the bootloader wants lengths that
 *   are multiples of 4);
 * - zero padding so that the checksum byte is the last byte of a 16-byte block; checksum = 0xEF
 *   XOR every byte of every segment's data;
 * - if hash_appended, the SHA-256 of everything from the magic byte up to and including the
 *   checksum byte.
 *
 * ESP8266 "v1" images (what the ESP8266 ROM loads) have the same header and segments but no
 * extended header and no SHA-256. Their flash-mapped code may follow the checksum in the same file;
 * that is reported as trailing bytes. ESP8266 "v2" images (magic 0xEA) are not supported.
 *
 * Every refusal is a StationError INVALID_INPUT that says what is wrong in operator words.
 */
import { createHash } from 'node:crypto';
import { stationError } from '../../common/errors.js';
import { CHIP_IMAGE_FACTS, type ChipFamilyName, familyForImageChipId, FLASH_MODES } from './chip-families.js';

export const ESP_IMAGE_MAGIC = 0xe9;
const ESP8266_V2_IMAGE_MAGIC = 0xea;
export const ESP_CHECKSUM_SEED = 0xef;
const HEADER_SIZE = 8;
const EXTENDED_HEADER_SIZE = 16;
const SEGMENT_HEADER_SIZE = 8;
const MAX_SEGMENTS = 16;
const SHA256_SIZE = 32;
const CHECKSUM_ALIGN = 16;

export interface EspImageSegment {
  index: number;
  loadAddress: number;
  length: number;
  /** File offset of the segment's data (its 8-byte header sits just before). */
  dataOffset: number;
}

export interface EspImageExtendedHeader {
  wpPin: number;
  /** Bytes 9..11: SPI pin drive strengths, two 4-bit fields each. */
  spiPinDrive: [number, number, number];
  chipId: number;
  minRevision: number;
  /** Full revision major*100+minor (ESP-IDF v5+). */
  minFullRevision: number;
  maxFullRevision: number;
  hashAppended: boolean;
}

export interface EspImage {
  format: 'esp32' | 'esp8266-v1';
  /** The chip the image is built for (from its chip id), or ESP8266 for v1 images. */
  family: ChipFamilyName | undefined;
  flashMode: number;
  flashModeName: string | undefined;
  /** Header byte 3 as is. */
  flashSizeFreq: number;
  flashSizeName: string | undefined;
  flashFreqName: string | undefined;
  entry: number;
  extended: EspImageExtendedHeader | undefined;
  segments: EspImageSegment[];
  checksumOffset: number;
  checksum: number;
  /** Offset of the appended SHA-256, when there is one. */
  sha256Offset: number | undefined;
  /** Bytes the image occupies (through its SHA-256 when appended). */
  length: number;
  /** Bytes after the image in the input (partition padding, ESP8266 flash code, a signature...). */
  trailingBytes: number;
}

export interface ParseEspImageOptions {
  /** The chip the image must be for; required to read ESP8266 images (they carry no chip id). */
  chip?: ChipFamilyName;
  /** Compare the stored checksum and SHA-256 with the data (default true). */
  verifyIntegrity?: boolean;
  /** What the image is, for messages ("The app image", "bootloader.bin"). */
  label?: string;
}

function invalid(message: string, details?: Record<string, string | number>): never {
  throw stationError('INVALID_INPUT', message, true, details);
}

function hex(n: number, width = 0): string {
  return `0x${n.toString(16).padStart(width, '0')}`;
}

/** The checksum of the image's segment data: 0xEF XOR every byte. */
export function espImageChecksum(bytes: Uint8Array, segments: readonly EspImageSegment[]): number {
  let checksum = ESP_CHECKSUM_SEED;
  for (const seg of segments) {
    const data = bytes.subarray(seg.dataOffset, seg.dataOffset + seg.length);
    for (let i = 0; i < data.length; i++) checksum ^= data[i]!;
  }
  return checksum;
}

/** Parses and (by default) verifies an image that starts at `bytes[0]`. */
export function parseEspImage(bytes: Uint8Array, options: ParseEspImageOptions = {}): EspImage {
  const what = options.label ?? 'The firmware image';
  const esp8266 = options.chip === 'ESP8266';
  const headerSize = HEADER_SIZE + (esp8266 ? 0 : EXTENDED_HEADER_SIZE);
  if (bytes.length === 0) invalid(`${what} is empty.`);
  if (bytes[0] === ESP8266_V2_IMAGE_MAGIC) invalid(`${what} is an ESP8266 "v2" image (magic 0xEA), which Flashline cannot read; use a v1 image.`);
  if (bytes[0] !== ESP_IMAGE_MAGIC) {
    invalid(`${what} is not an ESP application image: it starts with ${hex(bytes[0]!, 2)}, not the image magic 0xE9.`);
  }
  if (bytes.length < headerSize) invalid(`${what} is truncated: ${bytes.length} bytes, shorter than its ${headerSize}-byte header.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const segmentCount = bytes[1]!;
  if (segmentCount === 0 || segmentCount > MAX_SEGMENTS) invalid(`${what} claims ${segmentCount} segments; an image has 1 to ${MAX_SEGMENTS}.`);
  const flashMode = bytes[2]!;
  const flashSizeFreq = bytes[3]!;
  const entry = view.getUint32(4, true);

  let extended: EspImageExtendedHeader | undefined;
  let family: ChipFamilyName | undefined = esp8266 ? 'ESP8266' : undefined;
  if (!esp8266) {
    const hashByte = bytes[23]!;
    if (hashByte !== 0 && hashByte !== 1) invalid(`${what} has an invalid hash_appended flag (${hex(hashByte, 2)}); it must be 0 or 1.`);
    extended = {
      wpPin: bytes[8]!,
      spiPinDrive: [bytes[9]!, bytes[10]!, bytes[11]!],
      chipId: view.getUint16(12, true),
      minRevision: bytes[14]!,
      minFullRevision: view.getUint16(15, true),
      maxFullRevision: view.getUint16(17, true),
      hashAppended: hashByte === 1,
    };
    family = familyForImageChipId(extended.chipId);
    if (options.chip !== undefined) {
      const want = CHIP_IMAGE_FACTS[options.chip].imageChipId;
      if (extended.chipId !== want) {
        invalid(
          `${what} is built for ${family ?? `an unknown chip (chip id ${extended.chipId})`}, not for ${options.chip}; use the firmware built for ${options.chip}.`,
          { chipId: extended.chipId },
        );
      }
    }
  }

  const segments: EspImageSegment[] = [];
  let pos = headerSize;
  for (let index = 0; index < segmentCount; index++) {
    if (pos + SEGMENT_HEADER_SIZE > bytes.length) {
      invalid(`${what} is truncated: segment ${index} of ${segmentCount} starts at byte ${pos}, past its end (${bytes.length} bytes).`);
    }
    const loadAddress = view.getUint32(pos, true);
    const length = view.getUint32(pos + 4, true);
    const dataOffset = pos + SEGMENT_HEADER_SIZE;
    if (dataOffset + length > bytes.length) {
      invalid(`${what} is truncated: segment ${index} needs ${length} bytes from byte ${dataOffset}, but the file ends at ${bytes.length}.`);
    }
    if (length % 4 !== 0) invalid(`${what} has a segment ${index} of ${length} bytes; segment lengths are multiples of 4.`);
    segments.push({ index, loadAddress, length, dataOffset });
    pos = dataOffset + length;
  }

  // The checksum byte ends a 16-byte block (esptool's align_file_position(f, 16)).
  const checksumOffset = pos + (CHECKSUM_ALIGN - 1 - (pos % CHECKSUM_ALIGN));
  if (checksumOffset >= bytes.length) invalid(`${what} is truncated: it ends before its checksum byte (at ${checksumOffset}).`);
  const checksum = bytes[checksumOffset]!;
  let length = checksumOffset + 1;
  let sha256Offset: number | undefined;
  if (extended?.hashAppended) {
    sha256Offset = length;
    if (sha256Offset + SHA256_SIZE > bytes.length) invalid(`${what} is truncated: its SHA-256 (${SHA256_SIZE} bytes from ${sha256Offset}) is missing.`);
    length += SHA256_SIZE;
  }

  if (options.verifyIntegrity !== false) {
    const computed = espImageChecksum(bytes, segments);
    if (computed !== checksum) {
      invalid(`${what} is corrupt: its checksum is ${hex(checksum, 2)} but its data sums to ${hex(computed, 2)}.`, { stored: checksum, computed });
    }
    if (sha256Offset !== undefined) {
      const want = Buffer.from(bytes.subarray(sha256Offset, sha256Offset + SHA256_SIZE));
      const got = createHash('sha256').update(bytes.subarray(0, sha256Offset)).digest();
      if (!want.equals(got)) invalid(`${what} is corrupt: its appended SHA-256 does not match its content.`);
    }
  }

  const facts = family ? CHIP_IMAGE_FACTS[family] : CHIP_IMAGE_FACTS.ESP32;
  return {
    format: esp8266 ? 'esp8266-v1' : 'esp32',
    family,
    flashMode,
    flashModeName: FLASH_MODES[flashMode],
    flashSizeFreq,
    flashSizeName: facts.flashSizes[flashSizeFreq >> 4],
    flashFreqName: facts.flashFrequencies[flashSizeFreq & 0x0f],
    entry,
    extended,
    segments,
    checksumOffset,
    checksum,
    sha256Offset,
    length,
    trailingBytes: bytes.length - length,
  };
}

/**
 * After segment data changed in place: recompute the checksum byte and (when appended) the SHA-256,
 * in place. Returns the image as parsed (and now verified).
 */
export function resealEspImage(bytes: Uint8Array, options: Omit<ParseEspImageOptions, 'verifyIntegrity'> = {}): EspImage {
  const image = parseEspImage(bytes, { ...options, verifyIntegrity: false });
  bytes[image.checksumOffset] = espImageChecksum(bytes, image.segments);
  if (image.sha256Offset !== undefined) {
    bytes.set(createHash('sha256').update(bytes.subarray(0, image.sha256Offset)).digest(), image.sha256Offset);
  }
  return parseEspImage(bytes, options);
}

/** The segment whose data holds bytes [offset, offset+length), if one does entirely. */
export function segmentContaining(image: EspImage, offset: number, length: number): EspImageSegment | undefined {
  return image.segments.find((s) => offset >= s.dataOffset && offset + length <= s.dataOffset + s.length);
}
