import { buildAppDesc, buildImage } from './app-image.js';
import type { ChipProfile } from './chip-profiles.js';
import type { FlashMemory } from './flash-memory.js';
import { buildPartitionTable, defaultPartitions, PARTITION_TABLE_OFFSET } from './partition-table.js';

/**
 * What a module carries when it leaves its maker with the product's shared firmware already on it:
 * a second-stage bootloader at 0x1000, the ESP-IDF single-factory-app partition table at 0x8000 and an
 * application at 0x10000 whose `esp_app_desc_t` names the firmware version. The images are tiny
 * stand-ins, but valid (checksum, SHA-256, chip id), so the virtual board's boot path checks them the
 * way the real ROM and bootloader would, and a later flash of real images replaces them.
 */
export const APP_OFFSET = 0x10000;

export interface FactoryFirmwareOptions {
  firmwareVersion: string;
  projectName?: string;
}

export function buildFactoryImages(profile: ChipProfile, flashSize: number, options: FactoryFirmwareOptions) {
  const chipId = profile.imageChipId ?? 0;
  const format = profile.imageFormat;
  const bootloader = buildImage({
    chipId,
    format,
    entry: 0x400805f0,
    hashAppended: false,
    segments: [{ loadAddress: 0x3fff0030, data: Buffer.from('flashline virtual bootloader\0', 'latin1') }],
  });
  const app = buildImage({
    chipId,
    format,
    entry: 0x40081000,
    segments: [
      {
        loadAddress: 0x3f400020,
        data: buildAppDesc({ version: options.firmwareVersion, projectName: options.projectName ?? 'edgent-esp32' }),
      },
      { loadAddress: 0x40080000, data: Buffer.from('flashline virtual application\0', 'latin1') },
    ],
  });
  const partitionTable = buildPartitionTable(defaultPartitions(flashSize));
  return { bootloader, partitionTable, app };
}

export function installFactoryFirmware(flash: FlashMemory, profile: ChipProfile, options: FactoryFirmwareOptions): void {
  const images = buildFactoryImages(profile, flash.size, options);
  flash.load(profile.bootloaderOffset, images.bootloader);
  flash.load(PARTITION_TABLE_OFFSET, images.partitionTable);
  flash.load(APP_OFFSET, images.app);
}
