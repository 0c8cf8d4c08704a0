import type { WebSerialPortLike } from '../serial/web-serial-port.js';
import { BoardSession, type BoardIdentity } from './board-session.js';

export interface ProbeJob {
  port: WebSerialPortLike;
  baudRate: number;
  /** The product's NVS partition, read back so a board that already holds a token is recognised. */
  nvs: { offset: number; size: number };
  log?: (line: string) => void;
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
  const session = await BoardSession.open({ port: job.port, baudRate: job.baudRate, ...(job.log ? { log: job.log } : {}) });
  try {
    const nvs = await session.readFlash(job.nvs.offset, job.nvs.size);
    return { identity: session.identity, nvs };
  } finally {
    await session.close();
  }
}
