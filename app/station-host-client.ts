import type { CommandArgs, CommandName, CommandResult, StationApi, StationEvent } from '../common/api.js';
import { StationError, stationError, type StationErrorData } from '../common/errors.js';
import {
  HOST_HEARTBEAT_INTERVAL_MS,
  HOST_HEARTBEAT_TIMEOUT_MS,
  HOST_PROTOCOL_VERSION,
  HOST_SHUTDOWN_TIMEOUT_MS,
  HOST_START_TIMEOUT_MS,
  parseHostMessage,
  type HostMessage,
  type HostSecrets,
  type HostStartOptions,
  type ParentMessage,
} from './station-host-protocol.js';

/**
 * The parent side of the station host protocol, over any channel to one host process: the
 * Electron main process gives it a utility process (electron/utility-host-channel.ts), plain Node a
 * `child_process.fork` child (app/station-host-node.ts). One client per host process; restarting
 * is the caller's job (electron/station-host-supervisor.ts).
 *
 * A host that dies never leaves a caller hanging: every pending call and a pending start reject
 * with a StationError the moment the channel reports the exit.
 */
export interface HostChannel {
  send(message: ParentMessage): void;
  onMessage(listener: (raw: unknown) => void): void;
  /** Called once when the process has ended (code null when killed by a signal). */
  onExit(listener: (code: number | null) => void): void;
  /** Ends the process at once. */
  kill(): void;
}

export interface HostReady {
  dataDir: string;
  initialSupervisorPin: string | null;
}

/** How a host ended: `expected` after our own shutdown; otherwise a crash (with the host's own report when it sent one). */
export interface HostExit {
  expected: boolean;
  code: number | null;
  error: StationErrorData;
}

export interface StationHostClientOptions {
  startTimeoutMs?: number;
  shutdownTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  heartbeatTimeoutMs?: number;
  log?: (line: string) => void;
}

type ClientState = 'new' | 'starting' | 'running' | 'closing' | 'exited';

interface Pending {
  resolve(value: unknown): void;
  reject(err: StationError): void;
}

export class StationHostClient implements StationApi {
  private state: ClientState = 'new';
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(event: StationEvent) => void>();
  private readonly exitListeners = new Set<(exit: HostExit) => void>();
  private startWaiter: { resolve(ready: HostReady): void; reject(err: StationError): void } | null = null;
  private fatal: StationErrorData | null = null;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private pingSeq = 0;
  private lastPongAt = 0;
  private exitInfo: HostExit | null = null;
  private readonly exited: Promise<HostExit>;
  private readonly log: (line: string) => void;

  constructor(
    private readonly channel: HostChannel,
    private readonly options: StationHostClientOptions = {},
  ) {
    this.log = options.log ?? (() => undefined);
    let markExited!: (exit: HostExit) => void;
    this.exited = new Promise((resolve) => (markExited = resolve));
    channel.onMessage((raw) => this.receive(raw));
    channel.onExit((code) => markExited(this.handleExit(code)));
  }

