import type { ChipIdentity, ChipProfile } from './chip-profiles.js';
import { OP } from './chip-profiles.js';
import { FLASH_SECTOR_SIZE, type FlashMemory } from './flash-memory.js';
import type { RegisterFile } from './register-file.js';
import { StreamingInflate } from './streaming-inflate.js';
import type { StubImage } from './stub-image.js';

/**
 * The serial loader a chip runs in download mode: first the ROM loader, then, once a host has
 * uploaded and started the flasher stub, the stub. One `LoaderSession` lives from a reset into
 * download mode until the next reset.
 *
 * Request frame: `00 op size:u16 checksum:u32 data[size]`. Response frame:
 * `01 op size:u16 value:u32 data status`. How the two loaders differ, as modelled here:
 *
 * | | ROM (ESP32 family) | stub (esp-flasher-stub, shipped by esptool-js 0.7.0) |
 * |---|---|---|
 * | status | 4 bytes `status, error, 0, 0` (ESP8266: 2 bytes); status 1 = failed | 2 bytes, big-endian code, 0xC1 00 = bad checksum |
 * | `value` | last READ_REG result (SYNC sets 0x20120707), echoed in every reply | 0 except READ_REG |
 * | SYNC | 8 replies, value non-zero | 8 replies, value 0 (how esptool spots a running stub) |
 * | unknown command | the invalid-message reply, 8 times, under another opcode | one 0xC3 00 reply |
 * | GET_SECURITY_INFO | ESP32-S3/C3: 20 bytes with the chip id; ESP32, ESP8266: unknown command | chip's answer, or 0xFF 00 (not implemented) |
 * | FLASH_DATA | checks length, checksum, sequence; writes and verifies, then replies | checks length and checksum, replies, then writes; a write error comes back on the NEXT command |
 * | SPI_FLASH_MD5 | 32 lowercase hex ASCII characters (not in the ESP8266 ROM) | 16 raw bytes |
 * | flash access | after SPI_ATTACH (8-byte payload); ESP8266: after FLASH_BEGIN | always |
 * | erase | whole erase size at FLASH_BEGIN (ESP8266: plus its head-sector bug) | sector by sector just ahead of the writes |
 *
 * Facts whose exact value is not documented and was chosen here (kept in one place so a trace from a
 * real chip can correct them): the ROM's error code for a wrong sequence number or a wrong payload
 * length (0x05, "format of the received message is invalid"), for flash access before SPI_ATTACH
 * (0x06), and the opcode field of the ROM's invalid-command reply (0x00; esptool and esptool-js only
 * rely on it differing from the request's).
 */

export const ROM_ERROR = {
  INVALID_FORMAT: 0x05,
  RESULT_WRONG: 0x06,
  CHECKSUM: 0x07,
  FLASH_WRITE: 0x08,
  FLASH_READ: 0x09,
  FLASH_READ_LENGTH: 0x0a,
  DEFLATE: 0x0b,
  DEFLATE_ADLER: 0x0c,
  RAM_SIZE: 0x0e,
  RAM_ADDRESS: 0x0f,
} as const;

/** esp-flasher-stub `esp_response_code`, sent big-endian. */
export const STUB_STATUS = {
  SUCCESS: 0x0000,
  BAD_DATA_LEN: 0xc000,
  BAD_DATA_CHECKSUM: 0xc100,
  BAD_BLOCKSIZE: 0xc200,
  INVALID_COMMAND: 0xc300,
  FAILED_SPI_OP: 0xc400,
  NOT_IN_FLASH_MODE: 0xc600,
  INFLATE_ERROR: 0xc700,
  NOT_ENOUGH_DATA: 0xc800,
  TOO_MUCH_DATA: 0xc900,
  CMD_NOT_IMPLEMENTED: 0xff00,
} as const;

export const SYNC_PAYLOAD = Uint8Array.from([0x07, 0x07, 0x12, 0x20, ...new Array<number>(32).fill(0x55)]);
const ROM_SYNC_VALUE = 0x20120707;
const SYNC_REPLY_COUNT = 8;
const ROM_INVALID_REPLY_COUNT = 8;
const ROM_INVALID_REPLY_OPCODE = 0x00;
const DATA_HEADER_SIZE = 16;
const ROM_READ_SLOW_BLOCK = 64;
const STUB_READ_PACKET_MAX = 4096;
const CHECKSUM_SEED = 0xef;
const KNOWN_OPS: ReadonlySet<number> = new Set(Object.values(OP));
/** The ESP8266 ROM's erase routine works in 64 KB blocks of 16 sectors. */
const ESP8266_SECTORS_PER_BLOCK = 16;

