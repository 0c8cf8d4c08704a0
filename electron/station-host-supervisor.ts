import type { CommandArgs, CommandName, CommandResult, StationApi, StationEvent } from '../common/api.js';
import { StationError, stationError, type StationErrorData } from '../common/errors.js';
import { StationHostClient, type HostChannel, type HostExit, type HostReady } from '../app/station-host-client.js';
import type { HostSecrets, HostStartOptions } from '../app/station-host-protocol.js';

/** Wait this long (ms) before starting a crashed station core again (a crash loop stays slow). */
export const HOST_RESTART_DELAY_MS = 1_000;
/** At most this many restarts within HOST_RESTART_WINDOW_MS; one more crash and the app gives up. */
export const HOST_MAX_RESTARTS = 3;
/** The window (ms) the restart budget is counted over. */
export const HOST_RESTART_WINDOW_MS = 10 * 60_000;

export interface StationHostSupervisorOptions {
  /** Starts a new host process (Electron: a utility process) and returns its channel. */
  fork(): HostChannel;
  startOptions: HostStartOptions;
  /** The secrets for the start message (Electron: decrypted with safeStorage). Never logged. */
  secrets(): Promise<HostSecrets | undefined>;
  /** The core is down for good (restart budget spent): the app shows `error.message` and quits. */
  onGiveUp(error: StationErrorData): void;
  log?: (line: string) => void;
  restartDelayMs?: number;
  maxRestarts?: number;
  restartWindowMs?: number;
  startTimeoutMs?: number;
  now?: () => number;
}

/**
 * Supervision: `idle → starting → running ⇄ restarting → closing → closed`, or `gave-up`.
 * The main process relays the renderer's calls here; this keeps one station core alive behind
 * them. A renderer reload or crash never reaches this object (the window only re-subscribes), so a
 * slot that is flashing is never interrupted by a window problem. A core that crashes is started
 * again after HOST_RESTART_DELAY_MS (its pending calls have already been rejected by the client),
 * and the windows get a fresh snapshot event once it is back; calls meanwhile get BUSY.
 */
export type SupervisorState = 'idle' | 'starting' | 'running' | 'restarting' | 'closing' | 'closed' | 'gave-up';

export class StationHostSupervisor implements StationApi {
  private stateValue: SupervisorState = 'idle';
  private client: StationHostClient | null = null;
  private readonly listeners = new Set<(event: StationEvent) => void>();
  private readonly restarts: number[] = [];
  private restartTimer: ReturnType<typeof setTimeout> | null = null;
  private gaveUpWith: StationErrorData | null = null;
  private readonly log: (line: string) => void;
  /** The supervisor PIN made at the first start of this data folder (to be shown once), else null. */
  initialSupervisorPin: string | null = null;

  constructor(private readonly options: StationHostSupervisorOptions) {
    this.log = options.log ?? (() => undefined);
  }

  state(): SupervisorState {
    return this.stateValue;
  }

  /** First start: resolves when the core is ready; rejects (no restart) when it cannot start. */
  async start(): Promise<HostReady> {
    if (this.stateValue !== 'idle') throw stationError('INTERNAL', 'The station core was already started.');
    this.stateValue = 'starting';
    try {
      const ready = await this.launch();
      this.initialSupervisorPin = ready.initialSupervisorPin;
      if (this.stateValue === 'starting') this.stateValue = 'running';
      return ready;
    } catch (err) {
      if (this.stateValue === 'starting') this.stateValue = 'closed';
      throw err;
    }
  }

  call<N extends CommandName>(name: N, args: CommandArgs<N>): Promise<CommandResult<N>> {
    if (this.stateValue === 'running' && this.client) return this.client.call(name, args);
    if (this.stateValue === 'gave-up' && this.gaveUpWith) return Promise.reject(StationError.fromJSON(this.gaveUpWith));
    if (this.stateValue === 'restarting') {
      return Promise.reject(stationError('BUSY', 'The station core is restarting after an error; try again in a few seconds.'));
    }
    return Promise.reject(stationError('BUSY', 'The station core is not running.'));
  }

  subscribe(listener: (event: StationEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Closes the core (database, ports) and waits for its process to end. */
  async close(): Promise<void> {
    if (this.stateValue === 'closed' || this.stateValue === 'closing') return;
    this.stateValue = 'closing';
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const client = this.client;
    this.client = null;
    if (client) await client.close();
    this.stateValue = 'closed';
  }

  private async launch(): Promise<HostReady> {
    const client = new StationHostClient(this.options.fork(), {
      log: this.log,
      ...(this.options.startTimeoutMs ? { startTimeoutMs: this.options.startTimeoutMs } : {}),
    });
    this.client = client;
    client.subscribe((event) => this.emit(event));
    client.onExit((exit) => this.onHostExit(client, exit));
    return client.start(this.options.startOptions, await this.options.secrets());
  }

  private emit(event: StationEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.log(`station event relay failed: ${err instanceof Error ? err.message : 'unknown error'}`);
      }
    }
  }

  private onHostExit(client: StationHostClient, exit: HostExit): void {
    if (client !== this.client || exit.expected) return;
    // The first start reports its own failure to the caller of start().
    if (this.stateValue !== 'running' && this.stateValue !== 'restarting') return;
    this.log(`station core exited: ${exit.error.message}`);
    const now = (this.options.now ?? Date.now)();
    const windowMs = this.options.restartWindowMs ?? HOST_RESTART_WINDOW_MS;
    while (this.restarts.length > 0 && now - this.restarts[0]! > windowMs) this.restarts.shift();
    if (this.restarts.length >= (this.options.maxRestarts ?? HOST_MAX_RESTARTS)) {
      this.giveUp(exit.error, windowMs);
      return;
    }
    this.restarts.push(now);
    this.stateValue = 'restarting';
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      void this.relaunch();
    }, this.options.restartDelayMs ?? HOST_RESTART_DELAY_MS);
  }

  private async relaunch(): Promise<void> {
    if (this.stateValue !== 'restarting') return;
    try {
      await this.launch();
      if (this.stateValue !== 'restarting') return;
      this.stateValue = 'running';
      this.log('station core restarted');
      // Windows rebuild their view from a fresh snapshot (slots were reset by the restart).
      const snapshot = await this.client!.call('getSnapshot', {});
      this.emit({ type: 'snapshot', snapshot });
    } catch (err) {
      // A start that fails ends the host too; its exit comes through onHostExit and counts against
      // the restart budget.
      this.log(`station core restart failed: ${err instanceof Error ? err.message : 'unknown error'}`);
    }
  }

  private giveUp(last: StationErrorData, windowMs: number): void {
    this.stateValue = 'gave-up';
    this.client = null;
    const error: StationErrorData = {
      code: 'INTERNAL',
      message: `The station core stopped ${this.restarts.length + 1} times within ${Math.round(windowMs / 60_000)} minutes (last: ${last.message}). Restart Flashline; if it happens again, send the log to support.`,
      operatorFault: false,
    };
    this.gaveUpWith = error;
    this.options.onGiveUp(error);
  }
}
