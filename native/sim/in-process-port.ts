import type { VirtualBoard } from './virtual-board.js';

/**
 * A Web Serial `SerialPort` wired straight to a `VirtualBoard`, for esptool-js's `Transport` and for
 * anything else written against Web Serial. Behaviour follows the Web Serial spec as Chromium
 * implements it, because that is what esptool-js 0.7.0 was written against:
 * - `readable` / `writable` are null while closed; while open they are created on first access and
 *   re-created after a reader cancels or a writer closes (esptool-js's readLoop takes and releases a
 *   reader around every read; `Transport.disconnect` cancels the reader, then closes the port).
 * - `close()` rejects while either stream is locked.
 * - `setSignals` changes only the members it is given.
 * - Losing the device (unplugged, or a USB-Serial/JTAG board re-enumerating) errors the readable
 *   with a `NetworkError` DOMException and fires `disconnect`; after a re-enumeration a new port
 *   object must be made, as Web Serial hands out a new `SerialPort`.
 * - Web Serial has no in-place baud change, so `Transport.changeBaudrate` closes and reopens the port
 *   at the new rate; `inPlaceBaudChange` adds the `setBaudRate` a serialport-backed adapter offers.
 * - On Linux the kernel raises DTR and RTS when a tty is opened and drops both on close (HUPCL).
 *   Through the auto-reset circuit neither moves EN or GPIO0, so this does not reset the board.
 */
export interface InProcessPortOptions {
  /** USB ids `getInfo` reports; default the board's own (bridge or USB-Serial/JTAG). */
  vendorId?: number;
  productId?: number;
  inPlaceBaudChange?: boolean;
  /** Raise DTR+RTS on open and drop both on close, as Linux does (default true). */
  linuxLineBehaviour?: boolean;
}

function domError(name: string, message: string): DOMException {
  return new DOMException(message, name);
}

export class InProcessSerialPort extends EventTarget implements SerialPort {
  onconnect: ((this: SerialPort, ev: Event) => void) | null = null;
  ondisconnect: ((this: SerialPort, ev: Event) => void) | null = null;
  setBaudRate?: (baudRate: number) => Promise<void>;

  private state: 'closed' | 'opened' = 'closed';
  private fatal = false;
  private forgotten = false;
  private readableStream: ReadableStream<Uint8Array> | null = null;
  private writableStream: WritableStream<Uint8Array> | null = null;
  private readController: ReadableStreamDefaultController<Uint8Array> | null = null;
  private inbox: Uint8Array[] = [];
  private pullWaiter: (() => void) | null = null;
  private unsubscribe: (() => void) | null = null;
  private baudRate = 0;
  private readonly onUnplug = () => this.deviceLost();

  constructor(
    private readonly board: VirtualBoard,
    private readonly options: InProcessPortOptions = {},
  ) {
    super();
    if (options.inPlaceBaudChange) {
      this.setBaudRate = async (baudRate: number) => {
        this.checkOpen('setBaudRate');
        if (!Number.isInteger(baudRate) || baudRate <= 0) throw new TypeError('baudRate must be a positive integer');
        this.baudRate = baudRate;
        this.board.setHostBaud(baudRate);
      };
    }
    board.on('unplug', this.onUnplug);
    board.on('usb-detach', this.onUnplug);
  }

  get connected(): boolean {
    return this.board.isReachable && !this.fatal && !this.forgotten;
  }

  /** The host-side baud rate the port was opened at (0 while closed). */
  get currentBaudRate(): number {
    return this.state === 'opened' ? this.baudRate : 0;
  }

