import { connect, type Socket } from 'node:net';
import { StationError } from '../../common/errors.js';
import { SerialportAdapter } from '../serial/serialport-adapter.js';
import type { WebSerialPortLike } from '../serial/web-serial-port.js';
import { BoardWatcherBase, type AttachedBoard } from '../usb/board-watcher.js';
import type { BoardHostEvent, BoardHostFaults, HostedBoard } from './board-host.js';
import type { VirtualBoardOptions } from './virtual-board.js';

/** Connecting to a board host's control socket. */
export const BOARD_HOST_CONNECT_TIMEOUT_MS = 5_000;
/** One control request (plug spawns a pty helper: the slowest). */
export const BOARD_HOST_REQUEST_TIMEOUT_MS = 15_000;

type Reply = { id: number | null; ok: true; result: unknown } | { id: number | null; ok: false; error: string };

/** The control connection to a `BoardHost` (see board-host.ts for the protocol). */
export class BoardHostClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> }>();
  private readonly listeners = new Set<(event: BoardHostEvent) => void>();

  private constructor(private readonly socket: Socket) {
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      buffer += text;
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        const message = JSON.parse(line) as Reply | BoardHostEvent;
        if ('event' in message) for (const listener of this.listeners) listener(message);
        else if (typeof message.id === 'number') {
          const waiter = this.pending.get(message.id);
          if (!waiter) continue;
          this.pending.delete(message.id);
          clearTimeout(waiter.timer);
          if (message.ok) waiter.resolve(message.result);
          else waiter.reject(new Error(`board host: ${message.error}`));
        }
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      for (const [, waiter] of this.pending) {
        clearTimeout(waiter.timer);
        waiter.reject(new Error('board host connection closed'));
      }
      this.pending.clear();
    });
  }

  static connect(socketPath: string): Promise<BoardHostClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(socketPath);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new StationError({ code: 'INTERNAL', message: `The board host at ${socketPath} did not answer in time.`, operatorFault: false }));
      }, BOARD_HOST_CONNECT_TIMEOUT_MS);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new BoardHostClient(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new StationError({ code: 'INTERNAL', message: `Could not reach the board host at ${socketPath}.`, operatorFault: false }, { cause: err }));
      });
    });
  }

  onEvent(listener: (event: BoardHostEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private request<T>(message: Record<string, unknown>): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`board host: no answer to ${String(message.op)} in time`));
      }, BOARD_HOST_REQUEST_TIMEOUT_MS);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.socket.write(`${JSON.stringify({ id, ...message })}\n`);
    });
  }

  plug(slotId: string, board: { seed?: number; mac?: string; faults?: BoardHostFaults } = {}): Promise<HostedBoard> {
    return this.request({ op: 'plug', slotId, board });
  }

  unplug(slotId: string): Promise<void> {
    return this.request({ op: 'unplug', slotId });
  }

  setFaults(slotId: string, faults: BoardHostFaults): Promise<void> {
    return this.request({ op: 'setFaults', slotId, faults });
  }

  /** Tells the host where the boards' applications find the cloud (see BoardHost.configure). */
  configure(cloud: { cloudUrl?: string; templateId?: string }): Promise<void> {
    return this.request({ op: 'configure', ...cloud });
  }

  list(): Promise<HostedBoard[]> {
    return this.request({ op: 'list' });
  }

  boards(): Promise<{ mac: string; slotId: string | null }[]> {
    return this.request({ op: 'boards' });
  }

  async readFlash(mac: string, offset: number, size: number): Promise<Uint8Array> {
    const base64 = await this.request<string>({ op: 'readFlash', mac, offset, size });
    return new Uint8Array(Buffer.from(base64, 'base64'));
  }

  /** DTR/RTS/BREAK of a board's bridge; fire and forget, in order with the other lines. */
  setLines(slotId: string, change: { dtr?: boolean; rts?: boolean; brk?: boolean }): void {
    if (!this.socket.destroyed) this.socket.write(`${JSON.stringify({ op: 'lines', slotId, ...change })}\n`);
  }

  close(): void {
    this.socket.end();
    this.socket.destroy();
  }
}

/**
 * The station's side of a board host: a board watcher whose boards live in another process, on
 * pseudo-terminals opened with the real `serialport` package; DTR/RTS go over the control socket.
 */
export class RemoteRack extends BoardWatcherBase {
  private readonly boards = new Map<string, AttachedBoard>();

  private constructor(readonly client: BoardHostClient, private readonly log: (line: string) => void) {
    super();
    client.onEvent((event) => {
      if (event.event === 'attach') this.attach(event);
      else if (this.boards.delete(event.slotId)) this.emitDetach(event.slotId);
    });
  }

  /** `cloud`: the station's cloud for the boards' applications (their self-test's cloud check). */
  static async connect(socketPath: string, log: (line: string) => void = () => undefined, cloud: { cloudUrl?: string; templateId?: string } = {}): Promise<RemoteRack> {
    const client = await BoardHostClient.connect(socketPath);
    if (cloud.cloudUrl || cloud.templateId) await client.configure(cloud);
    const rack = new RemoteRack(client, log);
    for (const hosted of await client.list()) rack.attach(hosted);
    return rack;
  }

  attached(): AttachedBoard[] {
    return [...this.boards.values()];
  }

  close(): void {
    this.client.close();
  }

  private attach(hosted: HostedBoard): void {
    const { slotId, path, usbVendorId, usbProductId } = hosted;
    const attached: AttachedBoard = {
      info: { port: path, transport: 'virtual', usbVendorId, usbProductId },
      location: slotId,
      openPort: (): WebSerialPortLike =>
        new SerialportAdapter({ path, usbVendorId, usbProductId, signalSink: (lines) => this.client.setLines(slotId, lines) }),
    };
    this.boards.set(slotId, attached);
    this.log(`board host: board in ${slotId} on ${path}`);
    this.emitAttach(attached);
  }
}

/** The cloud part of a virtual board's options, as the board host's `configure` takes it. */
export function boardHostCloud(board: VirtualBoardOptions): { cloudUrl?: string; templateId?: string } {
  return { ...(board.cloudUrl ? { cloudUrl: board.cloudUrl } : {}), ...(board.app?.templateId ? { templateId: board.app.templateId } : {}) };
}
