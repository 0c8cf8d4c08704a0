import { utilityProcess } from 'electron';
import type { HostChannel } from '../app/station-host-client.js';
import type { ParentMessage } from '../app/station-host-protocol.js';

/** Name of the station core in Electron's process list (`app.getAppMetrics`, `child-process-gone`). */
export const STATION_HOST_SERVICE_NAME = 'Flashline station core';

/**
 * The station host (app/station-host-entry.ts, bundled to dist/electron/station-host.js) in an
 * Electron utility process: a Node.js child launched by Chromium's process model, so SQLite, PDF
 * rendering, serial I/O and the embedded cloud never block the main process that owns the windows.
 * Messages posted before the child has spawned are queued here and sent on `spawn`.
 *
 * No secrets on the command line or in the environment: the child inherits only what the main
 * process has, and the station key reaches it in the `start` message on this private channel.
 */
export function forkUtilityHost(entryPath: string, log: (line: string) => void = () => undefined): HostChannel {
  const child = utilityProcess.fork(entryPath, [], {
    serviceName: STATION_HOST_SERVICE_NAME,
    stdio: 'inherit',
  });
  let spawned = false;
  let exited = false;
  const queued: ParentMessage[] = [];
  const exitListeners: ((code: number | null) => void)[] = [];

  child.once('spawn', () => {
    spawned = true;
    for (const message of queued.splice(0)) child.postMessage(message);
  });
  child.on('error', (type, location) => {
    // V8 fatal error in the child; `exit` follows and the supervisor decides what to do.
    log(`station core fatal error (${type}) at ${location}`);
  });
  child.once('exit', (code) => {
    exited = true;
    queued.length = 0;
    for (const listener of exitListeners) listener(code);
  });

  return {
    send(message) {
      if (exited) throw new Error('station core has exited');
      if (spawned) child.postMessage(message);
      else queued.push(message);
    },
    onMessage(listener) {
      child.on('message', (raw: unknown) => listener(raw));
    },
    onExit(listener) {
      if (exited) queueMicrotask(() => listener(null));
      else exitListeners.push(listener);
    },
    kill() {
      if (!exited) child.kill();
    },
  };
}
