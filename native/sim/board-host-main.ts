/**
 * A board host as a process of its own: `node --import tsx native/sim/board-host-main.ts <socket> [--throttle]`.
 * Prints `board host ready on <socket>` once it listens; SIGTERM unplugs every board and exits.
 * Used by the shift bench (boards off the station's event loop) and the crash harness (boards that
 * outlive a SIGKILLed station).
 */
import { rmSync } from 'node:fs';
import { BoardHost } from './board-host.js';

const socketPath = process.argv[2];
if (!socketPath) {
  process.stderr.write('usage: board-host-main.ts <socket path> [--throttle]\n');
  process.exit(2);
}
rmSync(socketPath, { force: true });
const host = await BoardHost.start({ socketPath, board: { throttle: process.argv.includes('--throttle') } });
process.stdout.write(`board host ready on ${socketPath}\n`);
const stop = () => {
  void host.close().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
