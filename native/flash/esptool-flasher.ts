import { createHash } from 'node:crypto';
import { ESPLoader, Transport, type FlashOptions } from 'esptool-js';
import { withDeadline } from '../../common/deadline.js';
import { StationError } from '../../common/errors.js';
import type { FlashProgress } from '../../common/slot-state.js';
import { TIMEOUTS } from '../../common/timeouts.js';
import type { WebSerialPortLike } from '../serial/web-serial-port.js';

export interface FlashRegion {
  /** What it is, for logs and results: "nvs", "app", … */
  name: string;
  address: number;
  data: Uint8Array;
}

export interface FlashJob {
  port: WebSerialPortLike;
  regions: FlashRegion[];
  /** Link speed after the stub is up; the ROM always starts at 115200. */
  baudRate: number;
  onProgress?: (progress: FlashProgress) => void;
  /** Log sink for esptool-js's own lines (they never contain payload bytes). */
  log?: (line: string) => void;
  /** Deadline for the whole job. */
  timeoutMs?: number;
  /** Chip family the product needs ("ESP32"); another chip is refused before any byte is written. */
  expectChip?: string;
}

export interface FlashedRegion {
  name: string;
  address: number;
  size: number;
  /** MD5 the chip computed over the written region; equal to ours or the job failed. */
  md5: string;
}

export interface FlashOutcome {
  chip: string;
  mac: string;
  regions: FlashedRegion[];
  durationMs: number;
}

const ROM_BAUD = 115_200;
/** EN held low this long resets the chip (esptool.py's HardReset uses 100 ms). */
const RESET_PULSE_MS = 100;

/**
 * Reset into the application: EN low via RTS for RESET_PULSE_MS with DTR released (GPIO0 high at
 * EN's rising edge means "boot from flash"). Both lines go in one request. We do this ourselves
 * because esptool-js 0.7.0's `HardReset` only *releases* RTS (it assumes RTS is still asserted),
 * which after its classic-reset sequence leaves EN high and the chip sitting in the bootloader.
 */
async function hardReset(transport: Transport): Promise<void> {
  await transport.setSignals(false, true);
  await new Promise((resolve) => setTimeout(resolve, RESET_PULSE_MS));
  await transport.setSignals(false, false);
}

export function md5Hex(data: Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}

/**
 * Connects through the ROM bootloader (classic DTR/RTS reset), loads esptool's stub, writes every
 * region compressed, has the chip MD5 each region and compares (esptool-js only verifies when given
 * `calculateMD5Hash`), then hard-resets the board into its application.
 */
export async function flashBoard(job: FlashJob): Promise<FlashOutcome> {
  const started = Date.now();
  const log = job.log ?? (() => undefined);
  // esptool-js's Transport is typed for the browser's SerialPort; ours has the same shape.
  const transport = new Transport(job.port as unknown as SerialPort, false);
  // Transport.trace() prints to console.log even with tracing off (readLoop calls it on every
  // close); its lines belong in the board's log, not on the station's stdout.
  transport.trace = (message: string) => log(`serial: ${message}`);
  const loader = new ESPLoader({
    transport,
    baudrate: job.baudRate,
    romBaudrate: ROM_BAUD,
    terminal: { clean: () => undefined, writeLine: log, write: log },
  });
  let phase: FlashProgress['phase'] = 'connecting';
  const report = (bytesDone: number, bytesTotal: number, phaseStart: number): void => {
    const seconds = (Date.now() - phaseStart) / 1000;
    job.onProgress?.({ phase, bytesDone, bytesTotal, rateBps: seconds > 0 ? Math.round(bytesDone / seconds) : 0 });
  };

  const run = async (): Promise<FlashOutcome> => {
    report(0, 0, Date.now());
    let chip: string;
    try {
      chip = await loader.main('default_reset');
    } catch (err) {
      throw new StationError(
        {
          code: 'BOARD_NOT_RESPONDING',
          message: 'The board did not answer its bootloader — check the cable and replug the board.',
          operatorFault: true,
        },
        { cause: err },
      );
    }
    if (job.expectChip && loader.chip.CHIP_NAME !== job.expectChip) {
      throw new StationError({
        code: 'BOARD_UNSUPPORTED',
        message: `This board is an ${loader.chip.CHIP_NAME}, the product needs an ${job.expectChip} — take it off the line.`,
        operatorFault: true,
      });
    }
    const mac = await loader.chip.readMac(loader);
    const md5s: string[] = [];
    const total = job.regions.reduce((sum, r) => sum + r.data.length, 0);
    const offsets = job.regions.map((_, i) => job.regions.slice(0, i).reduce((s, r) => s + r.data.length, 0));
    phase = 'writing';
    const writeStart = Date.now();
    const options: FlashOptions = {
      fileArray: job.regions.map((r) => ({ data: r.data, address: r.address })),
      flashMode: 'keep',
      flashFreq: 'keep',
      flashSize: 'keep',
      eraseAll: false,
      compress: true,
      // Progress from esptool-js counts compressed bytes of file i; scale to the file's share.
      reportProgress: (fileIndex, written, fileTotal) => {
        const region = job.regions[fileIndex];
        if (!region) return;
        const share = fileTotal > 0 ? written / fileTotal : 1;
        report(Math.round((offsets[fileIndex] ?? 0) + share * region.data.length), total, writeStart);
      },
      calculateMD5Hash: (image) => {
        const digest = md5Hex(image);
        md5s.push(digest);
        return digest;
      },
    };
    try {
      await loader.writeFlash(options);
    } catch (err) {
      const mismatch = err instanceof Error && /MD5/i.test(err.message);
      throw new StationError(
        mismatch
          ? {
              code: 'FLASH_VERIFY_MISMATCH',
              message: 'The chip read back different bytes than were written — replug the board and try again.',
              operatorFault: false,
            }
          : {
              code: 'FLASH_WRITE_FAILED',
              message: 'Writing to the board failed — check the cable and replug the board.',
              operatorFault: true,
            },
        { cause: err },
      );
    }
    phase = 'verifying';
    report(total, total, writeStart);
    await hardReset(transport);
    return {
      chip,
      mac,
      regions: job.regions.map((r, i) => ({
        name: r.name,
        address: r.address,
        size: r.data.length,
        md5: md5s[i] ?? '',
      })),
      durationMs: Date.now() - started,
    };
  };

  try {
    return await withDeadline(
      run(),
      job.timeoutMs ?? TIMEOUTS.flashJobMs,
      {
        code: 'BOARD_NOT_RESPONDING',
        message: 'The board stopped answering while flashing — replug the board to try again.',
        operatorFault: true,
      },
      () => transport.disconnect().catch(() => undefined),
    );
  } finally {
    await transport.disconnect().catch(() => undefined);
  }
}
