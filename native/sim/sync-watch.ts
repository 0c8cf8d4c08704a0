import { OP } from './chip-profiles.js';
import { SLIP_END, SLIP_ESC, SLIP_ESC_END, SLIP_ESC_ESC } from './slip.js';

/**
 * Spots a loader SYNC request (`00 08 24 00 <checksum> 07 07 12 20 55×32`, SLIP-framed) in the raw
 * bytes a host sends, wherever the chip is. A board on a pseudo-terminal cannot be reset by its
 * client (a pty carries no DTR/RTS), so `flashline sim` uses this to put the chip back into its ROM
 * loader when a client starts with SYNC, as esptool's reset would have (see docs/simulator.md).
 * It sits on the host side of the line: it sees the bytes before any baud-rate mismatch garbles them.
 */
const SYNC_BODY = Uint8Array.from([0x07, 0x07, 0x12, 0x20, ...new Array<number>(32).fill(0x55)]);
const SYNC_FRAME_LENGTH = 8 + SYNC_BODY.length;
/** Longest frame worth keeping while scanning; anything longer is not a SYNC. */
const MAX_TRACKED = SYNC_FRAME_LENGTH + 1;

export function isSyncRequest(frame: Uint8Array): boolean {
  if (frame.length !== SYNC_FRAME_LENGTH || frame[0] !== 0x00 || frame[1] !== OP.SYNC) return false;
  if ((frame[2]! | (frame[3]! << 8)) !== SYNC_BODY.length) return false;
  for (let i = 0; i < SYNC_BODY.length; i++) if (frame[8 + i] !== SYNC_BODY[i]) return false;
  return true;
}

export class SyncWatch {
  private frame: number[] = [];
  private inFrame = false;
  private escaped = false;

  /**
   * Feed raw host bytes. Returns the index just past the END byte of the first complete SYNC
   * request in `bytes`, or -1. Scanning stops there; feed the rest again to keep watching.
   */
  push(bytes: Uint8Array): number {
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      if (b === SLIP_END) {
        if (this.inFrame && this.frame.length > 0 && isSyncRequest(Uint8Array.from(this.frame))) {
          this.reset();
          return i + 1;
        }
        // An END both closes a frame and may open the next one.
        this.inFrame = true;
        this.frame = [];
        this.escaped = false;
        continue;
      }
      if (!this.inFrame) continue;
      if (this.escaped) {
        this.escaped = false;
        this.track(b === SLIP_ESC_END ? SLIP_END : b === SLIP_ESC_ESC ? SLIP_ESC : -1);
      } else if (b === SLIP_ESC) {
        this.escaped = true;
      } else {
        this.track(b);
      }
    }
    return -1;
  }

  reset(): void {
    this.frame = [];
    this.inFrame = false;
    this.escaped = false;
  }

  private track(byte: number): void {
    if (byte < 0 || this.frame.length >= MAX_TRACKED) {
      this.inFrame = false;
      this.frame = [];
      return;
    }
    this.frame.push(byte);
  }
}
