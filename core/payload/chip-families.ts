/**
 * Chip families as ESP Web Tools names them in a manifest (`chipFamily`), with what an application
 * image says about its chip (esptool `targets/*.py`: IMAGE_CHIP_ID, FLASH_SIZES, FLASH_FREQUENCY,
 * BOOTLOADER_FLASH_OFFSET). ESP8266 images have no chip id (no extended header).
 */
export const CHIP_FAMILIES = [
  'ESP32',
  'ESP32-S2',
  'ESP32-S3',
  'ESP32-C2',
  'ESP32-C3',
  'ESP32-C5',
  'ESP32-C6',
  'ESP32-C61',
  'ESP32-H2',
  'ESP32-P4',
  'ESP8266',
] as const;

export type ChipFamilyName = (typeof CHIP_FAMILIES)[number];

export interface ChipImageFacts {
  family: ChipFamilyName;
  /** `esp_image_header_t.chip_id`; undefined for the ESP8266 (no extended header). */
  imageChipId: number | undefined;
  /** Where the ROM looks for the second-stage bootloader. */
  bootloaderOffset: number;
  /** Header byte 3, high nibble -> flash size name. */
  flashSizes: Readonly<Record<number, string>>;
  /** Header byte 3, low nibble -> flash frequency name. */
  flashFrequencies: Readonly<Record<number, string>>;
}

const ESP32_SIZES = { 0x0: '1MB', 0x1: '2MB', 0x2: '4MB', 0x3: '8MB', 0x4: '16MB', 0x5: '32MB', 0x6: '64MB', 0x7: '128MB' };
const ESP32_FREQS = { 0xf: '80m', 0x0: '40m', 0x1: '26m', 0x2: '20m' };

function esp32Like(family: ChipFamilyName, imageChipId: number, bootloaderOffset: number, flashFrequencies: Record<number, string> = ESP32_FREQS): ChipImageFacts {
  return { family, imageChipId, bootloaderOffset, flashSizes: ESP32_SIZES, flashFrequencies };
}

export const CHIP_IMAGE_FACTS: Readonly<Record<ChipFamilyName, ChipImageFacts>> = {
  ESP32: esp32Like('ESP32', 0, 0x1000),
  'ESP32-S2': esp32Like('ESP32-S2', 2, 0x1000),
  'ESP32-S3': esp32Like('ESP32-S3', 9, 0x0),
  'ESP32-C2': esp32Like('ESP32-C2', 12, 0x0, { 0xf: '60m', 0x0: '30m', 0x1: '20m', 0x2: '15m' }),
  'ESP32-C3': esp32Like('ESP32-C3', 5, 0x0),
  'ESP32-C5': esp32Like('ESP32-C5', 23, 0x2000, { 0xf: '80m', 0x0: '40m', 0x2: '20m' }),
  'ESP32-C6': esp32Like('ESP32-C6', 13, 0x0, { 0x0: '80m', 0x2: '20m' }),
  'ESP32-C61': esp32Like('ESP32-C61', 20, 0x0, { 0xf: '80m', 0x0: '40m', 0x2: '20m' }),
  'ESP32-H2': esp32Like('ESP32-H2', 16, 0x0, { 0xf: '48m', 0x0: '24m', 0x1: '16m', 0x2: '12m' }),
  'ESP32-P4': esp32Like('ESP32-P4', 18, 0x2000),
  ESP8266: {
    family: 'ESP8266',
    imageChipId: undefined,
    bootloaderOffset: 0x0,
    flashSizes: { 0x0: '512KB', 0x1: '256KB', 0x2: '1MB', 0x3: '2MB', 0x4: '4MB', 0x5: '2MB-c1', 0x6: '4MB-c1', 0x8: '8MB', 0x9: '16MB' },
    flashFrequencies: { 0xf: '80m', 0x0: '40m', 0x1: '26m', 0x2: '20m' },
  },
};

/** The family an ESP32-series image's chip id names, if we know it. */
export function familyForImageChipId(chipId: number): ChipFamilyName | undefined {
  return Object.values(CHIP_IMAGE_FACTS).find((f) => f.imageChipId === chipId)?.family;
}

/** SPI flash modes as the image header stores them (byte 2). */
export const FLASH_MODES: Readonly<Record<number, 'qio' | 'qout' | 'dio' | 'dout'>> = { 0: 'qio', 1: 'qout', 2: 'dio', 3: 'dout' };

/** Bytes of a flash size name ("4MB", "512KB"). */
export function flashSizeBytes(name: string): number | undefined {
  const m = /^(\d+)(KB|MB)(?:-c1)?$/.exec(name);
  if (!m) return undefined;
  return Number(m[1]) * (m[2] === 'KB' ? 1024 : 1024 * 1024);
}
