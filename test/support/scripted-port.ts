import type { SerialSignals, WebSerialPortLike } from '../../native/serial/web-serial-port.js';

/**
 * A Web-Serial-shaped port whose far end is a script: `onLine` sees each line the host writes and
 * may answer through `emit`. For testing readers against boards that misbehave on purpose.
 */
export class ScriptedPort implements WebSerialPortLike {
  readable: ReadableStream<Uint8Array> | null = null;
  writable: WritableStream<Uint8Array> | null = null;
  private controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  private pending = '';
  readonly written: string[] = [];

  constructor(private readonly onLine: (line: string, port: ScriptedPort) => void) {}

  async open(): Promise<void> {
    this.readable = new ReadableStream<Uint8Array>({ start: (c) => void (this.controller = c) });
    this.writable = new WritableStream<Uint8Array>({
      write: (chunk) => {
        this.pending += Buffer.from(chunk).toString('utf8');
        let nl: number;
        while ((nl = this.pending.indexOf('\n')) >= 0) {
          const line = this.pending.slice(0, nl);
          this.pending = this.pending.slice(nl + 1);
          this.written.push(line);
          this.onLine(line, this);
        }
      },
    });
  }

  emit(data: string | Uint8Array): void {
    try {
      this.controller?.enqueue(typeof data === 'string' ? new TextEncoder().encode(data) : data);
    } catch {
      // stream closed
    }
  }

  /** The board vanished (cable pulled). */
  disconnect(): void {
    try {
      this.controller?.close();
    } catch {
      // already closed
    }
  }

  async close(): Promise<void> {
    this.disconnect();
    this.readable = null;
    this.writable = null;
  }

  async setSignals(_signals: SerialSignals): Promise<void> {}

  getInfo(): { usbVendorId?: number; usbProductId?: number } {
    return {};
  }
}
