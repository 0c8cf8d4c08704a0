import type { BoardWiring, ChipIdentity, ChipProfile } from './chip-profiles.js';
import type { FlashMemory } from './flash-memory.js';

/**
 * The registers a host reaches through READ_REG / WRITE_REG: fixed eFuse and ID words, the UART clock
 * divider, the boot strap latch, and the SPI flash controller's user-command block, which esptool
 * drives to read the JEDEC flash ID (`runSpiflashCommand`: program USR/USR1/USR2/MISO_DLEN/W0, set
 * SPI_CMD_USR in SPI_CMD_REG, poll until the hardware clears it, read W0). Any other address reads
 * back what was last written to it, or 0.
 */
const SPI_CMD_USR = 1 << 18;
const SPI_USR_COMMAND = 1 << 31;
const SPI_USR_ADDR = 1 << 30;
const SPI_USR_MISO = 1 << 28;
const SPI_USR_MOSI = 1 << 27;
const SPI_W_REG_COUNT = 16;
/** ESP8266: MISO and MOSI bit lengths share the USR1 register with the address length. */
const ESP8266_MISO_BITLEN_SHIFT = 8;
const ESP8266_MOSI_BITLEN_SHIFT = 17;
const ESP8266_BITLEN_MASK = 0x1ff;

/** JEDEC commands the simulated flash chip understands. */
const SPIFLASH = {
  WRSR: 0x01,
  READ: 0x03,
  WRDI: 0x04,
  RDSR: 0x05,
  WREN: 0x06,
  RDSR3: 0x15,
  RDSR2: 0x35,
  SFDP: 0x5a,
  RDID: 0x9f,
  RELEASE_POWER_DOWN: 0xab,
} as const;

export interface RegisterFileContext {
  profile: ChipProfile;
  identity: ChipIdentity;
  wiring: BoardWiring;
  flash: FlashMemory;
  /** JEDEC manufacturer and memory-type bytes; capacity is derived from the flash size. */
  jedecManufacturer: number;
  jedecMemoryType: number;
  /** Current UART baud and APB clock, for the clock divider register. */
  uartBaud(): number;
  apbHz(): number;
  /** Strap value latched at the last reset. */
  strap(): number;
  /** False while the ROM has not attached the SPI flash: the bus then reads all ones. */
  flashAttached(): boolean;
}

export class RegisterFile {
  private readonly fixed: Map<number, number>;
  private readonly written = new Map<number, number>();
  private statusRegister = 0;

  constructor(private readonly ctx: RegisterFileContext) {
    this.fixed = ctx.profile.fixedRegisters(ctx.identity, ctx.wiring);
  }

  read(addr: number): number {
    const a = addr >>> 0;
    const { profile } = this.ctx;
    if (a === profile.uartClkdivReg) {
      // Integer divider in bits 0..19, fraction (1/16ths) in bits 20..23.
      const div16 = Math.round((this.ctx.apbHz() * 16) / this.ctx.uartBaud());
      return (((div16 & 0xf) << 20) | ((div16 >> 4) & 0xfffff)) >>> 0;
    }
    if (a === profile.gpioStrapReg) return this.ctx.strap();
    const fixed = this.fixed.get(a);
    if (fixed !== undefined) return fixed;
    return this.written.get(a) ?? 0;
  }

  /** WRITE_REG semantics: new = (value & mask) | (old & ~mask). */
  write(addr: number, value: number, mask = 0xffffffff): void {
    const a = addr >>> 0;
    if (this.fixed.has(a)) return; // eFuse read registers and ROM words ignore writes
    const old = this.written.get(a) ?? 0;
    const merged = ((value & mask) | (old & ~mask)) >>> 0;
    this.written.set(a, merged);
    const spi = this.ctx.profile.spi;
    if (a === spi.base + spi.cmdOffs && merged & SPI_CMD_USR) {
      this.runUserCommand();
      // The controller clears SPI_CMD_USR when the transaction is done; esptool polls for that.
      this.written.set(a, (merged & ~SPI_CMD_USR) >>> 0);
    }
  }

  private spiReg(offs: number): number {
    return this.written.get((this.ctx.profile.spi.base + offs) >>> 0) ?? 0;
  }

