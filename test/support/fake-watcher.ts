import { BoardWatcherBase, type AttachedBoard } from '../../native/usb/board-watcher.js';
import { ScriptedPort } from './scripted-port.js';

/** A board watcher for engine tests: plug/unplug by location; ports answer nothing. */
export class FakeWatcher extends BoardWatcherBase {
  private boards: AttachedBoard[] = [];

  attached(): AttachedBoard[] {
    return this.boards;
  }

  plug(location: string): void {
    const board: AttachedBoard = {
      info: { port: `/dev/fake-${location}`, transport: 'virtual' },
      location,
      openPort: () => new ScriptedPort(() => undefined),
    };
    this.boards.push(board);
    this.emitAttach(board);
  }

  unplug(location: string): void {
    this.boards = this.boards.filter((b) => b.location !== location);
    this.emitDetach(location);
  }
}