  get readable(): ReadableStream<Uint8Array> | null {
    if (this.readableStream) return this.readableStream;
    if (this.state !== 'opened' || this.fatal) return null;
    const stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.readController = controller;
        },
        pull: async (controller) => {
          while (this.inbox.length === 0 && this.readableStream === stream) {
            await new Promise<void>((resolve) => {
              this.pullWaiter = resolve;
            });
          }
          if (this.readableStream !== stream || this.inbox.length === 0) return;
          const chunks = this.inbox;
          this.inbox = [];
          controller.enqueue(chunks.length === 1 ? chunks[0]! : Uint8Array.from(Buffer.concat(chunks)));
        },
        cancel: () => {
          this.dropReadable(stream);
        },
      },
      { highWaterMark: 0 },
    );
    this.readableStream = stream;
    return stream;
  }

  get writable(): WritableStream<Uint8Array> | null {
    if (this.writableStream) return this.writableStream;
    if (this.state !== 'opened' || this.fatal) return null;
    const stream = new WritableStream<Uint8Array>({
      write: (chunk) => {
        if (this.fatal || !this.board.isReachable) throw domError('NetworkError', 'The device has been lost.');
        this.board.write(chunk);
      },
      close: () => {
        if (this.writableStream === stream) this.writableStream = null;
      },
      abort: () => {
        if (this.writableStream === stream) this.writableStream = null;
      },
    });
    this.writableStream = stream;
    return stream;
  }

  async open(options: SerialOptions): Promise<void> {
    if (this.forgotten || !this.board.isReachable || this.fatal) throw domError('NetworkError', 'The device has been lost.');
    if (this.state === 'opened') throw domError('InvalidStateError', 'The port is already open.');
    if (!Number.isInteger(options.baudRate) || options.baudRate <= 0) {
      throw new TypeError('Failed to execute open on SerialPort: baudRate must be a positive integer.');
    }
    await this.board.ready;
    this.state = 'opened';
    this.baudRate = options.baudRate;
    this.inbox = [];
    this.board.setHostBaud(options.baudRate);
    this.unsubscribe = this.board.onData((bytes) => {
      this.inbox.push(bytes);
      const wake = this.pullWaiter;
      this.pullWaiter = null;
      wake?.();
    });
    if (this.options.linuxLineBehaviour !== false) this.board.setLines({ dtr: true, rts: true });
  }

  async close(): Promise<void> {
    if (this.state !== 'opened') throw domError('InvalidStateError', 'The port is already closed.');
    if (this.readableStream?.locked || this.writableStream?.locked) {
      throw domError('InvalidStateError', 'Cannot cancel a locked stream');
    }
    this.shutDown();
    if (this.options.linuxLineBehaviour !== false && this.board.isReachable) this.board.setLines({ dtr: false, rts: false });
  }

  async setSignals(signals: SerialOutputSignals): Promise<void> {
    this.checkOpen('setSignals');
    this.board.setLines({
      ...(signals.dataTerminalReady !== undefined ? { dtr: signals.dataTerminalReady } : {}),
      ...(signals.requestToSend !== undefined ? { rts: signals.requestToSend } : {}),
      ...(signals.break !== undefined ? { brk: signals.break } : {}),
    });
  }

  async getSignals(): Promise<SerialInputSignals> {
    this.checkOpen('getSignals');
    // The bridges on ESP32 boards leave their modem inputs unconnected.
    return { dataCarrierDetect: false, clearToSend: false, ringIndicator: false, dataSetReady: false };
  }

  getInfo(): SerialPortInfo {
    const ids = this.board.usbIds;
    return {
      usbVendorId: this.options.vendorId ?? ids.vendorId,
      usbProductId: this.options.productId ?? ids.productId,
    };
  }

  async forget(): Promise<void> {
    if (this.state === 'opened') this.shutDown();
    this.forgotten = true;
    this.board.off('unplug', this.onUnplug);
    this.board.off('usb-detach', this.onUnplug);
  }

  private checkOpen(what: string): void {
    if (this.fatal) throw domError('NetworkError', 'The device has been lost.');
    if (this.state !== 'opened') throw domError('InvalidStateError', `Failed to execute '${what}' on 'SerialPort': The port is closed.`);
  }

  private dropReadable(stream: ReadableStream<Uint8Array>): void {
    if (this.readableStream !== stream) return;
    this.readableStream = null;
    this.readController = null;
    const wake = this.pullWaiter;
    this.pullWaiter = null;
    wake?.();
  }

  private shutDown(): void {
    this.state = 'closed';
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.inbox = [];
    const controller = this.readController;
    if (this.readableStream) this.dropReadable(this.readableStream);
    try {
      controller?.close();
    } catch {
      // already closed or errored
    }
    this.writableStream = null;
  }

  private deviceLost(): void {
    if (this.fatal) return;
    this.fatal = true;
    const controller = this.readController;
    const stream = this.readableStream;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.inbox = [];
    if (stream) this.dropReadable(stream);
    try {
      controller?.error(domError('NetworkError', 'The device has been lost.'));
    } catch {
      // already closed
    }
    this.writableStream = null;
    this.state = 'closed';
    const event = new Event('disconnect');
    this.dispatchEvent(event);
    this.ondisconnect?.call(this, event);
  }
}

export function createInProcessPort(board: VirtualBoard, options: InProcessPortOptions = {}): InProcessSerialPort {
  return new InProcessSerialPort(board, options);
}