  private runUserCommand(): void {
    const spi = this.ctx.profile.spi;
    const usr = this.spiReg(spi.usrOffs);
    const usr2 = this.spiReg(spi.usr2Offs);
    if (!(usr & SPI_USR_COMMAND)) return;
    const command = usr2 & 0xff;
    const usr1 = this.spiReg(spi.usr1Offs);
    const misoLen =
      spi.misoDlenOffs !== undefined ? this.spiReg(spi.misoDlenOffs) & 0xffffff : (usr1 >>> ESP8266_MISO_BITLEN_SHIFT) & ESP8266_BITLEN_MASK;
    const mosiLen =
      spi.mosiDlenOffs !== undefined ? this.spiReg(spi.mosiDlenOffs) & 0xffffff : (usr1 >>> ESP8266_MOSI_BITLEN_SHIFT) & ESP8266_BITLEN_MASK;
    const misoBits = usr & SPI_USR_MISO ? misoLen + 1 : 0;
    const mosiBits = usr & SPI_USR_MOSI ? mosiLen + 1 : 0;
    const mosi = new Uint8Array(Math.ceil(mosiBits / 8));
    for (let i = 0; i < mosi.length; i++) mosi[i] = (this.spiReg(spi.w0Offs + (i & ~3)) >>> ((i & 3) * 8)) & 0xff;
    const addrLenBits = usr & SPI_USR_ADDR ? ((usr1 >>> 26) & 0x3f) + 1 : 0;
    // Where the controller sends the address from its top bits, esptool shifts it there (SPI_ADDR_REG_MSB).
    const rawAddr = this.spiReg(spi.addrOffs);
    const addr = addrLenBits === 0 ? 0 : spi.addrRegMsb ? rawAddr >>> (32 - addrLenBits) : rawAddr & (2 ** addrLenBits - 1);
    const misoBytes = Math.min(Math.ceil(misoBits / 8), SPI_W_REG_COUNT * 4);
    const miso = this.ctx.flashAttached()
      ? this.flashCommand(command, mosi, addr, misoBytes)
      : new Uint8Array(misoBytes).fill(0xff);
    // Bits arrive MSB first: a length that is not whole bytes keeps only the top bits of the last one.
    const partialBits = misoBits % 8;
    if (partialBits > 0 && miso.length > 0) miso[miso.length - 1] = miso[miso.length - 1]! & ((0xff << (8 - partialBits)) & 0xff);
    // MISO bytes land in W0.. little-endian; bytes beyond the read length keep their old value.
    for (let i = 0; i < miso.length; i++) {
      const regAddr = (spi.base + spi.w0Offs + (i & ~3)) >>> 0;
      const shift = (i & 3) * 8;
      const old = this.written.get(regAddr) ?? 0;
      this.written.set(regAddr, ((old & ~(0xff << shift)) | (miso[i]! << shift)) >>> 0);
    }
  }

  private flashCommand(command: number, _mosi: Uint8Array, addr: number, misoBytes: number): Uint8Array {
    const out = new Uint8Array(misoBytes).fill(0xff);
    const { flash } = this.ctx;
    switch (command) {
      case SPIFLASH.RDID: {
        const id = [this.ctx.jedecManufacturer, this.ctx.jedecMemoryType, Math.log2(flash.size) & 0xff];
        for (let i = 0; i < out.length; i++) out[i] = id[i % 3]!;
        return out;
      }
      case SPIFLASH.RDSR:
        out.fill(this.statusRegister & 0xff);
        return out;
      case SPIFLASH.RDSR2:
      case SPIFLASH.RDSR3:
        out.fill(0);
        return out;
      case SPIFLASH.WREN:
        this.statusRegister |= 0x02;
        return out;
      case SPIFLASH.WRDI:
      case SPIFLASH.WRSR:
        this.statusRegister &= ~0x02;
        return out;
      case SPIFLASH.READ:
        if (flash.contains(addr, misoBytes)) return flash.read(addr, misoBytes);
        return out;
      case SPIFLASH.SFDP:
      case SPIFLASH.RELEASE_POWER_DOWN:
      default:
        return out;
    }
  }
}
