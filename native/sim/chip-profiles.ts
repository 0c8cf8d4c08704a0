/**
 * Per chip family, the facts a host reads out of the ROM loader: the chip-detect magic word, the
 * eFuse words behind MAC / package / revision, where the SPI flash controller sits, what the ROM's
 * responses look like (status length, which commands it knows) and what it prints at boot.
 *
 * Sources: esptool `esptool/targets/esp32.py` and `loader.py`, esptool-js 0.7.0
 * `lib/targets/esp32.js` / `lib/esploader.js`, Espressif's serial-protocol documentation, and
 * published esptool `--trace` logs of real chips (e.g. READ_REG of EFUSE word 3 on an ESP32-D0WD
 * answering 0x0000A200).
 *
 * Only ESP32 is filled in. The shape carries what ESP32-S3 / ESP32-C3 (GET_SECURITY_INFO with a chip
 * id, different register map) and ESP8266 (2 status bytes, no deflate/MD5 in ROM, 74880-baud boot
 * log) need, so they can be added as further entries of `CHIP_PROFILES`.
 */
export type ChipFamily = 'ESP32';

/** Loader command opcodes (esptool names). */
export const OP = {
  FLASH_BEGIN: 0x02,
  FLASH_DATA: 0x03,
  FLASH_END: 0x04,
  MEM_BEGIN: 0x05,
  MEM_END: 0x06,
  MEM_DATA: 0x07,
  SYNC: 0x08,
  WRITE_REG: 0x09,
  READ_REG: 0x0a,
  SPI_SET_PARAMS: 0x0b,
  SPI_ATTACH: 0x0d,
  READ_FLASH_SLOW: 0x0e,
  CHANGE_BAUDRATE: 0x0f,
  FLASH_DEFL_BEGIN: 0x10,
  FLASH_DEFL_DATA: 0x11,
  FLASH_DEFL_END: 0x12,
  SPI_FLASH_MD5: 0x13,
  GET_SECURITY_INFO: 0x14,
  ERASE_FLASH: 0xd0,
  ERASE_REGION: 0xd1,
  READ_FLASH: 0xd2,
  RUN_USER_CODE: 0xd3,
} as const;

/** Where the SPI flash controller's user-command registers sit (esptool `SPI_*_OFFS`). */
export interface SpiControllerMap {
  base: number;
  cmdOffs: number;
  addrOffs: number;
  usrOffs: number;
  usr1Offs: number;
  usr2Offs: number;
  w0Offs: number;
  mosiDlenOffs: number;
  misoDlenOffs: number;
}

/** What makes one simulated chip unique. */
export interface ChipIdentity {
  mac: Uint8Array;
  /** Package version as eFuse encodes it (ESP32: 0 D0WDQ6, 1 D0WD, 2 D2WD, 4 U4WDH, 5 PICO-D4, 6 PICO-V3-02). */
  packageVersion: number;
  majorRevision: 0 | 1 | 2 | 3;
  minorRevision: number;
  singleCore: boolean;
}

/** Why the chip (re)started; each ROM prints its own name and code for it. */
export type ResetCause = 'power-on' | 'software' | 'brown-out';