export type LoaderKind = 'rom' | 'stub';

/** Thrown out of `nextFrame` when the chip resets; ends the session quietly. */
export class LoaderAborted extends Error {
  constructor() {
    super('loader session ended by a reset');
    this.name = 'LoaderAborted';
  }
}

export type CorruptionPoint = 'wire' | 'flash';

/**
 * Which RAM images the simulated ROM runs as the flasher stub on MEM_END. `known`: only the stubs it
 * was given (byte for byte: a stub whose upload went wrong must not pass for one). `any`: also any
 * other image that arrived completely (every MEM_BEGIN region filled) and whose entry point lies in
 * it; the simulation cannot execute code, so it assumes such an image is an esptool-protocol
 * flasher stub (e.g. the one esptool.py uploads, which differs from esptool-js's).
 */
export type StubPolicy = 'known' | 'any';

export interface LoaderHost {
  profile: ChipProfile;
  identity: ChipIdentity;
  flash: FlashMemory;
  registers: RegisterFile;
  /** Stub images this ROM recognises (esptool-js's, once loaded). */
  stubs: readonly StubImage[];
  stubPolicy: StubPolicy;
  /** Told when an image ran as the stub under the `any` policy without being a known one. */
  onUnknownStub?(entry: number): void;
  nextFrame(): Promise<Uint8Array>;
  sendFrame(payload: Uint8Array): void;
  /** New UART baud, effective once everything queued so far has been sent. */
  changeBaud(baud: number): void;
  /** FLASH_END "run user code": leave the loader and start the application from flash. */
  runUserCode(): void;
  /** FLASH_END "reboot": software reset. */
  softReset(): void;
  /** The loader switched personality (ROM -> stub) or stopped answering (jumped into unknown code). */
  onLoaderChange(kind: LoaderKind | 'hung'): void;
  /** Fault hook: may return a corrupted copy of a data block's payload. */
  corruptBlock?(op: number, seq: number, point: CorruptionPoint, payload: Uint8Array): Uint8Array;
}

interface FlashWrite {
  compressed: boolean;
  /** Next flash address to write. */
  writePos: number;
  blockSize: number;
  nextSeq: number;
  /** Stub: uncompressed bytes still expected (may go negative when a stream overshoots). */
  remaining: number;
  /** Stub: erase just ahead of writes, within [eraseNext, eraseEnd). */
  eraseNext: number;
  eraseEnd: number;
  inflate?: StreamingInflate;
}

interface MemWrite {
  writePos: number;
  remaining: number;
  nextSeq: number;
}

type Outcome = { kind: 'ok'; value?: number; data?: Uint8Array } | { kind: 'error'; code: number };

const ok = (data?: Uint8Array, value?: number): Outcome => ({
  kind: 'ok',
  ...(data ? { data } : {}),
  ...(value !== undefined ? { value } : {}),
});
const fail = (code: number): Outcome => ({ kind: 'error', code });

function u32(data: Uint8Array, offset: number): number {
  return (data[offset]! | (data[offset + 1]! << 8) | (data[offset + 2]! << 16) | (data[offset + 3]! << 24)) >>> 0;
}

function xorChecksum(data: Uint8Array): number {
  let c = CHECKSUM_SEED;
  for (const byte of data) c ^= byte;
  return c;
}

/**
 * Bytes the ROM erases for FLASH_BEGIN(erase size, offset). Normally the size asked for; with the
 * ESP8266 ROM's bug, N requested sectors from sector S become N + min(16 - S % 16, N) sectors.
 */
export function romEraseBytes(headTwice: boolean, offset: number, eraseSize: number): number {
  if (!headTwice || eraseSize === 0) return eraseSize;
  const sectors = Math.ceil(eraseSize / FLASH_SECTOR_SIZE);
  const startSector = Math.floor(offset / FLASH_SECTOR_SIZE);
  const head = Math.min(ESP8266_SECTORS_PER_BLOCK - (startSector % ESP8266_SECTORS_PER_BLOCK), sectors);
  return (sectors + head) * FLASH_SECTOR_SIZE;
}

export class LoaderSession {
  private kindNow: LoaderKind = 'rom';
  private romValue = 0;
  private flashAttached = false;
  private flashWrite: FlashWrite | null = null;
  private memWrite: MemWrite | null = null;
  private readonly ram: { addr: number; data: Uint8Array }[] = [];
  /** Every MEM_BEGIN region of this session and how much of it arrived. */
  private readonly memRegions: { start: number; size: number; received: number }[] = [];
  /** Stub: an error from the previous command's post-processing, reported instead of the next command. */
  private carried = STUB_STATUS.SUCCESS as number;
  private halted = false;

