import type { BoardInfo } from '../../common/board.js';
import { stationError } from '../../common/errors.js';
import { SerialportAdapter } from '../serial/serialport-adapter.js';
import type { WebSerialPortLike } from '../serial/web-serial-port.js';
import { BoardWatcherBase, type AttachedBoard } from '../usb/board-watcher.js';
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

interface Seat {
  board: VirtualBoard;
  pty: PtyHost | null;
  attached: AttachedBoard;
}

/**
 * The simulator of the board watcher: a fixture of virtual boards, one per slot, that the station
 * sees exactly as it sees USB boards (attach/detach events, a port to open).
 */
export class VirtualRack extends BoardWatcherBase {
  private readonly seats = new Map<string, Seat>();

  constructor(private readonly options: VirtualRackOptions) {
    super();
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
    // What the board's USB side reports: its bridge (a CP2102 by default) or USB-Serial/JTAG (303a:1001).
    const usb = { usbVendorId: board.usbIds.vendorId, usbProductId: board.usbIds.productId };
    if (this.options.transport === 'pty') {
      const host = await hostBoardOnPty(board);
      pty = host;
      port = host.path;
      openPort = () =>
        new SerialportAdapter({
          path: host.path,
          ...usb,
          signalSink: ({ dtr, rts, brk }) => host.setLines({ dtr, rts, brk }),
        });
    } else {
      port = `sim:${slotId}`;
      openPort = () => createInProcessPort(board) as unknown as WebSerialPortLike;
    }
    const info: BoardInfo = { port, transport: 'virtual', ...usb };
    const attached: AttachedBoard = { info, location: slotId, openPort };
    this.seats.set(slotId, { board, pty, attached });
    this.options.log?.(`virtual board plugged into ${slotId} on ${port}`);
    this.emitAttach(attached);
    // A USB-Serial/JTAG board with `reenumerateOnReset` comes back after a reset: announce it again
    // at the same location, as the USB watcher does (no detach: the gap is shorter than its grace).
    board.on('usb-attach', () => {
      if (this.seats.get(slotId)?.board !== board) return;
      this.options.log?.(`virtual board in ${slotId} re-enumerated`);
      this.emitAttach(attached);
    });
    return { port };
  }

  async unplug(slotId: string): Promise<void> {
    const seat = this.seats.get(slotId);
    if (!seat) return;
    this.seats.delete(slotId);
    seat.board.unplug();
    this.emitDetach(slotId);
    await seat.pty?.close();
    seat.board.dispose();
  }

  async close(): Promise<void> {
    for (const slotId of [...this.seats.keys()]) await this.unplug(slotId);
  }
}
