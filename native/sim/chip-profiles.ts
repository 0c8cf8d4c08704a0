/**
 * Per chip family, the facts a host reads out of the ROM loader: the chip-detect magic word, the
 * eFuse words behind MAC / package / revision, where the SPI flash controller sits, what the ROM's
 * responses look like (status length, which commands it knows, GET_SECURITY_INFO) and what it prints
 * at boot.
 *
 * Sources: esptool v5.3 `esptool/targets/{esp32,esp32s3,esp32c3,esp8266}.py` and `loader.py`,
 * esptool-js 0.7.0 `lib/targets/*.js` and `lib/esploader.js` (detectChip, magic2Chip), Espressif's
 * serial-protocol documentation, and boot logs of real chips quoted in public issue threads
 * (e.g. `ESP-ROM:esp32c3-api1-20210207 … rst:0x15 (USB_UART_CHIP_RESET),boot:0x4 (DOWNLOAD(USB/UART0/1))`,
 * READ_REG of ESP32 EFUSE word 3 on an ESP32-D0WD answering 0x0000A200).
 *
 * How a host tells the families apart (both esptool and esptool-js): GET_SECURITY_INFO first; the
 * ESP32-S3 and ESP32-C3 ROMs answer it with 20 bytes whose word at offset 12 is the chip id (9, 5);
 * the ESP32 and ESP8266 ROMs do not know the command (invalid-command reply), so the host falls back
 * to the magic word at 0x40001000.
 */
export type ChipFamily = 'ESP32' | 'ESP32-S3' | 'ESP32-C3' | 'ESP8266';

export const CHIP_FAMILIES: readonly ChipFamily[] = ['ESP32', 'ESP32-S3', 'ESP32-C3', 'ESP8266'];

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
  /**
   * ESP32 and later have separate MOSI/MISO bit-length registers. The ESP8266 has none: both
   * lengths live in USR1 (MISO bits - 1 at bit 8, MOSI bits - 1 at bit 17), next to the address length.
   */
  mosiDlenOffs?: number;
  misoDlenOffs?: number;
  /** Whether the address register is read from its MSB (esptool `SPI_ADDR_REG_MSB`; ESP32-C3: no). */
  addrRegMsb: boolean;
}

/** What makes one simulated chip unique. */
export interface ChipIdentity {
  mac: Uint8Array;
  /**
   * Package version as eFuse encodes it. ESP32: 0 D0WDQ6, 1 D0WD, 2 D2WD, 4 U4WDH, 5 PICO-D4,
   * 6 PICO-V3-02. ESP32-S3: 0 QFN56, 1 PICO-1. ESP32-C3: 0 QFN32, 1 ESP8685, 2 AZ, 3 ESP8686.
   * ESP8266: unused (0 = ESP8266EX).
   */
  packageVersion: number;
  majorRevision: 0 | 1 | 2 | 3;
  minorRevision: number;
  singleCore: boolean;
}

/**
 * Why the chip (re)started; each ROM prints its own name and code for it. `pin`: the EN/RST pin
 * (auto-reset circuit or the RST button); `usb`: the USB-Serial/JTAG peripheral's chip reset.
 */
export type ResetCause = 'power-on' | 'pin' | 'software' | 'brown-out' | 'usb';

/** How the ROM reaches the SPI flash: after SPI_ATTACH (ESP32 family) or on FLASH_BEGIN (ESP8266). */
export type RomFlashAttach = 'spi-attach' | 'flash-begin';

/** Image format the ROM and bootloader check: ESP32 (24-byte header with chip id) or ESP8266 (8-byte). */
export type ImageFormat = 'esp32' | 'esp8266';

/** Board facts the fixed registers depend on beyond the chip identity. */
export interface BoardWiring {
  /** The host talks to the chip's own USB-Serial/JTAG peripheral (not a USB-UART bridge). */
  usbSerialJtag: boolean;
}