  constructor(private readonly host: LoaderHost) {}

  get kind(): LoaderKind {
    return this.kindNow;
  }

  /** Whether the ROM loader can reach the flash (the stub always can). */
  get spiAttached(): boolean {
    return this.kindNow === 'stub' || this.flashAttached;
  }

  /** Serve commands until the chip resets (`nextFrame` rejects) or jumps into code we cannot run. */
  async run(): Promise<void> {
    try {
      while (!this.halted) {
        const frame = await this.host.nextFrame();
        if (this.kindNow === 'rom') await this.handleRom(frame);
        else await this.handleStub(frame);
      }
    } catch (err) {
      if (!(err instanceof LoaderAborted)) throw err;
    } finally {
      this.flashWrite?.inflate?.close();
    }
  }

  // ---------------------------------------------------------------- ROM

  private romReply(op: number, outcome: Outcome): void {
    const statusLen = this.host.profile.romStatusBytes;
    const data = outcome.kind === 'ok' ? (outcome.data ?? new Uint8Array(0)) : new Uint8Array(0);
    if (outcome.kind === 'ok' && outcome.value !== undefined) this.romValue = outcome.value >>> 0;
    const frame = new Uint8Array(8 + data.length + statusLen);
    const view = new DataView(frame.buffer);
    frame[0] = 0x01;
    frame[1] = op;
    view.setUint16(2, data.length + statusLen, true);
    view.setUint32(4, this.romValue, true);
    frame.set(data, 8);
    if (outcome.kind === 'error') {
      frame[8 + data.length] = 1;
      frame[9 + data.length] = outcome.code;
    }
    this.host.sendFrame(frame);
  }

  private romInvalidReply(): void {
    const statusLen = this.host.profile.romStatusBytes;
    const frame = new Uint8Array(8 + statusLen);
    frame[0] = 0x01;
    frame[1] = ROM_INVALID_REPLY_OPCODE;
    new DataView(frame.buffer).setUint16(2, statusLen, true);
    new DataView(frame.buffer).setUint32(4, this.romValue, true);
    frame[8] = 1;
    frame[9] = ROM_ERROR.INVALID_FORMAT;
    for (let i = 0; i < ROM_INVALID_REPLY_COUNT; i++) this.host.sendFrame(frame);
  }

