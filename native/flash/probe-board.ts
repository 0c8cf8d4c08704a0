import type { WebSerialPortLike } from '../serial/web-serial-port.js';
import { StationError } from '../../common/errors.js';
import { TIMEOUTS } from '../../common/timeouts.js';
import { BoardSession, type BoardIdentity } from './board-session.js';

/**
 * Connect attempts before a board is refused at the probe. esptool.py and esptool-js already try
 * 7 reset + SYNC rounds within one connect; a whole second connect, with a longer deadline, is for
 * a host too busy to read the ROM's answers in time (a starved station). A healthy board refused
 * here is an operator's lost minute; a dead one costs only the second attempt's time, and no token
 * is touched either way.
 */
export const PROBE_CONNECT_ATTEMPTS = 2;
/** The deadline of the second connect, as a multiple of the first (TIMEOUTS.flashConnectMs). */
export const PROBE_RETRY_DEADLINE_FACTOR = 2;

export interface ProbeJob {
  port: WebSerialPortLike;
  baudRate: number;
  /** The product's NVS partition, read back so a board that already holds a token is recognised. */
  nvs: { offset: number; size: number };
  log?: (line: string) => void;
  /** Deadline of the first connect (default TIMEOUTS.flashConnectMs); the retry gets PROBE_RETRY_DEADLINE_FACTOR times it. */
  connectTimeoutMs?: number;
}

export interface ProbeOutcome {
  identity: BoardIdentity;
  /** The NVS partition's bytes as the chip holds them (all 0xFF on a fresh board). */
  nvs: Uint8Array;
}

/**
 * What the station learns from a board before it reserves a token for it: chip family and
 * revision, MAC, flash size (from the bootloader), and the current NVS partition. Writes nothing.
 * Leaves the board in its bootloader (the flash that follows resets it again).
 */
export async function probeBoard(job: ProbeJob): Promise<ProbeOutcome> {
  const session = await openWithRetry(job);
  try {
    const nvs = await session.readFlash(job.nvs.offset, job.nvs.size);
    return { identity: session.identity, nvs };
  } finally {
    await session.close();
  }
}

async function openWithRetry(job: ProbeJob): Promise<BoardSession> {
  const first = job.connectTimeoutMs ?? TIMEOUTS.flashConnectMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await BoardSession.open({
        port: job.port,
        baudRate: job.baudRate,
        connectTimeoutMs: attempt === 1 ? first : first * PROBE_RETRY_DEADLINE_FACTOR,
        ...(job.log ? { log: job.log } : {}),
      });
    } catch (err) {
      // Only "no answer" is worth a second try; a pulled cable or a wrong chip is not.
      const silent = err instanceof StationError && err.code === 'BOARD_NOT_RESPONDING';
      if (!silent || attempt >= PROBE_CONNECT_ATTEMPTS) throw err;
      job.log?.(`probe: no answer from the bootloader (attempt ${attempt} of ${PROBE_CONNECT_ATTEMPTS}); trying once more with a longer deadline`);
    }
  }
}
