import type { BoardInfo } from '../../common/board.js';
import type { WebSerialPortLike } from '../serial/web-serial-port.js';

/**
 * A board that appeared on a port. `location` is the physical position (USB hub port path, or the
 * virtual slot) that maps to a fixture slot; `openPort` gives a fresh Web-Serial-shaped port each
 * time (flashing and the self-test open it one after the other).
 */
export interface AttachedBoard {
  info: BoardInfo;
  location: string;
  openPort(): WebSerialPortLike;
}

export interface BoardWatcherEvents {
  attach: (board: AttachedBoard) => void;
  detach: (location: string) => void;
}

/** USB attach/detach joined with the serial port list; the simulator implements the same. */
export interface BoardWatcher {
  on<E extends keyof BoardWatcherEvents>(event: E, listener: BoardWatcherEvents[E]): void;
  off<E extends keyof BoardWatcherEvents>(event: E, listener: BoardWatcherEvents[E]): void;
  /** Boards present right now. */
  attached(): AttachedBoard[];
}

/** The listener bookkeeping every watcher shares (USB, simulator). */
export abstract class BoardWatcherBase implements BoardWatcher {
  private readonly attachListeners = new Set<BoardWatcherEvents['attach']>();
  private readonly detachListeners = new Set<BoardWatcherEvents['detach']>();

  abstract attached(): AttachedBoard[];

  on<E extends keyof BoardWatcherEvents>(event: E, listener: BoardWatcherEvents[E]): void {
    if (event === 'attach') this.attachListeners.add(listener as BoardWatcherEvents['attach']);
    else this.detachListeners.add(listener as BoardWatcherEvents['detach']);
  }

  off<E extends keyof BoardWatcherEvents>(event: E, listener: BoardWatcherEvents[E]): void {
    if (event === 'attach') this.attachListeners.delete(listener as BoardWatcherEvents['attach']);
    else this.detachListeners.delete(listener as BoardWatcherEvents['detach']);
  }

  protected emitAttach(board: AttachedBoard): void {
    for (const listener of this.attachListeners) listener(board);
  }

  protected emitDetach(location: string): void {
    for (const listener of this.detachListeners) listener(location);
  }
}
