/**
 * SLIP framing as the ESP ROM loader, the flasher stub and esptool speak it (RFC 1055 with a leading
 * END): every frame is `0xC0 <payload> 0xC0`; inside the payload 0xC0 is sent as `0xDB 0xDC` and 0xDB
 * as `0xDB 0xDD`. Escaping happens after lengths and checksums are computed, so a frame on the wire
 * may be longer than its size field says.
 */
export const SLIP_END = 0xc0;
export const SLIP_ESC = 0xdb;
export const SLIP_ESC_END = 0xdc;
export const SLIP_ESC_ESC = 0xdd;

export function slipEncode(payload: Uint8Array): Uint8Array {
  let escapes = 0;
  for (const byte of payload) if (byte === SLIP_END || byte === SLIP_ESC) escapes++;
  const out = new Uint8Array(payload.length + escapes + 2);
  let o = 0;
  out[o++] = SLIP_END;
  for (const byte of payload) {
    if (byte === SLIP_END) {
      out[o++] = SLIP_ESC;
      out[o++] = SLIP_ESC_END;
    } else if (byte === SLIP_ESC) {
      out[o++] = SLIP_ESC;
      out[o++] = SLIP_ESC_ESC;
    } else {
      out[o++] = byte;
    }
  }
  out[o] = SLIP_END;
  return out;
}

export type SlipEvent =
  | { kind: 'frame'; payload: Uint8Array }
  /** A frame broken by an escape byte followed by anything but 0xDC/0xDD; the receiver drops it. */
  | { kind: 'error'; reason: 'bad-escape' }
  /** Bytes seen outside any frame (boot log text, line noise). */
  | { kind: 'noise'; bytes: Uint8Array };

/**
 * Streaming decoder. Feed it bytes in chunks of any size; it returns whole frames as they complete.
 * Like the stub's receiver and esptool's reader, a 0xC0 that ends a frame returns the decoder to
 * "between frames", where bytes are noise (boot log text) until the next 0xC0 opens a frame; an
 * empty frame (`C0 C0`) is skipped and its second 0xC0 opens the next frame.
 */
export class SlipDecoder {
  private inFrame = false;
  private escaping = false;
  private buffer: number[] = [];
  private noise: number[] = [];

  push(bytes: Uint8Array): SlipEvent[] {
    const events: SlipEvent[] = [];
    for (const byte of bytes) {
      if (!this.inFrame) {
        if (byte === SLIP_END) {
          this.flushNoise(events);
          this.inFrame = true;
          this.buffer = [];
          this.escaping = false;
        } else {
          this.noise.push(byte);
        }
        continue;
      }
      if (this.escaping) {
        this.escaping = false;
        if (byte === SLIP_ESC_END) this.buffer.push(SLIP_END);
        else if (byte === SLIP_ESC_ESC) this.buffer.push(SLIP_ESC);
        else {
          events.push({ kind: 'error', reason: 'bad-escape' });
          // The broken frame is dropped; a following 0xC0 starts a fresh one.
          this.inFrame = byte === SLIP_END;
          this.buffer = [];
        }
        continue;
      }
      if (byte === SLIP_ESC) {
        this.escaping = true;
      } else if (byte === SLIP_END) {
        if (this.buffer.length > 0) {
          events.push({ kind: 'frame', payload: Uint8Array.from(this.buffer) });
          this.buffer = [];
          this.inFrame = false;
        }
      } else {
        this.buffer.push(byte);
      }
    }
    this.flushNoise(events);
    return events;
  }

  /** Frames only, for callers that do not care about noise or broken frames. */
  pushFrames(bytes: Uint8Array): Uint8Array[] {
    const frames: Uint8Array[] = [];
    for (const event of this.push(bytes)) if (event.kind === 'frame') frames.push(event.payload);
    return frames;
  }

  reset(): void {
    this.inFrame = false;
    this.escaping = false;
    this.buffer = [];
    this.noise = [];
  }

  private flushNoise(events: SlipEvent[]): void {
    if (this.noise.length > 0) {
      events.push({ kind: 'noise', bytes: Uint8Array.from(this.noise) });
      this.noise = [];
    }
  }
}
