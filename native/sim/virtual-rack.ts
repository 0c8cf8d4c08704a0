import type { BoardInfo } from '../../common/board.js';
import { stationError } from '../../common/errors.js';
import { SerialportAdapter } from '../serial/serialport-adapter.js';
import type { WebSerialPortLike } from '../serial/web-serial-port.js';
import type { AttachedBoard, BoardWatcher, BoardWatcherEvents } from '../usb/board-watcher.js';
import { createInProcessPort } from './in-process-port.js';
import { hostBoardOnPty, type PtyHost } from './pty-host.js';
import { VirtualBoard, type VirtualBoardOptions } from './virtual-board.js';

/**
 * `pty`: each board on its own pseudo-terminal, opened with the real `serialport` package (the
 * production path; modem lines go through the host's side channel). `in-process`: a Web-Serial port
 * object wired straight to the board (no OS involved; works everywhere).
 */
export type VirtualRackTransport = 'pty' | 'in-process';

export interface VirtualRackOptions {
  transport: VirtualRackTransport;
  throttle?: boolean;
  /** Options for every board plugged (chip, firmware version, faults …). */
  board?: VirtualBoardOptions;
  log?: (line: string) => void;
}

/** What a CP2102 bridge reports over USB, as on most ESP32 dev boards. */
const CP2102 = { usbVendorId: 0x10c4, usbProductId: 0xea60 };

interface Seat {
  board: VirtualBoard;
  pty: PtyHost | null;
  attached: AttachedBoard;
}

/**
 * The simulator of the board watcher: a fixture of virtual boards, one per slot, that the station
 * sees exactly as it sees USB boards (attach/detach events, a port to open).
 */
export class VirtualRack implements BoardWatcher {
  private readonly seats = new Map<string, Seat>();
  private readonly attachListeners = new Set<BoardWatcherEvents['attach']>();
  private readonly detachListeners = new Set<BoardWatcherEvents['detach']>();

  constructor(private readonly options: VirtualRackOptions) {}

  on<E extends keyof BoardWatcherEvents>(event: E, listener: BoardWatcherEvents[E]): void {
    if (event === 'attach') this.attachListeners.add(listener as BoardWatcherEvents['attach']);
    else this.detachListeners.add(listener as BoardWatcherEvents['detach']);
  }

  off<E extends keyof BoardWatcherEvents>(event: E, listener: BoardWatcherEvents[E]): void {
    if (event === 'attach') this.attachListeners.delete(listener as BoardWatcherEvents['attach']);
    else this.detachListeners.delete(listener as BoardWatcherEvents['detach']);
  }

  attached(): AttachedBoard[] {
    return [...this.seats.values()].map((s) => s.attached);
  }

  boardIn(slotId: string): VirtualBoard | undefined {
    return this.seats.get(slotId)?.board;
  }

  async plug(slotId: string, boardOptions: VirtualBoardOptions = {}): Promise<{ port: string }> {
    if (this.seats.has(slotId)) throw stationError('BUSY', `Slot ${slotId.replace('slot-', '')} already has a board.`, true);
    const board = new VirtualBoard({ throttle: this.options.throttle ?? false, ...this.options.board, ...boardOptions });
    await board.ready;
    let pty: PtyHost | null = null;
    let port: string;
    let openPort: () => WebSerialPortLike;
    if (this.options.transport === 'pty') {
      const host = await hostBoardOnPty(board);
      pty = host;
      port = host.path;
      openPort = () =>
        new SerialportAdapter({
          path: host.path,
          ...CP2102,
          signalSink: ({ dtr, rts, brk }) => host.setLines({ dtr, rts, brk }),
        });
    } else {
      port = `sim:${slotId}`;
      openPort = () => createInProcessPort(board, { vendorId: CP2102.usbVendorId, productId: CP2102.usbProductId }) as unknown as WebSerialPortLike;
    }
    const info: BoardInfo = { port, transport: 'virtual', ...CP2102 };
    const attached: AttachedBoard = { info, location: slotId, openPort };
    this.seats.set(slotId, { board, pty, attached });
    this.options.log?.(`virtual board plugged into ${slotId} on ${port}`);
    for (const listener of this.attachListeners) listener(attached);
    return { port };
  }

  async unplug(slotId: string): Promise<void> {
    const seat = this.seats.get(slotId);
    if (!seat) return;
    this.seats.delete(slotId);
    seat.board.unplug();
    for (const listener of this.detachListeners) listener(slotId);
    await seat.pty?.close();
    seat.board.dispose();
  }

  async close(): Promise<void> {
    for (const slotId of [...this.seats.keys()]) await this.unplug(slotId);
  }
}
