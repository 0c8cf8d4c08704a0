import { createHash } from 'node:crypto';
import { ESPLoader, Transport, type FlashOptions } from 'esptool-js';
import { withDeadline } from '../../common/deadline.js';
import { StationError, type StationErrorData } from '../../common/errors.js';
import type { FlashProgress } from '../../common/slot-state.js';
import { TIMEOUTS } from '../../common/timeouts.js';
import type { WebSerialPortLike } from '../serial/web-serial-port.js';
import { installLinearSlipReader } from './slip-reader.js';
import { installInflateChunkPatch } from './inflate-chunk-patch.js';

export interface FlashRegion {
  /** What it is, for logs and results: "nvs", "app", … */
  name: string;
  address: number;
  data: Uint8Array;
}

export interface FlashedRegion {
  name: string;
  address: number;
  size: number;
  /** MD5 the chip computed over the region; equal to ours or the write failed. */
  md5: string;
  /** The chip already held these bytes (MD5 matched before writing): nothing was sent. */
  skipped: boolean;
}

export interface BoardIdentity {
  /** esptool's family name: "ESP32", "ESP32-S3", … */
  chipFamily: string;
  /** Full description, e.g. "ESP32-D0WD-V3 (revision 3)". */
  description: string;
  mac: string;
  /** From the flash chip's JEDEC id; null when it could not be mapped. */
  flashSizeBytes: number | null;
}

export interface SessionOptions {
  port: WebSerialPortLike;
  /** Link speed once the stub runs; the ROM always starts at 115200. */
  baudRate: number;
  log?: (line: string) => void;
  connectTimeoutMs?: number;
}

const ROM_BAUD = 115_200;
/** EN held low this long resets the chip (esptool.py's HardReset uses 100 ms). */
const RESET_PULSE_MS = 100;
/** Bits on the wire per byte at 8N1. */
const BITS_PER_BYTE = 10;
/** Slack on top of the pure line time for a region (erase, flash writes, MD5 on the chip). */
const REGION_SLACK_MS = 15_000;

const FLASH_SIZES: Record<string, number> = {
  '256KB': 256 * 1024,
  '512KB': 512 * 1024,
  '1MB': 1 << 20,
  '2MB': 2 << 20,
  '4MB': 4 << 20,
  '8MB': 8 << 20,
  '16MB': 16 << 20,
  '32MB': 32 << 20,
  '64MB': 64 << 20,
  '128MB': 128 << 20,
};

export function md5Hex(data: Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}

function linkError(message: string, cause: unknown): StationError {
  return new StationError({ code: 'FLASH_WRITE_FAILED', message, operatorFault: true }, { cause });
}

/**
 * One connection to a board's bootloader: reset into the ROM, stub up, link at `baudRate`. Every
 * call runs under a deadline of our own that closes the port on expiry, so a board that dies
 * mid-command fails the call instead of hanging the slot. One command at a time per port: callers
 * await each call.
 */
export class BoardSession {
  private closed = false;

  private constructor(
    private readonly transport: Transport,
    private readonly loader: ESPLoader,
    readonly identity: BoardIdentity,
    readonly baudRate: number,
    private readonly log: (line: string) => void,
  ) {}

  static async open(options: SessionOptions): Promise<BoardSession> {
    const log = options.log ?? (() => undefined);
    const transport = new Transport(options.port as unknown as SerialPort, false);
    // esptool-js unframes SLIP packets in quadratic time; same packets, linear (slip-reader.ts).
    installLinearSlipReader(transport);
    // ... and counts each written block's size by inflating it a byte at a time (inflate-chunk-patch.ts).
    installInflateChunkPatch();
    // Transport.trace() prints to console.log even with tracing off (readLoop calls it on every
    // close); its lines belong in the board's log, not on the station's stdout.
    transport.trace = (message: string) => log(`serial: ${message}`);
    const loader = new ESPLoader({
      transport,
      baudrate: options.baudRate,
      romBaudrate: ROM_BAUD,
      terminal: { clean: () => undefined, writeLine: log, write: log },
    });
    const connect = async (): Promise<BoardSession> => {
      const description = await loader.main('default_reset');
      const mac = await loader.chip.readMac(loader);
      const size = await loader.detectFlashSize().catch(() => undefined);
      const identity: BoardIdentity = {
        chipFamily: loader.chip.CHIP_NAME,
        description,
        mac,
        flashSizeBytes: size ? (FLASH_SIZES[size] ?? null) : null,
      };
      // changeBaud falls back to the ROM rate when the new speed does not hold: keep what it settled on.
      const settled = (loader as unknown as { baudrate: number }).baudrate;
      return new BoardSession(transport, loader, identity, settled, log);
    };
    try {
      return await withDeadline(
        connect(),
        options.connectTimeoutMs ?? TIMEOUTS.flashConnectMs,
        {
          code: 'BOARD_NOT_RESPONDING',
          message: 'The board did not answer its bootloader — check the cable and replug the board.',
          operatorFault: true,
        },
        () => transport.disconnect().catch(() => undefined),
      );
    } catch (err) {
      await transport.disconnect().catch(() => undefined);
      if (err instanceof StationError) throw err;
      throw new StationError(
        {
          code: 'BOARD_NOT_RESPONDING',
          message: 'The board did not answer its bootloader — check the cable and replug the board.',
          operatorFault: true,
        },
        { cause: err },
      );
    }
  }