export interface ChipProfile {
  family: ChipFamily;
  /** Chip name esptool-js uses (`CHIP_NAME`, and the key of its stub JSON). */
  esptoolName: string;
  /** Word at CHIP_DETECT_MAGIC_REG_ADDR (0x40001000) for this identity. */
  chipDetectMagic(identity: ChipIdentity): number;
  /** Chip id in the image extended header and in GET_SECURITY_INFO (ESP8266: none). */
  imageChipId: number | undefined;
  imageFormat: ImageFormat;
  /**
   * Length of the status field that ends every ROM response. ESP32 and later send 4 bytes (status,
   * error, 2 reserved); ESP8266 sends 2. The stub always sends 2.
   */
  romStatusBytes: 2 | 4;
  /**
   * GET_SECURITY_INFO payload the ROM returns, or undefined when this ROM does not know the command
   * (ESP32, ESP8266): then it answers with its invalid-command reply and the host falls back to the
   * magic register.
   */
  romSecurityInfo?: (identity: ChipIdentity) => Uint8Array;
  romFlashAttach: RomFlashAttach;
  /**
   * The ESP8266 ROM's SPIEraseArea bug: asked to erase N sectors from sector S, it erases
   * N + min(16 - S % 16, N) sectors (the head up to the next 64 KB block twice over). esptool's
   * `ESP8266ROM.get_erase_size` sends a smaller size so that the ROM ends up erasing what is needed.
   */
  romEraseHeadTwice: boolean;
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
  /** Clock the ROM runs the UART from, and the one the stub switches to. */
  romApbHz: number;
  stubApbHz: number;
  /** Baud rate of the ROM's boot messages (ESP8266 with a 26 MHz crystal: 74880). */
  bootLogBaud: number;
  /**
   * The ROM's own idea of its crystal frequency after calibrating the 8 MHz RC oscillator against
   * it, when the ROM derives CHANGE_BAUDRATE dividers from it (ESP32 only). The ROM then runs at
   * `requested × xtalHz / romCalibratedXtalHz`; esptool reads the calibration (RTCCALICFG1 and eFuse
   * CK8M_FREQ, `get_rom_cal_crystal_freq`) and sends a "false" baud that makes up for it.
   */
  romCalibratedXtalHz?: number;
  /** Registers with fixed values for this identity (eFuse words, chip magic, date registers). */
  fixedRegisters(identity: ChipIdentity, wiring: BoardWiring): Map<number, number>;
  /** Address of the GPIO strap register (reads the boot straps latched at reset). */
  gpioStrapReg: number;
  /** RAM the ROM accepts MEM_BEGIN into: [start, end) pairs. */
  ramRanges: readonly (readonly [number, number])[];
  /**
   * What the ROM prints on its console right after a reset, before anything else runs (ending with
   * `waiting for download` in download mode on ESP32 and later; esptool looks for `boot:0x..` and
   * that phrase).
   */
  bootBanner(identity: ChipIdentity, cause: ResetCause, download: boolean): string;
  /** Value of the GPIO strap register for a download-mode or flash boot. */
  strapValue(download: boolean): number;
  /** Where the ROM looks for the second-stage bootloader. */
  bootloaderOffset: number;
  /** Whether the chip has a USB-Serial/JTAG peripheral a board can expose instead of a bridge. */
  hasUsbSerialJtag: boolean;
  /** An Espressif OUI for generated MACs. */
  macOui: readonly [number, number, number];
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

const CHIP_DETECT_MAGIC_REG = 0x40001000;

// ------------------------------------------------------------------------------------------ ESP32

const ESP32_EFUSE_BASE = 0x3ff5a000;
const ESP32_APB_CTL_DATE = 0x3ff6607c;
/** TIMG0 RTCCALICFG1: the ROM's RC-oscillator calibration result, value in bits 7..31. */
const ESP32_RTCCALICFG1 = 0x3ff5f06c;
/** eFuse CK8M_FREQ (word 4 bits 0..7): the 8 MHz oscillator's factory-measured frequency code. */
const ESP32_CK8M_FREQ_CODE = 0x50;
/**
 * RTC calibration count the ROM measured at boot. esptool: ROM crystal = cali × 15625 × CK8M / 40;
 * 1293 × 15625 × 80 / 40 = 40.40625 MHz, a ROM that believes its 40 MHz crystal runs 1 % fast (the
 * CK8M drift esptool's ESP32 `change_baud` works around).
 */
const ESP32_ROM_RTC_CALI = 1293;

/** Loader commands only the stub knows (every ROM answers them with its invalid-command reply). */
const STUB_ONLY = [OP.ERASE_FLASH, OP.ERASE_REGION, OP.READ_FLASH, OP.RUN_USER_CODE] as const;

const ESP32: ChipProfile = {
  family: 'ESP32',
  esptoolName: 'ESP32',
  chipDetectMagic: () => 0x00f01d83,
  imageChipId: 0,
  imageFormat: 'esp32',
  romStatusBytes: 4,
  romFlashAttach: 'spi-attach',
  romEraseHeadTwice: false,
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
  romUnsupported: new Set([OP.GET_SECURITY_INFO, ...STUB_ONLY]),
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
    addrRegMsb: true,
  },
  uartClkdivReg: 0x3ff40014,
  xtalHz: 40_000_000,
  // In download mode the CPU and APB run from the 40 MHz crystal; the stub boosts the clock to 80 MHz
  // APB and reprograms the UART divider (esp-flasher-stub main.c).
  romApbHz: 40_000_000,
  stubApbHz: 80_000_000,
  bootLogBaud: 115_200,
  romCalibratedXtalHz: (ESP32_ROM_RTC_CALI * 15625 * ESP32_CK8M_FREQ_CODE) / 40,
  gpioStrapReg: 0x3ff44038,
  ramRanges: [
    [0x3ffae000, 0x40000000], // DRAM
    [0x40080000, 0x400c0000], // IRAM (incl. DIRAM_IRAM)
  ],
  bootloaderOffset: 0x1000,
  hasUsbSerialJtag: false,
  macOui: [0x24, 0x0a, 0xc4],
  defaultIdentity: { packageVersion: 1, majorRevision: 3, minorRevision: 0, singleCore: false },
  fixedRegisters(identity) {
    const mac = identity.mac;
    const regs = new Map<number, number>();
    regs.set(CHIP_DETECT_MAGIC_REG, this.chipDetectMagic(identity));
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
    const word4 = (0x0c << 8) | ESP32_CK8M_FREQ_CODE;
    // Word 5: bit 20 CHIP_VER_REV2, bits 24..25 minor revision.
    let word5 = (identity.minorRevision & 0x3) << 24;
    if (rev >= 2) word5 |= 1 << 20;
    const words = [0, word1, word2, word3 >>> 0, word4, word5 >>> 0, 0];
    words.forEach((w, i) => regs.set(ESP32_EFUSE_BASE + 4 * i, w));
    // APB_CTL_DATE bit 31 is the third revision bit (ECO3).
    regs.set(ESP32_APB_CTL_DATE, ((rev >= 3 ? 0x80000000 : 0) | 0x16042000) >>> 0);
    regs.set(ESP32_RTCCALICFG1, (ESP32_ROM_RTC_CALI << 7) >>> 0);
    return regs;
  },
  bootBanner(identity, cause, download) {
    // ECO3 (v3.x) chips carry the 2019 ROM; earlier ones the 2016 ROM. EN is the chip's power-on
    // reset, so an auto-reset pulse prints POWERON_RESET too.
    const romDate = identity.majorRevision >= 3 ? 'ets Jul 29 2019 12:21:46' : 'ets Jun  8 2016 00:22:57';
    const rst = {
      'power-on': 'rst:0x1 (POWERON_RESET)',
      pin: 'rst:0x1 (POWERON_RESET)',
      usb: 'rst:0x1 (POWERON_RESET)',
      software: 'rst:0xc (SW_CPU_RESET)',
      'brown-out': 'rst:0xf (RTCWDT_BROWN_OUT_RESET)',
    }[cause];
    const boot = download ? 'boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))' : 'boot:0x13 (SPI_FAST_FLASH_BOOT)';
    return `${romDate}\r\n\r\n${rst},${boot}\r\n${download ? 'waiting for download\r\n' : ''}`;
  },
  strapValue(download) {
    return download ? 0x03 : 0x13;
  },
};