  private async handleRom(frame: Uint8Array): Promise<void> {
    if (frame.length < 8 || frame[0] !== 0x00) return;
    const op = frame[1]!;
    const size = frame[2]! | (frame[3]! << 8);
    const checksum = u32(frame, 4);
    const data = frame.subarray(8);
    const { profile } = this.host;
    if (!KNOWN_OPS.has(op) || profile.romUnsupported.has(op)) {
      this.romInvalidReply();
      return;
    }
    if (op === OP.SYNC) {
      // The ROM uses SYNC's 0x55 run to lock its baud rate; anything else is not a SYNC to it.
      if (data.length !== SYNC_PAYLOAD.length || !data.every((b, i) => b === SYNC_PAYLOAD[i])) return;
      this.romValue = ROM_SYNC_VALUE;
      for (let i = 0; i < SYNC_REPLY_COUNT; i++) this.romReply(op, ok());
      return;
    }
    const sizes = profile.romPayloadSizes[op];
    if (data.length !== size || (sizes && !sizes.includes(size))) {
      this.romReply(op, fail(ROM_ERROR.INVALID_FORMAT));
      return;
    }
    switch (op) {
      case OP.READ_REG:
        this.romReply(op, ok(undefined, this.host.registers.read(u32(data, 0))));
        return;
      case OP.WRITE_REG:
        this.romReply(op, this.writeRegs(data) ? ok() : fail(ROM_ERROR.INVALID_FORMAT));
        return;
      case OP.SPI_SET_PARAMS:
        this.romReply(op, ok());
        return;
      case OP.SPI_ATTACH:
        this.flashAttached = true;
        this.romReply(op, ok());
        return;
      case OP.CHANGE_BAUDRATE: {
        const requested = u32(data, 0);
        if (requested === 0) return this.romReply(op, fail(ROM_ERROR.INVALID_FORMAT));
        // The ESP32 ROM computes the divider from its RC-calibrated idea of the crystal: the line
        // ends up off by the calibration error unless the host compensated (esptool does).
        const { romCalibratedXtalHz, xtalHz } = profile;
        const baud = romCalibratedXtalHz ? Math.round((requested * xtalHz) / romCalibratedXtalHz) : requested;
        // The reply still goes out at the old rate; the switch follows.
        this.romReply(op, ok());
        this.host.changeBaud(baud);
        return;
      }
      case OP.FLASH_BEGIN:
      case OP.FLASH_DEFL_BEGIN:
        this.romReply(op, this.romFlashBegin(data, op === OP.FLASH_DEFL_BEGIN));
        return;
      case OP.FLASH_DATA:
      case OP.FLASH_DEFL_DATA:
        this.romReply(op, await this.romFlashData(op, data, checksum));
        return;
      case OP.FLASH_END:
      case OP.FLASH_DEFL_END: {
        this.endFlashWrite();
        const runUserCode = u32(data, 0) !== 0;
        this.romReply(op, ok());
        if (runUserCode) this.host.runUserCode();
        else this.host.softReset();
        return;
      }
      case OP.MEM_BEGIN:
        this.romReply(op, this.memBegin(data, true));
        return;
      case OP.MEM_DATA:
        this.romReply(op, this.romMemData(data, checksum));
        return;
      case OP.MEM_END: {
        if (!this.memWrite) return this.romReply(op, fail(ROM_ERROR.RESULT_WRONG));
        this.memWrite = null;
        const stay = u32(data, 0) !== 0;
        this.romReply(op, ok());
        if (!stay) this.jump(u32(data, 4));
        return;
      }
      case OP.SPI_FLASH_MD5: {
        const addr = u32(data, 0);
        const len = u32(data, 4);
        if (!this.spiAttached) return this.romReply(op, fail(ROM_ERROR.RESULT_WRONG));
        if (!this.host.flash.contains(addr, len)) return this.romReply(op, fail(ROM_ERROR.FLASH_READ));
        this.romReply(op, ok(Buffer.from(this.host.flash.md5Hex(addr, len), 'latin1')));
        return;
      }
      case OP.GET_SECURITY_INFO: {
        // Only ROMs that know the command get here (ESP32-S3, ESP32-C3: 20 bytes with the chip id).
        const info = profile.romSecurityInfo?.(this.host.identity);
        if (!info) return this.romInvalidReply();
        this.romReply(op, ok(info));
        return;
      }
      case OP.READ_FLASH_SLOW: {
        const addr = u32(data, 0);
        const len = u32(data, 4);
        if (len > ROM_READ_SLOW_BLOCK) return this.romReply(op, fail(ROM_ERROR.FLASH_READ_LENGTH));
        if (!this.spiAttached) return this.romReply(op, fail(ROM_ERROR.RESULT_WRONG));
        if (!this.host.flash.contains(addr, len)) return this.romReply(op, fail(ROM_ERROR.FLASH_READ));
        // The ROM always answers with its whole 64-byte buffer.
        const block = new Uint8Array(ROM_READ_SLOW_BLOCK);
        block.set(this.host.flash.read(addr, len));
        this.romReply(op, ok(block));
        return;
      }
      default:
        this.romInvalidReply();
    }
  }

  private romFlashBegin(data: Uint8Array, compressed: boolean): Outcome {
    const eraseSize = u32(data, 0);
    const blockSize = u32(data, 8);
    const offset = u32(data, 12);
    const { profile, flash } = this.host;
    // The ESP8266 ROM has no SPI_ATTACH command: FLASH_BEGIN attaches the flash (esptool's
    // ESP8266ROM.flash_spi_attach is a FLASH_BEGIN(0, 0)).
    if (profile.romFlashAttach === 'flash-begin') this.flashAttached = true;
    if (!this.spiAttached) return fail(ROM_ERROR.RESULT_WRONG);
    this.endFlashWrite();
    if (!flash.contains(offset, eraseSize)) return fail(ROM_ERROR.RESULT_WRONG);
    // The ROM erases the whole region up front, in whole sectors (erase size is rounded up by the
    // host for compressed writes: esptool-js sends ceil(size / 16 KB) * 16 KB).
    flash.eraseRange(offset, Math.min(romEraseBytes(profile.romEraseHeadTwice, offset, eraseSize), flash.size - offset));
    this.flashWrite = {
      compressed,
      writePos: offset,
      blockSize,
      nextSeq: 0,
      remaining: eraseSize,
      eraseNext: offset,
      eraseEnd: offset,
      ...(compressed ? { inflate: new StreamingInflate() } : {}),
    };
    return ok();
  }