export interface ChipProfile {
  family: ChipFamily;
  /** Chip name esptool-js uses (`CHIP_NAME`, and the key of its stub JSON). */
  esptoolName: string;
  /** Word at CHIP_DETECT_MAGIC_REG_ADDR (0x40001000). */
  chipDetectMagic: number;
  /** Chip id in the image extended header (bootloader refuses images built for another chip). */
  imageChipId: number;
  /**
   * Length of the status field that ends every ROM response. ESP32 and later send 4 bytes (status,
   * error, 2 reserved); ESP8266 sends 2. The stub always sends 2.
   */
  romStatusBytes: 2 | 4;
  /**
   * GET_SECURITY_INFO payload the ROM returns, or undefined when this ROM does not know the command
   * (ESP32, ESP8266): then it answers with its invalid-command reply and esptool falls back to the
   * magic register.
   */
  romSecurityInfo?: (identity: ChipIdentity) => Uint8Array;
  /** Whether the ROM loader must see SPI_ATTACH before it can reach the flash (ESP32: yes). */
  romNeedsSpiAttach: boolean;
  /**
   * Payload lengths the ROM accepts per command; any other length gets the ROM's "invalid message"
   * error (0x05). Commands missing here take any length.
   */
  romPayloadSizes: Partial<Record<number, readonly number[]>>;
  /** Commands the ROM does not implement (answered with the invalid-command reply). */
  romUnsupported: ReadonlySet<number>;
  spi: SpiControllerMap;
  uartClkdivReg: number;
  xtalHz: number;
  /** APB clock the ROM runs the UART from, and the one the stub switches to. */
  romApbHz: number;
  stubApbHz: number;
  /** Registers with fixed values for this identity (eFuse words, chip magic, date registers). */
  fixedRegisters(identity: ChipIdentity): Map<number, number>;
  /** Address of the GPIO strap register (reads the boot straps latched at reset). */
  gpioStrapReg: number;
  /** RAM the ROM accepts MEM_BEGIN into: [start, end) pairs. */
  ramRanges: readonly (readonly [number, number])[];
  /**
   * What the ROM prints on its console right after a reset, before anything else runs (ending with
   * `waiting for download` in download mode; esptool-js looks for `boot:0x..` and that phrase).
   */
  bootBanner(identity: ChipIdentity, cause: ResetCause, download: boolean): string;
  /** Value of the GPIO strap register for a download-mode or flash boot. */
  strapValue(download: boolean): number;
  /** Where the ROM looks for the second-stage bootloader. */
  bootloaderOffset: number;
  /** Default identity for a fresh board. */
  defaultIdentity: Omit<ChipIdentity, 'mac'>;
}

/**
 * CRC-8 (Dallas/Maxim, reflected polynomial 0x8C) over the six MAC bytes, as ESP32 eFuse BLK0 keeps
 * it next to the factory MAC (EFUSE_RD_MAC_CRC, word 2 bits 16..23).
 */
export function macCrc8(mac: Uint8Array): number {
  let crc = 0;
  for (const byte of mac) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x8c : crc >>> 1;
  }
  return crc;
}

const ESP32_EFUSE_BASE = 0x3ff5a000;
const ESP32_APB_CTL_DATE = 0x3ff6607c;