// ------------------------------------------------------------- ESP32-S3 and ESP32-C3 (shared parts)

/** 20-byte GET_SECURITY_INFO answer: flags u32, flash_crypt_cnt u8, 7 key purposes, chip id u32, API version u32. */
function securityInfo(chipId: number, apiVersion: number): Uint8Array {
  const out = new Uint8Array(20);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0, true); // no secure boot, no secure download mode, JTAG enabled
  // flash_crypt_cnt 0 and key purposes 0 (USER/EMPTY): a factory-fresh chip.
  view.setUint32(12, chipId, true);
  view.setUint32(16, apiVersion, true);
  return out;
}

/** ROM command set of the ESP32-S2-and-later loaders: like ESP32, plus GET_SECURITY_INFO and 5-word FLASH_BEGIN. */
const RISCV_ERA_PAYLOAD_SIZES: ChipProfile['romPayloadSizes'] = {
  ...ESP32.romPayloadSizes,
  // esptool and esptool-js send the 5th word ("encrypted write") to these ROMs; the ROM reads it
  // when present (accepting the 4-word form too is a choice of the simulation).
  [OP.FLASH_BEGIN]: [16, 20],
  [OP.FLASH_DEFL_BEGIN]: [16, 20],
  [OP.GET_SECURITY_INFO]: [0],
};