  private async romFlashData(op: number, data: Uint8Array, checksum: number): Promise<Outcome> {
    const write = this.flashWrite;
    if (!write || write.compressed !== (op === OP.FLASH_DEFL_DATA)) return fail(ROM_ERROR.RESULT_WRONG);
    if (data.length < DATA_HEADER_SIZE) return fail(ROM_ERROR.INVALID_FORMAT);
    const dataLen = u32(data, 0);
    const seq = u32(data, 4);
    let payload: Uint8Array = data.subarray(DATA_HEADER_SIZE);
    if (dataLen !== payload.length) return fail(ROM_ERROR.INVALID_FORMAT);
    payload = this.host.corruptBlock?.(op, seq, 'wire', payload) ?? payload;
    if (xorChecksum(payload) !== (checksum & 0xff)) return fail(ROM_ERROR.CHECKSUM);
    if (seq !== write.nextSeq) return fail(ROM_ERROR.INVALID_FORMAT);
    let bytes = payload;
    if (write.inflate) {
      try {
        bytes = await write.inflate.push(payload);
      } catch (err) {
        return fail(StreamingInflate.isChecksumError(err) ? ROM_ERROR.DEFLATE_ADLER : ROM_ERROR.DEFLATE);
      }
    }
    bytes = this.host.corruptBlock?.(op, seq, 'flash', bytes) ?? bytes;
    const writable = Math.max(0, Math.min(bytes.length, this.host.flash.size - write.writePos));
    if (writable < bytes.length && bytes.subarray(writable).some((b) => b !== 0xff)) return fail(ROM_ERROR.RESULT_WRONG);
    const chunk = bytes.subarray(0, writable);
    this.host.flash.program(write.writePos, chunk);
    // The ROM reads the block back and compares; bytes that were not erased first show up here.
    const readBack = this.host.flash.read(write.writePos, chunk.length);
    write.writePos += chunk.length;
    write.nextSeq++;
    if (!Buffer.from(readBack).equals(Buffer.from(chunk))) return fail(ROM_ERROR.FLASH_WRITE);
    return ok();
  }

  private romMemData(data: Uint8Array, checksum: number): Outcome {
    const mem = this.memWrite;
    if (!mem) return fail(ROM_ERROR.RESULT_WRONG);
    if (data.length < DATA_HEADER_SIZE) return fail(ROM_ERROR.INVALID_FORMAT);
    const dataLen = u32(data, 0);
    const seq = u32(data, 4);
    const payload = data.subarray(DATA_HEADER_SIZE);
    if (dataLen !== payload.length) return fail(ROM_ERROR.INVALID_FORMAT);
    if (xorChecksum(payload) !== (checksum & 0xff)) return fail(ROM_ERROR.CHECKSUM);
    if (seq !== mem.nextSeq) return fail(ROM_ERROR.INVALID_FORMAT);
    if (payload.length > mem.remaining) return fail(ROM_ERROR.RAM_SIZE);
    this.noteRam(mem.writePos, payload);
    mem.writePos += payload.length;
    mem.remaining -= payload.length;
    mem.nextSeq++;
    return ok();
  }

  private memBegin(data: Uint8Array, rom: boolean): Outcome {
    const size = u32(data, 0);
    const offset = u32(data, 12);
    if (rom) {
      const range = this.host.profile.ramRanges.find(([start, end]) => offset >= start && offset < end);
      if (!range) return fail(ROM_ERROR.RAM_ADDRESS);
      if (offset + size > range[1]) return fail(ROM_ERROR.RAM_SIZE);
    }
    this.memWrite = { writePos: offset, remaining: size, nextSeq: 0 };
    this.memRegions.push({ start: offset, size, received: 0 });
    return ok();
  }

  private noteRam(addr: number, data: Uint8Array): void {
    this.ram.push({ addr, data: data.slice() });
    const region = this.memRegions[this.memRegions.length - 1];
    if (region) region.received += data.length;
  }

  /** MEM_END with an entry point: run the stub if that is what was loaded, else hang. */
  private jump(entry: number): void {
    const known = this.host.stubs.some(
      (stub) => entry === stub.entry && this.ramHolds(stub.textStart, stub.text) && this.ramHolds(stub.dataStart, stub.data),
    );
    const complete =
      this.memRegions.length > 0 &&
      this.memRegions.every((r) => r.received === r.size) &&
      this.memRegions.some((r) => entry >= r.start && entry < r.start + r.size);
    const runs = known || (this.host.stubPolicy === 'any' && complete);
    if (runs && !known) this.host.onUnknownStub?.(entry);
    if (runs) {
      this.kindNow = 'stub';
      this.endFlashWrite();
      this.memWrite = null;
      this.carried = STUB_STATUS.SUCCESS;
      this.host.onLoaderChange('stub');
      // The stub's greeting: the only frame a loader ever sends unasked.
      this.host.sendFrame(Buffer.from('OHAI', 'latin1'));
      return;
    }
    this.halted = true;
    this.host.onLoaderChange('hung');
  }

