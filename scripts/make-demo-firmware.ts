import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPartitionTableBinary, parsePartitionTableCsv } from '../core/payload/partition-table.js';
import { buildAppDesc, buildImage } from '../native/sim/app-image.js';

/**
 * The demo product's ESP32 firmware set, `resources/firmware/demo-esp32/`:
 *   bootloader.bin  a stand-in second-stage bootloader (valid image: ESP32 chip id, DIO, 40 MHz,
 *                   4 MB, SHA-256 appended), about 20 KB, for flash offset 0x1000;
 *   partitions.bin  the table from partitions.csv (ESP-IDF's single-factory-app layout: nvs at
 *                   0x9000 for 0x6000 bytes, phy_init, factory app at 0x10000), for 0x8000;
 *   app.bin         a stand-in application of about 192 KB for 0x10000: `esp_app_desc_t`
 *                   (project "demo-thermostat", version 1.0.0), classic Edgent's stock `blnkopt`
 *                   tag (so `flashline fw patch` has something to fill), and deterministic filler
 *                   that compresses about as well as real code.
 * None of it runs on a real chip; the virtual board checks these images the way the ROM and the
 * bootloader would, boots "the app", and reads its token from NVS.
 *
 * Run `npx tsx scripts/make-demo-firmware.ts` to rewrite the files; a test checks that the
 * committed files are what this script makes.
 */
export const DEMO_FIRMWARE_DIR = fileURLToPath(new URL('../resources/firmware/demo-esp32', import.meta.url));
export const DEMO_FIRMWARE_VERSION = '1.0.0';

const ESP32_CHIP_ID = 0;
const FLASH_MODE_DIO = 2;
/** 4 MB (0x2_), 40 MHz (0x_0). */
const FLASH_SIZE_FREQ_4MB_40M = 0x20;

/** A small xorshift PRNG, so the filler is the same on every run. */
function filler(seed: number, length: number, randomShare: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  // Runs of "instructions" from a small vocabulary with random bytes mixed in, like machine code.
  const vocabulary = Array.from({ length: 64 }, () => [next() & 0xff, next() & 0xff, next() & 0xff]);
  for (let i = 0; i < length; ) {
    if ((next() % 1000) / 1000 < randomShare) {
      out[i++] = next() & 0xff;
    } else {
      for (const b of vocabulary[next() % vocabulary.length]!) if (i < length) out[i++] = b;
    }
  }
  return out;
}

/** Classic Edgent_ESP32's stock tag: "blnkopt", ssid = 4 x BLYNK_PARAM_PLACEHOLDER_64, host, port. */
export function stockBlnkoptTag(host = 'blynk.cloud', port = 443): Buffer {
  return Buffer.from(`blnkopt\0ssid\0${'Placeholder'.repeat(24)}\0host\0${host}\0port\0${port}\0\0\0`, 'latin1');
}

export interface DemoFirmware {
  bootloader: Uint8Array;
  partitionsCsv: string;
  partitions: Uint8Array;
  app: Uint8Array;
}

export function buildDemoFirmware(partitionsCsv = readFileSync(join(DEMO_FIRMWARE_DIR, 'partitions.csv'), 'utf8')): DemoFirmware {
  const bootloader = buildImage({
    chipId: ESP32_CHIP_ID,
    entry: 0x40080400,
    flashMode: FLASH_MODE_DIO,
    flashSizeFreq: FLASH_SIZE_FREQ_4MB_40M,
    hashAppended: true,
    segments: [
      { loadAddress: 0x3fff0030, data: Buffer.concat([Buffer.from('flashline demo bootloader\0', 'latin1'), filler(11, 2_000, 0.3)]) },
      { loadAddress: 0x40078000, data: filler(12, 12_000, 0.35) },
      { loadAddress: 0x40080400, data: filler(13, 6_000, 0.35) },
    ],
  });
  const partitions = buildPartitionTableBinary(parsePartitionTableCsv(partitionsCsv).entries);
  const rodata = Buffer.concat([
    buildAppDesc({ version: DEMO_FIRMWARE_VERSION, projectName: 'demo-thermostat', idfVersion: 'v5.1.4' }),
    Buffer.from('Blynk.Edgent demo thermostat\0', 'latin1'),
    stockBlnkoptTag(),
    filler(21, 24_000, 0.2),
  ]);
  const app = buildImage({
    chipId: ESP32_CHIP_ID,
    entry: 0x40081000,
    flashMode: FLASH_MODE_DIO,
    flashSizeFreq: FLASH_SIZE_FREQ_4MB_40M,
    hashAppended: true,
    segments: [
      { loadAddress: 0x3f400020, data: rodata },
      { loadAddress: 0x3ffb0000, data: filler(22, 8_000, 0.5) },
      { loadAddress: 0x40080000, data: filler(23, 40_000, 0.4) },
      { loadAddress: 0x400d0020, data: filler(24, 124_000, 0.4) },
    ],
  });
  return { bootloader, partitionsCsv, partitions, app };
}

export function writeDemoFirmware(dir = DEMO_FIRMWARE_DIR): DemoFirmware {
  const fw = buildDemoFirmware();
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'bootloader.bin'), fw.bootloader);
  writeFileSync(join(dir, 'partitions.bin'), fw.partitions);
  writeFileSync(join(dir, 'app.bin'), fw.app);
  return fw;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const fw = writeDemoFirmware();
  process.stdout.write(
    `Wrote ${DEMO_FIRMWARE_DIR}: bootloader.bin ${fw.bootloader.length} B, partitions.bin ${fw.partitions.length} B, app.bin ${fw.app.length} B\n`,
  );
}