/** eFuse BLOCK1 (SYS_DATA) words as ESP32-S3 and ESP32-C3 lay them out at EFUSE_BASE + 0x44. */
function block1Words(identity: ChipIdentity, extra: { blkVersionMinor: number }): number[] {
  const mac = identity.mac;
  const minor = identity.minorRevision & 0xf;
  // Word 0: MAC bytes 2..5; word 1 bits 0..15: MAC bytes 0..1 (esptool read_mac).
  const word0 = ((mac[2]! << 24) | (mac[3]! << 16) | (mac[4]! << 8) | mac[5]!) >>> 0;
  const word1 = ((mac[0]! << 8) | mac[1]!) >>> 0;
  // Word 3: bits 18..20 WAFER_VERSION_MINOR_LO, 21..23 PKG_VERSION, 24..26 BLK_VERSION_MINOR,
  // 27..29 FLASH_CAP (0: no in-package flash; the module's flash is external).
  const word3 = (((minor & 0x7) << 18) | ((identity.packageVersion & 0x7) << 21) | ((extra.blkVersionMinor & 0x7) << 24)) >>> 0;
  // Word 4: bits 0..2 flash vendor (0 = none in package), 3..4 PSRAM cap (S3).
  const word4 = 0;
  // Word 5: bit 23 WAFER_VERSION_MINOR_HI, bits 24..25 WAFER_VERSION_MAJOR.
  const word5 = ((((minor >> 3) & 1) << 23) | ((identity.majorRevision & 0x3) << 24)) >>> 0;
  return [word0, word1, 0, word3, word4, word5];
}

/** `ESP-ROM:` style banner of the ESP32-S2-and-later ROMs. */
function espRomBanner(
  romLine: string,
  codes: { download: string; flash: string; savedPc: string },
  cause: ResetCause,
  download: boolean,
): string {
  const rst = {
    'power-on': 'rst:0x1 (POWERON)',
    pin: 'rst:0x1 (POWERON)',
    software: 'rst:0xc (RTC_SW_CPU_RST)',
    'brown-out': 'rst:0xf (BROWNOUT_RST)',
    usb: 'rst:0x15 (USB_UART_CHIP_RESET)',
  }[cause];
  // A reset that is not a power-on reset prints where the CPU was.
  const savedPc = cause === 'power-on' || cause === 'pin' ? '' : `Saved PC:${codes.savedPc}\r\n`;
  const boot = download ? codes.download : codes.flash;
  return `${romLine}\r\n${rst},${boot}\r\n${savedPc}${download ? 'waiting for download\r\n' : ''}`;
}