  private ramHolds(addr: number, expected: Uint8Array): boolean {
    if (expected.length === 0) return true;
    const image = new Uint8Array(expected.length);
    const seen = new Uint8Array(expected.length);
    for (const block of this.ram) {
      for (let i = 0; i < block.data.length; i++) {
        const at = block.addr + i - addr;
        if (at >= 0 && at < image.length) {
          image[at] = block.data[i]!;
          seen[at] = 1;
        }
      }
    }
    return seen.every((s) => s === 1) && Buffer.from(image).equals(Buffer.from(expected));
  }

  private writeRegs(data: Uint8Array): boolean {
    if (data.length === 0 || data.length % 16 !== 0) return false;
    for (let off = 0; off < data.length; off += 16) {
      this.host.registers.write(u32(data, off), u32(data, off + 4), u32(data, off + 8));
    }
    return true;
  }

  private endFlashWrite(): void {
    this.flashWrite?.inflate?.close();
    this.flashWrite = null;
  }

  // ---------------------------------------------------------------- stub

  private stubReply(op: number, status: number, data?: Uint8Array, value = 0): void {
    const body = status === STUB_STATUS.SUCCESS && data ? data : new Uint8Array(0);
    const frame = new Uint8Array(8 + body.length + 2);
    const view = new DataView(frame.buffer);
    frame[0] = 0x01;
    frame[1] = op;
    view.setUint16(2, body.length + 2, true);
    view.setUint32(4, value >>> 0, true);
    frame.set(body, 8);
    view.setUint16(8 + body.length, status, false);
    this.host.sendFrame(frame);
  }

