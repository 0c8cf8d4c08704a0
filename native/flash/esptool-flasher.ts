import { StationError, stationError } from '../../common/errors.js';
import type { FlashProgress } from '../../common/slot-state.js';
import { TIMEOUTS } from '../../common/timeouts.js';
import type { WebSerialPortLike } from '../serial/web-serial-port.js';
import { BoardSession, md5Hex, type FlashedRegion, type FlashRegion } from './board-session.js';

export { md5Hex, type FlashedRegion, type FlashRegion };

export interface FlashJob {
  port: WebSerialPortLike;
  regions: FlashRegion[];
  /** Link speed after the stub is up; the ROM always starts at 115200. Stepped down on link errors. */
  baudRate: number;
  onProgress?: (progress: FlashProgress) => void;
  /** Log sink for esptool-js's own lines and our retries (they never contain payload bytes). */
  log?: (line: string) => void;
  /** Deadline for connecting, per attempt. */
  connectTimeoutMs?: number;
  /** Chip family the product needs ("ESP32"); another chip is refused before any byte is written. */
  expectChip?: string;
  /** The MAC seen when the board was probed: a different board in the slot is refused. */
  expectMac?: string;
  /** Skip regions whose flash MD5 already matches (pre-flashed modules). */
  skipUnchanged?: boolean;
  /** Attempts after the first, each one baud step lower (default 3). */
  maxRetries?: number;
}

export interface FlashOutcome {
  chip: string;
  chipFamily: string;
  mac: string;
  regions: FlashedRegion[];
  durationMs: number;
  /** The baud rate the successful attempt ran at. */
  baudRate: number;
  /** Failed attempts before it, with their error codes (bounded, logged). */
  retries: { baudRate: number; code: string }[];
}

/** Rates esptool users fall back through when a long cable or a cheap bridge drops bytes. */
export const BAUD_LADDER = [921_600, 460_800, 230_400, 115_200] as const;

/** The ladder from `start` down (start itself first, even when it is not a ladder rung). */
export function baudSteps(start: number): number[] {
  return [start, ...BAUD_LADDER.filter((b) => b < start)];
}

/**
 * Web Serial's `SerialPort.connected` (the in-process port has it too): false once the device is
 * gone. esptool-js does not surface a lost port: its reads just time out, so the cause of the
 * failure is read from the port afterwards.
 */
function portLost(port: WebSerialPortLike): boolean {
  return (port as { connected?: boolean }).connected === false;
}

/** How often an attempt looks for a vanished port (esptool-js would wait out its read timeouts). */
const PORT_LOST_POLL_MS = 100;

/** `work`, or a rejection as soon as the port is gone; `work` may settle later and is then ignored. */
async function unlessPortLost<T>(port: WebSerialPortLike, work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setInterval> | undefined;
  const lost = new Promise<never>((_, reject) => {
    timer = setInterval(() => {
      if (portLost(port)) reject(new Error('the serial port is gone'));
    }, PORT_LOST_POLL_MS);
  });
  try {
    return await Promise.race([work, lost]);
  } finally {
    clearInterval(timer);
    work.catch(() => undefined);
  }
}

/** Errors worth another attempt at a lower speed: the link, not the board or the operator. */
function retryable(err: unknown): boolean {
  return err instanceof StationError && ['FLASH_WRITE_FAILED', 'FLASH_VERIFY_MISMATCH', 'BOARD_NOT_RESPONDING'].includes(err.code);
}

/**
 * Connects through the ROM bootloader (classic DTR/RTS reset), loads esptool's stub, checks the
 * board is the one expected, writes every region compressed with the chip's MD5 verifying each,
 * and resets the board into its application. A link error retries the whole job one baud step
 * lower (921600 → 460800 → 230400 → 115200), at most `maxRetries` times, each logged; writing the
 * same bytes again is harmless, and the token stays the one reserved for this board.
 */
export async function flashBoard(job: FlashJob): Promise<FlashOutcome> {
  const started = Date.now();
  const log = job.log ?? (() => undefined);
  const steps = baudSteps(job.baudRate).slice(0, (job.maxRetries ?? 3) + 1);
  const retries: FlashOutcome['retries'] = [];
  let lastError: unknown = null;
  for (const baudRate of steps) {
    job.onProgress?.({ phase: 'connecting', bytesDone: 0, bytesTotal: 0, rateBps: 0 });
    let session: BoardSession | null = null;
    try {
      session = await unlessPortLost(
        job.port,
        BoardSession.open({ port: job.port, baudRate, log, connectTimeoutMs: job.connectTimeoutMs ?? TIMEOUTS.flashConnectMs }),
      );
      const { identity } = session;
      if (job.expectChip && identity.chipFamily !== job.expectChip) {
        throw stationError('BOARD_UNSUPPORTED', `This board is an ${identity.chipFamily}, the product needs an ${job.expectChip} — take it off the line.`, true);
      }
      if (job.expectMac && identity.mac.toLowerCase() !== job.expectMac.toLowerCase()) {
        throw stationError('BOARD_CHANGED', 'A different board is in this slot than the one checked — replug it so it is checked again.', true);
      }
      const regions = await unlessPortLost(
        job.port,
        session.writeRegions(job.regions, {
          skipUnchanged: job.skipUnchanged ?? false,
          ...(job.onProgress ? { onProgress: job.onProgress } : {}),
        }),
      );
      await session.resetToApp();
      return {
        chip: identity.description,
        chipFamily: identity.chipFamily,
        mac: identity.mac,
        regions,
        durationMs: Date.now() - started,
        baudRate: session.baudRate,
        retries,
      };
    } catch (err) {
      lastError = err;
      if (portLost(job.port)) {
        throw new StationError(
          { code: 'CABLE_PULLED', message: 'The board was unplugged while flashing — plug it back in to flash it again.', operatorFault: true },
          { cause: err },
        );
      }
      if (!retryable(err)) throw err;
      const code = (err as StationError).code;
      retries.push({ baudRate, code });
      log(`flash attempt at ${baudRate} baud failed (${code}); ${retries.length < steps.length ? 'retrying one step lower' : 'giving up'}`);
    } finally {
      await session?.close();
    }
  }
  throw lastError;
}