  /** Reads flash through the stub (acknowledged blocks). */
  readFlash(address: number, length: number): Promise<Uint8Array> {
    return this.guard(this.loader.readFlash(address, length), this.budgetMs(length), 'Reading the board failed — check the cable and replug the board.');
  }

  flashMd5(address: number, length: number): Promise<string> {
    return this.guard(this.loader.flashMd5sum(address, length), this.budgetMs(length / 8), 'The board stopped answering — replug the board.');
  }

  /**
   * Writes regions compressed; each is MD5-verified on the chip, always. With `skipUnchanged`, a
   * region whose flash MD5 already equals ours is not sent (a module that came pre-flashed).
   */
  async writeRegions(
    regions: FlashRegion[],
    options: { skipUnchanged?: boolean; onProgress?: (progress: FlashProgress) => void } = {},
  ): Promise<FlashedRegion[]> {
    const results: FlashedRegion[] = [];
    const toWrite: FlashRegion[] = [];
    for (const region of regions) {
      const ours = md5Hex(padTo4(region.data));
      if (options.skipUnchanged && (await this.flashMd5(region.address, padTo4(region.data).length)) === ours) {
        results.push({ name: region.name, address: region.address, size: region.data.length, md5: ours, skipped: true });
        this.log(`region ${region.name} at 0x${region.address.toString(16)} already on the chip: skipped`);
      } else {
        toWrite.push(region);
      }
    }
    if (toWrite.length === 0) return results;

    const total = toWrite.reduce((sum, r) => sum + r.data.length, 0);
    const offsets = toWrite.map((_, i) => toWrite.slice(0, i).reduce((s, r) => s + r.data.length, 0));
    const md5s: string[] = [];
    const started = Date.now();
    let phase: FlashProgress['phase'] = 'writing';
    const report = (bytesDone: number): void => {
      const seconds = (Date.now() - started) / 1000;
      options.onProgress?.({ phase, bytesDone, bytesTotal: total, rateBps: seconds > 0 ? Math.round(bytesDone / seconds) : 0 });
    };
    const flashOptions: FlashOptions = {
      fileArray: toWrite.map((r) => ({ data: r.data, address: r.address })),
      flashMode: 'keep',
      flashFreq: 'keep',
      flashSize: 'keep',
      eraseAll: false,
      compress: true,
      // esptool-js counts compressed bytes of file i; scale to the file's share of the total.
      reportProgress: (fileIndex, written, fileTotal) => {
        const region = toWrite[fileIndex];
        if (!region) return;
        if (written >= fileTotal && fileIndex === toWrite.length - 1) phase = 'verifying';
        report(Math.round((offsets[fileIndex] ?? 0) + (fileTotal > 0 ? written / fileTotal : 1) * region.data.length));
      },
      calculateMD5Hash: (image) => {
        const digest = md5Hex(image);
        md5s.push(digest);
        return digest;
      },
    };
    report(0);
    try {
      await this.guard(this.loader.writeFlash(flashOptions), this.budgetMs(total), 'Writing to the board failed — check the cable and replug the board.');
    } catch (err) {
      if (err instanceof Error && /MD5/i.test(err.message)) {
        throw new StationError(
          {
            code: 'FLASH_VERIFY_MISMATCH',
            message: 'The chip read back different bytes than were written — replug the board and try again.',
            operatorFault: false,
          },
          { cause: err },
        );
      }
      throw err;
    }
    toWrite.forEach((r, i) => results.push({ name: r.name, address: r.address, size: r.data.length, md5: md5s[i] ?? '', skipped: false }));
    return results.sort((a, b) => a.address - b.address);
  }

  /**
   * Reset into the application: EN low via RTS for RESET_PULSE_MS with DTR released (GPIO0 high at
   * EN's rising edge means "boot from flash"). Both lines go in one request. We do this ourselves
   * because esptool-js 0.7.0's `HardReset` only *releases* RTS (it assumes RTS is still asserted),
   * which after its classic-reset sequence leaves EN high and the chip sitting in the bootloader.
   */
  async resetToApp(): Promise<void> {
    await this.transport.setSignals(false, true);
    await new Promise((resolve) => setTimeout(resolve, RESET_PULSE_MS));
    await this.transport.setSignals(false, false);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.transport.disconnect().catch(() => undefined);
  }

  /** Line time for `bytes` at the session's baud rate, twice over, plus slack for erase and MD5. */
  private budgetMs(bytes: number): number {
    return Math.ceil(((bytes * BITS_PER_BYTE) / this.baudRate) * 2000) + REGION_SLACK_MS;
  }

  private async guard<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
    const timeout: StationErrorData = { code: 'BOARD_NOT_RESPONDING', message: 'The board stopped answering — replug the board.', operatorFault: true };
    try {
      return await withDeadline(work, ms, timeout, () => this.close());
    } catch (err) {
      if (err instanceof StationError) throw err;
      if (err instanceof Error && /MD5/i.test(err.message)) throw err;
      throw linkError(message, err);
    }
  }
}

function padTo4(data: Uint8Array): Uint8Array {
  if (data.length % 4 === 0) return data;
  const padded = new Uint8Array(data.length + (4 - (data.length % 4))).fill(0xff);
  padded.set(data);
  return padded;
}
