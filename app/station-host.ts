import type { StationApi, StationEvent } from '../common/api.js';
import { isCommandName } from '../common/api.js';
import { COMMAND_ARG_SCHEMAS } from '../common/command-schemas.js';
import { stationError, toErrorData, type StationErrorData } from '../common/errors.js';
import { STATION_KEY_BYTES, type StationKeySource } from '../core/secrets/station-key.js';
import {
  HOST_PROTOCOL_VERSION,
  parseParentMessage,
  type HostMessage,
  type HostSecrets,
  type HostStartOptions,
  type ParentMessage,
} from './station-host-protocol.js';

/**
 * The child side of the station host protocol (app/station-host-protocol.ts): runs the station core
 * and answers the parent. Transport-agnostic: the entry (app/station-host-entry.ts) hands it an
 * endpoint over Electron's `process.parentPort` or Node's IPC channel.
 *
 * States: waiting-start → starting → running → closing → closed, and failed from starting/running.
 */
export interface HostEndpoint {
  send(message: HostMessage): void;
  onMessage(listener: (raw: unknown) => void): void;
}

/** What the host runs: the station API plus what `ready` reports and a clean close. */
export interface HostedStation extends StationApi {
  readonly dataDir: string;
  readonly initialSupervisorPin: string | null;
  close(): Promise<void>;
}

export interface StationHostDeps {
  start(options: HostStartOptions, secrets: HostSecrets | undefined): Promise<HostedStation>;
  /** Ends the process (tests pass a recorder). */
  exit(code: number): void;
  /** Diagnostics; never given a secret. */
  log(line: string): void;
}

export type HostState = 'waiting-start' | 'starting' | 'running' | 'closing' | 'closed' | 'failed';

export interface StationHost {
  state(): HostState;
  /** Reports an unrecoverable error to the parent and exits with code 1 (uncaught exceptions). */
  fail(err: unknown): void;
  /** Closes the core and exits 0, as if the parent had sent `shutdown` (parent gone). */
  shutdown(): Promise<void>;
}

/** The station key handed over by the parent, held in memory only. */
export class HandedOverStationKey implements StationKeySource {
  private readonly key: Buffer;
  constructor(base64: string) {
    const key = Buffer.from(base64, 'base64');
    if (key.length !== STATION_KEY_BYTES) throw stationError('INTERNAL', 'The station key handed to the station core has the wrong length.');
    this.key = key;
  }
  loadKey(): Buffer {
    return Buffer.from(this.key);
  }
}

const NOT_RUNNING: Record<Exclude<HostState, 'running'>, StationErrorData> = {
  'waiting-start': { code: 'BUSY', message: 'The station core is still starting; try again in a moment.', operatorFault: false },
  starting: { code: 'BUSY', message: 'The station core is still starting; try again in a moment.', operatorFault: false },
  closing: { code: 'BUSY', message: 'The station core is shutting down.', operatorFault: false },
  closed: { code: 'BUSY', message: 'The station core is shutting down.', operatorFault: false },
  failed: { code: 'INTERNAL', message: 'The station core stopped after an error; restart Flashline.', operatorFault: false },
};

export function serveStationHost(endpoint: HostEndpoint, deps: StationHostDeps): StationHost {
  let state: HostState = 'waiting-start';
  // Read through a function: the state changes inside awaits, which TypeScript's narrowing cannot see.
  const isClosing = (): boolean => state === 'closing';
  let station: HostedStation | null = null;
  let unsubscribe: (() => void) | null = null;

  const send = (message: HostMessage): void => {
    try {
      endpoint.send(message);
    } catch (err) {
      // The parent is gone; the exit path (disconnect) takes over.
      deps.log(`station host: could not reach the parent (${err instanceof Error ? err.message : 'unknown error'})`);
    }
  };

  const fail = (err: unknown): void => {
    if (state === 'failed' || state === 'closed') return;
    state = 'failed';
    send({ type: 'fatal', error: toErrorData(err) });
    deps.exit(1);
  };

  const shutdown = async (): Promise<void> => {
    if (state === 'closing' || state === 'closed' || state === 'failed') return;
    const wasStarting = state === 'starting';
    state = 'closing';
    unsubscribe?.();
    try {
      // A shutdown during start closes the station as soon as it is up (see handleStart).
      if (station && !wasStarting) await station.close();
    } catch (err) {
      deps.log(`station host: close failed (${err instanceof Error ? err.message : 'unknown error'})`);
    }
    if (wasStarting) return;
    state = 'closed';
    send({ type: 'closed' });
    deps.exit(0);
  };

  const handleStart = async (message: Extract<ParentMessage, { type: 'start' }>): Promise<void> => {
    if (state !== 'waiting-start') {
      deps.log('station host: second start message ignored');
      return;
    }
    state = 'starting';
    let started: HostedStation;
    try {
      started = await deps.start(message.options, message.secrets);
    } catch (err) {
      if (isClosing()) {
        state = 'closed';
        send({ type: 'closed' });
        deps.exit(0);
        return;
      }
      fail(err);
      return;
    }
    station = started;
    if (isClosing()) {
      await started.close().catch(() => undefined);
      state = 'closed';
      send({ type: 'closed' });
      deps.exit(0);
      return;
    }
    unsubscribe = started.subscribe((event: StationEvent) => send({ type: 'event', event }));
    state = 'running';
    send({ type: 'ready', protocol: HOST_PROTOCOL_VERSION, dataDir: started.dataDir, initialSupervisorPin: started.initialSupervisorPin });
  };

  const handleCall = async (message: Extract<ParentMessage, { type: 'call' }>): Promise<void> => {
    const { id } = message;
    if (state !== 'running' || !station) {
      send({ type: 'result', id, ok: false, error: NOT_RUNNING[state === 'running' ? 'starting' : state] });
      return;
    }
    // The main process already checked sender and schema; the core checks again at its own edge.
    if (!isCommandName(message.name)) {
      send({ type: 'result', id, ok: false, error: { code: 'INVALID_INPUT', message: 'The station core has no such command.', operatorFault: false } });
      return;
    }
    const args = COMMAND_ARG_SCHEMAS[message.name].safeParse(message.args);
    if (!args.success) {
      send({
        type: 'result',
        id,
        ok: false,
        error: { code: 'INVALID_INPUT', message: `Malformed arguments for ${message.name}.`, operatorFault: false, details: { command: message.name } },
      });
      return;
    }
    try {
      const result: unknown = await station.call(message.name, args.data as never);
      send({ type: 'result', id, ok: true, result });
    } catch (err) {
      send({ type: 'result', id, ok: false, error: toErrorData(err) });
    }
  };

  endpoint.onMessage((raw) => {
    const parsed = parseParentMessage(raw);
    if (!parsed.ok) {
      deps.log(`station host: ${parsed.reason}`);
      return;
    }
    const message = parsed.message;
    switch (message.type) {
      case 'start':
        void handleStart(message);
        return;
      case 'call':
        void handleCall(message);
        return;
      case 'ping':
        // Answered in any state: the parent only needs to know the event loop turns.
        send({ type: 'pong', seq: message.seq });
        return;
      case 'shutdown':
        void shutdown();
        return;
    }
  });

  return { state: () => state, fail, shutdown };
}
