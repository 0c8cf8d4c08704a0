import type { LineEdge, ModemLines, PinLevels } from './board-lines.js';

/**
 * The reset logic of the USB-Serial/JTAG peripheral (ESP32-S3, ESP32-C3, VID 0x303A PID 0x1001):
 * there is no transistor circuit; the peripheral reads the host's CDC-ACM line state (DTR, RTS)
 * itself. Modelled from the two sequences esptool and esptool-js drive through it:
 *
 * - `USBJTAGSerialReset` (into download mode): (DTR,RTS) = (0,0) → (1,0) "set IO0" → (1,1) →
 *   (0,1) "reset" → (0,0) "chip out of reset". esptool notes the calls are ordered to pass through
 *   (1,1) rather than (0,0) on the way from (1,0) to (0,1).
 * - `HardReset` (into the application): (0,0) → (0,1) → (0,0).
 *
 * So: DTR without RTS latches a "boot into download mode" request; RTS without DTR holds the chip
 * in reset; leaving that state releases it, in download mode when the request was latched (the
 * release consumes the latch). (1,1) and (0,0) do nothing, which is also why opening or closing
 * the port (Linux raises, then drops, both lines) does not reset the chip. When both lines change
 * in one request, a release is evaluated before the new DTR/RTS levels latch anything.
 */
export class UsbJtagLines {
  private state: ModemLines = { dtr: false, rts: false, brk: false };
  private downloadLatched = false;
  private inReset = false;

  get lines(): Readonly<ModemLines> {
    return this.state;
  }

  /** The chip-side view: EN low while held in reset, "GPIO0" low while download is latched. */
  get pins(): PinLevels {
    return { en: !this.inReset, io0: !this.downloadLatched };
  }

  set(change: Partial<ModemLines>): LineEdge | undefined {
    this.state = {
      dtr: change.dtr ?? this.state.dtr,
      rts: change.rts ?? this.state.rts,
      brk: change.brk ?? this.state.brk,
    };
    const { dtr, rts } = this.state;
    const resetRequested = rts && !dtr;
    let edge: LineEdge | undefined;
    if (this.inReset && !resetRequested) {
      this.inReset = false;
      edge = { kind: 'reset-released', download: this.downloadLatched };
      this.downloadLatched = false;
    } else if (!this.inReset && resetRequested) {
      this.inReset = true;
      edge = { kind: 'reset-asserted' };
    }
    if (dtr && !rts) this.downloadLatched = true;
    return edge;
  }
}