// --------------------------------------------------------------------------------------- ESP32-S3

const ESP32S3_EFUSE_BASE = 0x60007000;

const ESP32S3: ChipProfile = {
  family: 'ESP32-S3',
  esptoolName: 'ESP32-S3',
  chipDetectMagic: () => 0x00000009,
  imageChipId: 9,
  imageFormat: 'esp32',
  romStatusBytes: 4,
  romSecurityInfo: () => securityInfo(9, 0),
  romFlashAttach: 'spi-attach',
  romEraseHeadTwice: false,
  romPayloadSizes: RISCV_ERA_PAYLOAD_SIZES,
  romUnsupported: new Set(STUB_ONLY),
  spi: {
    base: 0x60002000,
    cmdOffs: 0x00,
    addrOffs: 0x04,
    usrOffs: 0x18,
    usr1Offs: 0x1c,
    usr2Offs: 0x20,
    w0Offs: 0x58,
    mosiDlenOffs: 0x24,
    misoDlenOffs: 0x28,
    addrRegMsb: true,
  },
  uartClkdivReg: 0x60000014,
  xtalHz: 40_000_000,
  romApbHz: 40_000_000,
  stubApbHz: 80_000_000,
  bootLogBaud: 115_200,
  gpioStrapReg: 0x60004038,
  ramRanges: [
    [0x3fc88000, 0x3fd00000], // DRAM
    [0x40370000, 0x403e0000], // IRAM
  ],
  bootloaderOffset: 0x0,
  hasUsbSerialJtag: true,
  macOui: [0x7c, 0xdf, 0xa1],
  // ESP32-S3 (QFN56) v0.2, as on ESP32-S3-WROOM-1 modules.
  defaultIdentity: { packageVersion: 0, majorRevision: 0, minorRevision: 2, singleCore: false },
  fixedRegisters(identity) {
    const regs = new Map<number, number>();
    regs.set(CHIP_DETECT_MAGIC_REG, this.chipDetectMagic(identity));
    block1Words(identity, { blkVersionMinor: 1 }).forEach((w, i) => regs.set(ESP32S3_EFUSE_BASE + 0x44 + 4 * i, w));
    // BLOCK2 word 4 bits 0..1: BLK_VERSION_MAJOR (esptool's ECO0 workaround reads it).
    regs.set(ESP32S3_EFUSE_BASE + 0x5c + 4 * 4, 1);
    return regs;
  },
  bootBanner(_identity, cause, download) {
    return espRomBanner(
      'ESP-ROM:esp32s3-20210327\r\nBuild:Mar 27 2021',
      { download: 'boot:0x0 (DOWNLOAD(USB/UART0))', flash: 'boot:0x8 (SPI_FAST_FLASH_BOOT)', savedPc: '0x40041a79' },
      cause,
      download,
    );
  },
  // Bit 3 is GPIO0 (esptool GPIO_STRAP_SPI_BOOT_MASK); GPIO46 and GPIO45 read low.
  strapValue(download) {
    return download ? 0x00 : 0x08;
  },
};

// --------------------------------------------------------------------------------------- ESP32-C3

const ESP32C3_EFUSE_BASE = 0x60008800;

