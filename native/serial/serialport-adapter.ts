import { SerialPort } from 'serialport';
import type { SerialSignals, SignalSink, WebSerialPortLike } from './web-serial-port.js';

export interface SerialportAdapterOptions {
  path: string;
  usbVendorId?: number;
  usbProductId?: number;
  /** Overrides where DTR/RTS go (virtual boards on a pty). Default: the port's own modem lines. */
  signalSink?: SignalSink;
}

/**
 * A Web-Serial-shaped port over the `serialport` package, so esptool-js (written for browsers) runs
 * in Node. Bytes read are pushed into a ReadableStream as they arrive; writes resolve once the OS
 * accepted them (`drain`), which keeps esptool-js's request/response timing honest.
 */
export class SerialportAdapter implements WebSerialPortLike {
  private port: SerialPort | null = null;
  private readableStream: ReadableStream<Uint8Array> | null = null;
  private writableStream: WritableStream<Uint8Array> | null = null;
  // DTR and RTS are always sent together: esptool-js sets them one at a time, and some bridges
  // (and Windows usbser.sys) only apply a line change when both are in the same request.
  private lines = { dtr: false, rts: false, brk: false };

  constructor(private readonly options: SerialportAdapterOptions) {}

  get readable(): ReadableStream<Uint8Array> | null {
    return this.readableStream;
  }

  get writable(): WritableStream<Uint8Array> | null {
    return this.writableStream;
  }

  getInfo(): { usbVendorId?: number; usbProductId?: number } {
    const info: { usbVendorId?: number; usbProductId?: number } = {};
    if (this.options.usbVendorId !== undefined) info.usbVendorId = this.options.usbVendorId;
    if (this.options.usbProductId !== undefined) info.usbProductId = this.options.usbProductId;
    return info;
  }

  async open({ baudRate }: { baudRate: number }): Promise<void> {
    if (this.port) throw new Error(`serial port ${this.options.path} is already open`);
    const port = new SerialPort({ path: this.options.path, baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    this.port = port;
    this.readableStream = new ReadableStream<Uint8Array>({
      start(controller) {
        port.on('data', (chunk: Buffer) => controller.enqueue(new Uint8Array(chunk)));
        port.on('close', () => {
          try {
            controller.close();
          } catch {
            // already closed or cancelled
          }
        });
        port.on('error', (err) => {
          try {
            controller.error(err);
          } catch {
            // already errored
          }
        });
      },
      cancel() {
        port.removeAllListeners('data');
      },
    });
    this.writableStream = new WritableStream<Uint8Array>({
      write(chunk) {
        return new Promise<void>((resolve, reject) => {
          port.write(Buffer.from(chunk), (err) => {
            if (err) reject(err);
          });
          port.drain((err) => (err ? reject(err) : resolve()));
        });
      },
    });
  }

  async close(): Promise<void> {
    const port = this.port;
    this.port = null;
    this.readableStream = null;
    this.writableStream = null;
    if (!port || !port.isOpen) return;
    await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  async setBaudRate(baudRate: number): Promise<void> {
    const port = this.port;
    if (!port) throw new Error('serial port is not open');
    await new Promise<void>((resolve, reject) => port.update({ baudRate }, (err) => (err ? reject(err) : resolve())));
  }

  async setSignals(signals: SerialSignals): Promise<void> {
    if (signals.dataTerminalReady !== undefined) this.lines.dtr = signals.dataTerminalReady;
    if (signals.requestToSend !== undefined) this.lines.rts = signals.requestToSend;
    if (signals.break !== undefined) this.lines.brk = signals.break;
    const lines = { ...this.lines };
    if (this.options.signalSink) {
      await this.options.signalSink(lines);
      return;
    }
    const port = this.port;
    if (!port) throw new Error('serial port is not open');
    await new Promise<void>((resolve, reject) =>
      port.set({ dtr: lines.dtr, rts: lines.rts, brk: lines.brk }, (err) => (err ? reject(err) : resolve())),
    );
  }
}