const ESP32: ChipProfile = {
  family: 'ESP32',
  esptoolName: 'ESP32',
  chipDetectMagic: 0x00f01d83,
  imageChipId: 0,
  romStatusBytes: 4,
  romNeedsSpiAttach: true,
  // esptool: "ESP32 and ESP8266 ROMs do not support extended parameter format" (FLASH_BEGIN and
  // FLASH_DEFL_BEGIN take 4 words, not 5) and "ESP32 ROM loader takes additional 'is legacy' arg"
  // (SPI_ATTACH takes 8 bytes). esptool-js 0.7.0 sends 5 words in FLASH_BEGIN and 4 bytes in
  // SPI_ATTACH to the ROM; the simulated ROM rejects both, so the station must not rely on them.
  romPayloadSizes: {
    [OP.SYNC]: [36],
    [OP.READ_REG]: [4],
    [OP.FLASH_BEGIN]: [16],
    [OP.FLASH_DEFL_BEGIN]: [16],
    [OP.FLASH_END]: [4],
    [OP.FLASH_DEFL_END]: [4],
    [OP.MEM_BEGIN]: [16],
    [OP.MEM_END]: [8],
    [OP.SPI_ATTACH]: [8],
    [OP.SPI_SET_PARAMS]: [24],
    [OP.CHANGE_BAUDRATE]: [8],
    [OP.SPI_FLASH_MD5]: [16],
    [OP.READ_FLASH_SLOW]: [8],
  },
  romUnsupported: new Set([
    OP.GET_SECURITY_INFO,
    OP.ERASE_FLASH,
    OP.ERASE_REGION,
    OP.READ_FLASH,
    OP.RUN_USER_CODE,
  ]),
  spi: {
    base: 0x3ff42000,
    cmdOffs: 0x00,
    addrOffs: 0x04,
    usrOffs: 0x1c,
    usr1Offs: 0x20,
    usr2Offs: 0x24,
    w0Offs: 0x80,
    mosiDlenOffs: 0x28,
    misoDlenOffs: 0x2c,
  },
  uartClkdivReg: 0x3ff40014,
  xtalHz: 40_000_000,
  // In download mode the CPU and APB run from the 40 MHz crystal; the stub boosts the clock to 80 MHz
  // APB and reprograms the UART divider (esp-flasher-stub main.c).
  romApbHz: 40_000_000,
  stubApbHz: 80_000_000,
  gpioStrapReg: 0x3ff44038,
  ramRanges: [
    [0x3ffae000, 0x40000000], // DRAM
    [0x40080000, 0x400c0000], // IRAM (incl. DIRAM_IRAM)
  ],
  bootloaderOffset: 0x1000,
  defaultIdentity: { packageVersion: 1, majorRevision: 3, minorRevision: 0, singleCore: false },
  fixedRegisters(identity) {
    const mac = identity.mac;
    const regs = new Map<number, number>();
    regs.set(0x40001000, this.chipDetectMagic);
    // BLK0 word 1: MAC bytes 2..5; word 2: CRC8 << 16 | MAC bytes 0..1 (esptool read_mac).
    const word1 = ((mac[2]! << 24) | (mac[3]! << 16) | (mac[4]! << 8) | mac[5]!) >>> 0;
    const word2 = ((macCrc8(mac) << 16) | (mac[0]! << 8) | mac[1]!) >>> 0;
    const rev = identity.majorRevision;
    // Word 3: bit 0 DIS_APP_CPU, bit 1 DIS_BT, bit 2 pkg bit 3, bits 9..11 pkg, bit 12 CPU_FREQ_LOW,
    // bit 13 CPU_FREQ_RATED, bit 15 CHIP_VER_REV1.
    let word3 = (1 << 13) | ((identity.packageVersion & 0x7) << 9) | (((identity.packageVersion >> 3) & 1) << 2);
    if (identity.singleCore) word3 |= 1;
    if (rev >= 1) word3 |= 1 << 15;
    // Word 4: bits 0..7 CK8M frequency, bits 8..12 ADC VRef calibration.
    const word4 = (0x0c << 8) | 0x50;
    // Word 5: bit 20 CHIP_VER_REV2, bits 24..25 minor revision.
    let word5 = (identity.minorRevision & 0x3) << 24;
    if (rev >= 2) word5 |= 1 << 20;
    const words = [0, word1, word2, word3 >>> 0, word4, word5 >>> 0, 0];
    words.forEach((w, i) => regs.set(ESP32_EFUSE_BASE + 4 * i, w));
    // APB_CTL_DATE bit 31 is the third revision bit (ECO3).
    regs.set(ESP32_APB_CTL_DATE, ((rev >= 3 ? 0x80000000 : 0) | 0x16042000) >>> 0);
    return regs;
  },
  bootBanner(identity, cause, download) {
    // ECO3 (v3.x) chips carry the 2019 ROM; earlier ones the 2016 ROM. EN is the chip's power-on
    // reset, so an auto-reset pulse prints POWERON_RESET too.
    const romDate = identity.majorRevision >= 3 ? 'ets Jul 29 2019 12:21:46' : 'ets Jun  8 2016 00:22:57';
    const rst = { 'power-on': 'rst:0x1 (POWERON_RESET)', software: 'rst:0xc (SW_CPU_RESET)', 'brown-out': 'rst:0xf (RTCWDT_BROWN_OUT_RESET)' }[cause];
    const boot = download ? 'boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))' : 'boot:0x13 (SPI_FAST_FLASH_BOOT)';
    return `${romDate}\r\n\r\n${rst},${boot}\r\n${download ? 'waiting for download\r\n' : ''}`;
  },
  strapValue(download) {
    return download ? 0x03 : 0x13;
  },
};

export const CHIP_PROFILES: Readonly<Record<ChipFamily, ChipProfile>> = { ESP32 };

export function chipProfile(family: ChipFamily): ChipProfile {
  return CHIP_PROFILES[family];
}

/** `aa:bb:cc:dd:ee:ff` -> 6 bytes. */
export function parseMac(text: string): Uint8Array {
  const parts = text.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) {
    throw new RangeError(`not a MAC address: ${text}`);
  }
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

export function formatMac(mac: Uint8Array): string {
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join(':');
}