  private async handleStub(frame: Uint8Array): Promise<void> {
    if (frame.length < 8) return;
    const op = frame[1]!;
    if (frame[0] !== 0x00) return this.stubReply(op, STUB_STATUS.INVALID_COMMAND);
    const size = frame[2]! | (frame[3]! << 8);
    if (frame.length !== size + 8) return this.stubReply(op, STUB_STATUS.BAD_DATA_LEN);
    if (this.carried !== STUB_STATUS.SUCCESS) {
      // A failed post-process of the previous command: report it and skip this command.
      const code = this.carried;
      this.carried = STUB_STATUS.SUCCESS;
      return this.stubReply(op, code);
    }
    const checksum = u32(frame, 4);
    const data = frame.subarray(8);
    let post: (() => Promise<number>) | undefined;
    let status: number = STUB_STATUS.SUCCESS;
    let replyData: Uint8Array | undefined;
    let value = 0;
    const { flash } = this.host;

    switch (op) {
      case OP.SYNC:
        if (size !== SYNC_PAYLOAD.length) {
          status = STUB_STATUS.BAD_DATA_LEN;
          break;
        }
        for (let i = 0; i < SYNC_REPLY_COUNT - 1; i++) this.stubReply(op, STUB_STATUS.SUCCESS);
        break;
      case OP.FLASH_BEGIN:
      case OP.FLASH_DEFL_BEGIN:
        status = this.stubFlashBegin(data, op === OP.FLASH_DEFL_BEGIN);
        break;
      case OP.FLASH_DATA:
      case OP.FLASH_DEFL_DATA: {
        const compressed = op === OP.FLASH_DEFL_DATA;
        if (size < DATA_HEADER_SIZE) {
          status = compressed ? STUB_STATUS.BAD_DATA_LEN : STUB_STATUS.NOT_ENOUGH_DATA;
          break;
        }
        const write = this.flashWrite;
        if (!write) {
          status = STUB_STATUS.NOT_IN_FLASH_MODE;
          break;
        }
        const dataLen = u32(data, 0);
        const seq = u32(data, 4);
        let payload: Uint8Array = data.subarray(DATA_HEADER_SIZE);
        if (!compressed && dataLen !== payload.length) {
          status = STUB_STATUS.TOO_MUCH_DATA;
          break;
        }
        payload = payload.subarray(0, Math.min(dataLen, payload.length));
        payload = this.host.corruptBlock?.(op, seq, 'wire', payload) ?? payload;
        if (xorChecksum(payload) !== (checksum & 0xff)) {
          status = STUB_STATUS.BAD_DATA_CHECKSUM;
          break;
        }
        // The stub acknowledges first and writes while the host sends the next block.
        const block = payload.slice();
        post = compressed ? () => this.stubInflateAndWrite(op, seq, block) : () => this.stubWritePlain(op, seq, block);
        break;
      }
      case OP.FLASH_END:
      case OP.FLASH_DEFL_END:
        if (size !== 4) status = STUB_STATUS.BAD_DATA_LEN;
        else if (!this.flashWrite) status = STUB_STATUS.NOT_IN_FLASH_MODE;
        else if (this.flashWrite.remaining !== 0) status = STUB_STATUS.BAD_DATA_LEN;
        // The reboot flag is accepted and ignored: esp-flasher-stub does not implement it.
        else this.endFlashWrite();
        break;
      case OP.MEM_BEGIN:
        if (size !== 16) status = STUB_STATUS.BAD_DATA_LEN;
        else this.memBegin(data, false);
        break;
      case OP.MEM_DATA: {
        if (size < DATA_HEADER_SIZE) {
          status = STUB_STATUS.NOT_ENOUGH_DATA;
          break;
        }
        const mem = this.memWrite;
        if (!mem) {
          status = STUB_STATUS.NOT_IN_FLASH_MODE;
          break;
        }
        const dataLen = u32(data, 0);
        const payload = data.subarray(DATA_HEADER_SIZE);
        if (mem.remaining < dataLen || dataLen !== payload.length) {
          status = STUB_STATUS.TOO_MUCH_DATA;
          break;
        }
        // The stub neither checks the checksum nor the sequence number of MEM_DATA.
        this.noteRam(mem.writePos, payload);
        mem.writePos += payload.length;
        mem.remaining -= payload.length;
        break;
      }
      case OP.MEM_END:
        if (size !== 8) status = STUB_STATUS.BAD_DATA_LEN;
        else if (!this.memWrite) status = STUB_STATUS.NOT_IN_FLASH_MODE;
        else {
          this.memWrite = null;
          if (u32(data, 0) === 0) {
            const entry = u32(data, 4);
            post = async () => {
              this.jump(entry);
              return STUB_STATUS.SUCCESS;
            };
          }
        }
        break;
      case OP.WRITE_REG:
        if (!this.writeRegs(data)) status = STUB_STATUS.NOT_ENOUGH_DATA;
        break;
      case OP.READ_REG:
        if (size !== 4) status = STUB_STATUS.BAD_DATA_LEN;
        else value = this.host.registers.read(u32(data, 0));
        break;
      case OP.SPI_ATTACH:
        if (size !== 4) status = STUB_STATUS.BAD_DATA_LEN;
        break;
      case OP.SPI_SET_PARAMS:
        if (size !== 24) status = STUB_STATUS.BAD_DATA_LEN;
        break;
      case OP.CHANGE_BAUDRATE:
        if (size !== 8) status = STUB_STATUS.BAD_DATA_LEN;
        else {
          const baud = u32(data, 0);
          post = async () => {
            this.host.changeBaud(baud);
            return STUB_STATUS.SUCCESS;
          };
        }
        break;
      case OP.SPI_FLASH_MD5: {
        if (size !== 16) {
          status = STUB_STATUS.BAD_DATA_LEN;
          break;
        }
        const addr = u32(data, 0);
        const len = u32(data, 4);
        if (!flash.contains(addr, len)) status = STUB_STATUS.FAILED_SPI_OP;
        else replyData = flash.md5(addr, len);
        break;
      }
      case OP.GET_SECURITY_INFO:
        if (size !== 0) status = STUB_STATUS.BAD_DATA_LEN;
        else if (this.host.profile.romSecurityInfo) replyData = this.host.profile.romSecurityInfo(this.host.identity);
        else status = STUB_STATUS.CMD_NOT_IMPLEMENTED;
        break;
      case OP.READ_FLASH:
        if (size !== 16) status = STUB_STATUS.BAD_DATA_LEN;
        else post = () => this.stubReadFlash(u32(data, 0), u32(data, 4), u32(data, 8));
        break;
      case OP.ERASE_FLASH:
        flash.eraseAll();
        break;
      case OP.ERASE_REGION: {
        const addr = u32(data, 0);
        const len = u32(data, 4);
        if (size !== 8 || addr % FLASH_SECTOR_SIZE !== 0 || len % FLASH_SECTOR_SIZE !== 0) status = STUB_STATUS.BAD_DATA_LEN;
        else if (!flash.contains(addr, len)) status = STUB_STATUS.FAILED_SPI_OP;
        else flash.eraseRange(addr, len);
        break;
      }
      case OP.RUN_USER_CODE:
        // esp-flasher-stub sends no reply and (as of v1.2) does not leave the loader.
        return;
      default:
        status = STUB_STATUS.INVALID_COMMAND;
    }

    this.stubReply(op, status, replyData, value);
    if (status === STUB_STATUS.SUCCESS && post) this.carried = await post();
  }

