import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { StationError } from '../../common/errors.js';

/** The board host prints its ready line within this (tsx compiles the sources on a cold start). */
export const BOARD_HOST_START_TIMEOUT_MS = 30_000;
/** After SIGTERM, how long the host may take to unplug its boards before it is killed. */
export const BOARD_HOST_STOP_TIMEOUT_MS = 5_000;

export interface SpawnedBoardHost {
  socketPath: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `board-host-main.ts` in a child Node process (through tsx) listening on `socketPath`. */
export async function spawnBoardHost(socketPath: string, options: { throttle?: boolean } = {}): Promise<SpawnedBoardHost> {
  const main = join(import.meta.dirname, 'board-host-main.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', main, socketPath, ...(options.throttle ? ['--throttle'] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-4000)));
  await new Promise<void>((resolve, reject) => {
    const fail = (why: string) => reject(new StationError({ code: 'INTERNAL', message: `The board host did not start (${why}).`, operatorFault: false }));
    const timer = setTimeout(() => fail('no ready line in time'), BOARD_HOST_START_TIMEOUT_MS);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('board host ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(`exited with ${code}: ${out.trim().slice(-400)}`);
    });
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return {
    socketPath,
    child,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), BOARD_HOST_STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
