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
