import { createHash, randomBytes } from 'node:crypto';
import { ESPLoader, Transport } from 'esptool-js';

type LoaderOptions = ConstructorParameters<typeof ESPLoader>[0];
import { createInProcessPort, type InProcessPortOptions, type InProcessSerialPort } from '../../../native/sim/in-process-port.js';
import { SlipDecoder, slipEncode } from '../../../native/sim/slip.js';
import type { VirtualBoard } from '../../../native/sim/virtual-board.js';

/** esptool-js prints through this; tests keep it quiet but keep the text for assertions. */
export function silentTerminal() {
  const lines: string[] = [];
  return {
    lines,
    clean() {},
    writeLine(text: string) {
      lines.push(text);
    },
    write(text: string) {
      lines.push(text);
    },
  };
}

export function md5Hex(data: Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}

export function randomData(size: number): Uint8Array {
  return new Uint8Array(randomBytes(size));
}

export interface EsptoolRig {
  port: InProcessSerialPort;
  transport: Transport;
  loader: ESPLoader;
  terminal: ReturnType<typeof silentTerminal>;
  close(): Promise<void>;
}

/** The real esptool-js ESPLoader + Transport on an in-process port to `board`. */
export function esptoolRig(
  board: VirtualBoard,
  options: Partial<Omit<LoaderOptions, 'transport' | 'terminal' | 'port'>> & { portOptions?: InProcessPortOptions } = {},
): EsptoolRig {
  const { portOptions, ...loaderOptions } = options;
  const port = createInProcessPort(board, portOptions);
  const transport = new Transport(port, false);
  const terminal = silentTerminal();
  const loader = new ESPLoader({ baudrate: 115200, ...loaderOptions, transport, terminal });
  return {
    port,
    transport,
    loader,
    terminal,
    async close() {
      if (port.readable || port.writable) await transport.disconnect().catch(() => undefined);
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface Reply {
  op: number;
  value: number;
  /** Everything after the 8-byte header (data and status bytes). */
  body: Uint8Array;
}

/** Drive the loader protocol by hand: SLIP frames in, parsed frames out. */
export class Wire {
  readonly frames: Uint8Array[] = [];
  readonly text: string[] = [];
  private readonly decoder = new SlipDecoder();
  private readonly unsubscribe: () => void;

  constructor(private readonly board: VirtualBoard) {
    this.unsubscribe = board.onData((bytes) => {
      for (const event of this.decoder.push(bytes)) {
        if (event.kind === 'frame') this.frames.push(event.payload);
        else if (event.kind === 'noise') this.text.push(Buffer.from(event.bytes).toString('latin1'));
      }
    });
  }

  send(op: number, data: Uint8Array = new Uint8Array(0), checksum = 0): void {
    this.board.write(slipEncode(packet(op, data, checksum)));
  }

  sendRaw(payload: Uint8Array): void {
    this.board.write(slipEncode(payload));
  }

  /** Wait until at least `count` frames are in, then take them. */
  async take(count: number, timeoutMs = 1000): Promise<Uint8Array[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} frames, got ${this.frames.length}`);
      await sleep(1);
    }
    return this.frames.splice(0, count);
  }

  async reply(timeoutMs = 1000): Promise<Reply> {
    const [frame] = await this.take(1, timeoutMs);
    return parseReply(frame!);
  }

  /** Send and wait for the reply to that opcode. */
  async command(op: number, data: Uint8Array = new Uint8Array(0), checksum = 0): Promise<Reply> {
    this.send(op, data, checksum);
    return this.reply();
  }

  /** Wait for quiet, then return whatever arrived. */
  async drain(quietMs = 30): Promise<Uint8Array[]> {
    let last = -1;
    while (this.frames.length !== last) {
      last = this.frames.length;
      await sleep(quietMs);
    }
    return this.frames.splice(0, this.frames.length);
  }

  close(): void {
    this.unsubscribe();
  }
}

export function packet(op: number, data: Uint8Array, checksum = 0): Uint8Array {
  const out = new Uint8Array(8 + data.length);
  const view = new DataView(out.buffer);
  out[0] = 0x00;
  out[1] = op;
  view.setUint16(2, data.length, true);
  view.setUint32(4, checksum, true);
  out.set(data, 8);
  return out;
}

export function parseReply(frame: Uint8Array): Reply {
  if (frame[0] !== 0x01) throw new Error(`not a response frame: ${Buffer.from(frame).toString('hex')}`);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  return { op: frame[1]!, value: view.getUint32(4, true), body: frame.subarray(8) };
}

export function words(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setUint32(i * 4, v >>> 0, true));
  return out;
}

export function checksumOf(data: Uint8Array): number {
  let c = 0xef;
  for (const b of data) c ^= b;
  return c;
}

/** A `_DATA` command payload: `len, seq, 0, 0, data`. */
export function dataPayload(seq: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(16 + data.length);
  out.set(words(data.length, seq, 0, 0), 0);
  out.set(data, 16);
  return out;
}

/** Read one console line (CR LF stripped) from a board, skipping lines that do not match. */
export function lineCollector(board: VirtualBoard) {
  const lines: string[] = [];
  let partial = '';
  const unsubscribe = board.onData((bytes) => {
    partial += Buffer.from(bytes).toString('latin1');
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      lines.push(partial.slice(0, nl).replace(/\r$/, ''));
      partial = partial.slice(nl + 1);
    }
  });
  return {
    lines,
    async waitFor(match: (line: string) => boolean, timeoutMs = 1000): Promise<string> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = lines.find(match);
        if (found !== undefined) return found;
        if (Date.now() > deadline) throw new Error(`no matching line; got:\n${lines.join('\n')}`);
        await sleep(2);
      }
    },
    close: unsubscribe,
  };
}