const ESP32C3: ChipProfile = {
  family: 'ESP32-C3',
  esptoolName: 'ESP32-C3',
  // esptool-js magic2Chip: 0x6921506f (ECO1+2), 0x1b31506f (ECO3), 0x4881606f (ECO6), 0x4361606f (ECO7).
  chipDetectMagic(identity) {
    if (identity.majorRevision >= 1) return identity.minorRevision >= 1 ? 0x4361606f : 0x4881606f;
    return identity.minorRevision >= 3 ? 0x1b31506f : 0x6921506f;
  },
  imageChipId: 5,
  imageFormat: 'esp32',
  romStatusBytes: 4,
  romSecurityInfo: () => securityInfo(5, 0),
  romFlashAttach: 'spi-attach',
  romEraseHeadTwice: false,
  romPayloadSizes: RISCV_ERA_PAYLOAD_SIZES,
  romUnsupported: new Set(STUB_ONLY),
  spi: {
    base: 0x60002000,
    cmdOffs: 0x00,
    addrOffs: 0x04,
    usrOffs: 0x18,
    usr1Offs: 0x1c,
    usr2Offs: 0x20,
    w0Offs: 0x58,
    mosiDlenOffs: 0x24,
    misoDlenOffs: 0x28,
    addrRegMsb: false,
  },
  uartClkdivReg: 0x60000014,
  xtalHz: 40_000_000,
  romApbHz: 40_000_000,
  stubApbHz: 80_000_000,
  bootLogBaud: 115_200,
  gpioStrapReg: 0x60004038,
  ramRanges: [
    [0x3fc80000, 0x3fce0000], // DRAM
    [0x4037c000, 0x403e0000], // IRAM
  ],
  bootloaderOffset: 0x0,
  hasUsbSerialJtag: true,
  macOui: [0x84, 0xf7, 0x03],
  // ESP32-C3 (QFN32) v0.4, as on ESP32-C3-MINI-1 modules.
  defaultIdentity: { packageVersion: 0, majorRevision: 0, minorRevision: 4, singleCore: true },
  fixedRegisters(identity) {
    const regs = new Map<number, number>();
    regs.set(CHIP_DETECT_MAGIC_REG, this.chipDetectMagic(identity));
    block1Words(identity, { blkVersionMinor: 1 }).forEach((w, i) => regs.set(ESP32C3_EFUSE_BASE + 0x44 + 4 * i, w));
    return regs;
  },
  bootBanner(_identity, cause, download) {
    return espRomBanner(
      'ESP-ROM:esp32c3-api1-20210207\r\nBuild:Feb  7 2021',
      { download: 'boot:0x4 (DOWNLOAD(USB/UART0/1))', flash: 'boot:0xc (SPI_FAST_FLASH_BOOT)', savedPc: '0x400462dc' },
      cause,
      download,
    );
  },
  // Bit 3 is GPIO9 (low = download), bit 2 GPIO8 (pulled high on every board).
  strapValue(download) {
    return download ? 0x04 : 0x0c;
  },
};

// ---------------------------------------------------------------------------------------- ESP8266

const ESP8266_OTP_BASE = 0x3ff00050;
/** OUIs the ESP8266 ROM derives from a flag in OTP word 1 when OTP word 3 holds no OUI. */
const ESP8266_FLAG_OUIS: readonly (readonly [number, number, number])[] = [
  [0x18, 0xfe, 0x34],
  [0xac, 0xd0, 0x74],
];

