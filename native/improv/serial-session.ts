import type { WebSerialPortLike } from '../serial/web-serial-port.js';
import { ImprovParser, type ImprovPacket } from './improv-packet.js';

/**
 * One open console port shared by the two protocols that use it after flashing: Edgent's text
 * console (lines) and Improv Wi-Fi serial (binary packets on the same UART). Incoming bytes are
 * split by `ImprovParser`; console bytes become lines. Limits as in the self-test reader: long lines
 * are cut, and the whole session has a byte budget so a flooding board cannot fill memory.
 */
export const SESSION_BAUD = 115_200;
const MAX_LINE_BYTES = 1024;
const SESSION_BYTE_BUDGET = 256 * 1024;

type Waiter<T> = { match: (item: T) => boolean; resolve: (item: T | null) => void; timer: ReturnType<typeof setTimeout> };

export class SerialSession {
  private readonly parser = new ImprovParser();
  private partial: number[] = [];
  private readonly lines: string[] = [];
  private readonly packets: ImprovPacket[] = [];
  private lineWaiters: Waiter<string>[] = [];
  private packetWaiters: Waiter<ImprovPacket>[] = [];
  private consumed = 0;
  private closed = false;
  private writer: WritableStreamDefaultWriter<Uint8Array> | null = null;
  private reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  private pump: Promise<void> = Promise.resolve();
  /** Every console line seen (callers redact before storing). */
  readonly log: string[] = [];
  /** Why the session ended early (flood, disconnect), if it did. */
  endReason: string | null = null;

  private constructor(private readonly port: WebSerialPortLike) {}

  static async open(port: WebSerialPortLike): Promise<SerialSession> {
    const session = new SerialSession(port);
    await port.open({ baudRate: SESSION_BAUD });
    if (!port.readable || !port.writable) {
      await port.close().catch(() => undefined);
      throw new Error('the serial port has no streams');
    }
    session.writer = port.writable.getWriter();
    session.reader = port.readable.getReader();
    const reader = session.reader;
    session.pump = (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          if (value) session.push(value);
        }
      } catch {
        // the port went away: waiters time out or see `closed`
      } finally {
        session.finish(session.endReason ?? 'disconnected');
      }
    })();
    return session;
  }

  async sendLine(text: string): Promise<void> {
    await this.sendBytes(new TextEncoder().encode(`${text}\n`));
  }

  async sendBytes(bytes: Uint8Array): Promise<void> {
    if (this.closed || !this.writer) throw new Error(`the board is gone (${this.endReason ?? 'closed'})`);
    await this.writer.write(bytes);
  }

  /** The next console line (already received ones first) that `match`es, or null after `timeoutMs`. */
  nextLine(match: (line: string) => boolean, timeoutMs: number): Promise<string | null> {
    return this.take(this.lines, this.lineWaiters, match, timeoutMs);
  }

  nextPacket(match: (packet: ImprovPacket) => boolean, timeoutMs: number): Promise<ImprovPacket | null> {
    return this.take(this.packets, this.packetWaiters, match, timeoutMs);
  }

  /** Forget what arrived so far (before a command whose answer must be fresh). */
  drain(): void {
    this.lines.length = 0;
    this.packets.length = 0;
  }

  async close(): Promise<void> {
    this.writer?.releaseLock();
    await this.reader?.cancel().catch(() => undefined);
    this.reader?.releaseLock();
    await this.port.close().catch(() => undefined);
    await this.pump;
    this.finish('closed');
  }

  private take<T>(queue: T[], waiters: Waiter<T>[], match: (item: T) => boolean, timeoutMs: number): Promise<T | null> {
    const index = queue.findIndex(match);
    if (index >= 0) return Promise.resolve(queue.splice(index, 1)[0] ?? null);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      const waiter: Waiter<T> = {
        match,
        resolve: (item) => {
          clearTimeout(waiter.timer);
          resolve(item);
        },
        timer: setTimeout(() => {
          const at = waiters.indexOf(waiter);
          if (at >= 0) waiters.splice(at, 1);
          resolve(null);
        }, timeoutMs),
      };
      waiters.push(waiter);
    });
  }

  private deliver<T>(item: T, queue: T[], waiters: Waiter<T>[]): void {
    const at = waiters.findIndex((w) => w.match(item));
    if (at >= 0) {
      const [waiter] = waiters.splice(at, 1);
      waiter?.resolve(item);
    } else {
      queue.push(item);
    }
  }

  private push(bytes: Uint8Array): void {
    if (this.closed) return;
    this.consumed += bytes.length;
    if (this.consumed > SESSION_BYTE_BUDGET) {
      this.endReason = 'flooded the serial line';
      this.finish(this.endReason);
      return;
    }
    for (const chunk of this.parser.push(bytes)) {
      if (chunk.kind === 'packet') this.deliver(chunk.packet, this.packets, this.packetWaiters);
      else if (chunk.kind === 'console') this.consoleBytes(chunk.bytes);
    }
  }

  private consoleBytes(bytes: Uint8Array): void {
    for (const byte of bytes) {
      if (byte === 0x0a) {
        const line = Buffer.from(this.partial).toString('utf8').replace(/\r$/, '');
        this.partial = [];
        this.log.push(line);
        this.deliver(line, this.lines, this.lineWaiters);
      } else if (this.partial.length < MAX_LINE_BYTES) {
        this.partial.push(byte);
      }
    }
  }

  private finish(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.endReason ??= reason;
    for (const w of this.lineWaiters.splice(0)) w.resolve(null);
    for (const w of this.packetWaiters.splice(0)) w.resolve(null);
  }
}