  private stubFlashBegin(data: Uint8Array, compressed: boolean): number {
    if (data.length !== 16 && data.length !== 20) return STUB_STATUS.BAD_DATA_LEN;
    this.endFlashWrite();
    const total = u32(data, 0);
    const blockSize = u32(data, 8);
    const offset = u32(data, 12);
    const eraseStart = offset - (offset % FLASH_SECTOR_SIZE);
    const eraseEnd = Math.ceil((offset + total) / FLASH_SECTOR_SIZE) * FLASH_SECTOR_SIZE;
    this.flashWrite = {
      compressed,
      writePos: offset,
      blockSize,
      nextSeq: 0,
      remaining: total,
      eraseNext: eraseStart,
      eraseEnd,
      ...(compressed ? { inflate: new StreamingInflate() } : {}),
    };
    return STUB_STATUS.SUCCESS;
  }

  private stubWrite(bytes: Uint8Array): number {
    const write = this.flashWrite!;
    const { flash } = this.host;
    if (!flash.contains(write.writePos, bytes.length)) return STUB_STATUS.FAILED_SPI_OP;
    // Erase whole sectors just ahead of the data (only inside the region FLASH_BEGIN announced).
    const need = Math.min(write.writePos + bytes.length, write.eraseEnd);
    while (write.eraseNext < need) {
      flash.eraseSector(write.eraseNext);
      write.eraseNext += FLASH_SECTOR_SIZE;
    }
    flash.program(write.writePos, bytes);
    write.writePos += bytes.length;
    write.remaining -= bytes.length;
    return STUB_STATUS.SUCCESS;
  }

  private async stubWritePlain(op: number, seq: number, block: Uint8Array): Promise<number> {
    const write = this.flashWrite;
    if (!write) return STUB_STATUS.NOT_IN_FLASH_MODE;
    // The last block is padded with 0xFF by the host; only the announced size is written.
    let bytes = block.subarray(0, Math.max(0, Math.min(block.length, write.remaining)));
    bytes = this.host.corruptBlock?.(op, seq, 'flash', bytes) ?? bytes;
    return this.stubWrite(bytes);
  }

  private async stubInflateAndWrite(op: number, seq: number, block: Uint8Array): Promise<number> {
    const write = this.flashWrite;
    if (!write?.inflate) return STUB_STATUS.NOT_IN_FLASH_MODE;
    let bytes: Uint8Array;
    try {
      bytes = await write.inflate.push(block);
    } catch {
      return STUB_STATUS.INFLATE_ERROR;
    }
    bytes = this.host.corruptBlock?.(op, seq, 'flash', bytes) ?? bytes;
    return bytes.length > 0 ? this.stubWrite(bytes) : STUB_STATUS.SUCCESS;
  }

  /**
   * READ_FLASH after its normal reply: raw SLIP frames of `packetSize` bytes, each acknowledged by the
   * host with a 4-byte frame holding the total received so far, then a 16-byte MD5 frame. The stub
   * keeps one packet in flight whatever the host asks for (esp-flasher-stub forces 1).
   */
  private async stubReadFlash(offset: number, size: number, packetSize: number): Promise<number> {
    const { flash } = this.host;
    if (packetSize > STUB_READ_PACKET_MAX || packetSize === 0) return STUB_STATUS.BAD_DATA_LEN;
    if (!flash.contains(offset, size)) return STUB_STATUS.FAILED_SPI_OP;
    let pos = offset;
    let remaining = size;
    let sent = 0;
    let acked = 0;
    let ackedBytes = 0;
    while (remaining > 0 || ackedBytes < size) {
      if (remaining > 0 && sent - acked < 1) {
        const len = Math.min(remaining, packetSize);
        this.host.sendFrame(flash.read(pos, len));
        pos += len;
        remaining -= len;
        sent++;
        continue;
      }
      const ack = await this.host.nextFrame();
      if (ack.length !== 4) break;
      ackedBytes = u32(ack, 0);
      acked++;
    }
    this.host.sendFrame(flash.md5(offset, size));
    return STUB_STATUS.SUCCESS;
  }
}