const ESP8266: ChipProfile = {
  family: 'ESP8266',
  esptoolName: 'ESP8266',
  chipDetectMagic: () => 0xfff0c101,
  imageChipId: undefined,
  imageFormat: 'esp8266',
  romStatusBytes: 2,
  romFlashAttach: 'flash-begin',
  romEraseHeadTwice: true,
  romPayloadSizes: {
    [OP.SYNC]: [36],
    [OP.READ_REG]: [4],
    [OP.FLASH_BEGIN]: [16],
    [OP.FLASH_END]: [4],
    [OP.MEM_BEGIN]: [16],
    [OP.MEM_END]: [8],
  },
  // The ESP8266 ROM only knows FLASH_*, MEM_*, SYNC, WRITE_REG and READ_REG (esptool: "Commands
  // supported by ESP32 and later chips ROM bootloader (or -8266 w/ stub)" for the rest).
  romUnsupported: new Set([
    OP.SPI_SET_PARAMS,
    OP.SPI_ATTACH,
    OP.READ_FLASH_SLOW,
    OP.CHANGE_BAUDRATE,
    OP.FLASH_DEFL_BEGIN,
    OP.FLASH_DEFL_DATA,
    OP.FLASH_DEFL_END,
    OP.SPI_FLASH_MD5,
    OP.GET_SECURITY_INFO,
    ...STUB_ONLY,
  ]),
  spi: {
    base: 0x60000200,
    cmdOffs: 0x00,
    addrOffs: 0x04,
    usrOffs: 0x1c,
    usr1Offs: 0x20,
    usr2Offs: 0x24,
    w0Offs: 0x40,
    addrRegMsb: true,
  },
  uartClkdivReg: 0x60000014,
  // 26 MHz crystal; the UART runs from twice that (esptool XTAL_CLK_DIVIDER = 2), which is also why
  // the ROM's boot message comes out at 115200 * 26 / 40 = 74880 baud.
  xtalHz: 26_000_000,
  romApbHz: 52_000_000,
  stubApbHz: 80_000_000,
  bootLogBaud: 74_880,
  gpioStrapReg: 0x60000318,
  ramRanges: [
    [0x3ffe8000, 0x40000000], // DRAM
    [0x40100000, 0x40110000], // IRAM
  ],
  bootloaderOffset: 0x0,
  hasUsbSerialJtag: false,
  macOui: [0x18, 0xfe, 0x34],
  defaultIdentity: { packageVersion: 0, majorRevision: 0, minorRevision: 0, singleCore: true },
  fixedRegisters(identity) {
    const mac = identity.mac;
    const regs = new Map<number, number>();
    regs.set(CHIP_DETECT_MAGIC_REG, this.chipDetectMagic(identity));
    // OTP words (esptool ESP8266ROM.read_mac): word 0 bits 24..31 = MAC[5]; word 1 bits 8..15 =
    // MAC[3], bits 0..7 = MAC[4], bits 16..23 = OUI flag (0: 18:fe:34, 1: ac:d0:74) used when word 3
    // holds no OUI of its own. esptool's chip_id is MAC[3..5] read from the same words.
    const flag = ESP8266_FLAG_OUIS.findIndex((oui) => oui.every((b, i) => b === mac[i]));
    const word0 = (mac[5]! << 24) >>> 0;
    const word1 = (((flag < 0 ? 0 : flag) << 16) | (mac[3]! << 8) | mac[4]!) >>> 0;
    const word3 = flag < 0 ? ((mac[0]! << 16) | (mac[1]! << 8) | mac[2]!) >>> 0 : 0;
    [word0, word1, 0, word3].forEach((w, i) => regs.set(ESP8266_OTP_BASE + 4 * i, w));
    return regs;
  },
  bootBanner(_identity, cause, download) {
    // rst cause 1 = power-on, 2 = external (RST pin); the ROM has no distinct code for the others.
    const code = cause === 'power-on' ? 1 : 2;
    return `\r\n ets Jan  8 2013,rst cause:${code}, boot mode:(${download ? '1,7' : '3,6'})\r\n\r\n`;
  },
  // GPIO_STRAPPING (bits 16..18): GPIO15, GPIO0, GPIO2 -> 1 = UART download, 3 = flash.
  strapValue(download) {
    return (download ? 1 : 3) << 16;
  },
};

export const CHIP_PROFILES: Readonly<Record<ChipFamily, ChipProfile>> = {
  ESP32,
  'ESP32-S3': ESP32S3,
  'ESP32-C3': ESP32C3,
  ESP8266,
};

export function chipProfile(family: ChipFamily): ChipProfile {
  return CHIP_PROFILES[family];
}

/** `esp32s3`, `ESP32-S3`, `esp32-s3` -> `ESP32-S3` (esptool's `--chip` spelling accepted). */
export function parseChipFamily(text: string): ChipFamily | undefined {
  const key = text.toUpperCase().replace(/[^A-Z0-9]/g, '');
  return CHIP_FAMILIES.find((f) => f.replace(/[^A-Z0-9]/g, '') === key);
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
