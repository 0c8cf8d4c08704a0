import { startEmbeddedStation } from './embedded-station.js';
import { HandedOverStationKey, serveStationHost, type HostEndpoint } from './station-host.js';
import type { HostMessage } from './station-host-protocol.js';

/**
 * Process entry of the station host: the station core (SQLite, PDF, serial, cloud) off the main
 * thread of the app. Electron forks it with `utilityProcess.fork` (bundled to
 * dist/electron/station-host.js); plain Node with `child_process.fork` (tests, app/station-host-node.ts).
 * The transport is picked from what the process was given: Electron's `process.parentPort`, else
 * Node's IPC channel (`process.send`). Secrets arrive only in the start message on that private
 * channel: never in argv or the environment, and nothing here logs them.
 */

/** Electron's `process.parentPort` in a utility process (typed here: app/ does not import electron). */
interface ParentPortLike {
  on(event: 'message', listener: (event: { data: unknown }) => void): unknown;
  postMessage(message: unknown): void;
}

function parentPortEndpoint(): HostEndpoint | null {
  const port = (process as unknown as { parentPort?: ParentPortLike }).parentPort;
  if (!port) return null;
  return {
    send: (message: HostMessage) => port.postMessage(message),
    onMessage: (listener) => {
      port.on('message', (event) => listener(event.data));
    },
  };
}

/** Node IPC sends are asynchronous: the last ones must leave the pipe before the process exits. */
let pendingSends: Promise<void> = Promise.resolve();

function nodeIpcEndpoint(): HostEndpoint | null {
  const send = process.send?.bind(process);
  if (!send) return null;
  return {
    send: (message: HostMessage) => {
      const sent = new Promise<void>((resolve) => {
        send(message, undefined, {}, () => resolve());
      });
      pendingSends = Promise.all([pendingSends, sent]).then(() => undefined);
    },
    onMessage: (listener) => {
      process.on('message', (raw: unknown) => listener(raw));
    },
  };
}

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

const endpoint = parentPortEndpoint() ?? nodeIpcEndpoint();
if (!endpoint) {
  log('station host: started without a parent channel (run it through utilityProcess.fork or child_process.fork)');
  process.exit(2);
}

const host = serveStationHost(endpoint, {
  start: (options, secrets) =>
    startEmbeddedStation({
      ...options,
      ...(secrets ? { keySource: new HandedOverStationKey(secrets.stationKey) } : {}),
      ...(secrets?.cloudCredentials ? { cloudCredentials: secrets.cloudCredentials } : {}),
      log,
    }),
  exit: (code) => {
    // Let the last message (closed / fatal) leave the channel before the process ends.
    void pendingSends.then(() => setImmediate(() => process.exit(code)));
  },
  log,
});

// A crash anywhere in the core is reported to the parent as `fatal` (then exit 1), never a silent hang.
process.on('uncaughtException', (err) => host.fail(err));
process.on('unhandledRejection', (reason) => host.fail(reason));
// Node parent gone (its IPC channel closed): close the database and ports, then exit. (An Electron
// utility process is ended by Electron when the app quits.)
process.on('disconnect', () => void host.shutdown());