  /** Sends `start` and resolves on `ready`; rejects on `fatal`, on exit, or after the start timeout. */
  start(options: HostStartOptions, secrets?: HostSecrets): Promise<HostReady> {
    if (this.state !== 'new') return Promise.reject(stationError('INTERNAL', 'The station core was already started.'));
    this.state = 'starting';
    const timeoutMs = this.options.startTimeoutMs ?? HOST_START_TIMEOUT_MS;
    return new Promise<HostReady>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.startWaiter = null;
        reject(stationError('INTERNAL', `The station core did not start within ${Math.round(timeoutMs / 1000)} s; restart Flashline.`));
        this.channel.kill();
      }, timeoutMs);
      this.startWaiter = {
        resolve: (ready) => {
          clearTimeout(timer);
          resolve(ready);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.post({ type: 'start', protocol: HOST_PROTOCOL_VERSION, options, ...(secrets ? { secrets } : {}) });
    });
  }

  call<N extends CommandName>(name: N, args: CommandArgs<N>): Promise<CommandResult<N>> {
    if (this.state !== 'running') {
      return Promise.reject(
        this.state === 'exited' ? this.goneError() : stationError('BUSY', 'The station core is not ready; try again in a moment.'),
      );
    }
    const id = this.nextId++;
    return new Promise<CommandResult<N>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.post({ type: 'call', id, name, args });
    });
  }

  subscribe(listener: (event: StationEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Called once when the host process ends, expected or not. */
  onExit(listener: (exit: HostExit) => void): () => void {
    if (this.exitInfo) {
      const info = this.exitInfo;
      queueMicrotask(() => listener(info));
    } else {
      this.exitListeners.add(listener);
    }
    return () => {
      this.exitListeners.delete(listener);
    };
  }

  isRunning(): boolean {
    return this.state === 'running';
  }

  /** Asks the host to close the core, waits for its exit, and kills it after the shutdown timeout. */
  async close(): Promise<HostExit> {
    if (this.state === 'exited') return this.exited;
    if (this.state !== 'closing') {
      this.state = 'closing';
      this.post({ type: 'shutdown' });
    }
    const timeoutMs = this.options.shutdownTimeoutMs ?? HOST_SHUTDOWN_TIMEOUT_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const outcome = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.log(`station host did not exit within ${timeoutMs} ms of shutdown; killing it`);
      this.channel.kill();
      return this.exited;
    }
    return outcome;
  }

  private post(message: ParentMessage): void {
    try {
      this.channel.send(message);
    } catch {
      // The exit report follows; it rejects whatever waits.
      this.log('station host channel refused a message (the host is exiting)');
    }
  }

  private receive(raw: unknown): void {
    const parsed = parseHostMessage(raw);
    if (!parsed.ok) {
      this.log(`station host: ${parsed.reason}`);
      return;
    }
    const message: HostMessage = parsed.message;
    switch (message.type) {
      case 'ready':
        if (this.state === 'starting') {
          this.state = 'running';
          this.startHeartbeat();
        }
        this.startWaiter?.resolve({ dataDir: message.dataDir, initialSupervisorPin: message.initialSupervisorPin });
        this.startWaiter = null;
        return;
      case 'result': {
        const waiter = this.pending.get(message.id);
        if (!waiter) return;
        this.pending.delete(message.id);
        if (message.ok) waiter.resolve(message.result);
        else waiter.reject(StationError.fromJSON(message.error));
        return;
      }
      case 'event':
        for (const listener of this.listeners) {
          try {
            listener(message.event);
          } catch (err) {
            this.log(`station event listener failed: ${err instanceof Error ? err.message : 'unknown error'}`);
          }
        }
        return;
      case 'fatal':
        // The exit follows; remember the host's own words for it.
        this.fatal = message.error;
        this.startWaiter?.reject(StationError.fromJSON(message.error));
        this.startWaiter = null;
        return;
      case 'pong':
        // Any pong proves the event loop turns, even one answering an older ping.
        if (message.seq <= this.pingSeq) this.lastPongAt = Date.now();
        return;
      case 'closed':
        return;
    }
  }

  /** Pings while running; a host that stops answering is killed, and its exit reported as a crash. */
  private startHeartbeat(): void {
    const intervalMs = this.options.heartbeatIntervalMs ?? HOST_HEARTBEAT_INTERVAL_MS;
    const timeoutMs = this.options.heartbeatTimeoutMs ?? HOST_HEARTBEAT_TIMEOUT_MS;
    this.lastPongAt = Date.now();
    this.heartbeat = setInterval(() => {
      if (this.state !== 'running') return;
      if (Date.now() - this.lastPongAt > timeoutMs) {
        this.stopHeartbeat();
        this.fatal = {
          code: 'INTERNAL',
          message: `The station core stopped answering for ${Math.round(timeoutMs / 1000)} s and was stopped.`,
          operatorFault: false,
        };
        this.log(this.fatal.message);
        this.channel.kill();
        return;
      }
      this.post({ type: 'ping', seq: ++this.pingSeq });
    }, intervalMs);
    // The heartbeat alone never keeps a Node parent alive.
    this.heartbeat.unref?.();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  private goneError(): StationError {
    return new StationError({
      code: 'INTERNAL',
      message: 'The station core stopped unexpectedly; try again in a moment.',
      operatorFault: false,
      ...(this.exitInfo ? { details: { hostExitCode: this.exitInfo.code } } : {}),
    });
  }

  private handleExit(code: number | null): HostExit {
    this.stopHeartbeat();
    const expected = this.state === 'closing' && this.fatal === null;
    this.state = 'exited';
    const error: StationErrorData =
      this.fatal ??
      (expected
        ? { code: 'INTERNAL', message: 'The station core has shut down.', operatorFault: false }
        : {
            code: 'INTERNAL',
            message: `The station core stopped unexpectedly (${code === null ? 'killed' : `exit code ${code}`}).`,
            operatorFault: false,
            details: { hostExitCode: code },
          });
    const info: HostExit = { expected, code, error };
    this.exitInfo = info;
    const gone = expected ? stationError('BUSY', 'The station core is shutting down.') : this.goneError();
    for (const waiter of this.pending.values()) waiter.reject(gone);
    this.pending.clear();
    this.startWaiter?.reject(StationError.fromJSON(error));
    this.startWaiter = null;
    for (const listener of this.exitListeners) listener(info);
    this.exitListeners.clear();
    return info;
  }
}
