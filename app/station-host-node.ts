import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { HostChannel } from './station-host-client.js';
import type { ParentMessage } from './station-host-protocol.js';

/**
 * The station host as a plain Node child (`child_process.fork`): the same entry the Electron utility
 * process runs, over Node's IPC channel. `serialization: 'advanced'` gives the structured-clone
 * semantics `UtilityProcess.postMessage` has, so both transports carry the same messages.
 */
export const STATION_HOST_ENTRY = fileURLToPath(new URL('./station-host-entry.ts', import.meta.url));

export interface NodeHostOptions {
  /** Entry module (default: this folder's TypeScript entry, run through tsx). */
  entry?: string;
  /** Extra Node flags; the TypeScript entry needs the tsx loader (`--import tsx`), which is the default. */
  execArgv?: string[];
  /** stderr of the host: 'inherit' (default) or 'pipe' (then read `child.stderr`). */
  stderr?: 'inherit' | 'pipe';
  env?: NodeJS.ProcessEnv;
}

export interface NodeHost {
  channel: HostChannel;
  child: ChildProcess;
}

export function forkNodeHost(options: NodeHostOptions = {}): NodeHost {
  const child = fork(options.entry ?? STATION_HOST_ENTRY, [], {
    execArgv: options.execArgv ?? ['--import', 'tsx'],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', options.stderr ?? 'inherit', 'ipc'],
    ...(options.env ? { env: options.env } : {}),
  });
  // A send racing the child's exit reports here; the exit listener below rejects whatever waits.
  child.on('error', () => undefined);
  let exited = false;
  const exitListeners: ((code: number | null) => void)[] = [];
  child.once('exit', (code) => {
    exited = true;
    for (const listener of exitListeners) listener(code);
  });
  const channel: HostChannel = {
    send(message: ParentMessage) {
      if (!child.connected) throw new Error('station host channel is closed');
      child.send(message);
    },
    onMessage(listener) {
      child.on('message', (raw: unknown) => listener(raw));
    },
    onExit(listener) {
      if (exited) queueMicrotask(() => listener(child.exitCode));
      else exitListeners.push(listener);
    },
    kill() {
      if (!exited) child.kill('SIGKILL');
    },
  };
  return { channel, child };
}
